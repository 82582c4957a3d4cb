// Vertex editing for the select tool: the handles of a selected polygon (outline and holes),
// polyline, points or skeleton.
//   drag a vertex            move it; a vertex shared with other polygons or polylines (same
//                            coordinates: linked) moves in every shape that shares it, in one step
//   Alt + drag a vertex      break the link: only this shape's vertex moves
//   click or drag an edge    insert a vertex there (also into a neighbour sharing that edge)
//   Alt + click a vertex     delete it, in every unlocked shape sharing it, never below the
//                            kind's minimum (3 for polygons, 2 for polylines)
// With snapping on (editor.settings.snap, key S) a dragged vertex snaps to the vertices and edges
// of other shapes; dropped on an edge it is inserted into that edge too, so both share it.
// A vertex shared with a locked shape does not move (the drag is refused with a status message);
// Alt + drag still moves the unlocked shape's own vertex.
// Skeleton keypoints are dragged here; Alt on a keypoint is left to the other plug-ins.

import { toScreen } from "../../render/geometry.js";
import { cloneShape } from "../../state.js";
import {
  LINK_KINDS, MIN_VERTICES, createSnapIndex, insertVertex, linkedVertices, moveVertex, nearestEdge,
  nearestVertex, removeVertex, snapPoint, weldPoints,
} from "../../snap.js";

const KINDS = new Set(["polygon", "polyline", "points", "skeleton"]);
export const HANDLE_PX = 7; // grab a vertex this close (screen pixels)
export const EDGE_PX = 5; // insert on an edge this close
export const SNAP_PX = 8; // snap to another shape this close
const DRAG_PX = 3; // a press that moves less is a click

const round2 = (v) => Math.round(v * 100) / 100;
const isAbsent = (p) => p.length > 2 && !p[2]; // a skeleton keypoint that is not labelled
let serial = 0;

// What the overlay shows during a drag (the snap target, the linked vertices), by editor.
const live = new WeakMap();
// A snap index per editor, kept up to date with the document: the shapes changed since it was
// built are patched in (a drag changes one or a few shapes per frame), and it is rebuilt when
// they become many or everything changed (an undo of a paste, a reload).
const cached = new WeakMap();
const REBUILD_AFTER = 256; // patched shapes

export function snapIndexOf(editor) {
  const { doc } = editor;
  let c = cached.get(editor);
  if (!c) {
    c = { index: null, version: -1, changed: new Set(), all: true };
    doc.bus.on("changed", ({ uids }) => {
      if (!uids) c.all = true;
      else for (const u of uids) c.changed.add(u);
    });
    cached.set(editor, c);
  }
  if (c.index && c.version === doc.version) return c.index;
  if (!c.index || c.all || c.changed.size + c.index.changes > REBUILD_AFTER) c.index = createSnapIndex(doc.shapes);
  else for (const u of c.changed) c.index.update(u, doc.byUid(u));
  c.changed.clear();
  c.all = false;
  c.version = doc.version;
  return c.index;
}

// Set the geometry of shapes, `geoms` = {uid: geometry}. Commands of one drag share a mergeKey
// and merge into the first, shapes that join later included (a weld at the drop), so the whole
// drag is one undo step.
export function editGeometries(doc, geoms, { name = "edit vertices", mergeKey = null } = {}) {
  const before = {};
  const cmd = {
    name,
    mergeKey,
    after: geoms,
    sink: null, // the `before` of the command this one merged into
    do(d) {
      const into = cmd.sink || before;
      for (const [uid, g] of Object.entries(cmd.after)) {
        const cur = d.byUid(uid);
        if (!cur) continue;
        if (!(uid in into)) into[uid] = cloneShape(cur);
        d._replace(uid, { ...cloneShape(cur), geometry: structuredClone(g) });
      }
    },
    undo(d) {
      for (const [uid, s] of Object.entries(before)) d._replace(uid, cloneShape(s));
    },
    merge(next) {
      if (next.name !== name || !next.after || next.mergeKey !== mergeKey) return false;
      next.sink = before;
      Object.assign(cmd.after, next.after);
      return true;
    },
  };
  return cmd;
}

function handleAccept(shape) {
  return shape.kind === "skeleton" ? (p) => !isAbsent(p) : () => true;
}

function clampToImage(editor, x, y) {
  const { imageWidth: w, imageHeight: h } = editor.scene.size;
  return w > 0 && h > 0 ? [Math.min(Math.max(x, 0), w), Math.min(Math.max(y, 0), h)] : [x, y];
}

// A drag that swallows the pointer and changes nothing (a refused drag).
const inert = { move: () => null, up: () => null, cursor: "not-allowed" };

// The drag of vertex `v` ({ring, index, x, y}) of `shape`. `links`: the other vertices that move
// with it. `name`/`key` continue the command of an edge insertion.
function vertexDrag(editor, shape, v, ev, { links = [], alt = false, name = "move vertex", key = null, index = null } = {}) {
  const { doc } = editor;
  const uid = shape.uid;
  const mergeKey = key || `vertex-${++serial}`;
  // Alt breaks the link: only this shape's vertex moves (the links are kept for a delete)
  const movers = [{ uid, ring: v.ring, index: v.index }, ...(alt ? [] : links)];
  const skipVertices = new Map();
  for (const m of movers) {
    if (!skipVertices.has(m.uid)) skipVertices.set(m.uid, new Set());
    skipVertices.get(m.uid).add(`${m.ring}:${m.index}`);
  }
  const skipShapes = new Set([uid]);
  const snapIndex = index || snapIndexOf(editor);
  const from = [ev.x, ev.y], fromScreen = [ev.sx, ev.sy];
  let moved = false;
  let snap = null;
  const state = { uid, snap: null, movers };
  live.set(editor, state);

  function geometriesAt(x, y) {
    const out = {};
    for (const m of movers) {
      const s = doc.byUid(m.uid);
      if (!s) continue;
      out[m.uid] = moveVertex(s.kind, out[m.uid] || s.geometry, m.ring, m.index, x, y);
    }
    return out;
  }

  return {
    cursor: "move",
    move(e) {
      if (!moved && Math.hypot(e.sx - fromScreen[0], e.sy - fromScreen[1]) < DRAG_PX) return null;
      moved = true;
      let [x, y] = clampToImage(editor, v.x + e.x - from[0], v.y + e.y - from[1]);
      snap = editor.settings.snap ? snapPoint(snapIndex, x, y, editor.tol(SNAP_PX), { skipShapes, skipVertices }) : null;
      if (snap) [x, y] = [snap.x, snap.y];
      else [x, y] = [round2(x), round2(y)];
      state.snap = snap;
      return editGeometries(doc, geometriesAt(x, y), { name, mergeKey });
    },
    up() {
      if (live.get(editor) === state) live.delete(editor);
      editor.invalidate();
      if (!moved) return alt ? deleteVertex(editor, shape, v, links) : null;
      if (!snap || snap.type !== "edge" || !LINK_KINDS.has(shape.kind)) return null;
      const moving = new Set(movers.map((m) => m.uid));
      const welds = weldPoints(snapIndex, [[snap.x, snap.y]], {
        current: (u) => doc.byUid(u),
        accept: (s) => !s.locked && !moving.has(s.uid),
      });
      return Object.keys(welds).length ? editGeometries(doc, welds, { name, mergeKey }) : null;
    },
  };
}

// Delete vertex `v` of `shape` and its linked copies in unlocked shapes (each keeps its minimum).
function deleteVertex(editor, shape, v, links) {
  const { doc } = editor;
  const own = removeVertex(shape.kind, shape.geometry, v.ring, v.index);
  if (!own) {
    editor.status(`A ${shape.kind}${v.ring ? " hole" : ""} keeps at least ${MIN_VERTICES[shape.kind]} vertices`);
    return null;
  }
  const geoms = { [shape.uid]: own };
  // the same vertex elsewhere, highest index first so earlier indices stay valid
  for (const l of [...links].sort((a, b) => b.index - a.index)) {
    const s = doc.byUid(l.uid);
    if (!s || s.locked || l.uid === shape.uid) continue;
    const g = removeVertex(s.kind, geoms[l.uid] || s.geometry, l.ring, l.index);
    if (g) geoms[l.uid] = g;
  }
  return editGeometries(doc, geoms, { name: "delete vertex" });
}

function grabVertex(editor, shape, v, ev) {
  const { doc } = editor;
  const index = snapIndexOf(editor);
  let links = [];
  if (LINK_KINDS.has(shape.kind)) {
    links = linkedVertices(index, v.x, v.y, { current: (u) => doc.byUid(u) })
      .filter((l) => !(l.uid === shape.uid && l.ring === v.ring && l.index === v.index));
  }
  if (ev.alt) return vertexDrag(editor, shape, v, ev, { alt: true, links, index });
  const locked = links.filter((l) => doc.byUid(l.uid)?.locked);
  if (locked.length) {
    editor.status("This vertex is shared with a locked shape, so it stays; unlock that shape, or Alt+drag to move this shape's vertex alone");
    return inert;
  }
  return vertexDrag(editor, shape, v, ev, { links, index });
}

// Insert a vertex where the press is on an edge (and into unlocked neighbours sharing that
// edge), then drag it: one undo step.
function grabEdge(editor, shape, hit, ev) {
  const { doc } = editor;
  const index = snapIndexOf(editor);
  const [x, y] = [round2(hit.x), round2(hit.y)];
  const name = "insert vertex";
  const key = `vertex-${++serial}`;
  const geoms = { [shape.uid]: insertVertex(shape.kind, shape.geometry, hit.ring, hit.edge, x, y) };
  const welds = weldPoints(index, [[x, y]], {
    current: (u) => doc.byUid(u),
    accept: (s) => s.uid !== shape.uid && !s.locked,
  });
  Object.assign(geoms, welds);
  editor.run(editGeometries(doc, geoms, { name, mergeKey: key }));
  const cur = doc.byUid(shape.uid);
  const v = { ring: hit.ring, index: hit.edge + 1, x, y };
  const fresh = snapIndexOf(editor); // with the inserted vertex, so its new edges are skipped
  const links = linkedVertices(fresh, x, y).filter((l) => l.uid !== shape.uid);
  return vertexDrag(editor, cur, v, ev, { links, name, key, index: fresh });
}

export const plugin = {
  name: "vertices",
  grab(editor, shape, ev) {
    if (!KINDS.has(shape.kind)) return null;
    const v = nearestVertex(shape, ev.x, ev.y, editor.tol(HANDLE_PX), handleAccept(shape));
    if (v) {
      if (ev.alt && shape.kind === "skeleton") return null;
      return grabVertex(editor, shape, v, ev);
    }
    if (ev.alt || !LINK_KINDS.has(shape.kind)) return null;
    const e = nearestEdge(shape, ev.x, ev.y, editor.tol(EDGE_PX));
    return e ? grabEdge(editor, shape, e, ev) : null;
  },
  hover(editor, shape, ev) {
    if (!KINDS.has(shape.kind)) return null;
    if (nearestVertex(shape, ev.x, ev.y, editor.tol(HANDLE_PX), handleAccept(shape))) {
      return ev.alt && shape.kind !== "skeleton" ? "pointer" : "move";
    }
    if (!ev.alt && LINK_KINDS.has(shape.kind) && nearestEdge(shape, ev.x, ev.y, editor.tol(EDGE_PX))) return "copy";
    return null;
  },
  overlay(ctx, view, shape, editor) {
    if (!KINDS.has(shape.kind)) return;
    const drag = live.get(editor);
    let linked = null;
    if (LINK_KINDS.has(shape.kind) && (!drag || drag.uid !== shape.uid)) {
      const index = snapIndexOf(editor);
      linked = (p) => linkedVertices(index, p[0], p[1]).some((l) => l.uid !== shape.uid);
    }
    const accept = handleAccept(shape);
    for (const r of [shape.geometry.points || [], ...(shape.kind === "polygon" ? shape.geometry.holes || [] : [])]) {
      for (const p of r) {
        if (!accept(p)) continue;
        const [sx, sy] = toScreen(view, p[0], p[1]);
        drawHandle(ctx, sx, sy, linked ? linked(p) : false);
      }
    }
    if (drag && drag.uid === shape.uid && drag.snap) drawSnapTarget(ctx, view, drag.snap);
  },
};

// A square vertex handle; a shared (linked) vertex is drawn as a yellow diamond.
export function drawHandle(ctx, sx, sy, shared = false) {
  ctx.lineWidth = 1;
  ctx.strokeStyle = "rgba(0,0,0,0.85)";
  if (shared) {
    ctx.fillStyle = "#ffd400";
    ctx.beginPath();
    ctx.moveTo(sx, sy - 5.5);
    ctx.lineTo(sx + 5.5, sy);
    ctx.lineTo(sx, sy + 5.5);
    ctx.lineTo(sx - 5.5, sy);
    ctx.closePath();
    ctx.fill();
    ctx.stroke();
    return;
  }
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(sx - 3.5, sy - 3.5, 7, 7);
  ctx.strokeRect(sx - 3.5, sy - 3.5, 7, 7);
}

// Where a point snaps: a ring around a vertex, or the edge lit with a diamond on it.
export function drawSnapTarget(ctx, view, snap) {
  const [sx, sy] = toScreen(view, snap.x, snap.y);
  ctx.save();
  ctx.strokeStyle = "#ff2bd6";
  ctx.fillStyle = "#ff2bd6";
  if (snap.type === "edge" && snap.a && snap.b) {
    const [ax, ay] = toScreen(view, snap.a[0], snap.a[1]);
    const [bx, by] = toScreen(view, snap.b[0], snap.b[1]);
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.moveTo(ax, ay);
    ctx.lineTo(bx, by);
    ctx.stroke();
    ctx.beginPath();
    ctx.moveTo(sx, sy - 6);
    ctx.lineTo(sx + 6, sy);
    ctx.lineTo(sx, sy + 6);
    ctx.lineTo(sx - 6, sy);
    ctx.closePath();
    ctx.fill();
  } else {
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(sx, sy, 8, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.beginPath();
    ctx.arc(sx, sy, 2.5, 0, 2 * Math.PI);
    ctx.fill();
  }
  ctx.restore();
}
