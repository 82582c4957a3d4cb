// Image-level tags: the labels that allow the `tag` kind, as toggles. Turning one on adds a tag
// shape, off removes it; each is one undoable command. Required attributes of a tag are edited
// in the attributes panel after selecting the tag's row.

import { addShapes, removeShapes } from "../commands.js";
import { h, swatch } from "../dom.js";
import { defaultAttributes } from "../editor.js";

export function tagsPanel(editor) {
  const list = h("ul.tag-toggles", { id: "tag-toggles" });
  const el = h("section.panel.tags-panel", { id: "tags-panel" }, h("h2", {}, "Tags"), list);
  const tagLabels = editor.labels.filter((l) => (l.kinds || []).includes("tag"));

  function toggle(label) {
    const have = editor.doc.shapes.filter((s) => s.kind === "tag" && s.label === label.name);
    if (have.length) editor.run(removeShapes(have.map((s) => s.uid), { name: "untag" }));
    else {
      const shape = {
        kind: "tag", label: label.name, geometry: {}, attributes: defaultAttributes(label),
        z_order: 0, group_id: null, track_id: null, source: "manual", confidence: null,
      };
      editor.run(addShapes([shape], { name: "tag", select: false }));
    }
  }

  function render() {
    const on = new Map(editor.doc.shapes.filter((s) => s.kind === "tag").map((s) => [s.label, s]));
    const others = [...on.keys()].filter((n) => !tagLabels.some((l) => l.name === n));
    if (!tagLabels.length && !others.length) {
      list.replaceChildren(h("li.muted", {}, "No label of this project is a tag."));
      return;
    }
    list.replaceChildren(
      ...tagLabels.map((l) => {
        const s = on.get(l.name);
        return h("li.tag-toggle", { dataset: { label: l.name } },
          h("label", {},
            h("input", { type: "checkbox", checked: !!s, disabled: editor.readOnly, onchange: () => toggle(l) }),
            swatch(l.color), " ", l.name),
          s && (l.attributes || []).length
            ? h("button.link", { type: "button", title: "Edit this tag's attributes", onclick: () => editor.doc.select([s.uid]) }, "attributes")
            : null);
      }),
      ...others.map((n) => h("li.tag-toggle.muted", { dataset: { label: n } }, `${n} (not a tag label)`)),
    );
  }

  const off = editor.bus.on("changed", render);
  render();
  return { el, destroy: off };
}
