// Uploading images into a project: files and whole folders (dropped, or chosen with the file and
// folder pickers), sent in batches with a progress bar (bytes and files) and a per-file report of
// what was added, skipped as a duplicate and rejected, and why.
//
// The folder walker takes FileSystemEntry-like objects ({isFile, isDirectory, name, fullPath,
// file(ok, fail), createReader() → {readEntries(ok, fail)}}), as DataTransferItem
// .webkitGetAsEntry() gives them, so it runs on plain objects too. Only images and zips are sent;
// every other file is reported by name. A folder keeps its inner path in the asset names
// ("trip/day1/a.jpg").

import * as api from "../api.js";
import { fmt, h } from "../dom.js";

// what the server accepts (limner.media.images.IMAGE_EXTENSIONS, and zips of them)
export const IMAGE_EXTENSIONS = [".bmp", ".gif", ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".tif", ".tiff", ".webp"];
export const NOT_ACCEPTED = "not an image or a zip file; only images and zips are uploaded";
export const BATCH_FILES = 100;
export const BATCH_BYTES = 32 * 1024 * 1024;
const REPORT_ROWS = 500;

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

// "image", "zip" or null, from the name's extension
export function fileKind(name) {
  const dot = name.lastIndexOf(".");
  const ext = dot >= 0 ? name.slice(dot).toLowerCase() : "";
  if (ext === ".zip") return "zip";
  return IMAGE_EXTENSIONS.includes(ext) ? "image" : null;
}

// -- walking folders ------------------------------------------------------------------------

const entryFile = (entry) => new Promise((ok, fail) => entry.file(ok, fail));

// every entry of a directory: readEntries answers in chunks until an empty one
async function readAll(dir) {
  const reader = dir.createReader();
  const out = [];
  for (;;) {
    const chunk = await new Promise((ok, fail) => reader.readEntries(ok, fail));
    if (!chunk.length) return out;
    out.push(...chunk);
  }
}

const entryPath = (entry) => (entry.fullPath || entry.name).replace(/^\/+/, "");

// entries → {files: [{file, name}], failed: [{name, reason}]}; names are paths inside the drop
export async function walkEntries(entries) {
  const files = [], failed = [];
  const visit = async (entry) => {
    try {
      if (entry.isDirectory) {
        const children = await readAll(entry);
        children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        for (const child of children) await visit(child);
      } else if (entry.isFile) {
        files.push({ file: await entryFile(entry), name: entryPath(entry) });
      }
    } catch (err) {
      failed.push({ name: entryPath(entry), reason: `could not be read (${(err && (err.message || err.name)) || err})` });
    }
  };
  for (const entry of entries) await visit(entry);
  return { files, failed };
}

// What a drop holds, read at once (the list empties when the drop event ends): folder entries
// where the browser gives them, plain files otherwise. Resolves to [{file, name}] and the failures.
export function droppedItems(dataTransfer) {
  const entries = [], plain = [];
  const items = dataTransfer.items ? [...dataTransfer.items] : [];
  for (const item of items) {
    if (item.kind !== "file") continue;
    const entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) plain.push({ file: f, name: f.name });
    }
  }
  if (!items.length) for (const f of dataTransfer.files || []) plain.push({ file: f, name: f.name });
  return walkEntries(entries).then(({ files, failed }) => ({ files: [...plain, ...files], failed }));
}

// Files from an <input type=file> (with webkitdirectory, names keep the folder path), in path
// order (the browser lists a folder in no set order).
export const pickedItems = (fileList) => [...fileList]
  .map((f) => ({ file: f, name: f.webkitRelativePath || f.name }))
  .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

// Split into what is sent and what is reported at once.
export function sortItems(items) {
  const accepted = [], rejected = [];
  for (const it of items) {
    if (fileKind(it.name)) accepted.push(it);
    else rejected.push({ name: it.name, reason: NOT_ACCEPTED });
  }
  return { accepted, rejected };
}

// Batches of at most maxFiles files and maxBytes bytes (a bigger file goes alone), in order.
export function makeBatches(items, { maxFiles = BATCH_FILES, maxBytes = BATCH_BYTES } = {}) {
  const out = [];
  let cur = [], bytes = 0;
  for (const it of items) {
    if (cur.length && (cur.length >= maxFiles || bytes + it.file.size > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(it);
    bytes += it.file.size;
  }
  if (cur.length) out.push(cur);
  return out;
}

// -- the upload -----------------------------------------------------------------------------

const sizeOf = (batch) => batch.reduce((n, it) => n + it.file.size, 0);

// Send items to the project in batches, showing progress and then the report in `box`.
// {projectId, items: [{file, name}], failed: [{name, reason}] (found while walking), box, signal,
//  onFinished(report)} → {cancel()}
export function startUpload({ projectId, items, failed = [], box, signal, onFinished }) {
  const { accepted, rejected } = sortItems(items);
  const report = { added: [], duplicates: [], rejected: [...failed, ...rejected] };
  const queue = makeBatches(accepted);
  const totalBytes = accepted.reduce((n, it) => n + it.file.size, 0);
  const totalFiles = accepted.length;
  let doneBytes = 0, doneFiles = 0, stopped = null;
  const abort = new AbortController();
  const leave = () => abort.abort();
  signal?.addEventListener("abort", leave, { once: true });

  const label = h("span.upload-label");
  const counts = h("span.upload-counts.muted");
  const fill = h("div.progress-fill", { style: { width: "0%" } });
  const bar = h("div.progress.upload-progress", { id: "upload-progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0" }, fill);
  const cancel = h("button.link-button.upload-cancel", { type: "button", id: "upload-cancel", onclick: () => { stopped = "the upload was cancelled"; abort.abort(); } }, "Cancel");
  box.replaceChildren(h("div.upload-status", {}, h("div.upload-line", {}, label, cancel), bar, counts));
  box.hidden = false;

  function show(batchFraction = 0, batchBytes = 0) {
    const sent = doneBytes + batchFraction * batchBytes;
    const pct = totalBytes ? Math.min(100, Math.round((100 * sent) / totalBytes)) : 100;
    fill.style.width = `${pct}%`;
    bar.setAttribute("aria-valuenow", String(pct));
    label.textContent = `Uploading ${fmt.format(totalFiles)} file${totalFiles === 1 ? "" : "s"}: ${formatBytes(Math.round(sent))} of ${formatBytes(totalBytes)}, ${fmt.format(doneFiles)} of ${fmt.format(totalFiles)} files processed`;
    counts.textContent = `${fmt.format(report.added.length)} added · ${fmt.format(report.duplicates.length)} skipped · ${fmt.format(report.rejected.length)} rejected`;
    if (batchFraction >= 1) label.textContent += " (the server is decoding and making thumbnails…)";
  }

  function take(rep) {
    report.added.push(...(rep.added || []));
    report.duplicates.push(...(rep.duplicates || []));
    report.rejected.push(...(rep.rejected || []));
  }

  async function send(batch) {
    const form = new FormData();
    for (const it of batch) form.append("files", it.file, it.name);
    const bytes = sizeOf(batch);
    try {
      take(await api.uploadForm(`/projects/${projectId}/assets`, form, { signal: abort.signal, onProgress: (f) => show(f, bytes) }));
    } catch (err) {
      if (err instanceof api.ApiError && err.body && Array.isArray(err.body.rejected)) {
        take(err.body); // nothing in the batch could be added: the answer says why, file by file
      } else if (err instanceof api.ApiError && err.status === 413 && batch.length > 1) {
        // one file is over the size limit: it is reported, the others go again
        const big = batch.find((it) => err.detail.startsWith(`${it.name}:`));
        if (!big) throw err;
        report.rejected.push({ name: big.name, reason: err.detail });
        doneFiles += 1;
        doneBytes += big.file.size;
        queue.unshift(batch.filter((it) => it !== big));
        return;
      } else {
        throw err;
      }
    }
    doneFiles += batch.length;
    doneBytes += bytes;
    show();
  }

  async function run() {
    show();
    while (queue.length && !stopped) {
      const batch = queue.shift();
      try {
        await send(batch);
      } catch (err) {
        if (err && err.name === "AbortError") {
          stopped = stopped || "the upload stopped when the page closed";
          queue.unshift(batch);
        } else if (err instanceof api.ApiError && [0, 401, 403].includes(err.status)) {
          stopped = api.message(err); // the server is gone or refuses us: the rest would fail alike
          queue.unshift(batch);
        } else {
          for (const it of batch) report.rejected.push({ name: it.name, reason: api.message(err) });
          doneFiles += batch.length;
          doneBytes += sizeOf(batch);
        }
      }
    }
    for (const batch of queue) for (const it of batch) report.rejected.push({ name: it.name, reason: `not sent: ${stopped}` });
    signal?.removeEventListener("abort", leave);
    if (!signal?.aborted) box.replaceChildren(reportView(report, () => { box.hidden = true; }));
    onFinished?.(report);
  }

  run();
  return { cancel: () => cancel.click() };
}

// The report: counts, then the files, rejected first (the ones that need attention).
export function reportView(rep, onClose) {
  const c = { added: rep.added.length, duplicates: rep.duplicates.length, rejected: rep.rejected.length };
  const rows = [];
  for (const r of rep.rejected) {
    rows.push(h("li.rep-rejected", {}, h("span.rep-kind", {}, "rejected"), h("span.rep-name", { title: r.name }, r.name), h("span.rep-reason", {}, r.reason)));
  }
  for (const d of rep.duplicates) {
    const why = d.existing_id ? "already in this project" : `same image as ${d.same_as}`;
    rows.push(h("li.rep-duplicate", {}, h("span.rep-kind", {}, "skipped"), h("span.rep-name", { title: d.name }, d.name), h("span.rep-reason", {}, why)));
  }
  for (const a of rep.added) rows.push(h("li.rep-added", {}, h("span.rep-kind", {}, "added"), h("span.rep-name", { title: a.name }, a.name)));
  const more = rows.length - REPORT_ROWS;
  return h("div.upload-report", { id: "upload-report", class: c.added || c.duplicates ? "" : "failed" },
    h("div.report-head", {},
      h("strong", {}, "Upload finished: "),
      h("span.rep-count.added", {}, `${fmt.format(c.added)} added`), " · ",
      h("span.rep-count.duplicates", {}, `${fmt.format(c.duplicates)} skipped as duplicate${c.duplicates === 1 ? "" : "s"}`), " · ",
      h("span.rep-count.rejected", {}, `${fmt.format(c.rejected)} rejected`),
      h("button.link-button.report-close", { type: "button", onclick: onClose }, "Close"),
    ),
    rows.length ? h("ul.report-list", {}, rows.slice(0, REPORT_ROWS), more > 0 ? h("li.rep-more.muted", {}, `… and ${fmt.format(more)} more`) : null) : null,
  );
}
