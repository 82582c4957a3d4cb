// A uniform grid over the image that answers "which items meet this rectangle?", so the scene
// draws and hit-tests only what is in view instead of every shape. Pure, no DOM.
//
// Items are small integers (the scene uses each shape's place in the drawing order) with bounds
// [x0, y0, x1, y1] in image pixels. Bounds may reach outside the image: they are filed in the
// border cells. An item that would cover very many cells (a shape as large as the image) is kept
// on a short list tested on every query instead.
//
//   const index = createGridIndex(4000, 3000, 10000);
//   index.set(7, 10, 10, 50, 40);            // add or move item 7
//   index.query(0, 0, 100, 100, out);         // ids meeting the rectangle, in any order
//   index.querySorted(0, 0, 100, 100, out);   // the same, ascending (drawing order)
//   index.remove(7);

const MAX_CELLS = 1 << 16;
const BIG_CELLS = 256; // items covering more cells than this go on the `big` list

// Cells of roughly the size of an average item's share of the area (twice the side), so a query
// visits about as many entries as it returns.
function cellSize(width, height, count) {
  const area = Math.max(1, width) * Math.max(1, height);
  let size = Math.max(8, 2 * Math.sqrt(area / Math.max(1, count)));
  while (Math.ceil(width / size) * Math.ceil(height / size) > MAX_CELLS) size *= 1.5;
  return size;
}

export function createGridIndex(width, height, count = 1024) {
  const size = cellSize(width, height, count);
  const cols = Math.max(1, Math.ceil(width / size));
  const rows = Math.max(1, Math.ceil(height / size));
  const cells = Array.from({ length: cols * rows }, () => []);
  const big = [];
  let cap = 0;
  let bounds = new Float64Array(0); // x0, y0, x1, y1 per id
  let span = new Int32Array(0); // c0, r0, c1, r1 per id; c0 = -1: not stored; c0 = -2: on `big`
  let stamp = new Uint32Array(0);
  let visit = 0;
  let size_ = 0;

  function grow(id) {
    if (id < cap) return;
    let n = Math.max(64, cap);
    while (n <= id) n *= 2;
    const b = new Float64Array(4 * n);
    b.set(bounds);
    const s = new Int32Array(4 * n).fill(-1);
    s.set(span);
    const t = new Uint32Array(n);
    t.set(stamp);
    bounds = b;
    span = s;
    stamp = t;
    cap = n;
  }

  const col = (x) => Math.min(cols - 1, Math.max(0, Math.floor(x / size)));
  const row = (y) => Math.min(rows - 1, Math.max(0, Math.floor(y / size)));

  function remove(id) {
    if (id >= cap || span[4 * id] === -1) return false;
    const c0 = span[4 * id];
    if (c0 === -2) {
      big.splice(big.indexOf(id), 1);
    } else {
      const r0 = span[4 * id + 1], c1 = span[4 * id + 2], r1 = span[4 * id + 3];
      for (let r = r0; r <= r1; r++) {
        for (let c = c0; c <= c1; c++) {
          const list = cells[r * cols + c];
          const i = list.indexOf(id);
          if (i >= 0) {
            list[i] = list[list.length - 1];
            list.pop();
          }
        }
      }
    }
    span[4 * id] = -1;
    size_--;
    return true;
  }

  function set(id, x0, y0, x1, y1) {
    grow(id);
    remove(id);
    if (!(x1 >= x0 && y1 >= y0)) return; // no bounds: nothing to find
    bounds[4 * id] = x0;
    bounds[4 * id + 1] = y0;
    bounds[4 * id + 2] = x1;
    bounds[4 * id + 3] = y1;
    const c0 = col(x0), r0 = row(y0), c1 = col(x1), r1 = row(y1);
    size_++;
    if ((c1 - c0 + 1) * (r1 - r0 + 1) > BIG_CELLS) {
      span[4 * id] = -2;
      big.push(id);
      return;
    }
    span[4 * id] = c0;
    span[4 * id + 1] = r0;
    span[4 * id + 2] = c1;
    span[4 * id + 3] = r1;
    for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) cells[r * cols + c].push(id);
  }

  const meets = (id, x0, y0, x1, y1) =>
    bounds[4 * id] <= x1 && bounds[4 * id + 2] >= x0 && bounds[4 * id + 1] <= y1 && bounds[4 * id + 3] >= y0;

  // Ids meeting [x0, x1] × [y0, y1] (edges included), appended to `out` (cleared first).
  function query(x0, y0, x1, y1, out = []) {
    out.length = 0;
    if (!(x1 >= x0 && y1 >= y0)) return out;
    visit = (visit + 1) >>> 0;
    if (visit === 0) {
      stamp.fill(0);
      visit = 1;
    }
    const c0 = col(x0), r0 = row(y0), c1 = col(x1), r1 = row(y1);
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const list = cells[r * cols + c];
        for (let i = 0; i < list.length; i++) {
          const id = list[i];
          if (stamp[id] === visit) continue;
          stamp[id] = visit;
          if (meets(id, x0, y0, x1, y1)) out.push(id);
        }
      }
    }
    for (const id of big) if (meets(id, x0, y0, x1, y1)) out.push(id);
    return out;
  }

  return {
    set,
    remove,
    query,
    // As query, ascending.
    querySorted(x0, y0, x1, y1, out = []) {
      query(x0, y0, x1, y1, out);
      return out.sort((a, b) => a - b);
    },
    // The bounds an id was filed with, or null.
    bounds(id) {
      if (id >= cap || span[4 * id] === -1) return null;
      return [bounds[4 * id], bounds[4 * id + 1], bounds[4 * id + 2], bounds[4 * id + 3]];
    },
    get size() { return size_; },
    get cell() { return size; },
  };
}
