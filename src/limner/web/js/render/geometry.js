// Geometry for the canvas: the view transform and hit-testing. Pure functions, no DOM.
//
// A view is {scale, tx, ty}: screen = image × scale + t (CSS pixels). Shapes are the API's
// {kind, geometry} in image pixels (see limner/core/shapes.py): angles are degrees, clockwise
// on screen (y points down), about the centre.

import { rleBounds } from "./rle.js";

export const MIN_SCALE = 0.01;
export const MAX_SCALE = 64;

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
const rad = (deg) => (deg * Math.PI) / 180;

// -- the view transform -----------------------------------------------------------------------

export const toScreen = (v, x, y) => [x * v.scale + v.tx, y * v.scale + v.ty];
export const toImage = (v, sx, sy) => [(sx - v.tx) / v.scale, (sy - v.ty) / v.scale];

// The view that shows a whole iw × ih image centred in a vw × vh area, `pad` pixels clear.
export function fitView(iw, ih, vw, vh, pad = 12) {
  if (!(iw > 0 && ih > 0 && vw > 0 && vh > 0)) return { scale: 1, tx: 0, ty: 0 };
  const scale = clamp(Math.min((vw - 2 * pad) / iw, (vh - 2 * pad) / ih), MIN_SCALE, MAX_SCALE);
  return { scale, tx: (vw - iw * scale) / 2, ty: (vh - ih * scale) / 2 };
}

// Zoom by `factor` keeping the image point under the screen point (sx, sy) where it is.
export function zoomAt(v, factor, sx, sy, min = MIN_SCALE, max = MAX_SCALE) {
  const scale = clamp(v.scale * factor, min, max);
  const k = scale / v.scale;
  return { scale, tx: sx - (sx - v.tx) * k, ty: sy - (sy - v.ty) * k };
}

export const panBy = (v, dx, dy) => ({ scale: v.scale, tx: v.tx + dx, ty: v.ty + dy });

// The image rectangle [x0, y0, x1, y1] a vw × vh screen area shows.
export function visibleRect(v, vw, vh) {
  const [x0, y0] = toImage(v, 0, 0);
  const [x1, y1] = toImage(v, vw, vh);
  return [x0, y0, x1, y1];
}

// The view that puts image point (x, y) at the centre of a vw × vh area, at the same scale.
export const centreOn = (v, x, y, vw, vh) => ({ scale: v.scale, tx: vw / 2 - x * v.scale, ty: vh / 2 - y * v.scale });

// Do two [x0, y0, x1, y1] rectangles meet (edges included)?
export const rectsMeet = (a, b) => a[0] <= b[2] && a[2] >= b[0] && a[1] <= b[3] && a[3] >= b[1];

// -- shape outlines ---------------------------------------------------------------------------

// Rotate (x, y) by `deg` clockwise on screen (y down) about (cx, cy).
export function rotate(x, y, deg, cx = 0, cy = 0) {
  const t = rad(deg), c = Math.cos(t), s = Math.sin(t);
  const dx = x - cx, dy = y - cy;
  return [cx + dx * c - dy * s, cy + dx * s + dy * c];
}

// The inverse: a point in the frame of a shape turned `deg` about (cx, cy), relative to the centre.
function local(x, y, deg, cx, cy) {
  const t = rad(deg), c = Math.cos(t), s = Math.sin(t);
  const dx = x - cx, dy = y - cy;
  return [dx * c + dy * s, -dx * s + dy * c];
}

// Corners of a rotated box: top-left, top-right, bottom-right, bottom-left of the unturned box.
export function rotatedBoxCorners(g) {
  const hw = g.w / 2, hh = g.h / 2;
  return [[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]].map(([x, y]) => rotate(g.cx + x, g.cy + y, g.angle, g.cx, g.cy));
}

// Half extents of the axis-aligned box around a turned ellipse.
function ellipseExtents(g) {
  const t = rad(g.angle), c = Math.cos(t), s = Math.sin(t);
  return [Math.hypot(g.rx * c, g.ry * s), Math.hypot(g.rx * s, g.ry * c)];
}

function pointsBounds(pts) {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const p of pts) {
    x0 = Math.min(x0, p[0]); y0 = Math.min(y0, p[1]);
    x1 = Math.max(x1, p[0]); y1 = Math.max(y1, p[1]);
  }
  return x0 === Infinity ? null : [x0, y0, x1, y1];
}

// [x0, y0, x1, y1] around a shape, or null (tags, empty masks).
export function shapeBounds(shape) {
  const g = shape.geometry || {};
  switch (shape.kind) {
    case "box": return [g.x, g.y, g.x + g.w, g.y + g.h];
    case "rotated_box": return pointsBounds(rotatedBoxCorners(g));
    case "ellipse": {
      const [ex, ey] = ellipseExtents(g);
      return [g.cx - ex, g.cy - ey, g.cx + ex, g.cy + ey];
    }
    case "polygon":
    case "polyline":
    case "points": return pointsBounds(g.points || []);
    case "skeleton": return pointsBounds((g.points || []).filter((p) => p[2] > 0));
    case "mask": return g.rle ? rleBounds(g.rle) : null;
    default: return null;
  }
}

// Fewer points for drawing far away: a point closer than `tol` to the last one kept is dropped
// (the last point is always kept, and at least `min` points when there are that many).
export function simplifyPoints(pts, tol, min = 2) {
  const n = pts.length;
  if (n <= min || !(tol > 0)) return pts;
  const t2 = tol * tol;
  const out = [pts[0]];
  let [lx, ly] = pts[0];
  for (let i = 1; i < n - 1; i++) {
    const p = pts[i];
    const dx = p[0] - lx, dy = p[1] - ly;
    if (dx * dx + dy * dy >= t2) {
      out.push(p);
      lx = p[0];
      ly = p[1];
    }
  }
  out.push(pts[n - 1]);
  return out.length >= min ? out : pts;
}

// -- hit-testing ------------------------------------------------------------------------------

// Even-odd test against one ring [[x, y], ...] (ray casting to the right).
export function pointInRing(x, y, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i], [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

// A polygon with holes, filled even-odd: inside the outline and outside every hole.
export function pointInPolygon(x, y, points, holes = []) {
  let inside = pointInRing(x, y, points);
  for (const hole of holes) if (pointInRing(x, y, hole)) inside = !inside;
  return inside;
}

export function distToSegment(px, py, ax, ay, bx, by) {
  const dx = bx - ax, dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 ? clamp(((px - ax) * dx + (py - ay) * dy) / len2, 0, 1) : 0;
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

// Distance to a chain of points; `closed` adds the segment from the last back to the first.
export function distToPath(x, y, pts, closed = false) {
  let d = Infinity;
  const n = pts.length;
  if (n === 1) return Math.hypot(x - pts[0][0], y - pts[0][1]);
  for (let i = 0; i < n - 1 + (closed ? 1 : 0); i++) {
    const a = pts[i], b = pts[(i + 1) % n];
    d = Math.min(d, distToSegment(x, y, a[0], a[1], b[0], b[1]));
  }
  return d;
}

export function pointInBox(x, y, g) {
  return x >= g.x && x <= g.x + g.w && y >= g.y && y <= g.y + g.h;
}

export function pointInRotatedBox(x, y, g) {
  const [lx, ly] = local(x, y, g.angle, g.cx, g.cy);
  return Math.abs(lx) <= g.w / 2 && Math.abs(ly) <= g.h / 2;
}

export function pointInEllipse(x, y, g) {
  const [lx, ly] = local(x, y, g.angle, g.cx, g.cy);
  return (lx / g.rx) ** 2 + (ly / g.ry) ** 2 <= 1;
}

// Is the mask pixel under (x, y) set? `bits` is the decoded column-major mask (rle.js).
export function maskAt(bits, height, width, x, y) {
  const col = Math.floor(x), row = Math.floor(y);
  if (col < 0 || row < 0 || col >= width || row >= height) return false;
  return bits[col * height + row] === 1;
}

// Does the shape cover (x, y), or pass within `tol` image pixels of it (lines and points)?
// `bits` is the decoded mask for mask shapes (omit it to test masks by their bounds).
export function shapeContains(shape, x, y, tol = 0, bits = null) {
  const g = shape.geometry || {};
  switch (shape.kind) {
    case "box":
      return pointInBox(x, y, { x: g.x - tol, y: g.y - tol, w: g.w + 2 * tol, h: g.h + 2 * tol });
    case "rotated_box":
      return pointInRotatedBox(x, y, g) || distToPath(x, y, rotatedBoxCorners(g), true) <= tol;
    case "ellipse":
      return pointInEllipse(x, y, { ...g, rx: g.rx + tol, ry: g.ry + tol });
    case "polygon":
      return pointInPolygon(x, y, g.points || [], g.holes || []) || distToPath(x, y, g.points || [], true) <= tol;
    case "polyline":
      return distToPath(x, y, g.points || []) <= tol;
    case "points":
      return (g.points || []).some((p) => Math.hypot(x - p[0], y - p[1]) <= tol);
    case "skeleton":
      return (g.points || []).some((p) => p[2] > 0 && Math.hypot(x - p[0], y - p[1]) <= tol);
    case "mask": {
      if (!g.rle) return false;
      const [h, w] = g.rle.size;
      if (bits) return maskAt(bits, h, w, x, y);
      const b = rleBounds(g.rle);
      return Boolean(b) && x >= b[0] && x < b[2] && y >= b[1] && y < b[3];
    }
    default:
      return false;
  }
}

// The index of the topmost item covering (x, y), or -1. Items are {shape, bits?} in drawing
// order (the last drawn is on top).
export function hitTest(items, x, y, tol = 0) {
  for (let i = items.length - 1; i >= 0; i--) {
    if (shapeContains(items[i].shape, x, y, tol, items[i].bits || null)) return i;
  }
  return -1;
}

// Drawing order: by z_order, then as listed (a stable sort of indices).
export function drawOrder(shapes) {
  return shapes.map((s, i) => i).sort((a, b) => (shapes[a].z_order || 0) - (shapes[b].z_order || 0) || a - b);
}
