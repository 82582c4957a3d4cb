// Select: click a shape to select it (Shift adds or removes), drag it to move the selection,
// drag on empty canvas to select by rectangle, Tab / Shift+Tab to walk the shapes. Handles of
// the selected shape (vertices, corners, rotation) belong to the editing plug-ins in edit/.

import { setGeometries } from "../commands.js";
import { shapeBounds, toScreen } from "../render/geometry.js";
import { translateGeometry } from "../shapes.js";
import { EDITORS } from "./edit/index.js";

let dragSerial = 0;

export const tool = {
  name: "select",
  key: "v",
  title: "Select and edit: drag to move, drag a vertex or handle to reshape, click an edge to add a vertex, Alt+click to delete one",
  icon: "↖",
  kinds: [],
  cursor: "default",
  create(editor) {
    const { doc } = editor;
    let mode = null; // null | {type: "move"|"band"|"plugin", ...}

    function selectedShape() {
      const sel = doc.selection;
      return sel.length === 1 ? doc.byUid(sel[0]) : null;
    }

    function editable(s) {
      return s && !s.locked && !s.hidden;
    }

    function startMove(ev) {
      const uids = doc.selection.filter((u) => editable(doc.byUid(u)) && doc.byUid(u).kind !== "mask");
      if (!uids.length) return null;
      const start = Object.fromEntries(uids.map((u) => [u, structuredClone(doc.byUid(u).geometry)]));
      return { type: "move", from: [ev.x, ev.y], start, key: `move-${++dragSerial}`, moved: false };
    }

    return {
      down(ev) {
        if (ev.button !== 0) return false;
        const sel = selectedShape();
        if (editable(sel)) {
          for (const plugin of EDITORS) {
            const drag = plugin.grab(editor, sel, ev);
            if (drag) {
              mode = { type: "plugin", drag };
              return true;
            }
          }
        }
        const uid = editor.hit(ev.x, ev.y);
        if (uid) {
          if (ev.shift) {
            const cur = doc.selection;
            doc.select(cur.includes(uid) ? cur.filter((u) => u !== uid) : [...cur, uid]);
            return true;
          }
          if (!doc.selection.includes(uid)) doc.select([uid]);
          mode = startMove(ev);
          return true;
        }
        if (!ev.shift) doc.select([]);
        mode = { type: "band", from: [ev.x, ev.y], to: [ev.x, ev.y], add: ev.shift };
        return true;
      },
      move(ev) {
        if (!mode) {
          const sel = selectedShape();
          let cursor = null;
          if (editable(sel)) for (const p of EDITORS) if ((cursor = p.hover?.(editor, sel, ev))) break;
          if (!cursor && editor.hit(ev.x, ev.y)) cursor = "move";
          editor.cursor(cursor);
          return false; // let the scene hover-highlight
        }
        if (mode.type === "plugin") {
          const cmd = mode.drag.move(ev);
          if (cmd) editor.run(cmd);
        } else if (mode.type === "move") {
          const dx = ev.x - mode.from[0], dy = ev.y - mode.from[1];
          if (!mode.moved && Math.hypot(dx, dy) < editor.tol(2)) return true;
          mode.moved = true;
          const geoms = {};
          for (const [uid, g] of Object.entries(mode.start)) geoms[uid] = translateGeometry(doc.byUid(uid).kind, g, dx, dy);
          editor.run(setGeometries(doc, geoms, { name: "move", mergeKey: mode.key }));
        } else if (mode.type === "band") {
          mode.to = [ev.x, ev.y];
          editor.invalidate();
        }
        return true;
      },
      up(ev) {
        if (!mode) return false;
        const m = mode;
        mode = null;
        if (m.type === "plugin") {
          const cmd = m.drag.up(ev);
          if (cmd) editor.run(cmd);
        } else if (m.type === "band") {
          const x0 = Math.min(m.from[0], m.to[0]), x1 = Math.max(m.from[0], m.to[0]);
          const y0 = Math.min(m.from[1], m.to[1]), y1 = Math.max(m.from[1], m.to[1]);
          if (x1 - x0 > editor.tol(3) || y1 - y0 > editor.tol(3)) {
            const inside = doc.shapes.filter((s) => {
              if (s.hidden || s.kind === "tag") return false;
              const b = shapeBounds(s);
              return b && b[0] >= x0 && b[1] >= y0 && b[2] <= x1 && b[3] <= y1;
            }).map((s) => s.uid);
            doc.select(m.add ? [...doc.selection, ...inside] : inside);
          }
          editor.invalidate();
        }
        doc.seal();
        return true;
      },
      key(e) {
        if (e.key === "Tab" && !e.ctrlKey && !e.altKey) {
          const list = doc.shapes.filter((s) => !s.hidden && s.kind !== "tag");
          if (!list.length) return true;
          const cur = doc.selection.length ? list.findIndex((s) => s.uid === doc.selection[0]) : -1;
          const next = (cur + (e.shiftKey ? -1 : 1) + list.length) % list.length;
          doc.select([list[cur < 0 && e.shiftKey ? list.length - 1 : next].uid]);
          return true;
        }
        return false;
      },
      cancel() {
        if (mode) {
          mode = null;
          editor.invalidate();
          return true;
        }
        return false;
      },
      overlay(ctx, view) {
        for (const uid of doc.selection) {
          const s = doc.byUid(uid);
          if (!s || s.hidden) continue;
          const b = shapeBounds(s);
          if (b) {
            const [x0, y0] = toScreen(view, b[0], b[1]);
            const [x1, y1] = toScreen(view, b[2], b[3]);
            ctx.strokeStyle = "rgba(255,255,255,0.9)";
            ctx.lineWidth = 1;
            ctx.setLineDash([4, 3]);
            ctx.strokeRect(x0 - 3.5, y0 - 3.5, x1 - x0 + 7, y1 - y0 + 7);
            ctx.setLineDash([]);
          }
        }
        const sel = selectedShape();
        if (sel && !sel.hidden) for (const p of EDITORS) p.overlay?.(ctx, view, sel, editor);
        if (mode && mode.type === "band") {
          const [x0, y0] = toScreen(view, mode.from[0], mode.from[1]);
          const [x1, y1] = toScreen(view, mode.to[0], mode.to[1]);
          ctx.fillStyle = "rgba(80,160,255,0.15)";
          ctx.strokeStyle = "rgba(80,160,255,0.9)";
          ctx.lineWidth = 1;
          ctx.fillRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
          ctx.strokeRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
        }
      },
    };
  },
};
