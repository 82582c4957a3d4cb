// The canvas scene: one image and its shapes, drawn under a view transform (zoom with the wheel
// around the cursor, pan by dragging, double-click to fit). It draws in requestAnimationFrame,
// and only when something changed. No DOM widgets here: the page owns the panels and tells the
// scene what to show (setImage, setShapes, setHighlight); the scene reports hovering and view
// changes through the callbacks it was given.
//
// For tests and debugging, after each frame the canvas carries data-view="scale,tx,ty,dpr"
// (screen pixel = (image × scale + t) × dpr), data-image="1" once the image is drawn, and
// data-shapes = the number of shapes drawn.

import { drawOrder, fitView, hitTest, panBy, rotatedBoxCorners, shapeBounds, shapeContains, toImage, toScreen, zoomAt } from "./geometry.js";
import { decodeRle } from "./rle.js";

const FILL_ALPHA = 0.18;
const FILL_ALPHA_HOT = 0.38;
const MASK_ALPHA = 0.45;
const MASK_ALPHA_HOT = 0.7;
const HIT_TOLERANCE = 6; // screen pixels

function rgb(hex) {
  const n = parseInt(String(hex || "#888888").slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

const rgba = ([r, g, b], a) => `rgba(${r},${g},${b},${a})`;
const ink = ([r, g, b]) => (0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#111" : "#fff");

// A w × h canvas with the mask's pixels in the label colour (opaque; alpha is applied on drawing).
function maskCanvas(bits, h, w, color) {
  const c = document.createElement("canvas");
  c.width = w;
  c.height = h;
  const cx = c.getContext("2d");
  const img = cx.createImageData(w, h);
  const d = img.data;
  const [r, g, b] = color;
  for (let x = 0; x < w; x++) {
    const base = x * h;
    for (let y = 0; y < h; y++) {
      if (bits[base + y]) {
        const i = (y * w + x) * 4;
        d[i] = r;
        d[i + 1] = g;
        d[i + 2] = b;
        d[i + 3] = 255;
      }
    }
  }
  cx.putImageData(img, 0, 0);
  return c;
}

// The image with a gamma curve applied through a lookup table (brightness and contrast are
// canvas filters, applied while drawing).
function gammaImage(img, w, h, gamma) {
  const c = document.createElement("canvas");
  c.width = w;
  c.height = h;
  const cx = c.getContext("2d", { willReadFrequently: true });
  cx.drawImage(img, 0, 0, w, h);
  const data = cx.getImageData(0, 0, w, h);
  const lut = new Uint8ClampedArray(256);
  for (let i = 0; i < 256; i++) lut[i] = Math.round(255 * Math.pow(i / 255, 1 / gamma));
  const d = data.data;
  for (let i = 0; i < d.length; i += 4) {
    d[i] = lut[d[i]];
    d[i + 1] = lut[d[i + 1]];
    d[i + 2] = lut[d[i + 2]];
  }
  cx.putImageData(data, 0, 0);
  return c;
}

// shapes given to setShapes: [{key, shape, color, name, skeleton?, dim?}] — skeleton = the label's
// {points, edges}; dim: drawn faded (another owner's shapes, model suggestions).
//
// In the editor, `input` = {down(ev), move(ev), up(ev), hover?(ev)} receives the pointer (ev =
// {x, y} in image pixels, {sx, sy} on screen, button, shift, alt, ctrl, e the DOM event) and
// returns true when it used the event. The scene itself pans with the middle button, or the left
// one while the space bar is held (`setPanKey`), and zooms with the wheel. Without `input` (the
// read-only viewer) a left drag pans.
export function createScene(canvas, { onHover = () => {}, onView = () => {}, input = null } = {}) {
  const ctx = canvas.getContext("2d");
  let image = null, imgW = 0, imgH = 0;
  let items = [];
  let order = [];
  let highlight = null;
  let hovered = null;
  let view = { scale: 1, tx: 0, ty: 0 };
  let fitted = true; // the view follows the canvas size until the user zooms or pans
  let cssW = 0, cssH = 0, dpr = 1;
  let frame = 0;
  let drag = null;
  let overlay = null; // (ctx, view) => void, drawn in CSS pixels on top of everything
  let panKey = false; // the space bar is held
  let adjust = { brightness: 1, contrast: 1, gamma: 1 };
  let adjusted = null; // the image with gamma applied (a canvas), or null
  let showNames = true;

  function invalidate() {
    if (!frame) frame = requestAnimationFrame(draw);
  }

  function setView(v, byUser) {
    view = v;
    if (byUser) fitted = false;
    onView(view);
    invalidate();
  }

  function fit() {
    fitted = true;
    setView(fitView(imgW, imgH, cssW, cssH), false);
  }

  function resize() {
    const r = canvas.getBoundingClientRect();
    cssW = r.width;
    cssH = r.height;
    dpr = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(cssW * dpr));
    canvas.height = Math.max(1, Math.round(cssH * dpr));
    if (fitted) fit();
    else invalidate();
  }

  // -- drawing ----------------------------------------------------------------------------------

  function pathShape(it) {
    const g = it.shape.geometry;
    ctx.beginPath();
    switch (it.shape.kind) {
      case "box":
        ctx.rect(g.x, g.y, g.w, g.h);
        return true;
      case "rotated_box": {
        const c = rotatedBoxCorners(g);
        ctx.moveTo(c[0][0], c[0][1]);
        for (let i = 1; i < 4; i++) ctx.lineTo(c[i][0], c[i][1]);
        ctx.closePath();
        return true;
      }
      case "ellipse":
        ctx.ellipse(g.cx, g.cy, g.rx, g.ry, (g.angle * Math.PI) / 180, 0, 2 * Math.PI);
        return true;
      case "polygon":
        for (const ring of [g.points || [], ...(g.holes || [])]) {
          if (!ring.length) continue;
          ctx.moveTo(ring[0][0], ring[0][1]);
          for (let i = 1; i < ring.length; i++) ctx.lineTo(ring[i][0], ring[i][1]);
          ctx.closePath();
        }
        return true;
      default:
        return false;
    }
  }

  function dot(x, y, r, fill, stroke, px) {
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

  // Stroke the current path in the label colour over a thin dark halo, so lines read on any image.
  function haloStroke(hot, px, solid) {
    const w = (hot ? 3.5 : 2) * px;
    ctx.strokeStyle = "rgba(0,0,0,0.45)";
    ctx.lineWidth = w + 2 * px;
    ctx.stroke();
    ctx.strokeStyle = solid;
    ctx.lineWidth = w;
    ctx.stroke();
  }

  function drawShape(it, hot) {
    const { shape, rgb: c } = it;
    const px = 1 / view.scale; // one screen pixel in image units
    const g = shape.geometry;
    const solid = rgba(c, 1);
    ctx.lineJoin = "round";
    ctx.lineCap = "round";
    ctx.lineWidth = (hot ? 3.5 : 2) * px;
    ctx.strokeStyle = solid;
    if (shape.kind === "mask") {
      if (!it.maskCanvas) return;
      ctx.save();
      ctx.imageSmoothingEnabled = false;
      ctx.globalAlpha = hot ? MASK_ALPHA_HOT : MASK_ALPHA;
      ctx.drawImage(it.maskCanvas, 0, 0);
      ctx.restore();
      return;
    }
    if (pathShape(it)) {
      ctx.fillStyle = rgba(c, hot ? FILL_ALPHA_HOT : FILL_ALPHA);
      ctx.fill("evenodd");
      haloStroke(hot, px, solid);
      return;
    }
    const pts = g.points || [];
    if (shape.kind === "polyline") {
      ctx.beginPath();
      pts.forEach((p, i) => (i ? ctx.lineTo(p[0], p[1]) : ctx.moveTo(p[0], p[1])));
      haloStroke(hot, px, solid);
      for (const p of pts) dot(p[0], p[1], hot ? 3.5 : 2.5, solid, null, px);
    } else if (shape.kind === "points") {
      for (const p of pts) dot(p[0], p[1], hot ? 6 : 4.5, solid, "#fff", px);
    } else if (shape.kind === "skeleton") {
      const edges = (it.skeleton && it.skeleton.edges) || [];
      ctx.beginPath();
      for (const [a, b] of edges) {
        const p = pts[a], q = pts[b];
        if (!p || !q || !p[2] || !q[2]) continue; // edges join labelled points only
        ctx.moveTo(p[0], p[1]);
        ctx.lineTo(q[0], q[1]);
      }
      haloStroke(hot, px, solid);
      for (const p of pts) {
        if (p[2] === 2) dot(p[0], p[1], hot ? 6 : 4.5, solid, "#fff", px); // visible: filled
        else if (p[2] === 1) dot(p[0], p[1], hot ? 6 : 4.5, "rgba(0,0,0,0.35)", solid, px); // occluded: hollow
      }
    }
  }

  function drawName(it, hot) {
    if (!it.bounds) return;
    const [sx, sy] = toScreen(view, it.bounds[0], it.bounds[1]);
    if (sx > cssW || sy > cssH) return;
    const text = it.name;
    ctx.font = `${hot ? "600 " : ""}12px system-ui, -apple-system, "Segoe UI", sans-serif`;
    const w = ctx.measureText(text).width + 8;
    const hgt = 17;
    const x = Math.max(0, Math.min(sx, cssW - w));
    const y = sy - hgt >= 0 ? sy - hgt : sy;
    ctx.fillStyle = rgba(it.rgb, hot ? 1 : 0.85);
    ctx.fillRect(x, y, w, hgt);
    ctx.fillStyle = it.ink;
    ctx.textBaseline = "middle";
    ctx.fillText(text, x + 4, y + hgt / 2 + 0.5);
  }

  function draw() {
    frame = 0;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!image) return;
    ctx.setTransform(dpr * view.scale, 0, 0, dpr * view.scale, dpr * view.tx, dpr * view.ty);
    ctx.imageSmoothingEnabled = view.scale < 3;
    const plain = adjust.brightness === 1 && adjust.contrast === 1;
    if (!plain) ctx.filter = `brightness(${adjust.brightness}) contrast(${adjust.contrast})`;
    ctx.drawImage(adjusted || image, 0, 0, imgW, imgH);
    if (!plain) ctx.filter = "none";
    const hot = highlight ?? hovered;
    let hotItem = null;
    for (const it of order) {
      if (it.key === hot) hotItem = it;
      else if (it.dim) {
        ctx.globalAlpha = 0.45;
        drawShape(it, false);
        ctx.globalAlpha = 1;
      } else drawShape(it, false);
    }
    if (hotItem) drawShape(hotItem, true); // on top
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (showNames) {
      for (const it of order) if (it !== hotItem) drawName(it, false);
      if (hotItem) drawName(hotItem, true);
    }
    if (overlay) {
      ctx.save();
      overlay(ctx, view);
      ctx.restore();
    }
    canvas.dataset.view = [view.scale, view.tx, view.ty, dpr].join(",");
    canvas.dataset.image = "1";
    canvas.dataset.shapes = String(order.length);
  }

  // -- input ------------------------------------------------------------------------------------

  function pointer(e) {
    const r = canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  function onWheel(e) {
    if (!image) return;
    e.preventDefault();
    const unit = e.deltaMode === 1 ? 33 : e.deltaMode === 2 ? cssH : 1;
    const [sx, sy] = pointer(e);
    setView(zoomAt(view, Math.exp(-e.deltaY * unit * 0.0015), sx, sy), true);
  }

  function pointerEvent(e) {
    const [sx, sy] = pointer(e);
    const [x, y] = toImage(view, sx, sy);
    return { x, y, sx, sy, button: e.button, shift: e.shiftKey, alt: e.altKey, ctrl: e.ctrlKey || e.metaKey, e };
  }

  function onDown(e) {
    if (input && e.button !== 1 && !(e.button === 0 && panKey)) {
      if (input.down(pointerEvent(e))) {
        canvas.setPointerCapture(e.pointerId);
        e.preventDefault();
      }
      return;
    }
    if (e.button !== 0 && e.button !== 1) return;
    e.preventDefault();
    drag = { x: e.clientX, y: e.clientY, id: e.pointerId };
    canvas.setPointerCapture(e.pointerId);
    canvas.classList.add("dragging");
  }

  function onMove(e) {
    if (drag && e.pointerId === drag.id) {
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      drag.x = e.clientX;
      drag.y = e.clientY;
      if (dx || dy) setView(panBy(view, dx, dy), true);
      return;
    }
    if (input) {
      const ev = pointerEvent(e);
      if (input.move(ev)) return;
    }
    const [sx, sy] = pointer(e);
    const [x, y] = toImage(view, sx, sy);
    const i = hitTest(order, x, y, HIT_TOLERANCE / view.scale);
    const key = i < 0 ? null : order[i].key;
    if (key !== hovered) {
      hovered = key;
      onHover(key);
      invalidate();
    }
  }

  function onUp(e) {
    if (drag && e.pointerId === drag.id) {
      drag = null;
      canvas.classList.remove("dragging");
      return;
    }
    if (input) input.up(pointerEvent(e));
  }

  function onLeave() {
    if (hovered !== null && !drag) {
      hovered = null;
      onHover(null);
      invalidate();
    }
  }

  canvas.addEventListener("wheel", onWheel, { passive: false });
  canvas.addEventListener("pointerdown", onDown);
  canvas.addEventListener("pointermove", onMove);
  canvas.addEventListener("pointerup", onUp);
  canvas.addEventListener("pointercancel", onUp);
  canvas.addEventListener("pointerleave", onLeave);
  if (!input) canvas.addEventListener("dblclick", fit);
  const noMenu = (e) => { if (input) e.preventDefault(); };
  canvas.addEventListener("contextmenu", noMenu);
  const observer = new ResizeObserver(resize);
  observer.observe(canvas);
  resize();

  return {
    // img: a loaded HTMLImageElement; width, height: the asset's size in pixels
    setImage(img, width, height) {
      image = img;
      imgW = width || img.naturalWidth;
      imgH = height || img.naturalHeight;
      adjusted = adjust.gamma === 1 ? null : gammaImage(image, imgW, imgH, adjust.gamma);
      fit();
    },
    setShapes(list) {
      items = list.map((s) => {
        const c = rgb(s.color);
        const it = { ...s, rgb: c, ink: ink(c), bounds: shapeBounds(s.shape), bits: null, maskCanvas: null };
        if (s.shape.kind === "mask" && s.shape.geometry && s.shape.geometry.rle) {
          try {
            const [h, w] = s.shape.geometry.rle.size;
            it.bits = decodeRle(s.shape.geometry.rle);
            it.maskCanvas = maskCanvas(it.bits, h, w, c);
          } catch (err) {
            console.warn(`mask ${s.key} cannot be decoded: ${err.message}`);
          }
        }
        return it;
      });
      const shapes = items.map((it) => it.shape);
      order = drawOrder(shapes).map((i) => items[i]).filter((it) => it.shape.kind !== "tag");
      invalidate();
    },
    setHighlight(key) {
      if (key === highlight) return;
      highlight = key;
      invalidate();
    },
    zoom(factor) {
      setView(zoomAt(view, factor, cssW / 2, cssH / 2), true);
    },
    // zoom to `scale` (1 = one image pixel per CSS pixel) about the centre of the canvas
    zoomTo(scale) {
      setView(zoomAt(view, scale / view.scale, cssW / 2, cssH / 2), true);
    },
    // show the image rectangle [x, y, w, h] as large as fits, with a margin
    fitTo([x, y, w, h], margin = 0.15) {
      const mw = Math.max(w, 8) * (1 + 2 * margin), mh = Math.max(h, 8) * (1 + 2 * margin);
      const v = fitView(mw, mh, cssW, cssH, 0);
      setView({ scale: v.scale, tx: v.tx - (x + w / 2 - mw / 2) * v.scale, ty: v.ty - (y + h / 2 - mh / 2) * v.scale }, true);
    },
    panBy(dx, dy) {
      setView(panBy(view, dx, dy), true);
    },
    fit,
    invalidate,
    setOverlay(fn) {
      overlay = fn;
      invalidate();
    },
    setPanKey(down) {
      panKey = !!down;
      canvas.classList.toggle("pan-ready", panKey);
    },
    setShowNames(on) {
      showNames = !!on;
      invalidate();
    },
    // brightness and contrast as multipliers (1 = as is), gamma as an exponent (1 = as is)
    setAdjust(a) {
      const gammaChanged = (a.gamma ?? adjust.gamma) !== adjust.gamma;
      adjust = { ...adjust, ...a };
      if (gammaChanged) adjusted = adjust.gamma === 1 || !image ? null : gammaImage(image, imgW, imgH, adjust.gamma);
      invalidate();
    },
    get adjust() {
      return { ...adjust };
    },
    toImage(sx, sy) {
      return toImage(view, sx, sy);
    },
    // The key of the topmost drawn item covering image point (x, y) within `tol` image pixels
    // that `accept(item)` allows (dim items never), or null.
    hitAt(x, y, tol, accept = () => true) {
      for (let i = order.length - 1; i >= 0; i--) {
        const it = order[i];
        if (it.dim || !accept(it)) continue;
        if (shapeContains(it.shape, x, y, tol, it.bits || null)) return it.key;
      }
      return null;
    },
    toScreen(x, y) {
      return toScreen(view, x, y);
    },
    get size() {
      return { width: cssW, height: cssH, imageWidth: imgW, imageHeight: imgH };
    },
    get view() {
      return { ...view };
    },
    destroy() {
      if (frame) cancelAnimationFrame(frame);
      frame = 0;
      observer.disconnect();
      canvas.removeEventListener("wheel", onWheel);
      canvas.removeEventListener("pointerdown", onDown);
      canvas.removeEventListener("pointermove", onMove);
      canvas.removeEventListener("pointerup", onUp);
      canvas.removeEventListener("pointercancel", onUp);
      canvas.removeEventListener("pointerleave", onLeave);
      canvas.removeEventListener("dblclick", fit);
      canvas.removeEventListener("contextmenu", noMenu);
    },
  };
}
