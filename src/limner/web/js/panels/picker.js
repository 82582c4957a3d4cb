// The label picker: the project's labels numbered 1–9 (the digit keys pick them), a search box
// (`/`), and the active label marked. Picking also relabels the selection (the workspace's
// onPick does that).

import { h, swatch } from "../dom.js";

export function labelPicker(editor, { onPick = () => {} } = {}) {
  const search = h("input", { type: "search", id: "label-search", placeholder: "Search labels  ( / )", "aria-label": "Search labels", autocomplete: "off" });
  const list = h("ul.label-picker", { id: "label-picker", role: "listbox", "aria-label": "Labels" });
  let shown = [];

  function pick(name) {
    editor.setActiveLabel(name);
    onPick(name);
  }

  function render() {
    const q = search.value.trim().toLowerCase();
    shown = editor.labels.filter((l) => !q || l.name.toLowerCase().includes(q));
    list.replaceChildren(...shown.map((l, i) => h("li.picker-row", {
      role: "option", dataset: { label: l.name }, "aria-selected": String(l.name === editor.activeLabel),
      class: l.name === editor.activeLabel ? "active" : "",
      title: `${l.name}${i < 9 ? ` (${i + 1})` : ""}${(l.kinds || []).length ? ` — ${l.kinds.join(", ").replace(/_/g, " ")}` : ""}`,
      onclick: () => pick(l.name),
    },
      h("kbd.picker-key", {}, i < 9 ? String(i + 1) : ""),
      swatch(l.color),
      h("span.picker-name", {}, l.name),
    )));
  }

  search.addEventListener("input", render);
  search.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && shown[0]) {
      pick(shown[0].name);
      search.value = "";
      render();
      search.blur();
      e.preventDefault();
    } else if (e.key === "Escape") {
      search.value = "";
      render();
      search.blur();
    }
  });
  const off = editor.bus.on("label", render);
  render();

  const el = h("section.panel.picker-panel", { id: "picker-panel" }, h("h2", {}, "Labels"), search, list);
  return {
    el,
    // the n-th label as numbered on screen (0-based), filtered by the search
    labelAt: (n) => shown[n] || null,
    focusSearch() {
      search.focus();
      search.select();
    },
    destroy: off,
  };
}
