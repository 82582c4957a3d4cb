// The quality dashboard of a project (#/projects/{id}/quality): agreement per annotator pair (a
// heat map of F1) and per label, ground-truth accuracy per annotator against the retraining
// threshold, throughput, review throughput, open comments and progress over time. One request:
// GET /projects/{id}/quality.

import * as api from "../api.js";
import { fmt, h } from "../dom.js";
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
      body.replaceChildren(agreementSection(q), groundTruthSection(q), throughputSection(q), commentsSection(q), progressSection(q));
      body.setAttribute("aria-busy", "false");
    } catch (err) {
      if (api.isQuiet(err)) return;
      body.replaceChildren(h("p.error", { id: "quality-error" }, api.message(err)));
      body.setAttribute("aria-busy", "false");
    }
  })();
  return { unmount() { page.remove(); } };
}
