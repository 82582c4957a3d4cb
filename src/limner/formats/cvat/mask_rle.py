"""CVAT's mask RLE: the run lengths of ``<mask rle="..." left top width height>`` (alternating 0s
and 1s, starting with 0s, row by row over the ``width`` x ``height`` window) converted to and from a
full-image compressed COCO RLE, as CVAT's own code does."""

from __future__ import annotations

import numpy as np

from limner.core import rle as _rle

# ---------------------------------------------------------------------------------------- masks


def cvat_mask_to_rle(counts: list[int], left: int, top: int, width: int, height: int, img_h: int, img_w: int) -> dict:
    """CVAT's window RLE (row-major, starting with 0s) -> full-image compressed COCO RLE."""
    if sum(counts) != width * height:
        raise ValueError(f"rle covers {sum(counts)} pixels, the {width}x{height} window has {width * height}")
    win = np.repeat(np.arange(len(counts), dtype=np.uint8) & 1, counts).reshape(height, width)
    full = np.zeros((img_h, img_w), np.uint8)
    y0, x0, y1, x1 = max(top, 0), max(left, 0), min(top + height, img_h), min(left + width, img_w)
    if y0 < y1 and x0 < x1:
        full[y0:y1, x0:x1] = win[y0 - top : y1 - top, x0 - left : x1 - left]
    return _rle.encode(full)


def rle_to_cvat_mask(rle: dict) -> tuple[list[int], int, int, int, int] | None:
    """Full-image COCO RLE -> (counts, left, top, width, height) over the tight window; None if empty.

    Only the window is painted: COCO runs are column-major, so the window's columns are one span of
    the runs, clipped and repeated (no full-image decode)."""
    h, w = (int(v) for v in rle["size"])
    runs = _rle.string_runs(rle["counts"])
    if runs is None or runs.min() < 0 or int(runs.sum()) != h * w:
        m = _rle.decode(rle)  # not expected for a checked RLE; the plain way
        runs = None
    if runs is not None:
        ends = np.cumsum(runs)
        starts = ends - runs
        fg = (np.arange(runs.size) & 1).astype(bool) & (runs > 0)
        if not fg.any():
            return None
        lo, hi = int(starts[fg][0]), int(ends[fg][-1])  # the first and last foreground pixel (+1)
        c0, c1 = lo // h, (hi - 1) // h + 1
        a, b = c0 * h, c1 * h
        s, e = np.clip(starts, a, b), np.clip(ends, a, b)
        cols = np.repeat(fg.astype(np.uint8), e - s).reshape(c1 - c0, h)
        m = cols.T  # rows x window columns
        left = c0
    else:
        left = 0
    rows = np.flatnonzero(m.any(axis=1))
    if not len(rows):
        return None
    top, bottom = int(rows[0]), int(rows[-1])
    if runs is None:
        cols_any = np.flatnonzero(m.any(axis=0))
        left, right = int(cols_any[0]), int(cols_any[-1])
        m = m[:, left : right + 1]
    win = np.ascontiguousarray(m[top : bottom + 1]).ravel()
    bounds = np.concatenate(([0], np.flatnonzero(win[1:] != win[:-1]) + 1, [win.size]))
    counts = np.diff(bounds).tolist()
    if win[0]:
        counts.insert(0, 0)
    return counts, left, top, m.shape[1], bottom - top + 1
