// Mask bitmaps and their COCO RLE, built in the browser: encoding (the inverse of render/rle.js's
// decoding), moving a mask, and merging a painted region into a mask. Pure functions, no DOM.
//
// A bitmap is a Uint8Array of height × width 0/1 values in column-major order, as COCO defines
// it: pixel (row y, column x) is at index x * height + y. A region is a rectangle of such a
// bitmap: {x0, y0, w, h, bits} with bits column-major over the region's own h.

import { decodeRle, rleBounds, runs } from "./render/rle.js";

// The run lengths of a bitmap, starting with a run of zeros (0 when the first pixel is set).
export function bitsToCounts(bits) {
  const counts = [];
  const n = bits.length;
  let p = 0; // the value of the current run
  let c = 0;
  let i = 0;
  while (i < n) {
    // skip ahead over the current value: scanning for the next change is the whole cost
    const start = i;
    if (p === 0) while (i < n && bits[i] === 0) i++;
    else while (i < n && bits[i] !== 0) i++;
    c += i - start;
    if (i < n) {
      counts.push(c);
      c = 0;
      p ^= 1;
    }
  }
  counts.push(c);
  return counts;
}

// COCO's compressed string of a list of run lengths: each count (from the fourth on, as the
// difference to the count two before) in 5-bit groups, lowest first, + 48, 0x20 on every group
// but the last, whose 0x10 bit is the sign.
export function countsToString(counts) {
  let s = "";
  const chars = [];
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i];
    if (i > 2) x -= counts[i - 2];
    let more = true;
    while (more) {
      let c = x & 0x1f; // the low 5 bits of x, also when x is negative (two's complement)
      x = Math.floor(x / 32); // an arithmetic shift that does not wrap at 2^31
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      chars.push(c + 48);
    }
    if (chars.length > 4096) {
      s += String.fromCharCode(...chars);
      chars.length = 0;
    }
  }
  return s + String.fromCharCode(...chars);
}

// The compressed COCO RLE {size: [height, width], counts} of a column-major bitmap.
export function encodeRle(bits, height, width) {
  if (bits.length !== height * width) throw new Error(`a ${height}x${width} mask needs ${height * width} pixels, got ${bits.length}`);
  return { size: [height, width], counts: countsToString(bitsToCounts(bits)) };
}

export function emptyBits(height, width) {
  return new Uint8Array(height * width);
}

// Number of set pixels of a bitmap.
export function bitsArea(bits) {
  let n = 0;
  for (let i = 0; i < bits.length; i++) n += bits[i];
  return n;
}

// Write a region into a full bitmap: mode "add" sets its set pixels, "erase" clears them.
// Returns whether any pixel changed.
export function applyRegion(bits, height, width, region, mode = "add") {
  const { x0, y0, w, h } = region;
  const r = region.bits;
  let changed = false;
  for (let x = 0; x < w; x++) {
    const gx = x0 + x;
    if (gx < 0 || gx >= width) continue;
    const src = x * h, dst = gx * height;
    for (let y = 0; y < h; y++) {
      if (!r[src + y]) continue;
      const gy = y0 + y;
      if (gy < 0 || gy >= height) continue;
      const i = dst + gy;
      if (mode === "erase") {
        if (bits[i]) { bits[i] = 0; changed = true; }
      } else if (!bits[i]) { bits[i] = 1; changed = true; }
    }
  }
  return changed;
}

// A bitmap moved by whole pixels; what leaves the image is cut off.
export function translateBits(bits, height, width, dx, dy) {
  const out = new Uint8Array(height * width);
  const x0 = Math.max(0, -dx), x1 = Math.min(width, width - dx);
  const y0 = Math.max(0, -dy), y1 = Math.min(height, height - dy);
  if (x0 >= x1 || y0 >= y1) return out;
  for (let x = x0; x < x1; x++) {
    const src = x * height;
    const dst = (x + dx) * height + dy;
    out.set(bits.subarray(src + y0, src + y1), dst + y0);
  }
  return out;
}

// An RLE moved by (dx, dy) image pixels, rounded to whole pixels; what leaves the image is cut
// off. When nothing crosses the top or bottom edge, the move is a shift of the runs along the
// column-major order, without decoding.
export function translateRle(rle, dx, dy) {
  const [height, width] = rle.size;
  dx = Math.round(dx);
  dy = Math.round(dy);
  const b = rleBounds(rle);
  if ((!dx && !dy) || !b) return { size: [height, width], counts: typeof rle.counts === "string" ? rle.counts : countsToString(rle.counts) };
  if (b[1] + dy >= 0 && b[3] + dy <= height) {
    const shifted = shiftRuns(runs(rle), dx * height + dy, height * width);
    return { size: [height, width], counts: countsToString(shifted) };
  }
  return encodeRle(translateBits(decodeRle(rle), height, width, dx, dy), height, width);
}

// Runs shifted by `k` pixels along the flat order, cut to `total` pixels.
export function shiftRuns(counts, k, total) {
  const out = [];
  let pos = 0, prev = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i];
    if (i % 2 && n > 0) {
      const s = Math.max(0, pos + k), e = Math.min(total, pos + n + k);
      if (e > s) {
        out.push(s - prev, e - s);
        prev = e;
      }
    }
    pos += n;
  }
  if (prev < total || !out.length) out.push(total - prev); // COCO ends on the last run, even of ones
  return out;
}

// A region painted into (mode "add") or erased from ("erase") an RLE, touching only the columns
// the region spans: the runs before and after them are carried over as they are, so a brush
// stroke on a large image costs the stroke's columns, not the whole image. Returns
// {rle, changed}.
export function paintRle(rle, region, mode = "add") {
  const [height, width] = rle.size;
  const cx0 = Math.max(0, region.x0), cx1 = Math.min(width, region.x0 + region.w);
  if (cx1 <= cx0) return { rle, changed: false };
  const a = cx0 * height, b = cx1 * height, total = height * width;
  const local = new Uint8Array(b - a);
  const before = [], after = [];
  const counts = runs(rle);
  let pos = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i];
    if (i % 2 && n > 0) {
      const s = pos, e = pos + n;
      if (s < a) before.push(s, Math.min(e, a));
      if (e > b) after.push(Math.max(s, b), e);
      const ls = Math.max(s, a), le = Math.min(e, b);
      if (le > ls) local.fill(1, ls - a, le - a);
    }
    pos += n;
  }
  if (pos !== total) throw new Error(`RLE counts cover ${pos} pixels, the mask has ${total} (${height}x${width})`);
  const changed = applyRegion(local, height, cx1 - cx0, { ...region, x0: region.x0 - cx0 }, mode);
  if (!changed) return { rle, changed: false };
  const out = [];
  let prev = 0;
  const push = (s, e) => {
    if (out.length && s === prev) out[out.length - 1] += e - s; // touches the run before: one run
    else out.push(s - prev, e - s);
    prev = e;
  };
  for (let i = 0; i < before.length; i += 2) push(before[i], before[i + 1]);
  const lc = bitsToCounts(local);
  let p = a;
  for (let i = 0; i < lc.length; i++) {
    if (i % 2 && lc[i] > 0) push(p, p + lc[i]);
    p += lc[i];
  }
  for (let i = 0; i < after.length; i += 2) push(after[i], after[i + 1]);
  if (prev < total || !out.length) out.push(total - prev); // COCO ends on the last run, even of ones
  return { rle: { size: [height, width], counts: countsToString(out) }, changed: true };
}
