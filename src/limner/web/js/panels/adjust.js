// Brightness, contrast and gamma of the image, applied on the client (the scene redraws with
// them; nothing is saved). A small popover under its button; remembered for the session.

import { h } from "../dom.js";

const KEY = "limner:adjust";
const FIELDS = [
  { name: "brightness", title: "Brightness", min: 0.2, max: 3, step: 0.05 },
  { name: "contrast", title: "Contrast", min: 0.2, max: 3, step: 0.05 },
  { name: "gamma", title: "Gamma", min: 0.2, max: 3, step: 0.05 },
];

export function savedAdjust() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || "null") || { brightness: 1, contrast: 1, gamma: 1 };
  } catch {
    return { brightness: 1, contrast: 1, gamma: 1 };
  }
}

export function adjustPanel(editor, anchor, onChange = () => {}) {
  const existing = document.getElementById("adjust-panel");
  if (existing) {
    existing.remove();
    return;
  }
  const cur = editor.scene.adjust;
  const inputs = {};
  // Brightness and contrast are drawing filters (cheap); gamma rebuilds the image, so while a
  // slider moves it is applied at most every 120 ms, and once more when it stops.
  let gammaTimer = 0, lastGamma = 0;
  const apply = () => {
    const a = Object.fromEntries(FIELDS.map((f) => [f.name, Number(inputs[f.name].value)]));
    const now = performance.now();
    if (a.gamma !== editor.scene.adjust.gamma && now - lastGamma < 120) {
      clearTimeout(gammaTimer);
      gammaTimer = setTimeout(apply, 120);
      editor.scene.setAdjust({ brightness: a.brightness, contrast: a.contrast });
      return;
    }
    if (a.gamma !== editor.scene.adjust.gamma) lastGamma = now;
    editor.scene.setAdjust(a);
    onChange(a);
    for (const f of FIELDS) inputs[f.name].nextSibling.textContent = a[f.name].toFixed(2);
    try {
      sessionStorage.setItem(KEY, JSON.stringify(a));
    } catch {
      /* not remembered */
    }
  };
  const rows = FIELDS.map((f) => {
    inputs[f.name] = h("input", { type: "range", id: `adjust-${f.name}`, min: f.min, max: f.max, step: f.step, value: String(cur[f.name]), oninput: apply });
    return h("div.adjust-row", {}, h("label", { for: `adjust-${f.name}` }, f.title), inputs[f.name], h("span.adjust-value", {}, cur[f.name].toFixed(2)));
  });
  const panel = h("div.popover.adjust-panel", { id: "adjust-panel" },
    ...rows,
    h("div.adjust-foot", {},
      h("button", { type: "button", onclick: () => { for (const f of FIELDS) inputs[f.name].value = "1"; apply(); } }, "Reset"),
      h("button", { type: "button", onclick: () => panel.remove() }, "Close")),
  );
  const r = anchor.getBoundingClientRect();
  panel.style.top = `${r.bottom + 6}px`;
  panel.style.left = `${Math.max(8, r.right - 280)}px`;
  document.body.append(panel);
}
