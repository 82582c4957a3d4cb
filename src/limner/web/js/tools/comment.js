// Comment: click a point, or drag a box, to pin a comment there; the comments panel asks for the
// text and posts it (editor.services.comment). Pins of open comments are drawn by the panel.

import { toScreen } from "../render/geometry.js";

export const tool = {
  name: "comment",
  key: "c",
  title: "Comment: click a point or drag a box to pin a comment there",
  icon: "✎",
  kinds: [],
  cursor: "crosshair",
  create(editor) {
    let press = null;
    return {
      down(ev) {
        if (ev.button !== 0) return false;
        press = { x: ev.x, y: ev.y, sx: ev.sx, sy: ev.sy, to: null };
        return true;
      },
      move(ev) {
        if (!press) return false;
        if (Math.hypot(ev.sx - press.sx, ev.sy - press.sy) > 4) press.to = [ev.x, ev.y];
        editor.invalidate();
        return true;
      },
      up(ev) {
        if (!press) return false;
        const p = press;
        press = null;
        const r = (v) => Math.round(v * 100) / 100;
        const region = p.to
          ? { kind: "box", geometry: { x: r(Math.min(p.x, ev.x)), y: r(Math.min(p.y, ev.y)), w: r(Math.abs(ev.x - p.x)), h: r(Math.abs(ev.y - p.y)) } }
          : { kind: "points", geometry: { points: [[r(p.x), r(p.y)]] } };
        editor.invalidate();
        editor.services.comment?.(region);
        return true;
      },
      key() {
        return false;
      },
      cancel() {
        if (!press) return false;
        press = null;
        editor.invalidate();
        return true;
      },
      overlay(ctx, view) {
        if (!press || !press.to) return;
        const [ax, ay] = toScreen(view, press.x, press.y);
        const [bx, by] = toScreen(view, press.to[0], press.to[1]);
        ctx.strokeStyle = "#ffb020";
        ctx.setLineDash([5, 3]);
        ctx.lineWidth = 2;
        ctx.strokeRect(Math.min(ax, bx), Math.min(ay, by), Math.abs(bx - ax), Math.abs(by - ay));
      },
    };
  },
};
