// The scene's cached layer: the image and the shapes drawn once into an offscreen canvas that
// each frame copies, kept up to date as cheaply as a software canvas allows (scene.js says
// when it is used; no DOM besides the offscreen canvases).
//
// - A changed shape repaints only the rectangles it left and entered (a clipped redraw of the
//   image and the shapes there).
// - A pan moves the layer and paints only the strips that came into view.
// - A zoom, or any redraw estimated to take more than a frame, shows the layer scaled at once
//   and redraws it once the view is at rest, a slice of a few milliseconds per frame, so the
//   page never stalls. What drawing costs is measured as it goes, per look.
//
// `src` is the scene: {dpr(), lastMove(), itemsIn(view, deviceRect, look, out),
// paintImage(ctx, view), paintPreview(ctx, view), invalidate()}.

import { begin, COARSE, DIM_ALPHA, drawItem, FINE, reach } from "./draw.js";

const SYNC_MS = 12; // a redraw estimated to take longer is done at rest, in slices
const SLICE_MS = 6;
const REST_MS = 120; // the view is at rest this long after it last moved
const MAX_DIRTY = 64; // changed rectangles kept before the whole layer is redrawn instead
const FINE_MS = 40; // the fine look while drawing the shapes in view that way is estimated under this
const FINE_MIN = 150; // always the fine look up to this many shapes in view

function makeLayer() {
  const canvas = document.createElement("canvas");
  return { canvas, ctx: canvas.getContext("2d"), view: null, look: FINE, ok: false };
}

export const sameView = (a, b) => !!a && a.scale === b.scale && a.tx === b.tx && a.ty === b.ty;
const whole = (x) => Math.abs(x - Math.round(x)) < 1e-6;

export function toView(c, v, dpr) {
  c.setTransform(dpr * v.scale, 0, 0, dpr * v.scale, dpr * v.tx, dpr * v.ty);
}

// Draw items list[from..to) in a look (dim ones faded and cheap).
export function paintItems(c, v, dpr, look, list, from = 0, to = list.length) {
  toView(c, v, dpr);
  begin(c, look);
  const px = 1 / v.scale;
  for (let i = from; i < to; i++) {
    const it = list[i];
    if (it.dim) {
      c.globalAlpha = DIM_ALPHA;
      drawItem(c, it, px, COARSE);
      c.globalAlpha = 1;
    } else drawItem(c, it, px, look);
  }
}

export function createLayers(canvas, src) {
  let front = makeLayer(); // what frames copy
  let back = makeLayer(); // where the next one is drawn
  let dirty = []; // image rectangles changed since `front` was drawn
  let dirtyAll = true;
  let job = null; // a redraw in slices: {view, look, list, i, started, dirty}
  let restTimer = 0;
  let repaints = 0;
  const cost = { [COARSE]: 0.02, [FINE]: 0.06, image: 3 }; // ms per shape drawn, ms for the image
  const inRect = [];

  function redrawAll() {
    dirtyAll = true;
    dirty.length = 0;
    job = null;
    src.invalidate();
  }

  // The image rectangle b changed (a shape left or entered it).
  function changedAt(b) {
    if (!b || dirtyAll) return;
    if (dirty.length >= MAX_DIRTY) return redrawAll();
    dirty.push(b);
    if (job) {
      if (job.dirty.length >= MAX_DIRTY) job = null;
      else job.dirty.push(b);
    }
  }

  // The device-pixel rectangle [x, y, w, h] an image rectangle covers at view v (with what the
  // drawing reaches beyond it), clipped to the canvas, or null when outside.
  function deviceRect(v, b, look) {
    const m = reach(look), dpr = src.dpr();
    const x0 = Math.max(0, Math.floor((b[0] * v.scale + v.tx - m) * dpr));
    const y0 = Math.max(0, Math.floor((b[1] * v.scale + v.ty - m) * dpr));
    const x1 = Math.min(canvas.width, Math.ceil((b[2] * v.scale + v.tx + m) * dpr));
    const y1 = Math.min(canvas.height, Math.ceil((b[3] * v.scale + v.ty + m) * dpr));
    return x1 > x0 && y1 > y0 ? [x0, y0, x1 - x0, y1 - y0] : null;
  }

  function sizeLayer(L) {
    if (L.canvas.width !== canvas.width || L.canvas.height !== canvas.height) {
      L.canvas.width = canvas.width;
      L.canvas.height = canvas.height;
      L.ok = false;
    }
  }

  // Draw the image and the shapes inside device rectangle r (all of the layer when r is null).
  function paint(L, v, look, r) {
    const c = L.ctx;
    const rect = r || [0, 0, L.canvas.width, L.canvas.height];
    c.setTransform(1, 0, 0, 1, 0, 0);
    if (r) {
      c.save();
      c.beginPath();
      c.rect(r[0], r[1], r[2], r[3]);
      c.clip();
    }
    c.clearRect(rect[0], rect[1], rect[2], rect[3]);
    src.paintImage(c, v);
    src.itemsIn(v, rect, look, inRect);
    paintItems(c, v, src.dpr(), look, inRect);
    if (r) c.restore();
    return inRect.length;
  }

  // Make the software canvas raster what was recorded, now (so a slice costs what it says).
  const flush = (L) => L.ctx.getImageData(0, 0, 1, 1);

  function swap() {
    const t = front;
    front = back;
    back = t;
    back.ok = false;
  }

  // Keep the cost estimates close to what drawing takes on this machine.
  function learn(look, ms, count, withImage) {
    if (count >= 50) cost[look] = 0.5 * cost[look] + 0.5 * Math.max(0.002, (ms - (withImage ? cost.image : 0)) / count);
  }

  const estimate = (count, look) => cost.image + count * cost[look];

  function done() {
    repaints++;
    swap();
    dirty.length = 0;
    dirtyAll = false;
    job = null;
  }

  function paintAll(view, look) {
    const t0 = performance.now();
    const n = paint(back, view, look, null);
    flush(back);
    learn(look, performance.now() - t0, n, true);
    back.view = view;
    back.look = look;
    back.ok = true;
    done();
  }

  // Repaint changed rectangles on layer L at its own view; false when that would cost more
  // than a frame can spend (then the caller redraws the layer instead).
  function repaint(L, rects) {
    const boxes = [];
    let n = 0;
    for (const b of rects) {
      const r = deviceRect(L.view, b, L.look);
      if (!r) continue;
      n += src.itemsIn(L.view, r, L.look, inRect).length;
      boxes.push(r);
    }
    if (boxes.length * cost.image * 0.25 + n * cost[L.look] > SYNC_MS) return false;
    for (const r of boxes) paint(L, L.view, L.look, r);
    return true;
  }

  function canScroll(a, v) {
    if (!a || a.scale !== v.scale) return false;
    const dpr = src.dpr();
    const dx = (v.tx - a.tx) * dpr, dy = (v.ty - a.ty) * dpr;
    return whole(dx) && whole(dy) && Math.abs(dx) < canvas.width && Math.abs(dy) < canvas.height;
  }

  // Move the layer by a whole number of device pixels and paint the strips that came into view.
  function scroll(v) {
    const dpr = src.dpr();
    const dx = Math.round((v.tx - front.view.tx) * dpr), dy = Math.round((v.ty - front.view.ty) * dpr);
    const W = canvas.width, H = canvas.height;
    const c = back.ctx;
    c.setTransform(1, 0, 0, 1, 0, 0);
    c.clearRect(0, 0, W, H);
    c.drawImage(front.canvas, dx, dy);
    back.view = v;
    back.look = front.look;
    back.ok = true;
    if (dx > 0) paint(back, v, back.look, [0, 0, dx, H]);
    else if (dx < 0) paint(back, v, back.look, [W + dx, 0, -dx, H]);
    if (dy > 0) paint(back, v, back.look, [0, 0, W, dy]);
    else if (dy < 0) paint(back, v, back.look, [0, H + dy, W, -dy]);
    swap();
  }

  // A redraw too large for one frame: once the view is at rest, a slice per frame into `back`.
  function progress(view, look) {
    const since = performance.now() - src.lastMove();
    if (since < REST_MS) {
      if (!restTimer) restTimer = setTimeout(() => { restTimer = 0; src.invalidate(); }, REST_MS - since + 5);
      return;
    }
    if (!job || !sameView(job.view, view) || job.look !== look) {
      sizeLayer(back);
      const list = src.itemsIn(view, [0, 0, canvas.width, canvas.height], look, inRect).slice();
      job = { view, look, list, i: 0, started: false, dirty: [] };
    }
    const t0 = performance.now();
    const c = back.ctx;
    const first = !job.started;
    if (first) {
      c.setTransform(1, 0, 0, 1, 0, 0);
      c.clearRect(0, 0, back.canvas.width, back.canvas.height);
      src.paintImage(c, job.view);
      job.started = true;
    }
    const to = Math.min(job.list.length, job.i + Math.max(16, Math.floor(SLICE_MS / cost[look])));
    paintItems(c, job.view, src.dpr(), look, job.list, job.i, to);
    flush(back);
    learn(look, performance.now() - t0, to - job.i, first);
    job.i = to;
    if (job.i < job.list.length) return src.invalidate();
    back.view = job.view;
    back.look = look;
    back.ok = true;
    const late = job.dirty;
    job = null;
    if (late.length && !repaint(back, late)) return src.invalidate(); // changed too much meanwhile: again
    done();
  }

  return {
    changedAt,
    redrawAll,
    // nothing drawn yet (a new image): the next frame draws the layer whole, at once
    reset() {
      front.ok = false;
      redrawAll();
    },
    // The look for `count` shapes in view: fine while this machine draws them so fast enough.
    lookFor: (count) => (count <= FINE_MIN || count * cost[FINE] <= FINE_MS ? FINE : COARSE),
    // Bring the layer up to date with the shapes and the view, as far as this frame allows.
    update(view, look, count) {
      sizeLayer(front);
      sizeLayer(back);
      if (!front.ok) return paintAll(view, look); // nothing to show meanwhile: draw it now
      if (!dirtyAll && dirty.length) {
        if (!repaint(front, dirty)) dirtyAll = true;
        dirty.length = 0;
      }
      if (!dirtyAll && !sameView(front.view, view) && canScroll(front.view, view)) scroll(view);
      if (!dirtyAll && sameView(front.view, view) && front.look === look) return;
      if (estimate(count, look) <= SYNC_MS) paintAll(view, look);
      else progress(view, look);
    },
    // Copy the layer to ctx for `view`: as it is, or moved and scaled (over the small copy of
    // the image where it does not reach) until it is redrawn.
    composite(ctx, view) {
      const W = canvas.width, H = canvas.height, dpr = src.dpr();
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      if (sameView(front.view, view)) {
        ctx.globalCompositeOperation = "copy";
        ctx.drawImage(front.canvas, 0, 0);
        ctx.globalCompositeOperation = "source-over";
        return;
      }
      const k = view.scale / front.view.scale;
      const ox = dpr * (view.tx - front.view.tx * k), oy = dpr * (view.ty - front.view.ty * k);
      const covers = ox <= 0 && oy <= 0 && ox + W * k >= W && oy + H * k >= H;
      if (!covers) {
        ctx.clearRect(0, 0, W, H);
        src.paintPreview(ctx, view);
      }
      ctx.setTransform(k, 0, 0, k, ox, oy);
      ctx.imageSmoothingEnabled = true;
      if (covers) ctx.globalCompositeOperation = "copy";
      ctx.drawImage(front.canvas, 0, 0);
      ctx.globalCompositeOperation = "source-over";
    },
    // is what the canvas shows still being brought up to date?
    pending: (view) => dirtyAll || !!job || !sameView(front.view, view),
    get repaints() { return repaints; },
    destroy() {
      clearTimeout(restTimer);
      front.canvas.width = back.canvas.width = 0; // free the layers' memory now
    },
  };
}
