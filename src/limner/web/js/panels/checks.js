// The automatic checks of a project, on its page: run them, see the count per rule (click one to
// list only its findings), each finding naming the image, the shape and the rule with a link that
// opens the workspace on that shape, and the class balance.

import * as api from "../api.js";
import { fmt, h } from "../dom.js";

const SHOWN = 200;

export function checksPanel({ projectId, signal }) {
  const run = h("button", { type: "button", id: "checks-run", title: "Run every check on the project's annotations" }, "Run checks");
  const summary = h("div.checks-summary", { id: "checks-summary" }, h("p.muted", {}, "Unlabelled images, shapes outside the image, degenerate or invalid shapes, duplicates, missing attributes, outliers…"));
  const list = h("ul.check-findings", { id: "check-findings" });
  const balance = h("div.check-balance", { id: "check-balance" });
  const el = h("section.panel.checks-panel", { id: "checks-panel" },
    h("div.panel-head", {}, h("h2", {}, "Checks"), run), summary, list, balance);
  let report = null;

  async function go(rule = null) {
    run.disabled = true;
    run.textContent = "Checking…";
    try {
      const q = new URLSearchParams({ limit: String(SHOWN) });
      if (rule) q.append("rule", rule);
      const r = await api.get(`/projects/${projectId}/checks?${q}`, null, { signal });
      if (!rule) report = r;
      render(r, rule);
    } catch (err) {
      api.report(err);
    } finally {
      run.disabled = false;
      run.textContent = "Run checks";
    }
  }

  function render(r, rule) {
    const base = report || r;
    summary.replaceChildren(
      h("p", {}, base.total ? `${fmt.format(base.total)} findings on ${fmt.format(base.items)} images, ${fmt.format(base.shapes)} shapes (${base.seconds} s)` : `No findings on ${fmt.format(base.items)} images, ${fmt.format(base.shapes)} shapes.`),
      h("div.rule-chips", {}, base.rules.filter((x) => x.count).map((x) => h("button.chip.rule-chip", {
        type: "button", class: rule === x.name ? "active" : "", dataset: { rule: x.name }, title: x.description,
        onclick: () => (rule === x.name ? render(report, null) : go(x.name)),
      }, `${x.name.replace(/_/g, " ")} ${fmt.format(x.count)}`))),
    );
    list.replaceChildren(...r.findings.map((f) => h("li.finding", { dataset: { rule: f.rule } },
      f.asset_id != null
        ? h("a", { href: `#/assets/${f.asset_id}?project=${projectId}${f.shape != null ? `&shape=${f.shape}` : ""}`, title: "Open in the workspace" }, f.item)
        : h("span", {}, f.item),
      f.shape != null ? h("span.muted", {}, ` shape ${f.shape + 1}`) : null,
      h("span.chip", {}, f.rule.replace(/_/g, " ")),
      h("div.finding-message", {}, f.message))));
    if (r.truncated) list.append(h("li.muted", {}, `the first ${r.findings.length} of ${fmt.format(rule ? r.counts[rule] : r.total)} are listed`));
    const b = base.balance;
    if (b && b.labels) {
      const max = Math.max(1, ...Object.values(b.labels));
      balance.replaceChildren(h("h3", {}, "Shapes per label", b.ratio ? h("span.muted", {}, ` · most/least ${b.ratio.toFixed(1)}×`) : null),
        h("table.balance-table", {}, h("tbody", {}, Object.entries(b.labels).map(([name, n]) => h("tr", { dataset: { label: name } },
          h("td", {}, name), h("td.num", {}, fmt.format(n)),
          h("td.bar-cell", {}, h("span.bar", { style: { width: `${(100 * n) / max}%` } })))))));
    }
  }

  run.addEventListener("click", () => go());
  return { el };
}
