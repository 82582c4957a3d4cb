// Skeleton: drag a box and the label's skeleton template is placed in it, scaled to fit (a click
// places it at a default size). Then drag keypoints with the select tool (V). Q over a keypoint,
// or Alt + click on a keypoint of the selected skeleton, steps its visibility: visible (2) →
// hidden (1) → not labelled (0) → visible.

import { updateShape } from "../commands.js";
import { toScreen } from "../render/geometry.js";
import { createDragTool } from "./drag-shape.js";
import { keypointAt, nextVisibility } from "./edit/transform.js";

const CLICK_PX = 120; // the template's size on a click without a drag (screen pixels)
const PICK_PX = 8; // Q acts on a keypoint this close (screen pixels)

// Where the template puts each point, in 0..1 of its box: the schema's positions, or a circle.
export function templatePositions(skeleton) {
  const n = (skeleton && skeleton.points && skeleton.points.length) || 0;
  const pos = skeleton && skeleton.positions;
  if (Array.isArray(pos) && pos.length === n) return pos.map((p) => [p[0], p[1]]);
  if (n === 1) return [[0.5, 0.5]];
  return Array.from({ length: n }, (_, i) => {
    const t = -Math.PI / 2 + (2 * Math.PI * i) / n;
    return [0.5 + 0.4 * Math.cos(t), 0.5 + 0.4 * Math.sin(t)];
  });
}

const round2 = (v) => Math.round(v * 100) / 100;

// The keypoints [[x, y, 2], ...] of the template scaled into box {x, y, w, h}.
export function placeSkeleton(skeleton, b) {
  return templatePositions(skeleton).map(([u, v]) => [round2(b.x + u * b.w), round2(b.y + v * b.h), 2]);
}

// The skeleton keypoint nearest (x, y) within tol: the selected skeleton's first, then the
// topmost unlocked visible one's. {uid, index} or null.
export function keypointUnder(editor, x, y, tol) {
  const { doc } = editor;
  const ok = (s) => s && s.kind === "skeleton" && !s.locked && !s.hidden;
  const sel = doc.selected().filter(ok);
  const rest = doc.shapes.filter((s) => ok(s) && !doc.selection.includes(s.uid)).reverse();
  for (const s of [...sel, ...rest]) {
    const pts = s.geometry.points || [];
    // keypoints not labelled are reachable on the selected skeleton only (nowhere else are they drawn)
    const shown = sel.includes(s) ? pts : pts.map((p) => (p[2] ? p : [Infinity, Infinity, 0]));
    const i = keypointAt(shown, x, y, tol);
    if (i >= 0) return { uid: s.uid, index: i };
  }
  return null;
}

export const tool = {
  name: "skeleton",
  key: "k",
  title: "Skeleton: drag a box to place the label's template; Q over a keypoint (or Alt+click) steps it visible → hidden → not labelled",
  icon: "⚇",
  kinds: ["skeleton"],
  cursor: "crosshair",
  create(editor) {
    let pointer = null;
    const base = createDragTool(editor, {
      kind: "skeleton",
      make(b) {
        const l = editor.labelFor("skeleton");
        if (!l) return null;
        if (!l.skeleton || !(l.skeleton.points || []).length) {
          editor.status(`The label “${l.name}” has no skeleton template: add one in the project's labels`);
          return null;
        }
        return { points: placeSkeleton(l.skeleton, b) };
      },
      click(x, y) {
        const { imageWidth: iw, imageHeight: ih } = editor.scene.size;
        const s = Math.min(editor.tol(CLICK_PX), iw, ih);
        const bx = Math.min(Math.max(x - s / 2, 0), iw - s), by = Math.min(Math.max(y - s / 2, 0), ih - s);
        return { x: bx, y: by, w: s, h: s };
      },
      outline(ctx, view, b) {
        ctx.strokeRect(b.x * view.scale + view.tx, b.y * view.scale + view.ty, b.w * view.scale, b.h * view.scale);
        const l = editor.labelFor("skeleton");
        if (!l || !l.skeleton) return;
        const pts = placeSkeleton(l.skeleton, b).map((p) => toScreen(view, p[0], p[1]));
        ctx.setLineDash([]);
        ctx.beginPath();
        for (const [a, c] of l.skeleton.edges || []) {
          if (!pts[a] || !pts[c]) continue;
          ctx.moveTo(...pts[a]);
          ctx.lineTo(...pts[c]);
        }
        ctx.stroke();
        for (const [px, py] of pts) {
          ctx.beginPath();
          ctx.arc(px, py, 4, 0, 2 * Math.PI);
          ctx.fill();
        }
      },
    });
    return {
      ...base,
      move(ev) {
        pointer = [ev.x, ev.y];
        return base.move(ev);
      },
      key(e) {
        if (e.key.toLowerCase() !== "q" || e.ctrlKey || e.metaKey || e.altKey || !pointer) return false;
        const hit = keypointUnder(editor, pointer[0], pointer[1], editor.tol(PICK_PX));
        if (!hit) {
          editor.status("Point at a keypoint and press Q to change its visibility");
          return true;
        }
        editor.run(updateShape(editor.doc, hit.uid, (s) => {
          const p = s.geometry.points[hit.index];
          p[2] = nextVisibility(p[2]);
        }, { name: "keypoint visibility" }));
        return true;
      },
      deactivate() {
        pointer = null;
        base.deactivate?.();
      },
    };
  },
};
