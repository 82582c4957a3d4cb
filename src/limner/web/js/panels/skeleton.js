// The keypoint skeleton template of a label, drawn on a small canvas:
//   click empty space      add a point there (its name box takes the focus: type the name)
//   click a point          select it; click another point next to join the two with an edge
//                          (the new edge is then selected); the selected one again deselects it
//   drag a point           move it
//   click an edge          select it
//   Delete / Backspace     delete the selected point (with its edges) or edge
// The lists under the canvas name, rename and delete points and edges with the keyboard too.
// The value is the label's skeleton: {points: [names], edges: [[i, j]], positions: [[x, y] in 0..1]}.

import { h } from "../dom.js";
import { distToSegment } from "../render/geometry.js";

const W = 360, H = 260, PAD = 18;
const POINT_R = 6, HIT_R = 10, EDGE_TOL = 5, DRAG_START = 3;

// -- pure helpers (unit-tested in the page) -----------------------------------------------------

// Index of the point nearest to (x, y) within r, or -1; the last drawn wins a tie.
export function hitPoint(points, x, y, r = HIT_R) {
  let best = -1, bestD = r;
  for (let i = 0; i < points.length; i++) {
    const d = Math.hypot(points[i].x - x, points[i].y - y);
    if (d <= bestD) {
      best = i;
      bestD = d;
    }
  }
  return best;
}

// Index of the edge within tol of (x, y), or -1.
export function hitEdge(points, edges, x, y, tol = EDGE_TOL) {
  let best = -1, bestD = tol;
  edges.forEach(([a, b], i) => {
    const d = distToSegment(x, y, points[a].x, points[a].y, points[b].x, points[b].y);
    if (d <= bestD) {
      best = i;
      bestD = d;
    }
  });
  return best;
}

export const sameEdge = (e, a, b) => (e[0] === a && e[1] === b) || (e[0] === b && e[1] === a);

// Remove point i: its edges go, the indices above it shift down.
export function withoutPoint(points, edges, i) {
  return {
    points: points.filter((_, k) => k !== i),
    edges: edges.filter((e) => e[0] !== i && e[1] !== i).map(([a, b]) => [a > i ? a - 1 : a, b > i ? b - 1 : b]),
  };
}

// A name like "point 3" that no point has yet.
export function freshName(points) {
  const taken = new Set(points.map((p) => p.name));
  for (let k = points.length + 1; ; k++) if (!taken.has(`point ${k}`)) return `point ${k}`;
}

// Template positions for a skeleton stored without them: a circle.
function circle(n) {
  if (n === 1) return [[0.5, 0.5]];
  return Array.from({ length: n }, (_, i) => {
    const t = -Math.PI / 2 + (2 * Math.PI * i) / n;
    return [0.5 + 0.4 * Math.cos(t), 0.5 + 0.4 * Math.sin(t)];
  });
}

const round4 = (v) => Math.round(v * 1e4) / 1e4;
const clamp01 = (v) => Math.min(1, Math.max(0, v));

// -- the editor ---------------------------------------------------------------------------------

// skeleton: the label's skeleton or null; color: the label's colour; onChange() after each edit.
// Returns {el, value(), setColor(c), setError(text), focus()}.
export function skeletonEditor({ skeleton, color = "#1f77b4", readOnly = false, onChange = () => {} }) {
  const names = skeleton?.points || [];
  const pos = skeleton?.positions && skeleton.positions.length === names.length ? skeleton.positions : circle(names.length);
  // points in canvas pixels (CSS), so hit testing needs no conversion
  let points = names.map((name, i) => ({ name, x: PAD + pos[i][0] * (W - 2 * PAD), y: PAD + pos[i][1] * (H - 2 * PAD) }));
  let edges = (skeleton?.edges || []).map(([a, b]) => [a, b]);
  // {type: "point" | "edge", index, link}; link: the point was clicked on the canvas, so a click
  // on another point joins them (a point just added or named is selected without it)
  let selected = null;
  let drag = null; // {index, x0, y0, moved}
  let stroke = color;

  const canvas = h("canvas.skeleton-canvas", {
    id: "skeleton-canvas", width: W, height: H, tabindex: readOnly ? "-1" : "0",
    "aria-label": readOnly ? "Skeleton template" : "Skeleton template: click to add a point, click two points to join them",
    style: { width: `${W}px`, height: `${H}px` },
  });
  const pointList = h("ol.skeleton-points", { id: "skeleton-points" });
  const edgeList = h("ul.skeleton-edges", { id: "skeleton-edges" });
  const error = h("p.field-error", { dataset: { for: "skeleton" }, role: "alert" });
  const counts = h("span.muted.skeleton-counts");

  const changed = () => {
    render();
    onChange();
  };

  // -- drawing ----------------------------------------------------------------------------------
  function draw() {
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== W * dpr) {
      canvas.width = W * dpr;
      canvas.height = H * dpr;
    }
    const g = canvas.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, W, H);
    g.fillStyle = "#fbfcfd";
    g.fillRect(0, 0, W, H);
    g.strokeStyle = "#d5dbe4";
    g.setLineDash([4, 4]);
    g.strokeRect(PAD + 0.5, PAD + 0.5, W - 2 * PAD - 1, H - 2 * PAD - 1);
    g.setLineDash([]);
    edges.forEach(([a, b], i) => {
      const hot = selected?.type === "edge" && selected.index === i;
      g.strokeStyle = hot ? "#2f6fed" : stroke;
      g.lineWidth = hot ? 4 : 2;
      g.beginPath();
      g.moveTo(points[a].x, points[a].y);
      g.lineTo(points[b].x, points[b].y);
      g.stroke();
    });
    g.font = "12px system-ui, sans-serif";
    g.textBaseline = "middle";
    points.forEach((p, i) => {
      const hot = selected?.type === "point" && selected.index === i;
      g.beginPath();
      g.arc(p.x, p.y, hot ? POINT_R + 2 : POINT_R, 0, 2 * Math.PI);
      g.fillStyle = stroke;
      g.fill();
      g.lineWidth = hot ? 3 : 1.5;
      g.strokeStyle = hot ? "#2f6fed" : "#ffffff";
      g.stroke();
      if (hot && selected.link) { // the start of an edge: the next point clicked joins it
        g.beginPath();
        g.arc(p.x, p.y, POINT_R + 7, 0, 2 * Math.PI);
        g.setLineDash([3, 3]);
        g.lineWidth = 1.5;
        g.stroke();
        g.setLineDash([]);
      }
      const right = p.x < W - 90;
      g.textAlign = right ? "left" : "right";
      g.lineWidth = 3;
      g.strokeStyle = "rgba(255,255,255,0.9)";
      const tx = p.x + (right ? 10 : -10);
      g.strokeText(p.name, tx, p.y);
      g.fillStyle = "#1e2330";
      g.fillText(p.name, tx, p.y);
    });
    canvas.dataset.points = String(points.length);
    canvas.dataset.edges = String(edges.length);
  }

  // -- the lists --------------------------------------------------------------------------------
  function nameInput(p, i) {
    const input = h("input.sk-point-name", {
      value: p.name, "aria-label": `Name of point ${i + 1}`, disabled: readOnly, maxlength: "100",
      dataset: { index: i },
    });
    input.addEventListener("input", () => {
      p.name = input.value;
      markNames();
      renderEdges();
      draw();
      onChange();
    });
    input.addEventListener("focus", () => {
      selected = { type: "point", index: i, link: false };
      draw();
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        canvas.focus();
      }
    });
    return input;
  }

  // empty and repeated names are marked at once (the server refuses them too)
  function markNames() {
    const seen = new Map();
    for (const p of points) seen.set(p.name.trim(), (seen.get(p.name.trim()) || 0) + 1);
    pointList.querySelectorAll("input.sk-point-name").forEach((input, i) => {
      const name = points[i].name.trim();
      const bad = !name ? "a point needs a name" : seen.get(name) > 1 ? "names must be unique" : "";
      input.setCustomValidity(bad);
      input.title = bad;
      input.toggleAttribute("aria-invalid", Boolean(bad));
    });
  }

  function renderEdges() {
    edgeList.replaceChildren(...edges.map(([a, b], i) =>
      h("li.sk-edge", { dataset: { index: i, a, b } },
        h("span", {}, points[a].name, " — ", points[b].name),
        readOnly ? null : h("button.icon-button", { type: "button", title: "Delete this edge", "aria-label": `Delete edge ${points[a].name} to ${points[b].name}`, onclick: () => deleteEdge(i) }, "×"),
      )));
    if (!edges.length && points.length > 1) edgeList.append(h("li.muted.sk-empty", {}, readOnly ? "No edges." : "No edges yet: click a point, then another."));
  }

  function renderLists() {
    pointList.replaceChildren(...points.map((p, i) =>
      h("li.sk-point", { dataset: { index: i } },
        h("span.sk-index", {}, String(i + 1)),
        nameInput(p, i),
        readOnly ? null : h("button.icon-button", { type: "button", title: `Delete ${p.name}`, "aria-label": `Delete point ${i + 1}`, onclick: () => deletePoint(i) }, "×"),
      )));
    if (!points.length) pointList.append(h("li.muted.sk-empty", {}, readOnly ? "No keypoints." : "No keypoints yet: click on the canvas to place the first."));
    renderEdges();
    counts.textContent = `${points.length} point${points.length === 1 ? "" : "s"}, ${edges.length} edge${edges.length === 1 ? "" : "s"}`;
    markNames();
  }

  function render() {
    renderLists();
    draw();
  }

  // -- edits ------------------------------------------------------------------------------------
  function addPoint(x, y) {
    points.push({ name: freshName(points), x, y });
    selected = { type: "point", index: points.length - 1, link: false };
    changed();
    const input = pointList.querySelector(`input[data-index="${points.length - 1}"]`);
    input.focus();
    input.select();
  }

  function deletePoint(i) {
    ({ points, edges } = withoutPoint(points, edges, i));
    selected = null;
    changed();
  }

  function deleteEdge(i) {
    edges.splice(i, 1);
    selected = null;
    changed();
  }

  // join two points (an edge that exists already is selected instead)
  function join(a, b) {
    let k = edges.findIndex((e) => sameEdge(e, a, b));
    if (k < 0) {
      edges.push([a, b]);
      k = edges.length - 1;
    }
    selected = { type: "edge", index: k };
    changed();
  }

  // -- pointer and keys -------------------------------------------------------------------------
  function at(e) {
    const r = canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  if (!readOnly) {
    canvas.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      e.preventDefault();
      canvas.focus();
      const [x, y] = at(e);
      const i = hitPoint(points, x, y);
      if (i >= 0) {
        drag = { index: i, x0: x, y0: y, moved: false };
        canvas.setPointerCapture(e.pointerId);
        return;
      }
      const k = hitEdge(points, edges, x, y);
      if (k >= 0) {
        selected = { type: "edge", index: k };
        draw();
        return;
      }
      addPoint(clamp(x, PAD, W - PAD), clamp(y, PAD, H - PAD));
    });
    canvas.addEventListener("pointermove", (e) => {
      const [x, y] = at(e);
      if (!drag) {
        canvas.style.cursor = hitPoint(points, x, y) >= 0 ? "move" : hitEdge(points, edges, x, y) >= 0 ? "pointer" : "crosshair";
        return;
      }
      if (!drag.moved && Math.hypot(x - drag.x0, y - drag.y0) < DRAG_START) return;
      drag.moved = true;
      const p = points[drag.index];
      p.x = clamp(x, PAD, W - PAD);
      p.y = clamp(y, PAD, H - PAD);
      draw();
    });
    const end = () => {
      if (!drag) return;
      const { index, moved } = drag;
      drag = null;
      if (moved) {
        selected = { type: "point", index, link: false };
        draw();
        onChange();
        return;
      }
      const from = selected?.type === "point" && selected.link ? selected.index : -1;
      if (from === index) {
        selected = null;
        draw();
      } else if (from >= 0) {
        join(from, index);
      } else {
        selected = { type: "point", index, link: true };
        draw();
      }
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && selected) {
        e.preventDefault();
        e.stopPropagation(); // Escape deselects here; it does not close the dialog
        selected = null;
        draw();
      } else if ((e.key === "Delete" || e.key === "Backspace") && selected) {
        e.preventDefault();
        if (selected.type === "point") deletePoint(selected.index);
        else deleteEdge(selected.index);
      }
    });
  }

  const el = h("div.skeleton-editor", { id: "skeleton-editor", class: readOnly ? "read-only" : "" },
    h("div.skeleton-canvas-wrap", {}, canvas),
    h("div.skeleton-lists", {},
      h("div.sk-head", {}, h("strong", {}, "Keypoints"), counts),
      pointList,
      h("strong.sk-head", {}, "Edges"),
      edgeList,
    ),
    readOnly ? null : h("p.field-hint.skeleton-help", {},
      "Click to add a point and type its name; click a point, then another, to join them; drag to move; Delete removes the selected point or edge."),
    error,
  );
  render();

  return {
    el,
    value() {
      if (!points.length) return null;
      return {
        points: points.map((p) => p.name.trim()),
        edges: edges.map(([a, b]) => [a, b]),
        positions: points.map((p) => [round4(clamp01((p.x - PAD) / (W - 2 * PAD))), round4(clamp01((p.y - PAD) / (H - 2 * PAD)))]),
      };
    },
    setColor(c) {
      stroke = c;
      draw();
    },
    setError(text) {
      error.textContent = text || "";
      el.classList.toggle("invalid", Boolean(text));
    },
    focus() {
      canvas.focus();
    },
  };
}

function clamp(v, lo, hi) {
  return Math.min(hi, Math.max(lo, v));
}
