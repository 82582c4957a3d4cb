// The workspace: the annotation editor for one asset. The current user edits their own
// annotation; other owners' shapes (people, models) are drawn faded underneath and can be
// taken over from the objects list.
//
// The address carries where it was opened from, as the grid writes it:
//   #/assets/12?project=3&i=57&status=done  (the grid's filters and the position in that list)
// so previous/next walk the same list. Data for the next image is fetched ahead (navigate.js).

import * as api from "../api.js";
import { addShapes, batch, removeShapes, setZOrder, updateShape, updateShapes } from "../commands.js";
import { conflictDialog } from "../dialogs/conflict.js";
import { h, statusText } from "../dom.js";
import { createEditor, defaultAttributes } from "../editor.js";
import { actionFor, hint } from "../keys.js";
import { createNavigator, loadAsset, loadOthers } from "../navigate.js";
import { adjustPanel } from "../panels/adjust.js";
import { assistBar } from "../panels/assist-bar.js";
import { attributesPanel } from "../panels/attributes.js";
import { commentsPanel } from "../panels/comments.js";
import { reviewPanel } from "../panels/review.js";
import { showHelp } from "../panels/help.js";
import { editObjectsPanel } from "../panels/edit-objects.js";
import { labelPicker } from "../panels/picker.js";
import { minimap } from "../panels/minimap.js";
import { tagsPanel } from "../panels/tags.js";
import { createSaver } from "../save.js";
import { toMask, toPolygons } from "../convert-shape.js";
import { cloneShape, toApiShape } from "../state.js";
import { TOOLS } from "../tools/index.js";
import { shapeBounds } from "../render/geometry.js";
import { translateGeometry } from "../shapes.js";

// Shapes copied with Ctrl+C: kept for the session (and in localStorage), so they paste onto the
// next image too.
const CLIP_KEY = "limner:clipboard";
function readClipboard() {
  try {
    return JSON.parse(localStorage.getItem(CLIP_KEY) || "null");
  } catch {
    return null;
  }
}

const isTyping = (t) => t && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName));

export function mount(root, { params, query, app, signal }) {
  const id = Number(params[0]);
  const owner = app.user.username;
  const nav = createNavigator(id, query, signal);
  let editor = null, saver = null, asset = null, project = null;
  const offs = [];
  let pasteCount = 0;
  let clipboard = null;

  app.setCrumbs([{ text: "Projects", href: "#/projects" }, { text: `Asset ${id}` }]);

  // -- layout ------------------------------------------------------------------------------------
  const back = h("a.button.back", { href: "#/projects", title: "Back to the grid" }, "‹ Grid");
  const name = h("span.viewer-name", {}, `Asset ${id}`);
  const status = h("span.status", { id: "asset-status" });
  const commentBadge = h("button.link.comment-badge", { type: "button", id: "comment-badge", hidden: true, title: "Open comments on this image", onclick: () => document.getElementById("comments-panel")?.scrollIntoView({ block: "nearest" }) });
  const saveState = h("span.save-state", { id: "save-state", "data-state": "saved", title: "Changes are saved a moment after you make them" }, "Saved");
  const zoomText = h("span.zoom-text", { id: "zoom-text", title: "zoom" }, "");
  const undoBtn = h("button", { type: "button", id: "undo", disabled: true, title: hint("undo"), "aria-label": "Undo" }, "↶");
  const redoBtn = h("button", { type: "button", id: "redo", disabled: true, title: hint("redo"), "aria-label": "Redo" }, "↷");
  const prev = h("button", { type: "button", id: "asset-prev", disabled: true, title: hint("prev", "Previous image") }, "‹ Prev");
  const next = h("button", { type: "button", id: "asset-next", disabled: true, title: hint("next", "Next image") }, "Next ›");
  const nextTodo = h("button", { type: "button", id: "asset-next-todo", title: hint("next-unfinished") }, "Next to do »");
  const doneBtn = h("button.primary", { type: "button", id: "asset-done", title: hint("done", "Mark done") }, "Done");
  const position = h("span.position", { id: "asset-position" });
  const canvas = h("canvas", { id: "editor-canvas", tabindex: "0" });
  const overlay = h("div.canvas-overlay", {}, "Loading…");
  const statusLine = h("div.status-line", { id: "status-line", role: "status" });
  const canvasWrap = h("div.canvas-wrap", {}, canvas, overlay, statusLine);
  const toolbar = h("div.toolbar", { id: "toolbar", role: "toolbar", "aria-label": "Tools" });
  const side = h("div.workspace-side", { id: "workspace-side" });
  const adjustBtn = h("button", { type: "button", id: "adjust-button", title: "Brightness, contrast and gamma" }, "◐");
  const helpBtn = h("button", { type: "button", id: "help-button", title: hint("help") }, "?");
  const snapBtn = h("button.toggle", { type: "button", id: "snap-button", title: hint("snap", "Snap to other shapes"), "aria-pressed": "true" }, "Snap");

  root.append(
    h("section.viewer-page.workspace-page", {},
      h("div.viewer-bar", {},
        back, name, status, saveState, commentBadge,
        h("span.spacer"),
        undoBtn, redoBtn, h("span.bar-sep"),
        snapBtn, adjustBtn,
        h("button", { type: "button", title: hint("zoom-out"), "aria-label": "Zoom out", onclick: () => editor?.scene.zoom(1 / 1.25) }, "−"),
        zoomText,
        h("button", { type: "button", title: hint("zoom-in"), "aria-label": "Zoom in", onclick: () => editor?.scene.zoom(1.25) }, "+"),
        h("button", { type: "button", title: hint("fit"), onclick: () => editor?.scene.fit() }, "Fit"),
        h("button", { type: "button", title: hint("actual-size"), onclick: () => editor?.scene.zoomTo(1) }, "1:1"),
        h("span.bar-sep"),
        prev, position, next, nextTodo, doneBtn, helpBtn,
      ),
      h("div.viewer-body", {},
        toolbar,
        canvasWrap,
        side,
      ),
    ),
  );

  function setStatusLine(text) {
    statusLine.textContent = text || "";
    statusLine.hidden = !text;
  }
  setStatusLine("");

  // -- actions -----------------------------------------------------------------------------------
  const sel = () => editor.doc.selected();

  function copy() {
    const shapes = sel().map((s) => {
      const { uid, hidden, locked, ...rest } = s;
      return rest;
    });
    if (!shapes.length) return editor.status("Select shapes to copy");
    try {
      localStorage.setItem(CLIP_KEY, JSON.stringify({ asset: id, shapes }));
    } catch {
      /* too large for storage: the paste on this image still works below */
    }
    clipboard = { asset: id, shapes };
    pasteCount = 0;
    editor.status(`${shapes.length} shape${shapes.length > 1 ? "s" : ""} copied`);
  }

  function paste() {
    const clip = clipboard || readClipboard();
    if (!clip || !clip.shapes.length) return editor.status("Nothing to paste: copy shapes first (Ctrl+C)");
    // On the image they came from, each paste lands a little further along; elsewhere in place.
    const off = clip.asset === id ? 10 * ++pasteCount : 0;
    const allowed = new Set(editor.labels.map((l) => l.name));
    const shapes = clip.shapes.filter((s) => allowed.has(s.label)).map((s) => ({
      ...cloneShape(s),
      geometry: translateGeometry(s.kind, s.geometry, off, off),
      source: "manual", confidence: null,
    }));
    if (shapes.length < clip.shapes.length) editor.status(`${clip.shapes.length - shapes.length} copied shapes have labels this project lacks and were left out`);
    if (shapes.length) editor.run(addShapes(shapes, { name: "paste" }));
  }

  function duplicate() {
    const shapes = sel().filter((s) => s.kind !== "tag").map((s) => {
      const { uid, hidden, locked, ...rest } = s;
      return { ...cloneShape(rest), geometry: translateGeometry(s.kind, s.geometry, 10, 10) };
    });
    if (shapes.length) editor.run(addShapes(shapes, { name: "duplicate" }));
  }

  function setLabelOfSelection(labelName) {
    const l = editor.label(labelName);
    const cmds = sel().filter((s) => !s.locked && (!(l.kinds || []).length || l.kinds.includes(s.kind)))
      .map((s) => updateShape(editor.doc, s.uid, (c) => {
        // the new label's attributes: its defaults, and the values of attributes both labels have
        const keep = new Set((l.attributes || []).map((a) => a.name));
        c.attributes = { ...defaultAttributes(l), ...Object.fromEntries(Object.entries(c.attributes || {}).filter(([k]) => keep.has(k))) };
        c.label = labelName;
      }, { name: "label" }));
    if (cmds.length) editor.run(batch(cmds, { name: "label" }));
  }

  function group(on) {
    const list = sel().filter((s) => !s.locked);
    if (!list.length) return;
    const used = editor.doc.shapes.map((s) => s.group_id || 0);
    const gid = on ? Math.max(0, ...used) + 1 : null;
    const after = {};
    for (const s of list) after[s.uid] = { ...cloneShape(s), group_id: gid };
    editor.run(updateShapes(after, { name: on ? "group" : "ungroup" }));
    editor.status(on ? `Grouped ${list.length} shapes as instance ${gid}` : "Ungrouped");
  }

  async function markDone() {
    const approve = ["reviewer", "manager", "owner"].includes(project?.role) || app.user.is_admin;
    try {
      await saver.flush();
      // A reviewer's Done finishes the image; an annotator submits their own annotation, which
      // sends the image to review once enough people have (the project's overlap).
      if (approve) showStatus((asset.status = (await api.patch(`/assets/${id}`, { status: "done" })).status));
      else {
        await api.post(`/assets/${id}/annotations/${encodeURIComponent(owner)}/submit`, {});
        showStatus((asset.status = (await api.get(`/assets/${id}`, null, { signal })).status));
        review?.reload();
      }
      editor.status(approve ? "Marked done" : "Submitted for review");
      const href = await nav.nextUnfinished({ queue: project?.role === "annotator" });
      if (href) app.navigate(href);
    } catch (err) {
      api.report(err);
    }
  }

  async function jump() {
    const q = window.prompt("Go to the image whose name contains:");
    if (!q) return;
    const href = await nav.byName(q).catch((err) => { api.report(err); return null; });
    if (href) app.navigate(href);
    else editor.status(`No image name contains “${q}”`);
  }

  const actions = {
    undo: () => editor.doc.undo(),
    redo: () => editor.doc.redo(),
    copy, paste, duplicate,
    "select-all": () => editor.doc.select(editor.doc.shapes.filter((s) => !s.hidden && s.kind !== "tag").map((s) => s.uid)),
    delete: () => {
      const uids = sel().filter((s) => !s.locked).map((s) => s.uid);
      if (uids.length) editor.run(removeShapes(uids));
    },
    cancel: () => {
      if (!editor.toolObject?.cancel?.()) editor.doc.select([]);
    },
    finish: () => editor.toolObject?.finish?.(),
    group: () => group(true),
    ungroup: () => group(false),
    raise: () => sel().length && editor.run(setZOrder(editor.doc, sel().map((s) => s.uid), 1)),
    lower: () => sel().length && editor.run(setZOrder(editor.doc, sel().map((s) => s.uid), -1)),
    hide: () => {
      const list = sel();
      const hide = list.some((s) => !s.hidden);
      for (const s of list) editor.doc.setFlag(s.uid, "hidden", hide);
    },
    "to-mask": () => editor.run(toMask(editor, editor.doc.selection)),
    "to-polygons": () => editor.run(toPolygons(editor, editor.doc.selection)),
    "show-all": () => { for (const s of editor.doc.shapes) if (s.hidden) editor.doc.setFlag(s.uid, "hidden", false); },
    lock: () => {
      const list = sel();
      const lock = list.some((s) => !s.locked);
      for (const s of list) editor.doc.setFlag(s.uid, "locked", lock);
    },
    snap: () => editor.setSetting("snap", !editor.settings.snap),
    names: () => editor.setSetting("names", !editor.settings.names),
    "label-search": () => picker?.focusSearch(),
    next: () => nav.step(1, app),
    prev: () => nav.step(-1, app),
    "next-unfinished": async () => {
      const href = await nav.nextUnfinished({ queue: project?.role === "annotator" }).catch((err) => { api.report(err); return null; });
      if (href) app.navigate(href);
      else editor.status("Every image of this list is done or in review");
    },
    jump,
    done: markDone,
    save: () => saver.flush().then(() => editor.status("Saved")).catch(api.report),
    fit: () => editor.scene.fit(),
    "fit-selection": () => {
      const b = sel().map((s) => shapeBounds(s)).filter(Boolean);
      if (!b.length) return;
      const x0 = Math.min(...b.map((r) => r[0])), y0 = Math.min(...b.map((r) => r[1]));
      const x1 = Math.max(...b.map((r) => r[2])), y1 = Math.max(...b.map((r) => r[3]));
      editor.scene.fitTo([x0, y0, x1 - x0, y1 - y0]);
    },
    "zoom-in": () => editor.scene.zoom(1.25),
    "zoom-out": () => editor.scene.zoom(1 / 1.25),
    "actual-size": () => editor.scene.zoomTo(1),
    help: () => showHelp(root),
  };

  function perform(action) {
    if (!editor) return false;
    if (action.startsWith("tool:")) {
      editor.setTool(action.slice(5));
      return true;
    }
    if (/^label-\d$/.test(action)) {
      const n = Number(action.slice(6));
      const l = picker?.labelAt(n - 1);
      if (l) {
        editor.setActiveLabel(l.name);
        if (editor.doc.selection.length) setLabelOfSelection(l.name);
      }
      return true;
    }
    const fn = actions[action];
    if (!fn) return false;
    fn();
    return true;
  }

  function onKey(e) {
    if (!editor || isTyping(e.target) || document.querySelector("dialog[open]")) return;
    if (e.key === " " && !e.repeat) {
      editor.scene.setPanKey(true);
      e.preventDefault();
      return;
    }
    if (editor.toolObject?.key?.(e)) {
      e.preventDefault();
      return;
    }
    const action = actionFor(e);
    if (action === "pan") return;
    if (action && perform(action)) e.preventDefault();
  }
  function onKeyUp(e) {
    if (e.key === " " && editor) editor.scene.setPanKey(false);
  }
  function onBeforeUnload(e) {
    if (editor && editor.doc.dirty) {
      saver?.flush().catch(() => {});
      e.preventDefault();
      e.returnValue = "";
    }
  }
  window.addEventListener("keydown", onKey);
  window.addEventListener("keyup", onKeyUp);
  window.addEventListener("beforeunload", onBeforeUnload);

  undoBtn.addEventListener("click", () => perform("undo"));
  redoBtn.addEventListener("click", () => perform("redo"));
  prev.addEventListener("click", () => perform("prev"));
  next.addEventListener("click", () => perform("next"));
  nextTodo.addEventListener("click", () => perform("next-unfinished"));
  doneBtn.addEventListener("click", () => perform("done"));
  helpBtn.addEventListener("click", () => perform("help"));
  snapBtn.addEventListener("click", () => perform("snap"));

  function showStatus(s) {
    status.textContent = statusText(s);
    status.className = `status status-${s}`;
  }

  // -- panels ------------------------------------------------------------------------------------
  let picker = null;
  let assist = null;
  let comments = null;
  let review = null;
  let map = null;

  function buildToolbar() {
    toolbar.replaceChildren(...TOOLS.map((t) => h("button.tool", {
      type: "button", dataset: { tool: t.name }, title: hint(`tool:${t.name}`, t.title), "aria-label": t.title,
      onclick: () => { editor.setTool(t.name); canvas.focus(); },
    }, h("span.tool-icon", {}, t.icon || t.title.slice(0, 2)), t.key ? h("kbd", {}, t.key.toUpperCase()) : null)));
    const mark = ({ name: n }) => {
      for (const b of toolbar.children) b.classList.toggle("active", b.dataset.tool === n);
    };
    offs.push(editor.bus.on("tool", mark));
    mark({ name: editor.tool });
  }

  function buildSide(labels) {
    picker = labelPicker(editor, { onPick: (n) => { if (editor.doc.selection.length) setLabelOfSelection(n); } });
    const attrs = attributesPanel(editor);
    const tags = tagsPanel(editor);
    const objects = editObjectsPanel(editor);
    comments = commentsPanel(editor, {
      assetId: id, user: app.user,
      onCount: (n) => { commentBadge.textContent = n ? `${n} open comment${n > 1 ? "s" : ""}` : ""; commentBadge.hidden = !n; },
    });
    review = reviewPanel(editor, {
      assetId: id, user: app.user, role: project.role,
      onChanged: () => api.get(`/assets/${id}`, null, { signal }).then((a) => showStatus((asset.status = a.status))).catch(api.report),
      reloadOthers: async () => {
        const list = await loadOthers(id, owner, labels, signal);
        editor.setOthers(list);
        return list;
      },
    });
    map = minimap(editor);
    side.replaceChildren(map.el, picker.el, attrs.el, tags.el, review.el, comments.el, objects.el);
    offs.push(() => { map.destroy(); picker.destroy(); attrs.destroy(); tags.destroy(); objects.destroy(); comments.destroy(); review.destroy(); });
  }

  adjustBtn.addEventListener("click", () => editor && adjustPanel(editor, adjustBtn, () => map?.refresh()));

  // -- loading -----------------------------------------------------------------------------------
  async function load() {
    try {
      const data = await loadAsset(id, owner, signal);
      if (signal.aborted) return;
      asset = data.asset;
      project = data.project;
      nav.setProject(asset.project_id);
      name.textContent = asset.name;
      name.title = asset.name;
      showStatus(asset.status);
      back.href = nav.backHref();
      app.setCrumbs([
        { text: "Projects", href: "#/projects" },
        { text: project.name, href: back.href },
        { text: asset.name },
      ]);
      const readOnly = !project.role || project.role === "viewer";
      const services = {
        assist: (tool, prompt, tolerance) => api.post(`/assets/${id}/assist/${encodeURIComponent(tool)}`, { prompt, tolerance }, { signal }),
        assistTool: () => assist?.tool() || "",
        assistWholeImage: () => !!assist?.wholeImage(),
        comment: (region) => comments?.startNew(region),
      };
      // the document takes the fetched shapes over (a restored backup's conflict compares copies)
      const theirs = { ...data.mine, shapes: data.mine.shapes.map((x) => x) };
      editor = createEditor(canvas, { labels: data.labels, shapes: data.mine.shapes, readOnly, others: data.others, services, owned: true });
      editor.scene.setImage(data.image, asset.width, asset.height);
      canvas.dataset.owner = owner;
      canvas.dataset.revision = String(data.mine.revision);
      editor.setTool("select");
      saver = createSaver({
        assetId: id, owner, doc: editor.doc, revision: data.mine.revision,
        onConflict: (v) => conflictDialog(root, editor, v),
        onSaved: (ann) => {
          canvas.dataset.revision = String(ann.revision);
          if (asset.status === "new") showStatus((asset.status = "in_progress"));
        },
      });
      offs.push(editor.bus.on("save", ({ state, detail }) => {
        saveState.dataset.state = state;
        saveState.textContent = { saved: "Saved", dirty: "Unsaved", saving: "Saving…", offline: "Offline", conflict: "Conflict", error: "Not saved" }[state];
        saveState.title = detail || saveState.title;
        if (state === "offline" || state === "error") setStatusLine(detail);
      }));
      offs.push(editor.bus.on("history", ({ canUndo, canRedo }) => { undoBtn.disabled = !canUndo; redoBtn.disabled = !canRedo; }));
      offs.push(editor.bus.on("view", (v) => { zoomText.textContent = `${Math.round(v.scale * 100)}%`; }));
      offs.push(editor.bus.on("setting", ({ name: n, value }) => {
        if (n === "snap") {
          snapBtn.setAttribute("aria-pressed", String(!!value));
          editor.status(value ? "Snapping on" : "Snapping off");
        }
      }));
      let statusTimer = 0;
      offs.push(editor.bus.on("status", ({ text }) => {
        setStatusLine(text);
        clearTimeout(statusTimer);
        statusTimer = setTimeout(() => setStatusLine(""), 4000);
      }));
      zoomText.textContent = `${Math.round(editor.scene.view.scale * 100)}%`;
      buildToolbar();
      overlay.hidden = true;
      canvas.dataset.asset = String(id);
      // The image and its shapes first; the side panels in the task after that frame.
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      if (signal.aborted) return;
      buildSide(data.labels);
      assist = assistBar(editor, {
        listTools: () => api.get("/assist/tools", { project_id: asset.project_id }, { signal }),
        precompute: (tool) => api.post(`/assets/${id}/assist/${encodeURIComponent(tool)}/precompute`, {}, { signal }),
        keep: (tool, body) => api.post(`/assets/${id}/assist/${encodeURIComponent(tool)}/keep`, body, { signal }),
      });
      canvasWrap.append(assist.el);
      offs.push(() => assist.destroy());
      canvas.dataset.loaded = "1";
      canvas.focus();

      // Opened from a finding of the checks: select the shape it names and show it.
      const wanted = query.get("shape");
      if (wanted !== null && /^\d+$/.test(wanted) && editor.doc.shapes[Number(wanted)]) {
        const s = editor.doc.shapes[Number(wanted)];
        editor.doc.select([s.uid]);
        const b = shapeBounds(s);
        if (b) editor.scene.fitTo([b[0], b[1], b[2] - b[0], b[3] - b[1]], 0.6);
      }

      // Work left unsaved by an earlier visit (a closed tab, a lost connection).
      const b = saver.pendingBackup();
      if (b && !readOnly) {
        if (b.base_revision === data.mine.revision) {
          editor.run(batch([removeShapes(editor.doc.shapes.map((s) => s.uid)), addShapes(b.shapes, { select: false })], { name: "restore" }));
          editor.status("Restored changes that were not saved last time");
        } else {
          saver.dropBackup();
          const choice = await conflictDialog(root, editor, { mine: b.shapes, theirs: { ...theirs, shapes: theirs.shapes.map(toApiShape) }, restored: true });
          if (choice.action !== "theirs") saver.flush().catch(api.report);
        }
      }

      // Drawn from a prefetch: if the annotations changed meanwhile, take the fresh ones (before
      // the person's first edit; after it, their save meets the conflict dialog, which loses nothing).
      data.stale.then(async (stale) => {
        if (!stale || signal.aborted) return;
        const fresh = await loadAsset(id, owner, signal);
        if (signal.aborted) return;
        editor.setOthers(fresh.others);
        if (!editor.doc.dirty && !editor.doc.canUndo) {
          editor.doc.reset(fresh.mine.shapes);
          saver.rebase(fresh.mine.revision);
          canvas.dataset.revision = String(fresh.mine.revision);
        }
      }).catch(api.report);

      await nav.ready;
      prev.disabled = !nav.prevHref;
      next.disabled = !nav.nextHref;
      position.textContent = nav.positionText;
      nav.prefetchNext(owner);
    } catch (err) {
      if (signal.aborted) return;
      overlay.textContent = api.message(err);
      overlay.classList.add("error");
      api.report(err);
    }
  }

  load();

  return {
    unmount() {
      window.removeEventListener("keydown", onKey);
      window.removeEventListener("keyup", onKeyUp);
      window.removeEventListener("beforeunload", onBeforeUnload);
      for (const off of offs) off();
      if (saver) {
        const s = saver;
        s.flush().catch(api.report).finally(() => s.destroy());
      }
      editor?.destroy();
    },
  };
}

