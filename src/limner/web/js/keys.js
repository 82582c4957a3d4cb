// The workspace's keyboard map: one table, shown by the `?` overlay and in tooltips, so what the
// help says is what the keys do. Tool keys come from tools/index.js.
//
// A binding: {keys: "ctrl+z", action, title, group}. Keys are lower-case `key` values joined
// with modifiers in the order ctrl+alt+shift; "ctrl" also matches ⌘ on a Mac.

import { TOOLS } from "./tools/index.js";

export const BINDINGS = [
  { keys: "ctrl+z", action: "undo", title: "Undo", group: "Edit" },
  { keys: "ctrl+shift+z", action: "redo", title: "Redo", group: "Edit" },
  { keys: "ctrl+y", action: "redo", title: "Redo", group: "Edit" },
  { keys: "ctrl+c", action: "copy", title: "Copy the selected shapes", group: "Edit" },
  { keys: "ctrl+v", action: "paste", title: "Paste shapes (also onto another image)", group: "Edit" },
  { keys: "ctrl+d", action: "duplicate", title: "Duplicate the selection", group: "Edit" },
  { keys: "ctrl+a", action: "select-all", title: "Select every shape", group: "Edit" },
  { keys: "delete", action: "delete", title: "Delete the selection", group: "Edit" },
  { keys: "backspace", action: "delete", title: "Delete the selection", group: "Edit" },
  { keys: "escape", action: "cancel", title: "Cancel the shape being drawn, or clear the selection", group: "Edit" },
  { keys: "enter", action: "finish", title: "Finish the shape being drawn", group: "Edit" },
  { keys: "ctrl+g", action: "group", title: "Group the selection into one instance", group: "Edit" },
  { keys: "ctrl+shift+g", action: "ungroup", title: "Ungroup the selection", group: "Edit" },
  { keys: "pageup", action: "raise", title: "Bring the selection forward", group: "Edit" },
  { keys: "pagedown", action: "lower", title: "Send the selection backward", group: "Edit" },
  { keys: "h", action: "hide", title: "Hide or show the selection", group: "Edit" },
  { keys: "shift+h", action: "show-all", title: "Show every hidden shape", group: "Edit" },
  { keys: "shift+l", action: "lock", title: "Lock or unlock the selection", group: "Edit" },
  { keys: "shift+m", action: "to-mask", title: "Turn the selected polygons (boxes, ellipses) into masks", group: "Edit" },
  { keys: "shift+p", action: "to-polygons", title: "Turn the selected masks into polygons (one per part, holes kept)", group: "Edit" },
  { keys: "s", action: "snap", title: "Snapping to other shapes' vertices and edges on or off", group: "Edit" },
  { keys: "1", action: "label-1", title: "Labels 1–9: set the label for new shapes (and the selection)", group: "Labels" },
  { keys: "/", action: "label-search", title: "Search the labels", group: "Labels" },
  { keys: "d", action: "next", title: "Next image", group: "Navigate" },
  { keys: "arrowright", action: "next", title: "Next image", group: "Navigate" },
  { keys: "a", action: "prev", title: "Previous image", group: "Navigate" },
  { keys: "arrowleft", action: "prev", title: "Previous image", group: "Navigate" },
  { keys: "n", action: "next-unfinished", title: "Next unfinished image", group: "Navigate" },
  { keys: "ctrl+j", action: "jump", title: "Jump to an image by name", group: "Navigate" },
  { keys: "ctrl+enter", action: "done", title: "Mark the image done (or submit it for review) and go on", group: "Navigate" },
  { keys: "ctrl+s", action: "save", title: "Save now", group: "Navigate" },
  { keys: "f", action: "fit", title: "Fit the image to the window", group: "View" },
  { keys: "shift+f", action: "fit-selection", title: "Zoom to the selection", group: "View" },
  { keys: "=", action: "zoom-in", title: "Zoom in", group: "View" },
  { keys: "+", action: "zoom-in", title: "Zoom in", group: "View" },
  { keys: "-", action: "zoom-out", title: "Zoom out", group: "View" },
  { keys: "0", action: "actual-size", title: "Actual size (1:1)", group: "View" },
  { keys: "space", action: "pan", title: "Hold and drag to pan (or drag with the middle button)", group: "View" },
  { keys: "t", action: "names", title: "Show or hide the label names on the canvas", group: "View" },
  { keys: "?", action: "help", title: "This list of shortcuts", group: "View" },
  { keys: "shift+?", action: "help", title: "This list of shortcuts", group: "View" },
];

export function toolBindings() {
  return TOOLS.filter((t) => t.key).map((t) => ({ keys: t.key, action: `tool:${t.name}`, title: t.title, group: "Tools" }));
}

// The key string of a keyboard event: "ctrl+shift+z", "space", "arrowleft", "?".
export function keyOf(e) {
  let k = e.key === " " ? "space" : e.key.length === 1 ? e.key.toLowerCase() : e.key.toLowerCase();
  const mods = [];
  if (e.ctrlKey || e.metaKey) mods.push("ctrl");
  if (e.altKey) mods.push("alt");
  if (e.shiftKey && k.length > 1) mods.push("shift"); // shift of a letter: "shift+h"
  else if (e.shiftKey && /^[a-z]$/.test(k)) mods.push("shift");
  return [...mods, k].join("+");
}

// The action bound to an event, or null. Digits 1–9 become label-N.
export function actionFor(e, bindings = [...toolBindings(), ...BINDINGS]) {
  const k = keyOf(e);
  if (/^[1-9]$/.test(k)) return `label-${k}`;
  const b = bindings.find((x) => x.keys === k);
  return b ? b.action : null;
}

// "Ctrl+Shift+Z" for a tooltip.
export function keyText(keys) {
  const parts = keys === "+" ? ["+"] : keys.endsWith("++") ? [...keys.slice(0, -2).split("+"), "+"] : keys.split("+");
  return parts.map((p) => (p === "ctrl" ? "Ctrl" : p === "space" ? "Space" : p.length === 1 ? p.toUpperCase() : p[0].toUpperCase() + p.slice(1))).join("+");
}

// The first binding of an action, for tooltips: "Undo (Ctrl+Z)".
export function hint(action, title) {
  const b = [...toolBindings(), ...BINDINGS].find((x) => x.action === action);
  return b ? `${title || b.title} (${keyText(b.keys)})` : title || action;
}
