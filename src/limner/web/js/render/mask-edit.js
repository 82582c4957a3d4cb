// Painting into masks: a brush stroke is a disc dragged along a path. Pure functions, no DOM.
//
// A stroke is painted into a region bitmap (see mask.js) covering only the stroke, so a stroke
// on a 4000 × 3000 image touches the pixels under the brush and no others. A pixel is painted
// when its centre lies within the radius of the path, and the pixel under each point of the
// path always is (a one-pixel brush paints what it is over).

// The rectangle {x0, y0, w, h} of whole pixels a stroke of radius r along `points` can touch,
// cut to the image; null when it lies outside.
export function strokeRegion(points, r, height, width) {
  if (!points.length) return null;
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [x, y] of points) {
    x0 = Math.min(x0, x); y0 = Math.min(y0, y);
    x1 = Math.max(x1, x); y1 = Math.max(y1, y);
  }
  const rx0 = Math.max(0, Math.floor(x0 - r)), ry0 = Math.max(0, Math.floor(y0 - r));
  const rx1 = Math.min(width, Math.ceil(x1 + r) + 1), ry1 = Math.min(height, Math.ceil(y1 + r) + 1);
  if (rx1 <= rx0 || ry1 <= ry0) return null;
  return { x0: rx0, y0: ry0, w: rx1 - rx0, h: ry1 - ry0 };
}

// Paint one segment (a capsule of radius r from a to b) into region.bits (column-major).
function paintSegment(region, a, b, r) {
  const { x0, y0, w, h, bits } = region;
  const ax = a[0], ay = a[1], bx = b[0], by = b[1];
  const dx = bx - ax, dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const r2 = r * r;
  // the capsule's pixel box, in region coordinates
  const cx0 = Math.max(0, Math.floor(Math.min(ax, bx) - r) - x0);
  const cx1 = Math.min(w - 1, Math.ceil(Math.max(ax, bx) + r) - x0);
  const cy0 = Math.max(0, Math.floor(Math.min(ay, by) - r) - y0);
  const cy1 = Math.min(h - 1, Math.ceil(Math.max(ay, by) + r) - y0);
  for (let x = cx0; x <= cx1; x++) {
    const px = x0 + x + 0.5;
    const col = x * h;
    for (let y = cy0; y <= cy1; y++) {
      if (bits[col + y]) continue;
      const py = y0 + y + 0.5;
      let t = len2 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const ex = px - (ax + t * dx), ey = py - (ay + t * dy);
      if (ex * ex + ey * ey <= r2) bits[col + y] = 1;
    }
  }
}

// Set the pixel under image point (x, y) if it lies in the region.
function paintUnder(region, x, y) {
  const cx = Math.floor(x) - region.x0, cy = Math.floor(y) - region.y0;
  if (cx >= 0 && cy >= 0 && cx < region.w && cy < region.h) region.bits[cx * region.h + cy] = 1;
}

// The region bitmap of a stroke of radius r (image pixels) along `points` ([[x, y], ...]),
// cut to a height × width image: {x0, y0, w, h, bits}, or null when nothing is inside.
export function paintStroke(points, r, height, width) {
  const reg = strokeRegion(points, r, height, width);
  if (!reg) return null;
  reg.bits = new Uint8Array(reg.w * reg.h);
  if (points.length === 1) paintSegment(reg, points[0], points[0], r);
  for (let i = 1; i < points.length; i++) paintSegment(reg, points[i - 1], points[i], r);
  for (const [x, y] of points) paintUnder(reg, x, y);
  return reg;
}

// Brush sizes (diameters in image pixels) that `[` and `]` step through.
export const MIN_BRUSH = 1;
export const MAX_BRUSH = 1000;

export function nextBrushSize(size, up) {
  const next = up ? Math.max(size + 1, Math.round(size * 1.25)) : Math.min(size - 1, Math.round(size / 1.25));
  return Math.min(MAX_BRUSH, Math.max(MIN_BRUSH, next));
}
