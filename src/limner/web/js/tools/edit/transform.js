// Resizing, turning and moving for the select tool:
//   box                       8 handles (corners and edge middles); the opposite side stays put
//   rotated box, ellipse      the same 8 handles in the shape's own turned frame, and a round
//                             handle above the top edge that turns it about its centre (Shift:
//                             in steps of 15°)
//   mask                      drag the selected mask to move it (by whole pixels)
//   skeleton                  Alt + click a keypoint: visible → hidden → not labelled → visible
//                             (keypoints not labelled show as small crosses while the skeleton is
//                             selected, so they can be brought back)
// The frame math (frameOf, resizeFrame, rotateFrame, handlePoints) is pure and exported.

import { setGeometries, updateShape } from "../../commands.js";
import { rotate, toScreen } from "../../render/geometry.js";
import { rleBounds, decodeRle } from "../../render/rle.js";
import { translateRle } from "../../mask.js";

export const HANDLE_PX = 7; // grab a handle this close (screen pixels)
export const ROTATE_PX = 26; // the turning handle's distance above the top edge (screen pixels)
const MIN_SIZE = 1; // image pixels
const FRAME_KINDS = new Set(["box", "rotated_box", "ellipse"]);
const HANDLES = { nw: [-1, -1], n: [0, -1], ne: [1, -1], e: [1, 0], se: [1, 1], s: [0, 1], sw: [-1, 1], w: [-1, 0] };
const CURSORS = ["ns-resize", "nesw-resize", "ew-resize", "nwse-resize"]; // by direction, 45° steps

let serial = 0;
const preview = new WeakMap(); // editor → the mask being moved {uid, canvas, box, dx, dy}

// -- pure frame math ----------------------------------------------------------------------------

// A shape's frame {cx, cy, w, h, angle}: its centre, size and turn (boxes are never turned).
export function frameOf(kind, g) {
  if (kind === "box") return { cx: g.x + g.w / 2, cy: g.y + g.h / 2, w: g.w, h: g.h, angle: 0 };
  if (kind === "ellipse") return { cx: g.cx, cy: g.cy, w: 2 * g.rx, h: 2 * g.ry, angle: g.angle || 0 };
  return { cx: g.cx, cy: g.cy, w: g.w, h: g.h, angle: g.angle || 0 };
}

// The geometry of `kind` for a frame.
export function geometryOf(kind, f) {
  if (kind === "box") return { x: f.cx - f.w / 2, y: f.cy - f.h / 2, w: f.w, h: f.h };
  if (kind === "ellipse") return { cx: f.cx, cy: f.cy, rx: f.w / 2, ry: f.h / 2, angle: f.angle };
  return { cx: f.cx, cy: f.cy, w: f.w, h: f.h, angle: f.angle };
}

// Image position of the point (u, v) of a frame, u and v in -1..1 (corners at ±1).
export function framePoint(f, u, v) {
  return rotate(f.cx + (u * f.w) / 2, f.cy + (v * f.h) / 2, f.angle, f.cx, f.cy);
}

// (x, y) in the frame's own axes, relative to its centre.
function toLocal(f, x, y) {
  const t = (f.angle * Math.PI) / 180, c = Math.cos(t), s = Math.sin(t);
  const dx = x - f.cx, dy = y - f.cy;
  return [dx * c + dy * s, -dx * s + dy * c];
}

// The handles of a frame: {id: [x, y]} in image pixels; `rotDist` (image pixels) places the
// turning handle "rot" above the top edge (omitted when null).
export function handlePoints(f, rotDist = null) {
  const out = {};
  for (const [id, [u, v]] of Object.entries(HANDLES)) out[id] = framePoint(f, u, v);
  if (rotDist !== null) {
    const [x, y] = rotate(f.cx, f.cy - f.h / 2 - rotDist, f.angle, f.cx, f.cy);
    out.rot = [x, y];
  }
  return out;
}

// The frame after dragging handle `id` to (x, y): the opposite side or corner stays where it is.
// Dragging past it flips the frame; sizes never go below `min`.
export function resizeFrame(f, id, x, y, min = MIN_SIZE) {
  const [su, sv] = HANDLES[id];
  const [lx, ly] = toLocal(f, x, y);
  let cx = 0, cy = 0, w = f.w, h = f.h;
  if (su) {
    const anchor = (-su * f.w) / 2;
    let edge = lx;
    if (Math.abs(edge - anchor) < min) edge = anchor + su * min;
    w = Math.abs(edge - anchor);
    cx = (edge + anchor) / 2;
  }
  if (sv) {
    const anchor = (-sv * f.h) / 2;
    let edge = ly;
    if (Math.abs(edge - anchor) < min) edge = anchor + sv * min;
    h = Math.abs(edge - anchor);
    cy = (edge + anchor) / 2;
  }
  const [ncx, ncy] = rotate(f.cx + cx, f.cy + cy, f.angle, f.cx, f.cy);
  return { cx: ncx, cy: ncy, w, h, angle: f.angle };
}

// Degrees in (-180, 180].
export function normAngle(a) {
  let r = ((a % 360) + 360) % 360;
  if (r > 180) r -= 360;
  return r;
}

// The direction (degrees, clockwise from up) from the frame's centre to (x, y).
export function bearing(f, x, y) {
  return (Math.atan2(x - f.cx, -(y - f.cy)) * 180) / Math.PI;
}

// The frame turned so that the grab point, first at bearing `from`, is now at (x, y); `step`
// rounds the angle (degrees, 0: free).
export function rotateFrame(f, from, x, y, step = 0) {
  let a = f.angle + bearing(f, x, y) - from;
  if (step) a = Math.round(a / step) * step;
  return { ...f, angle: normAngle(Math.round(a * 100) / 100) };
}

// The next visibility of a skeleton keypoint: 2 visible → 1 hidden → 0 not labelled → 2.
export const nextVisibility = (v) => (v === 2 ? 1 : v === 1 ? 0 : 2);

// The index of the keypoint (any visibility) within `tol` of (x, y), or -1.
export function keypointAt(points, x, y, tol) {
  let best = -1, bd = tol;
  points.forEach((p, i) => {
    const d = Math.hypot(p[0] - x, p[1] - y);
    if (d <= bd) {
      bd = d;
      best = i;
    }
  });
  return best;
}

// -- the plug-in --------------------------------------------------------------------------------

function handleAt(editor, shape, ev) {
  if (!FRAME_KINDS.has(shape.kind)) return null;
  const f = frameOf(shape.kind, shape.geometry);
  const pts = handlePoints(f, shape.kind === "box" ? null : editor.tol(ROTATE_PX));
  const tol = editor.tol(HANDLE_PX);
  let best = null, bd = tol;
  for (const [id, [x, y]] of Object.entries(pts)) {
    const d = Math.hypot(ev.x - x, ev.y - y);
    if (d <= bd) {
      bd = d;
      best = id;
    }
  }
  return best ? { id: best, frame: f } : null;
}

function resizeCursor(f, id) {
  const [u, v] = HANDLES[id];
  const dir = (Math.atan2(u, -v) * 180) / Math.PI + f.angle; // clockwise from up
  return CURSORS[((Math.round(dir / 45) % 4) + 4) % 4];
}

function clampBox(editor, g) {
  const { imageWidth: iw, imageHeight: ih } = editor.scene.size;
  if (!(iw > 0 && ih > 0)) return g;
  const x0 = Math.max(0, g.x), y0 = Math.max(0, g.y);
  const x1 = Math.min(iw, g.x + g.w), y1 = Math.min(ih, g.y + g.h);
  return x1 - x0 >= MIN_SIZE && y1 - y0 >= MIN_SIZE ? { x: x0, y: y0, w: x1 - x0, h: y1 - y0 } : g;
}

// The drag of a resize or turning handle: commands share one mergeKey (one undo step).
export function frameDrag(editor, shape, hit, ev) {
  const { doc } = editor;
  const uid = shape.uid, kind = shape.kind;
  const f0 = hit.frame;
  const from = bearing(f0, ev.x, ev.y);
  const mergeKey = `transform-${++serial}`;
  const name = hit.id === "rot" ? "rotate" : "resize";
  return {
    cursor: hit.id === "rot" ? "grabbing" : resizeCursor(f0, hit.id),
    move(e) {
      const f = hit.id === "rot" ? rotateFrame(f0, from, e.x, e.y, e.shift ? 15 : 0) : resizeFrame(f0, hit.id, e.x, e.y);
      let g = geometryOf(kind, f);
      if (kind === "box") g = clampBox(editor, g);
      return setGeometries(doc, { [uid]: g }, { name, mergeKey });
    },
    up() {
      return null;
    },
  };
}

function maskCanvas(shape, box, color) {
  const [h] = shape.geometry.rle.size;
  const bits = decodeRle(shape.geometry.rle);
  const w = box[2] - box[0], bh = box[3] - box[1];
  const c = document.createElement("canvas");
  c.width = w;
  c.height = bh;
  const cx = c.getContext("2d");
  const img = cx.createImageData(w, bh);
  const n = parseInt(String(color || "#888888").slice(1), 16);
  const rgb = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  for (let x = 0; x < w; x++) {
    const base = (box[0] + x) * h + box[1];
    for (let y = 0; y < bh; y++) {
      if (!bits[base + y]) continue;
      const i = (y * w + x) * 4;
      img.data[i] = rgb[0];
      img.data[i + 1] = rgb[1];
      img.data[i + 2] = rgb[2];
      img.data[i + 3] = 255;
    }
  }
  cx.putImageData(img, 0, 0);
  return c;
}

// Moving a mask: the drag shows the mask at its new place and re-encodes once, at the drop.
function maskDrag(editor, shape, ev) {
  const box = rleBounds(shape.geometry.rle);
  if (!box) return null;
  const color = editor.label(shape.label)?.color;
  const state = { uid: shape.uid, canvas: maskCanvas(shape, box, color), box, dx: 0, dy: 0 };
  preview.set(editor, state);
  const from = [ev.x, ev.y];
  return {
    cursor: "move",
    move(e) {
      state.dx = Math.round(e.x - from[0]);
      state.dy = Math.round(e.y - from[1]);
      editor.invalidate();
      return null;
    },
    up() {
      preview.delete(editor);
      editor.invalidate();
      if (!state.dx && !state.dy) return null;
      const cur = editor.doc.byUid(shape.uid);
      if (!cur) return null;
      const rle = translateRle(cur.geometry.rle, state.dx, state.dy);
      if (!rleBounds(rle)) {
        editor.status("The mask would leave the image");
        return null;
      }
      return setGeometries(editor.doc, { [shape.uid]: { rle } }, { name: "move" });
    },
  };
}

// Alt + click on a keypoint: its visibility steps on at the release.
function visibilityDrag(editor, shape, index) {
  return {
    cursor: "pointer",
    move: () => null,
    up() {
      return updateShape(editor.doc, shape.uid, (s) => {
        const p = s.geometry.points[index];
        p[2] = nextVisibility(p[2]);
      }, { name: "keypoint visibility" });
    },
  };
}

export const plugin = {
  name: "transform",
  grab(editor, shape, ev) {
    if (shape.kind === "skeleton") {
      if (!ev.alt) return null;
      const i = keypointAt(shape.geometry.points || [], ev.x, ev.y, editor.tol(HANDLE_PX));
      return i < 0 ? null : visibilityDrag(editor, shape, i);
    }
    if (shape.kind === "mask") return editor.hit(ev.x, ev.y) === shape.uid ? maskDrag(editor, shape, ev) : null;
    const hit = handleAt(editor, shape, ev);
    return hit ? frameDrag(editor, shape, hit, ev) : null;
  },
  hover(editor, shape, ev) {
    if (shape.kind === "skeleton") {
      return ev.alt && keypointAt(shape.geometry.points || [], ev.x, ev.y, editor.tol(HANDLE_PX)) >= 0 ? "pointer" : null;
    }
    if (shape.kind === "mask") return editor.hit(ev.x, ev.y) === shape.uid ? "move" : null;
    const hit = handleAt(editor, shape, ev);
    if (!hit) return null;
    return hit.id === "rot" ? "grab" : resizeCursor(hit.frame, hit.id);
  },
  overlay(ctx, view, shape, editor) {
    if (shape.kind === "skeleton") return drawUnlabelled(ctx, view, shape);
    if (shape.kind === "mask") return drawMoving(ctx, view, shape, editor);
    if (!FRAME_KINDS.has(shape.kind)) return;
    const f = frameOf(shape.kind, shape.geometry);
    const pts = handlePoints(f, shape.kind === "box" ? null : ROTATE_PX / view.scale);
    ctx.lineWidth = 1;
    if (shape.kind === "ellipse") {
      // the turned frame the corner handles belong to
      ctx.strokeStyle = "rgba(255,255,255,0.6)";
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ["nw", "ne", "se", "sw"].forEach((id, i) => {
        const [sx, sy] = toScreen(view, ...pts[id]);
        if (i) ctx.lineTo(sx, sy);
        else ctx.moveTo(sx, sy);
      });
      ctx.closePath();
      ctx.stroke();
      ctx.setLineDash([]);
    }
    if (pts.rot) {
      const [tx, ty] = toScreen(view, ...pts.n);
      const [rx, ry] = toScreen(view, ...pts.rot);
      ctx.strokeStyle = "rgba(255,255,255,0.9)";
      ctx.beginPath();
      ctx.moveTo(tx, ty);
      ctx.lineTo(rx, ry);
      ctx.stroke();
      ctx.fillStyle = "#ffffff";
      ctx.strokeStyle = "rgba(0,0,0,0.85)";
      ctx.beginPath();
      ctx.arc(rx, ry, 5, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    }
    ctx.fillStyle = "#ffffff";
    ctx.strokeStyle = "rgba(0,0,0,0.85)";
    for (const id of Object.keys(HANDLES)) {
      const [sx, sy] = toScreen(view, ...pts[id]);
      ctx.fillRect(sx - 3.5, sy - 3.5, 7, 7);
      ctx.strokeRect(sx - 3.5, sy - 3.5, 7, 7);
    }
  },
};

function drawUnlabelled(ctx, view, shape) {
  ctx.strokeStyle = "rgba(255,255,255,0.8)";
  ctx.lineWidth = 1.5;
  for (const p of shape.geometry.points || []) {
    if (p[2]) continue;
    const [sx, sy] = toScreen(view, p[0], p[1]);
    ctx.beginPath();
    ctx.moveTo(sx - 4, sy - 4);
    ctx.lineTo(sx + 4, sy + 4);
    ctx.moveTo(sx + 4, sy - 4);
    ctx.lineTo(sx - 4, sy + 4);
    ctx.stroke();
  }
}

function drawMoving(ctx, view, shape, editor) {
  const m = preview.get(editor);
  if (!m || m.uid !== shape.uid) return;
  const [sx, sy] = toScreen(view, m.box[0] + m.dx, m.box[1] + m.dy);
  ctx.save();
  ctx.imageSmoothingEnabled = false;
  ctx.globalAlpha = 0.6;
  ctx.drawImage(m.canvas, sx, sy, m.canvas.width * view.scale, m.canvas.height * view.scale);
  ctx.globalAlpha = 1;
  ctx.strokeStyle = "rgba(255,255,255,0.9)";
  ctx.setLineDash([4, 3]);
  ctx.strokeRect(sx, sy, m.canvas.width * view.scale, m.canvas.height * view.scale);
  ctx.restore();
}
