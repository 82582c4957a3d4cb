// The attributes of the selected shape, as the label's schema declares them ({name, kind, options,
// default, required, minimum, maximum}, see core/schema.py): select, checkbox,
// number and text fields with their defaults; required ones marked and checked; each change is
// one undoable command. Several selected shapes of one label are edited together.

import { batch, updateShape } from "../commands.js";
import { h } from "../dom.js";

// The problems of `values` against the label's attributes: [{name, message}].
export function attributeProblems(label, values) {
  const out = [];
  for (const a of (label && label.attributes) || []) {
    const v = values ? values[a.name] : undefined;
    const empty = v === undefined || v === null || v === "";
    if (empty) {
      if (a.required) out.push({ name: a.name, message: `${a.name} is required` });
      continue;
    }
    if (a.kind === "number" && !(typeof v === "number" && Number.isFinite(v))) out.push({ name: a.name, message: `${a.name} must be a number` });
    else if (a.kind === "number" && a.minimum != null && v < a.minimum) out.push({ name: a.name, message: `${a.name} must be at least ${a.minimum}` });
    else if (a.kind === "number" && a.maximum != null && v > a.maximum) out.push({ name: a.name, message: `${a.name} must be at most ${a.maximum}` });
    else if (a.kind === "select" && Array.isArray(a.options) && a.options.length && !a.options.includes(v)) out.push({ name: a.name, message: `${a.name} must be one of ${a.options.join(", ")}` });
    else if (a.kind === "checkbox" && typeof v !== "boolean") out.push({ name: a.name, message: `${a.name} must be true or false` });
  }
  return out;
}

export function attributesPanel(editor) {
  const body = h("div.attr-body", { id: "attributes" });
  const el = h("section.panel.attributes-panel", { id: "attributes-panel" }, h("h2", {}, "Attributes"), body);

  function set(shapes, name, value) {
    const cmds = shapes.map((s) => updateShape(editor.doc, s.uid, (c) => {
      c.attributes = { ...(c.attributes || {}) };
      if (value === undefined) delete c.attributes[name];
      else c.attributes[name] = value;
    }, { name: "attribute" }));
    editor.run(batch(cmds, { name: "attribute" }));
  }

  function field(a, shapes) {
    const v = shapes[0].attributes ? shapes[0].attributes[a.name] : undefined;
    const same = shapes.every((s) => (s.attributes || {})[a.name] === v);
    const id = `attr-${a.name.replace(/[^\w-]/g, "_")}`;
    const ro = editor.readOnly || shapes.some((s) => s.locked);
    let input;
    if (a.kind === "checkbox") {
      input = h("input", { type: "checkbox", id, checked: v === true, indeterminate: !same, disabled: ro, onchange: () => set(shapes, a.name, input.checked) });
    } else if (a.kind === "select") {
      input = h("select", { id, disabled: ro, onchange: () => set(shapes, a.name, input.value === "" ? undefined : input.value) },
        h("option", { value: "" }, same ? "—" : "(several)"),
        (a.options || []).map((x) => h("option", { value: x, selected: same && v === x }, x)));
    } else if (a.kind === "number") {
      input = h("input", { type: "number", id, value: same && v != null ? String(v) : "", placeholder: same ? "" : "(several)", min: a.minimum ?? undefined, max: a.maximum ?? undefined, step: "any", disabled: ro });
      input.addEventListener("change", () => {
        const t = input.value.trim();
        set(shapes, a.name, t === "" ? undefined : Number(t));
      });
    } else {
      input = h("input", { type: "text", id, value: same && v != null ? String(v) : "", placeholder: same ? "" : "(several)", disabled: ro });
      input.addEventListener("change", () => set(shapes, a.name, input.value === "" ? undefined : input.value));
    }
    input.dataset.attribute = a.name;
    return h("div.attr-row", {},
      h("label", { for: id }, a.name, a.required ? h("span.required", { title: "required" }, " *") : null),
      input);
  }

  function render() {
    const shapes = editor.doc.selected();
    if (!shapes.length) {
      body.replaceChildren(h("p.muted", {}, "Select a shape to see its attributes."));
      return;
    }
    const labels = new Set(shapes.map((s) => s.label));
    if (labels.size > 1) {
      body.replaceChildren(h("p.muted", {}, `${shapes.length} shapes of ${labels.size} labels selected: select shapes of one label to edit attributes.`));
      return;
    }
    const label = editor.label(shapes[0].label);
    const attrs = (label && label.attributes) || [];
    if (!attrs.length) {
      body.replaceChildren(h("p.muted", {}, `“${shapes[0].label}” has no attributes.`));
      return;
    }
    const problems = shapes.flatMap((s) => attributeProblems(label, s.attributes));
    body.replaceChildren(...attrs.map((a) => field(a, shapes)));
    if (problems.length) body.append(h("ul.attr-problems", { id: "attr-problems" }, [...new Set(problems.map((p) => p.message))].map((m) => h("li", {}, m))));
  }

  const offs = [editor.bus.on("selection", render), editor.bus.on("changed", ({ uids }) => {
    if (!uids || editor.doc.selection.some((u) => uids.has(u))) render();
  })];
  render();
  return { el, destroy: () => offs.forEach((f) => f()) };
}
