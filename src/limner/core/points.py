"""Vertices held as an array: :class:`Points`, and the vectorised measures of many rings at once.

A polygon read from a big file has tens of vertices, and a dataset hundreds of thousands of
polygons: as lists of ``[x, y]`` lists that is millions of Python objects (about 90 bytes a vertex),
as one float array 16 bytes a vertex. Readers of big formats (COCO) put a :class:`Points` where a
geometry has ``"points"``; it reads as the list of ``[x, y]`` pairs it holds (``len``, indexing,
iteration, ``==`` with a list, ``tolist()``), so code written for lists works unchanged, and code
that wants speed takes ``np.asarray(points)`` (no copy) or uses the functions below on many rings.

A :class:`Points` is read-only: a change makes a new geometry (``tolist()`` gives a list to edit).
JSON writers serialise it with :func:`json_default`.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain as _chain
from typing import Any

import numpy as np

__all__ = ["Points", "as_array", "hold_points", "json_default", "ring_bounds", "ring_coords", "ring_offsets", "ring_take",
           "star_simple"]


class Points(Sequence):
    """An N x 2 float64 array of vertices that reads as a list of ``[x, y]`` lists."""

    __slots__ = ("array", "box", "span")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, array: np.ndarray, box: Sequence[float] | None = None, span: tuple | None = None):
        self.array = array
        self.box = box  # x0, y0, x1, y1 when known (a reader computes them for many at once)
        # (base, start, stop) when ``array`` is ``base[start:stop]``: rings a reader cut from one
        # array in order are joined again by :func:`ring_coords` without copying each
        self.span = span

    def bbox(self) -> tuple[float, float, float, float]:
        """``(x, y, w, h)`` around the points, the numbers ``geometry.bbox`` gives for a list."""
        b = self.box
        if b is None:
            a = self.array
            if not len(a):
                raise ValueError("no points, so no bounding box")
            b = self.box = (*a[:, :2].min(0).tolist(), *a[:, :2].max(0).tolist())
        return b[0], b[1], b[2] - b[0], b[3] - b[1]

    def __len__(self) -> int:
        return self.array.shape[0]

    def __getitem__(self, i):
        return self.array[i].tolist()

    def __iter__(self):
        return iter(self.array.tolist())

    def __array__(self, dtype=None, copy=None):
        a = self.array
        if dtype is not None and np.dtype(dtype) != a.dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def tolist(self) -> list[list[float]]:
        return self.array.tolist()

    def __eq__(self, other: Any):
        if isinstance(other, Points):
            return self.array.shape == other.array.shape and bool((self.array == other.array).all())
        if isinstance(other, list):
            return self.array.tolist() == other
        return NotImplemented

    def __add__(self, other):
        return self.array.tolist() + list(other)

    def __radd__(self, other):
        return list(other) + self.array.tolist()

    def __repr__(self) -> str:
        return repr(self.array.tolist())

    def __reduce__(self):
        return (Points, (self.array,))


def hold_points(geometries: list[dict]) -> None:
    """Turn the ``"points"`` lists of many geometries (stored shapes, as JSON gives them) into
    :class:`Points` cut from one array, in place: 16 bytes a vertex instead of about 120 as lists
    (an export of 200,000 polygons held 1.3 GB), made with one array for all, and joined again by
    :func:`ring_coords` without a copy each. When a vertex is not an ``[x, y]`` pair of numbers,
    the geometries are taken one by one, and those that are not pairs keep their lists."""
    rings = [g.get("points") for g in geometries]
    if not all(type(r) is list for r in rings):
        whole = [i for i, r in enumerate(rings) if type(r) is list]
        geometries, rings = [geometries[i] for i in whole], [rings[i] for i in whole]
    if not rings:
        return
    lens = np.fromiter(map(len, rings), np.int64, count=len(rings))
    n = int(lens.sum())
    try:
        pairs = bool((np.fromiter(map(len, _chain.from_iterable(rings)), np.int64, count=n) == 2).all())
        flat = np.fromiter(_chain.from_iterable(_chain.from_iterable(rings)), np.float64, count=2 * n) if pairs else None
    except (TypeError, ValueError):  # a vertex that is not a list of numbers
        flat = None
    if flat is None:
        if len(rings) > 1:  # one by one: the others still become arrays
            for g in geometries:
                hold_points([g])
        return
    base = flat.reshape(-1, 2)
    offsets = ring_offsets(lens).tolist()
    for g, a, b in zip(geometries, offsets, offsets[1:]):
        g["points"] = Points(base[a:b], span=(base, a, b))


def json_default(obj: Any):
    """``default=`` for orjson / json: a :class:`Points` as its list of pairs."""
    if isinstance(obj, Points):
        return obj.array.tolist()
    raise TypeError(f"Type is not JSON serializable: {type(obj).__name__}")


def as_array(points) -> np.ndarray:
    """The vertices as an N x 2 float64 array (no copy for a :class:`Points`)."""
    if type(points) is Points:
        return points.array
    a = np.asarray(points, np.float64)
    return a.reshape(len(a), -1)[:, :2] if a.ndim != 2 or a.shape[1] != 2 else a


def ring_offsets(lens) -> np.ndarray:
    """The ``len(lens) + 1`` offsets of rings of ``lens`` vertices laid one after another: 0, then
    each ring's end."""
    lens = np.asarray(lens, np.int64)
    offsets = np.zeros(len(lens) + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    return offsets


def ring_coords(rings: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """All vertices of ``rings`` as one M x 2 array and the ``len(rings) + 1`` offsets of each ring
    in it. Rings of :class:`Points` are joined without visiting a vertex in Python, and rings cut
    in order from one array (a reader's, see ``Points.span``) as that array's slices."""
    joined = _spans(rings)
    if joined is not None:
        return joined
    arrays = [r.array if type(r) is Points else as_array(r) for r in rings]
    lens = np.fromiter(map(len, arrays), np.int64, count=len(arrays))
    coords = np.concatenate(arrays) if arrays else np.zeros((0, 2))
    return coords, ring_offsets(lens)


def _spans(rings: Sequence) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`ring_coords` of rings that all have a span, as few slices of their bases; else None."""
    if not rings:
        return None
    try:
        bases, starts, stops = zip(*[r.span for r in rings])
    except (AttributeError, TypeError):  # not a Points, or one without a span
        return None
    a, b = np.array(starts, np.int64), np.array(stops, np.int64)
    ids = np.array([id(x) for x in bases], np.uint64)
    offsets = ring_offsets(b - a)
    # a new slice wherever the base changes or a ring does not start where the one before ended
    first = np.flatnonzero(np.concatenate(([True], (ids[1:] != ids[:-1]) | (a[1:] != b[:-1]))))
    last = np.append(first[1:], len(rings)) - 1
    parts = [bases[i][s:e] for i, s, e in zip(first.tolist(), a[first].tolist(), b[last].tolist())]
    return (parts[0] if len(parts) == 1 else np.concatenate(parts)), offsets


def ring_bounds(coords: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """x0, y0, x1, y1 of each ring (rows of ``coords`` between consecutive ``offsets``); NaN for
    an empty ring."""
    n = len(offsets) - 1
    out = np.full((n, 4), np.nan)
    starts = offsets[:-1]
    full = offsets[1:] > starts
    if n == 0 or not full.any():
        return out
    s = starts[full]
    out[full, 0] = np.minimum.reduceat(coords[:, 0], s)
    out[full, 1] = np.minimum.reduceat(coords[:, 1], s)
    out[full, 2] = np.maximum.reduceat(coords[:, 0], s)
    out[full, 3] = np.maximum.reduceat(coords[:, 1], s)
    return out


def ring_take(coords: np.ndarray, offsets: np.ndarray, which: np.ndarray, *, lens: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The rings ``which`` (in that order) of ``coords``/``offsets`` as new coords and offsets.
    With ``lens``, ``offsets`` holds each ring's start and ``lens`` its length (rings need not
    follow each other)."""
    which = np.asarray(which, np.int64)
    starts = offsets[:-1][which] if lens is None else offsets[which]
    lo = (np.diff(offsets) if lens is None else lens)[which]
    out = ring_offsets(lo)
    take = np.repeat(starts - out[:-1], lo) + np.arange(int(out[-1]))
    return coords[take], out


_CHUNK = 1 << 16  # vertices per pass: the arrays of one pass stay in the CPU cache (10x faster)


def star_simple(coords: np.ndarray, offsets: np.ndarray, *, margin: float = 1e-9) -> np.ndarray:
    """Rings proven simple (no self-intersection, positive area) by a sufficient test: seen from
    the mean of its vertices, each edge turns the same way by less than half a turn, clearly (the
    cross product beyond ``margin`` times the lengths), and the ring goes round that point once
    (it crosses the ray from it to the right once). Such a ring is star-shaped around that point,
    its edges sweep disjoint sectors, so no two of them meet but at their shared vertex: shapely
    (GEOS) finds it valid. False means "not proven", not "invalid": those rings need the full
    test. Rings of fewer than 3 vertices, or with a non-finite coordinate, are never proven."""
    n = len(offsets) - 1
    out = np.zeros(n, bool)
    i = 0
    while i < n:
        j = min(max(int(np.searchsorted(offsets, offsets[i] + _CHUNK, side="right")) - 1, i + 1), n)
        part = offsets[i : j + 1]
        out[i:j] = _star_simple(coords[part[0] : part[-1]], part - part[0], margin)
        i = j
    return out


def _star_simple(coords: np.ndarray, offsets: np.ndarray, margin: float) -> np.ndarray:
    n = len(offsets) - 1
    out = np.zeros(n, bool)
    lens = np.diff(offsets)
    ok = lens >= 3
    if not ok.any():
        return out
    idx = np.flatnonzero(ok)
    if not ok.all():  # keep only rings of 3 vertices or more
        coords = coords[np.repeat(ok, lens)]
        lens = lens[ok]
        offsets = ring_offsets(lens)
    starts, ends = offsets[:-1], offsets[1:] - 1
    with np.errstate(invalid="ignore", over="ignore"):
        centre = np.add.reduceat(coords, starts, axis=0) / lens[:, None]
        d = coords - np.repeat(centre, lens, axis=0)
        e = np.empty_like(d)  # the next vertex of each, wrapping within its ring
        e[:-1] = d[1:]
        e[ends] = d[starts]
        dx, dy, ex, ey = d[:, 0], d[:, 1], e[:, 0], e[:, 1]
        cross = dx * ey - dy * ex
        sq = dx * dx + dy * dy
        clear = cross * cross > (margin * margin) * sq * np.concatenate([sq[1:], sq[:1]])
        clear[ends] = cross[ends] * cross[ends] > (margin * margin) * sq[ends] * sq[starts]
        pos = clear & (cross > 0)
        neg = clear & (cross < 0)
        all_pos = np.logical_and.reduceat(pos, starts)
        all_neg = np.logical_and.reduceat(neg, starts)
        # crossings of the ray y = 0, x > 0: upwards for a counter-clockwise ring, down for the other
        up = (dy < 0) & (ey >= 0)
        down = (dy >= 0) & (ey < 0)
        n_up = np.add.reduceat(up.view(np.int8), starts, dtype=np.int64)
        n_down = np.add.reduceat(down.view(np.int8), starts, dtype=np.int64)
    out[idx] = (all_pos & (n_up == 1)) | (all_neg & (n_down == 1))
    return out
