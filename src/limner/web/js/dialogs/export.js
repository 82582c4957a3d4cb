// The Export dialog: a format, which assets, images or not, a train/val/test split and a label
// remap; Start runs the export as a job, shows its progress, then a download link and the report
// (what was dropped or converted, the geometry checks, the split counts).

import * as api from "../api.js";
import { bus } from "../bus.js";
import { fmt, h, statusText, swatch } from "../dom.js";
import * as jobs from "../jobs.js";
import { modal } from "./modal.js";
import { progressView } from "./progress.js";

export const STATUSES = ["new", "in_progress", "review", "done"];
const SPLITS = [["train", 80], ["val", 10], ["test", 10]];

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

const check = (id, text, attrs = {}) =>
  h("label.check", { for: id }, h("input", { type: "checkbox", id, ...attrs }), text);

// "train=0.5,val=0.5" from percentages (parts at 0 left out)
export function splitText(parts) {
  return parts.filter(([, pct]) => pct > 0).map(([name, pct]) => `${name}=${+(pct / 100).toFixed(4)}`).join(",");
}

// ctx: {projectId, canCancel, parent (element to hold the dialog), signal (the page's)}
export function openExportDialog({ projectId, canCancel = false, parent, signal }) {
  const local = new AbortController();
  const stop = () => local.abort();
  signal?.addEventListener("abort", stop, { once: true });

  // -- the form -----------------------------------------------------------------------------
  const format = h("select", { id: "export-format", name: "format", required: true }, h("option", { value: "" }, "Loading formats…"));
  const formatDesc = h("p.field-hint", { id: "export-format-desc" });
  const statusBoxes = STATUSES.map((s) => check(`export-status-${s}`, statusText(s), { name: "export-status", value: s, checked: true }));
  const labelList = h("div.check-list", { id: "export-labels" }, h("span.muted", {}, "Loading labels…"));
  const includeModels = check("export-include-models", "include model annotations (pre-labels)");
  const includeImages = check("export-include-images", "include the images in the zip");

  const splitOn = check("export-split-on", "split into subsets");
  const splitInputs = SPLITS.map(([name, pct]) =>
    h("label.split-part", { for: `export-${name}` }, name,
      h("input.split-pct", { type: "number", id: `export-${name}`, name, min: "0", max: "100", step: "1", value: String(pct) }), "%"),
  );
  const seed = h("input.seed", { type: "number", id: "export-seed", min: "0", step: "1", value: "0" });
  const stratify = check("export-stratify", "stratify by label", { checked: true });
  const splitSum = h("span.split-sum", { id: "export-split-sum" });
  const splitRow = h("div.split-row", {},
    splitInputs,
    splitSum,
    h("label.split-part", { for: "export-seed" }, "seed", seed),
    stratify,
  );

  const remapBody = h("tbody");
  const remapTable = h("table.remap-table", { id: "export-remap" },
    h("thead", {}, h("tr", {}, h("th.col-label", {}, "Label"), h("th.col-action", {}, "In the export"), h("th.col-to", {}, "New name"))),
    remapBody,
  );
  const labelNames = h("datalist", { id: "export-label-names" });

  const error = h("p.form-error", { id: "export-error", role: "alert" });
  const summary = h("p.job-summary", { id: "export-summary", hidden: true });
  const progress = progressView("export-progress");
  const result = h("div.job-result", { id: "export-result", hidden: true });

  const fieldset = h("fieldset.dialog-fields", {},
    h("div.field", {}, h("label", { for: "export-format" }, "Format"), format, formatDesc),
    h("div.field", {},
      h("div.field-title", {}, "Which assets"),
      h("div.check-row", { id: "export-statuses", role: "group", "aria-label": "Statuses" }, statusBoxes),
      h("div.field-sub", {}, "Labels ", h("span.muted", {}, "(none ticked: every label)")),
      labelList,
      h("div.check-row", {}, includeModels, includeImages),
    ),
    h("div.field", {},
      h("div.field-title", {}, "Split"),
      splitOn,
      splitRow,
    ),
    h("div.field", {},
      h("div.field-title", {}, "Label remap"),
      remapTable,
      labelNames,
    ),
  );
  const form = h("form.dialog-form", { id: "export-form", novalidate: true }, fieldset);

  const start = h("button.primary", { type: "submit", id: "export-start", form: "export-form" }, "Start export");
  const cancel = h("button", { type: "button", id: "export-cancel", hidden: true }, "Cancel the job");
  const close = h("button", { type: "button", id: "export-close" }, "Close");
  const back = h("button", { type: "button", id: "export-back", hidden: true }, "Change settings");

  const dlg = modal({
    id: "export-dialog",
    title: "Export dataset",
    body: [form, summary, error, progress.el, result],
    footer: [cancel, h("span.spacer"), back, close, start],
    onClose: () => {
      stop();
      signal?.removeEventListener("abort", stop);
    },
  });
  close.addEventListener("click", () => dlg.close());

  // -- behaviour ----------------------------------------------------------------------------
  let formats = [];
  let running = null; // the job being followed

  function showDesc() {
    const f = formats.find((x) => x.name === format.value);
    formatDesc.textContent = f ? f.description : "";
  }
  format.addEventListener("change", showDesc);

  function splitParts() {
    return SPLITS.map(([name], i) => [name, Number(splitInputs[i].querySelector("input").value)]);
  }

  function showSplit() {
    const on = splitOn.querySelector("input").checked;
    splitRow.classList.toggle("off", !on);
    for (const el of splitRow.querySelectorAll("input")) el.disabled = !on;
    const sum = splitParts().reduce((a, [, v]) => a + (Number.isFinite(v) ? v : 0), 0);
    splitSum.textContent = on ? `= ${+sum.toFixed(2)}%` : "";
    splitSum.classList.toggle("bad", on && Math.abs(sum - 100) > 0.01);
  }
  splitOn.addEventListener("change", showSplit);
  splitRow.addEventListener("input", showSplit);

  function remapRow(lb) {
    const action = h("select.remap-action", { "aria-label": `What becomes of ${lb.name}` },
      h("option", { value: "keep" }, "keep"),
      h("option", { value: "rename" }, "rename to…"),
      h("option", { value: "drop" }, "drop"),
    );
    const to = h("input.remap-to", { type: "text", placeholder: "new name", list: "export-label-names", "aria-label": `New name for ${lb.name}`, hidden: true });
    const row = h("tr", { dataset: { label: lb.name } },
      h("td", {}, h("span.remap-label", {}, swatch(lb.color), h("span.remap-name", {}, lb.name))),
      h("td", {}, action),
      h("td", {}, to),
    );
    action.addEventListener("change", () => {
      to.hidden = action.value !== "rename";
      row.classList.toggle("dropped", action.value === "drop");
      if (!to.hidden) to.focus();
    });
    return row;
  }

  async function load() {
    try {
      const [fmts, labels] = await Promise.all([
        jobs.listFormats({ signal: local.signal }),
        api.get(`/projects/${projectId}/labels`, null, { signal: local.signal }),
      ]);
      formats = fmts.filter((f) => f.write);
      format.replaceChildren(...formats.map((f) => h("option", { value: f.name, title: f.description }, `${f.name} — ${f.description}`)));
      format.value = formats.some((f) => f.name === "coco") ? "coco" : formats[0]?.name || "";
      showDesc();
      const items = labels.items;
      labelList.replaceChildren(...(items.length
        ? items.map((lb) => h("label.check.label-check", { title: lb.name },
          h("input", { type: "checkbox", name: "export-label", value: lb.name }), swatch(lb.color), lb.name))
        : [h("span.muted", {}, "This project has no labels.")]));
      remapBody.replaceChildren(...(items.length
        ? items.map(remapRow)
        : [h("tr", {}, h("td.muted", { colspan: "3" }, "No labels to remap."))]));
      labelNames.replaceChildren(...items.map((lb) => h("option", { value: lb.name })));
    } catch (err) {
      if (!api.isQuiet(err)) error.textContent = api.message(err);
    }
  }

  // the request body from the form, or a sentence saying what to fix
  function body() {
    const out = { format: format.value };
    if (!out.format) throw new Error("choose a format");
    const statuses = [...form.querySelectorAll("input[name=export-status]:checked")].map((x) => x.value);
    if (!statuses.length) throw new Error("tick at least one status");
    if (statuses.length < STATUSES.length) out.statuses = statuses;
    const labels = [...form.querySelectorAll("input[name=export-label]:checked")].map((x) => x.value);
    if (labels.length) out.labels = labels;
    if (includeModels.querySelector("input").checked) out.include_models = true;
    if (includeImages.querySelector("input").checked) out.include_images = true;
    if (splitOn.querySelector("input").checked) {
      const parts = splitParts();
      for (const [name, v] of parts) {
        if (!Number.isFinite(v) || v < 0 || v > 100) throw new Error(`the ${name} part must be a percentage from 0 to 100`);
      }
      const sum = parts.reduce((a, [, v]) => a + v, 0);
      if (Math.abs(sum - 100) > 0.01) throw new Error(`the split parts add up to ${+sum.toFixed(2)}%; make them 100%`);
      const s = Number(seed.value || 0);
      if (!Number.isInteger(s) || s < 0) throw new Error("the seed must be a whole number, 0 or more");
      out.split = splitText(parts);
      out.seed = s;
      out.stratify = stratify.querySelector("input").checked;
    }
    const remap = {};
    for (const row of remapBody.querySelectorAll("tr[data-label]")) {
      const name = row.dataset.label;
      const action = row.querySelector(".remap-action").value;
      if (action === "drop") remap[name] = null;
      else if (action === "rename") {
        const to = row.querySelector(".remap-to").value.trim();
        if (!to) throw new Error(`give a new name for ${name}, or keep it`);
        if (to !== name) remap[name] = to;
      }
    }
    if (Object.keys(remap).length) out.remap = remap;
    return out;
  }

  function lines(title, items, empty, cls) {
    return h("section.result-part", {},
      h("h3", {}, title),
      items.length ? h(`ul.${cls}`, {}, items.map((x) => h("li", {}, x))) : h("p.muted.result-empty", {}, empty),
    );
  }

  function showResult(job) {
    result.hidden = false;
    result.classList.remove("failed", "cancelled");
    if (job.status === "failed") {
      result.classList.add("failed");
      result.replaceChildren(h("strong", {}, "Export failed: "), h("span.error-text", {}, job.error || "the job failed without a reason"));
      return;
    }
    if (job.status === "cancelled") {
      result.classList.add("cancelled");
      result.replaceChildren(h("strong", {}, "The export was cancelled."));
      return;
    }
    const r = job.result || {};
    const report = r.report || {};
    const converted = [
      ...Object.entries(r.remap || {}).map(([what, n]) => `${fmt.format(n)} ${what}`),
      ...(report.summary || []),
    ];
    const checks = Object.entries((r.checks && r.checks.counts) || {}).map(([rule, n]) => `${statusText(rule)}: ${fmt.format(n)}`);
    const order = (name) => {
      const i = SPLITS.findIndex(([n]) => n === name);
      return i < 0 ? SPLITS.length : i;
    };
    const splits = Object.entries(r.splits || {}).sort(([a], [b]) => order(a) - order(b) || a.localeCompare(b)).map(([name, n]) => `${name}: ${fmt.format(n)} image${n === 1 ? "" : "s"}`);
    result.replaceChildren(...[
      h("div.result-head", {},
        h("div", {},
          h("strong", {}, "Export ready"),
          h("span.muted", {}, ` · ${fmt.format(r.items || 0)} image${r.items === 1 ? "" : "s"}, ${fmt.format(r.shapes || 0)} shape${r.shapes === 1 ? "" : "s"}${r.size_bytes != null ? `, ${formatBytes(r.size_bytes)}` : ""}`),
        ),
        h("a.button.primary", { id: "export-download", href: jobs.downloadUrl(job.id), download: "" }, "Download zip"),
      ),
      splits.length ? lines("Split", splits, "", "split-counts") : null,
      lines("Dropped or converted", converted, "Nothing was dropped or converted.", "report-lines"),
      lines("Checks", checks, "No geometry problems found.", "check-counts"),
    ].filter(Boolean));
  }

  // what the running export was asked for, in one line
  function describe(req) {
    const parts = [req.format];
    parts.push(req.statuses ? req.statuses.map(statusText).join(", ") : "every status");
    if (req.labels) parts.push(`labels ${req.labels.join(", ")}`);
    if (req.include_images) parts.push("with images");
    if (req.split) parts.push(`split ${req.split.replace(/=([\d.]+)/g, (_, v) => ` ${+(100 * v).toFixed(2)}%`).replace(/,/g, ", ")}, seed ${req.seed}${req.stratify ? ", stratified" : ""}`);
    if (req.remap) parts.push(`remap ${Object.entries(req.remap).map(([a, b]) => (b === null ? `drop ${a}` : `${a} → ${b}`)).join(", ")}`);
    return parts.join(" · ");
  }

  // the settings, or the job's progress and result
  function showForm(on) {
    form.hidden = !on;
    summary.hidden = on;
    back.hidden = on;
    if (on) {
      progress.reset();
      result.hidden = true;
    }
  }

  function setRunning(on) {
    fieldset.disabled = on;
    start.disabled = on;
    back.disabled = on;
    cancel.hidden = !(on && canCancel);
  }

  back.addEventListener("click", () => showForm(true));

  cancel.addEventListener("click", async () => {
    if (!running) return;
    cancel.disabled = true;
    try {
      await jobs.cancelJob(running, { signal: local.signal });
    } catch (err) {
      if (!api.isQuiet(err)) error.textContent = api.message(err);
    } finally {
      cancel.disabled = false;
    }
  });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (running) return;
    error.textContent = "";
    let req;
    try {
      req = body();
    } catch (err) {
      error.textContent = err.message;
      return;
    }
    setRunning(true);
    result.hidden = true;
    summary.textContent = describe(req);
    showForm(false);
    progress.upload(0, "Starting the export…");
    try {
      const job = await jobs.startExport(projectId, req, { signal: local.signal });
      running = job.id;
      bus.emit("jobs:changed", { projectId });
      const last = await jobs.watchJob(job.id, { signal: local.signal, onUpdate: progress.job });
      showResult(last);
      bus.emit("jobs:changed", { projectId });
    } catch (err) {
      if (api.isQuiet(err)) return;
      showForm(true);
      error.textContent = api.message(err);
    } finally {
      running = null;
      if (!local.signal.aborted) {
        setRunning(false);
        start.textContent = "Export again";
      }
    }
  });

  showSplit();
  dlg.open(parent);
  load();
  return dlg;
}
