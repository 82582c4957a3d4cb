// Small SVG plots drawn by hand: a line chart over categories (days), horizontal bars with a
// threshold line, and a heat map of a matrix. Pure: data in, an <svg> element out; no network,
// no state. The number helpers are exported for tests.

const NS = "http://www.w3.org/2000/svg";

export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

// A linear map from [d0, d1] to [r0, r1] (a flat domain maps to the middle of the range).
export function scale(d0, d1, r0, r1) {
  return (v) => (d1 === d0 ? (r0 + r1) / 2 : r0 + ((v - d0) * (r1 - r0)) / (d1 - d0));
}

// Round tick values for [0, max]: 1, 2 or 5 times a power of ten, about `count` of them.
export function ticks(max, count = 4) {
  if (!(max > 0)) return [0];
  const raw = max / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw);
  const out = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

// A value in [0, 1] as a colour from red (0) through yellow to green (1); null is grey.
export function ramp(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "#e6e9ee";
  const t = Math.max(0, Math.min(1, v));
  const hue = Math.round(120 * t);
  return `hsl(${hue}, 65%, ${Math.round(78 - 18 * t)}%)`;
}

// Room for a text label at 11 px (an estimate: the plots never measure the DOM).
export const textWidth = (s, px = 11) => Math.ceil(String(s).length * px * 0.6);

const fmt = (v, digits = 2) => (v === null || v === undefined ? "n/a" : Number(v).toFixed(digits));

// series: [{name, color, values: [number]}] over `labels` (the x categories, e.g. days).
export function lineChart(labels, series, { width = 560, height = 200, id = null, title = "" } = {}) {
  const pad = { l: 40, r: 12, t: 28, b: 28 };
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const x = scale(0, Math.max(1, labels.length - 1), pad.l, width - pad.r);
  const y = scale(0, max, height - pad.b, pad.t);
  const root = svg("svg", { id, class: "plot line-chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title });
  for (const t of ticks(max)) {
    root.append(svg("line", { x1: pad.l, x2: width - pad.r, y1: y(t), y2: y(t), stroke: "#eef0f3" }));
    root.append(svg("text", { x: pad.l - 6, y: y(t) + 4, "text-anchor": "end", "font-size": 10, fill: "#6b7280" }, String(t)));
  }
  const every = Math.max(1, Math.ceil(labels.length / 6));
  labels.forEach((lb, i) => {
    if (i % every === 0 || i === labels.length - 1) {
      root.append(svg("text", { x: x(i), y: height - 8, "text-anchor": "middle", "font-size": 10, fill: "#6b7280" }, lb));
    }
  });
  series.forEach((s, k) => {
    const pts = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    root.append(svg("polyline", { points: pts, fill: "none", stroke: s.color, "stroke-width": 2, "data-series": s.name }));
    s.values.forEach((v, i) => root.append(svg("circle", { cx: x(i), cy: y(v), r: 2.5, fill: s.color },
      svg("title", {}, `${s.name} ${labels[i]}: ${v}`))));
    const before = series.slice(0, k).reduce((n, o) => n + textWidth(o.name) + 18, 0);
    root.append(svg("text", { x: pad.l + before, y: 12, "font-size": 11, fill: s.color }, s.name));
  });
  return root;
}

// rows: [{label, value (0..1 or null), note}]; a dashed line marks `threshold`; rows under it are
// drawn in red and carry data-flagged.
export function barChart(rows, { width = 420, threshold = null, id = null, title = "" } = {}) {
  const rowH = 22, pad = { l: 12 + Math.max(40, ...rows.map((r) => textWidth(r.label))), r: 50, t: 6, b: 6 };
  width = Math.max(width, pad.l + 240);
  const height = pad.t + pad.b + rowH * Math.max(1, rows.length);
  const x = scale(0, 1, pad.l, width - pad.r);
  const root = svg("svg", { id, class: "plot bar-chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title });
  rows.forEach((r, i) => {
    const top = pad.t + i * rowH;
    const flagged = threshold !== null && r.value !== null && r.value < threshold;
    const g = svg("g", { class: "bar", "data-label": r.label, "data-flagged": flagged ? "true" : "false" });
    g.append(svg("text", { x: pad.l - 6, y: top + 15, "text-anchor": "end", "font-size": 11, fill: "#374151" }, r.label));
    g.append(svg("rect", { x: pad.l, y: top + 4, width: Math.max(0, x(r.value ?? 0) - pad.l), height: rowH - 8,
      fill: flagged ? "#e5534b" : "#4c9a6a", rx: 2 }));
    g.append(svg("text", { x: x(r.value ?? 0) + 4, y: top + 15, "font-size": 11, fill: "#374151" }, fmt(r.value)));
    if (r.note) g.append(svg("title", {}, r.note));
    root.append(g);
  });
  if (threshold !== null) {
    root.append(svg("line", { class: "threshold", x1: x(threshold), x2: x(threshold), y1: 0, y2: height,
      stroke: "#b42318", "stroke-dasharray": "4 3" }, svg("title", {}, `threshold ${threshold}`)));
  }
  return root;
}

// A square matrix of values in [0, 1] (null: no data) with row and column names.
export function heatmap(names, value, { cell = 44, id = null, title = "" } = {}) {
  const pad = 12 + Math.max(40, ...names.map((s) => textWidth(s)));
  const n = names.length;
  const size = pad + cell * n + 4;
  const wide = size + Math.ceil(0.8 * (pad - 12)); // the slanted column names reach past the last column
  const root = svg("svg", { id, class: "plot heatmap", width: wide, height: size, viewBox: `0 0 ${wide} ${size}`, role: "img", "aria-label": title });
  names.forEach((name, i) => {
    root.append(svg("text", { x: pad - 6, y: pad + i * cell + cell / 2 + 4, "text-anchor": "end", "font-size": 11, fill: "#374151" }, name));
    root.append(svg("text", { x: pad + i * cell + cell / 2, y: pad - 8, "font-size": 11, fill: "#374151",
      transform: `rotate(-40 ${pad + i * cell + cell / 2} ${pad - 8})` }, name));
  });
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = i === j ? null : value(names[i], names[j]);
      const g = svg("g", { class: "cell", "data-a": names[i], "data-b": names[j], "data-value": v ?? "" });
      g.append(svg("rect", { x: pad + j * cell, y: pad + i * cell, width: cell - 2, height: cell - 2, fill: i === j ? "#f5f6f8" : ramp(v) }));
      if (i !== j) {
        g.append(svg("text", { x: pad + j * cell + cell / 2 - 1, y: pad + i * cell + cell / 2 + 3, "text-anchor": "middle",
          "font-size": 10, fill: "#1f2937" }, fmt(v)));
      }
      root.append(g);
    }
  }
  return root;
}
