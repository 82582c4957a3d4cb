// The viewer's side panel: the image's tags, and every other shape as a list (label, kind,
// owner). Hovering a row highlights the shape; the scene's hovering highlights the row.
//
// viewer: {items: [{key, shape, owner, color, name}], bus, setHighlight(key)}; the viewer's bus
// emits "highlight" with the key (or null).

import { h, swatch } from "../dom.js";

const KIND = { rotated_box: "rotated box" };

function detail(shape) {
  const g = shape.geometry || {};
  switch (shape.kind) {
    case "box":
    case "rotated_box":
      return `${Math.round(g.w)}×${Math.round(g.h)}`;
    case "polygon":
    case "polyline":
    case "points":
      return `${(g.points || []).length} pts${g.holes && g.holes.length ? `, ${g.holes.length} hole${g.holes.length > 1 ? "s" : ""}` : ""}`;
    case "skeleton":
      return `${(g.points || []).filter((p) => p[2] > 0).length}/${(g.points || []).length} pts`;
    default:
      return "";
  }
}

export function objectsPanel(viewer) {
  const tags = viewer.items.filter((it) => it.shape.kind === "tag");
  const objects = viewer.items.filter((it) => it.shape.kind !== "tag");
  const rows = new Map();

  const objectRows = objects.map((it) => {
    const s = it.shape;
    const source = s.source && s.source !== "manual"
      ? `${s.source}${s.confidence != null ? ` ${Math.round(s.confidence * 100)}%` : ""}`
      : "";
    const row = h("li.object-row", {
      dataset: { key: it.key, kind: s.kind },
      tabindex: "0",
      onmouseenter: () => viewer.setHighlight(it.key),
      onmouseleave: () => viewer.setHighlight(null),
      onfocus: () => viewer.setHighlight(it.key),
      onblur: () => viewer.setHighlight(null),
    },
      swatch(it.color),
      h("span.object-label", {}, it.name),
      h("span.object-kind", {}, KIND[s.kind] || s.kind),
      h("span.object-owner", { title: source ? `by ${it.owner}, from ${source}` : `by ${it.owner}` }, it.owner, source ? h("span.muted", {}, ` · ${source}`) : null),
      h("span.object-detail.muted", {}, detail(s)),
    );
    rows.set(it.key, row);
    return row;
  });

  const off = viewer.bus.on("highlight", (key) => {
    for (const [k, row] of rows) row.classList.toggle("hot", k === key);
    const row = key !== null ? rows.get(key) : null;
    if (row) row.scrollIntoView({ block: "nearest" });
  });

  const el = h("aside.viewer-side", { id: "objects-panel" },
    h("section.panel.tags-panel", { id: "tags-panel" },
      h("h2", {}, "Tags ", h("span.muted", {}, String(tags.length))),
      tags.length
        ? h("ul.tag-list", {}, tags.map((it) => h("li.tag", { dataset: { label: it.name }, title: `by ${it.owner}` }, swatch(it.color), it.name, h("span.muted", {}, ` · ${it.owner}`))))
        : h("p.muted", {}, "No tags."),
    ),
    h("section.panel.objects-panel", {},
      h("h2", {}, "Objects ", h("span.muted", {}, String(objects.length))),
      objects.length ? h("ul.object-list", { id: "object-list" }, objectRows) : h("p.muted", {}, "No shapes on this image yet."),
    ),
  );
  return { el, destroy: off };
}
