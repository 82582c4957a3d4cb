// The label schema as a list: colour swatch, name (children under their parent), allowed kinds.

import { h, swatch } from "../dom.js";

function kindsText(label) {
  return label.kinds && label.kinds.length ? label.kinds.map((k) => k.replace(/_/g, " ")) : ["any kind"];
}

// labels: the items of GET /projects/{id}/labels
export function labelsPanel(labels) {
  const byParent = new Map();
  for (const lb of labels) {
    const key = lb.parent || "";
    if (!byParent.has(key)) byParent.set(key, []);
    byParent.get(key).push(lb);
  }
  const names = new Set(labels.map((l) => l.name));
  const rows = [];
  const walk = (parent, depth) => {
    for (const lb of byParent.get(parent) || []) {
      rows.push(row(lb, depth));
      if (depth < 8) walk(lb.name, depth + 1);
    }
  };
  walk("", 0);
  // labels whose parent is missing from the list still show
  for (const lb of labels) if (lb.parent && !names.has(lb.parent)) rows.push(row(lb, 0));

  return h("section.panel.labels-panel", { id: "labels-panel" },
    h("h2", {}, "Labels ", h("span.muted", {}, String(labels.length))),
    labels.length
      ? h("ul.label-list", {}, rows)
      : h("p.muted", {}, "No labels yet. Add them through the API or the SDK."),
  );
}

function row(lb, depth) {
  const extra = [];
  if (lb.skeleton && lb.skeleton.points) extra.push(`${lb.skeleton.points.length} keypoints`);
  if (lb.attributes && lb.attributes.length) extra.push(`${lb.attributes.length} attribute${lb.attributes.length > 1 ? "s" : ""}`);
  return h("li.label-row", { dataset: { label: lb.name }, style: { paddingLeft: `${depth * 16}px` } },
    swatch(lb.color),
    h("span.label-name", { title: lb.color }, lb.name),
    h("span.kinds", {}, kindsText(lb).map((k) => h("span.chip", {}, k))),
    extra.length ? h("span.label-extra.muted", {}, extra.join(" · ")) : null,
  );
}
