// The common state machine of the tools that draw a shape by dragging a box (rotated box,
// ellipse, skeleton): press, drag to the opposite corner, release. While a shape of the tool's
// kind is selected, its resize and turning handles (edit/transform.js) work from the tool too,
// so a shape just drawn can be turned without changing tools.

import { addShapes } from "../commands.js";
import { toScreen } from "../render/geometry.js";
import { boxFrom } from "./box.js";
import { plugin as transform } from "./edit/transform.js";

const MIN_SIZE = 1; // image pixels

// A box from a to b; with `square`, the largest square from a towards b.
export function dragBox(a, b, square, width, height) {
  let end = b;
  if (square) {
    const s = Math.max(Math.abs(b[0] - a[0]), Math.abs(b[1] - a[1]));
    end = [a[0] + Math.sign(b[0] - a[0] || 1) * s, a[1] + Math.sign(b[1] - a[1] || 1) * s];
  }
  return boxFrom(a, end, width, height);
}

// spec: {kind, square?: bool (Shift makes squares), make(box, editor) → geometry | null,
//        click?(x, y, editor) → box | null (a press without a drag), outline(ctx, view, box, editor)}
export function createDragTool(editor, spec) {
  let start = null, end = null, shift = false, drag = null;
  const size = () => editor.scene.size;
  const box = () => dragBox(start, end, spec.square && shift, size().imageWidth, size().imageHeight);

  function selectedOfKind() {
    const sel = editor.doc.selection;
    if (sel.length !== 1) return null;
    const s = editor.doc.byUid(sel[0]);
    return s && s.kind === spec.kind && !s.locked && !s.hidden ? s : null;
  }

  function commit(b) {
    if (!b || b.w < MIN_SIZE || b.h < MIN_SIZE) return;
    const shape = editor.newShape(spec.kind, null); // null when the active label does not allow the kind (it says why)
    if (!shape) return;
    shape.geometry = spec.make(b, editor);
    if (shape.geometry) editor.run(addShapes([shape], { name: `draw ${spec.kind.replace(/_/g, " ")}` }));
  }

  return {
    down(ev) {
      if (ev.button !== 0) return false;
      const sel = selectedOfKind();
      drag = sel ? transform.grab(editor, sel, ev) : null;
      if (drag) return true;
      start = end = [ev.x, ev.y];
      shift = ev.shift;
      return true;
    },
    move(ev) {
      if (drag) {
        const cmd = drag.move(ev);
        if (cmd) editor.run(cmd);
        return true;
      }
      if (!start) {
        const sel = selectedOfKind();
        editor.cursor(sel ? transform.hover(editor, sel, ev) : null);
        return false;
      }
      end = [ev.x, ev.y];
      shift = ev.shift;
      editor.invalidate();
      return true;
    },
    up(ev) {
      if (drag) {
        const cmd = drag.up(ev);
        if (cmd) editor.run(cmd);
        drag = null;
        editor.doc.seal();
        return true;
      }
      if (!start) return false;
      end = [ev.x, ev.y];
      shift = ev.shift;
      const moved = Math.hypot((end[0] - start[0]) * editor.scene.view.scale, (end[1] - start[1]) * editor.scene.view.scale) >= 3;
      const b = moved ? box() : spec.click ? spec.click(start[0], start[1], editor) : null;
      start = end = null;
      editor.invalidate();
      commit(b);
      return true;
    },
    key() {
      return false;
    },
    cancel() {
      if (!start && !drag) return false;
      start = end = null;
      drag = null;
      editor.invalidate();
      return true;
    },
    overlay(ctx, view) {
      const sel = selectedOfKind();
      if (sel) transform.overlay(ctx, view, sel, editor);
      if (!start) return;
      const b = box();
      const l = editor.label(editor.activeLabel);
      ctx.strokeStyle = (l && l.color) || "#fff";
      ctx.fillStyle = (l && l.color) || "#fff";
      ctx.lineWidth = 2;
      ctx.setLineDash([6, 4]);
      spec.outline(ctx, view, b, editor);
      ctx.setLineDash([]);
      const [sx, sy] = toScreen(view, b.x, b.y + b.h);
      const text = `${Math.round(b.w)} × ${Math.round(b.h)}`;
      ctx.font = "12px system-ui, sans-serif";
      ctx.fillStyle = "rgba(0,0,0,0.6)";
      ctx.fillRect(sx, sy + 4, ctx.measureText(text).width + 8, 17);
      ctx.fillStyle = "#fff";
      ctx.textBaseline = "middle";
      ctx.fillText(text, sx + 4, sy + 12.5);
    },
  };
}
