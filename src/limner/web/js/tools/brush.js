// Brush and eraser for masks. The brush paints a disc along the drag into the selected mask when
// it has the active label, otherwise into a new mask of the active label; the eraser clears
// pixels of the selected mask. `[` and `]` change the size (a diameter in image pixels, shared by
// both), shown as a ring around the pointer. A stroke is painted into a bitmap of the pixels it
// covers and merged into the mask's runs once, at the release (only the columns the stroke spans
// are decoded and encoded again): one stroke, one undo step.

import { addShapes, removeShapes, setGeometries } from "../commands.js";
import { paintRle } from "../mask.js";
import { nextBrushSize, paintStroke } from "../render/mask-edit.js";
import { toScreen } from "../render/geometry.js";
import { rleBounds } from "../render/rle.js";

export const DEFAULT_BRUSH = 20;

function brushTool(editor, erase) {
  const { doc } = editor;
  let stroke = null; // {points, target uid | null}
  let at = null; // the pointer, for the size ring

  const size = () => editor.settings.brush || DEFAULT_BRUSH;

  function selectedMask() {
    const sel = doc.selected();
    if (sel.length !== 1) return null;
    const s = sel[0];
    return s.kind === "mask" && !s.locked && !s.hidden ? s : null;
  }

  function begin(ev) {
    const m = selectedMask();
    if (erase) {
      if (!m) {
        editor.status("Select a mask to erase from (select tool, V)");
        return null;
      }
      return { points: [[ev.x, ev.y]], target: m.uid };
    }
    if (m && m.label === editor.activeLabel) return { points: [[ev.x, ev.y]], target: m.uid };
    if (!editor.newShape("mask", null)) return null; // the label does not allow masks: it says why
    return { points: [[ev.x, ev.y]], target: null };
  }

  function commit(s) {
    const { imageHeight: h, imageWidth: w } = editor.scene.size;
    const region = paintStroke(s.points, size() / 2, h, w);
    if (!region) return;
    if (s.target === null) {
      const { rle, changed } = paintRle({ size: [h, w], counts: [h * w] }, region, "add");
      if (!changed) return;
      const shape = editor.newShape("mask", { rle });
      if (shape) editor.run(addShapes([shape], { name: "paint mask" }));
      return;
    }
    const cur = doc.byUid(s.target);
    if (!cur) return;
    const { rle, changed } = paintRle(cur.geometry.rle, region, erase ? "erase" : "add");
    if (!changed) return;
    if (erase && !rleBounds(rle)) {
      editor.run(removeShapes([s.target], { name: "erase mask" }));
      editor.status("The mask was erased completely and removed");
      return;
    }
    editor.run(setGeometries(doc, { [s.target]: { rle } }, { name: erase ? "erase" : "paint" }));
  }

  return {
    down(ev) {
      if (ev.button !== 0) return false;
      stroke = begin(ev);
      at = [ev.x, ev.y];
      editor.invalidate();
      return true;
    },
    move(ev) {
      at = [ev.x, ev.y];
      if (stroke) {
        const last = stroke.points[stroke.points.length - 1];
        if (Math.hypot(ev.x - last[0], ev.y - last[1]) >= Math.min(0.5, size() / 4)) stroke.points.push([ev.x, ev.y]);
      }
      editor.invalidate();
      return true;
    },
    up(ev) {
      if (!stroke) return false;
      const s = stroke;
      stroke = null;
      s.points.push([ev.x, ev.y]);
      commit(s);
      editor.invalidate();
      return true;
    },
    key(e) {
      if ((e.key === "[" || e.key === "]") && !e.ctrlKey && !e.metaKey && !e.altKey) {
        const next = nextBrushSize(size(), e.key === "]");
        editor.setSetting("brush", next);
        editor.status(`Brush ${next} px`);
        editor.invalidate();
        return true;
      }
      return false;
    },
    cancel() {
      if (!stroke) return false;
      stroke = null;
      editor.invalidate();
      return true;
    },
    deactivate() {
      at = null;
    },
    overlay(ctx, view) {
      const d = size() * view.scale;
      if (stroke) {
        const l = editor.label(erase ? doc.byUid(stroke.target)?.label : editor.activeLabel);
        ctx.save();
        ctx.globalAlpha = 0.5;
        ctx.strokeStyle = erase ? "#ffffff" : (l && l.color) || "#ffffff";
        ctx.fillStyle = ctx.strokeStyle;
        ctx.lineCap = "round";
        ctx.lineJoin = "round";
        ctx.lineWidth = d;
        ctx.beginPath();
        const pts = stroke.points.map(([x, y]) => toScreen(view, x, y));
        ctx.moveTo(pts[0][0], pts[0][1]);
        for (const p of pts.slice(1)) ctx.lineTo(p[0], p[1]);
        if (pts.length === 1) ctx.lineTo(pts[0][0] + 0.01, pts[0][1]);
        ctx.stroke();
        ctx.restore();
      }
      if (at) {
        const [sx, sy] = toScreen(view, at[0], at[1]);
        ctx.lineWidth = 1;
        ctx.setLineDash([]);
        ctx.beginPath();
        ctx.arc(sx, sy, Math.max(d / 2, 1.5), 0, 2 * Math.PI);
        ctx.strokeStyle = "rgba(0,0,0,0.8)";
        ctx.stroke();
        ctx.beginPath();
        ctx.arc(sx, sy, Math.max(d / 2 - 1, 0.5), 0, 2 * Math.PI);
        ctx.strokeStyle = erase ? "rgba(255,120,120,0.95)" : "rgba(255,255,255,0.95)";
        ctx.stroke();
      }
    },
  };
}

export const tool = {
  name: "brush",
  key: "m",
  title: "Brush: paint a mask of the active label ([ and ] change the size)",
  icon: "✎",
  kinds: ["mask"],
  cursor: "crosshair",
  create: (editor) => brushTool(editor, false),
};

export const eraser = {
  name: "eraser",
  key: "x",
  title: "Eraser: clear pixels of the selected mask ([ and ] change the size)",
  icon: "⌫",
  kinds: ["mask"],
  cursor: "crosshair",
  create: (editor) => brushTool(editor, true),
};
