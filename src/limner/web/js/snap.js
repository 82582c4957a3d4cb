// Shared borders: snapping a point to the vertices and edges of other shapes, finding the
// vertices that share a position (linked vertices), and welding a point into the edges it lies
// on, plus the vertex edits of polygons, polylines, points and skeletons. Pure functions over the
// API's shapes ({uid, kind, geometry}); no DOM, no state.
//
// The link model: vertices of polygons and polylines at exactly the same coordinates are linked.
// Coordinates are kept at 1/100 pixel (shapes.js roundGeometry), so a vertex copied from another
// shape or inserted into two shapes at once stays identical through saving and reloading.
//
// Candidates are culled by a grid index of shape bounds built once (a drag start, a document
// version), so a scene of 10,000 polygons measures distances to a handful of them only.

import { rotatedBoxCorners } from "./render/geometry.js";

// Kinds whose vertices and edges attract a snapping point.
export const SNAP_KINDS = new Set(["polygon", "polyline", "box", "rotated_box"]);
// Kinds whose vertices link and whose edges take welded vertices.
export const LINK_KINDS = new Set(["polygon", "polyline"]);
// The fewest vertices a kind keeps when one is deleted (holes of polygons keep 3 too).
export const MIN_VERTICES = { polygon: 3, polyline: 2, points: 1 };
// How far (image pixels) a welded point may lie from an edge: coordinates are rounded to 0.01.
export const WELD_EPS = 0.02;
const MAX_CELLS = 256; // a shape spanning more grid cells is kept in a list checked by bounds
const MAX_GRID = 1 << 20; // grid cells at most (the step grows for huge spreads)

const round2 = (v) => Math.round(v * 100) / 100;
const same = (p, x, y) => p[0] === x && p[1] === y;

// -- rings and vertex edits -------------------------------------------------------------------

// The vertex chains of a shape: [{ring, pts, closed, edges}]. Ring 0 is the outline (`points`),
// rings 1.. are a polygon's holes. Boxes and rotated boxes give their corners (read-only);
// points and skeletons have vertices but no edges.
export function ringsOf(shape) {
  const g = shape.geometry || {};
  switch (shape.kind) {
    case "polygon":
      return [g.points || [], ...(g.holes || [])].map((pts, ring) => ({ ring, pts, closed: true, edges: true }));
    case "polyline":
      return [{ ring: 0, pts: g.points || [], closed: false, edges: true }];
    case "box":
      return [{ ring: 0, pts: [[g.x, g.y], [g.x + g.w, g.y], [g.x + g.w, g.y + g.h], [g.x, g.y + g.h]], closed: true, edges: true }];
    case "rotated_box":
      return [{ ring: 0, pts: rotatedBoxCorners(g), closed: true, edges: true }];
    case "points":
    case "skeleton":
      return [{ ring: 0, pts: g.points || [], closed: false, edges: false }];
    default:
      return [];
  }
}

// The number of edges of a chain of n vertices.
export const edgeCount = (n, closed) => (closed ? (n > 2 ? n : Math.max(0, n - 1)) : Math.max(0, n - 1));

function ringList(kind, g, ring) {
  if (kind === "polygon" && ring > 0) return (g.holes || [])[ring - 1] || [];
  return g.points || [];
}

function withRing(kind, g, ring, pts) {
  if (kind === "polygon" && ring > 0) {
    const holes = (g.holes || []).slice();
    holes[ring - 1] = pts;
    return { ...g, holes };
  }
  return { ...g, points: pts };
}

// The geometry with vertex `index` of `ring` at (x, y) (a skeleton keypoint keeps its visibility).
export function moveVertex(kind, g, ring, index, x, y) {
  const pts = ringList(kind, g, ring).slice();
  const old = pts[index];
  pts[index] = old && old.length > 2 ? [x, y, old[2]] : [x, y];
  return withRing(kind, g, ring, pts);
}

// The geometry with (x, y) inserted after vertex `after` of `ring` (on the edge after → after+1).
export function insertVertex(kind, g, ring, after, x, y) {
  const pts = ringList(kind, g, ring).slice();
  pts.splice(after + 1, 0, [x, y]);
  return withRing(kind, g, ring, pts);
}

// The geometry without vertex `index` of `ring`, or null when the ring would fall below the
// kind's minimum (3 for polygons and their holes, 2 for polylines, 1 for points; skeletons keep
// every keypoint).
export function removeVertex(kind, g, ring, index) {
  const min = MIN_VERTICES[kind];
  const pts = ringList(kind, g, ring);
  if (!min || pts.length - 1 < min || index < 0 || index >= pts.length) return null;
  return withRing(kind, g, ring, pts.filter((_, i) => i !== index));
}

// The point of segment a–b nearest (x, y): [px, py, t, distance].
export function projectOnSegment(x, y, a, b) {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 ? Math.min(1, Math.max(0, ((x - a[0]) * dx + (y - a[1]) * dy) / len2)) : 0;
  const px = a[0] + t * dx, py = a[1] + t * dy;
  return [px, py, t, Math.hypot(x - px, y - py)];
}

// The vertex of `shape` nearest (x, y) within `tol`: {ring, index, x, y, d} or null. `accept(p)`
// filters vertices (a skeleton's absent keypoints are not handles).
export function nearestVertex(shape, x, y, tol, accept = () => true) {
  let best = null;
  for (const r of ringsOf(shape)) {
    r.pts.forEach((p, i) => {
      if (!accept(p)) return;
      const d = Math.hypot(x - p[0], y - p[1]);
      if (d <= tol && (!best || d < best.d)) best = { ring: r.ring, index: i, x: p[0], y: p[1], d };
    });
  }
  return best;
}

// The edge of `shape` nearest (x, y) within `tol`: {ring, edge, x, y, t, d} (x, y the nearest
// point of the edge; the edge runs from vertex `edge` to the next), or null.
export function nearestEdge(shape, x, y, tol) {
  let best = null;
  for (const r of ringsOf(shape)) {
    const hit = nearestEdgeOfRing(r, x, y, tol);
    if (hit && (!best || hit.d < best.d)) best = hit;
  }
  return best;
}

function nearestEdgeOfRing(r, x, y, tol) {
  if (!r.edges) return null;
  let best = null;
  const n = r.pts.length;
  for (let i = 0; i < edgeCount(n, r.closed); i++) {
    const [px, py, t, d] = projectOnSegment(x, y, r.pts[i], r.pts[(i + 1) % n]);
    if (d <= tol && (!best || d < best.d)) best = { ring: r.ring, edge: i, x: px, y: py, t, d };
  }
  return best;
}

// -- the grid index ---------------------------------------------------------------------------

function entryOf(s) {
  if (!s || !SNAP_KINDS.has(s.kind)) return null;
  const rings = ringsOf(s).filter((r) => r.pts.length);
  if (!rings.length) return null;
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const r of rings) {
    for (const p of r.pts) {
      if (p[0] < x0) x0 = p[0];
      if (p[0] > x1) x1 = p[0];
      if (p[1] < y0) y0 = p[1];
      if (p[1] > y1) y1 = p[1];
    }
  }
  if (!(x1 >= x0 && y1 >= y0)) return null; // non-finite coordinates
  return { uid: s.uid, kind: s.kind, shape: s, rings, b: [x0, y0, x1, y1] };
}

// A grid of the bounds of the shapes that can snap or link (SNAP_KINDS), for culling. Entries
// are {uid, kind, shape, rings, b: [x0, y0, x1, y1]} as the shapes were when it was built.
// `cell` is the grid step in image pixels (default: the shapes' mean size, within 8..1024).
// `update(uid, shape | null)` replaces one shape's entry (edited, added, removed) without a
// rebuild: the old entry is dropped and the new one kept in a short list checked by bounds;
// `changes` counts them, so the owner can rebuild when the list grows long.
export function createSnapIndex(shapes, { cell = 0 } = {}) {
  const entries = [];
  let sizeSum = 0;
  for (const s of shapes) {
    const e = entryOf(s);
    if (!e) continue;
    entries.push(e);
    sizeSum += Math.max(e.b[2] - e.b[0], e.b[3] - e.b[1]);
  }
  let X0 = Infinity, Y0 = Infinity, X1 = -Infinity, Y1 = -Infinity;
  for (const e of entries) {
    X0 = Math.min(X0, e.b[0]); Y0 = Math.min(Y0, e.b[1]);
    X1 = Math.max(X1, e.b[2]); Y1 = Math.max(Y1, e.b[3]);
  }
  let size = cell > 0 ? cell : Math.min(1024, Math.max(8, entries.length ? sizeSum / entries.length : 64));
  if (!entries.length) X0 = Y0 = X1 = Y1 = 0;
  while (((X1 - X0) / size + 1) * ((Y1 - Y0) / size + 1) > MAX_GRID) size *= 2;
  const nx = Math.floor((X1 - X0) / size) + 1, ny = Math.floor((Y1 - Y0) / size) + 1;
  const col = (x) => Math.min(nx - 1, Math.max(0, Math.floor((x - X0) / size)));
  const row = (y) => Math.min(ny - 1, Math.max(0, Math.floor((y - Y0) / size)));
  // cells in compressed rows: the entries of cell c are items[start[c] .. start[c + 1])
  const start = new Int32Array(nx * ny + 1);
  const big = [];
  const spans = entries.map((e) => {
    const c0 = col(e.b[0]), c1 = col(e.b[2]), r0 = row(e.b[1]), r1 = row(e.b[3]);
    return (c1 - c0 + 1) * (r1 - r0 + 1) > MAX_CELLS ? null : [c0, c1, r0, r1];
  });
  spans.forEach((sp, i) => {
    if (!sp) return big.push(i);
    for (let r = sp[2]; r <= sp[3]; r++) for (let c = sp[0]; c <= sp[1]; c++) start[r * nx + c + 1]++;
  });
  for (let c = 0; c < nx * ny; c++) start[c + 1] += start[c];
  const items = new Int32Array(start[nx * ny]);
  const fill = start.slice(0, nx * ny);
  spans.forEach((sp, i) => {
    if (!sp) return;
    for (let r = sp[2]; r <= sp[3]; r++) for (let c = sp[0]; c <= sp[1]; c++) items[fill[r * nx + c]++] = i;
  });
  const seen = new Uint32Array(entries.length);
  let stamp = 0;
  const dead = new Uint8Array(entries.length);
  const slot = new Map(entries.map((e, i) => [e.uid, i]));
  const extra = new Map(); // uid → entry, for shapes changed since the build

  return {
    entries,
    cell: size,
    get changes() { return extra.size; },
    update(uid, shape) {
      const i = slot.get(uid);
      if (i !== undefined) dead[i] = 1;
      const e = entryOf(shape);
      if (e) extra.set(uid, e);
      else extra.delete(uid);
    },
    // The entries whose bounds come within r of (x, y).
    near(x, y, r = 0) {
      stamp++;
      const out = [];
      const take = (i) => {
        if (seen[i] === stamp || dead[i]) return;
        seen[i] = stamp;
        const b = entries[i].b;
        if (x >= b[0] - r && x <= b[2] + r && y >= b[1] - r && y <= b[3] + r) out.push(entries[i]);
      };
      const c0 = Math.max(0, Math.floor((x - r - X0) / size)), c1 = Math.min(nx - 1, Math.floor((x + r - X0) / size));
      const r0 = Math.max(0, Math.floor((y - r - Y0) / size)), r1 = Math.min(ny - 1, Math.floor((y + r - Y0) / size));
      if ((c1 - c0 + 1) * (r1 - r0 + 1) > MAX_CELLS) entries.forEach((_, i) => take(i));
      else {
        for (let rr = r0; rr <= r1; rr++) {
          for (let c = c0; c <= c1; c++) {
            const k = rr * nx + c;
            for (let j = start[k]; j < start[k + 1]; j++) take(items[j]);
          }
        }
        for (const i of big) take(i);
      }
      for (const e of extra.values()) {
        const b = e.b;
        if (x >= b[0] - r && x <= b[2] + r && y >= b[1] - r && y <= b[3] + r) out.push(e);
      }
      return out;
    },
  };
}

// -- snapping ---------------------------------------------------------------------------------

// The nearest vertex within `tol` of (x, y), else the nearest point of an edge within `tol`:
// {type: "vertex"|"edge", x, y, uid, kind, ring, index | edge, d}, or null. Vertices win over
// edges. Hidden shapes never attract. `skipShapes` (a Set of uids) are ignored; `skipVertices`
// (a Map uid → Set of "ring:index") are vertices that move with the point: they and their edges
// are ignored.
export function snapPoint(index, x, y, tol, { skipShapes = null, skipVertices = null } = {}) {
  let vertex = null, edge = null;
  for (const e of index.near(x, y, tol)) {
    if (e.shape.hidden || (skipShapes && skipShapes.has(e.uid))) continue;
    const moving = skipVertices ? skipVertices.get(e.uid) : null;
    for (const r of e.rings) {
      const n = r.pts.length;
      const still = (i) => !moving || !moving.has(`${r.ring}:${i}`);
      for (let i = 0; i < n; i++) {
        const p = r.pts[i];
        if (!still(i)) continue;
        const d = Math.hypot(x - p[0], y - p[1]);
        if (d <= tol && (!vertex || d < vertex.d)) vertex = { type: "vertex", x: p[0], y: p[1], uid: e.uid, kind: e.kind, ring: r.ring, index: i, d };
      }
      for (let i = 0; i < edgeCount(n, r.closed); i++) {
        const j = (i + 1) % n;
        if (!still(i) || !still(j)) continue;
        const [px, py, t, d] = projectOnSegment(x, y, r.pts[i], r.pts[j]);
        if (d <= tol && t > 0 && t < 1 && (!edge || d < edge.d)) {
          edge = { type: "edge", x: px, y: py, uid: e.uid, kind: e.kind, ring: r.ring, edge: i, a: r.pts[i], b: r.pts[j], d };
        }
      }
    }
  }
  if (vertex) return vertex;
  if (edge) return { ...edge, x: round2(edge.x), y: round2(edge.y) };
  return null;
}

// -- links and welds --------------------------------------------------------------------------

// Every vertex of a polygon or polyline at exactly (x, y): [{uid, ring, index}] (hidden shapes
// included: they share the border all the same). `current(uid)` gives a shape's present version
// when the index is older than the document.
export function linkedVertices(index, x, y, { current = null } = {}) {
  const out = [];
  for (const e of index.near(x, y, 0)) {
    if (!LINK_KINDS.has(e.kind)) continue;
    const shape = current ? current(e.uid) : e.shape;
    if (!shape) continue;
    for (const r of ringsOf(shape)) r.pts.forEach((p, i) => { if (same(p, x, y)) out.push({ uid: e.uid, ring: r.ring, index: i }); });
  }
  return out;
}

// Insert each point [x, y] into the edges of polygons and polylines it lies on (within `eps`)
// whose ring has no vertex there yet, so both shapes share the vertex exactly. Returns the new
// geometries {uid: geometry}. `accept(shape)` refuses shapes (locked, the one being edited);
// `current(uid)` gives a shape's present version (default: the index's).
export function weldPoints(index, points, { eps = WELD_EPS, accept = () => true, current = null } = {}) {
  const out = {};
  for (const [x, y] of points) {
    for (const e of index.near(x, y, eps)) {
      if (!LINK_KINDS.has(e.kind)) continue;
      const shape = current ? current(e.uid) : e.shape;
      if (!shape || !accept(shape)) continue;
      let g = out[e.uid] || shape.geometry;
      for (const r of ringsOf({ kind: e.kind, geometry: g })) {
        if (r.pts.some((p) => Math.hypot(p[0] - x, p[1] - y) <= eps)) continue; // already there (linked)
        const hit = nearestEdgeOfRing(r, x, y, eps);
        if (!hit) continue;
        g = insertVertex(e.kind, g, r.ring, hit.edge, x, y);
        out[e.uid] = g;
      }
    }
  }
  return out;
}
