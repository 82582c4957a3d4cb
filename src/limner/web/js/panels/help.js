// The `?` overlay: every shortcut, grouped, from the one table in keys.js (and the tools').

import { modal } from "../dialogs/modal.js";
import { h } from "../dom.js";
import { BINDINGS, keyText, toolBindings } from "../keys.js";

export function showHelp(parent) {
  if (document.getElementById("help-dialog")) return;
  const all = [...toolBindings(), ...BINDINGS];
  const groups = [...new Set(all.map((b) => b.group))];
  const body = groups.map((g) => {
    const seen = new Map();
    for (const b of all.filter((x) => x.group === g)) {
      const k = b.title;
      if (!seen.has(k)) seen.set(k, []);
      seen.get(k).push(b.keys);
    }
    return h("section.help-group", {},
      h("h3", {}, g),
      h("table.help-table", {}, h("tbody", {}, [...seen].map(([title, keys]) => h("tr", {},
        h("td", {}, keys.map((k, i) => [i ? " / " : "", h("kbd", {}, keyText(k))])),
        h("td", {}, title))))));
  });
  const m = modal({
    id: "help-dialog",
    title: "Keyboard shortcuts",
    body: [h("div.help-grid", {}, body), h("p.muted", {}, "Wheel: zoom about the pointer. Middle button, or Space + drag: pan. Double-click an object in the list: zoom to it.")],
    footer: [h("button", { type: "button", onclick: () => m.close() }, "Close")],
  });
  m.open(parent);
}
