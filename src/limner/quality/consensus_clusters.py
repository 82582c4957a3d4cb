"""Consensus clusters: which shapes of different annotators are the same object.

Shapes of one kind family are grouped so that a cluster holds at most one shape per annotator and
every two shapes in it are at least ``thr`` similar: greedy complete linkage, from the most similar
pair down (see :mod:`limner.quality.consensus`). Two ways to the same clusters:

- :func:`family_similarity` and :func:`greedy` work on one asset's family (every family);
- :func:`box_pairs`, :func:`polygon_pairs` and :func:`bulk_clusters` do boxes and polygons of many
  assets at once. The pairs that reach the threshold are found in vectorised passes (box IoU in
  closed form; polygon intersections by Green's theorem, as :mod:`limner.quality.matching` computes
  them), then the connected components of the pairs are taken together: a component whose shapes
  all come from different annotators and are all pairwise similar is one cluster whatever the
  order of the merges, so only the other components go through the greedy linkage.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from limner.core.geometry import area as shape_area
from limner.core.geometry import bbox as shape_bbox
from limner.core.geometry import box_iou_matrix, iou, polyline_iou
from limner.core.shapes import Shape
from limner.quality.consensus_geometry import area_geoms, box_means, image_size, polygon_votes
from limner.quality.matching import _Objects

__all__ = [
    "EPS",
    "Bulk",
    "Family",
    "box_pairs",
    "bulk_boxes",
    "bulk_clusters",
    "bulk_polygons",
    "family_clusters",
    "family_similarity",
    "greedy",
    "polygon_pairs",
]

EPS = 1e-9
_MIN_KPT_AREA = 32.0 * 32.0
_PAIRS_PER_CHUNK = 1 << 20


class Family:
    """The shapes of one family of one asset across annotators, in annotator order."""

    __slots__ = ("name", "who", "index", "shapes", "n", "geoms", "simple", "inter")

    def __init__(self, name: str):
        self.name = name
        self.who: list[int] = []  # annotator position
        self.index: list[int] = []  # index in that annotator's list
        self.shapes: list[Shape] = []
        self.n = 0
        self.geoms: np.ndarray | None = None  # shapely areas of an area family (None for masks)
        self.simple: np.ndarray | None = None  # which of them are simple polygons
        self.inter: dict[tuple[int, int], object] = {}  # (i, j), i < j: the pairs' intersections

    def add(self, who: int, index: int, shape: Shape) -> None:
        self.who.append(who)
        self.index.append(index)
        self.shapes.append(shape)
        self.n += 1


def _area_similarity(fam: Family, thr: float, height: int | None, width: int | None) -> np.ndarray:
    """IoU between the area shapes of a family: shapely for polygons (vectorised, after a bound on
    the bounding boxes rules out pairs that cannot reach ``thr``), pixels when a mask is involved."""
    n = fam.n
    S = np.zeros((n, n))
    shapes = fam.shapes
    geoms, fam.simple = area_geoms(shapes)
    fam.geoms = geoms
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
    cand = (upper >= thr - EPS) & (who[:, None] != who[None, :]) & np.triu(np.ones((n, n), bool), 1)
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
        size = image_size([shapes[a], shapes[b]], height, width)
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


def family_similarity(fam: Family, thr: float, height, width, kpt_sigma: float) -> np.ndarray:
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


def greedy(n: int, who: list[int], ii: np.ndarray, jj: np.ndarray, ss: np.ndarray, thr: float) -> list[list[int]]:
    """Greedy complete linkage of ``n`` shapes over the pairs ``(ii, jj)`` (i < j, different
    annotators) whose similarity ``ss`` reaches ``thr``: join the two clusters of the most similar
    remaining pair (ties: the earlier pair) when they share no annotator and every cross pair is
    one of the given pairs. Returns the clusters, each sorted, by their first shape. (Small lists:
    plain Python is faster than numpy here.)"""
    if not len(ii):
        return [[i] for i in range(n)]
    order = np.lexsort((jj, ii, -ss))
    close = set(zip(ii.tolist(), jj.tolist()))
    of = list(range(n))
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    owners: dict[int, set[int]] = {i: {who[i]} for i in range(n)}
    for a, b in zip(ii[order].tolist(), jj[order].tolist()):
        ci, cj = of[a], of[b]
        if ci == cj or owners[ci] & owners[cj]:
            continue
        mi, mj = members[ci], members[cj]
        if any((x, y) not in close if x < y else (y, x) not in close for x in mi for y in mj):
            continue
        keep, gone = min(ci, cj), max(ci, cj)
        members[keep] = sorted(mi + mj)
        owners[keep] = owners[ci] | owners[cj]
        del owners[gone]
        for x in members.pop(gone):
            of[x] = keep
    return [members[c] for c in sorted(members)]


def family_clusters(fam: Family, S: np.ndarray, thr: float) -> list[list[int]]:
    """:func:`greedy` on one family's similarity matrix."""
    w = np.asarray(fam.who)
    ii, jj = np.nonzero(np.triu(S >= thr - EPS, 1) & (w[:, None] != w[None, :]))
    return greedy(fam.n, fam.who, ii, jj, S[ii, jj], thr)


# -- many assets at once ---------------------------------------------------------------------------


def _pairs_within(group: np.ndarray, who: np.ndarray):
    """Chunks of the pairs (i < j) of rows of the same group (sorted) and different annotators."""
    cuts = np.flatnonzero(np.diff(group)) + 1
    starts = np.concatenate([[0], cuts])
    sizes = np.diff(np.concatenate([starts, [len(group)]]))
    work = np.cumsum(sizes * sizes)
    k0 = 0
    while k0 < len(starts):
        base = work[k0 - 1] if k0 else 0
        k1 = max(int(np.searchsorted(work, base + _PAIRS_PER_CHUNK, side="right")), k0 + 1)
        st, sz = starts[k0:k1], sizes[k0:k1]
        sq = sz * sz
        g = np.repeat(np.arange(len(sz)), sq)
        t = np.arange(int(sq.sum())) - np.repeat(np.cumsum(sq) - sq, sq)
        i, j = st[g] + t // sz[g], st[g] + t % sz[g]
        keep = (i < j) & (who[i] != who[j])
        yield i[keep], j[keep]
        k0 = k1


def box_pairs(group: np.ndarray, who: np.ndarray, xywh: np.ndarray, thr: float):
    """The pairs of boxes (rows, sorted by group) of one group and different annotators whose IoU
    reaches ``thr``, with it (the arithmetic of ``box_iou_matrix``)."""
    out_i, out_j, out_s = [], [], []
    area = xywh[:, 2] * xywh[:, 3]
    x0, y0 = xywh[:, 0], xywh[:, 1]
    x1, y1 = x0 + xywh[:, 2], y0 + xywh[:, 3]
    for i, j in _pairs_within(group, who):
        iw = np.clip(np.minimum(x1[i], x1[j]) - np.maximum(x0[i], x0[j]), 0.0, None)
        ih = np.clip(np.minimum(y1[i], y1[j]) - np.maximum(y0[i], y0[j]), 0.0, None)
        inter = iw * ih
        union = area[i] + area[j] - inter
        s = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        keep = s >= thr - EPS
        out_i.append(i[keep])
        out_j.append(j[keep])
        out_s.append(s[keep])
    return _joined(out_i, out_j, out_s)


def polygon_pairs(group: np.ndarray, who: np.ndarray, geoms: np.ndarray, thr: float):
    """The same for polygons (their shapely areas): pairs whose bounding boxes cannot reach
    ``thr`` are skipped, the others intersected by Green's theorem in one vectorised pass."""
    areas = shapely.area(geoms)
    bounds = np.nan_to_num(shapely.bounds(geoms).reshape(-1, 4))
    ci, cj = [], []
    for i, j in _pairs_within(group, who):
        iw = np.minimum(bounds[i, 2], bounds[j, 2]) - np.maximum(bounds[i, 0], bounds[j, 0])
        ih = np.minimum(bounds[i, 3], bounds[j, 3]) - np.maximum(bounds[i, 1], bounds[j, 1])
        m = np.minimum(np.clip(iw, 0, None) * np.clip(ih, 0, None), np.minimum(areas[i], areas[j]))
        union = areas[i] + areas[j] - m
        upper = np.divide(m, union, out=np.zeros_like(m), where=union > 0)
        keep = upper >= thr - EPS
        ci.append(i[keep])
        cj.append(j[keep])
    i, j, _ = _joined(ci, cj, [])
    if not len(i):
        return i, j, np.zeros(0)
    objects = _Objects()
    objects.other_ids = list(range(len(geoms)))
    objects.other_geoms = list(geoms)
    objects.n = len(geoms)
    objects.build()
    it = objects.intersections(i, j)
    un = areas[i] + areas[j] - it
    s = np.divide(it, un, out=np.zeros_like(it), where=un > 0)
    keep = s >= thr - EPS
    return i[keep], j[keep], s[keep]


def _joined(a: list, b: list, c: list):
    def cat(x, dtype):
        return np.concatenate(x) if x else np.zeros(0, dtype)

    return cat(a, np.int64), cat(b, np.int64), cat(c, np.float64)


def bulk_clusters(who: np.ndarray, ii: np.ndarray, jj: np.ndarray, ss: np.ndarray, thr: float):
    """Clusters of many rows (sorted by asset) from their similar pairs (:func:`box_pairs`).

    Returns ``(label, similarity)``: each row's cluster, numbered in the order of the clusters'
    first rows, and each cluster's lowest similarity between two members (1.0 for one shape).
    """
    n = len(who)
    if not n:
        return np.zeros(0, np.int64), np.zeros(0)
    _, comp = connected_components(coo_matrix((np.ones(len(ii)), (ii, jj)), shape=(n, n)), directed=False)
    size = np.bincount(comp)
    owners = np.unique(comp * (int(who.max()) + 1) + who)
    distinct = np.bincount(owners // (int(who.max()) + 1), minlength=len(size))
    edges = np.bincount(comp[ii], minlength=len(size))
    clean = (distinct == size) & (edges == size * (size - 1) // 2)
    label = comp.copy()
    if not clean.all():
        next_label = len(size)
        messy = ~clean[comp]
        rows = np.flatnonzero(messy)
        order = np.argsort(comp[rows], kind="stable")
        rows = rows[order]
        e_at = np.flatnonzero(messy[ii])
        e_at = e_at[np.argsort(comp[ii[e_at]], kind="stable")]
        r_cut = np.flatnonzero(np.diff(comp[rows])) + 1
        e_comp = comp[ii[e_at]]
        for part in np.split(rows, r_cut):
            c = comp[part[0]]
            lo, hi = np.searchsorted(e_comp, [c, c + 1]) if len(e_comp) else (0, 0)
            sel = e_at[lo:hi]
            local = {r: k for k, r in enumerate(part.tolist())}
            li = np.array([local[r] for r in ii[sel].tolist()], np.int64)
            lj = np.array([local[r] for r in jj[sel].tolist()], np.int64)
            for members in greedy(len(part), who[part].tolist(), li, lj, ss[sel], thr):
                label[part[members]] = next_label
                next_label += 1
    # number the clusters by their first row
    uniq, first = np.unique(label, return_index=True)
    rank = np.empty(int(uniq.max()) + 1, np.int64)
    rank[uniq[np.argsort(first)]] = np.arange(len(uniq))
    label = rank[label]
    sim = np.ones(len(uniq))
    inside = label[ii] == label[jj]
    np.minimum.at(sim, label[ii[inside]], ss[inside])
    return label, sim


# -- a family of every asset, merged ---------------------------------------------------------------


class Bulk:
    """The clusters of one family for every asset, with the merged geometry of those that reach
    their asset's quorum (``states[a].needed`` shapes); :meth:`emit` hands one asset's clusters,
    in order, to its ``cluster(family, who, index, members, similarity, merge)``."""

    def __init__(self, family: str, asset, who, index, shapes, label, sim, states: list):
        self.family = family
        self.who, self.index, self.shapes = who, index, shapes
        order = np.argsort(label, kind="stable")
        self.order = order.tolist()
        n_clusters = len(sim)
        starts = np.searchsorted(label[order], np.arange(n_clusters))
        self.starts = starts
        self.ends = np.append(starts[1:], len(order)).tolist()
        self.sim = sim.tolist()
        first = order[starts] if len(order) else np.zeros(0, np.int64)
        self.cluster_asset = asset[first] if len(first) else np.zeros(0, np.int64)
        self.asset_cut = np.searchsorted(self.cluster_asset, np.arange(len(states) + 1)).tolist()
        needed = np.array([s.needed for s in states], np.int64)
        counts = np.diff(np.append(starts, len(order)))
        self.kept = counts >= needed[self.cluster_asset] if len(first) else np.zeros(0, bool)
        self.geometry: dict[int, tuple[dict | None, int]] = {}

    def emit(self, a: int, asset) -> None:
        who, index, shapes, order, geometry = self.who, self.index, self.shapes, self.order, self.geometry
        for c in range(self.asset_cut[a], self.asset_cut[a + 1]):
            rows = order[self.starts[c] : self.ends[c]]
            got = geometry.get(c)
            asset.cluster(
                self.family,
                [who[r] for r in rows],
                [index[r] for r in rows],
                [shapes[r] for r in rows],
                self.sim[c],
                lambda kind, got=got: got,
            )


def bulk_boxes(states, asset, who, index, shapes, iou) -> Bulk:
    """The boxes of every asset (rows sorted by asset, then annotator): clusters and mean boxes."""
    asset_a = np.asarray(asset, np.int64)
    who_a = np.asarray(who, np.int64)
    xywh = np.array([(g["x"], g["y"], g["w"], g["h"]) for g in (s.geometry for s in shapes)], np.float64).reshape(-1, 4)
    ii, jj, ss = box_pairs(asset_a, who_a, xywh, iou)
    label, sim = bulk_clusters(who_a, ii, jj, ss, iou)
    bulk = Bulk("box", asset_a, who, index, shapes, label, sim, states)
    if len(sim):
        kept = np.flatnonzero(bulk.kept)
        order = np.asarray(bulk.order, np.int64)
        rows = np.concatenate([order[bulk.starts[c] : bulk.ends[c]] for c in kept]) if len(kept) else order[:0]
        counts = np.array([bulk.ends[c] - bulk.starts[c] for c in kept], np.int64)
        means = box_means(xywh[rows], np.cumsum(counts) - counts) if len(kept) else []
        bulk.geometry = {c: (g, 1) for c, g in zip(kept.tolist(), means)}
    return bulk


def bulk_polygons(states, asset, who, index, shapes, iou) -> Bulk:
    """The polygons of every asset (none of whose region family holds a mask): clusters and votes."""
    asset_a = np.asarray(asset, np.int64)
    who_a = np.asarray(who, np.int64)
    geoms, simple = area_geoms(shapes)
    ii, jj, ss = polygon_pairs(asset_a, who_a, geoms, iou)
    label, sim = bulk_clusters(who_a, ii, jj, ss, iou)
    bulk = Bulk("region", asset_a, who, index, shapes, label, sim, states)
    kept = np.flatnonzero(bulk.kept).tolist()
    if kept:
        clusters = [bulk.order[bulk.starts[c] : bulk.ends[c]] for c in kept]
        sizes = [states[a].size for a in bulk.cluster_asset[kept].tolist()]
        votes = polygon_votes(clusters, shapes, geoms, simple, sizes)
        bulk.geometry = dict(zip(kept, votes))
    return bulk
