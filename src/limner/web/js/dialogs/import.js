// The Import dialog: a dataset zip (picked or dropped), its format (or found automatically), whose
// annotations the shapes become, and whether to add unmatched images and create missing labels.
// Start uploads the zip (with progress), then follows the import job; the result lists what was
// added and matched, or the failure's sentence (an import is all or nothing).

import * as api from "../api.js";
import { bus } from "../bus.js";
import { fmt, h } from "../dom.js";
import * as jobs from "../jobs.js";
import { modal } from "./modal.js";
import { progressView } from "./progress.js";

const SHOW_UNMATCHED = 20;

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

const plural = (n, one, many = `${one}s`) => `${fmt.format(n)} ${n === 1 ? one : many}`;

// ctx: {projectId, username, parent, signal, onImported(job)}
export function openImportDialog({ projectId, username, parent, signal, onImported }) {
  const local = new AbortController();
  const stop = () => local.abort();
  signal?.addEventListener("abort", stop, { once: true });

  // -- the form -----------------------------------------------------------------------------
  let file = null;
  const fileInput = h("input", { type: "file", id: "import-file", accept: ".zip,application/zip", class: "visually-hidden" });
  const fileName = h("span.drop-file", { id: "import-file-name" }, "No file chosen");
  const drop = h("label.drop-zone", { id: "import-drop", for: "import-file" },
    h("span.drop-title", {}, "Drop a dataset zip here, or ", h("span.drop-pick", {}, "choose a file")),
    fileName,
    fileInput,
  );
  const format = h("select", { id: "import-format", name: "format" }, h("option", { value: "" }, "detect automatically"));
  const formatDesc = h("p.field-hint", { id: "import-format-desc" });
  const ownerMe = h("input", { type: "radio", name: "import-owner", id: "import-owner-me", value: "me", checked: true });
  const ownerModel = h("input", { type: "radio", name: "import-owner", id: "import-owner-model", value: "model" });
  const model = h("input", { type: "text", id: "import-model", placeholder: "name, e.g. yolov8", "aria-label": "Model name", disabled: true, autocomplete: "off" });
  const withImages = h("input", { type: "checkbox", id: "import-with-images", checked: true });
  const createLabels = h("input", { type: "checkbox", id: "import-create-labels", checked: true });

  const error = h("p.form-error", { id: "import-error", role: "alert" });
  const summary = h("p.job-summary", { id: "import-summary", hidden: true });
  const progress = progressView("import-progress");
  const result = h("div.job-result", { id: "import-result", hidden: true });

  const fieldset = h("fieldset.dialog-fields", {},
    h("div.field", {}, drop),
    h("div.field", {}, h("label", { for: "import-format" }, "Format"), format, formatDesc),
    h("div.field", {},
      h("div.field-title", {}, "The shapes become annotations of"),
      h("div.owner-row", { role: "radiogroup", "aria-label": "Owner" },
        h("label.check", { for: "import-owner-me" }, ownerMe, "me", h("span.muted", {}, ` (${username})`)),
        h("label.check", { for: "import-owner-model" }, ownerModel, "a model"),
        h("span.prefixed", {}, h("span.prefix", { "aria-hidden": "true" }, "model:"), model),
      ),
      h("p.field-hint", {}, "A model's annotations are pre-labels: they sit beside people's work, not over it."),
    ),
    h("div.field.check-col", {},
      h("label.check", { for: "import-with-images" }, withImages, "add images that match no asset"),
      h("label.check", { for: "import-create-labels" }, createLabels, "create missing labels"),
    ),
  );
  const form = h("form.dialog-form", { id: "import-form", novalidate: true }, fieldset);
  const start = h("button.primary", { type: "submit", id: "import-start", form: "import-form", disabled: true }, "Start import");
  const close = h("button", { type: "button", id: "import-close" }, "Close");
  const back = h("button", { type: "button", id: "import-back", hidden: true }, "Change settings");

  const dlg = modal({
    id: "import-dialog",
    title: "Import dataset",
    body: [form, summary, error, progress.el, result],
    footer: [h("span.spacer"), back, close, start],
    onClose: () => {
      stop(); // an upload under way stops (nothing is imported); a running job goes on
      signal?.removeEventListener("abort", stop);
    },
  });
  close.addEventListener("click", () => dlg.close());

  // -- behaviour ----------------------------------------------------------------------------
  let formats = [];
  let busy = false;

  function choose(f) {
    if (!f) return;
    error.textContent = "";
    if (!/\.zip$/i.test(f.name)) {
      error.textContent = `${f.name} is not a zip file; put the dataset's folder in a zip first`;
      return;
    }
    file = f;
    fileName.textContent = `${f.name} (${formatBytes(f.size)})`;
    drop.classList.add("chosen");
    start.disabled = busy;
  }
  fileInput.addEventListener("change", () => choose(fileInput.files[0]));

  const hasFiles = (e) => e.dataTransfer && [...e.dataTransfer.types].includes("Files");
  drop.addEventListener("dragover", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = busy ? "none" : "copy";
    drop.classList.add("dropping");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("dropping"));
  drop.addEventListener("drop", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    drop.classList.remove("dropping");
    if (busy) return;
    const files = [...e.dataTransfer.files];
    if (files.length > 1) {
      error.textContent = "drop one zip at a time";
      return;
    }
    choose(files[0]);
  });

  const pickOwner = () => {
    model.disabled = !ownerModel.checked;
    if (ownerModel.checked) model.focus();
  };
  ownerMe.addEventListener("change", pickOwner);
  ownerModel.addEventListener("change", pickOwner);
  format.addEventListener("change", () => {
    const f = formats.find((x) => x.name === format.value);
    formatDesc.textContent = f ? f.description : "The format is found from the files in the zip.";
  });

  async function load() {
    try {
      formats = (await jobs.listFormats({ signal: local.signal })).filter((f) => f.read);
      format.append(...formats.map((f) => h("option", { value: f.name, title: f.description }, `${f.name} — ${f.description}`)));
      formatDesc.textContent = "The format is found from the files in the zip.";
    } catch (err) {
      if (!api.isQuiet(err)) error.textContent = api.message(err);
    }
  }

  function fields() {
    const out = {
      format: format.value || undefined,
      with_images: withImages.checked,
      create_labels: createLabels.checked,
    };
    if (ownerModel.checked) {
      const name = model.value.trim().replace(/^model:/, "").trim();
      if (!name) throw new Error("give the model a name, or make the shapes yours");
      out.owner = `model:${name}`;
    }
    return out;
  }

  function section(title, body) {
    return h("section.result-part", {}, h("h3", {}, title), body);
  }

  function showResult(job) {
    result.hidden = false;
    result.classList.remove("failed", "cancelled");
    if (job.status !== "done") {
      result.classList.add(job.status === "cancelled" ? "cancelled" : "failed");
      result.replaceChildren(
        h("div", {},
          h("strong", {}, job.status === "cancelled" ? "The import was cancelled. " : "Import failed: "),
          job.status === "cancelled" ? null : h("span.error-text", {}, job.error || "the job failed without a reason"),
        ),
        h("p.unchanged", {}, "Nothing was changed in the project."),
      );
      return;
    }
    const r = job.result || {};
    const unmatched = r.unmatched || [];
    const unmatchedCount = r.unmatched_count ?? unmatched.length;
    const missing = Object.entries(r.missing_required || {});
    const rejected = r.rejected || [];
    const duplicates = r.duplicates || [];
    const readLines = (r.read && r.read.summary) || [];
    result.replaceChildren(...[
      h("div.result-head", {},
        h("div", {},
          h("strong", {}, "Import finished: "),
          h("span.rep-count", { id: "import-added", class: r.assets_added ? "added" : "" }, `${fmt.format(r.assets_added || 0)} added`), " · ",
          h("span.rep-count", { id: "import-matched" }, `${fmt.format(r.assets_matched || 0)} matched`), " · ",
          h("span.rep-count", {}, plural(r.shapes || 0, "shape")),
          r.format ? h("span.muted", {}, ` · read as ${r.format}`) : null,
        ),
      ),
      section("Labels created", (r.labels_created || []).length
        ? h("ul.chip-list.labels-created", {}, r.labels_created.map((n) => h("li.chip", {}, n)))
        : h("p.muted.result-empty", {}, "None.")),
      unmatchedCount
        ? section(`Matched no asset (${fmt.format(unmatchedCount)})`, h("div", {},
          h("ul.name-list.unmatched", {}, unmatched.slice(0, SHOW_UNMATCHED).map((n) => h("li", {}, n))),
          unmatchedCount > SHOW_UNMATCHED ? h("p.muted", {}, `… and ${fmt.format(unmatchedCount - SHOW_UNMATCHED)} more`) : null,
          h("p.field-hint", {}, withImages.checked
            ? "Their images were not in the zip, so nothing was added for them."
            : "Adding images that match no asset was off, so they were skipped."),
        ))
        : null,
      duplicates.length
        ? section(`Skipped as duplicates (${fmt.format(duplicates.length)})`, h("ul.name-list", {}, duplicates.slice(0, SHOW_UNMATCHED).map((n) => h("li", {}, n))))
        : null,
      rejected.length
        ? section(`Rejected images (${fmt.format(rejected.length)})`, h("ul.name-list.rejected", {}, rejected.slice(0, SHOW_UNMATCHED).map((x) =>
          h("li", {}, typeof x === "string" ? x : `${x.name}: ${x.reason || "rejected"}`))))
        : null,
      missing.length
        ? section("Missing required attributes", h("ul.name-list.missing-required", {}, missing.map(([key, n]) =>
          h("li", {}, h("code", {}, key), ` on ${plural(n, "shape")}`))))
        : null,
      readLines.length ? section("Read notes", h("ul.report-lines", {}, readLines.map((x) => h("li", {}, x)))) : null,
    ].filter(Boolean));
  }

  function describe(req) {
    return [
      `${file.name} (${formatBytes(file.size)})`,
      req.format || "format detected automatically",
      `as ${req.owner || username}`,
      req.with_images ? "adding unmatched images" : "matched assets only",
      req.create_labels ? "creating missing labels" : "no new labels",
    ].join(" · ");
  }

  // the settings, or the upload's and the job's progress and result
  function showForm(on) {
    form.hidden = !on;
    summary.hidden = on;
    back.hidden = on;
    if (on) {
      progress.reset();
      result.hidden = true;
    }
  }

  function setBusy(on) {
    busy = on;
    fieldset.disabled = on;
    start.disabled = on || !file;
    back.disabled = on;
  }

  back.addEventListener("click", () => showForm(true));

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (busy) return;
    error.textContent = "";
    if (!file) {
      error.textContent = "choose a dataset zip first";
      return;
    }
    let req;
    try {
      req = fields();
    } catch (err) {
      error.textContent = err.message;
      return;
    }
    setBusy(true);
    result.hidden = true;
    summary.textContent = describe(req);
    showForm(false);
    const sending = `Uploading ${file.name} (${formatBytes(file.size)})…`;
    progress.upload(0, sending);
    try {
      const job = await jobs.startImport(projectId, file, req, {
        signal: local.signal,
        onProgress: (f) => progress.upload(f, f >= 1 ? "Uploaded; starting the import…" : sending),
      });
      bus.emit("jobs:changed", { projectId });
      const last = await jobs.watchJob(job.id, { signal: local.signal, onUpdate: progress.job });
      showResult(last);
      bus.emit("jobs:changed", { projectId });
      if (last.status === "done") onImported?.(last);
    } catch (err) {
      if (api.isQuiet(err)) return;
      progress.reset();
      showResult({ status: "failed", error: api.message(err) });
    } finally {
      if (!local.signal.aborted) {
        setBusy(false);
        start.textContent = "Import again";
      }
    }
  });

  dlg.open(parent);
  load();
  return dlg;
}

