"""Automatic checks of a dataset: its geometry before an export, and the quality rules of
`limner check` and ``GET /projects/{id}/checks``.

Each finding names the item, the shape index (None when the rule is about the whole item) and the
rule, and carries the asset id when the caller gives one (``asset_ids``: item name -> id, or ids
in the order of the items), so the UI can open the workspace on it.

==========================  ===================================================================
rule                        finding
==========================  ===================================================================
outside_image               a shape reaches outside its image (masks: see mask_size)
degenerate                  no area, or too few distinct points for its kind
invalid_polygon             a self-intersecting polygon or badly nested holes
mask_size                   a mask whose size differs from its image's
unlabelled                  an item without any shape
small_area                  an area shape smaller than ``min_area`` square pixels (but not 0)
duplicate                   a shape of the same kind and label as an earlier one of its item,
                            IoU above ``duplicate_iou`` (0.95)
missing_attribute           a required attribute of the label has no value
unknown_label               a label that is not in the schema (when there is a schema)
keypoint_outside_box        keypoints outside the box of their instance (the box with the same
                            group id in the item)
count_outlier               an item whose shape count is an outlier for the dataset: robust
                            z-score ``0.6745 (n - median) / MAD`` beyond ``outlier_z`` (3.5)
==========================  ===================================================================

:func:`check_dataset` runs the geometry rules by default (what an export needs) and can clip
shapes to their image; :func:`run_checks` runs any rules and returns a :class:`CheckReport`
with the counts, the first findings and the class balance (shapes per label, and the ratio of the
most to the least frequent label).

Rules are registered with :func:`rule`, the built-in ones too: a rule is a function of a
:class:`Table` (the dataset as columns) and the :class:`CheckOptions`, returning :class:`Hits`.

Speed: one pass over the shapes builds the columns; rules then work on numpy arrays. Boxes are
checked as one array (bounds, areas, duplicates by a sorted sweep and ``box_iou_matrix``-style
closed forms); hole-free polygons are built into shapely geometries in one vectorised call and
checked with ``shapely.is_valid`` / ``shapely.area`` / ``shapely.bounds`` on the whole array. Only
the invalid or empty polygons and the rarer kinds are looked at one by one.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain

import numpy as np

from limner.core.columns import ShapeColumns
from limner.core.dataset import Dataset, Item
from limner.core.shapes import SHAPE_KINDS, Shape

__all__ = [
    "GEOMETRY_RULES",
    "RULES",
    "CheckOptions",
    "CheckReport",
    "Finding",
    "Hits",
    "Table",
    "check_dataset",
    "class_balance",
    "robust_z",
    "rule",
    "run_checks",
]

RULES: dict[str, str] = {}
"""Every registered rule: name -> what a finding of it means (in the order they are listed)."""

GEOMETRY_RULES = ("outside_image", "degenerate", "invalid_polygon", "mask_size")
"""The rules an export runs (the default of :func:`check_dataset`)."""

_CHECKS: dict[str, Callable[[Table, CheckOptions], Hits]] = {}
_KIND = {k: i for i, k in enumerate(SHAPE_KINDS)}
_BOX, _ROT, _POLY, _LINE, _PTS, _SKEL, _ELL, _MASK, _TAG = (
    _KIND[k] for k in ("box", "rotated_box", "polygon", "polyline", "points", "skeleton", "ellipse", "mask", "tag")
)
_AREA = np.array([k in ("box", "rotated_box", "polygon", "ellipse", "mask") for k in SHAPE_KINDS])
_EPS = 1e-9


@dataclass(slots=True)
class Finding:
    item: str
    shape: int | None
    rule: str
    message: str
    asset_id: int | None = None

    def to_dict(self) -> dict:
        return {"item": self.item, "shape": self.shape, "rule": self.rule, "message": self.message, "asset_id": self.asset_id}


@dataclass(slots=True)
class CheckOptions:
    min_area: float = 16.0
    duplicate_iou: float = 0.95
    outlier_z: float = 3.5


@dataclass(slots=True)
class Hits:
    """What one rule found: item positions, shape indices (-1: the item as a whole) and a function
    giving the message of the k-th hit (called only for the findings listed)."""

    items: np.ndarray
    shapes: np.ndarray
    message: Callable[[int], str]

    @classmethod
    def of(cls, rows: Iterable[tuple[int, int | None, str]]) -> Hits:
        """From ``(item position, shape index or None, message)`` rows."""
        rows = list(rows)
        msgs = [r[2] for r in rows]
        return cls(
            np.array([r[0] for r in rows], np.int64),
            np.array([-1 if r[1] is None else r[1] for r in rows], np.int64),
            msgs.__getitem__,
        )

    @classmethod
    def none(cls) -> Hits:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), str)

    def __len__(self) -> int:
        return len(self.items)


# -- the dataset as columns -------------------------------------------------------------------------


class Table:
    """The dataset's shapes as columns: for shape ``s`` (0..n-1 over all items in order),
    ``item[s]`` its item position, ``index[s]`` its index in the item, ``kind[s]`` its kind
    (index in ``SHAPE_KINDS``), ``label[s]`` its label (index in ``label_names``). Box arrays,
    polygon geometries and bounds are made on first use."""

    def __init__(self, dataset: Dataset):
        self.dataset = dataset
        self.items: list[Item] = dataset.items
        self.n_items = len(self.items)
        counts = np.fromiter((len(it.shapes) for it in self.items), np.int64, count=self.n_items)
        self.counts = counts
        self.shapes: list[Shape] = list(chain.from_iterable(it.shapes for it in self.items))
        n = self.n = len(self.shapes)
        self.item = np.repeat(np.arange(self.n_items, dtype=np.int64), counts)
        starts = np.cumsum(counts) - counts
        self.index = np.arange(n, dtype=np.int64) - np.repeat(starts, counts)
        kind = _KIND
        self.kind = np.fromiter((kind.get(s.kind, -1) for s in self.shapes), np.int16, count=n)
        codes: dict[str, int] = {}
        setdefault = codes.setdefault
        self.label = np.fromiter((setdefault(s.label, len(codes)) for s in self.shapes), np.int64, count=n)
        self.label_names = list(codes)
        self.width, self.height = _sizes(self.items)
        self.columns = None
        self._boxes = None
        self._polys = None
        self._bounds = None
        self._areas = None
        self._problems = None

    @classmethod
    def of_columns(cls, cols: ShapeColumns) -> Table:
        """The table of a :class:`~limner.core.columns.ShapeColumns` (before any shape of it is
        removed): its arrays as they are, its polygons' vertices without a shape per polygon, and
        ``shapes[s]`` made on demand for the shapes a rule looks at one by one."""
        t = cls.__new__(cls)
        t.dataset = cols.dataset
        t.items = cols.items
        t.n_items = len(t.items)
        t.counts = cols.counts
        t.shapes = _ColumnShapes(cols)
        t.n = cols.n
        t.item, t.index, t.label, t.label_names = cols.item, cols.index, cols.label, cols.labels
        t.kind = cols.kind_codes()
        t.width, t.height = _sizes(t.items)
        t.columns = cols
        t._boxes = t._polys = t._bounds = t._areas = t._problems = None
        return t

    def remove(self, positions: Iterable[int]) -> None:
        """Take the shapes at flat ``positions`` out of their items (of the dataset or columns)."""
        if self.columns is not None:
            self.columns.remove(positions)
            return
        gone: dict[int, set[int]] = {}
        for s in positions:
            gone.setdefault(int(self.item[s]), set()).add(int(self.index[s]))
        for i, idx in gone.items():
            it = self.items[i]
            it.shapes = [sh for j, sh in enumerate(it.shapes) if j not in idx]

    def of_kind(self, code: int) -> np.ndarray:
        return np.flatnonzero(self.kind == code)

    def where(self, s: int) -> str:
        """``name shapes[i]`` of flat shape ``s``, as messages start."""
        return f"{self.items[self.item[s]].name} shapes[{self.index[s]}]"

    @property
    def boxes(self) -> tuple[np.ndarray, np.ndarray]:
        """(flat indices, N x 4 array of x, y, w, h) of the boxes."""
        if self._boxes is None:
            idx = self.of_kind(_BOX)
            shapes = self.shapes
            arr = np.fromiter(
                chain.from_iterable(
                    (g["x"], g["y"], g["w"], g["h"]) for g in (shapes[i].geometry for i in idx)
                ),
                np.float64,
                count=4 * len(idx),
            ).reshape(-1, 4)
            self._boxes = (idx, arr)
        return self._boxes

    @property
    def polygons(self) -> _Polygons:
        if self._polys is None:
            self._polys = _Polygons(self)
        return self._polys

    @property
    def bounds(self) -> np.ndarray:
        """n x 4 array x0, y0, x1, y1 of every shape's bounding box; NaN for tags, masks and shapes
        without one (``geometry.bbox`` for the rare kinds)."""
        if self._bounds is None:
            from limner.core.geometry import bbox

            b = np.full((self.n, 4), np.nan)
            idx, arr = self.boxes
            b[idx, :2] = arr[:, :2]
            b[idx, 2:] = arr[:, :2] + arr[:, 2:]
            p = self.polygons
            b[p.idx] = p.bounds
            rest = np.flatnonzero(~np.isin(self.kind, (_BOX, _POLY, _TAG, _MASK)))
            for s in rest:
                sh = self.shapes[s]
                try:
                    bb = bbox(sh.kind, sh.geometry)
                except (KeyError, ValueError, TypeError, IndexError):
                    bb = None
                if bb is not None:
                    b[s] = (bb[0], bb[1], bb[0] + bb[2], bb[1] + bb[3])
            self._bounds = b
        return self._bounds

    @property
    def areas(self) -> np.ndarray:
        """Area of every shape (0 for those without one; NaN for invalid polygons)."""
        if self._areas is None:
            from limner.core.geometry import area

            a = np.zeros(self.n)
            idx, arr = self.boxes
            a[idx] = arr[:, 2] * arr[:, 3]
            p = self.polygons
            a[p.idx] = np.where(p.valid, p.area, np.nan)
            for s in np.flatnonzero(np.isin(self.kind, (_ROT, _ELL, _MASK))):
                try:
                    a[s] = area(self.shapes[s].kind, self.shapes[s].geometry)
                except (KeyError, ValueError, TypeError):
                    a[s] = np.nan
            self._areas = a
        return self._areas


def _sizes(items: list[Item]) -> tuple[np.ndarray, np.ndarray]:
    """Each item's width and height as arrays (0 where unknown)."""
    n = len(items)
    return (np.fromiter((it.width or 0 for it in items), np.int64, count=n),
            np.fromiter((it.height or 0 for it in items), np.int64, count=n))  # fmt: skip


class _ColumnShapes(Sequence):
    """``Table.shapes`` of columns: the shape of a position, made when asked for."""

    __slots__ = ("cols",)

    def __init__(self, cols: ShapeColumns):
        self.cols = cols

    def __len__(self) -> int:
        return self.cols.n

    def __getitem__(self, s):
        return self.cols.shape(int(s))


class _Polygons:
    """The polygons as shapely geometries (built as given: not made valid), with validity, area and
    bounds as arrays. Polygons with fewer than 3 points get no geometry (valid False, area 0).

    Validity and bounds come first and cheaply: the bounds of hole-free polygons by ``reduceat``
    over all their vertices, and rings that :func:`~limner.core.points.star_simple` proves simple
    are valid without a geometry; shapely builds and tests the others. The geometries of the
    proven ones (``geoms``) and the areas (``area``) are made on first use; ``empty`` (no positive
    area) needs neither."""

    def __init__(self, t: Table):
        import shapely
        from shapely.geometry import Polygon

        from limner.core.points import ring_bounds, ring_coords, ring_offsets, ring_take, star_simple

        idx = t.of_kind(_POLY)
        self.idx = idx
        n = len(idx)
        geoms = np.empty(n, object)
        shapes = t.shapes
        # polygons held as rings of columns are simple and known without a shape each
        cols = t.columns
        known = cols.is_plain()[idx] if cols is not None else np.zeros(n, bool)
        simple, with_holes = [], []
        for k in np.flatnonzero(~known).tolist() if known.any() else range(n):
            g = shapes[idx[k]].geometry
            pts = g.get("points") or []
            if g.get("holes"):
                with_holes.append(k)
            elif len(pts) > 3 or (len(pts) == 3 and list(pts[0]) != list(pts[-1])):
                simple.append(k)
        self._coords = self._offsets = None
        coords = offsets = None
        if simple:
            gs = [shapes[idx[k]].geometry["points"] for k in simple]
            try:
                coords, offsets = ring_coords(gs)
            except ValueError:  # points that are not [x, y] pairs
                coords = np.concatenate([np.asarray(p, np.float64).reshape(len(p), -1)[:, :2] for p in gs])
                offsets = ring_offsets([len(p) for p in gs])
        self._simple = np.array(simple, np.int64)
        if known.any():
            kk = np.flatnonzero(known)
            rings = cols.ring[idx[kk]]
            if len(rings) == len(cols.offsets) - 1 and (rings == np.arange(len(rings))).all():
                kc, ko = cols.coords, cols.offsets
            else:
                kc, ko = ring_take(cols.coords, cols.offsets, rings)
            if simple:  # both: in the order of their positions
                pos = np.concatenate([kk, self._simple])
                lens = np.concatenate([np.diff(ko), np.diff(offsets)])
                both = np.concatenate([kc, coords])
                starts = np.concatenate([ko[:-1], offsets[:-1] + len(kc)])
                order = np.argsort(pos, kind="stable")
                coords, offsets = ring_take(both, np.append(starts, len(both)), order, lens=lens)
                self._simple = pos[order]
            else:
                coords, offsets, self._simple = kc, ko, kk
        proven = np.zeros(len(self._simple), bool)
        b = np.full((n, 4), np.nan)
        if len(self._simple):
            self._coords, self._offsets = coords, offsets
            own = cols is not None and coords is cols.coords and offsets is cols.offsets
            proven = cols.proven if own else star_simple(coords, offsets)
            b[self._simple] = cols.ring_bounds() if own else ring_bounds(coords, offsets)
            rest = np.flatnonzero(~proven)
            if len(rest):
                geoms[self._simple[rest]] = self._rings(rest)
        self._proven = proven
        for k in with_holes:
            g = shapes[idx[k]].geometry
            try:
                geoms[k] = Polygon(g["points"], g.get("holes") or [])
            except (ValueError, TypeError):
                geoms[k] = None
        built = np.ones(n, bool)
        built[self._simple[proven]] = False
        self._geoms = geoms
        self._built = built
        self.valid = np.zeros(n, bool)
        self.valid[built] = shapely.is_valid(geoms[built]).astype(bool)
        self.valid[self._simple[proven]] = True
        self.empty = np.zeros(n, bool)  # area <= 0
        self.empty[built] = np.nan_to_num(shapely.area(geoms[built])) <= 0
        self._area = None
        if with_holes:
            b[with_holes] = shapely.bounds(geoms[with_holes]).reshape(-1, 4)
        missing = np.flatnonzero(np.isnan(b[:, 0]))
        for k in missing:  # no geometry: the box around the points, when there are any
            pts = shapes[idx[k]].geometry.get("points") or []
            if pts:
                p = np.asarray([q[:2] for q in pts], np.float64)
                b[k] = (*p.min(axis=0), *p.max(axis=0))
        self.bounds = b

    def _rings(self, which: np.ndarray) -> np.ndarray:
        """Shapely polygons of the simple rings at positions ``which`` (in ``self._simple``)."""
        import shapely

        o = self._offsets
        lens = o[which + 1] - o[which]
        take = np.concatenate([np.arange(o[k], o[k + 1]) for k in which]) if len(which) < 64 else (
            np.repeat(o[which] - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum())))
        return shapely.polygons(shapely.linearrings(self._coords[take], indices=np.repeat(np.arange(len(which)), lens)))

    @property
    def geoms(self) -> np.ndarray:
        if not self._built.all():
            lazy = np.flatnonzero(self._proven)
            self._geoms[self._simple[lazy]] = self._rings(lazy)
            self._built[:] = True
        return self._geoms

    def geom(self, k: int):
        """The geometry of polygon ``k`` alone (None when it has none)."""
        if not self._built[k]:
            j = int(np.searchsorted(self._simple, k))
            return self._rings(np.array([j]))[0]
        return self._geoms[k]

    @property
    def area(self) -> np.ndarray:
        import shapely

        if self._area is None:
            self._area = np.nan_to_num(shapely.area(self.geoms))
        return self._area


# -- the registry and the rules ---------------------------------------------------------------------


def rule(name: str, description: str):
    """Register a check: ``@rule("name", "what a finding means")`` on ``fn(table, options) -> Hits``."""

    def deco(fn: Callable[[Table, CheckOptions], Hits]):
        RULES[name] = description
        _CHECKS[name] = fn
        return fn

    return deco


def _distinct(points) -> int:
    return len({(round(p[0], 6), round(p[1], 6)) for p in points})


_NEED = {_POLY: 3, _LINE: 2, _PTS: 1}


def _geometry_problems(t: Table) -> tuple[Hits, Hits]:
    """(degenerate, invalid_polygon): computed together, as one polygon's problem is one or the other."""
    if t._problems is not None:
        return t._problems
    from shapely.geometry import Polygon
    from shapely.validation import explain_validity

    from limner.core.geometry import area

    degenerate: list[tuple[int, str]] = []
    invalid: list[tuple[int, str]] = []
    p = t.polygons
    for k in np.flatnonzero(~p.valid | p.empty):
        s = p.idx[k]
        g = t.shapes[s].geometry
        pts = g.get("points") or []
        if _distinct(pts) < 3:
            degenerate.append((s, f"{t.where(s)}: polygon has fewer than 3 distinct points"))
            continue
        geom = p.geom(k)
        if geom is None:
            try:
                geom = Polygon(pts, g.get("holes") or [])
            except (ValueError, TypeError) as e:
                invalid.append((s, f"{t.where(s)}: the rings do not make a polygon ({e})"))
                continue
        if not p.valid[k]:
            invalid.append((s, f"{t.where(s)}: {explain_validity(geom)}"))
        else:
            degenerate.append((s, f"{t.where(s)}: polygon has zero area"))
    for code in (_LINE, _PTS):
        need = _NEED[code]
        for s in t.of_kind(code):
            if _distinct(t.shapes[s].geometry.get("points") or []) < need:
                kind = SHAPE_KINDS[code]
                degenerate.append((s, f"{t.where(s)}: {kind} has fewer than {need} distinct points"))
    idx, arr = t.boxes
    for s in idx[arr[:, 2] * arr[:, 3] <= 0]:
        degenerate.append((s, f"{t.where(s)}: box has zero area"))
    for s in np.flatnonzero(np.isin(t.kind, (_ROT, _ELL, _MASK))):
        sh = t.shapes[s]
        if area(sh.kind, sh.geometry) <= 0:
            degenerate.append((s, f"{t.where(s)}: {sh.kind} has zero area"))
    out = (_flat_hits(t, degenerate), _flat_hits(t, invalid))
    t._problems = out
    return out


def _flat_hits(t: Table, rows: list[tuple[int, str]]) -> Hits:
    """Hits from (flat shape index, message) rows."""
    s = np.array([r[0] for r in rows], np.int64)
    msgs = [r[1] for r in rows]
    return Hits(t.item[s], t.index[s], msgs.__getitem__)


def _flat(t: Table, s: np.ndarray, message: Callable[[int], str]) -> Hits:
    """Hits for flat shape indices ``s``; ``message(flat index)``."""
    s = np.asarray(s, np.int64)
    return Hits(t.item[s], t.index[s], lambda k: message(int(s[k])))


@rule("outside_image", "shape extends outside its image")
def _outside_image(t: Table, o: CheckOptions) -> Hits:
    s = _outside(t)
    items = t.items

    def msg(f: int) -> str:
        it = items[t.item[f]]
        return f"{t.where(f)}: {t.shapes[f].kind} reaches outside the {it.width}x{it.height} image"

    return _flat(t, s, msg)


def _outside(t: Table) -> np.ndarray:
    b = t.bounds
    w = t.width[t.item].astype(np.float64)
    h = t.height[t.item].astype(np.float64)
    sized = (w > 0) & (h > 0) & ~np.isnan(b[:, 0])
    with np.errstate(invalid="ignore"):
        out = sized & ((b[:, 0] < 0) | (b[:, 1] < 0) | (b[:, 2] > w) | (b[:, 3] > h))
    return np.flatnonzero(out)


@rule("degenerate", "shape has no area or too few distinct points for its kind")
def _degenerate(t: Table, o: CheckOptions) -> Hits:
    return _geometry_problems(t)[0]


@rule("invalid_polygon", "polygon is not valid (self-intersecting or badly nested holes)")
def _invalid_polygon(t: Table, o: CheckOptions) -> Hits:
    return _geometry_problems(t)[1]


@rule("mask_size", "mask size differs from its image")
def _mask_size(t: Table, o: CheckOptions) -> Hits:
    rows = []
    for s in t.of_kind(_MASK):
        it = t.items[t.item[s]]
        size = t.shapes[s].geometry["rle"]["size"]
        if it.height and it.width and list(size) != [it.height, it.width]:
            rows.append((s, f"{t.where(s)}: mask is {size[0]}x{size[1]}, the image {it.height}x{it.width}"))
    return _flat_hits(t, rows)


@rule("unlabelled", "image has no shapes")
def _unlabelled(t: Table, o: CheckOptions) -> Hits:
    items = np.flatnonzero(t.counts == 0)
    names = t.items
    return Hits(items, np.full(len(items), -1, np.int64), lambda k: f"{names[items[k]].name}: no shapes")


@rule("small_area", "area shape smaller than the minimum area (min_area square pixels)")
def _small_area(t: Table, o: CheckOptions) -> Hits:
    a = t.areas
    with np.errstate(invalid="ignore"):
        s = np.flatnonzero(_AREA[np.clip(t.kind, 0, None)] & (t.kind >= 0) & (a > 0) & (a < o.min_area))
    return _flat(t, s, lambda f: f"{t.where(f)}: {t.shapes[f].kind} of {a[f]:.3g} px², below {o.min_area:g}")


def _group_pairs(keys: np.ndarray, x0: np.ndarray, reach: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j) of rows with equal ``keys`` and ``x0[j] - x0[i] < reach[i]``, found by a sweep
    over the rows sorted by key then x0; indices into the given arrays."""
    order = np.lexsort((x0, keys))
    k, x, r = keys[order], x0[order], reach[order]
    n = len(order)
    out_i, out_j = [], []
    active = np.arange(n - 1)
    d = 1
    while active.size:
        j = active + d
        ok = j < n
        active, j = active[ok], j[ok]
        same = (k[j] == k[active]) & (x[j] - x[active] < r[active])
        active, j = active[same], j[same]
        out_i.append(order[active])
        out_j.append(order[j])
        d += 1
    if not out_i:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(out_i), np.concatenate(out_j)


@rule("duplicate", "shape of the same kind and label as an earlier one of its image, IoU above duplicate_iou")
def _duplicate(t: Table, o: CheckOptions) -> Hits:
    import shapely

    from limner.core.geometry import iou

    thr = o.duplicate_iou
    found_i, found_j, found_v = [], [], []
    # key: (item, label, kind) as one integer
    n_labels = max(len(t.label_names), 1)
    key = (t.item * n_labels + t.label) * len(SHAPE_KINDS) + np.clip(t.kind, 0, None)
    # boxes: IoU > t needs the intersection wider than t * w, so x0 of the other < x0 + (1 - t) * w
    idx, arr = t.boxes
    if len(idx):
        a, b = _group_pairs(key[idx], arr[:, 0], np.maximum((1.0 - thr) * arr[:, 2], _EPS))
        ax0, ay0, aw, ah = arr[a].T
        bx0, by0, bw, bh = arr[b].T
        iw = np.clip(np.minimum(ax0 + aw, bx0 + bw) - np.maximum(ax0, bx0), 0, None)
        ih = np.clip(np.minimum(ay0 + ah, by0 + bh) - np.maximum(ay0, by0), 0, None)
        inter = iw * ih
        union = aw * ah + bw * bh - inter
        v = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        hit = v > thr
        found_i.append(idx[a[hit]])
        found_j.append(idx[b[hit]])
        found_v.append(v[hit])
    # polygons: bounding boxes overlapping and areas within the ratio first, then shapely
    p = t.polygons
    ok = p.valid & (p.area > 0)
    pidx = np.flatnonzero(ok)
    if len(pidx):
        bb = p.bounds[pidx]
        a, b = _group_pairs(key[p.idx[pidx]], bb[:, 0], np.maximum(bb[:, 2] - bb[:, 0], _EPS))
        ar, br = p.area[pidx[a]], p.area[pidx[b]]
        keep = (np.minimum(ar, br) > thr * np.maximum(ar, br)) & (bb[b, 1] < bb[a, 3]) & (bb[a, 1] < bb[b, 3])
        a, b = a[keep], b[keep]
        if len(a):
            inter = shapely.area(shapely.intersection(p.geoms[pidx[a]], p.geoms[pidx[b]]))
            union = p.area[pidx[a]] + p.area[pidx[b]] - inter
            v = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
            hit = v > thr
            found_i.append(p.idx[pidx[a[hit]]])
            found_j.append(p.idx[pidx[b[hit]]])
            found_v.append(v[hit])
    # the rarer area kinds, pair by pair within their groups
    rest = np.flatnonzero(np.isin(t.kind, (_ROT, _ELL, _MASK)))
    if len(rest):
        groups: dict[int, list[int]] = {}
        for s in rest:
            groups.setdefault(int(key[s]), []).append(int(s))
        ri, rj, rv = [], [], []
        for members in groups.values():
            for x in range(len(members)):
                for y in range(x + 1, len(members)):
                    si, sj = t.shapes[members[x]], t.shapes[members[y]]
                    it = t.items[t.item[members[x]]]
                    try:
                        v = iou(si.kind, si.geometry, sj.kind, sj.geometry, height=it.height, width=it.width)
                    except (ValueError, KeyError):
                        continue
                    if v > thr:
                        ri.append(members[x])
                        rj.append(members[y])
                        rv.append(v)
        found_i.append(np.array(ri, np.int64))
        found_j.append(np.array(rj, np.int64))
        found_v.append(np.array(rv, np.float64))
    if not found_i:
        return Hits.none()
    fi, fj, fv = np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_v)
    # the later shape of a pair is the duplicate; each is reported once, against its first original
    first, later = np.minimum(fi, fj), np.maximum(fi, fj)
    order = np.lexsort((first, later))
    first, later, fv = first[order], later[order], fv[order]
    once = np.ones(len(later), bool)
    once[1:] = later[1:] != later[:-1]
    first, later, fv = first[once], later[once], fv[once]
    return Hits(
        t.item[later],
        t.index[later],
        lambda k: f"{t.where(later[k])}: duplicates shapes[{t.index[first[k]]}] ({t.shapes[later[k]].label}, IoU {fv[k]:.3f})",
    )


@rule("missing_attribute", "a required attribute of the shape's label has no value")
def _missing_attribute(t: Table, o: CheckOptions) -> Hits:
    schema = t.dataset.schema
    rows = []
    for code, name in enumerate(t.label_names):
        label = schema.get(name)
        if label is None:
            continue
        required = [a.name for a in label.attributes if a.required and a.default is None]
        if not required:
            continue
        for s in np.flatnonzero(t.label == code):
            attrs = t.shapes[s].attributes or {}
            missing = [a for a in required if attrs.get(a) is None]
            if missing:
                rows.append((s, f"{t.where(s)}: {name!r} needs {', '.join(repr(m) for m in missing)}"))
    rows.sort()
    return _flat_hits(t, rows)


@rule("unknown_label", "the shape's label is not in the schema")
def _unknown_label(t: Table, o: CheckOptions) -> Hits:
    schema = t.dataset.schema
    if len(schema) == 0:
        return Hits.none()
    unknown = [c for c, n in enumerate(t.label_names) if n not in schema]
    s = np.flatnonzero(np.isin(t.label, unknown))
    return _flat(t, s, lambda f: f"{t.where(f)}: label {t.shapes[f].label!r} is not in the schema")


@rule("keypoint_outside_box", "keypoints outside the box of their instance (the box with the same group id)")
def _keypoint_outside_box(t: Table, o: CheckOptions) -> Hits:
    kp = [s for s in np.flatnonzero(np.isin(t.kind, (_PTS, _SKEL))) if t.shapes[s].group_id is not None]
    if not kp:
        return Hits.none()
    items = {int(t.item[s]) for s in kp}
    bidx, arr = t.boxes
    boxes: dict[tuple[int, int], np.ndarray] = {}
    for k, s in enumerate(bidx):
        g = t.shapes[s].group_id
        it = int(t.item[s])
        if g is not None and it in items:
            boxes.setdefault((it, g), arr[k])
    rows = []
    for s in kp:
        sh = t.shapes[s]
        box = boxes.get((int(t.item[s]), sh.group_id))
        if box is None:
            continue
        p = np.asarray(sh.geometry.get("points") or [], np.float64)
        if not len(p):
            continue
        seen = p[:, 2] > 0 if sh.kind == "skeleton" else np.ones(len(p), bool)
        x, y, w, h = box
        out = seen & (
            (p[:, 0] < x - _EPS) | (p[:, 0] > x + w + _EPS) | (p[:, 1] < y - _EPS) | (p[:, 1] > y + h + _EPS)
        )
        if out.any():
            which = ", ".join(str(i) for i in np.flatnonzero(out)[:10])
            rows.append((s, f"{t.where(s)}: {int(out.sum())} of {int(seen.sum())} points outside the box of group "
                            f"{sh.group_id} (points {which})"))
    return _flat_hits(t, rows)


def robust_z(values: np.ndarray) -> np.ndarray:
    """Modified z-scores (Iglewicz and Hoaglin): ``0.6745 (x - median) / MAD``; when the MAD is 0,
    ``(x - median) / (1.253314 * mean absolute deviation)``; all 0 when that is 0 too."""
    x = np.asarray(values, np.float64)
    if x.size == 0:
        return x
    med = np.median(x)
    dev = np.abs(x - med)
    mad = np.median(dev)
    if mad > 0:
        return 0.6745 * (x - med) / mad
    mean_ad = dev.mean()
    if mean_ad > 0:
        return (x - med) / (1.253314 * mean_ad)
    return np.zeros_like(x)


@rule("count_outlier", "the image's shape count is an outlier for the dataset (robust z-score beyond outlier_z)")
def _count_outlier(t: Table, o: CheckOptions) -> Hits:
    if t.n_items < 3:
        return Hits.none()
    z = robust_z(t.counts)
    items = np.flatnonzero(np.abs(z) > o.outlier_z)
    med = float(np.median(t.counts))
    return Hits(
        items,
        np.full(len(items), -1, np.int64),
        lambda k: f"{t.items[items[k]].name}: {t.counts[items[k]]} shapes, the median is {med:g} (robust z {z[items[k]]:+.1f})",
    )


# -- running them ---------------------------------------------------------------------------------


def class_balance(t: Table | Dataset) -> dict:
    """Shapes per label (the schema's labels first, with 0 for unused ones), the most and least
    frequent used labels and the ratio of their counts (None with no shapes)."""
    t = t if isinstance(t, Table) else Table(t)
    n = np.bincount(t.label, minlength=len(t.label_names))
    counts = {name: int(n[c]) for c, name in enumerate(t.label_names)}
    labels = {lb.name: counts.get(lb.name, 0) for lb in t.dataset.schema}
    labels |= {k: v for k, v in counts.items() if k not in labels}
    used = {k: v for k, v in labels.items() if v > 0}
    if not used:
        return {"labels": labels, "most": None, "least": None, "ratio": None, "unused": sorted(labels)}
    most = max(used, key=lambda k: (used[k], k))
    least = min(used, key=lambda k: (used[k], k))
    return {
        "labels": labels,
        "most": most,
        "least": least,
        "ratio": used[most] / used[least],
        "unused": [k for k, v in labels.items() if v == 0],
    }


@dataclass
class CheckReport:
    items: int
    shapes: int
    rules: list[str]
    counts: dict[str, int]
    findings: list[Finding]
    balance: dict
    seconds: float
    options: CheckOptions = field(default_factory=CheckOptions)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_dict(self) -> dict:
        return {
            "items": self.items,
            "shapes": self.shapes,
            "rules": [{"name": r, "description": RULES[r], "count": self.counts.get(r, 0)} for r in self.rules],
            "counts": dict(self.counts),
            "total": self.total,
            "findings": [f.to_dict() for f in self.findings],
            "truncated": len(self.findings) < self.total,
            "balance": self.balance,
            "options": {"min_area": self.options.min_area, "duplicate_iou": self.options.duplicate_iou,
                        "outlier_z": self.options.outlier_z},
            "seconds": round(self.seconds, 3),
        }


def _check_rules(rules: Iterable[str] | None) -> list[str]:
    if rules is None:
        return list(RULES)
    rules = list(dict.fromkeys(rules))
    unknown = [r for r in rules if r not in RULES]
    if unknown:
        from limner.errors import ValidationError

        raise ValidationError(
            f"unknown rule{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; rules are {', '.join(RULES)}", field="rules"
        )
    return rules


def _asset_of(t: Table, asset_ids) -> Callable[[int], int | None]:
    if asset_ids is None:
        return lambda i: None
    if isinstance(asset_ids, Mapping):
        return lambda i: asset_ids.get(t.items[i].name)
    if len(asset_ids) != t.n_items:
        raise ValueError(f"asset_ids has {len(asset_ids)} ids for {t.n_items} items")
    return lambda i: asset_ids[i]


def _run(t: Table, rules: list[str], options: CheckOptions, progress) -> dict[str, Hits]:
    hits = {}
    for n, name in enumerate(rules):
        hits[name] = _CHECKS[name](t, options)
        if progress is not None:
            progress((n + 1) / len(rules), name)
    return hits


def _findings(t: Table, hits: dict[str, Hits], limit: int, asset_ids) -> list[Finding]:
    """The first ``limit`` findings in item order, then shape order (the item itself first), then
    rule order; messages are made only for those."""
    names = list(hits)
    if not names or limit <= 0:
        return []
    item = np.concatenate([hits[r].items for r in names])
    shape = np.concatenate([hits[r].shapes for r in names])
    rule_no = np.concatenate([np.full(len(hits[r]), k, np.int64) for k, r in enumerate(names)])
    k_in = np.concatenate([np.arange(len(hits[r])) for r in names])
    if item.size > limit:
        order = np.lexsort((rule_no, shape, item))[:limit]
    else:
        order = np.lexsort((rule_no, shape, item))
    asset_of = _asset_of(t, asset_ids)
    out = []
    for o in order:
        r = names[rule_no[o]]
        i, s = int(item[o]), int(shape[o])
        out.append(Finding(t.items[i].name, None if s < 0 else s, r, hits[r].message(int(k_in[o])), asset_of(i)))
    return out


def run_checks(
    dataset: Dataset,
    *,
    rules: Sequence[str] | None = None,
    limit: int = 1000,
    asset_ids: Mapping[str, int] | Sequence[int] | None = None,
    options: CheckOptions | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> CheckReport:
    """Run ``rules`` (default: every registered rule) and report counts per rule, the first
    ``limit`` findings and the class balance. ``progress(fraction, rule)`` is called after each rule."""
    t0 = time.perf_counter()
    rules = _check_rules(rules)
    options = options or CheckOptions()
    t = Table(dataset)
    hits = _run(t, rules, options, progress)
    return CheckReport(
        items=t.n_items,
        shapes=t.n,
        rules=rules,
        counts={r: len(h) for r, h in hits.items()},
        findings=_findings(t, hits, limit, asset_ids),
        balance=class_balance(t),
        seconds=time.perf_counter() - t0,
        options=options,
    )


def check_dataset(
    dataset: Dataset | ShapeColumns,
    *,
    clip: bool = False,
    limit: int = 10_000,
    rules: Sequence[str] = GEOMETRY_RULES,
    asset_ids: Mapping[str, int] | Sequence[int] | None = None,
    options: CheckOptions | None = None,
) -> tuple[list[Finding], Counter]:
    """Findings (at most `limit` listed, all counted) and the count per rule (rules with findings
    only). With `clip`, shapes reaching outside their image are cut to it (counted as
    ``clipped``) or, when nothing is left, removed (``dropped_outside``). ``dataset`` may be
    :class:`~limner.core.columns.ShapeColumns`: the same findings, from its arrays."""
    rules = _check_rules(rules)
    t = Table.of_columns(dataset) if isinstance(dataset, ShapeColumns) else Table(dataset)
    hits = _run(t, rules, options or CheckOptions(), None)
    counts: Counter = Counter({r: len(h) for r, h in hits.items() if len(h)})
    findings = _findings(t, hits, limit, asset_ids)
    if clip:
        _clip(t, _outside(t), counts)
    return findings, counts


def _clip(t: Table, outside: np.ndarray, counts: Counter) -> None:
    from limner.core.geometry import clip as clip_shape

    gone: list[int] = []
    for s in outside:
        sh = t.shapes[s]
        it = t.items[t.item[s]]
        c = clip_shape(sh.kind, sh.geometry, it.width, it.height)
        if c is None:
            counts["dropped_outside"] += 1
            gone.append(int(s))
        else:
            sh.geometry = c
            counts["clipped"] += 1
    if gone:
        t.remove(gone)
