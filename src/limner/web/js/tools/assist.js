// Assist: segmentation from a few prompts, computed by the chosen assistant on the server.
// Click: a positive point; Shift+click or right click: a negative point; drag: a box; Alt+drag:
// a scribble (Shift+Alt: a background scribble). The result appears at once as a preview with
// its polygon; Enter commits it as a polygon of the active label (a mask when the label allows
// masks but not polygons), Esc clears the prompts, Backspace removes the last one. An assistant
// that segments the whole image from no prompt (a kept scribble classifier) runs on apply(), or on
// Enter when nothing is marked yet; marks drawn after that refine it.
//
// The tool never calls the network itself: editor.services.assist(tool, prompt, tolerance) does
// (the workspace wires it to api.js), editor.services.assistTool() names the assistant the assist
// bar has chosen and editor.services.assistWholeImage() says whether it takes an empty prompt.

import { addShapes } from "../commands.js";
import { toScreen } from "../render/geometry.js";

const DRAG_PX = 5;

export function promptOf(state) {
  const p = {};
  if (state.positive.length) p.positive = state.positive;
  if (state.negative.length) p.negative = state.negative;
  if (state.box) p.box = state.box;
  if (state.scribbles.length) p.scribbles = state.scribbles;
  return p;
}

// A scribble in screen space: green for foreground, red for background.
function scribble(ctx, view, points, positive) {
  ctx.beginPath();
  points.forEach(([x, y], i) => {
    const [sx, sy] = toScreen(view, x, y);
    if (i) ctx.lineTo(sx, sy);
    else ctx.moveTo(sx, sy);
  });
  ctx.strokeStyle = positive ? "rgba(40,220,90,0.9)" : "rgba(240,60,60,0.9)";
  ctx.lineWidth = 3;
  ctx.stroke();
}

export const tool = {
  name: "assist",
  key: "i",
  title: "Assist: click inside (Shift or right click: outside), drag a box, Alt+drag to scribble; Enter keeps it",
  icon: "✦",
  kinds: ["polygon", "mask"],
  cursor: "crosshair",
  create(editor) {
    const st = { positive: [], negative: [], box: null, scribbles: [], history: [], whole: false };
    let press = null; // {x, y, sx, sy, button, shift, alt, points}
    let result = null; // the server's answer for the current prompts
    let seq = 0;
    let busy = false;

    function clear() {
      st.positive = [];
      st.negative = [];
      st.box = null;
      st.scribbles = [];
      st.history = [];
      st.whole = false;
      result = null;
      seq++;
      editor.invalidate();
    }

    async function run() {
      const prompt = promptOf(st);
      if (!Object.keys(prompt).length && !st.whole) {
        result = null;
        editor.invalidate();
        return;
      }
      const mine = ++seq;
      busy = true;
      editor.bus.emit("assist", { state: "running" });
      try {
        const r = await editor.services.assist(editor.services.assistTool(), prompt, 1.0);
        if (mine !== seq) return; // a newer prompt is on its way
        result = r;
        editor.bus.emit("assist", { state: "done", ms: r.elapsed_ms, score: r.score });
      } catch (err) {
        if (mine !== seq) return;
        result = null;
        editor.status(err.detail || err.message || String(err));
        editor.bus.emit("assist", { state: "error" });
      } finally {
        if (mine === seq) busy = false;
        editor.invalidate();
      }
    }

    function apply() {
      if (!editor.services.assistWholeImage?.()) return false;
      st.whole = true;
      run();
      return true;
    }

    function commit() {
      if (!result) return !st.history.length && !st.whole && apply();
      const polygon = editor.labelFor("polygon");
      const mask = editor.labelFor("mask");
      let shapes = [];
      if (polygon && result.polygons && result.polygons.length) {
        shapes = result.polygons.filter((g) => (g.points || []).length >= 3).map((g) => editor.newShape("polygon", { points: g.points, holes: g.holes || [] }));
      } else if (mask && result.mask) {
        shapes = [editor.newShape("mask", { rle: result.mask })];
      } else {
        editor.newShape("polygon", {}); // says which labels would do
        return true;
      }
      shapes = shapes.filter(Boolean);
      for (const s of shapes) s.source = `assist:${editor.services.assistTool()}`;
      if (shapes.length) editor.run(addShapes(shapes, { name: "assist" }));
      clear();
      return true;
    }

    return {
      down(ev) {
        if (ev.button !== 0 && ev.button !== 2) return false;
        press = { x: ev.x, y: ev.y, sx: ev.sx, sy: ev.sy, button: ev.button, shift: ev.shift, alt: ev.alt, points: [[ev.x, ev.y]], moved: false };
        return true;
      },
      move(ev) {
        if (!press) return false;
        if (Math.hypot(ev.sx - press.sx, ev.sy - press.sy) > DRAG_PX) press.moved = true;
        press.points.push([ev.x, ev.y]);
        press.to = [ev.x, ev.y];
        editor.invalidate();
        return true;
      },
      up(ev) {
        if (!press) return false;
        const p = press;
        press = null;
        const round = (v) => Math.round(v * 10) / 10;
        if (!p.moved) {
          const pt = [round(ev.x), round(ev.y)];
          if (p.button === 2 || p.shift) st.negative.push(pt);
          else st.positive.push(pt);
          st.history.push(p.button === 2 || p.shift ? "negative" : "positive");
        } else if (p.alt) {
          st.scribbles.push({ points: p.points.map(([x, y]) => [round(x), round(y)]), positive: !p.shift, radius: Math.max(2, editor.tol(4)) });
          st.history.push("scribbles");
        } else {
          const x0 = Math.min(p.x, ev.x), y0 = Math.min(p.y, ev.y);
          st.box = [round(x0), round(y0), round(Math.abs(ev.x - p.x)), round(Math.abs(ev.y - p.y))];
          st.history.push("box");
        }
        run();
        return true;
      },
      key(e) {
        if (e.key === "Backspace" && st.history.length) {
          const last = st.history.pop();
          if (last === "box") st.box = null;
          else st[last].pop();
          run();
          return true;
        }
        return false;
      },
      finish: commit,
      apply,
      prompt: () => promptOf(st),
      cancel() {
        if (!st.history.length && !result) return false;
        clear();
        return true;
      },
      deactivate() {
        seq++;
      },
      get busy() {
        return busy;
      },
      overlay(ctx, view) {
        const l = editor.label(editor.activeLabel);
        const color = (l && l.color) || "#ffffff";
        if (result && result.polygons) {
          ctx.beginPath();
          for (const g of result.polygons) {
            for (const ring of [g.points || [], ...(g.holes || [])]) {
              ring.forEach(([x, y], i) => {
                const [sx, sy] = toScreen(view, x, y);
                if (i) ctx.lineTo(sx, sy);
                else ctx.moveTo(sx, sy);
              });
              ctx.closePath();
            }
          }
          ctx.fillStyle = "rgba(80,200,255,0.28)";
          ctx.fill("evenodd");
          ctx.strokeStyle = color;
          ctx.lineWidth = 2;
          ctx.setLineDash([5, 3]);
          ctx.stroke();
          ctx.setLineDash([]);
        }
        if (st.box) {
          const [x, y] = toScreen(view, st.box[0], st.box[1]);
          ctx.strokeStyle = "#50c8ff";
          ctx.lineWidth = 1.5;
          ctx.strokeRect(x, y, st.box[2] * view.scale, st.box[3] * view.scale);
        }
        for (const s of st.scribbles) scribble(ctx, view, s.points, s.positive);
        const dot = ([x, y], fill) => {
          const [sx, sy] = toScreen(view, x, y);
          ctx.beginPath();
          ctx.arc(sx, sy, 5, 0, 2 * Math.PI);
          ctx.fillStyle = fill;
          ctx.fill();
          ctx.strokeStyle = "#fff";
          ctx.lineWidth = 1.5;
          ctx.stroke();
        };
        for (const p of st.positive) dot(p, "#28c850");
        for (const p of st.negative) dot(p, "#e83c3c");
        if (press && press.moved && press.to) {
          if (press.alt) scribble(ctx, view, press.points, !press.shift);
          else {
            const [ax, ay] = toScreen(view, press.x, press.y);
            const [bx, by] = toScreen(view, press.to[0], press.to[1]);
            ctx.strokeStyle = "#50c8ff";
            ctx.setLineDash([5, 3]);
            ctx.strokeRect(Math.min(ax, bx), Math.min(ay, by), Math.abs(bx - ax), Math.abs(by - ay));
            ctx.setLineDash([]);
          }
        }
      },
    };
  },
};
