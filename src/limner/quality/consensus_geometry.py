"""Consensus geometry: the merged shape of one cluster, for each family (see
:mod:`limner.quality.consensus` for the rules), and the polygon votes of many clusters at once.

Pure: core objects and shapely geometries in, geometry dicts out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import chain, combinations

import numpy as np
import shapely

from limner.core import rle as _rle
from limner.core.geometry import bbox as shape_bbox
from limner.core.geometry import mask_to_polygons, transform
from limner.core.raster import ellipse_points, polygonal, polygon_shape, rasterize, rotated_box_corners
from limner.core.shapes import Shape
from limner.quality.majority import majority_shells

__all__ = [
    "area_geoms",
    "box_means",
    "finish_vote",
    "image_size",
    "majority_area",
    "merge_geometry",
    "polygon_votes",
    "region_vote",
]

ELLIPSE_SEGMENTS = 256


def area_geoms(shapes: Sequence[Shape]) -> tuple[np.ndarray, np.ndarray]:
    """Shapely polygons for polygons, rotated boxes and ellipses (as ``geometry.iou`` makes them),
    hole-free rings in one vectorised call; None for masks. Also returns which are simple: a
    polygon without holes whose ring, as given, is a valid polygon."""
    out = np.empty(len(shapes), object)
    simple = np.zeros(len(shapes), bool)
    rings, at = [], []
    for i, s in enumerate(shapes):
        g = s.geometry
        if s.kind == "polygon":
            pts = g["points"]
            if g.get("holes") or len(pts) < 3 or (len(pts) == 3 and list(pts[0]) == list(pts[-1])):
                out[i] = _polygon(g)
                continue
            rings.append(pts)
            simple[i] = True
        elif s.kind == "rotated_box":
            rings.append(rotated_box_corners(g))
        elif s.kind == "ellipse":
            rings.append(ellipse_points(g, ELLIPSE_SEGMENTS))
        else:
            continue
        at.append(i)
    if rings:
        xy, ring = _ring_table(rings)
        made = shapely.polygons(shapely.linearrings(xy, indices=ring))
        bad = ~shapely.is_valid(made)
        if bad.any():
            made[bad] = [polygonal(p) for p in made[bad]]
            simple[np.asarray(at)[bad]] = False
        out[at] = made
    return out, simple


def _ring_table(rings: list) -> tuple[np.ndarray, np.ndarray]:
    """Rings (point lists or arrays) as one coordinate table and the ring of each row."""
    counts = np.fromiter((len(r) for r in rings), np.int64, len(rings))
    total = int(counts.sum())
    if all(isinstance(r, list) for r in rings):
        try:  # plain [x, y] lists: read in one pass
            flat = np.fromiter(chain.from_iterable(chain.from_iterable(rings)), np.float64)
        except (ValueError, TypeError):
            flat = None
        if flat is not None and len(flat) == 2 * total and all(len(r[0]) == 2 for r in rings):
            return flat.reshape(-1, 2), np.repeat(np.arange(len(rings)), counts)
    xy = np.concatenate([np.asarray(r, np.float64).reshape(len(r), -1)[:, :2] for r in rings])
    return xy, np.repeat(np.arange(len(rings)), counts)


def _polygon(g: dict):
    """A polygon geometry as a valid shapely geometry; empty when its rings make none."""
    try:
        return polygon_shape(g)
    except (ValueError, TypeError):
        return shapely.Polygon()



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


def image_size(shapes: list[Shape], height: int | None, width: int | None) -> tuple[int, int]:
    for s in shapes:
        if s.kind == "mask":
            h, w = s.geometry["rle"]["size"]
            return int(h), int(w)
    if height is None or width is None:
        raise ValueError("comparing a mask needs the image size: pass height= and width=")
    return height, width


def region_vote(members: list[Shape], out_kind: str, height, width) -> tuple[dict | None, int]:
    """Pixel majority vote of polygons and masks, on the window they cover. Returns the geometry
    (None when no pixel has a majority) and the number of connected parts found."""
    has_mask = any(s.kind == "mask" for s in members)
    size = image_size(members, height, width) if has_mask or out_kind == "mask" else (
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


def majority_area(geoms: Sequence, cuts: dict | None = None):
    """The area covered by more than half of the shapely areas ``geoms``, exactly, with GEOS
    overlays. ``cuts`` may hold intersections already made, ``{(i, j): geometry}`` for i < j."""
    n = len(geoms)
    if n == 1:
        return geoms[0]
    if n <= 3:  # a majority is any two: the union of the pairwise intersections
        got = []
        for a, b in combinations(range(n), 2):
            cut = cuts.get((a, b)) if cuts else None
            got.append(shapely.intersection(geoms[a], geoms[b]) if cut is None else cut)
        return shapely.union_all(got) if n == 3 else got[0]
    # the faces of the overlay of every boundary, each kept when a majority covers it
    members = np.asarray(geoms, dtype=object)
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


def finish_vote(region, height, width) -> tuple[dict | None, int]:
    """A majority area as a polygon geometry (its largest part), clipped to the image when its
    size is known; None when no area is left. Returns (geometry, parts)."""
    region = _areal(region)
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


def merge_geometry(family: str, kind: str, members: list[Shape], sims: np.ndarray, height, width) -> tuple[dict | None, int]:
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
    return region_vote(members, kind, height, width)


def box_means(xywh: np.ndarray, starts: np.ndarray) -> list[dict]:
    """Mean corners of groups of boxes (rows ``starts[k]:starts[k + 1]`` of ``xywh``, the last
    group to the end), as box geometries: the same sums in the same order as one mean per group."""
    x0, y0 = xywh[:, 0], xywh[:, 1]
    corners = np.stack([x0, y0, x0 + xywh[:, 2], y0 + xywh[:, 3]], axis=1)
    n = np.diff(np.append(starts, len(xywh)))
    a = corners[starts]  # summed member after member, as a mean along an axis sums
    for k in range(1, int(n.max(initial=1))):
        more = np.flatnonzero(n > k)
        a[more] += corners[starts[more] + k]
    a /= n[:, None]
    return [
        {"x": x, "y": y, "w": w, "h": h}
        for x, y, w, h in zip(a[:, 0].tolist(), a[:, 1].tolist(), (a[:, 2] - a[:, 0]).tolist(), (a[:, 3] - a[:, 1]).tolist())
    ]


def polygon_votes(
    clusters: list[list[int]], shapes: Sequence[Shape], geoms: np.ndarray, simple: np.ndarray, sizes: list
) -> list[tuple[dict | None, int]]:
    """The polygon vote of many clusters of polygons: ``clusters`` hold indices into ``shapes``
    and into their shapely areas ``geoms`` and ``simple`` flags (:func:`area_geoms`), ``sizes``
    each cluster's image size ``(height, width)`` (either may be None). Returns
    ``(geometry or None, parts)`` per cluster, as :func:`finish_vote` of :func:`majority_area`
    gives it.

    Exact short cuts first: one member, or members that are all the same polygon (or, of three,
    two the same: the majority is that polygon), is that polygon. Clusters of simple polygons
    without holes go through :func:`~limner.quality.majority.majority_shells` in one batch; what
    it leaves (touching boundaries, results in several parts or with holes, results reaching
    outside the image) and everything else goes through the overlay, cluster by cluster.
    """
    out: list = [None] * len(clusters)
    batch: list[int] = []
    for c, idx in enumerate(clusters):
        gs = [shapes[i].geometry for i in idx]
        n = len(idx)
        if n == 1 or all(_same(g, gs[0]) for g in gs[1:]):
            out[c] = finish_vote(geoms[idx[0]], *_size(sizes[c]))
        elif n == 3 and (_same(gs[0], gs[1]) or _same(gs[0], gs[2]) or _same(gs[1], gs[2])):
            twice = idx[0] if _same(gs[0], gs[1]) or _same(gs[0], gs[2]) else idx[1]
            out[c] = finish_vote(geoms[twice], *_size(sizes[c]))
        elif all(simple[i] for i in idx):
            batch.append(c)
        else:
            out[c] = finish_vote(majority_area([geoms[i] for i in idx]), *_size(sizes[c]))
    if batch:
        rows = [i for c in batch for i in clusters[c]]
        # a simple polygon's shapely ring is its points as given, closed: drop the closing point
        xy, ring = shapely.get_coordinates(geoms[rows], return_index=True)
        closing = np.flatnonzero(np.diff(np.append(ring, -1)))
        keep = np.ones(len(xy), bool)
        keep[closing] = False
        counts = np.bincount(ring, minlength=len(rows)) - 1
        shells, ok = majority_shells(xy[keep], counts, np.array([len(clusters[c]) for c in batch]))
        made = np.array([s is not None and k for s, k in zip(shells, ok)], bool)
        if made.any():
            at = np.flatnonzero(made)
            lengths = [len(shells[k]) for k in at]
            table = np.concatenate([shells[k] for k in at])
            polys = shapely.polygons(shapely.linearrings(table, indices=np.repeat(np.arange(len(at)), lengths)))
            valid = shapely.is_valid(polys)  # a last guard on the arrangement's result
            bounds = shapely.bounds(polys)
            points = table.tolist()  # one conversion for all (many small ones cost more)
            ends = np.cumsum(lengths).tolist()
            for i, (k, v, (x0, y0, x1, y1)) in enumerate(zip(at.tolist(), valid.tolist(), bounds.tolist())):
                h, w = _size(sizes[batch[k]])
                if not v:
                    ok[k] = False
                elif h is not None and w is not None and (x0 < 0 or y0 < 0 or x1 > w or y1 > h):
                    out[batch[k]] = finish_vote(polys[i], h, w)
                else:
                    out[batch[k]] = ({"points": points[ends[i] - lengths[i] : ends[i]], "holes": []}, 1)
        for k, c in enumerate(batch):
            if not ok[k]:
                out[c] = finish_vote(majority_area([geoms[i] for i in clusters[c]]), *_size(sizes[c]))
            elif shells[k] is None:
                out[c] = (None, 0)
    return out


def _same(a: dict, b: dict) -> bool:
    return a["points"] == b["points"] and (a.get("holes") or []) == (b.get("holes") or [])


def _size(size) -> tuple[int | None, int | None]:
    return (None, None) if size is None else size
