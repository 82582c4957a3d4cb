// How one shape looks on the canvas. The context's transform maps image pixels to the screen;
// `px` is one screen pixel in image units. No state of its own: each item caches what is costly
// to rebuild (its outline as a Path2D in image coordinates, a simpler outline for far views,
// its mask as a small canvas), and a changed shape gets a new item (scene.js), so nothing stale
// is ever drawn.
//
// Three looks:
//   FINE    the label colour over a thin dark halo, vertex dots (few shapes in view)
//   COARSE  one-pixel lines, no halo, no dots, simpler outlines, specks for tiny shapes (many
//           shapes in view: a software canvas strokes a 1-pixel line several times faster
//           than a 2-pixel one, and halos double the work)
//   HOT     the hovered or selected shape: thicker, more opaque, drawn on top

import { rotatedBoxCorners, shapeBounds, simplifyPoints } from "./geometry.js";
import { decodeRle } from "./rle.js";

export const COARSE = 0;
export const FINE = 1;
export const HOT = 2;

// How far (screen pixels) a shape drawn in a look reaches beyond its bounds: strokes, halos, dots.
export const reach = (look) => (look === COARSE ? 3 : 10);
export const DIM_ALPHA = 0.45;

const FILL_ALPHA = 0.18;
const FILL_ALPHA_HOT = 0.38;
const MASK_ALPHA = 0.45;
const MASK_ALPHA_HOT = 0.7;
const SIMPLIFY_FROM = 12; // outlines with at least this many points get a simpler one far away
const FONT = '12px system-ui, -apple-system, "Segoe UI", sans-serif';
const FONT_HOT = `600 ${FONT}`;
const NAME_H = 17;

function rgb(hex) {
  const n = parseInt(String(hex || "#888888").slice(1), 16);
  return Number.isNaN(n) ? [136, 136, 136] : [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

const rgba = ([r, g, b], a) => `rgba(${r},${g},${b},${a})`;
const ink = ([r, g, b]) => (0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#111" : "#fff");

// The set pixels of a mask inside its bounds, in the label colour (opaque; alpha is applied on
// drawing), as a canvas to place at the bounds' corner. `bits` is column-major (rle.js).
export function maskCanvas(bits, h, w, b, color) {
  const x0 = Math.max(0, b[0]), y0 = Math.max(0, b[1]);
  const x1 = Math.min(w, b[2]), y1 = Math.min(h, b[3]);
  const cw = Math.max(1, x1 - x0), ch = Math.max(1, y1 - y0);
  const c = document.createElement("canvas");
  c.width = cw;
  c.height = ch;
  const cx = c.getContext("2d");
  const img = cx.createImageData(cw, ch);
  const px = new Uint32Array(img.data.buffer);
  const [r, g, bl] = color;
  const word = new Uint32Array(new Uint8Array([r, g, bl, 255]).buffer)[0]; // the platform's byte order
  for (let x = x0; x < x1; x++) {
    const base = x * h;
    for (let y = y0; y < y1; y++) if (bits[base + y]) px[(y - y0) * cw + (x - x0)] = word;
  }
  cx.putImageData(img, 0, 0);
  return c;
}

// What the scene keeps per shape: the given entry ({key, shape, color, name, skeleton?, dim?,
// ...}) plus its colours, bounds and caches. Masks are decoded here, once per shape version.
export function prepareItem(s) {
  const c = rgb(s.color);
  const it = {
    ...s,
    rgb: c,
    ink: ink(c),
    paint: { solid: rgba(c, 1), fill: rgba(c, FILL_ALPHA), fillHot: rgba(c, FILL_ALPHA_HOT), tag: rgba(c, 0.85) },
    bounds: shapeBounds(s.shape),
    bits: null,
    maskCanvas: null,
    maskAt: null,
    path: undefined, // Path2D in image coordinates, built on first use
    far: null, // {tol, path}: the simpler outline for the last far view
    nameWidth: -1,
  };
  const g = s.shape.geometry;
  if (s.shape.kind === "mask" && g && g.rle && it.bounds) {
    try {
      const [h, w] = g.rle.size;
      it.bits = decodeRle(g.rle);
      it.maskCanvas = maskCanvas(it.bits, h, w, it.bounds, c);
      it.maskAt = [Math.max(0, it.bounds[0]), Math.max(0, it.bounds[1])];
    } catch (err) {
      console.warn(`mask ${s.key} cannot be decoded: ${err.message}`);
    }
  }
  return it;
}

function chain(p, pts, close) {
  if (!pts.length) return;
  p.moveTo(pts[0][0], pts[0][1]);
  for (let i = 1; i < pts.length; i++) p.lineTo(pts[i][0], pts[i][1]);
  if (close) p.closePath();
}

// The outline in image coordinates (null for points and masks). `simplify` thins polygon and
// polyline points to one per `tol` image pixels.
function outline(it, tol = 0) {
  const { kind } = it.shape;
  const g = it.shape.geometry || {};
  const p = new Path2D();
  switch (kind) {
    case "box":
      p.rect(g.x, g.y, g.w, g.h);
      return p;
    case "rotated_box":
      chain(p, rotatedBoxCorners(g), true);
      return p;
    case "ellipse":
      p.ellipse(g.cx, g.cy, Math.max(0, g.rx), Math.max(0, g.ry), (g.angle * Math.PI) / 180, 0, 2 * Math.PI);
      return p;
    case "polygon":
      chain(p, simplifyPoints(g.points || [], tol, 3), true);
      for (const hole of g.holes || []) chain(p, simplifyPoints(hole, tol, 3), true);
      return p;
    case "polyline":
      chain(p, simplifyPoints(g.points || [], tol, 2), false);
      return p;
    case "skeleton": {
      const pts = g.points || [];
      for (const [a, b] of (it.skeleton && it.skeleton.edges) || []) {
        const u = pts[a], v = pts[b];
        if (!u || !v || !u[2] || !v[2]) continue; // edges join labelled points only
        p.moveTo(u[0], u[1]);
        p.lineTo(v[0], v[1]);
      }
      return p;
    }
    default:
      return null;
  }
}

export function pathOf(it) {
  if (it.path === undefined) it.path = outline(it);
  return it.path;
}

// The outline to draw when one screen pixel is `px` image pixels: the full one up close, a
// simpler one (cached per power-of-two tolerance) far away.
function farPath(it, px) {
  const pts = it.shape.geometry && it.shape.geometry.points;
  const k = it.shape.kind;
  if (px < 1.5 || (k !== "polygon" && k !== "polyline") || !pts || pts.length < SIMPLIFY_FROM) return pathOf(it);
  const tol = 2 ** Math.floor(Math.log2(px));
  if (!it.far || it.far.tol !== tol) it.far = { tol, path: outline(it, tol) };
  return it.far.path;
}

function dot(ctx, x, y, r, fill, stroke, px) {
  ctx.beginPath();
  ctx.arc(x, y, r * px, 0, 2 * Math.PI);
  if (fill) {
    ctx.fillStyle = fill;
    ctx.fill();
  }
  if (stroke) {
    ctx.strokeStyle = stroke;
    ctx.lineWidth = 1.5 * px;
    ctx.stroke();
  }
}

// Stroke in the label colour over a thin dark halo, so lines read on any image.
function haloStroke(ctx, path, hot, px, solid) {
  const w = (hot ? 3.5 : 2) * px;
  ctx.strokeStyle = "rgba(0,0,0,0.45)";
  ctx.lineWidth = w + 2 * px;
  ctx.stroke(path);
  ctx.strokeStyle = solid;
  ctx.lineWidth = w;
  ctx.stroke(path);
}

function drawMask(ctx, it, hot) {
  if (!it.maskCanvas) return;
  const a = ctx.globalAlpha;
  const smooth = ctx.imageSmoothingEnabled;
  ctx.globalAlpha = a * (hot ? MASK_ALPHA_HOT : MASK_ALPHA);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(it.maskCanvas, it.maskAt[0], it.maskAt[1]);
  ctx.imageSmoothingEnabled = smooth;
  ctx.globalAlpha = a;
}

function drawCoarse(ctx, it, px) {
  const b = it.bounds;
  const { kind } = it.shape;
  const { solid } = it.paint;
  if (b[2] - b[0] < 2 * px && b[3] - b[1] < 2 * px) {
    // smaller than two screen pixels: a speck
    ctx.fillStyle = solid;
    ctx.fillRect(b[0], b[1], Math.max(b[2] - b[0], px), Math.max(b[3] - b[1], px));
    return;
  }
  if (kind === "points" || kind === "skeleton") {
    if (kind === "skeleton") {
      ctx.strokeStyle = solid;
      ctx.lineWidth = px;
      ctx.stroke(pathOf(it));
    }
    ctx.fillStyle = solid;
    for (const p of it.shape.geometry.points || []) {
      if (kind === "skeleton" && !p[2]) continue;
      ctx.fillRect(p[0] - 1.5 * px, p[1] - 1.5 * px, 3 * px, 3 * px);
    }
    return;
  }
  const path = farPath(it, px);
  if (!path) return;
  if (kind !== "polyline") {
    ctx.fillStyle = it.paint.fill;
    ctx.fill(path, "evenodd");
  }
  ctx.strokeStyle = solid;
  ctx.lineWidth = px;
  ctx.stroke(path);
}

function drawFine(ctx, it, px, hot) {
  const { kind } = it.shape;
  const { solid } = it.paint;
  const pts = (it.shape.geometry && it.shape.geometry.points) || [];
  const path = pathOf(it);
  if (kind === "polyline") {
    haloStroke(ctx, path, hot, px, solid);
    for (const p of pts) dot(ctx, p[0], p[1], hot ? 3.5 : 2.5, solid, null, px);
  } else if (kind === "points") {
    for (const p of pts) dot(ctx, p[0], p[1], hot ? 6 : 4.5, solid, "#fff", px);
  } else if (kind === "skeleton") {
    haloStroke(ctx, path, hot, px, solid);
    for (const p of pts) {
      if (p[2] === 2) dot(ctx, p[0], p[1], hot ? 6 : 4.5, solid, "#fff", px); // visible: filled
      else if (p[2] === 1) dot(ctx, p[0], p[1], hot ? 6 : 4.5, "rgba(0,0,0,0.35)", solid, px); // occluded: hollow
    }
  } else if (path) {
    ctx.fillStyle = hot ? it.paint.fillHot : it.paint.fill;
    ctx.fill(path, "evenodd");
    haloStroke(ctx, path, hot, px, solid);
  }
}

// Draw one item in one of the three looks. Line joins are the caller's (see `begin`).
export function drawItem(ctx, it, px, look) {
  if (it.shape.kind === "mask") return drawMask(ctx, it, look === HOT);
  if (!it.bounds) return;
  if (look === COARSE) drawCoarse(ctx, it, px);
  else drawFine(ctx, it, px, look === HOT);
}

// Set what every item of a look shares (once per batch of items).
export function begin(ctx, look) {
  ctx.lineJoin = look === COARSE ? "miter" : "round";
  ctx.lineCap = look === COARSE ? "butt" : "round";
}

// The label's name on a tag at the shape's top-left corner, in screen pixels (the context's
// transform is the device pixel ratio alone). `sx, sy` = the corner on screen; `w, h` = the
// canvas in CSS pixels.
export function drawName(ctx, it, sx, sy, w, h, hot) {
  if (sx > w || sy > h) return;
  ctx.font = hot ? FONT_HOT : FONT;
  let tw;
  if (hot) tw = ctx.measureText(it.name).width + 8;
  else {
    if (it.nameWidth < 0) it.nameWidth = ctx.measureText(it.name).width + 8;
    tw = it.nameWidth;
  }
  const x = Math.max(0, Math.min(sx, w - tw));
  const y = sy - NAME_H >= 0 ? sy - NAME_H : sy;
  ctx.fillStyle = hot ? it.paint.solid : it.paint.tag;
  ctx.fillRect(x, y, tw, NAME_H);
  ctx.fillStyle = it.ink;
  ctx.textBaseline = "middle";
  ctx.fillText(it.name, x + 4, y + NAME_H / 2 + 0.5);
}
