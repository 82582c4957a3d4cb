// Box: press, drag to the opposite corner, release. A click without a drag makes nothing.

import { addShapes } from "../commands.js";
import { toScreen } from "../render/geometry.js";

const MIN_SIZE = 1; // image pixels

export function boxFrom(a, b, width, height) {
  const clamp = (v, hi) => Math.min(Math.max(v, 0), hi);
  const x0 = clamp(Math.min(a[0], b[0]), width), x1 = clamp(Math.max(a[0], b[0]), width);
  const y0 = clamp(Math.min(a[1], b[1]), height), y1 = clamp(Math.max(a[1], b[1]), height);
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

export const tool = {
  name: "box",
  key: "b",
  title: "Box",
  icon: "▭",
  kinds: ["box"],
  cursor: "crosshair",
  create(editor) {
    let start = null, end = null;
    const size = () => editor.scene.size;
    return {
      down(ev) {
        if (ev.button !== 0) return false;
        start = [ev.x, ev.y];
        end = start;
        return true;
      },
      move(ev) {
        if (!start) return false;
        end = [ev.x, ev.y];
        editor.invalidate();
        return true;
      },
      up(ev) {
        if (!start) return false;
        end = [ev.x, ev.y];
        const g = boxFrom(start, end, size().imageWidth, size().imageHeight);
        start = end = null;
        editor.invalidate();
        if (g.w < MIN_SIZE || g.h < MIN_SIZE) return true;
        const shape = editor.newShape("box", g);
        if (shape) editor.run(addShapes([shape], { name: "draw box" }));
        return true;
      },
      key(e) {
        return false;
      },
      cancel() {
        if (!start) return false;
        start = end = null;
        editor.invalidate();
        return true;
      },
      overlay(ctx, view) {
        if (!start) return;
        const g = boxFrom(start, end, size().imageWidth, size().imageHeight);
        const [sx, sy] = toScreen(view, g.x, g.y);
        const l = editor.label(editor.activeLabel);
        ctx.strokeStyle = (l && l.color) || "#fff";
        ctx.lineWidth = 2;
        ctx.setLineDash([6, 4]);
        ctx.strokeRect(sx, sy, g.w * view.scale, g.h * view.scale);
        ctx.setLineDash([]);
        ctx.fillStyle = "rgba(0,0,0,0.6)";
        ctx.font = "12px system-ui, sans-serif";
        const text = `${Math.round(g.w)} × ${Math.round(g.h)}`;
        ctx.fillRect(sx, sy + g.h * view.scale + 4, ctx.measureText(text).width + 8, 17);
        ctx.fillStyle = "#fff";
        ctx.textBaseline = "middle";
        ctx.fillText(text, sx + 4, sy + g.h * view.scale + 12.5);
      },
    };
  },
};
