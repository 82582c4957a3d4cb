// Polygon (and, through pathTool, polyline): click to place vertices, or hold Shift and drag to
// draw freehand like a pen (the stroke is simplified with Douglas-Peucker at one screen pixel).
// A polygon closes on a click on its first vertex or with Enter (finish()), a polyline finishes
// with Enter or a double click. Backspace removes the last vertex, Esc cancels.
//
// With snapping on (editor.settings.snap, key S), a placed vertex snaps to the nearest vertex or
// edge of another shape; a vertex placed on a polygon's or polyline's edge is inserted into that
// edge as well, in the same undo step, so both shapes share the vertex exactly (snap.js).

import { addShapes, batch, setGeometries } from "../commands.js";
import { distToSegment, toScreen } from "../render/geometry.js";
import { roundGeometry } from "../shapes.js";
import { snapPoint, weldPoints } from "../snap.js";
import { SNAP_PX, drawHandle, drawSnapTarget, snapIndexOf } from "./edit/vertices.js";

const CLOSE_PX = 8; // a click this close to the first vertex closes the polygon
const DOUBLE_MS = 400;
const round2 = (v) => Math.round(v * 100) / 100;

// Douglas-Peucker: the points of `pts` ([[x, y], ...]) that keep the line within `tol` of the
// original (distances to the segment, so a stroke that doubles back keeps its turn). The first
// and last points always stay.
export function simplifyPath(pts, tol) {
  const n = pts.length;
  if (n < 3) return pts.slice();
  const keep = new Uint8Array(n);
  keep[0] = keep[n - 1] = 1;
  const stack = [[0, n - 1]];
  while (stack.length) {
    const [i0, i1] = stack.pop();
    const [ax, ay] = pts[i0], [bx, by] = pts[i1];
    let far = -1, dmax = tol;
    for (let i = i0 + 1; i < i1; i++) {
      const d = distToSegment(pts[i][0], pts[i][1], ax, ay, bx, by);
      if (d > dmax) {
        dmax = d;
        far = i;
      }
    }
    if (far >= 0) {
      keep[far] = 1;
      stack.push([i0, far], [far, i1]);
    }
  }
  return pts.filter((_, i) => keep[i]);
}

// Drop consecutive repeats (and, for a closed ring, a last point equal to the first).
export function dedupe(pts, closed) {
  const out = [];
  for (const p of pts) {
    const q = out[out.length - 1];
    if (!q || q[0] !== p[0] || q[1] !== p[1]) out.push(p);
  }
  if (closed && out.length > 1 && out[0][0] === out[out.length - 1][0] && out[0][1] === out[out.length - 1][1]) out.pop();
  return out;
}

// A click-or-pen drawing tool for a kind of vertex chain.
export function pathTool({ name, key, title, icon, kind, closed, min }) {
  return {
    name, key, title, icon, kinds: [kind], cursor: "crosshair",
    create(editor) {
      const { doc } = editor;
      let pts = []; // placed vertices: {x, y, snap}
      let pen = null; // the freehand stroke under way: [{x, y, snap}]
      let hover = null; // where the next vertex would go: {x, y, snap}
      let lastDown = null; // {t, sx, sy}, to tell a double click

      // The image point for the pointer at (x, y): inside the image, snapped when snapping is on.
      function place(x, y, snapping = editor.settings.snap) {
        const { imageWidth: w, imageHeight: h } = editor.scene.size;
        if (w > 0 && h > 0) {
          x = Math.min(Math.max(x, 0), w);
          y = Math.min(Math.max(y, 0), h);
        }
        const snap = snapping ? snapPoint(snapIndexOf(editor), x, y, editor.tol(SNAP_PX)) : null;
        return snap ? { x: snap.x, y: snap.y, snap } : { x: round2(x), y: round2(y), snap: null };
      }

      const screenDist = (a, b) => Math.hypot(a.x - b.x, a.y - b.y) * editor.scene.view.scale;
      const nearFirst = (ev) => closed && pts.length >= min && screenDist(pts[0], ev) <= CLOSE_PX;

      function reset() {
        pts = [];
        pen = null;
        lastDown = null;
        editor.invalidate();
      }

      function commit() {
        const points = dedupe(pts.map((p) => [p.x, p.y]), closed);
        if (points.length < min) {
          editor.status(`A ${kind} needs at least ${min} distinct vertices`);
          return false;
        }
        const shape = editor.newShape(kind, roundGeometry(kind, closed ? { points, holes: [] } : { points }));
        if (!shape) return false; // the label does not allow the kind: the editor said so; keep drawing
        const onEdges = pts.filter((p) => p.snap && p.snap.type === "edge").map((p) => [p.x, p.y]);
        const welds = onEdges.length
          ? weldPoints(snapIndexOf(editor), onEdges, { current: (u) => doc.byUid(u), accept: (s) => !s.locked })
          : {};
        const add = addShapes([shape], { name: `draw ${kind}` });
        editor.run(Object.keys(welds).length
          ? batch([add, setGeometries(doc, welds, { name: "weld" })], { name: `draw ${kind}` })
          : add);
        reset();
        return true;
      }

      function endStroke(ev) {
        const stroke = [...pen, place(ev.x, ev.y)];
        pen = null;
        const line = simplifyPath(stroke.map((p) => [p.x, p.y]), editor.tol(1));
        const travel = stroke.reduce((s, p, i) => (i ? s + screenDist(stroke[i - 1], p) : 0), 0);
        if (line.length < 2 || travel < CLOSE_PX / 2) {
          add(stroke[0]); // a Shift-click: one vertex
          return;
        }
        const first = stroke[0], last = stroke[stroke.length - 1];
        for (let i = 0; i < line.length; i++) {
          add(i === 0 ? first : i === line.length - 1 ? last : { x: round2(line[i][0]), y: round2(line[i][1]), snap: null });
        }
        // a stroke ending on the first vertex closes the polygon
        if (closed && pts.length > min && screenDist(pts[pts.length - 1], pts[0]) <= CLOSE_PX) {
          pts.pop();
          commit();
        }
      }

      function add(p) {
        const q = pts[pts.length - 1];
        if (q && q.x === p.x && q.y === p.y) return;
        pts.push(p);
      }

      return {
        down(ev) {
          if (ev.button !== 0) return false;
          const t = ev.e && ev.e.timeStamp !== undefined ? ev.e.timeStamp : performance.now();
          const double = lastDown && t - lastDown.t < DOUBLE_MS && Math.hypot(ev.sx - lastDown.sx, ev.sy - lastDown.sy) < 5;
          lastDown = { t, sx: ev.sx, sy: ev.sy };
          if (double && !closed && pts.length) {
            commit();
            return true;
          }
          if (nearFirst(ev) && !ev.shift) {
            commit();
            return true;
          }
          const p = place(ev.x, ev.y);
          if (ev.shift) {
            pen = [p];
          } else {
            add(p);
            hover = p;
          }
          editor.invalidate();
          return true;
        },
        move(ev) {
          if (pen) {
            const q = pen[pen.length - 1];
            const p = place(ev.x, ev.y, false);
            if (screenDist(q, p) >= 1) pen.push(p);
            editor.invalidate();
            return true;
          }
          const before = hover;
          hover = place(ev.x, ev.y);
          if (pts.length || hover.snap || (before && before.snap)) editor.invalidate();
          return pts.length > 0;
        },
        up(ev) {
          if (pen) {
            endStroke(ev);
            editor.invalidate();
            return true;
          }
          return pts.length > 0;
        },
        key(e) {
          if (e.key === "Backspace" && !e.ctrlKey && !e.metaKey && !e.altKey && (pts.length || pen)) {
            if (!pen) pts.pop();
            editor.invalidate();
            return true;
          }
          return false;
        },
        finish() {
          if (pen || !pts.length) return false;
          return commit();
        },
        cancel() {
          if (!pts.length && !pen) return false;
          reset();
          return true;
        },
        deactivate() {
          hover = null;
          reset();
        },
        overlay(ctx, view) {
          const chain = [...pts, ...(pen || [])];
          if (chain.length) {
            const l = editor.label(editor.activeLabel);
            const color = (l && l.color) || "#ffffff";
            const s = chain.map((p) => toScreen(view, p.x, p.y));
            ctx.lineJoin = "round";
            ctx.lineCap = "round";
            ctx.beginPath();
            s.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
            ctx.strokeStyle = "rgba(0,0,0,0.5)";
            ctx.lineWidth = 4;
            ctx.stroke();
            ctx.strokeStyle = color;
            ctx.lineWidth = 2;
            ctx.stroke();
            if (!pen && hover) {
              // the rubber band to the pointer, and the closing side of a polygon
              const [hx, hy] = toScreen(view, hover.x, hover.y);
              const [lx, ly] = s[s.length - 1];
              ctx.setLineDash([6, 4]);
              ctx.lineWidth = 1.5;
              ctx.beginPath();
              ctx.moveTo(lx, ly);
              ctx.lineTo(hx, hy);
              if (closed && pts.length >= 2) ctx.lineTo(s[0][0], s[0][1]);
              ctx.stroke();
              ctx.setLineDash([]);
            }
            pts.forEach((p, i) => {
              const [x, y] = s[i];
              drawHandle(ctx, x, y, !!p.snap);
            });
            if (closed && hover && pts.length >= min && screenDist(pts[0], hover) <= CLOSE_PX) {
              ctx.strokeStyle = "#ffffff";
              ctx.lineWidth = 2;
              ctx.beginPath();
              ctx.arc(s[0][0], s[0][1], 8, 0, 2 * Math.PI);
              ctx.stroke();
            }
          }
          if (!pen && hover && hover.snap) drawSnapTarget(ctx, view, hover.snap);
        },
      };
    },
  };
}

export const tool = pathTool({
  name: "polygon",
  key: "p",
  title: "Polygon: click vertices, or hold Shift and drag to draw freehand; click the first vertex or press Enter to close; Backspace removes the last vertex. With Select: drag a vertex (shared vertices move together; Alt+drag moves only this shape's), click an edge to add a vertex, Alt+click a vertex to delete it",
  icon: "⬠",
  kind: "polygon",
  closed: true,
  min: 3,
});
