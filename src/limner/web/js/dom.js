// Small DOM helpers shared by the pages and panels (no state, no network).

// h("a.card", {href: "#/x", onclick: fn}, "text", child, [more, children])
// The tag may carry classes after dots. Attributes: `class`, `text`, `dataset` (object),
// `style` (object), on<event> handlers, boolean attributes (true/false), everything else as
// attributes; `value`, `checked`, `selected` and `hidden` are set as properties.
const PROPS = new Set(["value", "checked", "selected", "hidden", "disabled", "indeterminate"]);

export function h(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split(".");
  const el = document.createElement(tag || "div");
  if (classes.length) el.className = classes.join(" ");
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null) continue;
    if (k === "class") el.className = [el.className, v].filter(Boolean).join(" ");
    else if (k === "text") el.textContent = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "style") Object.assign(el.style, v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (PROPS.has(k)) el[k] = v;
    else if (v === true) el.setAttribute(k, "");
    else if (v === false) continue;
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

export const fmt = new Intl.NumberFormat();

// "in_progress" → "in progress"
export const statusText = (s) => String(s || "").replace(/_/g, " ");

export function swatch(color) {
  return h("span.swatch", { style: { background: color }, "aria-hidden": "true" });
}
