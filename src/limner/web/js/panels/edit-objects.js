// The objects list of the workspace: every shape of the document with label, kind, source and
// group; click selects (Shift adds), double-click zooms to it; per row: hide, lock, raise,
// lower, delete. A label filter narrows the list. Other owners' shapes (people, models) follow
// in their own section, faded, with "take" to copy one into this annotation (accepting a model's
// suggestion keeps its source and confidence, so acceptance can be measured).
//
// The list is virtual: only the rows in view exist, so 10,000 shapes cost what 30 do.

import { addShapes, removeShapes, setZOrder } from "../commands.js";
import { h, swatch } from "../dom.js";
import { shapeBounds } from "../render/geometry.js";

const ROW = 28; // px, one row
const KIND = { rotated_box: "rot. box" };

function detail(s) {
  const g = s.geometry || {};
  if (s.kind === "box" || s.kind === "rotated_box") return `${Math.round(g.w)}×${Math.round(g.h)}`;
  if (["polygon", "polyline", "points"].includes(s.kind)) return `${(g.points || []).length} pts`;
  if (s.kind === "skeleton") return `${(g.points || []).filter((p) => p[2] > 0).length}/${(g.points || []).length}`;
  return "";
}

export function editObjectsPanel(editor) {
  const { doc } = editor;
  const filter = h("select", { id: "objects-filter", "aria-label": "Show the shapes of one label" },
    h("option", { value: "" }, "All labels"),
    editor.labels.map((l) => h("option", { value: l.name }, l.name)));
  const count = h("span.muted", { id: "objects-count" });
  const scroller = h("div.object-scroll", { id: "object-scroll" });
  const spacer = h("div.object-spacer");
  const rowsEl = h("ul.object-list", { id: "object-list" });
  scroller.append(spacer, rowsEl);
  const othersEl = h("ul.object-list.others", { id: "others-list" });
  let shown = [];
  let others = [];
  let frame = 0;

  const el = h("section.panel.objects-panel", { id: "objects-panel" },
    h("div.panel-head", {}, h("h2", {}, "Objects ", count), filter),
    scroller,
    h("details.others-panel", { id: "others-panel" }, h("summary", {}, "Other annotations"), othersEl),
  );

  function act(e, fn) {
    e.stopPropagation();
    fn();
  }

  function row(s, i) {
    const l = editor.label(s.label);
    const selected = doc.selection.includes(s.uid);
    const source = s.source && s.source !== "manual" ? `${s.source}${s.confidence != null ? ` ${Math.round(s.confidence * 100)}%` : ""}` : "";
    return h("li.object-row", {
      class: [selected ? "selected" : "", s.hidden ? "is-hidden" : "", s.locked ? "is-locked" : ""].join(" "),
      style: { top: `${i * ROW}px` },
      dataset: { uid: s.uid, kind: s.kind, label: s.label },
      onclick: (e) => {
        if (e.shiftKey) doc.select(selected ? doc.selection.filter((u) => u !== s.uid) : [...doc.selection, s.uid]);
        else doc.select([s.uid]);
      },
      ondblclick: () => {
        const b = shapeBounds(s);
        if (b) editor.scene.fitTo([b[0], b[1], b[2] - b[0], b[3] - b[1]]);
      },
      onmouseenter: () => editor.scene.setHighlight(s.uid),
      onmouseleave: () => editor.scene.setHighlight(doc.selection.length === 1 ? doc.selection[0] : null),
    },
      swatch(l ? l.color : "#888"),
      h("span.object-label", { title: s.label }, s.label),
      h("span.object-kind", {}, KIND[s.kind] || s.kind),
      s.group_id != null ? h("span.chip.group-chip", { title: "instance group" }, `#${s.group_id}`) : null,
      source ? h("span.object-source", { title: `from ${source}` }, source) : null,
      h("span.object-detail.muted", {}, detail(s)),
      h("span.row-actions", {},
        h("button.icon", { type: "button", title: s.hidden ? "Show (H)" : "Hide (H)", "aria-label": "hide", dataset: { act: "hide" }, onclick: (e) => act(e, () => doc.setFlag(s.uid, "hidden", !s.hidden)) }, s.hidden ? "◌" : "◉"),
        h("button.icon", { type: "button", title: s.locked ? "Unlock (Shift+L)" : "Lock (Shift+L)", "aria-label": "lock", dataset: { act: "lock" }, onclick: (e) => act(e, () => doc.setFlag(s.uid, "locked", !s.locked)) }, s.locked ? "🔒" : "🔓"),
        h("button.icon", { type: "button", title: "Bring forward (PageUp)", "aria-label": "raise", dataset: { act: "raise" }, disabled: editor.readOnly, onclick: (e) => act(e, () => editor.run(setZOrder(doc, [s.uid], 1))) }, "▲"),
        h("button.icon", { type: "button", title: "Send backward (PageDown)", "aria-label": "lower", dataset: { act: "lower" }, disabled: editor.readOnly, onclick: (e) => act(e, () => editor.run(setZOrder(doc, [s.uid], -1))) }, "▼"),
        h("button.icon.danger", { type: "button", title: "Delete (Del)", "aria-label": "delete", dataset: { act: "delete" }, disabled: editor.readOnly || s.locked, onclick: (e) => act(e, () => editor.run(removeShapes([s.uid]))) }, "✕"),
      ),
    );
  }

  function paint() {
    frame = 0;
    const top = scroller.scrollTop;
    const height = scroller.clientHeight || 400;
    const first = Math.max(0, Math.floor(top / ROW) - 5);
    const last = Math.min(shown.length, Math.ceil((top + height) / ROW) + 5);
    const rows = [];
    for (let i = first; i < last; i++) rows.push(row(shown[i], i));
    rowsEl.replaceChildren(...rows);
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(paint);
  }

  function rebuild() {
    const f = filter.value;
    shown = doc.shapes.filter((s) => s.kind !== "tag" && (!f || s.label === f));
    shown.sort((a, b) => (b.z_order || 0) - (a.z_order || 0) || doc.shapes.indexOf(b) - doc.shapes.indexOf(a)); // topmost first
    spacer.style.height = `${shown.length * ROW}px`;
    count.textContent = String(shown.length);
    schedule();
  }

  function renderOthers(list) {
    others = list;
    const byOwner = new Map();
    for (const it of others) {
      if (!byOwner.has(it.owner)) byOwner.set(it.owner, []);
      byOwner.get(it.owner).push(it);
    }
    othersEl.replaceChildren(...[...byOwner].map(([owner, items]) => {
      const model = owner.startsWith("model:");
      const threshold = h("input", { type: "number", min: "0", max: "1", step: "0.05", value: "0.5", class: "threshold", "aria-label": "confidence threshold", title: "confidence threshold" });
      return h("li.owner-group", { dataset: { owner } },
        h("div.owner-head", {}, h("strong", {}, owner), h("span.muted", {}, ` ${items.length} `),
          editor.readOnly ? null : model
            ? [h("button.link", { type: "button", dataset: { acceptAbove: owner }, title: "Accept every suggestion at or above the threshold", onclick: () => take(items.filter((it) => (it.shape.confidence ?? 1) >= Number(threshold.value))) }, "accept ≥"), threshold]
            : h("button.link", { type: "button", dataset: { take: owner }, title: "Copy all of these shapes into your annotation", onclick: () => take(items) }, "take all")),
        h("ul", {}, items.slice(0, 300).map((it) => h("li.object-row.other", { dataset: { key: it.key } },
          swatch(it.color), h("span.object-label", {}, it.shape.label), h("span.object-kind", {}, KIND[it.shape.kind] || it.shape.kind),
          it.shape.confidence != null ? h("span.object-source", {}, `${Math.round(it.shape.confidence * 100)}%`) : null,
          editor.readOnly ? null : h("button.link", { type: "button", dataset: { act: "take" }, title: model ? "Accept this suggestion into your annotation" : "Copy into your annotation", onclick: () => take([it]) }, model ? "accept" : "take"),
          editor.readOnly || !model ? null : h("button.link", { type: "button", dataset: { act: "reject" }, title: "Reject this suggestion (it is no longer shown)", onclick: () => reject([it]) }, "reject")))),
      );
    }));
    el.querySelector("#others-panel").hidden = !others.length;
    if (others.some((it) => it.owner.startsWith("model:"))) el.querySelector("#others-panel").open = true;
  }

  // Accepted suggestions leave the list (they are now this person's shapes, with the model's
  // source and confidence); rejected ones just leave it. What was accepted, edited or rejected is
  // measured by comparing the model's annotation with the person's (the acceptance report).
  function reject(items) {
    const gone = new Set(items.map((it) => it.key));
    editor.setOthers(editor.others.filter((it) => !gone.has(it.key)));
  }

  function take(items) {
    if (!items.length) return;
    const shapes = items.map((it) => structuredClone(it.shape));
    editor.run(addShapes(shapes, { name: "take" }));
    if (items.every((it) => it.owner.startsWith("model:"))) reject(items);
  }

  scroller.addEventListener("scroll", schedule, { passive: true });
  filter.addEventListener("change", rebuild);
  const offs = [
    editor.bus.on("changed", rebuild),
    editor.bus.on("selection", () => {
      schedule();
      const uid = doc.selection[0];
      const i = uid ? shown.findIndex((s) => s.uid === uid) : -1;
      if (i >= 0 && (i * ROW < scroller.scrollTop || (i + 1) * ROW > scroller.scrollTop + scroller.clientHeight)) {
        scroller.scrollTop = Math.max(0, i * ROW - scroller.clientHeight / 2);
      }
    }),
    editor.bus.on("others", renderOthers),
    // the shape under the pointer on the canvas marks its row
    editor.bus.on("hover", (key) => {
      for (const r of rowsEl.children) r.classList.toggle("hot", r.dataset.uid === key);
    }),
  ];
  rebuild();
  renderOthers(editor.others || []);
  return { el, destroy: () => { offs.forEach((f) => f()); if (frame) cancelAnimationFrame(frame); } };
}
