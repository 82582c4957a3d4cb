// The assist bar: shown over the canvas while the assist tool is active. It chooses the
// assistant (built-in interactors, the project's registered models and its kept scribble
// classifiers), starts the per-image precompute when the image opens or the assistant changes
// (shown as a small progress mark), and shows the last call's time. With the scribble assistant
// (or a kept classifier) chosen, "Keep…" keeps the classifier trained on this image for the
// project under a name; with a kept classifier chosen, "Apply" runs it on the whole image.

import { h } from "../dom.js";

const KEY = "limner:assistant";
const KEPT = "scribble"; // the model type of a kept scribble classifier

export function assistBar(editor, { listTools, precompute, keep }) {
  const select = h("select", { id: "assist-tool", "aria-label": "Assistant" });
  const mark = h("span.assist-mark", { id: "assist-mark", "data-state": "idle", title: "per-image precompute" }, "");
  const keepBtn = h("button", { type: "button", id: "assist-keep", hidden: true, title: "Keep the classifier trained on this image for the project" }, "Keep…");
  const applyBtn = h("button", { type: "button", id: "assist-apply", hidden: true, title: "Apply the kept classifier to this image (Enter)" }, "Apply");
  const info = h("span.assist-info.muted", { id: "assist-info" });
  const el = h("div.assist-bar", { id: "assist-bar", hidden: true }, h("span.assist-title", {}, "✦ Assist"), select, mark, keepBtn, applyBtn, info);
  let chosen = sessionStorage.getItem(KEY) || "";
  let kept = new Set(); // names of the project's kept classifiers
  let loading = null;
  let polls = 0;

  const isKept = (name) => kept.has(name);

  function showButtons() {
    keepBtn.hidden = !(chosen === "scribble" || isKept(chosen));
    applyBtn.hidden = !isKept(chosen);
  }

  function load(fresh = false) {
    if (!loading || fresh) loading = fill();
    return loading;
  }

  async function fill() {
    try {
      const t = await listTools();
      const builtin = (t.builtin && t.builtin.interactor) || [];
      const interactors = (t.models || []).filter((m) => m.kind === "interactor");
      const models = interactors.filter((m) => m.type !== KEPT);
      const classifiers = interactors.filter((m) => m.type === KEPT);
      kept = new Set(classifiers.map((m) => m.name));
      const trained = (m) => `${m.name} (trained on ${m.trained_on} image${m.trained_on === 1 ? "" : "s"})`;
      select.replaceChildren(
        h("optgroup", { label: "Built in" }, builtin.map((b) => h("option", { value: b.name, title: (b.prompts || []).join(", ") }, b.title || b.name))),
        models.length ? h("optgroup", { label: "Models" }, models.map((m) => h("option", { value: m.name }, m.name))) : null,
        classifiers.length ? h("optgroup", { label: "Kept classifiers" }, classifiers.map((m) => h("option", { value: m.name, title: trained(m) }, m.name))) : null,
      );
      const names = [...builtin.map((b) => b.name), ...interactors.map((m) => m.name)];
      if (!names.includes(chosen)) chosen = names.includes("grabcut") ? "grabcut" : names[0] || "";
      select.value = chosen;
      showButtons();
      warm();
    } catch (err) {
      loading = null;
      info.textContent = err.detail || err.message;
    }
  }

  async function warm() {
    if (!chosen) return;
    const mine = ++polls;
    mark.dataset.state = "running";
    mark.textContent = "preparing…";
    try {
      for (let i = 0; i < 120 && mine === polls; i++) {
        const r = await precompute(chosen);
        if (r.status === "ready") {
          mark.dataset.state = "ready";
          mark.textContent = "ready";
          return;
        }
        await new Promise((res) => setTimeout(res, 250));
      }
    } catch (err) {
      mark.dataset.state = "error";
      mark.textContent = err.detail || err.message;
    }
  }

  async function keepClassifier() {
    const name = (window.prompt("Keep this classifier for the project as:", isKept(chosen) ? chosen : "") || "").trim();
    if (!name) return;
    const replace = isKept(name);
    if (replace && !window.confirm(`Replace the kept classifier “${name}”?`)) return;
    info.textContent = "keeping…";
    try {
      const m = await keep(chosen, { name, prompt: editor.toolObject?.prompt?.() || {}, replace });
      info.textContent = `kept as ${m.name}`;
      await load(true);
    } catch (err) {
      info.textContent = err.detail || err.message;
    }
  }

  select.addEventListener("change", () => {
    chosen = select.value;
    sessionStorage.setItem(KEY, chosen);
    showButtons();
    editor.toolObject?.cancel?.();
    warm();
  });
  keepBtn.addEventListener("click", () => { keepBtn.blur(); keepClassifier(); });
  applyBtn.addEventListener("click", () => { applyBtn.blur(); editor.toolObject?.apply?.(); });

  const offs = [
    editor.bus.on("tool", ({ name }) => {
      el.hidden = name !== "assist";
      if (name === "assist") load();
    }),
    editor.bus.on("assist", ({ state, ms, score }) => {
      if (state === "running") info.textContent = "…";
      else if (state === "done") info.textContent = `${Math.round(ms.request ?? ms.total ?? 0)} ms${score != null ? ` · score ${score.toFixed(2)}` : ""}`;
      else info.textContent = "";
    }),
  ];
  // Someone who used an assistant before gets its precompute started as the image opens.
  if (chosen) load();
  return {
    el,
    tool: () => chosen,
    // a kept classifier segments the whole image from no prompt at all
    wholeImage: () => isKept(chosen),
    destroy: () => { polls++; offs.forEach((f) => f()); },
  };
}
