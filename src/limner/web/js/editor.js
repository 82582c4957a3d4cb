// The editor: the document (state.js), the scene (render/scene.js) and the active tool, joined.
// It owns the active label and tool and routes the pointer to the tool; the workspace page owns
// the panels, the keyboard map (keys.js), saving and navigation.
//
// What tools and panels may use:
//   editor.doc, editor.bus, editor.scene, editor.labels, editor.label(name)
//   editor.activeLabel / setActiveLabel(name)       the label new shapes get
//   editor.tool / setTool(name)                      tools/index.js lists them
//   editor.newShape(kind, geometry)                  a manual shape with the label's defaults, or null
//   editor.run(command)                              doc.execute, refused when read-only
//   editor.hit(x, y) → uid | null                    the topmost visible, unlocked shape there
//   editor.tol(px = 6)                               px screen pixels in image units
//   editor.settings                                  {snap: bool, ...}; set with setSetting
//   editor.status(text)                              a hint in the status line
//   editor.cursor(css | null)                        the pointer's look (null: the tool's)
//   editor.invalidate()                              redraw (the tool's overlay changed)
//   editor.addOverlay((ctx, view) => …) → remove      draw under the tool's overlay (CSS pixels)
//
// Events on editor.bus (besides the document's): tool {name}, label {name}, setting {name,
// value}, status {text}.

import { addShapes } from "./commands.js";
import { shapeBounds } from "./render/geometry.js";
import { createScene } from "./render/scene.js";
import { createDocument } from "./state.js";
import { TOOLS } from "./tools/index.js";

export const HIT_PX = 6;

export function defaultAttributes(label) {
  const out = {};
  for (const a of (label && label.attributes) || []) {
    if (a.default !== undefined && a.default !== null) out[a.name] = a.default;
    else if (a.kind === "checkbox") out[a.name] = false;
  }
  return out;
}

export function createEditor(canvas, { labels = [], shapes = [], readOnly = false, others = [], services = {}, owned = false } = {}) {
  const doc = createDocument(shapes, { owned });
  const bus = doc.bus;
  const byName = new Map(labels.map((l) => [l.name, l]));
  let activeLabel = labels.find((l) => (l.kinds || []).some((k) => k !== "tag") || !(l.kinds || []).length)?.name
    ?? labels[0]?.name ?? null;
  let tool = null;
  let toolName = null;
  const settings = { snap: true, names: true };
  let items = []; // what the scene draws (own shapes), in document order
  let otherItems = others; // other owners' shapes, drawn dim, never edited

  const input = {
    down: (ev) => (tool && !readOnly ? !!tool.down(ev) : false),
    move: (ev) => (tool && !readOnly ? !!tool.move(ev) : false),
    up: (ev) => (tool && !readOnly ? !!tool.up(ev) : false),
  };
  const scene = createScene(canvas, {
    input,
    onHover: (key) => bus.emit("hover", key),
    onView: (v) => bus.emit("view", v),
  });

  const editor = {
    doc,
    bus,
    scene,
    labels,
    readOnly,
    settings,
    services, // what the workspace lends tools that need the server (assist), through api.js
    label: (name) => byName.get(name) || null,
    get activeLabel() { return activeLabel; },
    setActiveLabel(name) {
      if (!byName.has(name) || name === activeLabel) return;
      activeLabel = name;
      bus.emit("label", { name });
    },
    get tool() { return toolName; },
    get toolObject() { return tool; },
    setTool(name) {
      const spec = TOOLS.find((t) => t.name === name);
      if (!spec || name === toolName) return;
      if (tool) {
        tool.cancel?.();
        tool.deactivate?.();
      }
      toolName = name;
      tool = spec.create(editor);
      tool.activate?.();
      canvas.style.cursor = spec.cursor || "default";
      canvas.dataset.tool = name;
      scene.setOverlay(drawOverlays);
      bus.emit("tool", { name });
    },
    setSetting(name, value) {
      settings[name] = value;
      if (name === "names") scene.setShowNames(value);
      bus.emit("setting", { name, value });
      scene.invalidate();
    },
    // The label a new shape of `kind` gets: the active one if it allows the kind, else null.
    labelFor(kind) {
      const l = byName.get(activeLabel);
      if (l && (!(l.kinds || []).length || l.kinds.includes(kind))) return l;
      return null;
    },
    newShape(kind, geometry) {
      const l = editor.labelFor(kind);
      if (!l) {
        const fits = labels.filter((x) => !(x.kinds || []).length || x.kinds.includes(kind)).map((x) => x.name);
        editor.status(fits.length
          ? `The label “${activeLabel}” does not allow ${kind.replace(/_/g, " ")}s; pick one of: ${fits.join(", ")}`
          : `No label of this project allows ${kind.replace(/_/g, " ")}s`);
        return null;
      }
      const top = doc.shapes.reduce((m, s) => Math.max(m, s.z_order || 0), 0);
      return {
        kind, label: l.name, geometry, attributes: defaultAttributes(l),
        z_order: kind === "mask" ? 0 : top, group_id: null, track_id: null, source: "manual", confidence: null,
      };
    },
    run(cmd) {
      if (readOnly || !cmd) return false;
      doc.execute(cmd);
      return true;
    },
    add(shape) {
      return shape ? editor.run(addShapes([shape])) : false;
    },
    hit(x, y, { includeLocked = false } = {}) {
      return scene.hitAt(x, y, editor.tol(), (it) => includeLocked || !it.locked);
    },
    tol(px = HIT_PX) {
      return px / scene.view.scale;
    },
    // the pointer's look over the canvas: a CSS cursor, or null for the tool's own
    cursor(c) {
      const want = c || TOOLS.find((t) => t.name === toolName)?.cursor || "default";
      if (canvas.style.cursor !== want) canvas.style.cursor = want;
    },
    status(text) {
      bus.emit("status", { text });
    },
    invalidate() {
      scene.invalidate();
    },
    get others() { return otherItems; },
    setOthers(list) {
      otherItems = list;
      refresh();
      bus.emit("others", list);
    },
    itemFor(uid) {
      return items.find((it) => it.key === uid) || null;
    },
    bounds(uid) {
      const s = doc.byUid(uid);
      return s ? shapeBounds(s) : null;
    },
    destroy() {
      tool?.deactivate?.();
      scene.destroy();
    },
  };

  // Overlays drawn under the tool's: comment pins, review marks (panels add them).
  const overlays = new Set();
  function drawOverlays(ctx, view) {
    for (const o of overlays) {
      ctx.save();
      o(ctx, view);
      ctx.restore();
    }
    tool?.overlay?.(ctx, view);
  }
  editor.addOverlay = (fn) => {
    overlays.add(fn);
    scene.invalidate();
    return () => {
      overlays.delete(fn);
      scene.invalidate();
    };
  };

  function itemOf(s) {
    const l = byName.get(s.label);
    return {
      key: s.uid, shape: s, name: s.label, color: l ? l.color : "#888888",
      skeleton: l ? l.skeleton : null, locked: !!s.locked, model: s.source && s.source !== "manual",
    };
  }

  // Redraw from the document. Visible own shapes are hit-tested in draw order (topmost last).
  function refresh() {
    items = doc.shapes.filter((s) => !s.hidden && s.kind !== "tag").map(itemOf);
    scene.setShapes([...otherItems.map((it) => ({ ...it, dim: true })), ...items]);
    const sel = doc.selection;
    scene.setHighlight(sel.length === 1 ? sel[0] : null);
  }

  bus.on("changed", refresh);
  bus.on("selection", (sel) => {
    scene.setHighlight(sel.length === 1 ? sel[0] : null);
    scene.invalidate();
  });
  refresh();
  return editor;
}
