"""YOLO detect label texts from :class:`~limner.core.columns.ShapeColumns`: the boxes of the plain
polygons computed and formatted for all of them at once, every other shape by
:func:`~limner.formats.yolo.formatting.format_labels`, so each item's text and the report are
those the shapes would give.

A plain polygon inside its image has its bounding box written as is: ``x0, y0, x1 - x0, y1 - y0``
from its vertices' bounds, then the centre and size divided by the image's, with the same float
operations ``format_labels`` does. A polygon reaching outside its image, or whose box has no
width or height, goes the one-shape way (clipping, counting what was clipped or dropped).

The lines are written as bytes by :func:`fixed_lines`: the digits of every number at once, with
the rounding of Python's ``{:.6f}`` (a number within a hair of a rounding tie is rounded on its
exact binary value, as Python does)."""

from __future__ import annotations

import numpy as np

from limner.core.columns import ShapeColumns
from limner.formats.base import Report
from limner.formats.yolo.formatting import _box_format, format_labels

__all__ = ["DetectLines", "fixed_lines"]

_TIE = 1e-6  # a scaled number this close to x.5 is rounded on its exact value
_SPACE, _DOT, _NL = 32, 46, 10


def _digits(v: np.ndarray, decimals: int) -> np.ndarray:
    """Numbers in [0, 1] as ``decimals``-place text: an (n, 2 + decimals) uint8 array of ASCII
    digits, rounded as Python's ``{:.<decimals>f}`` rounds (the exact binary value, ties to even)."""
    unit = 10**decimals
    p = v * float(unit)
    whole = np.floor(p)
    frac = p - whole
    q = (whole + (frac > 0.5)).astype(np.int64)
    # near x.5 the product's own rounding may decide wrongly: decide those on the exact value
    for i, x in zip(np.flatnonzero(np.abs(frac - 0.5) < _TIE).tolist(), v[np.abs(frac - 0.5) < _TIE].tolist()):
        num, den = x.as_integer_ratio()
        low, rem = divmod(num * unit, den)
        q[i] = low + 1 if 2 * rem > den or (2 * rem == den and low & 1) else low
    out = np.empty((len(v), 2 + decimals), np.uint8)
    out[:, 0] = 48 + q // unit
    out[:, 1] = _DOT
    rest = q % unit
    for i in range(decimals - 1, -1, -1):
        out[:, 2 + i] = 48 + rest % 10
        rest //= 10
    return out


def fixed_lines(cid: np.ndarray, values: list[np.ndarray], decimals: int) -> tuple[bytes, np.ndarray, np.ndarray]:
    """Lines ``"<class> <v1> ... <vk>\\n"`` (numbers in [0, 1], ``decimals`` places, as
    ``{:.<decimals>f}`` writes them) for all rows at once: (all the lines' bytes, the offset of
    each line's end, the rows whose lines Python must format instead: every row for decimals
    beyond 9, whose scaled numbers pass 2**53 / 10, none otherwise)."""
    n = len(cid)
    if not 1 <= decimals <= 9:
        return b"", np.zeros(n, np.int64), np.ones(n, bool)
    width_c = len(str(int(cid.max()))) if n else 1
    digits_c = np.ones(n, np.int64)
    t = cid // 10
    while (t > 0).any():
        digits_c += t > 0
        t //= 10
    cls = np.zeros((n, width_c), np.uint8)  # the class, right-aligned; the zeros before it are dropped
    c = cid.copy()
    for i in range(width_c):
        cls[:, width_c - 1 - i] = np.where(i < digits_c, 48 + c % 10, 0)
        c //= 10
    cols = [cls]
    for v in values:
        cols.append(np.full((n, 1), _SPACE, np.uint8))
        cols.append(_digits(v, decimals))
    cols.append(np.full((n, 1), _NL, np.uint8))
    block = np.concatenate(cols, axis=1)
    lengths = block.shape[1] - (width_c - digits_c)
    data = block[block != 0].tobytes()
    return data, np.cumsum(lengths), np.zeros(n, bool)


class DetectLines:
    """``text(k)``: the label file of item ``k`` as bytes. ``sizes`` holds each item's (width,
    height), or None for an item that gets no text (its size unknown)."""

    def __init__(self, cols: ShapeColumns, sizes: list, class_ids: dict[str, int], report: Report, decimals: int = 6):
        self.cols, self.ids, self.decimals = cols, class_ids, decimals
        self.sizes = sizes
        n_items = len(cols.items)
        W = np.array([s[0] if s else 0 for s in sizes], np.float64).reshape(n_items)
        H = np.array([s[1] if s else 0 for s in sizes], np.float64).reshape(n_items)
        item = cols.item
        s_idx = np.flatnonzero(cols.is_plain() & (W[item] > 0))
        b = cols.ring_bounds()[cols.ring[s_idx]]
        x, y = b[:, 0], b[:, 1]
        xe = x + (b[:, 2] - x)  # x + w, as format_labels adds them
        ye = y + (b[:, 3] - y)
        w, h = W[item[s_idx]], H[item[s_idx]]
        ok = (x >= 0) & (y >= 0) & (xe <= w) & (ye <= h) & (xe > x) & (ye > y)
        s_idx, x, y, xe, ye, w, h = (a[ok] for a in (s_idx, x, y, xe, ye, w, h))
        cid = np.array([class_ids[name] for name in cols.labels], np.int64)[cols.label[s_idx]]
        values = [np.clip(v, 0.0, 1.0) for v in ((x + xe) / 2 / w, (y + ye) / 2 / h, (xe - x) / w, (ye - y) / h)]
        self.data, line_end, python = fixed_lines(cid, values, decimals)
        if len(s_idx):
            report.drop("polygons written as their bounding boxes", len(s_idx))
        # per item: its plain lines' byte range, and the shapes it has that are not plain lines
        ends = np.cumsum(cols.counts)
        starts = ends - cols.counts
        first = np.searchsorted(s_idx, starts)
        last = np.searchsorted(s_idx, ends)
        line_start = np.concatenate(([0], line_end))
        self.byte_a = line_start[first].tolist()
        self.byte_b = line_start[last].tolist()
        self.starts, self.ends = starts.tolist(), ends.tolist()
        todo = ~cols.removed
        todo[s_idx] = False
        self.lines: dict[int, str] = {}  # flat position -> its text, for items written shape by shape
        line = _box_format(decimals)
        for k in np.flatnonzero(python).tolist():  # near a rounding tie: Python formats the line
            s = int(s_idx[k])
            self.lines[s] = line(int(cid[k]), *(float(v[k]) for v in values)) + "\n"
        self.pending: dict[int, list[int]] = {}
        for s in np.flatnonzero(todo).tolist():
            self.pending.setdefault(int(item[s]), []).append(s)
        for s in self.lines:
            self.pending.setdefault(int(item[s]), [])
        self.s_idx, self.line_start = s_idx, line_start

    def count(self, k: int) -> int:
        """Shapes of item ``k`` that are not removed."""
        a, b = self.starts[k], self.ends[k]
        return int(b - a - self.cols.removed[a:b].sum())

    def text(self, k: int, report: Report) -> bytes:
        """Item ``k``'s label file; what its shapes written one by one drop is counted in ``report``."""
        todo = self.pending.pop(k, None)
        if todo is None:  # plain lines only
            return self.data[self.byte_a[k] : self.byte_b[k]]
        W, H = self.sizes[k]
        out: dict[int, str] = {}
        for s in todo:
            out[s] = format_labels(
                [self.cols.shape(s)], task="detect", width=W, height=H, class_ids=self.ids,
                report=report, decimals=self.decimals,
            )  # fmt: skip
        a, b = self.starts[k], self.ends[k]
        first, last = np.searchsorted(self.s_idx, [a, b]).tolist()
        for j in range(first, last):
            s = int(self.s_idx[j])
            if s not in self.lines:
                out[s] = self.data[self.line_start[j] : self.line_start[j + 1]].decode("ascii")
            else:
                out[s] = self.lines[s]
        return "".join(out[s] for s in sorted(out)).encode("utf-8")
