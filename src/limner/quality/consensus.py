"""Consensus: the annotations of several people on one asset merged into one.

:func:`consensus` takes ``k`` annotations of an asset, each a pair ``(annotator, shapes)``, and
returns one list of shapes (source ``"consensus"``) with a :class:`ConsensusReport`.

1. **Clusters.** Shapes of the same kind family are grouped so that a cluster holds at most one
   shape per annotator and *every* two shapes in it are at least ``iou`` similar (complete
   linkage, built greedily from the most similar pair down; labels play no part, so a label swap
   still lands in the right cluster). Families and their similarity:

   ===============================  ===========================================================
   family (kinds)                   similarity
   ===============================  ===========================================================
   box                              IoU, closed form (``box_iou_matrix``)
   region (polygon, mask)           IoU: shapely areas between polygons, pixels with a mask
   rotated_box / ellipse            IoU, shapely areas (ellipses sampled at 256 points)
   polyline                         ``polyline_iou`` (lines widened by 2 pixels)
   points / skeleton                keypoint similarity (OKS, below); same number of points only
   tag                              1 for the same label, else 0
   ===============================  ===========================================================

   Keypoint similarity is COCO's OKS with one sigma (``kpt_sigma``) for every point and, as scale,
   the mean area of the two boxes around the labelled points (at least 32 x 32 pixels, COCO's
   "small" objects, so single points compare at a few pixels); a point labelled by only one side
   scores 0.
2. **Quorum.** A cluster is kept when its size reaches ``quorum`` of the annotators
   (``ceil(quorum * k)`` shapes, at least 1): with 3 annotators and the default 0.5, two must agree.
3. **Label.** The majority of the members' labels. A tie is reported and goes to the earliest
   annotator in the order given (list the most trusted first). Attributes are voted per name
   among the members with the winning label, ``z_order`` among all members, with the same tie rule.
4. **Geometry.** Boxes: mean of the corners. Rotated boxes and ellipses: mean of centre and sizes,
   the angle by circular mean (each member first turned by a multiple of 90 degrees, with its
   sides swapped, to align with the first member's axes: the same figure, described the same way).
   Points: mean per point. Skeletons: a point is labelled when more than half of the members label
   it, at the mean of those labels; visibility by majority (2 on a tie). Polygons: the area more
   than half of the members cover, computed exactly on the geometry (no raster): with 2 or 3
   members the union of the pairwise intersections (already computed for the similarity), with
   more the faces of the members' overlay covered by a majority; clipped to the image when its
   size is given; the largest part is kept (``parts`` counts them). It is the limit of a pixel
   majority vote at infinite resolution, with the members' own vertices instead of a staircase.
   Masks, and any cluster holding a mask: pixel majority vote over the window the members cover,
   a mask again (or traced back into a polygon,
   :func:`~limner.core.geometry.mask_to_polygons`, the largest part, when the winning kind is a
   polygon). A mixed region cluster takes the kind most members with the winning label have.
   Polylines: the member most similar to the others (medoid).
5. **Ids.** Group ids are renumbered so that consensus shapes made from members that shared a
   group id (a person's box and its skeleton) share one again; track ids are dropped. The
   confidence of a consensus shape is the share of annotators in its cluster.

Pure: core objects in, core objects out; no I/O.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import shapely

from limner.core import rle as _rle
from limner.core.geometry import area as shape_area
from limner.core.geometry import bbox as shape_bbox
from limner.core.geometry import box_iou_matrix, iou, mask_to_polygons, polyline_iou, transform
from limner.core.raster import ellipse_points, polygonal, polygon_shape, rasterize, rotated_box_corners
from limner.core.shapes import Shape

__all__ = ["FAMILIES", "Cluster", "ConsensusReport", "consensus", "votes_needed"]

FAMILIES = {
    "box": "box",
    "rotated_box": "rotated_box",
    "ellipse": "ellipse",
    "polygon": "region",
    "mask": "region",
    "polyline": "polyline",
    "points": "points",
    "skeleton": "skeleton",
    "tag": "tag",
}
"""Kind -> family: shapes are clustered, and merged, only within one family."""

_FAMILY_ORDER = ("box", "region", "rotated_box", "ellipse", "polyline", "points", "skeleton", "tag")
_ELLIPSE_SEGMENTS = 256
_MIN_KPT_AREA = 32.0 * 32.0
_EPS = 1e-9


@dataclass(slots=True)
class Cluster:
    """One group of matched shapes. ``members`` are ``(annotator, index in that annotator's
    shapes)``, in annotator order; ``similarity`` is the lowest similarity between two members
    (1.0 for a single shape)."""

    family: str
    members: list[tuple[str, int]]
    similarity: float
    votes: dict[str, int] = field(default_factory=dict)
    label: str | None = None
    tie: list[str] = field(default_factory=list)
    status: str = "kept"  # kept | below_quorum | empty
    shape: int | None = None  # index of the consensus shape made from it
    parts: int = 1  # connected parts of a polygon vote (the largest is kept)

    def to_dict(self) -> dict:
        return {
            "family": self.family,
            "members": [{"annotator": a, "shape": i} for a, i in self.members],
            "similarity": round(self.similarity, 6),
            "votes": dict(self.votes),
            "label": self.label,
            "tie": list(self.tie),
            "status": self.status,
            "shape": self.shape,
            "parts": self.parts,
        }


@dataclass(slots=True)
class ConsensusReport:
    annotators: list[str]
    quorum: float
    iou: float
    needed: int
    clusters: list[Cluster] = field(default_factory=list)

    @property
    def kept(self) -> int:
        return sum(c.status == "kept" for c in self.clusters)

    @property
    def dropped(self) -> int:
        """Clusters below the quorum."""
        return sum(c.status == "below_quorum" for c in self.clusters)

    @property
    def ties(self) -> list[Cluster]:
        return [c for c in self.clusters if c.tie]

    def to_dict(self) -> dict:
        return {
            "annotators": list(self.annotators),
            "quorum": self.quorum,
            "iou": self.iou,
            "votes_needed": self.needed,
            "clusters": len(self.clusters),
            "kept": self.kept,
            "dropped_below_quorum": self.dropped,
            "empty": sum(c.status == "empty" for c in self.clusters),
            "ties": len(self.ties),
            "details": [c.to_dict() for c in self.clusters],
        }


def votes_needed(quorum: float, annotators: int) -> int:
    """Members a cluster needs: ``ceil(quorum * annotators)``, at least 1."""
    return max(1, math.ceil(quorum * annotators - _EPS))


# -- similarity ------------------------------------------------------------------------------------


class _Family:
    """The shapes of one family across annotators, in annotator order."""

    __slots__ = ("name", "who", "index", "shapes", "n", "geoms", "inter")

    def __init__(self, name: str):
        self.name = name
        self.who: list[int] = []  # annotator position
        self.index: list[int] = []  # index in that annotator's list
        self.shapes: list[Shape] = []
        self.n = 0
        self.geoms: np.ndarray | None = None  # shapely areas of an area family (None for masks)
        self.inter: dict[tuple[int, int], object] = {}  # (i, j), i < j: the pairs' intersections

    def add(self, who: int, index: int, shape: Shape) -> None:
        self.who.append(who)
        self.index.append(index)
        self.shapes.append(shape)
        self.n += 1


def _geoms(shapes: list[Shape]) -> np.ndarray:
    """Shapely polygons for polygons, rotated boxes and ellipses (as ``geometry.iou`` makes them),
    hole-free rings in one vectorised call; None for masks."""
    out = np.empty(len(shapes), object)
    rings, at = [], []
    for i, s in enumerate(shapes):
        g = s.geometry
        if s.kind == "polygon":
            pts = g["points"]
            if g.get("holes") or len(pts) < 3 or (len(pts) == 3 and list(pts[0]) == list(pts[-1])):
                out[i] = _polygon(g)
                continue
            rings.append(np.asarray(pts, np.float64)[:, :2])
        elif s.kind == "rotated_box":
            rings.append(rotated_box_corners(g))
        elif s.kind == "ellipse":
            rings.append(ellipse_points(g, _ELLIPSE_SEGMENTS))
        else:
            continue
        at.append(i)
    if rings:
        made = shapely.polygons(
            shapely.linearrings(np.concatenate(rings), indices=np.repeat(np.arange(len(rings)), [len(r) for r in rings]))
        )
        bad = ~shapely.is_valid(made)
        if bad.any():
            made[bad] = [polygonal(p) for p in made[bad]]
        out[at] = made
    return out


def _polygon(g: dict):
    """A polygon geometry as a valid shapely geometry; empty when its rings make none."""
    try:
        return polygon_shape(g)
    except (ValueError, TypeError):
        return shapely.Polygon()


def _area_similarity(fam: _Family, thr: float, height: int | None, width: int | None) -> np.ndarray:
    """IoU between the area shapes of a family: shapely for polygons (vectorised, after a bound on
    the bounding boxes rules out pairs that cannot reach ``thr``), pixels when a mask is involved."""
    n = fam.n
    S = np.zeros((n, n))
    shapes = fam.shapes
    geoms = fam.geoms = _geoms(shapes)
    bounds = np.zeros((n, 4))
    areas = np.zeros(n)
    is_mask = np.array([s.kind == "mask" for s in shapes], bool)
    poly = ~is_mask
    if poly.any():
        bounds[poly] = np.nan_to_num(shapely.bounds(geoms[poly]).reshape(-1, 4))
        areas[poly] = shapely.area(geoms[poly])
    for i in np.flatnonzero(is_mask):
        b = shape_bbox("mask", shapes[i].geometry)
        if b is not None:
            bounds[i] = (b[0], b[1], b[0] + b[2], b[1] + b[3])
            areas[i] = shape_area("mask", shapes[i].geometry)
    iw = np.minimum(bounds[:, None, 2], bounds[None, :, 2]) - np.maximum(bounds[:, None, 0], bounds[None, :, 0])
    ih = np.minimum(bounds[:, None, 3], bounds[None, :, 3]) - np.maximum(bounds[:, None, 1], bounds[None, :, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    m = np.minimum(inter, np.minimum(areas[:, None], areas[None, :]))
    union = areas[:, None] + areas[None, :] - m
    upper = np.divide(m, union, out=np.zeros_like(m), where=union > 0)
    who = np.asarray(fam.who)
    cand = (upper >= thr - _EPS) & (who[:, None] != who[None, :]) & np.triu(np.ones((n, n), bool), 1)
    ii, jj = np.nonzero(cand)
    both_poly = poly[ii] & poly[jj]
    if both_poly.any():
        a, b = ii[both_poly], jj[both_poly]
        cut = shapely.intersection(geoms[a], geoms[b])
        fam.inter = dict(zip(zip(a.tolist(), b.tolist()), cut))  # kept for the polygon vote
        it = shapely.area(cut)
        un = areas[a] + areas[b] - it
        S[a, b] = np.divide(it, un, out=np.zeros_like(it), where=un > 0)
    for a, b in zip(ii[~both_poly], jj[~both_poly]):
        size = _image_size([shapes[a], shapes[b]], height, width)
        S[a, b] = iou(shapes[a].kind, shapes[a].geometry, shapes[b].kind, shapes[b].geometry, height=size[0], width=size[1])
    return S + S.T


def _keypoints(s: Shape) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(s.geometry["points"], np.float64)
    if s.kind == "skeleton":
        return p[:, :2], p[:, 2] > 0
    return p[:, :2], np.ones(len(p), bool)


def _kpt_similarity(a: Shape, b: Shape, sigma: float) -> float:
    (pa, va), (pb, vb) = _keypoints(a), _keypoints(b)
    if len(pa) != len(pb):
        return 0.0
    either = va | vb
    if not either.any():
        return 0.0

    def box_area(p, v):
        if not v.any():
            return 0.0
        q = p[v]
        span = q.max(axis=0) - q.min(axis=0)
        return float(span[0] * span[1])

    scale = max((box_area(pa, va) + box_area(pb, vb)) / 2.0, _MIN_KPT_AREA)
    both = va & vb
    d2 = ((pa - pb) ** 2).sum(axis=1)
    e = d2 / ((2.0 * sigma) ** 2 * scale * 2.0)
    score = np.where(both, np.exp(-e), 0.0)
    return float(score[either].sum() / either.sum())


def _similarity(fam: _Family, thr: float, height, width, kpt_sigma: float) -> np.ndarray:
    n = fam.n
    shapes = fam.shapes
    if fam.name == "box":
        arr = np.array([[s.geometry["x"], s.geometry["y"], s.geometry["w"], s.geometry["h"]] for s in shapes], np.float64)
        return box_iou_matrix(arr, arr)
    if fam.name in ("region", "rotated_box", "ellipse"):
        return _area_similarity(fam, thr, height, width)
    S = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            if fam.who[i] == fam.who[j]:
                continue
            a, b = shapes[i], shapes[j]
            if fam.name == "tag":
                v = 1.0 if a.label == b.label else 0.0
            elif fam.name == "polyline":
                v = polyline_iou(a.geometry, b.geometry)
            else:
                v = _kpt_similarity(a, b, kpt_sigma)
            S[i, j] = S[j, i] = v
    return S


def _clusters(fam: _Family, S: np.ndarray, thr: float) -> list[list[int]]:
    """Greedy complete linkage: join the two clusters of the most similar remaining pair when they
    share no annotator and every cross pair reaches ``thr``. (Small lists: plain Python is faster
    here than numpy calls per candidate pair.)"""
    n = fam.n
    who = fam.who
    w = np.asarray(who)
    ii, jj = np.nonzero(np.triu(S >= thr - _EPS, 1) & (w[:, None] != w[None, :]))
    if not len(ii):
        return [[i] for i in range(n)]
    order = np.lexsort((jj, ii, -S[ii, jj]))
    rows = S.tolist()
    low = thr - _EPS
    of = list(range(n))
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    owners: dict[int, set[int]] = {i: {who[i]} for i in range(n)}
    for a, b in zip(ii[order].tolist(), jj[order].tolist()):
        ci, cj = of[a], of[b]
        if ci == cj or owners[ci] & owners[cj]:
            continue
        mi, mj = members[ci], members[cj]
        if any(rows[x][y] < low for x in mi for y in mj):
            continue
        keep, gone = min(ci, cj), max(ci, cj)
        members[keep] = sorted(mi + mj)
        owners[keep] = owners[ci] | owners[cj]
        del owners[gone]
        for x in members.pop(gone):
            of[x] = keep
    return [members[c] for c in sorted(members)]


# -- merging ---------------------------------------------------------------------------------------


def _vote(values: list, order: list[int]) -> tuple[object, list]:
    """The most common value; a tie goes to the value of the earliest ``order`` (annotator
    position). Returns (winner, tied values or [])."""
    counts = Counter(values)
    top = max(counts.values())
    tied = [v for v in counts if counts[v] == top]
    if len(tied) == 1:
        return tied[0], []
    first = min(range(len(values)), key=lambda k: (order[k], k) if values[k] in tied else (math.inf, k))
    return values[first], tied


def _hashable(v):
    return repr(v) if isinstance(v, (list, dict)) else v


def _attributes(members: list[Shape], order: list[int]) -> dict:
    out = {}
    names = []
    for s in members:
        for k in s.attributes:
            if k not in names:
                names.append(k)
    for name in names:
        have = [(s.attributes[name], o) for s, o in zip(members, order) if name in s.attributes]
        keys = [_hashable(v) for v, _ in have]
        win, _ = _vote(keys, [o for _, o in have])
        out[name] = next(v for v, k in zip((v for v, _ in have), keys) if k == win)
    return out


def _circular_mean(deg: np.ndarray, period: float) -> float:
    t = deg * (2.0 * math.pi / period)
    return math.atan2(float(np.sin(t).mean()), float(np.cos(t).mean())) * period / (2.0 * math.pi)


def _turned_mean(geoms: list[dict], a: str, b: str) -> dict:
    """Mean of rotated boxes (a, b = w, h) or ellipses (rx, ry): each turned by a multiple of 90
    degrees (sides swapped) to the first one's axes, then centre and sides averaged and the angle
    by circular mean (period 180: the figures are symmetric)."""
    ref = geoms[0]["angle"]
    sa, sb, d = [], [], []
    for g in geoms:
        delta = (g["angle"] - ref + 90.0) % 180.0 - 90.0  # in [-90, 90)
        if abs(delta) > 45.0:
            sa.append(g[b])
            sb.append(g[a])
            delta -= math.copysign(90.0, delta)
        else:
            sa.append(g[a])
            sb.append(g[b])
        d.append(delta)
    angle = ref + _circular_mean(np.array(d), 180.0)
    angle = (angle + 180.0) % 360.0 - 180.0
    return {
        "cx": float(np.mean([g["cx"] for g in geoms])),
        "cy": float(np.mean([g["cy"] for g in geoms])),
        a: float(np.mean(sa)),
        b: float(np.mean(sb)),
        "angle": float(angle) + 0.0,
    }


def _image_size(shapes: list[Shape], height: int | None, width: int | None) -> tuple[int, int]:
    for s in shapes:
        if s.kind == "mask":
            h, w = s.geometry["rle"]["size"]
            return int(h), int(w)
    if height is None or width is None:
        raise ValueError("comparing a mask needs the image size: pass height= and width=")
    return height, width


def _region_vote(members: list[Shape], out_kind: str, height, width) -> tuple[dict | None, int]:
    """Pixel majority vote of polygons and masks, on the window they cover. Returns the geometry
    (None when no pixel has a majority) and the number of connected parts found."""
    has_mask = any(s.kind == "mask" for s in members)
    size = _image_size(members, height, width) if has_mask or out_kind == "mask" else (
        (height, width) if height is not None and width is not None else None
    )
    boxes = [shape_bbox(s.kind, s.geometry) for s in members]
    boxes = [b for b in boxes if b is not None]
    if not boxes:
        return None, 0
    x0 = math.floor(min(b[0] for b in boxes))
    y0 = math.floor(min(b[1] for b in boxes))
    x1 = math.ceil(max(b[0] + b[2] for b in boxes))
    y1 = math.ceil(max(b[1] + b[3] for b in boxes))
    if size is not None:
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, size[1]), min(y1, size[0])
    if x1 <= x0 or y1 <= y0:
        return None, 0
    h, w = y1 - y0, x1 - x0
    votes = np.zeros((h, w), np.uint16)
    for s in members:
        if s.kind == "mask":
            votes += _rle.decode(s.geometry["rle"])[y0:y1, x0:x1]
        else:
            try:
                votes += rasterize("polygon", transform("polygon", s.geometry, offset=(-x0, -y0)), h, w)
            except (ValueError, TypeError):  # rings that make no polygon vote for no pixel
                pass
    won = (votes.astype(np.int32) * 2 > len(members)).astype(np.uint8)
    if not won.any():
        return None, 0
    if out_kind == "mask":
        full = np.zeros(size, np.uint8)
        full[y0:y1, x0:x1] = won
        return {"rle": _rle.encode(full)}, 1
    parts = mask_to_polygons(_rle.encode(won))
    if not parts:
        return None, 0
    best = max(parts, key=lambda p: shapely.Polygon(p["points"], p["holes"]).area)
    return {
        "points": [[x + x0, y + y0] for x, y in best["points"]],
        "holes": [[[x + x0, y + y0] for x, y in r] for r in best["holes"]],
    }, len(parts)


def _majority_area(fam: _Family, idx: list[int]):
    """The area covered by more than half of the members ``idx`` of an area family, exactly."""
    geoms = fam.geoms
    n = len(idx)
    if n == 1:
        return geoms[idx[0]]
    if n <= 3:  # a majority is any two: the union of the pairwise intersections
        cuts = []
        for a, b in combinations(idx, 2):
            cut = fam.inter.get((a, b))
            cuts.append(shapely.intersection(geoms[a], geoms[b]) if cut is None else cut)
        return shapely.union_all(cuts) if n == 3 else cuts[0]
    # the faces of the overlay of every boundary, each kept when a majority covers it
    members = geoms[idx]
    faces = shapely.get_parts(shapely.polygonize([shapely.union_all(shapely.boundary(members))]))
    if len(faces) == 0:
        return shapely.Polygon()
    inside = shapely.point_on_surface(faces)
    votes = shapely.covers(members[:, None], inside[None, :]).sum(axis=0)
    return shapely.union_all(faces[votes * 2 > n])


def _areal(g):
    """The areal part of an overlay's result (valid already: GEOS overlays return valid
    geometry), dropping the lines and points where shapes only touch."""
    if isinstance(g, (shapely.Polygon, shapely.MultiPolygon)):
        return g
    parts = [q for q in shapely.get_parts(g) if isinstance(q, (shapely.Polygon, shapely.MultiPolygon)) and not q.is_empty]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _polygon_vote(fam: _Family, idx: list[int], height, width) -> tuple[dict | None, int]:
    """The majority area of a polygon cluster as a polygon geometry (its largest part), clipped to
    the image when its size is known; None when no area has a majority. Returns (geometry, parts)."""
    region = _areal(_majority_area(fam, idx))
    if height is not None and width is not None:
        x0, y0, x1, y1 = region.bounds if not region.is_empty else (0, 0, 0, 0)
        if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
            region = _areal(shapely.intersection(region, shapely.box(0, 0, width, height)))
    parts = [q for q in shapely.get_parts(region) if q.area > 0]
    if not parts:
        return None, 0
    best = shapely.simplify(max(parts, key=lambda q: q.area), 0)  # drops vertices on a straight edge
    return {
        "points": np.asarray(best.exterior.coords)[:-1].tolist(),
        "holes": [np.asarray(r.coords)[:-1].tolist() for r in best.interiors],
    }, len(parts)


def _merge_geometry(family: str, kind: str, members: list[Shape], sims: np.ndarray, height, width) -> tuple[dict | None, int]:
    gs = [s.geometry for s in members]
    if family == "tag":
        return {}, 1
    if family == "box":
        a = np.array([[g["x"], g["y"], g["x"] + g["w"], g["y"] + g["h"]] for g in gs], np.float64).mean(axis=0)
        return {"x": float(a[0]), "y": float(a[1]), "w": float(a[2] - a[0]), "h": float(a[3] - a[1])}, 1
    if family == "rotated_box":
        return _turned_mean(gs, "w", "h"), 1
    if family == "ellipse":
        return _turned_mean(gs, "rx", "ry"), 1
    if family == "points":
        p = np.array([g["points"] for g in gs], np.float64).mean(axis=0)
        return {"points": p.tolist()}, 1
    if family == "skeleton":
        p = np.array([g["points"] for g in gs], np.float64)  # members x points x 3
        out = []
        for j in range(p.shape[1]):
            v = p[:, j, 2]
            lab = v > 0
            if lab.sum() * 2 <= len(members):
                out.append([0.0, 0.0, 0])
                continue
            xy = p[lab, j, :2].mean(axis=0)
            vis = 2 if (v == 2).sum() >= (v == 1).sum() else 1
            out.append([float(xy[0]), float(xy[1]), vis])
        return {"points": out}, 1
    if family == "polyline":
        best = int(np.argmax(sims.sum(axis=1)))  # argmax keeps the earliest on a tie
        return {"points": [list(map(float, p)) for p in gs[best]["points"]]}, 1
    return _region_vote(members, kind, height, width)


def consensus(
    annotations: Sequence[tuple[str, Sequence[Shape]]],
    *,
    quorum: float = 0.5,
    iou: float = 0.5,
    height: int | None = None,
    width: int | None = None,
    kpt_sigma: float = 0.05,
) -> tuple[list[Shape], ConsensusReport]:
    """Merge the annotations ``[(annotator, shapes), ...]`` of one asset into one list of shapes.

    ``quorum`` is the share of annotators a cluster needs (0 < quorum <= 1), ``iou`` the similarity
    every two shapes of a cluster must reach (0 < iou <= 1). ``height`` and ``width`` (the image
    size) clip the pixel vote to the image and are needed when a mask meets another shape without
    one giving the size. See the module docstring for each rule.
    """
    if not 0.0 < quorum <= 1.0:
        raise ValueError(f"quorum is a share of the annotators in (0, 1], got {quorum!r}")
    if not 0.0 < iou <= 1.0:
        raise ValueError(f"iou is a similarity threshold in (0, 1], got {iou!r}")
    names = [str(a) for a, _ in annotations]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"each annotator may appear once; repeated: {', '.join(dup)}")
    k = len(names)
    needed = votes_needed(quorum, k)
    report = ConsensusReport(annotators=names, quorum=quorum, iou=iou, needed=needed)
    fams: dict[str, _Family] = {}
    for who, (_, shapes) in enumerate(annotations):
        for i, s in enumerate(shapes):
            try:
                name = FAMILIES[s.kind]
            except KeyError:
                raise ValueError(f"{names[who]} shapes[{i}]: unknown kind {s.kind!r}") from None
            fams.setdefault(name, _Family(name)).add(who, i, s)

    made: list[tuple[tuple[int, int], Shape, Cluster, list[tuple[int, int | None]]]] = []
    for name in _FAMILY_ORDER:
        fam = fams.get(name)
        if fam is None:
            continue
        S = _similarity(fam, iou, height, width, kpt_sigma)
        rows = S.tolist()
        for idx in _clusters(fam, S, iou):
            low = min((rows[x][y] for x, y in combinations(idx, 2)), default=1.0)
            members = [fam.shapes[x] for x in idx]
            order = [fam.who[x] for x in idx]
            c = Cluster(name, [(names[fam.who[x]], fam.index[x]) for x in idx], low)
            report.clusters.append(c)
            labels = [s.label for s in members]
            c.votes = dict(Counter(labels))
            label, tied = _vote(labels, order)
            c.label = label
            c.tie = sorted(tied)
            if len(idx) < needed:
                c.status = "below_quorum"
                continue
            winners = [(s, o) for s, o in zip(members, order) if s.label == label]
            kind, _ = _vote([s.kind for s, _ in winners], [o for _, o in winners])
            if name == "region" and not any(s.kind == "mask" for s in members):
                geom, parts = _polygon_vote(fam, idx, height, width)
            else:
                sub = S[np.ix_(idx, idx)] if name == "polyline" else None
                geom, parts = _merge_geometry(name, kind, members, sub, height, width)
            c.parts = parts
            if geom is None:
                c.status = "empty"
                continue
            z, _ = _vote([s.z_order for s in members], order)
            shape = Shape(
                kind=kind,
                label=label,
                geometry=geom,
                attributes=_attributes([s for s, _ in winners], [o for _, o in winners]),
                z_order=int(z),
                source="consensus",
                confidence=len(idx) / k,
            )
            key = min((fam.who[x], fam.index[x]) for x in idx)
            groups = [(fam.who[x], fam.shapes[x].group_id) for x in idx if fam.shapes[x].group_id is not None]
            made.append((key, shape, c, groups))

    made.sort(key=lambda m: m[0])
    out = []
    for n, (_, shape, c, _) in enumerate(made):
        c.shape = n
        out.append(shape)
    _renumber_groups(out, [m[3] for m in made])
    report.clusters.sort(key=lambda c: (c.shape is None, c.shape if c.shape is not None else 0, _FAMILY_ORDER.index(c.family)))
    return out, report


def _renumber_groups(shapes: list[Shape], groups: list[list[tuple[int, int]]]) -> None:
    """Consensus shapes whose members shared an (annotator, group id) get one new group id."""
    parent = list(range(len(shapes)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    first: dict[tuple[int, int], int] = {}
    for i, gs in enumerate(groups):
        for g in gs:
            if g in first:
                parent[find(i)] = find(first[g])
            else:
                first[g] = i
    comps: dict[int, list[int]] = {}
    for i, gs in enumerate(groups):
        if gs:
            comps.setdefault(find(i), []).append(i)
    for n, root in enumerate(sorted(comps, key=lambda r: min(comps[r])), start=1):
        for i in comps[root]:
            shapes[i].group_id = n
