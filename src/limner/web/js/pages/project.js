// The project page: the asset grid (filters, paging, upload by picker or drag-and-drop), the
// Export and Import dialogs, the recent jobs, the label list and the members panel.
//
// The filters and the page offset live in the address (#/projects/3?status=done&offset=100), so
// back and forward work and the viewer learns where it came from. Only one page of assets
// (PAGE = 100) is ever loaded, with the total from the server: it stays fast at any size.

import * as api from "../api.js";
import { fmt, h, statusText } from "../dom.js";
import { openExportDialog } from "../dialogs/export.js";
import { openImportDialog } from "../dialogs/import.js";
import { jobsPanel } from "../panels/jobs.js";
import { labelsPanel } from "../panels/labels.js";
import { atLeast, membersPanel } from "../panels/members.js";

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

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export function mount(root, { params, query, app, signal }) {
  const pid = Number(params[0]);
  let filters = readQuery(query);
  let project = null;
  let canUpload = false;
  let loadAbort = null;

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
  const uploadButton = h("button.primary", { type: "button", id: "upload-button", hidden: true, onclick: () => fileInput.click() }, "Upload images");
  const exportButton = h("button", { type: "button", id: "export-button", hidden: true, onclick: () => openExport() }, "Export…");
  const importButton = h("button", { type: "button", id: "import-button", hidden: true, onclick: () => openImport() }, "Import dataset…");
  const rangeText = h("span.range", { id: "range" });
  const prev = h("button", { type: "button", id: "page-prev", "aria-label": "Previous page" }, "‹ Prev");
  const next = h("button", { type: "button", id: "page-next", "aria-label": "Next page" }, "Next ›");
  const uploadBox = h("div.upload-box", { id: "upload-box", hidden: true });
  const grid = h("ul.asset-grid", { id: "asset-grid", "aria-busy": "true" });
  const dropHint = h("div.drop-hint", {}, "Drop images or zip files to upload them");
  const gridWrap = h("div.grid-wrap", {}, grid, dropHint);
  const side = h("aside.page-side.project-side", {});

  const pageEl = h("section.page.project-page", {},
    h("div.page-main", {},
      h("div.page-head", {}, title, roleBadge),
      desc,
      stats,
      h("div.toolbar", {},
        statusSelect, labelSelect, search,
        h("span.spacer"),
        exportButton, importButton, uploadButton, fileInput,
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
    return h("li.asset-card", { dataset: { id: a.id, status: a.status } },
      h("a.asset-link", { href: assetHref(a, index), title: a.name },
        h("div.thumb", {},
          h("img", { src: api.thumbnailUrl(a.id), loading: "lazy", decoding: "async", alt: a.name, draggable: "false" }),
        ),
        h("div.asset-name", {}, a.name),
        h("div.asset-meta", {},
          h(`span.status.status-${a.status}`, {}, statusText(a.status)),
          h("span.shape-count", { title: "shapes" }, a.shape_count === 1 ? "1 shape" : `${fmt.format(a.shape_count)} shapes`),
        ),
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
    try {
      const page = await api.get(`/projects/${pid}/assets`, {
        status: filters.status, label: filters.label, name: filters.name, offset: filters.offset, limit: PAGE,
      }, { signal: local.signal });
      if (!page.items.length && filters.offset > 0 && page.total > 0) {
        // past the end (the set shrank): go to the last page
        go({ offset: Math.floor((page.total - 1) / PAGE) * PAGE }, true);
        return;
      }
      if (!page.items.length) await sideReady;
      grid.replaceChildren(...page.items.map((a, k) => card(a, filters.offset + k)));
      if (!page.items.length) {
        const filtered = filters.status || filters.label || filters.name;
        grid.append(h("li.empty", {}, filtered
          ? "No assets match these filters."
          : canUpload ? "No images yet: upload some with the button, or drop files here." : "No images yet."));
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
  prev.addEventListener("click", () => go({ offset: Math.max(0, filters.offset - PAGE) }));
  next.addEventListener("click", () => go({ offset: filters.offset + PAGE }));

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
    labelSelect.replaceChildren(h("option", { value: "" }, "Any label"), ...items.map((l) => h("option", { value: l.name }, l.name)));
    labelSelect.value = filters.label;
    const fresh = labelsPanel(items);
    if (labelsEl) labelsEl.replaceWith(fresh);
    labelsEl = fresh;
  }

  async function loadSide() {
    try {
      const [p, labels] = await Promise.all([
        loadProject(),
        api.get(`/projects/${pid}/labels`, null, { signal }),
      ]);
      canUpload = atLeast(p.role, "manager");
      uploadButton.hidden = !canUpload;
      importButton.hidden = !canUpload;
      exportButton.hidden = false;
      gridWrap.classList.toggle("can-drop", canUpload);
      showLabels(labels.items);
      side.replaceChildren(labelsEl, jobsPanel({ projectId: pid, signal }), membersPanel({ projectId: pid, role: p.role, signal }));
    } catch (err) {
      api.report(err);
    }
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

  function reportView(rep) {
    const c = rep.counts || { added: rep.added.length, duplicates: rep.duplicates.length, rejected: rep.rejected.length };
    const items = [];
    for (const a of rep.added) items.push(h("li.rep-added", {}, h("span.rep-kind", {}, "added"), h("span.rep-name", {}, a.name)));
    for (const d of rep.duplicates) {
      const why = d.existing_id ? "already in this project" : `same image as ${d.same_as}`;
      items.push(h("li.rep-duplicate", {}, h("span.rep-kind", {}, "skipped"), h("span.rep-name", {}, d.name), h("span.rep-reason", {}, why)));
    }
    for (const r of rep.rejected) {
      items.push(h("li.rep-rejected", {}, h("span.rep-kind", {}, "rejected"), h("span.rep-name", {}, r.name), h("span.rep-reason", {}, r.reason)));
    }
    return h("div.upload-report", { id: "upload-report" },
      h("div.report-head", {},
        h("strong", {}, "Upload finished: "),
        h("span.rep-count.added", {}, `${c.added} added`), " · ",
        h("span.rep-count.duplicates", {}, `${c.duplicates} skipped as duplicate${c.duplicates === 1 ? "" : "s"}`), " · ",
        h("span.rep-count.rejected", {}, `${c.rejected} rejected`),
        h("button.link-button.report-close", { type: "button", onclick: () => { uploadBox.hidden = true; } }, "Close"),
      ),
      items.length ? h("ul.report-list", {}, items) : null,
    );
  }

  async function uploadFiles(files) {
    files = [...files];
    if (!files.length) return;
    if (!canUpload) {
      api.showError("uploading images needs the manager role in this project");
      return;
    }
    if (uploading) {
      api.showError("an upload is running already; wait for its report");
      return;
    }
    uploading = true;
    uploadButton.disabled = true;
    const size = files.reduce((n, f) => n + f.size, 0);
    const label = h("span.upload-label", {}, `Uploading ${files.length} file${files.length > 1 ? "s" : ""} (${formatBytes(size)})…`);
    const fill = h("div.progress-fill", { style: { width: "0%" } });
    const bar = h("div.progress.upload-progress", { id: "upload-progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0" }, fill);
    uploadBox.replaceChildren(h("div.upload-status", {}, label, bar));
    uploadBox.hidden = false;
    try {
      const rep = await api.upload(`/projects/${pid}/assets`, files, {
        signal,
        onProgress: (f) => {
          const pct = Math.round(100 * f);
          fill.style.width = `${pct}%`;
          bar.setAttribute("aria-valuenow", String(pct));
          if (f >= 1) label.textContent = "Processing on the server (decoding, thumbnails)…";
        },
      });
      uploadBox.replaceChildren(reportView(rep));
      loadAssets();
      loadProject().catch(api.report);
    } catch (err) {
      if (api.isQuiet(err)) return;
      uploadBox.replaceChildren(h("div.upload-report.failed", { id: "upload-report" },
        h("strong", {}, "Upload failed: "), api.message(err),
        h("button.link-button.report-close", { type: "button", onclick: () => { uploadBox.hidden = true; } }, "Close"),
      ));
    } finally {
      uploading = false;
      uploadButton.disabled = false;
      fileInput.value = "";
    }
  }

  fileInput.addEventListener("change", () => uploadFiles(fileInput.files));

  // drag-and-drop of files onto the grid
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
    uploadFiles(e.dataTransfer.files);
  });

  const sideReady = loadSide();
  loadAssets();

  return {
    update(q) {
      filters = readQuery(q);
      loadAssets();
    },
    unmount() {
      clearTimeout(searchTimer);
      loadAbort?.abort();
    },
  };
}
