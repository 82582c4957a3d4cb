// The assist bar: shown over the canvas while the assist tool is active. It chooses the
// assistant (built-in interactors and the project's registered models), starts the per-image
// precompute when the image opens or the assistant changes (shown as a small progress mark), and
// shows the last call's time.

import { h } from "../dom.js";

const KEY = "limner:assistant";

export function assistBar(editor, { listTools, precompute }) {
  const select = h("select", { id: "assist-tool", "aria-label": "Assistant" });
  const mark = h("span.assist-mark", { id: "assist-mark", "data-state": "idle", title: "per-image precompute" }, "");
  const info = h("span.assist-info.muted", { id: "assist-info" });
  const el = h("div.assist-bar", { id: "assist-bar", hidden: true }, h("span.assist-title", {}, "✦ Assist"), select, mark, info);
  let chosen = sessionStorage.getItem(KEY) || "";
  let loaded = false;
  let polls = 0;

  async function load() {
    if (loaded) return;
    loaded = true;
    try {
      const t = await listTools();
      const builtin = (t.builtin && t.builtin.interactor) || [];
      const models = (t.models || []).filter((m) => m.kind === "interactor");
      select.replaceChildren(
        h("optgroup", { label: "Built in" }, builtin.map((b) => h("option", { value: b.name, title: (b.prompts || []).join(", ") }, b.title || b.name))),
        models.length ? h("optgroup", { label: "Models" }, models.map((m) => h("option", { value: m.name }, m.name))) : null,
      );
      const names = [...builtin.map((b) => b.name), ...models.map((m) => m.name)];
      if (!names.includes(chosen)) chosen = names.includes("grabcut") ? "grabcut" : names[0] || "";
      select.value = chosen;
      warm();
    } catch (err) {
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

  select.addEventListener("change", () => {
    chosen = select.value;
    sessionStorage.setItem(KEY, chosen);
    editor.toolObject?.cancel?.();
    warm();
  });

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
  return { el, tool: () => chosen, destroy: () => { polls++; offs.forEach((f) => f()); } };
}
