// The quality dashboard of a project (#/projects/{id}/quality): agreement per annotator pair (a
// heat map of F1) and per label, ground-truth accuracy per annotator against the retraining
// threshold, throughput, review throughput, open comments and progress over time. One request:
// GET /projects/{id}/quality. Reviewers can write the consensus of every asset two people
// annotated from here: a job (POST /projects/{id}/consensus) with its progress and result.

import * as api from "../api.js";
import { fmt, h } from "../dom.js";
import * as jobs from "../jobs.js";
import { atLeast } from "../panels/members.js";
import { barChart, heatmap, lineChart } from "../render/plot.js";

const num = (v, digits = 2) => (v === null || v === undefined ? "n/a" : Number(v).toFixed(digits));

function table(id, head, rows) {
  return h("table.quality-table", { id, style: { borderCollapse: "collapse", fontSize: "13px", margin: "6px 0 14px" } },
    h("thead", {}, h("tr", {}, head.map((x) => h("th", { style: { textAlign: "left", padding: "2px 12px 4px 0", color: "#6b7280", fontWeight: 500 } }, x)))),
    h("tbody", {}, rows.map((r) => h("tr", { dataset: r.data || {} }, r.cells.map((c) => h("td", { style: { padding: "3px 12px 3px 0", borderTop: "1px solid #f0f2f5" } }, c))))),
  );
}

function section(title, ...body) {
  return h("section.card.quality-section", { style: { padding: "12px 16px", marginBottom: "14px" } }, h("h2", { style: { fontSize: "15px", margin: "0 0 8px" } }, title), ...body);
}

function agreementSection(q) {
  const pairs = q.agreement.pairs;
  const names = [...new Set(pairs.flatMap((p) => [p.a, p.b]))].sort();
  const f1 = new Map(pairs.flatMap((p) => [[`${p.a}\n${p.b}`, p.f1], [`${p.b}\n${p.a}`, p.f1]]));
  const body = [h("p.muted", {}, `${fmt.format(q.agreement.assets)} assets annotated by two people or more.`)];
  if (!pairs.length) {
    body.push(h("p.empty", { id: "quality-no-agreement" }, "No asset has two people's work yet: set an overlap above 1 to measure agreement."));
    return section("Agreement", ...body);
  }
  body.push(h("h3", { style: { fontSize: "13px" } }, "Per annotator pair (F1 of matched shapes)"),
    heatmap(names, (a, b) => f1.get(`${a}\n${b}`) ?? null, { id: "quality-pairs", title: "F1 per annotator pair" }),
    table("quality-pair-table", ["pair", "assets", "F1", "precision", "recall", "mean IoU"],
      pairs.map((p) => ({ data: { a: p.a, b: p.b }, cells: [`${p.a} · ${p.b}`, fmt.format(p.assets), num(p.f1), num(p.precision), num(p.recall), num(p.mean_iou)] }))),
    h("h3", { style: { fontSize: "13px" } }, "Per label"),
    table("quality-labels", ["label", "matched", "F1", "mean IoU"],
      q.agreement.labels.map((l) => ({ data: { label: l.label }, cells: [l.label, fmt.format(l.matched), num(l.f1), num(l.mean_iou)] }))),
  );
  if (q.agreement.tags.length) {
    body.push(table("quality-tags", ["tag label", "assets", "Krippendorff's alpha"],
      q.agreement.tags.map((t) => ({ cells: [t.label, fmt.format(t.assets), num(t.alpha)] }))));
  }
  return section("Agreement", ...body);
}

// The whole project's consensus: quorum and IoU, a button, the job's bar and what it wrote.
function consensusSection(pid, q, signal) {
  const quorum = h("input", { id: "consensus-quorum", type: "number", min: "0.05", max: "1", step: "0.05", value: "0.5", style: { width: "64px" } });
  const iou = h("input", { id: "consensus-iou", type: "number", min: "0.05", max: "1", step: "0.05", value: "0.5", style: { width: "64px" } });
  const fill = h("span.progress-fill", { style: { width: "0%" } });
  const bar = h("span.progress", { id: "consensus-progress", hidden: true, style: { display: "inline-block", width: "160px", verticalAlign: "middle" } }, fill);
  const status = h("span.muted", { id: "consensus-status", style: { marginLeft: "8px" } });
  const button = h("button.btn", { id: "project-consensus-button", type: "button" }, "Write consensus for all");
  button.addEventListener("click", async () => {
    button.disabled = true;
    bar.hidden = false;
    fill.style.width = "0%";
    status.textContent = "starting…";
    try {
      const job = await api.post(`/projects/${pid}/consensus`, { quorum: Number(quorum.value), iou: Number(iou.value) }, { signal });
      const done = await jobs.watchJob(job.id, {
        signal,
        onUpdate: (j) => {
          fill.style.width = `${Math.round(j.percent || 0)}%`;
          status.textContent = j.message || j.status;
        },
      });
      if (done.status !== "done") {
        status.textContent = done.error || done.status;
        status.className = "error";
        return;
      }
      const r = done.result;
      fill.style.width = "100%";
      status.className = "muted";
      status.dataset.merged = String(r.merged);
      status.textContent = `${fmt.format(r.merged)} assets merged, ${fmt.format(r.shapes)} shapes written; `
        + `${fmt.format(r.below_quorum)} clusters below the quorum, ${fmt.format(r.ties)} label ties; `
        + `${fmt.format(r.skipped)} assets without two people's work skipped.`;
    } catch (err) {
      if (api.isQuiet(err)) return;
      status.className = "error";
      status.textContent = api.message(err);
    } finally {
      button.disabled = false;
    }
  });
  return section("Consensus",
    h("p.muted", {}, "Merge the work of every asset that two or more people annotated (ground-truth references included, "
      + "models' pre-labels not) into its consensus annotation, replacing an earlier one."),
    h("div", { style: { display: "flex", gap: "10px", alignItems: "center", flexWrap: "wrap" } },
      h("label", {}, "quorum ", quorum), h("label", {}, "IoU ", iou), button, bar, status),
  );
}

function groundTruthSection(q) {
  const scored = q.annotators.filter((a) => a.ground_truth);
  const threshold = q.settings.retrain_threshold;
  if (!scored.length) {
    return section("Ground truth", h("p.empty", { id: "quality-no-gt" },
      `${fmt.format(q.assets.ground_truth)} ground-truth assets; no annotator has completed one yet.`));
  }
  return section("Ground truth",
    h("p.muted", {}, `Accuracy against ${fmt.format(q.assets.ground_truth)} ground-truth assets; below ${num(threshold)} needs retraining.`),
    barChart(scored.map((a) => ({ label: a.user, value: a.ground_truth.accuracy, note: `${a.ground_truth.assets} assets` })),
      { threshold, id: "quality-gt", title: "ground-truth accuracy per annotator" }),
    table("quality-gt-table", ["annotator", "assets", "accuracy", "precision", "recall", "missing", "extra", ""],
      scored.map((a) => ({ data: { user: a.user, retrain: String(a.needs_retraining) }, cells: [
        a.user, fmt.format(a.ground_truth.assets), num(a.ground_truth.accuracy), num(a.ground_truth.precision),
        num(a.ground_truth.recall), fmt.format(a.ground_truth.missing), fmt.format(a.ground_truth.extra),
        a.needs_retraining ? h("b.retrain", { style: { color: "#b42318" } }, "needs retraining") : "",
      ] }))),
  );
}

function throughputSection(q) {
  return section("Throughput",
    table("quality-annotators", ["annotator", "submitted", "accepted", "rejected", "active hours", "assets / h", "shapes / h", "agreement F1"],
      q.annotators.map((a) => ({ data: { user: a.user }, cells: [
        a.user, fmt.format(a.submissions), fmt.format(a.states.accepted), fmt.format(a.states.rejected),
        fmt.format(a.active_hours), num(a.assets_per_hour, 1), num(a.shapes_per_hour, 1), num(a.agreement_f1),
      ] }))),
    h("h3", { style: { fontSize: "13px" } }, "Review"),
    q.reviewers.length
      ? table("quality-reviewers", ["reviewer", "verdicts", "accepted", "rejected", "shape verdicts", "reviews / h"],
        q.reviewers.map((r) => ({ data: { user: r.user }, cells: [
          r.user, fmt.format(r.reviews), fmt.format(r.accepted), fmt.format(r.rejected), fmt.format(r.shape_verdicts), num(r.reviews_per_hour, 1),
        ] })))
      : h("p.empty", { id: "quality-no-reviews" }, "No verdicts yet."),
  );
}

function commentsSection(q) {
  const c = q.comments;
  return section("Open comments",
    h("p", { id: "quality-open-comments" }, h("b", {}, fmt.format(c.open)), " open, ", fmt.format(c.resolved), " resolved"),
    c.assets.length
      ? h("ul", { id: "quality-commented" }, c.assets.map((a) => h("li", {}, h("a", { href: `#/assets/${a.asset_id}` }, a.name), ` — ${a.open} open`)))
      : null,
  );
}

function progressSection(q) {
  if (!q.progress.length) return section("Progress", h("p.empty", {}, "Nothing submitted or reviewed yet."));
  const days = q.progress.map((d) => d.day);
  let sub = 0, acc = 0;
  const submitted = q.progress.map((d) => (sub += d.submitted));
  const accepted = q.progress.map((d) => (acc += d.accepted));
  return section("Progress over time",
    lineChart(days, [
      { name: "submitted (total)", color: "#2563eb", values: submitted },
      { name: "accepted (total)", color: "#16a34a", values: accepted },
      { name: "comments / day", color: "#d97706", values: q.progress.map((d) => d.comments) },
    ], { id: "quality-progress", title: "progress per day" }),
  );
}

export function mount(root, { params, app, signal }) {
  const pid = Number(params[0]);
  const body = h("div", { id: "quality-body", "aria-busy": "true" }, h("p.muted", {}, "Loading…"));
  const summary = h("div.project-stats", { id: "quality-summary" });
  const page = h("section.page.quality-page", {},
    h("div.page-main", {}, h("div.page-head", {}, h("h1", {}, "Quality")), summary, body));
  root.append(page);
  app.setCrumbs([{ text: "Projects", href: "#/projects" }, { text: `Project ${pid}`, href: `#/projects/${pid}` }, { text: "Quality" }]);

  (async () => {
    try {
      const [p, q] = await Promise.all([
        api.get(`/projects/${pid}`, null, { signal }),
        api.get(`/projects/${pid}/quality`, null, { signal }),
      ]);
      app.setCrumbs([{ text: "Projects", href: "#/projects" }, { text: p.name, href: `#/projects/${pid}` }, { text: "Quality" }]);
      const s = q.assets.by_status;
      summary.replaceChildren(
        h("span", {}, h("b", {}, fmt.format(q.assets.total)), " assets"),
        ...["new", "in_progress", "review", "done"].map((k) => h("span", {}, h("b", {}, fmt.format(s[k] || 0)), ` ${k.replace("_", " ")}`)),
        h("span", {}, "overlap ", h("b", {}, q.settings.overlap)),
      );
      const canMerge = atLeast(p.role, "reviewer");
      body.replaceChildren(agreementSection(q), ...(canMerge ? [consensusSection(pid, q, signal)] : []),
        groundTruthSection(q), throughputSection(q), commentsSection(q), progressSection(q));
      body.setAttribute("aria-busy", "false");
    } catch (err) {
      if (api.isQuiet(err)) return;
      body.replaceChildren(h("p.error", { id: "quality-error" }, api.message(err)));
      body.setAttribute("aria-busy", "false");
    }
  })();
  return { unmount() { page.remove(); } };
}
