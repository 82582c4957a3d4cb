// COCO run-length encoded masks, decoded in the browser. Pure functions, no DOM.
//
// An RLE is {size: [height, width], counts}. `counts` lists run lengths over the pixels in
// column-major order (down the first column, then the next), starting with a run of zeros.
// The compressed string form is COCO's own: each count is cut into 5-bit groups, lowest first,
// each stored as a character (value + 48) with 0x20 set when another group follows; the last
// group's 0x10 bit is the sign; from the third count on, each is stored as the difference
// to the count two places before it.

export function countsFromString(s) {
  const counts = [];
  let p = 0;
  const n = s.length;
  while (p < n) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= n) throw new Error("RLE counts are truncated");
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new Error(`RLE character ${JSON.stringify(s[p])} at ${p} is outside the encoding`);
      x += (c & 0x1f) * 2 ** (5 * k); // arithmetic, not <<: counts may pass 2^31 bits of shift
      more = (c & 0x20) !== 0;
      p += 1;
      k += 1;
      if (!more && (c & 0x10)) x -= 2 ** (5 * k); // sign-extend
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

// The run lengths of an RLE, whichever form its counts take.
export function runs(rle) {
  const c = rle.counts;
  if (typeof c === "string") return countsFromString(c);
  if (Array.isArray(c)) return c;
  throw new Error("RLE counts must be a string or a list of numbers");
}

function dims(rle) {
  if (!rle || !Array.isArray(rle.size) || rle.size.length !== 2) throw new Error("RLE size must be [height, width]");
  return [rle.size[0] | 0, rle.size[1] | 0];
}

// Decode to a Uint8Array of height × width 0/1 values in column-major order (as COCO defines:
// pixel (row y, column x) is at index x * height + y).
export function decodeRle(rle) {
  const [h, w] = dims(rle);
  const total = h * w;
  const out = new Uint8Array(total);
  const r = runs(rle);
  let pos = 0;
  let value = 0;
  for (const n of r) {
    if (n < 0) throw new Error("RLE counts must not be negative");
    if (pos + n > total) throw new Error(`RLE counts cover more than the ${h}x${w} mask`);
    if (value) out.fill(1, pos, pos + n);
    pos += n;
    value ^= 1;
  }
  if (pos !== total) throw new Error(`RLE counts cover ${pos} pixels, the mask has ${total} (${h}x${w})`);
  return out;
}

// Number of foreground pixels, without decoding.
export function rleArea(rle) {
  let n = 0;
  runs(rle).forEach((v, i) => {
    if (i % 2) n += v;
  });
  return n;
}

// [x0, y0, x1, y1] (pixel edges: x1, y1 exclusive) around the foreground, or null when empty;
// computed from the runs alone.
export function rleBounds(rle) {
  const [h] = dims(rle);
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  let pos = 0;
  runs(rle).forEach((n, i) => {
    if (i % 2 && n > 0) {
      const first = pos, last = pos + n - 1;
      const c0 = Math.floor(first / h), c1 = Math.floor(last / h);
      x0 = Math.min(x0, c0);
      x1 = Math.max(x1, c1 + 1);
      if (c0 === c1) {
        y0 = Math.min(y0, first % h);
        y1 = Math.max(y1, (last % h) + 1);
      } else {
        // the run wraps: it reaches the bottom of column c0 and starts at the top of c1
        y0 = 0;
        y1 = h;
      }
    }
    pos += n;
  });
  return x0 === Infinity ? null : [x0, y0, x1, y1];
}
