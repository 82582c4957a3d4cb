"""One-to-one matching of annotators' shapes on an asset, and the figures it gives.

:func:`match_shapes` pairs the shapes of ``a`` (the reference) with those of ``b``, label by label,
so that the sum of the paired similarities is the largest possible (Hungarian assignment,
``scipy.optimize.linear_sum_assignment``), keeping only pairs whose similarity is at least
``threshold`` and above 0. The similarity of two shapes of the same label depends on their kinds:

======================================  ============================================================
kinds                                   similarity
======================================  ============================================================
box, rotated_box, polygon, ellipse,     IoU, as :func:`limner.core.geometry.iou` computes it: closed
mask (any pair)                         form for two boxes (``box_iou_matrix``), exact areas among
                                        the others (ellipses as 256-gons, polygons made valid),
                                        pixels as soon as one of the two is a mask
polyline, polyline                      :func:`~limner.core.geometry.polyline_iou`: IoU of the lines
                                        widened by ``polyline_buffer`` pixels
points or skeleton, points or skeleton  OKS (:func:`~limner.core.geometry.oks`) with ``a``'s shape as
(same number of points)                 the ground truth; sigmas and area below
any other pair                          0: never matched
======================================  ============================================================

Tags have no geometry and take no part (compare them with :mod:`limner.quality.agreement`); their
indices appear nowhere in a result. Shapes of different labels never match here; matching across
labels is what :mod:`limner.quality.groundtruth` does.

OKS needs per-point sigmas, per label in ``sigmas`` (``{label: [...]}``, else ``default_sigma`` for
every point), and the reference object's area: the area of a shape of ``a`` with the same label and
group id that covers an area (COCO's convention: a person's keypoints are scaled by the person's
segment; its box also serves COCO's rule for a skeleton with no visible point), else the area of the
box around ``a``'s visible points, else (a single point) the image area ``height * width`` when
known, else 0 (only exact positions score). Points of the ``points`` kind count as visible.

Masks are compared on pixels at the image size ``height`` x ``width``; when not given it is the
mask's own size (every mask of an asset must have it).

Figures, with ``a`` as reference: recall = matched / len(a), precision = matched / len(b),
F1 = 2 * matched / (len(a) + len(b)), mean IoU over the matched pairs. An empty side makes them
vacuous: precision is 1.0 when ``b`` has no shape, recall 1.0 when ``a`` has none, F1 1.0 when both
are empty; the mean IoU is NaN when nothing is matched. Counts add up: :func:`sum_matches` totals
them over assets (a job, an annotator) and the ratios are taken on the totals.

Speed. Many assets at once go through :func:`match_assets`, which does the work in bulk (about 3 s
for 10,000 assets x 3 annotator pairs x 10 boxes and 16-gons on one core); one call per pair costs
a fixed few hundred microseconds more:

- boxes: one ``box_iou_matrix`` call per asset over all its annotators' boxes;
- polygons, rotated boxes and ellipses (and boxes against them): shapely is used only to check
  polygons' validity (invalid ones are made valid, as ``geometry.iou`` does), in vectorised calls;
  pairs whose bounding boxes cannot reach ``threshold`` are skipped; the intersection areas of the
  remaining pairs are computed for the whole batch in one vectorised numpy pass, by Green's theorem:
  each ring is a signed sum of the trapezoids under its edges, so ``area(P & Q)`` is a signed sum,
  over pairs of edges, of the area under the lower of two lines. That is exact for valid polygons
  (equal to shapely's overlay to ~1e-12) and several times faster than one GEOS intersection per
  pair;
- the rare kinds (masks, polylines, keypoints) pair by pair;
- results hold their numbers in tuples, which the garbage collector stops tracking: 30,000 results
  then do not set off full collections of the caller's heap.

:func:`match_shapes` and :func:`match_annotators` are the same code on a batch of one.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, combinations, islice
from typing import NamedTuple

import numpy as np
import shapely
from scipy.optimize import linear_sum_assignment

from limner.core import rle as _rle
from limner.core.geometry import area as shape_area
from limner.core.geometry import bbox as shape_bbox
from limner.core.geometry import box_iou_matrix, oks
from limner.core.raster import ellipse_points, polygon_shape, polygonal, rasterize, rotated_box_corners
from limner.core.shapes import Shape

__all__ = [
    "DEFAULT_SIGMA",
    "Match",
    "MatchCounts",
    "MatchResult",
    "match_annotators",
    "match_assets",
    "match_shapes",
    "similarity_matrix",
    "sum_matches",
]

DEFAULT_SIGMA = 0.1
"""Per-keypoint OKS sigma for labels without their own (COCO's person sigmas span 0.025-0.107)."""

_NAN = float("nan")
_NO_ROWS = np.zeros(0, np.int64)
_NO_VALUES = np.zeros(0, np.float64)
_ELLIPSE_SEGMENTS = 256  # as geometry.iou samples ellipses
_LINE_QUAD_SEGS = 16  # as LineString.buffer (shapely.buffer's own default is 8)
_BATCH_ASSETS = 1024  # assets per bulk pass: bounds the memory of the edge-pair arrays
_POLYGONS_PER_RUN = 256  # validity checks per shapely call
_EDGE_PAIRS_PER_CHUNK = 1 << 14  # small arrays stay in cache: faster than big ones

# kind families
_SKIP, _BOX, _POLY, _MASK, _LINE, _KEYPOINTS = range(6)
_FAMILY = {
    "tag": _SKIP,
    "box": _BOX,
    "rotated_box": _POLY,
    "polygon": _POLY,
    "ellipse": _POLY,
    "mask": _MASK,
    "polyline": _LINE,
    "points": _KEYPOINTS,
    "skeleton": _KEYPOINTS,
}


# -- results ---------------------------------------------------------------------------------------


class Match(NamedTuple):
    """A matched pair: index in ``a``, index in ``b`` and their similarity (IoU; OKS for
    keypoints)."""

    a: int
    b: int
    iou: float


@dataclass(slots=True)
class MatchCounts:
    """Counts of one comparison or a sum of them; the ratios follow the module's conventions."""

    matched: int = 0
    unmatched_a: int = 0
    unmatched_b: int = 0
    iou_sum: float = 0.0

    @property
    def total_a(self) -> int:
        return self.matched + self.unmatched_a

    @property
    def total_b(self) -> int:
        return self.matched + self.unmatched_b

    @property
    def precision(self) -> float:
        return self.matched / self.total_b if self.total_b else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.total_a if self.total_a else 1.0

    @property
    def f1(self) -> float:
        n = self.total_a + self.total_b
        return 2.0 * self.matched / n if n else 1.0

    @property
    def mean_iou(self) -> float:
        return self.iou_sum / self.matched if self.matched else _NAN

    def __add__(self, other: MatchCounts) -> MatchCounts:
        return MatchCounts(
            self.matched + other.matched,
            self.unmatched_a + other.unmatched_a,
            self.unmatched_b + other.unmatched_b,
            self.iou_sum + other.iou_sum,
        )

    def to_dict(self) -> dict:
        return {
            "matched": self.matched,
            "unmatched_a": self.unmatched_a,
            "unmatched_b": self.unmatched_b,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "mean_iou": self.mean_iou,
        }


class MatchResult:
    """The matching of two shape lists: :attr:`matches` (pairs sorted by index in ``a``), the
    indices left on each side (tags excluded) and, from the labels of the two lists,
    :attr:`per_label` counts.

    Pairs and indices are kept in plain tuples of numbers (which Python's garbage collector stops
    tracking) and handed out as lists when asked for: in bulk (30,000 results) objects that stay
    tracked add up to full collections of the caller's whole heap, which cost more than the
    matching itself.
    """

    __slots__ = ("_a", "_b", "_iou", "_free_a", "_free_b", "labels_a", "labels_b")

    def __init__(
        self,
        matches: Iterable[tuple[int, int, float]] = (),
        unmatched_a: Iterable[int] = (),
        unmatched_b: Iterable[int] = (),
        labels_a: Sequence[str] = (),
        labels_b: Sequence[str] = (),
    ):
        m = list(matches)
        self._a = tuple(int(x[0]) for x in m)
        self._b = tuple(int(x[1]) for x in m)
        self._iou = tuple(float(x[2]) for x in m)
        self._free_a = tuple(int(i) for i in unmatched_a)
        self._free_b = tuple(int(j) for j in unmatched_b)
        self.labels_a = labels_a
        self.labels_b = labels_b

    @classmethod
    def _of(cls, a, b, iou, free_a, free_b, labels_a, labels_b) -> MatchResult:
        r = cls.__new__(cls)
        r._a, r._b, r._iou, r._free_a, r._free_b = a, b, iou, free_a, free_b
        r.labels_a, r.labels_b = labels_a, labels_b
        return r

    @property
    def matches(self) -> list[Match]:
        return list(map(Match, self._a, self._b, self._iou))

    @property
    def unmatched_a(self) -> list[int]:
        return list(self._free_a)

    @property
    def unmatched_b(self) -> list[int]:
        return list(self._free_b)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MatchResult):
            return NotImplemented
        return (self.matches, self.unmatched_a, self.unmatched_b) == (other.matches, other.unmatched_a, other.unmatched_b)

    __hash__ = None  # mutable-looking value, as a dataclass

    def __repr__(self) -> str:
        return f"MatchResult(matches={self.matches!r}, unmatched_a={self.unmatched_a!r}, unmatched_b={self.unmatched_b!r})"

    @property
    def per_label(self) -> dict[str, MatchCounts]:
        """``{label: counts}`` for every label with a matched or unmatched shape."""
        out: dict[str, MatchCounts] = {}
        la, lb = self.labels_a, self.labels_b
        for i, v in zip(self._a, self._iou):
            c = out.get(la[i])
            if c is None:
                c = out[la[i]] = MatchCounts()
            c.matched += 1
            c.iou_sum += v
        for i in self._free_a:
            c = out.get(la[i])
            if c is None:
                c = out[la[i]] = MatchCounts()
            c.unmatched_a += 1
        for j in self._free_b:
            c = out.get(lb[j])
            if c is None:
                c = out[lb[j]] = MatchCounts()
            c.unmatched_b += 1
        return out

    @property
    def counts(self) -> MatchCounts:
        return MatchCounts(len(self._a), len(self._free_a), len(self._free_b), math.fsum(self._iou))

    @property
    def precision(self) -> float:
        return self.counts.precision

    @property
    def recall(self) -> float:
        return self.counts.recall

    @property
    def f1(self) -> float:
        return self.counts.f1

    @property
    def mean_iou(self) -> float:
        return self.counts.mean_iou


def sum_matches(results: Iterable[MatchResult]) -> tuple[MatchCounts, dict[str, MatchCounts]]:
    """Totals over many results (the assets of a job, of an annotator): overall and per label."""
    total = MatchCounts()
    per_label: dict[str, MatchCounts] = {}
    for r in results:
        for label, c in r.per_label.items():
            per_label[label] = per_label.get(label, MatchCounts()) + c
            total = total + c
    return total, per_label


# -- area objects of a batch: rings as edge tables, intersections by Green's theorem ------------


class _Objects:
    """The boxes, rotated boxes, polygons and ellipses of a batch, as one table of signed edges.

    Every ring is cut into its non-vertical edges, each stored left to right (``xl < xr``) with
    ``y`` at ``xl``, its slope and a weight ``c = +-1`` chosen so that the sum over an object's
    edges of ``c * [x in edge's span, y_ref < y < edge's y at x]`` is the object's indicator
    (exterior rings count +1, holes -1, whatever their orientation).
    """

    def __init__(self) -> None:
        self.n = 0
        self.box_ids: list[int] = []
        self.box_xywh: list[tuple] = []
        self.simple_ids: list[int] = []  # polygons without holes: rings straight from the points
        self.simple_points: list[list] = []
        self.simple_counts: list[int] = []
        self.other_ids: list[int] = []  # rotated boxes, ellipses, polygons with holes
        self.other_geoms: list = []

    def add(self, kind: str, g: dict) -> int:
        """Register a rotated box, polygon or ellipse; boxes are registered by the batch directly."""
        i = self.n
        self.n += 1
        if kind == "polygon" and not g.get("holes"):
            self.simple_ids.append(i)
            self.simple_points.append(g["points"])
            self.simple_counts.append(len(g["points"]))
        else:
            self.other_ids.append(i)
            if kind == "polygon":
                self.other_geoms.append(polygon_shape(g))
            elif kind == "rotated_box":
                self.other_geoms.append(shapely.Polygon(rotated_box_corners(g)))
            else:
                self.other_geoms.append(shapely.Polygon(ellipse_points(g, _ELLIPSE_SEGMENTS)))
        return i

    def build(self) -> None:
        n = self.n
        self.xywh = np.full((n, 4), np.nan)
        self.bounds = np.zeros((n, 4))
        self.areas = np.zeros(n)
        self.is_box = np.zeros(n, bool)
        self.edge_start = np.zeros(n, np.int64)
        self.edge_count = np.zeros(n, np.int64)
        self._parts: list[tuple] = []
        self._size = 0

        if self.box_ids:
            ids = np.array(self.box_ids, np.int64)
            b = np.array(self.box_xywh, np.float64).reshape(-1, 4)
            x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
            self.xywh[ids] = b
            self.bounds[ids] = np.stack([x0, y0, x1, y1], axis=1)
            self.areas[ids] = b[:, 2] * b[:, 3]
            self.is_box[ids] = True
            # box edges are made only for the boxes that meet another kind (see intersections)

        other_ids = list(self.other_ids)
        other_geoms = list(self.other_geoms)
        if self.simple_ids:
            ids = np.array(self.simple_ids, np.int64)
            counts = np.array(self.simple_counts, np.int64)
            pts = np.fromiter(
                chain.from_iterable(chain.from_iterable(self.simple_points)), np.float64, 2 * int(counts.sum())
            ).reshape(-1, 2)
            valid, areas = self._check_polygons(pts, counts, ids, other_ids, other_geoms)
            if not valid.all():
                pts, ids, counts, areas = pts[np.repeat(valid, counts)], ids[valid], counts[valid], areas[valid]
            if len(ids):
                self.areas[ids] = areas
                starts = np.cumsum(counts) - counts
                self.bounds[ids] = np.stack(
                    [
                        np.minimum.reduceat(pts[:, 0], starts),
                        np.minimum.reduceat(pts[:, 1], starts),
                        np.maximum.reduceat(pts[:, 0], starts),
                        np.maximum.reduceat(pts[:, 1], starts),
                    ],
                    axis=1,
                )
                # close each ring: append its first point
                closed = np.insert(pts, np.cumsum(counts), pts[starts], axis=0)
                self._add_rings(closed, counts + 1, ids, np.ones(len(ids)))

        if other_ids:
            ids = np.array(other_ids, np.int64)
            geoms = np.empty(len(other_geoms), dtype=object)
            geoms[:] = other_geoms
            self.areas[ids] = shapely.area(geoms)
            self.bounds[ids] = np.nan_to_num(shapely.bounds(geoms))  # empty geometries have NaN bounds
            parts, part_of = shapely.get_parts(geoms, return_index=True)
            rings, ring_part = shapely.get_rings(parts, return_index=True)
            if len(rings):
                pts, pt_ring = shapely.get_coordinates(rings, return_index=True)
                first = np.ones(len(rings), bool)
                first[1:] = ring_part[1:] != ring_part[:-1]  # a part's first ring is its exterior
                self._add_rings(
                    pts, np.bincount(pt_ring, minlength=len(rings)), ids[part_of[ring_part]], np.where(first, 1.0, -1.0)
                )

        if self._parts:
            self.xl, self.xr, self.yl, self.slope, self.c = (np.concatenate(v) for v in zip(*self._parts))
        else:
            self.xl = self.xr = self.yl = self.slope = self.c = np.zeros(0)
        del self._parts

    @staticmethod
    def _check_polygons(pts, counts, ids, other_ids: list, other_geoms: list) -> tuple[np.ndarray, np.ndarray]:
        """Validity and area of the polygons without holes, with shapely; the invalid ones, made
        valid, go to ``other_ids``/``other_geoms``. Done in small runs so that the shapely objects
        die young (they would otherwise count towards the caller's full garbage collections)."""
        n = len(ids)
        valid = np.ones(n, bool)
        areas = np.zeros(n)
        ends = np.cumsum(counts)
        for k0 in range(0, n, _POLYGONS_PER_RUN):
            k1 = min(k0 + _POLYGONS_PER_RUN, n)
            p0 = int(ends[k0 - 1]) if k0 else 0
            geoms = shapely.polygons(
                shapely.linearrings(pts[p0 : ends[k1 - 1]], indices=np.repeat(np.arange(k1 - k0), counts[k0:k1]))
            )
            ok = shapely.is_valid(geoms)
            valid[k0:k1] = ok
            areas[k0:k1] = shapely.area(geoms)
            for k in np.flatnonzero(~ok):
                other_ids.append(int(ids[k0 + k]))
                other_geoms.append(polygonal(geoms[k]))
            del geoms
        return valid, areas

    def _add_rings(self, pts, ring_len, ring_obj, ring_role) -> None:
        """Edges of closed rings (first point repeated last), the rings of an object consecutive."""
        ring_of_pt = np.repeat(np.arange(len(ring_len)), ring_len)
        start = ring_of_pt[:-1] == ring_of_pt[1:]  # point k and k + 1 on the same ring: an edge
        ring = ring_of_pt[:-1][start]
        x0, y0 = pts[:-1, 0][start], pts[:-1, 1][start]
        x1, y1 = pts[1:, 0][start], pts[1:, 1][start]
        shoelace = np.bincount(ring, weights=x0 * y1 - x1 * y0, minlength=len(ring_len))
        c = ring_role[ring] * np.sign(shoelace)[ring] * -np.sign(x1 - x0)
        keep = c != 0  # vertical edges bound no area
        ring, c, x0, y0, x1, y1 = ring[keep], c[keep], x0[keep], y0[keep], x1[keep], y1[keep]
        left = x0 < x1
        xl = np.where(left, x0, x1)
        xr = np.where(left, x1, x0)
        yl = np.where(left, y0, y1)
        yr = np.where(left, y1, y0)
        self._add_edges(ring_obj[ring], xl, xr, yl, (yr - yl) / (xr - xl), c)

    def _add_edges(self, obj, xl, xr, yl, slope, c) -> None:
        """Append edges; those of one object are consecutive."""
        if not len(obj):
            return
        first = np.flatnonzero(np.concatenate([[True], obj[1:] != obj[:-1]]))
        self.edge_start[obj[first]] = self._size + first
        self.edge_count[obj[first]] = np.diff(np.concatenate([first, [len(obj)]]))
        self._size += len(obj)
        self._parts.append((xl, xr, yl, slope, c))

    def _box_edges(self, ids: np.ndarray) -> None:
        """Add the edges of these boxes: a box is ``[y < y1] - [y < y0]`` over ``[x0, x1]``."""
        ids = ids[self.edge_count[ids] == 0]
        if not len(ids):
            return
        x0, y0, x1, y1 = self.bounds[ids].T
        self._parts = [(self.xl, self.xr, self.yl, self.slope, self.c)]
        self._add_edges(
            np.repeat(ids, 2),
            np.repeat(x0, 2),
            np.repeat(x1, 2),
            np.stack([y1, y0], axis=1).ravel(),
            np.zeros(2 * len(ids)),
            np.tile([1.0, -1.0], len(ids)),
        )
        self.xl, self.xr, self.yl, self.slope, self.c = (np.concatenate(v) for v in zip(*self._parts))
        del self._parts

    def intersections(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Intersection areas of the object pairs ``(p[k], q[k])``, in chunks of edge pairs."""
        out = np.zeros(len(p))
        if not len(p):
            return out
        boxes = np.concatenate([p[self.is_box[p]], q[self.is_box[q]]])
        if len(boxes):
            self._box_edges(np.unique(boxes))
        sizes = self.edge_count[p] * self.edge_count[q]
        ends = np.cumsum(sizes)
        k0 = 0
        while k0 < len(p):
            base = ends[k0 - 1] if k0 else 0
            k1 = max(int(np.searchsorted(ends, base + _EDGE_PAIRS_PER_CHUNK, side="right")), k0 + 1)
            out[k0:k1] = self._chunk(p[k0:k1], q[k0:k1], sizes[k0:k1])
            k0 = k1
        return out

    def _chunk(self, p, q, sizes) -> np.ndarray:
        K = len(p)
        T = int(sizes.sum())
        if not T:
            return np.zeros(K)
        pair = np.repeat(np.arange(K), sizes)
        t = np.arange(T) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        e, f = np.divmod(t, self.edge_count[q][pair])
        e += self.edge_start[p][pair]
        f += self.edge_start[q][pair]
        xle, xlf = self.xl[e], self.xl[f]
        lo = np.maximum(xle, xlf)
        hi = np.minimum(self.xr[e], self.xr[f])
        keep = hi > lo
        pair, e, f, lo, hi, xle, xlf = pair[keep], e[keep], f[keep], lo[keep], hi[keep], xle[keep], xlf[keep]
        # heights above a floor below both objects (any floor gives the same sum; a near one keeps
        # the rounding small)
        floor = np.minimum(self.bounds[p, 1], self.bounds[q, 1])[pair]
        se, sf = self.slope[e], self.slope[f]
        be = self.yl[e] - floor
        bf = self.yl[f] - floor
        ye0 = be + (lo - xle) * se
        ye1 = be + (hi - xle) * se
        yf0 = bf + (lo - xlf) * sf
        yf1 = bf + (hi - xlf) * sf
        d0, d1 = ye0 - yf0, ye1 - yf1
        val = np.minimum(ye0, yf0)
        val += np.minimum(ye1, yf1)
        cross = np.flatnonzero(d0 * d1 < 0)
        if len(cross):
            # the lines cross inside [lo, hi]: two trapezoids, meeting at height ys, a share ts along
            d0c, y0c = d0[cross], ye0[cross]
            ts = d0c / (d0c - d1[cross])
            ys = y0c + ts * (ye1[cross] - y0c)
            m0 = np.minimum(y0c, yf0[cross])
            m1 = np.minimum(ye1[cross], yf1[cross])
            val[cross] = (m0 + ys) * ts + (ys + m1) * (1.0 - ts)
        val *= hi - lo
        val *= self.c[e] * self.c[f]
        return 0.5 * np.bincount(pair, weights=val, minlength=K)


# -- one annotator's shapes on one asset ------------------------------------------------------


class _Side:
    """One list of shapes within a batch: where its rows start in the batch's arrays, views of
    them (label codes, kind families, area-object ids) and the rare kinds, with their geometries
    built lazily. (Few objects per side: in bulk, every container that lives through a batch
    counts towards Python's full garbage collections, which walk the caller's whole heap.)"""

    __slots__ = (
        "shapes", "n", "start", "all_labels", "_labels", "codes", "family", "obj", "line_idx", "mask_idx", "kp_idx",
        "_lines", "_rles",
    )  # fmt: skip

    def __init__(self, shapes: Sequence[Shape], start: int, all_labels: list[str]):
        self.shapes = shapes
        self.n = len(shapes)
        self.start = start
        self.all_labels = all_labels  # the batch's labels, row by row: this side's from ``start``
        self._labels: list[str] | None = None
        self.line_idx: Sequence[int] = ()
        self.mask_idx: Sequence[int] = ()
        self.kp_idx: Sequence[int] = ()
        self._lines = None
        self._rles: dict | None = None

    @property
    def labels(self) -> list[str]:
        if self._labels is None:
            self._labels = self.all_labels[self.start : self.start + self.n]
        return self._labels

    def add_rare(self, family: int, i: int) -> None:
        name = "line_idx" if family == _LINE else "mask_idx" if family == _MASK else "kp_idx"
        rows = getattr(self, name)
        if not rows:
            rows = []
            setattr(self, name, rows)
        rows.append(i)

    @property
    def rare(self) -> bool:
        return bool(len(self.line_idx) or self.mask_idx or self.kp_idx)

    def lines(self, buffer: float):
        """(buffered geometries, bounds, areas) of the polylines."""
        if self._lines is None or self._lines[0] != buffer:
            pts = [np.asarray(self.shapes[i].geometry["points"], np.float64)[:, :2] for i in self.line_idx]
            ls = shapely.linestrings(np.concatenate(pts), indices=np.repeat(np.arange(len(pts)), [len(p) for p in pts]))
            geoms = shapely.buffer(ls, buffer, quad_segs=_LINE_QUAD_SEGS)
            self._lines = (buffer, geoms, shapely.bounds(geoms).reshape(-1, 4), shapely.area(geoms))
        return self._lines[1:]

    def rle(self, i: int, height: int, width: int) -> dict:
        """Shape ``i`` as a pycocotools RLE (bytes counts) at the image size."""
        key = (i, height, width)
        if self._rles is None:
            self._rles = {}
        r = self._rles.get(key)
        if r is None:
            s = self.shapes[i]
            if s.kind == "mask":
                size = list(s.geometry["rle"]["size"])
                if size != [height, width]:
                    raise ValueError(
                        f"mask size {size[0]}x{size[1]} (height x width) differs from the image's {height}x{width}"
                    )
                src = s.geometry["rle"]
            else:
                src = _rle.encode(rasterize(s.kind, s.geometry, height, width))
            r = {"size": [height, width], "counts": src["counts"].encode("ascii")}
            self._rles[key] = r
        return r


# -- similarities ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Options:
    same_label: bool = True
    threshold: float = 0.5
    sigmas: Mapping[str, Sequence[float]] | None = None
    default_sigma: float = DEFAULT_SIGMA
    polyline_buffer: float = 2.0


def _bound(bounds_a, areas_a, bounds_b, areas_b) -> tuple[np.ndarray, np.ndarray]:
    """For every pair (rows of a against rows of b, or element-wise when both are already paired):
    the area where the bounding boxes meet, and an upper bound of the IoU, ``m / (A + B - m)``
    with ``m = min(that area, A, B)``."""
    iw = np.minimum(bounds_a[..., 2], bounds_b[..., 2]) - np.maximum(bounds_a[..., 0], bounds_b[..., 0])
    ih = np.minimum(bounds_a[..., 3], bounds_b[..., 3]) - np.maximum(bounds_a[..., 1], bounds_b[..., 1])
    inter = np.clip(iw, 0.0, None) * np.clip(ih, 0.0, None)
    m = np.minimum(inter, np.minimum(areas_a, areas_b))
    union = areas_a + areas_b - m
    return inter, np.divide(m, union, out=np.zeros_like(m), where=union > 0)


def _line_block(S, A: _Side, B: _Side, allowed, opt: _Options) -> None:
    if not (len(A.line_idx) and len(B.line_idx)):
        return
    buffer = opt.polyline_buffer
    ga, bounds_a, areas_a = A.lines(buffer)
    gb, bounds_b, areas_b = B.lines(buffer)
    inter, ub = _bound(bounds_a[:, None], areas_a[:, None], bounds_b[None, :], areas_b[None, :])
    cand = (inter > 0) & (ub >= opt.threshold)
    if allowed is not None:
        cand &= allowed[np.ix_(A.line_idx, B.line_idx)]
    r, c = np.nonzero(cand)
    if len(r):
        common = shapely.area(shapely.intersection(ga[r], gb[c]))
        union = areas_a[r] + areas_b[c] - common
        S[A.line_idx[r], B.line_idx[c]] = np.divide(common, union, out=np.zeros_like(common), where=union > 0)


def _mask_block(S, A: _Side, B: _Side, allowed, size) -> None:
    """IoU on pixels of every allowed pair of area shapes where one at least is a mask."""
    if not (A.mask_idx or B.mask_idx):
        return
    area_a = A.obj >= 0
    area_a[list(A.mask_idx)] = True
    area_b = B.obj >= 0
    area_b[list(B.mask_idx)] = True
    need = area_a[:, None] & area_b[None, :] & ((A.family == _MASK)[:, None] | (B.family == _MASK)[None, :])
    if allowed is not None:
        need &= allowed
    r, c = np.nonzero(need)
    if not len(r):
        return
    from pycocotools import mask as mask_utils

    h, w = size
    rows, cols = np.unique(r), np.unique(c)
    ra = [A.rle(int(i), h, w) for i in rows]
    rb = [B.rle(int(j), h, w) for j in cols]
    block = np.asarray(mask_utils.iou(ra, rb, np.zeros(len(rb), np.uint8)), np.float64).reshape(len(ra), len(rb))
    S[r, c] = block[np.searchsorted(rows, r), np.searchsorted(cols, c)]


def _keypoints(s: Shape) -> np.ndarray:
    pts = np.asarray(s.geometry["points"], np.float64)
    if s.kind == "points":
        pts = np.concatenate([pts[:, :2], np.full((len(pts), 1), 2.0)], axis=1)
    return pts.reshape(-1, 3)


def _reference_scale(A: _Side, i: int, pts: np.ndarray, size) -> tuple[float, tuple | None]:
    """OKS area and box of ``A``'s keypoint shape ``i`` (see the module docstring)."""
    s = A.shapes[i]
    if s.group_id is not None:
        for j, t in enumerate(A.shapes):
            if j != i and t.group_id == s.group_id and t.label == s.label and A.family[j] in (_BOX, _POLY, _MASK):
                return shape_area(t.kind, t.geometry), shape_bbox(t.kind, t.geometry)
    vis = pts[pts[:, 2] > 0]
    if len(vis):
        x0, y0 = vis[:, :2].min(axis=0)
        x1, y1 = vis[:, :2].max(axis=0)
        a = float((x1 - x0) * (y1 - y0))
        if a > 0:
            return a, None
    if size is not None:
        return float(size[0]) * float(size[1]), None
    return 0.0, None


def _keypoint_block(S, A: _Side, B: _Side, allowed, opt: _Options, size) -> None:
    if not (A.kp_idx and B.kp_idx):
        return
    kb = {j: _keypoints(B.shapes[j]) for j in B.kp_idx}
    for i in A.kp_idx:
        ga = _keypoints(A.shapes[i])
        label = A.all_labels[A.start + i]
        sig = opt.sigmas.get(label) if opt.sigmas else None
        if sig is None:
            sig = [opt.default_sigma] * len(ga)
        elif len(sig) != len(ga):
            raise ValueError(f"label {label!r} has {len(sig)} OKS sigmas for {len(ga)} points")
        scale = None
        for j in B.kp_idx:
            if (allowed is not None and not allowed[i, j]) or len(kb[j]) != len(ga):
                continue
            if scale is None:
                scale = _reference_scale(A, i, ga, size)
            S[i, j] = oks(ga, kb[j], scale[0], sig, bbox=scale[1])


def _mask_size(sides: list[_Side], size) -> tuple[int, int] | None:
    if size is not None:
        return size
    for side in sides:
        if side.mask_idx:
            h, w = side.shapes[side.mask_idx[0]].geometry["rle"]["size"]
            return int(h), int(w)
    return None


def _pairs_in_groups(starts: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All ordered pairs ``(i, j)`` of positions within each group ``[start, start + size)``."""
    sq = sizes * sizes
    total = int(sq.sum())
    grp = np.repeat(np.arange(len(sizes)), sq)
    t = np.arange(total) - np.repeat(np.cumsum(sq) - sq, sq)
    g = sizes[grp]
    base = starts[grp]
    return base + t // g, base + t % g


class _Batch:
    """Many assets, each a list of sides (shape lists), compared in bulk.

    Every shape of the batch gets a row in flat arrays (label code, kind family, area-object id,
    side, asset, position within its asset); area objects go to one :class:`_Objects` table. The
    object pairs worth intersecting (same asset, different sides, same label if asked, not two
    boxes, bounding boxes able to reach the threshold) are found for the whole batch at once and
    intersected in one pass; :meth:`blocks` then assembles each asset's similarity matrix.
    """

    def __init__(self, assets: list[tuple[Sequence[Sequence[Shape]], tuple[int, int] | None]], opt: _Options):
        self.opt = opt
        objects = self.objects = _Objects()
        label_ids: dict[str, int] = {}
        codes: list[int] = []
        family: list[int] = []
        obj: list[int] = []
        box_ids, box_xywh, add = objects.box_ids, objects.box_xywh, objects.add
        families = _FAMILY
        self.assets: list[list[_Side]] = []
        self.sizes = []
        side_len: list[int] = []
        asset_len: list[int] = []
        pos = 0
        labels: list[str] = []
        codes_append, family_append, obj_append, labels_append = codes.append, family.append, obj.append, labels.append
        box_ids_append, box_xywh_append = box_ids.append, box_xywh.append
        label_get = label_ids.get
        for lists, size in assets:
            sides = []
            for shapes in lists:
                side = _Side(shapes, pos, labels)
                for i, s in enumerate(shapes):
                    kind = s.kind
                    f = families.get(kind)
                    if f is None:
                        raise ValueError(f"shapes[{i}]: unknown kind {kind!r}")
                    label = s.label
                    labels_append(label)
                    c = label_get(label)
                    if c is None:
                        c = label_ids[label] = len(label_ids)
                    codes_append(c)
                    family_append(f)
                    if f == _BOX:
                        g = s.geometry
                        o = objects.n
                        objects.n = o + 1
                        obj_append(o)
                        box_ids_append(o)
                        box_xywh_append((g["x"], g["y"], g["w"], g["h"]))
                    elif f == _POLY:
                        obj_append(add(kind, s.geometry))
                    else:
                        obj_append(-1)
                        if f != _SKIP:
                            side.add_rare(f, i)
                pos += side.n
                side_len.append(side.n)
                sides.append(side)
            self.assets.append(sides)
            self.sizes.append(size)
            asset_len.append(sum(s.n for s in sides))
        objects.build()
        self.codes = np.array(codes, np.int64)
        self.family = np.array(family, np.int8)
        self.obj = np.array(obj, np.int64)
        self.side_of = np.repeat(np.arange(len(side_len)), side_len)
        self.asset_of = np.repeat(np.arange(len(asset_len)), asset_len)
        self.asset_start = np.concatenate([[0], np.cumsum(asset_len)]).astype(np.int64)
        for sides in self.assets:
            for side in sides:
                a, b = side.start, side.start + side.n
                side.codes, side.family, side.obj = self.codes[a:b], self.family[a:b], self.obj[a:b]
                side.line_idx = np.array(side.line_idx, np.int64) if side.line_idx else _NO_ROWS
        self._candidates()

    def _candidates(self) -> None:
        """The object pairs to intersect, sorted by asset, and their IoU."""
        objects, opt = self.objects, self.opt
        if not (objects.simple_ids or objects.other_ids):  # boxes only: box_iou_matrix does it all
            self.cand_i = self.cand_j = _NO_ROWS
            self.cand_iou = np.zeros(0)
            self.cand_cuts = [0] * (len(self.assets) + 1)
            return
        rows = np.nonzero(self.obj >= 0)[0]
        key = self.asset_of[rows]
        if opt.same_label:
            key = key * (int(self.codes.max(initial=0)) + 1) + self.codes[rows]
            order = np.argsort(key, kind="stable")
            rows, key = rows[order], key[order]
        cuts = np.concatenate([[0], np.flatnonzero(np.diff(key)) + 1])
        sizes = np.diff(np.concatenate([cuts, [len(key)]]))
        i, j = _pairs_in_groups(cuts, sizes)
        i, j = rows[i], rows[j]
        oi, oj = self.obj[i], self.obj[j]
        keep = (self.side_of[i] < self.side_of[j]) & ~(objects.is_box[oi] & objects.is_box[oj])
        i, j, oi, oj = i[keep], j[keep], oi[keep], oj[keep]
        inter, ub = _bound(objects.bounds[oi], objects.areas[oi], objects.bounds[oj], objects.areas[oj])
        keep = (inter > 0) & (ub >= opt.threshold)
        i, j, oi, oj = i[keep], j[keep], oi[keep], oj[keep]
        common = objects.intersections(oi, oj)
        union = objects.areas[oi] + objects.areas[oj] - common
        self.cand_iou = np.divide(common, union, out=np.zeros_like(common), where=union > 0)
        starts = self.asset_start[self.asset_of[i]]
        self.cand_i, self.cand_j = i - starts, j - starts
        self.cand_cuts = np.searchsorted(self.asset_of[i], np.arange(len(self.assets) + 1))

    def blocks(self) -> Iterable[tuple[list[_Side], dict[tuple[int, int], np.ndarray]]]:
        """Per asset: its sides and the similarity block of every pair of sides ``(x, y)``, x < y."""
        opt, threshold = self.opt, self.opt.threshold
        # the boxes of the batch, by asset: one box_iou_matrix call per asset
        box_rows = np.flatnonzero(self.family == _BOX)
        box_cuts = np.searchsorted(box_rows, self.asset_start).tolist()
        box_xywh = self.objects.xywh[self.obj[box_rows]]
        box_side = self.side_of[box_rows]
        box_code = self.codes[box_rows]
        box_pos = (box_rows - self.asset_start[self.asset_of[box_rows]]).tolist()
        cand_cuts = list(self.cand_cuts)
        asset_start = self.asset_start.tolist()
        for k, sides in enumerate(self.assets):
            a0, a1 = asset_start[k], asset_start[k + 1]
            S = np.zeros((a1 - a0, a1 - a0))
            if len(sides) > 1 and a1 > a0:
                b0, b1 = box_cuts[k], box_cuts[k + 1]
                if b1 - b0 > 1:
                    side = box_side[b0:b1]
                    allowed = side[:, None] < side[None, :]
                    if opt.same_label:
                        code = box_code[b0:b1]
                        allowed &= code[:, None] == code[None, :]
                    xywh = box_xywh[b0:b1]
                    bpos = box_pos[b0:b1]
                    S[np.ix_(bpos, bpos)] = box_iou_matrix(xywh, xywh) * allowed
                c0, c1 = cand_cuts[k], cand_cuts[k + 1]
                if c1 > c0:
                    S[self.cand_i[c0:c1], self.cand_j[c0:c1]] = self.cand_iou[c0:c1]
                if any(s.rare for s in sides):
                    self._rare(S, sides, self.sizes[k], a0)
                if threshold > 0:
                    S[S < threshold] = 0.0
            out = {}
            for x, y in combinations(range(len(sides)), 2):
                A, B = sides[x], sides[y]
                out[(x, y)] = S[A.start - a0 : A.start - a0 + A.n, B.start - a0 : B.start - a0 + B.n]
            yield sides, out

    def _rare(self, S, sides: list[_Side], size, a0: int) -> None:
        """Masks, polylines and keypoints, side pair by side pair."""
        opt = self.opt
        mask_size = None
        for x, y in combinations(range(len(sides)), 2):
            A, B = sides[x], sides[y]
            if not (A.rare or B.rare):
                continue
            block = S[A.start - a0 : A.start - a0 + A.n, B.start - a0 : B.start - a0 + B.n]
            allowed = (A.codes[:, None] == B.codes[None, :]) if opt.same_label else None
            if A.mask_idx or B.mask_idx:
                mask_size = mask_size or _mask_size(sides, size)
                _mask_block(block, A, B, allowed, mask_size)
            _line_block(block, A, B, allowed, opt)
            _keypoint_block(block, A, B, allowed, opt, size)


def _batched(iterable, n):
    it = iter(iterable)
    while chunk := list(islice(it, n)):
        yield chunk


def _compare(
    assets: Iterable[tuple[Sequence[Sequence[Shape]], tuple[int, int] | None]], opt: _Options
) -> Iterable[tuple[list[_Side], dict[tuple[int, int], np.ndarray]]]:
    """For each asset (its shape lists and image size): its sides and the similarity block of every
    pair of sides ``(x, y)``, ``x < y``; entries below the threshold are 0. Works in batches."""
    for chunk in _batched(assets, _BATCH_ASSETS):
        yield from _Batch(chunk, opt).blocks()

def _assign(S: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs that maximise the sum of ``S`` (pairs with S = 0 dropped): rows, columns, values."""
    if not S.size or not S.any():
        return _NO_ROWS, _NO_ROWS, _NO_VALUES
    r, c = linear_sum_assignment(S, maximize=True)
    v = S[r, c]
    keep = v > 0
    return r[keep], c[keep], v[keep]


def _result(A: _Side, B: _Side, S: np.ndarray) -> MatchResult:
    r, c, v = _assign(S)
    ra, rb = r.tolist(), c.tolist()
    fa, fb = A.family.tolist(), B.family.tolist()
    sa, sb = set(ra), set(rb)
    free_a = tuple([i for i in range(A.n) if fa[i] and i not in sa])
    free_b = tuple([j for j in range(B.n) if fb[j] and j not in sb])
    return MatchResult._of(tuple(ra), tuple(rb), tuple(v.tolist()), free_a, free_b, A.labels, B.labels)


def _options(threshold, sigmas, default_sigma, polyline_buffer, same_label=True) -> _Options:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}")
    if isinstance(polyline_buffer, bool) or not isinstance(polyline_buffer, (int, float)) or not polyline_buffer > 0:
        raise ValueError(f"polyline_buffer must be a positive number of pixels, got {polyline_buffer!r}")
    if not default_sigma > 0:
        raise ValueError(f"default_sigma must be positive, got {default_sigma!r}")
    return _Options(same_label, float(threshold), sigmas, float(default_sigma), float(polyline_buffer))


def _size(height, width) -> tuple[int, int] | None:
    if (height is None) != (width is None):
        raise ValueError("give the image size as both height= and width=, or neither")
    return None if height is None else (int(height), int(width))


def similarity_matrix(
    a: Sequence[Shape],
    b: Sequence[Shape],
    *,
    same_label: bool = True,
    threshold: float = 0.0,
    height: int | None = None,
    width: int | None = None,
    sigmas: Mapping[str, Sequence[float]] | None = None,
    default_sigma: float = DEFAULT_SIGMA,
    polyline_buffer: float = 2.0,
) -> np.ndarray:
    """The ``len(a) x len(b)`` matrix of similarities (see the module docstring): 0 for pairs that
    cannot be compared (other kinds, tags, another label when ``same_label``) and, to save work,
    for pairs below ``threshold``."""
    opt = _options(threshold, sigmas, default_sigma, polyline_buffer, same_label)
    ((_, blocks),) = _compare([((a, b), _size(height, width))], opt)
    return blocks[(0, 1)].copy()


def match_shapes(
    a: Sequence[Shape],
    b: Sequence[Shape],
    *,
    threshold: float = 0.5,
    height: int | None = None,
    width: int | None = None,
    sigmas: Mapping[str, Sequence[float]] | None = None,
    default_sigma: float = DEFAULT_SIGMA,
    polyline_buffer: float = 2.0,
) -> MatchResult:
    """Match the shapes of ``a`` (the reference) and ``b`` one to one, label by label, maximising
    the summed similarity; a pair counts when its similarity is at least ``threshold`` and above 0.
    See the module docstring for the similarity of each pair of kinds and for the figures."""
    opt = _options(threshold, sigmas, default_sigma, polyline_buffer)
    ((sides, blocks),) = _compare([((a, b), _size(height, width))], opt)
    return _result(sides[0], sides[1], blocks[(0, 1)])


def match_annotators(
    annotations: Mapping[Hashable, Sequence[Shape]],
    *,
    threshold: float = 0.5,
    height: int | None = None,
    width: int | None = None,
    sigmas: Mapping[str, Sequence[float]] | None = None,
    default_sigma: float = DEFAULT_SIGMA,
    polyline_buffer: float = 2.0,
) -> dict[tuple, MatchResult]:
    """:func:`match_shapes` for every pair of annotators of one asset: ``{annotator: shapes}`` in,
    ``{(first, second): result}`` out for each pair in the mapping's order (``first`` is the
    reference)."""
    (out,) = match_assets(
        [annotations],
        sizes=None if height is None and width is None else [_size(height, width)],
        threshold=threshold,
        sigmas=sigmas,
        default_sigma=default_sigma,
        polyline_buffer=polyline_buffer,
    )
    return out


def match_assets(
    assets: Iterable[Mapping[Hashable, Sequence[Shape]]],
    *,
    sizes: Iterable[tuple[int, int] | None] | None = None,
    threshold: float = 0.5,
    sigmas: Mapping[str, Sequence[float]] | None = None,
    default_sigma: float = DEFAULT_SIGMA,
    polyline_buffer: float = 2.0,
) -> list[dict[tuple, MatchResult]]:
    """:func:`match_annotators` for many assets, in bulk (see "Speed" in the module docstring):
    one ``{annotator: shapes}`` mapping per asset in, one ``{(first, second): result}`` dict per
    asset out. ``sizes`` gives each asset's image size ``(height, width)`` (or None), needed only
    to compare masks with other kinds at a size other than the masks' own, and for OKS of single
    points."""
    opt = _options(threshold, sigmas, default_sigma, polyline_buffer)
    assets = list(assets)
    sizes = [None] * len(assets) if sizes is None else [None if s is None else _size(*s) for s in sizes]
    if len(sizes) != len(assets):
        raise ValueError(f"match_assets: {len(assets)} assets but {len(sizes)} sizes")
    names = [list(a) for a in assets]
    out = []
    feed = (([a[name] for name in nm], size) for a, nm, size in zip(assets, names, sizes))
    for nm, (sides, blocks) in zip(names, _compare(feed, opt)):
        out.append({(nm[x], nm[y]): _result(sides[x], sides[y], S) for (x, y), S in blocks.items()})
    return out
