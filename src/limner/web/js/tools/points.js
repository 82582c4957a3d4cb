// Points: each click adds a point to the points shape being drawn; Enter finishes it (one shape
// of the active label), Backspace takes the last point back, Esc drops the unfinished shape.

import { addShapes } from "../commands.js";
import { toScreen } from "../render/geometry.js";

const round2 = (v) => Math.round(v * 100) / 100;

export const tool = {
  name: "points",
  key: "o",
  title: "Points: click to add points, Enter to finish, Backspace to take one back, Esc to drop them",
  icon: "⁘",
  kinds: ["points"],
  cursor: "crosshair",
  create(editor) {
    let pts = [];

    function clamp(x, y) {
      const { imageWidth: w, imageHeight: h } = editor.scene.size;
      return [round2(Math.min(Math.max(x, 0), w)), round2(Math.min(Math.max(y, 0), h))];
    }

    function hint() {
      editor.status(pts.length ? `${pts.length} point${pts.length > 1 ? "s" : ""}: Enter to finish, Esc to drop` : "");
    }

    return {
      down(ev) {
        if (ev.button !== 0) return false;
        if (!pts.length && !editor.newShape("points", null)) return true; // the label does not allow points: it says why
        pts.push(clamp(ev.x, ev.y));
        hint();
        editor.invalidate();
        return true;
      },
      move() {
        return false;
      },
      up() {
        return pts.length > 0;
      },
      key(e) {
        if (e.key === "Backspace" && pts.length && !e.ctrlKey && !e.metaKey) {
          pts.pop();
          hint();
          editor.invalidate();
          return true;
        }
        return false;
      },
      finish() {
        if (!pts.length) return false;
        const shape = editor.newShape("points", { points: pts });
        pts = [];
        editor.invalidate();
        if (!shape) return false;
        editor.run(addShapes([shape], { name: "draw points" }));
        editor.status("");
        return true;
      },
      cancel() {
        if (!pts.length) return false;
        pts = [];
        editor.status("");
        editor.invalidate();
        return true;
      },
      overlay(ctx, view) {
        if (!pts.length) return;
        const l = editor.label(editor.activeLabel);
        ctx.fillStyle = (l && l.color) || "#fff";
        ctx.strokeStyle = "#fff";
        ctx.lineWidth = 1.5;
        ctx.setLineDash([]);
        for (const [x, y] of pts) {
          const [sx, sy] = toScreen(view, x, y);
          ctx.beginPath();
          ctx.arc(sx, sy, 4.5, 0, 2 * Math.PI);
          ctx.fill();
          ctx.stroke();
        }
      },
    };
  },
};
