// Converting between area shapes and masks.
//
// Shape → mask: the shape's outline is filled on a canvas the size of its bounding box (even-odd,
// so polygon holes stay empty) and every pixel at least half covered is set.
// Mask → polygons: contours are traced with marching squares over the pixel centres (a contour
// vertex halfway between a set and an unset pixel, so straight borders lie on pixel edges and a
// staircase becomes a straight line). Set pixels touching at a corner belong together (8-connected
// foreground). Contours running clockwise on screen are outlines, the others holes; each hole
// goes to the smallest outline around it, and every outline becomes one polygon. The rings are
// then simplified (Douglas-Peucker) within a fraction of a pixel.
//
// toMask(editor, uids) and toPolygons(editor, uids) return one command (or null, with the reason
// in the status line) for the editor to run; the workspace binds them to keys.

import { addShapes, batch, removeShapes, updateShapes } from "./commands.js";
import { paintRle } from "./mask.js";
import { rotatedBoxCorners } from "./render/geometry.js";
import { decodeRle, rleBounds } from "./render/rle.js";
import { cloneShape } from "./state.js";

export const AREA_KINDS = ["polygon", "box", "rotated_box", "ellipse"];
export const SIMPLIFY_PX = 0.75;

// -- shape → mask -------------------------------------------------------------------------------

// The region of pixels at least half covered, from RGBA pixels of a w × h canvas (row-major).
export function regionFromAlpha(rgba, w, h, x0 = 0, y0 = 0) {
  const bits = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) if (rgba[(row + x) * 4 + 3] >= 128) bits[x * h + y] = 1;
  }
  return { x0, y0, w, h, bits };
}

// Trace the outline of an area shape on a canvas context (image coordinates).
function tracePath(ctx, kind, g) {
  ctx.beginPath();
  if (kind === "box") ctx.rect(g.x, g.y, g.w, g.h);
  else if (kind === "ellipse") ctx.ellipse(g.cx, g.cy, g.rx, g.ry, (g.angle * Math.PI) / 180, 0, 2 * Math.PI);
  else {
    const rings = kind === "rotated_box" ? [rotatedBoxCorners(g)] : [g.points || [], ...(g.holes || [])];
    for (const ring of rings) {
      if (ring.length < 3) continue;
      ctx.moveTo(ring[0][0], ring[0][1]);
      for (let i = 1; i < ring.length; i++) ctx.lineTo(ring[i][0], ring[i][1]);
      ctx.closePath();
    }
  }
}

// The pixel region of an area shape on a height × width image (a canvas fill), or null.
export function shapeRegion(shape, bounds, height, width) {
  const x0 = Math.max(0, Math.floor(bounds[0])), y0 = Math.max(0, Math.floor(bounds[1]));
  const x1 = Math.min(width, Math.ceil(bounds[2])), y1 = Math.min(height, Math.ceil(bounds[3]));
  if (x1 <= x0 || y1 <= y0) return null;
  const w = x1 - x0, h = y1 - y0;
  const canvas = typeof OffscreenCanvas !== "undefined" ? new OffscreenCanvas(w, h) : Object.assign(document.createElement("canvas"), { width: w, height: h });
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.translate(-x0, -y0);
  tracePath(ctx, shape.kind, shape.geometry);
  ctx.fillStyle = "#000";
  ctx.fill("evenodd");
  return regionFromAlpha(ctx.getImageData(0, 0, w, h).data, w, h, x0, y0);
}

// The full-image COCO RLE of an area shape, or null when it covers no pixel.
export function shapeToRle(shape, bounds, height, width) {
  const region = shapeRegion(shape, bounds, height, width);
  if (!region) return null;
  const { rle, changed } = paintRle({ size: [height, width], counts: [height * width] }, region, "add");
  return changed ? rle : null;
}

// -- mask → polygons ----------------------------------------------------------------------------

// Marching squares: for each of the 16 cells (corners a top-left, b top-right, c bottom-right,
// d bottom-left, bit 3..0), the contour segments [from edge, to edge] with the set pixels on the
// right-hand side (screen: y down). Edges 0 top (a–b), 1 right (b–c), 2 bottom (c–d), 3 left
// (d–a). A segment runs from an edge where, going clockwise, set turns to unset, to the next
// edge where unset turns to set: in the two saddle cells this joins the diagonal set pixels.
const CELL_SEGMENTS = (() => {
  const table = [];
  for (let k = 0; k < 16; k++) {
    const v = [(k >> 3) & 1, (k >> 2) & 1, (k >> 1) & 1, k & 1]; // a, b, c, d clockwise
    const segs = [];
    for (let e = 0; e < 4; e++) {
      if (!(v[e] === 1 && v[(e + 1) % 4] === 0)) continue; // not an exit
      for (let s = 1; s <= 4; s++) {
        const f = (e + s) % 4;
        if (v[f] === 0 && v[(f + 1) % 4] === 1) {
          segs.push([e, f]);
          break;
        }
      }
    }
    table.push(segs);
  }
  return table;
})();

// The contour rings of a column-major bitmap, in image coordinates (vertices halfway between
// pixel centres), within `bounds` [x0, y0, x1, y1] (pixel edges) when given.
export function traceContours(bits, height, width, bounds = null) {
  const b = bounds || [0, 0, width, height];
  const K = 2 * height + 8; // key = X2 * K + Y2 with doubled coordinates (all integers)
  const at = (i, j) => (i < 0 || j < 0 || i >= width || j >= height ? 0 : bits[i * height + j]);
  const next = new Map();
  // edge midpoints of cell (i, j), doubled: top, right, bottom, left
  const mid = (i, j, e) => (e === 0 ? [2 * i + 2, 2 * j + 1] : e === 1 ? [2 * i + 3, 2 * j + 2] : e === 2 ? [2 * i + 2, 2 * j + 3] : [2 * i + 1, 2 * j + 2]);
  for (let i = b[0] - 1; i < b[2]; i++) {
    let a = at(i, b[1] - 1), bb = at(i + 1, b[1] - 1);
    for (let j = b[1] - 1; j < b[3]; j++) {
      const c = at(i + 1, j + 1), d = at(i, j + 1);
      const k = (a << 3) | (bb << 2) | (c << 1) | d;
      if (k !== 0 && k !== 15) {
        for (const [e, f] of CELL_SEGMENTS[k]) {
          const p = mid(i, j, e), q = mid(i, j, f);
          next.set(p[0] * K + p[1], q[0] * K + q[1]);
        }
      }
      a = d;
      bb = c;
    }
  }
  const rings = [];
  for (const start of next.keys()) {
    if (!next.has(start)) continue;
    const ring = [];
    let key = start;
    while (next.has(key)) {
      const to = next.get(key);
      next.delete(key);
      ring.push([Math.floor(key / K) / 2, (key % K) / 2]);
      key = to;
    }
    rings.push(ring);
  }
  return rings;
}

// Twice the signed area (positive: clockwise on screen, y down).
export function ringArea2(ring) {
  let s = 0;
  for (let i = 0, n = ring.length; i < n; i++) {
    const p = ring[i], q = ring[(i + 1) % n];
    s += p[0] * q[1] - q[0] * p[1];
  }
  return s;
}

function ringBox(ring) {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [x, y] of ring) {
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  return [x0, y0, x1, y1];
}

function inRing(x, y, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i], [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

// Drop the vertices that lie on the straight line between their neighbours.
export function dropCollinear(ring) {
  const out = [];
  const n = ring.length;
  for (let i = 0; i < n; i++) {
    const p = ring[(i + n - 1) % n], q = ring[i], r = ring[(i + 1) % n];
    if ((q[0] - p[0]) * (r[1] - q[1]) - (q[1] - p[1]) * (r[0] - q[0]) !== 0) out.push(q);
  }
  return out;
}

function segDist(p, a, b) {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  let t = len2 ? ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2 : 0;
  t = Math.max(0, Math.min(1, t));
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

// Douglas-Peucker on an open chain: the indices kept (first and last always).
function keepIndices(pts, lo, hi, tol, keep) {
  const stack = [[lo, hi]];
  while (stack.length) {
    const [s, e] = stack.pop();
    let best = -1, dmax = tol;
    for (let i = s + 1; i < e; i++) {
      const d = segDist(pts[i], pts[s], pts[e]);
      if (d > dmax) {
        dmax = d;
        best = i;
      }
    }
    if (best >= 0) {
      keep[best] = 1;
      stack.push([s, best], [best, e]);
    }
  }
}

// A closed ring simplified within `tol` pixels (Douglas-Peucker from its two farthest-apart
// vertices). A small ring that would lose most of its area (a part a pixel or two wide) keeps
// every corner instead, so no part of a mask vanishes.
export function simplifyRing(ring, tol = SIMPLIFY_PX) {
  const full = dropCollinear(ring);
  const out = douglasPeucker(full, tol);
  return out.length >= 3 && Math.abs(ringArea2(out)) >= 0.5 * Math.abs(ringArea2(full)) ? out : full;
}


function douglasPeucker(pts, tol) {
  const n = pts.length;
  if (n < 4 || tol <= 0) return pts;
  let far = 0, dmax = -1;
  for (let i = 1; i < n; i++) {
    const d = Math.hypot(pts[i][0] - pts[0][0], pts[i][1] - pts[0][1]);
    if (d > dmax) {
      dmax = d;
      far = i;
    }
  }
  const closed = [...pts, pts[0]];
  const keep = new Uint8Array(n + 1);
  keep[0] = keep[far] = keep[n] = 1;
  keepIndices(closed, 0, far, tol, keep);
  keepIndices(closed, far, n, tol, keep);
  const out = [];
  for (let i = 0; i < n; i++) if (keep[i]) out.push(pts[i]);
  return out;
}

// Rings to polygons {points, holes}: outlines (clockwise on screen) with the holes whose nearest
// enclosing outline they are. Rings are tested for containment before simplification.
export function ringsToPolygons(rings, tol = SIMPLIFY_PX) {
  const outers = [], holes = [];
  for (const ring of rings) {
    const a2 = ringArea2(ring);
    if (a2 > 0) outers.push({ ring, area: a2, box: ringBox(ring), holes: [] });
    else if (a2 < 0) holes.push(ring);
  }
  for (const hole of holes) {
    const [x, y] = hole[0];
    let best = null;
    for (const o of outers) {
      if (x < o.box[0] || x > o.box[2] || y < o.box[1] || y > o.box[3]) continue;
      if ((!best || o.area < best.area) && inRing(x, y, o.ring)) best = o;
    }
    if (best) best.holes.push(hole);
  }
  const out = [];
  for (const o of outers) {
    const points = simplifyRing(o.ring, tol);
    if (points.length < 3) continue;
    const hs = o.holes.map((h) => simplifyRing(h, tol)).filter((h) => h.length >= 3);
    out.push({ points, holes: hs });
  }
  return out;
}

// The polygons {points, holes} of a COCO RLE mask, largest first.
export function maskToPolygons(rle, tol = SIMPLIFY_PX) {
  const b = rleBounds(rle);
  if (!b) return [];
  const [h, w] = rle.size;
  const polys = ringsToPolygons(traceContours(decodeRle(rle), h, w, b), tol);
  return polys.sort((p, q) => ringArea2(q.points) - ringArea2(p.points));
}

// -- commands -----------------------------------------------------------------------------------

const allows = (label, kind) => !label || !(label.kinds || []).length || label.kinds.includes(kind);

function targets(editor, uids, kinds) {
  return uids.map((u) => editor.doc.byUid(u)).filter((s) => s && kinds.includes(s.kind));
}

// One command turning the area shapes among `uids` (polygons, boxes, rotated boxes, ellipses)
// into masks of the same label, or null.
export function toMask(editor, uids) {
  const list = targets(editor, uids, AREA_KINDS);
  if (!list.length) return report(editor, "Select a polygon (or box, rotated box, ellipse) to turn into a mask");
  const { imageHeight: h, imageWidth: w } = editor.scene.size;
  const after = {};
  const skipped = [];
  for (const s of list) {
    if (s.locked) { skipped.push(`${s.label} is locked`); continue; }
    if (!allows(editor.label(s.label), "mask")) { skipped.push(`the label “${s.label}” does not allow masks`); continue; }
    const rle = shapeToRle(s, editor.bounds(s.uid), h, w);
    if (!rle) { skipped.push("a shape covers no pixel of the image"); continue; }
    after[s.uid] = { ...cloneShape(s), kind: "mask", geometry: { rle } };
  }
  const n = Object.keys(after).length;
  if (skipped.length) editor.status(`${n ? `${n} converted; ` : ""}not converted: ${[...new Set(skipped)].join("; ")}`);
  else editor.status(`${n} shape${n > 1 ? "s" : ""} turned into mask${n > 1 ? "s" : ""}`);
  return n ? updateShapes(after, { name: "to mask" }) : null;
}

// One command turning the masks among `uids` into polygons of the same label (one per connected
// part, holes kept; the parts of one mask share a group id), or null.
export function toPolygons(editor, uids, tol = SIMPLIFY_PX) {
  const list = targets(editor, uids, ["mask"]);
  if (!list.length) return report(editor, "Select a mask to turn into polygons");
  let nextGroup = Math.max(0, ...editor.doc.shapes.map((s) => s.group_id || 0)) + 1;
  const cmds = [];
  const skipped = [];
  let made = 0;
  for (const s of list) {
    if (s.locked) { skipped.push(`${s.label} is locked`); continue; }
    if (!allows(editor.label(s.label), "polygon")) { skipped.push(`the label “${s.label}” does not allow polygons`); continue; }
    const polys = maskToPolygons(s.geometry.rle, tol);
    if (!polys.length) { skipped.push("a mask has no area to trace"); continue; }
    const group = polys.length > 1 && s.group_id == null ? nextGroup++ : s.group_id ?? null;
    const { uid, hidden, locked, ...rest } = s;
    const shapes = polys.map((g) => ({ ...cloneShape(rest), kind: "polygon", geometry: g, group_id: group }));
    cmds.push(removeShapes([uid]), addShapes(shapes, { select: false }));
    made += shapes.length;
  }
  if (skipped.length) editor.status(`${made ? `${made} polygons made; ` : ""}not converted: ${[...new Set(skipped)].join("; ")}`);
  else editor.status(`${made} polygon${made > 1 ? "s" : ""} traced`);
  if (!cmds.length) return null;
  const added = cmds.filter((c) => c.uids).flatMap((c) => c.uids);
  const all = batch(cmds, { name: "to polygons" });
  return { ...all, do(doc) { all.do(doc); doc.select(added); }, uids: added };
}

function report(editor, text) {
  editor.status(text);
  return null;
}
