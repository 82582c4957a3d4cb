// The label schema as a list: colour swatch, name (children under their parent), allowed kinds.
// A row opens the schema editor on that label (read-only below the manager role); managers also
// get a button to add a label.

import { h, swatch } from "../dom.js";

function kindsText(label) {
  return label.kinds && label.kinds.length ? label.kinds.map((k) => k.replace(/_/g, " ")) : ["any kind"];
}

// labels: the items of GET /projects/{id}/labels; onOpen(name or "new") opens the schema editor
export function labelsPanel(labels, { canEdit = false, onOpen = null } = {}) {
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
      rows.push(row(lb, depth, onOpen));
      if (depth < 8) walk(lb.name, depth + 1);
    }
  };
  walk("", 0);
  // labels whose parent is missing from the list still show
  for (const lb of labels) if (lb.parent && !names.has(lb.parent)) rows.push(row(lb, 0, onOpen));

  return h("section.panel.labels-panel", { id: "labels-panel" },
    h("div.panel-head", {},
      h("h2", {}, "Labels ", h("span.muted", {}, String(labels.length))),
      onOpen && canEdit ? h("button.small", { type: "button", id: "labels-edit", onclick: () => onOpen(labels.length ? labels[0].name : "new") }, "Edit labels") : null,
    ),
    labels.length
      ? h("ul.label-list", {}, rows)
      : h("p.muted", {}, canEdit ? "No labels yet: define the first one." : "No labels yet."),
    onOpen && canEdit ? h("button.small", { type: "button", id: "labels-add", onclick: () => onOpen("new") }, "+ Add label") : null,
  );
}

function row(lb, depth, onOpen) {
  const extra = [];
  if (lb.skeleton && lb.skeleton.points) extra.push(`${lb.skeleton.points.length} keypoints`);
  if (lb.attributes && lb.attributes.length) extra.push(`${lb.attributes.length} attribute${lb.attributes.length > 1 ? "s" : ""}`);
  const open = onOpen ? () => onOpen(lb.name) : null;
  return h("li.label-row", {
    dataset: { label: lb.name }, style: { paddingLeft: `${depth * 16}px` },
    class: open ? "clickable" : "", tabindex: open ? "0" : null, title: open ? `Show ${lb.name} in the schema editor` : null,
    onclick: open, onkeydown: open ? (e) => { if (e.key === "Enter") open(); } : null,
  },
    swatch(lb.color),
    h("span.label-name", { title: lb.color }, lb.name),
    h("span.kinds", {}, kindsText(lb).map((k) => h("span.chip", {}, k))),
    extra.length ? h("span.label-extra.muted", {}, extra.join(" · ")) : null,
  );
}
