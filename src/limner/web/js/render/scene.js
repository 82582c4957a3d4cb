// The canvas scene: one image and its shapes, drawn under a view transform (zoom with the wheel
// around the cursor, pan by dragging, double-click to fit). It draws in requestAnimationFrame,
// and only when something changed. No DOM widgets here: the page owns the panels and tells the
// scene what to show (setImage, setShapes, setHighlight); the scene reports hovering and view
// changes through the callbacks it was given.
//
// Speed, on a software canvas too (no GPU):
// - A grid index of the shapes' bounds (index.js): a frame draws and hit-tests only the shapes
//   in view.
// - The image and the shapes are drawn into a cached layer (layers.js: repainted only where
//   shapes changed, scrolled on a pan, redrawn in slices at rest after a zoom); a frame copies
//   it and draws only what changes often on top: the hovered or selected shape, the names, the
//   tool's overlay. Hovering never redraws the other shapes.
// - With many shapes in view (more than this machine draws finely in a few frames) they are
//   drawn the cheap way (draw.js: one-pixel lines, simpler outlines, no vertex dots), and names
//   only where there is room.
//
// For tests and debugging, after each frame the canvas carries data-view="scale,tx,ty,dpr"
// (screen pixel = (image × scale + t) × dpr), data-image="1" once the image is drawn,
// data-shapes = the number of shapes to draw, data-drawn = how many of them meet the view (the
// rest are culled), data-pending="1" while what is shown is still being redrawn, and
// data-repaints = how many times the whole cached layer was drawn (hovering adds none).

import { centreOn, drawOrder, fitView, panBy, shapeContains, toImage, toScreen, zoomAt } from "./geometry.js";
import { begin, drawItem, drawName, FINE, HOT, prepareItem, reach } from "./draw.js";
import { createGridIndex } from "./index.js";
import { createLayers, toView } from "./layers.js";

const HIT_TOLERANCE = 6; // screen pixels
const MAX_NAMES = 200; // names drawn at most; beyond that only on shapes this wide on screen:
const NAME_MIN_PX = 64;
const PREVIEW_SIDE = 1024; // the small copy of the image drawn while zooming and in the minimap
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
// {points, edges}; dim: drawn faded (another owner's shapes, model suggestions). An entry whose
// `shape` is the same object as last time keeps its caches (outline, decoded mask): give a
// changed shape a new object (the document does) and pass the rest as they were.
//
// In the editor, `input` = {down(ev), move(ev), up(ev), hover?(ev)} receives the pointer (ev =
// {x, y} in image pixels, {sx, sy} on screen, button, shift, alt, ctrl, e the DOM event) and
// returns true when it used the event. The scene itself pans with the middle button, or the left
// one while the space bar is held (`setPanKey`), and zooms with the wheel. Without `input` (the
// read-only viewer) a left drag pans.
export function createScene(canvas, { onHover = () => {}, onView = () => {}, input = null } = {}) {
  const ctx = canvas.getContext("2d");
  let image = null, imgW = 0, imgH = 0;
  let adjust = { brightness: 1, contrast: 1, gamma: 1 };
  let adjusted = null; // the image with gamma applied (a canvas), or null
  let preview = null; // a small copy of the (adjusted) image, made when first needed
  let items = []; // as given
  let byKey = new Map();
  let order = []; // drawn items, in drawing order; item.pos = its place here = its id in `index`
  let index = createGridIndex(1, 1, 1);
  let indexVersion = 0;
  let highlight = null;
  let hovered = null;
  let view = { scale: 1, tx: 0, ty: 0 };
  let fitted = true; // the view follows the canvas size until the user zooms or pans
  let cssW = 0, cssH = 0, dpr = 1;
  let frame = 0;
  let drag = null;
  let overlay = null; // (ctx, view) => void, drawn in CSS pixels on top of everything
  let panKey = false; // the space bar is held
  let showNames = true;
  let lastMove = -Infinity; // when the view last changed
  const layers = createLayers(canvas, {
    dpr: () => dpr,
    lastMove: () => lastMove,
    itemsIn,
    paintImage,
    paintPreview(c, v) {
      toView(c, v, dpr);
      c.imageSmoothingEnabled = true;
      c.drawImage(thumbnail(), 0, 0, imgW, imgH);
    },
    invalidate,
  });
  const changedAt = (b) => layers.changedAt(b);

  // Buffers reused from frame to frame.
  const ids = [];
  const hits = [];
  const vis = { key: "", list: [] };

  function invalidate() {
    if (!frame) frame = requestAnimationFrame(draw);
  }

  function setView(v, byUser) {
    view = v;
    lastMove = performance.now();
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
    vis.key = "";
    if (fitted) fit();
    else invalidate();
  }

  function rebuildIndex() {
    index = createGridIndex(imgW || 1, imgH || 1, order.length);
    for (let i = 0; i < order.length; i++) {
      const it = order[i];
      it.pos = i;
      const b = it.bounds;
      if (b) index.set(i, b[0], b[1], b[2], b[3]);
    }
    indexVersion++;
  }

  // -- queries ----------------------------------------------------------------------------------

  // The items whose bounds (plus what their drawing in `look` reaches beyond them) meet the
  // device-pixel rectangle [x, y, w, h] at view v, in drawing order, into `out`.
  function itemsIn(v, r, look, out) {
    const m = reach(look) / v.scale;
    const x0 = (r[0] / dpr - v.tx) / v.scale - m, y0 = (r[1] / dpr - v.ty) / v.scale - m;
    const x1 = ((r[0] + r[2]) / dpr - v.tx) / v.scale + m, y1 = ((r[1] + r[3]) / dpr - v.ty) / v.scale + m;
    index.querySorted(x0, y0, x1, y1, ids);
    out.length = ids.length;
    for (let i = 0; i < ids.length; i++) out[i] = order[ids[i]];
    return out;
  }

  // The items in view now (cached until the view or the shapes change).
  function visible() {
    const key = `${view.scale},${view.tx},${view.ty},${canvas.width},${canvas.height},${dpr},${indexVersion}`;
    if (vis.key !== key) {
      itemsIn(view, [0, 0, canvas.width, canvas.height], FINE, vis.list);
      vis.key = key;
    }
    return vis.list;
  }

  // The topmost item within `tol` image pixels of (x, y) that `accept` allows, or null.
  function topAt(x, y, tol, accept, withDim) {
    index.query(x - tol, y - tol, x + tol, y + tol, hits);
    hits.sort((a, b) => b - a);
    for (const id of hits) {
      const it = order[id];
      if ((it.dim && !withDim) || !accept(it)) continue;
      if (shapeContains(it.shape, x, y, tol, it.bits || null)) return it;
    }
    return null;
  }

  // -- drawing ----------------------------------------------------------------------------------

  function paintImage(c, v) {
    toView(c, v, dpr);
    c.imageSmoothingEnabled = v.scale < 3;
    const plain = adjust.brightness === 1 && adjust.contrast === 1;
    if (!plain) c.filter = `brightness(${adjust.brightness}) contrast(${adjust.contrast})`;
    c.drawImage(adjusted || image, 0, 0, imgW, imgH);
    if (!plain) c.filter = "none";
  }

  function drawNames(list, hotItem, look) {
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (showNames) {
      const few = list.length <= MAX_NAMES;
      if (few || look === FINE) {
        let n = 0;
        for (const it of list) {
          if (it === hotItem || !it.bounds) continue;
          if (!few && (it.bounds[2] - it.bounds[0]) * view.scale < NAME_MIN_PX) continue;
          drawName(ctx, it, it.bounds[0] * view.scale + view.tx, it.bounds[1] * view.scale + view.ty, cssW, cssH, false);
          if (++n >= MAX_NAMES) break;
        }
      }
    }
    if (hotItem && hotItem.bounds && (showNames || hotItem.key === highlight)) {
      drawName(ctx, hotItem, hotItem.bounds[0] * view.scale + view.tx, hotItem.bounds[1] * view.scale + view.ty, cssW, cssH, true);
    }
  }

  function draw() {
    frame = 0;
    if (!image || !canvas.width) {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      return;
    }
    const list = visible();
    const look = layers.lookFor(list.length);
    layers.update(view, look, list.length);
    layers.composite(ctx, view);
    const hot = highlight ?? hovered;
    const hotItem = hot === null ? null : byKey.get(hot);
    const shown = hotItem && hotItem.pos !== undefined && order[hotItem.pos] === hotItem ? hotItem : null;
    if (shown) {
      toView(ctx, view, dpr);
      begin(ctx, HOT);
      drawItem(ctx, shown, 1 / view.scale, HOT);
    }
    drawNames(list, shown, look);
    if (overlay) {
      ctx.save();
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      overlay(ctx, view);
      ctx.restore();
    }
    const pending = layers.pending(view);
    canvas.dataset.view = `${view.scale},${view.tx},${view.ty},${dpr}`;
    canvas.dataset.image = "1";
    canvas.dataset.shapes = String(order.length);
    canvas.dataset.drawn = String(list.length);
    canvas.dataset.repaints = String(layers.repaints);
    if (pending) canvas.dataset.pending = "1";
    else delete canvas.dataset.pending;
  }

  // The small copy of the image (adjustments applied), for previews and the minimap.
  function thumbnail() {
    if (!preview && image) {
      const k = Math.min(1, PREVIEW_SIDE / Math.max(imgW, imgH));
      preview = document.createElement("canvas");
      preview.width = Math.max(1, Math.round(imgW * k));
      preview.height = Math.max(1, Math.round(imgH * k));
      const c = preview.getContext("2d");
      if (adjust.brightness !== 1 || adjust.contrast !== 1) c.filter = `brightness(${adjust.brightness}) contrast(${adjust.contrast})`;
      c.drawImage(adjusted || image, 0, 0, preview.width, preview.height);
    }
    return preview;
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

  const any = () => true;

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
    const it = topAt(x, y, HIT_TOLERANCE / view.scale, any, true);
    const key = it ? it.key : null;
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

  // -- shapes -----------------------------------------------------------------------------------

  function setShapes(list) {
    const next = new Array(list.length);
    const nextByKey = new Map();
    let structural = list.length !== items.length;
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      const old = byKey.get(s.key);
      let it;
      if (old && old.shape === s.shape && old.color === s.color && old.name === s.name && !old.dim === !s.dim && old.skeleton === s.skeleton) {
        it = old;
        for (const k in s) if (it[k] !== s[k]) it[k] = s[k]; // flags (locked, ...) that draw the same
      } else {
        it = prepareItem(s);
        if (old) changedAt(old.bounds);
        changedAt(it.bounds);
        if (!old || old.shape.kind !== s.shape.kind || (old.shape.z_order || 0) !== (s.shape.z_order || 0)) structural = true;
        else if (old.pos !== undefined) {
          it.pos = old.pos;
          order[it.pos] = it;
          const b = it.bounds;
          if (b) index.set(it.pos, b[0], b[1], b[2], b[3]);
          else index.remove(it.pos);
          indexVersion++;
        }
      }
      if (!structural && items[i].key !== s.key) structural = true;
      next[i] = it;
      nextByKey.set(s.key, it);
    }
    if (structural) {
      for (const [k, it] of byKey) if (!nextByKey.has(k)) changedAt(it.bounds);
    }
    items = next;
    byKey = nextByKey;
    if (structural) {
      order = drawOrder(items.map((it) => it.shape)).map((i) => items[i]).filter((it) => it.shape.kind !== "tag");
      for (const it of items) if (it.shape.kind === "tag") it.pos = undefined;
      rebuildIndex();
    }
    invalidate();
  }

  return {
    // img: a loaded HTMLImageElement (or a canvas); width, height: the asset's size in pixels
    setImage(img, width, height) {
      image = img;
      imgW = width || img.naturalWidth || img.width;
      imgH = height || img.naturalHeight || img.height;
      adjusted = adjust.gamma === 1 ? null : gammaImage(image, imgW, imgH, adjust.gamma);
      preview = null;
      rebuildIndex();
      layers.reset();
      fit();
    },
    setShapes,
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
    // put image point (x, y) at the centre of the canvas, at the same zoom
    centreOn(x, y) {
      const v = centreOn(view, x, y, cssW, cssH);
      setView({ scale: v.scale, tx: Math.round(v.tx * dpr) / dpr, ty: Math.round(v.ty * dpr) / dpr }, true);
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
      preview = null;
      layers.redrawAll();
    },
    get adjust() {
      return { ...adjust };
    },
    toImage(sx, sy) {
      return toImage(view, sx, sy);
    },
    // The key of the topmost drawn item covering image point (x, y) within `tol` image pixels
    // that `accept(item)` allows (dim items never), or null.
    hitAt(x, y, tol, accept = any) {
      const it = topAt(x, y, tol, accept, false);
      return it ? it.key : null;
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
    // the image, small (at most 1024 pixels a side), adjustments applied; null before setImage
    get thumbnail() {
      return image ? thumbnail() : null;
    },
    destroy() {
      if (frame) cancelAnimationFrame(frame);
      frame = 0;
      layers.destroy();
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
