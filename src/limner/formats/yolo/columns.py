"""YOLO detect label texts from :class:`~limner.core.columns.ShapeColumns`: the boxes of the plain
polygons computed and formatted for all of them at once, every other shape by
:func:`~limner.formats.yolo.formatting.format_labels`, so each item's text and the report are
those the shapes would give.

A plain polygon inside its image has its bounding box written as is: ``x0, y0, x1 - x0, y1 - y0``
from its vertices' bounds, then the centre and size divided by the image's, with the same float
operations ``format_labels`` does. A polygon reaching outside its image, or whose box has no
width or height, goes the one-shape way (clipping, counting what was clipped or dropped)."""

from __future__ import annotations

import numpy as np

from limner.core.columns import ShapeColumns
from limner.formats.base import Report
from limner.formats.yolo.formatting import _box_format, format_labels

__all__ = ["DetectLines"]


class DetectLines:
    """``text(k)``: the label file of item ``k``. ``sizes`` holds each item's (width, height), or
    None for an item that gets no text (its size unknown)."""

    def __init__(self, cols: ShapeColumns, sizes: list, class_ids: dict[str, int], report: Report, decimals: int = 6):
        self.cols, self.ids, self.report, self.decimals = cols, class_ids, report, decimals
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
        line = _box_format(decimals)
        unit = (np.clip(v, 0.0, 1.0).tolist() for v in ((x + xe) / 2 / w, (y + ye) / 2 / h, (xe - x) / w, (ye - y) / h))
        parts = [""] * cols.n
        for s, text in zip(s_idx.tolist(), map(line, cid.tolist(), *unit)):
            parts[s] = text + "\n"
        if len(s_idx):
            report.drop("polygons written as their bounding boxes", len(s_idx))
        # the shapes left for format_labels, and the bounds of each item's shapes
        todo = ~cols.removed
        todo[s_idx] = False
        self.todo = todo
        self.parts = parts
        self.ends = np.cumsum(cols.counts)

    def count(self, k: int) -> int:
        """Shapes of item ``k`` that are not removed."""
        a, b = self._span(k)
        return int(b - a - self.cols.removed[a:b].sum())

    def _span(self, k: int) -> tuple[int, int]:
        b = int(self.ends[k])
        return b - int(self.cols.counts[k]), b

    def text(self, k: int) -> str:
        a, b = self._span(k)
        W, H = self.sizes[k]
        parts = self.parts
        for s in np.flatnonzero(self.todo[a:b]).tolist():
            parts[a + s] = format_labels(
                [self.cols.shape(a + s)], task="detect", width=W, height=H, class_ids=self.ids,
                report=self.report, decimals=self.decimals,
            )  # fmt: skip
        return "".join(parts[a:b])
