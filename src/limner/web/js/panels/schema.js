// The label-schema editor: a dialog with the project's labels on the left and one label's form on
// the right: name, colour (picker and a palette of distinct colours), allowed shape kinds,
// attributes (select / checkbox / number / text, with values, default, required, min and max),
// parent label and, for skeletons, the keypoint template (panels/skeleton.js).
//
// Managers edit (POST / PATCH / DELETE /projects/{id}/labels); everyone else reads the same form
// with its inputs disabled. The server checks every rule; its sentence shows next to the field its
// answer names ("name", "attributes[2].options", "skeleton.points", ...), and a sentence that names
// no field (a label in use cannot be deleted) shows by the buttons.

import * as api from "../api.js";
import { h, swatch } from "../dom.js";
import { skeletonEditor } from "./skeleton.js";

export const SHAPE_KINDS = ["tag", "box", "rotated_box", "polygon", "polyline", "points", "skeleton", "ellipse", "mask"];
export const ATTRIBUTE_KINDS = ["select", "checkbox", "number", "text"];
// twenty colours that stay apart from each other on photographs
export const PALETTE = [
  "#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45", "#fabed4",
  "#469990", "#dcbeff", "#9a6324", "#fffac8", "#800000", "#aaffc3", "#808000", "#ffd8b1", "#000075", "#a9a9a9",
];
const kindText = (k) => k.replace(/_/g, " ");

// The first palette colour no label uses yet (then round again).
export function nextColor(labels) {
  const used = new Set(labels.map((l) => String(l.color).toLowerCase()));
  return PALETTE.find((c) => !used.has(c)) || PALETTE[labels.length % PALETTE.length];
}

// Where the server's `field` shows: {key: name|color|kinds|parent|skeleton|attributes|form} or
// {key: "attribute", row, part} for "attributes[2].options".
export function errorPlace(field) {
  if (!field) return { key: "form" };
  const m = /^attributes\[(\d+)\](?:\.(\w+))?/.exec(field);
  if (m) return { key: "attribute", row: Number(m[1]), part: m[2] || null };
  const head = field.split(/[.[]/)[0];
  return ["name", "color", "kinds", "parent", "skeleton", "attributes"].includes(head) ? { key: head } : { key: "form" };
}

// Labels that must not become the parent of `name`: itself and its descendants.
function lineage(labels, name) {
  const out = new Set([name]);
  for (let grew = true; grew;) {
    grew = false;
    for (const l of labels) {
      if (l.parent && out.has(l.parent) && !out.has(l.name)) {
        out.add(l.name);
        grew = true;
      }
    }
  }
  return out;
}

const fieldError = (key) => h("p.field-error", { dataset: { for: key }, role: "alert" });

// -- one attribute row --------------------------------------------------------------------------

const PART_INPUT = { name: ".sa-name", kind: ".sa-type", options: ".sa-values", default: ".sa-default", minimum: ".sa-min", maximum: ".sa-max", required: ".sa-required input" };

function attributeRow(attr, { readOnly, onChange, onRemove }) {
  const st = {
    name: attr.name || "", kind: attr.kind || "text", options: [...(attr.options || [])],
    default: attr.default ?? null, required: Boolean(attr.required), minimum: attr.minimum ?? null, maximum: attr.maximum ?? null,
  };
  const changed = () => onChange();
  const name = h("input.sa-name", { value: st.name, placeholder: "attribute name", "aria-label": "Attribute name", disabled: readOnly, maxlength: "100" });
  name.addEventListener("input", () => { st.name = name.value; changed(); });
  const type = h("select.sa-type", { "aria-label": "Attribute type", disabled: readOnly },
    ATTRIBUTE_KINDS.map((k) => h("option", { value: k, selected: k === st.kind }, k)));
  type.addEventListener("change", () => {
    st.kind = type.value;
    st.default = null; // a default of another type means nothing now
    renderDetail();
    changed();
  });
  const required = h("label.check.sa-required", {}, h("input", { type: "checkbox", checked: st.required, disabled: readOnly, onchange: (e) => { st.required = e.target.checked; changed(); } }), "required");
  const remove = readOnly ? null : h("button.icon-button.sa-remove", { type: "button", title: "Remove this attribute", "aria-label": "Remove attribute", onclick: onRemove }, "×");
  const detail = h("div.sa-detail");
  const error = h("p.field-error", { role: "alert" });

  const num = (cls, label, key) => {
    const input = h(`input.${cls}`, { type: "number", step: "any", value: st[key] ?? "", "aria-label": label, placeholder: label, disabled: readOnly });
    input.addEventListener("input", () => {
      st[key] = input.value === "" || Number.isNaN(input.valueAsNumber) ? null : input.valueAsNumber;
      changed();
    });
    return input;
  };

  function defaultSelect() {
    const sel = h("select.sa-default", { "aria-label": "Default value", disabled: readOnly },
      h("option", { value: "" }, "no default"),
      st.options.map((o) => h("option", { value: o, selected: o === st.default }, o)));
    sel.addEventListener("change", () => { st.default = sel.value === "" ? null : sel.value; changed(); });
    return sel;
  }

  function renderDetail() {
    const parts = [];
    if (st.kind === "select") {
      const values = h("textarea.sa-values", { rows: "3", placeholder: "one value per line", "aria-label": "Values, one per line", disabled: readOnly }, st.options.join("\n"));
      let sel = defaultSelect();
      values.addEventListener("input", () => {
        st.options = values.value.split("\n").map((v) => v.trim()).filter(Boolean);
        if (st.default !== null && !st.options.includes(st.default)) st.default = null;
        const fresh = defaultSelect();
        sel.replaceWith(fresh);
        sel = fresh;
        changed();
      });
      parts.push(h("label.sa-sub", {}, "Values", values), h("label.sa-sub", {}, "Default", sel));
    } else if (st.kind === "checkbox") {
      const sel = h("select.sa-default", { "aria-label": "Default value", disabled: readOnly },
        h("option", { value: "", selected: st.default === null }, "no default"),
        h("option", { value: "true", selected: st.default === true }, "ticked"),
        h("option", { value: "false", selected: st.default === false }, "not ticked"));
      sel.addEventListener("change", () => { st.default = sel.value === "" ? null : sel.value === "true"; changed(); });
      parts.push(h("label.sa-sub", {}, "Default", sel));
    } else if (st.kind === "number") {
      parts.push(
        h("label.sa-sub", {}, "Min", num("sa-min", "Minimum", "minimum")),
        h("label.sa-sub", {}, "Max", num("sa-max", "Maximum", "maximum")),
        h("label.sa-sub", {}, "Default", num("sa-default", "Default value", "default")),
      );
    } else {
      const input = h("input.sa-default", { value: st.default ?? "", placeholder: "no default", "aria-label": "Default value", disabled: readOnly });
      input.addEventListener("input", () => { st.default = input.value === "" ? null : input.value; changed(); });
      parts.push(h("label.sa-sub", {}, "Default", input));
    }
    detail.replaceChildren(...parts);
  }
  renderDetail();

  const el = h("li.sa-row", {}, h("div.sa-main", {}, name, type, required, remove), detail, error);
  return {
    el,
    value: () => ({
      name: st.name.trim(),
      kind: st.kind,
      options: st.kind === "select" ? [...st.options] : [],
      default: st.default,
      required: st.required,
      minimum: st.kind === "number" ? st.minimum : null,
      maximum: st.kind === "number" ? st.maximum : null,
    }),
    setError(text, part) {
      error.textContent = text;
      const input = part && PART_INPUT[part] ? el.querySelector(PART_INPUT[part]) : null;
      if (input) {
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }
    },
    clearError() {
      error.textContent = "";
      el.querySelectorAll("[aria-invalid]").forEach((x) => x.removeAttribute("aria-invalid"));
    },
  };
}

// -- one label's form ---------------------------------------------------------------------------

// label: a label of the API, or a fresh {name: "", color, ...}; labels: all of them (for parents)
function labelForm(label, { labels, readOnly, onChange }) {
  let color = label.color;
  const errors = Object.fromEntries(["name", "color", "kinds", "parent", "attributes"].map((k) => [k, fieldError(k)]));

  const name = h("input", { id: "label-name", value: label.name, placeholder: "e.g. car", maxlength: "200", required: true, disabled: readOnly, autocomplete: "off" });
  name.addEventListener("input", () => onChange());

  const picker = h("input", { id: "label-color", type: "color", value: color.toLowerCase(), "aria-label": "Colour", disabled: readOnly });
  const palette = h("div.palette", { role: "group", "aria-label": "Palette" });
  const setColor = (c) => {
    color = c;
    picker.value = c.toLowerCase();
    palette.querySelectorAll("button").forEach((b) => b.classList.toggle("current", b.dataset.color === c.toLowerCase()));
    skeleton?.setColor(c);
    onChange();
  };
  picker.addEventListener("input", () => setColor(picker.value));
  palette.append(...PALETTE.map((c) => h("button.palette-swatch", {
    type: "button", title: c, "aria-label": `Colour ${c}`, disabled: readOnly, dataset: { color: c },
    class: c === color.toLowerCase() ? "current" : "", style: { background: c }, onclick: () => setColor(c),
  })));

  const kindBoxes = SHAPE_KINDS.map((k) => h("input", { type: "checkbox", value: k, checked: (label.kinds || []).includes(k), disabled: readOnly }));
  const kinds = h("div.kind-chips", { id: "label-kinds", role: "group", "aria-label": "Allowed shape kinds" },
    kindBoxes.map((box) => h("label.check.kind-chip", { dataset: { kind: box.value } }, box, kindText(box.value))));
  const checkedKinds = () => kindBoxes.filter((b) => b.checked).map((b) => b.value);

  const banned = lineage(labels, label.name);
  const parent = h("select", { id: "label-parent", disabled: readOnly },
    h("option", { value: "" }, "no parent"),
    labels.filter((l) => !label.name || !banned.has(l.name)).map((l) => h("option", { value: l.name, selected: l.name === label.parent }, l.name)));
  parent.addEventListener("change", () => onChange());

  const rows = [];
  const attrList = h("ol.sa-list", { id: "label-attributes" });
  const addRow = (attr) => {
    const row = attributeRow(attr, {
      readOnly,
      onChange,
      onRemove: () => {
        rows.splice(rows.indexOf(row), 1);
        row.el.remove();
        onChange();
      },
    });
    rows.push(row);
    attrList.append(row.el);
    return row;
  };
  (label.attributes || []).forEach(addRow);
  const addAttr = readOnly ? null : h("button", { type: "button", id: "attr-add", onclick: () => {
    addRow({ kind: "text" }).el.querySelector(".sa-name").focus();
    onChange();
  } }, "+ Add attribute");

  const hadSkeleton = Boolean(label.skeleton);
  const skeleton = skeletonEditor({ skeleton: label.skeleton, color, readOnly, onChange: () => onChange() });
  const skeletonBox = h("div.field.skeleton-field", {}, h("span.field-title", {}, "Skeleton"), skeleton.el);
  const showSkeleton = () => {
    const ks = checkedKinds();
    skeletonBox.hidden = !(hadSkeleton || !ks.length || ks.includes("skeleton"));
  };
  kindBoxes.forEach((b) => b.addEventListener("change", () => { showSkeleton(); onChange(); }));
  showSkeleton();

  const el = h("div.label-form", {},
    h("div.field", {}, h("label", { for: "label-name" }, "Name"), name, errors.name),
    h("div.field", {}, h("label", { for: "label-color" }, "Colour"), h("div.color-row", {}, picker, palette), errors.color),
    h("div.field", {}, h("label", { for: "label-parent" }, "Parent label"), parent, errors.parent),
    h("div.field", {}, h("span.field-title", {}, "Allowed shape kinds"), kinds,
      h("p.field-hint", {}, "None ticked: every kind is allowed."), errors.kinds),
    h("div.field", {}, h("span.field-title", {}, "Attributes"), attrList,
      rows.length || !readOnly ? null : h("p.muted", {}, "No attributes."), addAttr, errors.attributes),
    skeletonBox,
  );

  return {
    el,
    focus: () => name.focus(),
    payload: () => ({
      name: name.value.trim(),
      color,
      kinds: checkedKinds(),
      attributes: rows.map((r) => r.value()),
      parent: parent.value || null,
      skeleton: skeletonBox.hidden ? null : skeleton.value(),
    }),
    clearErrors() {
      Object.values(errors).forEach((e) => { e.textContent = ""; });
      el.querySelectorAll("[aria-invalid]").forEach((x) => x.removeAttribute("aria-invalid"));
      rows.forEach((r) => r.clearError());
      skeleton.setError("");
    },
    // show a sentence where its field is; false when the field is not in this form
    showError(field, text) {
      const at = errorPlace(field);
      if (at.key === "attribute" && rows[at.row]) rows[at.row].setError(text, at.part);
      else if (at.key === "skeleton" && !skeletonBox.hidden) skeleton.setError(text);
      else if (errors[at.key]) {
        errors[at.key].textContent = text;
        const input = { name, color: picker, parent, kinds: kindBoxes[0] }[at.key];
        if (input) input.setAttribute("aria-invalid", "true");
        if (at.key === "name") name.focus();
      } else return false;
      return true;
    },
  };
}

// -- the dialog ---------------------------------------------------------------------------------

// {projectId, canEdit, parent (element to append to), signal, select (a label name, or "new"),
//  onChanged(labels) after each save or delete, onClose()}
export function openSchemaEditor({ projectId, canEdit, parent, signal, select, onChanged, onClose }) {
  let labels = [];
  let current = null; // {key: name or "new", label, form, initial}
  let pending = null; // the choice that needs a second click to drop unsaved changes
  let deleteArmed = 0;

  const list = h("ul.schema-list", { id: "schema-list", "aria-busy": "true" });
  const formBox = h("div.schema-form", { id: "label-form" }, h("p.muted", {}, "Loading…"));
  const formError = h("p.form-error", { id: "label-form-error", role: "alert" });
  const status = h("span.muted.save-status", { id: "label-status", "aria-live": "polite" });
  const save = h("button.primary", { type: "button", id: "label-save", onclick: () => saveLabel() }, "Save label");
  const remove = h("button.danger", { type: "button", id: "label-delete", onclick: () => deleteLabel() }, "Delete label");
  const close = h("button", { type: "button", onclick: () => tryClose() }, "Close");
  const add = canEdit ? h("button", { type: "button", id: "label-new", onclick: () => choose("new") }, "+ New label") : null;

  const el = h("dialog.modal.schema-dialog", { id: "schema-editor", "aria-labelledby": "schema-editor-title" },
    h("div.modal-head", {},
      h("h2", { id: "schema-editor-title" }, canEdit ? "Label schema" : "Label schema (read-only)"),
      h("button.modal-x", { type: "button", "aria-label": "Close", title: "Close (Esc)", onclick: () => tryClose() }, "×"),
    ),
    h("div.modal-body.schema-body", {},
      h("div.schema-side", {}, list, add),
      formBox,
    ),
    h("div.modal-foot", {}, canEdit ? [save, remove] : null, status, h("span.spacer"), formError, close),
  );
  el.addEventListener("cancel", (e) => { // Escape
    e.preventDefault();
    tryClose();
  });
  el.addEventListener("close", () => {
    el.remove();
    onClose?.();
  });
  signal?.addEventListener("abort", () => el.open && el.close(), { once: true });

  const dirty = () => Boolean(canEdit && current && JSON.stringify(current.form.payload()) !== current.initial);

  // unsaved changes are dropped only on a second try, after a warning
  function mayLeave(target) {
    if (!dirty() || pending === target) return true;
    pending = target;
    formError.textContent = `“${current.label.name || "the new label"}” has unsaved changes: save them, or ${target === "close" ? "close" : "choose"} again to drop them.`;
    return false;
  }

  function tryClose() {
    if (mayLeave("close")) el.close();
  }

  function renderList() {
    list.removeAttribute("aria-busy");
    list.replaceChildren(...labels.map((l) => h("li.schema-row", {
      dataset: { label: l.name }, class: current?.key === l.name ? "current" : "",
      tabindex: "0", role: "button", onclick: () => choose(l.name),
      onkeydown: (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); choose(l.name); } },
    }, swatch(l.color), h("span.label-name", {}, l.name),
    h("span.muted.schema-kinds", {}, l.kinds.length ? l.kinds.map(kindText).join(", ") : "any kind"))));
    if (current?.key === "new") list.append(h("li.schema-row.current.new-row", {}, swatch(current.label.color), h("span.label-name", {}, "New label")));
    if (!labels.length && current?.key !== "new") list.append(h("li.muted.sk-empty", {}, "No labels yet."));
  }

  function choose(key, { force = false } = {}) {
    if (!force && current && current.key === key) return;
    if (!force && !mayLeave(key)) return;
    pending = null;
    deleteArmed = 0;
    remove.textContent = "Delete label";
    formError.textContent = "";
    status.textContent = "";
    const label = key === "new"
      ? { name: "", color: nextColor(labels), kinds: [], attributes: [], parent: null, skeleton: null }
      : labels.find((l) => l.name === key);
    if (!label) {
      current = null;
      formBox.replaceChildren(h("p.muted", {}, canEdit ? "Choose a label, or add a new one." : "No labels yet."));
      renderList();
      return;
    }
    const form = labelForm(label, { labels, readOnly: !canEdit, onChange: changed });
    current = { key, label, form, initial: JSON.stringify(form.payload()) };
    formBox.replaceChildren(h("h3.form-title", {}, key === "new" ? "New label" : label.name), form.el);
    remove.hidden = key === "new";
    save.textContent = key === "new" ? "Add label" : "Save label";
    renderList();
    if (canEdit && key === "new") form.focus();
  }

  function changed() {
    status.textContent = dirty() ? "unsaved changes" : "";
    if (pending) {
      pending = null;
      formError.textContent = "";
    }
  }

  async function reload(notify = true) {
    labels = (await api.get(`/projects/${projectId}/labels`, null, { signal })).items;
    if (notify) onChanged?.(labels);
  }

  async function saveLabel() {
    if (!current) return;
    const { form, key, label } = current;
    form.clearErrors();
    formError.textContent = "";
    const body = form.payload();
    save.disabled = remove.disabled = true;
    try {
      const saved = key === "new"
        ? await api.post(`/projects/${projectId}/labels`, body, { signal })
        : await api.patch(`/projects/${projectId}/labels/${label.id}`, body, { signal });
      await reload();
      choose(saved.name, { force: true });
      status.textContent = key === "new" ? "Added." : "Saved.";
    } catch (err) {
      if (api.isQuiet(err)) return;
      if (!(err instanceof api.ApiError) || !form.showError(err.field, err.detail)) formError.textContent = api.message(err);
    } finally {
      save.disabled = remove.disabled = false;
    }
  }

  async function deleteLabel() {
    if (!current || current.key === "new") return;
    formError.textContent = "";
    if (!deleteArmed) { // a second click within five seconds deletes
      remove.textContent = `Delete “${current.label.name}”?`;
      deleteArmed = setTimeout(() => { deleteArmed = 0; remove.textContent = "Delete label"; }, 5000);
      return;
    }
    clearTimeout(deleteArmed);
    deleteArmed = 0;
    remove.textContent = "Delete label";
    save.disabled = remove.disabled = true;
    try {
      await api.del(`/projects/${projectId}/labels/${current.label.id}`, { signal });
      await reload();
      choose(labels.length ? labels[0].name : canEdit ? "new" : "", { force: true });
      status.textContent = "Deleted.";
    } catch (err) {
      if (!api.isQuiet(err)) formError.textContent = api.message(err);
    } finally {
      save.disabled = remove.disabled = false;
    }
  }

  parent.append(el);
  el.showModal();
  (async () => {
    try {
      await reload(false);
      const first = select && (select === "new" || labels.some((l) => l.name === select)) ? select : labels[0]?.name || (canEdit ? "new" : "");
      choose(first, { force: true });
    } catch (err) {
      if (!api.isQuiet(err)) formError.textContent = api.message(err);
    }
  })();
  return { el, close: () => el.open && el.close() };
}
