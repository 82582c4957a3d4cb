// Saving the document: autosave a moment after each change, at once on `flush()` (navigation,
// Ctrl+S), a 409 handed to `onConflict` (the workspace shows both versions), and a lost
// connection queued and retried. Unsaved work is also kept in localStorage until the server has
// it, so a closed tab or a crash loses nothing; `restore()` offers it back when the asset opens.
//
// States (bus "save" {state, detail}): saved, dirty, saving, offline (retrying), conflict, error.

import * as api from "./api.js";

const BACKUP = (assetId, owner) => `limner:unsaved:${assetId}:${owner}`;
const RETRY_MS = [1000, 2000, 4000, 8000, 15000, 30000];

export function readBackup(assetId, owner) {
  try {
    const raw = localStorage.getItem(BACKUP(assetId, owner));
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

export function createSaver({ assetId, owner, doc, revision, delay = 800, onConflict, onSaved = () => {} }) {
  let state = "saved";
  let timer = 0;
  let inflight = null; // the promise of the PUT under way
  let retry = 0;
  let destroyed = false;
  let waiters = [];

  function set(next, detail = "") {
    state = next;
    doc.bus.emit("save", { state, detail });
  }

  function backup() {
    try {
      localStorage.setItem(BACKUP(assetId, owner), JSON.stringify({ base_revision: revision, shapes: doc.apiShapes(), at: Date.now() }));
    } catch {
      /* storage full or disabled: the server copy is the only one */
    }
  }

  function dropBackup() {
    try {
      localStorage.removeItem(BACKUP(assetId, owner));
    } catch {
      /* nothing to drop */
    }
  }

  function schedule(ms = delay) {
    clearTimeout(timer);
    timer = setTimeout(() => { timer = 0; save(); }, ms);
  }

  const offDirty = doc.bus.on("dirty", (dirty) => {
    if (destroyed || !dirty) return;
    backup();
    if (state !== "offline" && state !== "conflict") set("dirty");
    if (state !== "conflict") schedule(state === "offline" ? RETRY_MS[Math.min(retry, RETRY_MS.length - 1)] : delay);
  });

  function online() {
    if (state === "offline") schedule(0);
  }
  window.addEventListener("online", online);

  async function put(base, shapes) {
    return api.request("PUT", `/assets/${assetId}/annotations/${encodeURIComponent(owner)}`, { body: { base_revision: base, shapes } });
  }

  async function save() {
    if (destroyed) return;
    if (inflight) {
      await inflight.catch(() => {});
      if (!doc.dirty) return settle();
    }
    if (!doc.dirty) return settle();
    clearTimeout(timer);
    timer = 0;
    const version = doc.version;
    const shapes = doc.apiShapes();
    set("saving");
    inflight = put(revision, shapes);
    try {
      const ann = await inflight;
      revision = ann.revision;
      retry = 0;
      doc.markSaved(version);
      onSaved(ann);
      if (doc.dirty) {
        backup();
        set("dirty");
        schedule();
      } else {
        dropBackup();
        set("saved");
        settle();
      }
    } catch (err) {
      if (err instanceof api.ApiError && err.status === 409) {
        set("conflict", api.message(err));
        await resolveConflict();
      } else if (err instanceof api.ApiError && (err.status === 0 || err.status >= 500 || err.status === 429)) {
        const wait = RETRY_MS[Math.min(retry, RETRY_MS.length - 1)];
        retry++;
        set("offline", `${api.message(err)} — retrying in ${Math.round(wait / 1000)} s; your changes are kept`);
        schedule(wait);
      } else {
        set("error", api.message(err));
        settle(err);
      }
    } finally {
      inflight = null;
    }
  }

  // Someone else saved first: show both and never lose this person's work.
  async function resolveConflict() {
    let theirs;
    try {
      theirs = await api.get(`/assets/${assetId}/annotations/${encodeURIComponent(owner)}`);
    } catch (err) {
      set("offline", api.message(err));
      schedule(RETRY_MS[0]);
      return;
    }
    const choice = await onConflict({ mine: doc.apiShapes(), theirs });
    revision = theirs.revision;
    if (choice.action === "theirs") {
      doc.reset(theirs.shapes);
      dropBackup();
      set("saved");
      settle();
      return;
    }
    // "mine" (keep mine over theirs) or "both" (the dialog already put the union in the document)
    set("dirty");
    backup();
    await save();
  }

  function settle(err) {
    const list = waiters;
    waiters = [];
    for (const w of list) (err ? w.reject(err) : w.resolve());
  }

  return {
    get state() { return state; },
    get revision() { return revision; },
    // Save now; resolves once the server has everything (or rejects with the error).
    flush() {
      if (!doc.dirty && !inflight) return Promise.resolve();
      const p = new Promise((resolve, reject) => waiters.push({ resolve, reject }));
      if (state !== "conflict") save();
      return p;
    },
    // A backup left by an earlier visit, if it holds work the server does not have.
    pendingBackup() {
      const b = readBackup(assetId, owner);
      return b && Array.isArray(b.shapes) ? b : null;
    },
    dropBackup,
    // The document was reloaded from the server at this revision.
    rebase(rev) {
      revision = rev;
    },
    destroy() {
      destroyed = true;
      clearTimeout(timer);
      offDirty();
      window.removeEventListener("online", online);
    },
  };
}
