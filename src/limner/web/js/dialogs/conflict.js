// The save conflict: someone else saved this annotation since it was opened. Both versions are
// shown — per label, which shapes only one side has — and nothing is dropped unless the person
// chooses to: "Keep both" (the default) puts their version and this person's extra shapes
// together, "Keep mine" writes this version over theirs, "Take theirs" shows theirs (this
// version stays on the clipboard-like backup until the next save, and in the undo history).
//
// conflictDialog(parent, editor, {mine: [api shapes], theirs: annotation, restored?}) →
//   Promise<{action: "both" | "mine" | "theirs"}>; the document is updated for "both".

import { addShapes, batch, removeShapes } from "../commands.js";
import { h } from "../dom.js";
import { modal } from "./modal.js";

const keyOf = (s) => JSON.stringify([s.kind, s.label, s.geometry, s.attributes || {}]);

function counts(shapes) {
  const m = new Map();
  for (const s of shapes) m.set(s.label, (m.get(s.label) || 0) + 1);
  return m;
}

export function conflictDialog(parent, editor, { mine, theirs, restored = false }) {
  return new Promise((resolve) => {
    const theirKeys = new Set(theirs.shapes.map(keyOf));
    const myKeys = new Set(mine.map(keyOf));
    const onlyMine = mine.filter((s) => !theirKeys.has(keyOf(s)));
    const onlyTheirs = theirs.shapes.filter((s) => !myKeys.has(keyOf(s)));
    const labels = [...new Set([...mine, ...theirs.shapes].map((s) => s.label))].sort();
    const cm = counts(mine), ct = counts(theirs.shapes), om = counts(onlyMine), ot = counts(onlyTheirs);
    let done = false;
    const finish = (action) => {
      if (done) return;
      done = true;
      if (action === "both") {
        editor.doc.reset(theirs.shapes);
        editor.run(addShapes(onlyMine, { name: "keep both", select: false }));
      } else if (action === "mine") {
        // write this version over theirs: the document is already this version; make it dirty
        // against their revision so the saver writes it
        if (!editor.doc.dirty) editor.run(batch([removeShapes(editor.doc.shapes.map((s) => s.uid)), addShapes(mine, { select: false })], { name: "keep mine" }));
      } else if (action === "theirs") {
        const keep = mine;
        editor.doc.reset(theirs.shapes);
        editor.status(`Their version is shown; your ${keep.length} shapes are on the clipboard (Ctrl+V pastes them back)`);
        try {
          localStorage.setItem("limner:clipboard", JSON.stringify({ asset: -1, shapes: keep }));
        } catch {
          /* too large to keep */
        }
      }
      m.close();
      resolve({ action });
    };
    const who = theirs.updated_by || "someone else";
    const m = modal({
      id: "conflict-dialog",
      title: restored ? "Unsaved work from an earlier visit" : "Someone else saved this image",
      body: [
        h("p", {}, restored
          ? `This browser kept changes that were never saved, but the annotation has changed since (revision ${theirs.revision}). Nothing has been lost: choose what to keep.`
          : `${who} saved this annotation (revision ${theirs.revision}) while you were editing it. Nothing has been lost: choose what to keep.`),
        h("table.conflict-table", { id: "conflict-table" },
          h("thead", {}, h("tr", {}, h("th", {}, "label"), h("th", {}, "yours"), h("th", {}, "theirs"), h("th", {}, "only yours"), h("th", {}, "only theirs"))),
          h("tbody", {}, labels.map((l) => h("tr", { dataset: { label: l } },
            h("td", {}, l), h("td", {}, String(cm.get(l) || 0)), h("td", {}, String(ct.get(l) || 0)),
            h("td", { class: om.get(l) ? "diff" : "" }, String(om.get(l) || 0)), h("td", { class: ot.get(l) ? "diff" : "" }, String(ot.get(l) || 0))))),
          h("tfoot", {}, h("tr", {}, h("th", {}, "all"), h("th", { id: "conflict-mine" }, String(mine.length)), h("th", { id: "conflict-theirs" }, String(theirs.shapes.length)), h("th", {}, String(onlyMine.length)), h("th", {}, String(onlyTheirs.length))))),
      ],
      footer: [
        h("button", { type: "button", id: "conflict-theirs-btn", onclick: () => finish("theirs"), title: "Show their version; yours stays on the clipboard" }, "Take theirs"),
        h("button", { type: "button", id: "conflict-mine-btn", onclick: () => finish("mine"), title: "Save your version over theirs" }, "Keep mine"),
        h("button.primary", { type: "button", id: "conflict-both-btn", onclick: () => finish("both"), title: "Their shapes plus the ones only you have" }, "Keep both"),
      ],
      onClose: () => finish("both"),
    });
    m.open(parent);
  });
}
