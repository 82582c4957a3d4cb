// The project page: the asset grid (filters, paging, upload of files and folders by the pickers
// or drag-and-drop), the Export and Import dialogs, the recent jobs, the labels (with the schema
// editor) and the members.
//
// The filters and the page offset live in the address (#/projects/3?status=done&offset=100), so
// back and forward work and the workspace learns where it came from. Only one page of assets
// (PAGE = 100) is ever loaded. Next and Prev ask for the page after the last id shown / before the
// first one (keyset paging: as fast on page 1,000 as on page 1); an address opened directly pages
// by offset. `?schema=new` (or a label's name) opens the schema editor, as after creating a project.

import * as api from "../api.js";
import { fmt, h, statusText } from "../dom.js";
import { openExportDialog } from "../dialogs/export.js";
import { openImportDialog } from "../dialogs/import.js";
import { droppedItems, pickedItems, startUpload } from "../dialogs/upload.js";
import { checksPanel } from "../panels/checks.js";
import { jobsPanel } from "../panels/jobs.js";
import { labelsPanel } from "../panels/labels.js";
import { atLeast, membersPanel } from "../panels/members.js";
import { openSchemaEditor } from "../panels/schema.js";

export const PAGE = 100;
export const STATUSES = ["new", "in_progress", "review", "done"];
const FILTERS = ["status", "label", "name"];

// The query string of the grid's place: filters and offset (empty values left out).
export function gridQuery(filters, extra = {}) {
  const q = new URLSearchParams();
  for (const k of FILTERS) if (filters[k]) q.set(k, filters[k]);
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}

function readQuery(query) {
  const offset = Math.max(0, parseInt(query.get("offset") || "0", 10) || 0);
  return {
    status: query.get("status") || "",
    label: query.get("label") || "",
    name: query.get("name") || "",
    offset: offset - (offset % PAGE),
  };
}

const sameFilters = (a, b) => FILTERS.every((k) => a[k] === b[k]);
const plural = (n, one, many = `${one}s`) => `${fmt.format(n)} ${n === 1 ? one : many}`;

export function mount(root, { params, query, app, signal }) {
  const pid = Number(params[0]);
  let filters = readQuery(query);
  let project = null;
  let labels = [];
  let canUpload = false;
  let loadAbort = null;
  let shown = null; // the page on screen: {filters, ids} (for keyset paging)
  let cursor = null; // how the next load finds its page: {offset, after} or {offset, before}
  let schema = null; // the open schema editor

  app.setCrumbs([{ text: "Projects", href: "#/projects" }, { text: `Project ${pid}` }]);

  // -- elements -------------------------------------------------------------------------------
  const title = h("h1", {}, `Project ${pid}`);
  const roleBadge = h("span.role-badge");
  const desc = h("p.project-desc");
  const stats = h("div.project-stats");
  const statusSelect = h("select", { id: "filter-status", "aria-label": "Status" },
    h("option", { value: "" }, "All statuses"),
    STATUSES.map((s) => h("option", { value: s }, statusText(s))),
  );
  const labelSelect = h("select", { id: "filter-label", "aria-label": "Label" }, h("option", { value: "" }, "Any label"));
  const search = h("input", { id: "filter-name", type: "search", placeholder: "Search names", "aria-label": "Search names", autocomplete: "off" });
  const fileInput = h("input", { id: "upload-input", type: "file", multiple: true, accept: "image/*,.zip", hidden: true });
  const folderInput = h("input", { id: "upload-folder-input", type: "file", multiple: true, webkitdirectory: true, hidden: true });
  const uploadButton = h("button.primary", { type: "button", id: "upload-button", hidden: true, onclick: () => fileInput.click() }, "Upload images");
  const folderButton = h("button", { type: "button", id: "upload-folder-button", hidden: true, title: "Upload a folder with its subfolders", onclick: () => folderInput.click() }, "Upload folder");
  const exportButton = h("button", { type: "button", id: "export-button", hidden: true, onclick: () => openExport() }, "Export…");
  const importButton = h("button", { type: "button", id: "import-button", hidden: true, onclick: () => openImport() }, "Import dataset…");
  const rangeText = h("span.range", { id: "range" });
  const prev = h("button", { type: "button", id: "page-prev", "aria-label": "Previous page" }, "‹ Prev");
  const next = h("button", { type: "button", id: "page-next", "aria-label": "Next page" }, "Next ›");
  const uploadBox = h("div.upload-box", { id: "upload-box", hidden: true });
  const grid = h("ul.asset-grid", { id: "asset-grid", "aria-busy": "true" });
  const dropHint = h("div.drop-hint", {}, "Drop images, zips or folders to upload them");
  const gridWrap = h("div.grid-wrap", {}, grid, dropHint);
  const side = h("aside.page-side.project-side", {});

  const pageEl = h("section.page.project-page", {},
    h("div.page-main", {},
      h("div.page-head", {}, title, roleBadge, h("a.quality-link", { id: "quality-link", href: `#/projects/${pid}/quality` }, "Quality")),
      desc,
      stats,
      h("div.grid-toolbar", {},
        statusSelect, labelSelect, search,
        h("span.spacer"),
        exportButton, importButton, folderButton, uploadButton, fileInput, folderInput,
      ),
      uploadBox,
      h("div.pager", {}, rangeText, prev, next),
      gridWrap,
    ),
    side,
  );
  root.append(pageEl);

  // -- the grid -------------------------------------------------------------------------------
  function assetHref(a, index) {
    return `#/assets/${a.id}${gridQuery(filters, { project: pid, i: index })}`;
  }

  function card(a, index) {
    const owners = (a.annotations || []).map((x) => x.owner);
    const assignees = a.assignees || [];
    let who = null;
    if (assignees.length) who = h("span.assignees", { title: `assigned to ${assignees.join(", ")}` }, "→ ", assignees.join(", "));
    else if (a.task_id) who = h("span.assignees.muted", { title: `in task ${a.task_id}, assigned to nobody yet` }, `task ${a.task_id} · unassigned`);
    const comments = a.open_comments
      ? h("span.comment-count", { title: plural(a.open_comments, "open comment") }, `💬 ${fmt.format(a.open_comments)}`)
      : null;
    return h("li.asset-card", { dataset: { id: a.id, status: a.status } },
      h("a.asset-link", { href: assetHref(a, index), title: `${a.name}: open in the editor` },
        h("div.thumb", {},
          h("img", { src: api.thumbnailUrl(a.id), loading: "lazy", decoding: "async", alt: a.name, draggable: "false" }),
        ),
        h("div.asset-name", {}, a.name),
        h("div.asset-meta", {},
          h(`span.status.status-${a.status}`, {}, statusText(a.status)),
          h("span.counts", {},
            h("span.shape-count", { title: "shapes" }, plural(a.shape_count, "shape")),
            comments),
        ),
        who ? h("div.asset-who", {}, who) : null,
        h("div.owners", { title: owners.length ? `annotated by ${owners.join(", ")}` : "not annotated yet" },
          owners.length ? owners.join(", ") : "—"),
      ),
    );
  }

  function showRange(total, count) {
    if (!total) rangeText.textContent = "0 of 0";
    else rangeText.textContent = `${fmt.format(filters.offset + 1)}–${fmt.format(filters.offset + count)} of ${fmt.format(total)}`;
    prev.disabled = filters.offset <= 0;
    next.disabled = filters.offset + count >= total;
  }

  async function loadAssets() {
    loadAbort?.abort();
    loadAbort = new AbortController();
    const local = loadAbort;
    const abortOnLeave = () => local.abort();
    signal.addEventListener("abort", abortOnLeave, { once: true });
    statusSelect.value = filters.status;
    labelSelect.value = filters.label;
    if (document.activeElement !== search) search.value = filters.name;
    grid.setAttribute("aria-busy", "true");
    const q = { status: filters.status, label: filters.label, name: filters.name, limit: PAGE };
    const keyed = cursor && cursor.offset === filters.offset && cursor.filters && sameFilters(cursor.filters, filters);
    if (keyed && cursor.after !== undefined) q.after = cursor.after;
    else if (keyed && cursor.before !== undefined) q.before = cursor.before;
    else q.offset = filters.offset;
    cursor = null;
    try {
      const page = await api.get(`/projects/${pid}/assets`, q, { signal: local.signal });
      if (!page.items.length && filters.offset > 0 && page.total > 0) {
        // past the end (the set shrank): go to the last page
        go({ offset: Math.floor((page.total - 1) / PAGE) * PAGE }, true);
        return;
      }
      if (!page.items.length) await sideReady;
      grid.replaceChildren(...page.items.map((a, k) => card(a, filters.offset + k)));
      shown = { filters: { ...filters }, ids: page.items.map((a) => a.id) };
      if (!page.items.length) {
        const filtered = filters.status || filters.label || filters.name;
        grid.append(h("li.empty", {}, filtered
          ? "No assets match these filters."
          : canUpload ? "No images yet: upload images, zips or a folder with the buttons, or drop them here." : "No images yet."));
      }
      showRange(page.total, page.items.length);
    } catch (err) {
      api.report(err);
    } finally {
      signal.removeEventListener("abort", abortOnLeave);
      if (local === loadAbort) grid.removeAttribute("aria-busy");
    }
  }

  // Move to other filters or another page, through the address.
  function go(changes, replace = false) {
    const f = { ...filters, ...changes };
    if (!("offset" in changes)) f.offset = 0;
    const hash = `#/projects/${pid}${gridQuery(f, { offset: f.offset || null })}`;
    if (replace) app.replace(hash);
    else app.navigate(hash);
  }

  // Next / Prev: the page right after the last id on screen, or right before the first
  function step(delta) {
    const offset = Math.max(0, filters.offset + delta);
    const ids = shown && sameFilters(shown.filters, filters) ? shown.ids : [];
    if (ids.length && delta > 0) cursor = { offset, filters: { ...filters }, after: ids[ids.length - 1] };
    else if (ids.length && delta < 0 && offset > 0) cursor = { offset, filters: { ...filters }, before: ids[0] };
    go({ offset });
  }

  statusSelect.addEventListener("change", () => go({ status: statusSelect.value }));
  labelSelect.addEventListener("change", () => go({ label: labelSelect.value }));
  let searchTimer = 0;
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => go({ name: search.value.trim() }, true), 300);
  });
  search.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      clearTimeout(searchTimer);
      go({ name: search.value.trim() }, true);
    }
  });
  prev.addEventListener("click", () => step(-PAGE));
  next.addEventListener("click", () => step(PAGE));

  // -- the project, its labels and members ----------------------------------------------------
  function showProject(p) {
    project = p;
    title.textContent = p.name;
    roleBadge.textContent = p.role || "";
    desc.textContent = p.description || "";
    desc.hidden = !p.description;
    const total = p.asset_count || 0, done = p.done_count || 0;
    const pct = total ? Math.round((100 * done) / total) : 0;
    stats.replaceChildren(
      h("span", {}, h("b", {}, fmt.format(total)), " assets"),
      h("span", {}, h("b", {}, fmt.format(done)), " done"),
      h("span", {}, h("b", {}, fmt.format(p.shape_count || 0)), " shapes"),
      h("div.progress", { title: `${pct}% done` }, h("div.progress-fill", { style: { width: `${pct}%` } })),
      h("span.pct", {}, `${pct}%`),
    );
    app.setCrumbs([{ text: "Projects", href: "#/projects" }, { text: p.name }]);
  }

  async function loadProject() {
    const p = await api.get(`/projects/${pid}`, null, { signal });
    showProject(p);
    return p;
  }

  let labelsEl = null;

  function showLabels(items) {
    labels = items;
    labelSelect.replaceChildren(h("option", { value: "" }, "Any label"), ...items.map((l) => h("option", { value: l.name }, l.name)));
    labelSelect.value = filters.label;
    const fresh = labelsPanel(items, { canEdit: canUpload, onOpen: openSchema });
    if (labelsEl) labelsEl.replaceWith(fresh);
    labelsEl = fresh;
  }

  async function loadSide() {
    try {
      const [p, got] = await Promise.all([
        loadProject(),
        api.get(`/projects/${pid}/labels`, null, { signal }),
      ]);
      canUpload = atLeast(p.role, "manager");
      uploadButton.hidden = folderButton.hidden = importButton.hidden = !canUpload;
      exportButton.hidden = false;
      gridWrap.classList.toggle("can-drop", canUpload);
      showLabels(got.items);
      side.replaceChildren(labelsEl, checksPanel({ projectId: pid, signal }).el, jobsPanel({ projectId: pid, signal }), membersPanel({ projectId: pid, role: p.role, signal }));
    } catch (err) {
      api.report(err);
    }
  }

  // -- the schema editor ----------------------------------------------------------------------
  function openSchema(select) {
    if (schema) return;
    schema = openSchemaEditor({
      projectId: pid,
      canEdit: canUpload,
      parent: pageEl,
      signal,
      select,
      onChanged: showLabels,
      onClose: () => {
        schema = null;
        // opened from the address: take ?schema= out of it (not when the page is going away)
        if (!signal.aborted && new URLSearchParams(location.hash.split("?")[1] || "").has("schema")) {
          app.replace(`#/projects/${pid}${gridQuery(filters, { offset: filters.offset || null })}`);
        }
      },
    });
  }

  function schemaFromAddress(q) {
    const which = q.get("schema");
    if (which) sideReady.then(() => openSchema(which));
  }

  // -- export and import ----------------------------------------------------------------------
  function openExport() {
    openExportDialog({ projectId: pid, canCancel: atLeast(project?.role, "manager"), parent: pageEl, signal });
  }

  function openImport() {
    if (!canUpload) {
      api.showError("importing a dataset needs the manager role in this project");
      return;
    }
    openImportDialog({
      projectId: pid,
      username: app.user?.username || "me",
      parent: pageEl,
      signal,
      onImported: () => {
        loadAssets();
        loadProject().catch(api.report);
        api.get(`/projects/${pid}/labels`, null, { signal }).then((d) => showLabels(d.items)).catch(api.report);
      },
    });
  }

  // -- upload ---------------------------------------------------------------------------------
  let uploading = false;

  function setUploading(on) {
    uploading = on;
    uploadButton.disabled = folderButton.disabled = on;
  }

  // items: [{file, name}] or a promise of {files, failed} (a drop whose folders are being read)
  async function upload(source) {
    if (!canUpload) {
      api.showError("uploading images needs the manager role in this project");
      return;
    }
    if (uploading) {
      api.showError("an upload is running already; wait for its report");
      return;
    }
    setUploading(true);
    let items = source, failed = [];
    if (source instanceof Promise) {
      uploadBox.replaceChildren(h("div.upload-status", {}, h("span.upload-label", {}, "Reading the dropped folders…")));
      uploadBox.hidden = false;
      try {
        ({ files: items, failed } = await source);
      } catch (err) {
        uploadBox.replaceChildren(h("div.upload-report.failed", { id: "upload-report" }, `The drop could not be read: ${api.message(err)}`));
        setUploading(false);
        return;
      }
    }
    if (!items.length && !failed.length) {
      uploadBox.hidden = true;
      setUploading(false);
      return;
    }
    startUpload({
      projectId: pid,
      items,
      failed,
      box: uploadBox,
      signal,
      onFinished: (report) => {
        setUploading(false);
        fileInput.value = folderInput.value = "";
        if (signal.aborted) return;
        if (report.added.length) {
          loadAssets();
          loadProject().catch(api.report);
        }
      },
    });
  }

  fileInput.addEventListener("change", () => upload(pickedItems(fileInput.files)));
  folderInput.addEventListener("change", () => upload(pickedItems(folderInput.files)));

  // drag-and-drop of files and folders onto the grid
  let depth = 0;
  const hasFiles = (e) => e.dataTransfer && [...e.dataTransfer.types].includes("Files");
  gridWrap.addEventListener("dragenter", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth += 1;
    gridWrap.classList.add("dropping");
  });
  gridWrap.addEventListener("dragover", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = canUpload ? "copy" : "none";
  });
  gridWrap.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) gridWrap.classList.remove("dropping");
  });
  gridWrap.addEventListener("drop", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    gridWrap.classList.remove("dropping");
    upload(droppedItems(e.dataTransfer)); // the entries are taken now; the folders are read after
  });

  const sideReady = loadSide();
  loadAssets();
  schemaFromAddress(query);

  return {
    update(q) {
      const was = filters;
      filters = readQuery(q);
      // only ?schema= came or went (the editor opened or closed): the grid stays
      if (!sameFilters(was, filters) || was.offset !== filters.offset) loadAssets();
      schemaFromAddress(q);
    },
    unmount() {
      clearTimeout(searchTimer);
      loadAbort?.abort();
    },
  };
}
