// The document being edited: one owner's shapes on one asset, the selection, and the command
// stack that makes every change undoable.
//
// Every change goes through `doc.execute(command)`. A command is a plain object
//   { name, do(doc), undo(doc), merge?(next) -> bool }
// `do`/`undo` change `doc.shapes` through the low-level methods below and nothing else. When a
// command arrives with the same `mergeKey` as the last one (one drag sends many), the last one's
// `merge(next)` absorbs it, so one drag is one undo step. commands.js builds the commands.
//
// Shapes are the API's shape objects plus a client id `uid` (the API has no shape ids: an
// annotation's shapes are replaced as a whole on save) and client-only view flags `hidden` and
// `locked`, which are never sent.
//
// Events on doc.bus (name → payload):
//   changed    {uids: Set|null}   shapes were added, removed or edited (null: anything)
//   selection  [uid, ...]         the selection changed
//   history    {canUndo, canRedo} the undo stack changed
//   dirty      bool               unsaved changes appeared / were saved

import { createBus } from "./bus.js";

let nextUid = 1;
export const newUid = () => `s${nextUid++}`;

const VIEW_FLAGS = ["uid", "hidden", "locked"];

// A deep copy of a shape (geometry included) without touching its uid.
export function cloneShape(shape) {
  return structuredClone(shape);
}

// The shape as the API stores it: no client fields.
export function toApiShape(shape) {
  const out = {};
  for (const [k, v] of Object.entries(shape)) if (!VIEW_FLAGS.includes(k)) out[k] = v;
  return out;
}

// `owned`: the caller hands the shape objects over (fresh from the network), so they are not
// copied (a copy of 1,000 shapes costs ~10 ms on the way to the first frame).
export function createDocument(apiShapes = [], { limit = 500, owned = false } = {}) {
  const bus = createBus();
  const undoStack = [];
  const redoStack = [];
  let lastMergeKey = null;
  let selection = [];
  let version = 0; // bumps on every change; the saver compares it with what it saved
  let savedVersion = 0;

  const doc = {
    bus,
    shapes: owned ? apiShapes.map((s) => Object.assign(s, { uid: newUid() })) : apiShapes.map((s) => ({ ...cloneShape(s), uid: newUid() })),

    // -- reading ---------------------------------------------------------------------------------
    get version() { return version; },
    get dirty() { return version !== savedVersion; },
    get selection() { return selection; },
    get canUndo() { return undoStack.length > 0; },
    get canRedo() { return redoStack.length > 0; },
    byUid(uid) { return doc.shapes.find((s) => s.uid === uid) || null; },
    indexOf(uid) { return doc.shapes.findIndex((s) => s.uid === uid); },
    selected() { return selection.map((u) => doc.byUid(u)).filter(Boolean); },
    apiShapes() { return doc.shapes.map(toApiShape); },

    // -- commands --------------------------------------------------------------------------------
    execute(cmd) {
      const last = undoStack[undoStack.length - 1];
      if (cmd.mergeKey && last && lastMergeKey === cmd.mergeKey && last.merge && last.merge(cmd)) {
        cmd.do(doc); // apply the new step; the merged command undoes to the first step's start
      } else {
        cmd.do(doc);
        undoStack.push(cmd);
        if (undoStack.length > limit) undoStack.shift();
      }
      lastMergeKey = cmd.mergeKey || null;
      redoStack.length = 0;
      touched();
    },
    // A new command never merges into the one before (a drag ended).
    seal() { lastMergeKey = null; },
    undo() {
      const cmd = undoStack.pop();
      if (!cmd) return false;
      cmd.undo(doc);
      redoStack.push(cmd);
      lastMergeKey = null;
      touched();
      return true;
    },
    redo() {
      const cmd = redoStack.pop();
      if (!cmd) return false;
      cmd.do(doc);
      undoStack.push(cmd);
      lastMergeKey = null;
      touched();
      return true;
    },

    // -- low-level edits (for commands only) -----------------------------------------------------
    _insert(shape, index = doc.shapes.length) {
      doc.shapes.splice(index, 0, shape);
      changed([shape.uid]);
    },
    _remove(uid) {
      const i = doc.indexOf(uid);
      if (i < 0) return null;
      const [s] = doc.shapes.splice(i, 1);
      changed([uid]);
      if (selection.includes(uid)) doc.select(selection.filter((u) => u !== uid));
      return { shape: s, index: i };
    },
    _replace(uid, shape) {
      const i = doc.indexOf(uid);
      if (i < 0) return;
      doc.shapes[i] = shape;
      changed([uid]);
    },
    _setAll(shapes) {
      doc.shapes = shapes;
      changed(null);
    },

    // -- selection (not an undoable change) ------------------------------------------------------
    select(uids) {
      const next = [...new Set(uids)].filter((u) => doc.byUid(u));
      if (next.length === selection.length && next.every((u, i) => u === selection[i])) return;
      selection = next;
      bus.emit("selection", selection);
    },

    // -- view flags (not undoable, not saved) ----------------------------------------------------
    setFlag(uid, flag, value) {
      const s = doc.byUid(uid);
      if (!s || !!s[flag] === !!value) return;
      s[flag] = !!value;
      bus.emit("changed", { uids: new Set([uid]), flagOnly: true });
    },

    // -- saving ----------------------------------------------------------------------------------
    markSaved(atVersion) {
      savedVersion = atVersion;
      bus.emit("dirty", doc.dirty);
    },
    // Replace everything (a reload, or taking the server's version): clears the history.
    reset(apiShapes) {
      doc.shapes = apiShapes.map((s) => ({ ...cloneShape(s), uid: newUid() }));
      undoStack.length = 0;
      redoStack.length = 0;
      lastMergeKey = null;
      selection = [];
      version++;
      savedVersion = version;
      bus.emit("selection", selection);
      bus.emit("changed", { uids: null });
      bus.emit("history", { canUndo: false, canRedo: false });
      bus.emit("dirty", false);
    },
  };

  let pending; // undefined: nothing yet; null: anything; a Set: these uids
  function changed(uids) {
    if (uids === null) pending = null;
    else if (pending === undefined) pending = new Set(uids);
    else if (pending !== null) for (const u of uids) pending.add(u);
  }

  function touched() {
    version++;
    const uids = pending === undefined ? new Set() : pending;
    pending = undefined;
    bus.emit("changed", { uids });
    bus.emit("history", { canUndo: doc.canUndo, canRedo: doc.canRedo });
    bus.emit("dirty", doc.dirty);
  }

  return doc;
}
