// The commands that change the document (see state.js). Each is undoable; the ones a drag sends
// many times carry a `mergeKey` so the whole drag is one undo step.

import { roundGeometry } from "./shapes.js";
import { cloneShape, newUid } from "./state.js";

// Add shapes (already carrying uids, or given new ones) at the end, or at `index`.
export function addShapes(shapes, { select = true, name = "add" } = {}) {
  const list = shapes.map((s) => ({ ...s, geometry: roundGeometry(s.kind, s.geometry || {}), uid: s.uid || newUid() }));
  return {
    name,
    do(doc) {
      for (const s of list) doc._insert(cloneShape(s));
      if (select) doc.select(list.map((s) => s.uid));
    },
    undo(doc) {
      for (const s of list) doc._remove(s.uid);
    },
    uids: list.map((s) => s.uid),
  };
}

export const addShape = (shape, opts) => addShapes([shape], opts);

export function removeShapes(uids, { name = "delete" } = {}) {
  let removed = [];
  return {
    name,
    do(doc) {
      removed = [];
      for (const uid of uids) {
        const r = doc._remove(uid);
        if (r) removed.push(r);
      }
    },
    undo(doc) {
      for (const r of [...removed].reverse()) doc._insert(r.shape, r.index);
      doc.select(removed.map((r) => r.shape.uid));
    },
  };
}

// Replace whole shapes by new versions: `after` is {uid: shape}. Used for every edit of
// geometry, label, attributes or order. With a mergeKey, consecutive commands of the same drag
// keep the first `before` and the newest `after`.
export function updateShapes(after, { name = "edit", mergeKey = null } = {}) {
  let before = null;
  const cmd = {
    name,
    mergeKey,
    after,
    do(doc) {
      if (before === null) {
        before = {};
        for (const uid of Object.keys(cmd.after)) {
          const s = doc.byUid(uid);
          if (s) before[uid] = cloneShape(s);
        }
      }
      for (const [uid, s] of Object.entries(cmd.after)) {
        const cur = doc.byUid(uid);
        if (!cur) continue;
        doc._replace(uid, { ...cloneShape(s), uid, hidden: cur.hidden, locked: cur.locked });
      }
    },
    undo(doc) {
      for (const [uid, s] of Object.entries(before || {})) doc._replace(uid, cloneShape(s));
    },
    merge(next) {
      if (next.name !== name || !next.after) return false;
      if (Object.keys(next.after).some((uid) => !(uid in cmd.after))) return false; // a new shape joined
      Object.assign(cmd.after, next.after);
      return true;
    },
  };
  return cmd;
}

// Change one shape with a function of a copy of it: updateShape(doc, uid, (s) => { s.label = "x" }).
export function updateShape(doc, uid, fn, opts = {}) {
  const cur = doc.byUid(uid);
  if (!cur) return null;
  const copy = cloneShape(cur);
  fn(copy);
  return updateShapes({ [uid]: copy }, opts);
}

// Set the geometry of several shapes: geoms = {uid: geometry}.
export function setGeometries(doc, geoms, opts = {}) {
  const after = {};
  for (const [uid, g] of Object.entries(geoms)) {
    const cur = doc.byUid(uid);
    if (cur) after[uid] = { ...cloneShape(cur), geometry: roundGeometry(cur.kind, structuredClone(g)) };
  }
  return updateShapes(after, { name: "geometry", ...opts });
}

// Move shapes in the drawing order: z_order is what the server and the renderer sort by.
export function setZOrder(doc, uids, delta) {
  const after = {};
  for (const uid of uids) {
    const cur = doc.byUid(uid);
    if (cur) after[uid] = { ...cloneShape(cur), z_order: (cur.z_order || 0) + delta };
  }
  return updateShapes(after, { name: delta > 0 ? "raise" : "lower" });
}

// Several commands as one undo step (paste of many shapes, a label change of a selection).
export function batch(commands, { name = "batch" } = {}) {
  const list = commands.filter(Boolean);
  return {
    name,
    do(doc) { for (const c of list) c.do(doc); },
    undo(doc) { for (const c of [...list].reverse()) c.undo(doc); },
  };
}
