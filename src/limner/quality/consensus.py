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
   than half of the members cover, computed exactly on the geometry (no raster): one member, or
   members that are the same polygon (of three, two the same), give that polygon; simple polygons
   go through :mod:`limner.quality.majority` (the members' boundaries cut at their crossings, the
   pieces that bound the majority area kept, in numpy, for every cluster at once); what it leaves
   (boundaries that touch or run along each other, several parts, holes) goes through shapely's
   overlay: with 2 or 3 members the union of the pairwise intersections, with more the faces of
   the members' overlay covered by a majority. The result is clipped to the image when its size
   is given; the largest part is kept (``parts`` counts them). It is the limit of a pixel
   majority vote at infinite resolution, with the members' own vertices instead of a staircase
   (the two ways agree to rounding; a vertex within rounding of a straight edge may be kept by
   one and dropped by the other).
   Masks, and any cluster holding a mask: pixel majority vote over the window the members cover,
   a mask again (or traced back into a polygon,
   :func:`~limner.core.geometry.mask_to_polygons`, the largest part, when the winning kind is a
   polygon). A mixed region cluster takes the kind most members with the winning label have.
   Polylines: the member most similar to the others (medoid).
5. **Ids.** Group ids are renumbered so that consensus shapes made from members that shared a
   group id (a person's box and its skeleton) share one again; track ids are dropped. The
   confidence of a consensus shape is the share of annotators in its cluster.

Many assets at once: :func:`consensus_many` gives, asset by asset, what :func:`consensus` gives
(``consensus`` is ``consensus_many`` on one asset). Boxes and polygons, the bulk of a project, are
done for all the assets together (:mod:`limner.quality.consensus_clusters` for the clusters,
:func:`~limner.quality.consensus_geometry.polygon_votes` for the polygon votes); the other
families asset by asset, and so are the polygons of an asset whose region family holds a mask
(their similarity and vote are on pixels). About 0.6 ms an asset of 3 annotators x 10 boxes and
16-gons on one core (``benchmarks/quality.py``); splitting the assets over two forked processes
was measured no faster on two cores: pickling the results back costs what the second core saves.

Pure: core objects in, core objects out; no I/O.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from limner.core.collector import no_gc
from limner.core.shapes import Shape
from limner.quality.consensus_clusters import EPS, Family, bulk_boxes, bulk_polygons, family_clusters, family_similarity
from limner.quality.consensus_geometry import finish_vote, majority_area, merge_geometry

__all__ = ["FAMILIES", "Cluster", "ConsensusReport", "consensus", "consensus_many", "votes_needed"]

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
_RANK = {name: k for k, name in enumerate(_FAMILY_ORDER)}


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
    return max(1, math.ceil(quorum * annotators - EPS))


# -- one cluster -----------------------------------------------------------------------------------


class _Asset:
    """One asset's annotators and what its clusters have made so far."""

    __slots__ = ("names", "k", "needed", "size", "report", "made")

    def __init__(self, names: list[str], quorum: float, iou: float, size):
        self.names = names
        self.k = len(names)
        self.needed = votes_needed(quorum, self.k)
        self.size = size
        self.report = ConsensusReport(annotators=names, quorum=quorum, iou=iou, needed=self.needed)
        self.made: list[tuple[tuple[int, int], Shape, Cluster, list[tuple[int, int]]]] = []

    def cluster(self, family: str, who: list[int], index: list[int], members: list[Shape], similarity: float, merge) -> None:
        """Vote on one cluster; ``merge(kind) -> (geometry or None, parts)`` makes its geometry."""
        names = self.names
        c = Cluster(family, [(names[w], i) for w, i in zip(who, index)], similarity)
        self.report.clusters.append(c)
        labels = [s.label for s in members]
        first = labels[0]
        if labels.count(first) == len(labels):
            c.votes = {first: len(labels)}
            label = c.label = first
        else:
            c.votes = dict(Counter(labels))
            label, tied = _vote(labels, who)
            c.label = label
            c.tie = sorted(tied)
        if len(members) < self.needed:
            c.status = "below_quorum"
            return
        if label == first and not c.tie and len(c.votes) == 1:
            winners, order = members, who
        else:
            pick = [k for k, s in enumerate(members) if s.label == label]
            winners, order = [members[k] for k in pick], [who[k] for k in pick]
        kinds = [s.kind for s in winners]
        kind = kinds[0] if kinds.count(kinds[0]) == len(kinds) else _vote(kinds, order)[0]
        geom, parts = merge(kind)
        c.parts = parts
        if geom is None:
            c.status = "empty"
            return
        zs = [s.z_order for s in members]
        z = zs[0] if zs.count(zs[0]) == len(zs) else _vote(zs, who)[0]
        attributes = _attributes(winners, order) if any(s.attributes for s in winners) else {}
        shape = Shape(
            kind=kind,
            label=label,
            geometry=geom,
            attributes=attributes,
            z_order=int(z),
            source="consensus",
            confidence=len(members) / self.k,
        )
        key = min(zip(who, index))
        groups = [(w, s.group_id) for w, s in zip(who, members) if s.group_id is not None]
        self.made.append((key, shape, c, groups))

    def finish(self) -> tuple[list[Shape], ConsensusReport]:
        made = self.made
        made.sort(key=lambda m: m[0])
        out = []
        for n, (_, shape, c, _) in enumerate(made):
            c.shape = n
            out.append(shape)
        _renumber_groups(out, [m[3] for m in made])
        self.report.clusters.sort(key=lambda c: (c.shape is None, c.shape if c.shape is not None else 0, _RANK[c.family]))
        return out, self.report


def _family_clusters(asset: _Asset, fam: Family, iou: float, kpt_sigma: float) -> None:
    """One asset's family, clustered and merged on its own."""
    height, width = asset.size
    S = family_similarity(fam, iou, height, width, kpt_sigma)
    rows = S.tolist()
    has_mask = fam.name == "region" and any(s.kind == "mask" for s in fam.shapes)
    for idx in family_clusters(fam, S, iou):
        low = min((rows[x][y] for n, x in enumerate(idx) for y in idx[n + 1 :]), default=1.0)
        members = [fam.shapes[x] for x in idx]

        def merge(kind, idx=idx, members=members):
            if fam.name == "region" and not (has_mask and any(s.kind == "mask" for s in members)):
                cuts = {(p, q): fam.inter.get((idx[p], idx[q])) for p in range(len(idx)) for q in range(p + 1, len(idx))}
                return finish_vote(majority_area([fam.geoms[x] for x in idx], cuts), height, width)
            sub = S[np.ix_(idx, idx)] if fam.name == "polyline" else None
            return merge_geometry(fam.name, kind, members, sub, height, width)

        asset.cluster(fam.name, [fam.who[x] for x in idx], [fam.index[x] for x in idx], members, low, merge)


# -- the API ---------------------------------------------------------------------------------------


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
    size) clip the polygon vote to the image and are needed when a mask meets another shape
    without one giving the size. See the module docstring for each rule.
    """
    return consensus_many([annotations], sizes=[(height, width)], quorum=quorum, iou=iou, kpt_sigma=kpt_sigma)[0]


def consensus_many(
    assets: Sequence[Sequence[tuple[str, Sequence[Shape]]]],
    *,
    sizes: Sequence[tuple[int | None, int | None] | None] | None = None,
    quorum: float = 0.5,
    iou: float = 0.5,
    kpt_sigma: float = 0.05,
    progress: Callable[[int, int], None] | None = None,
) -> list[tuple[list[Shape], ConsensusReport]]:
    """:func:`consensus` of many assets: ``assets[i]`` is one asset's ``[(annotator, shapes)]``,
    ``sizes[i]`` its image size ``(height, width)`` (or None). Returns one ``(shapes, report)``
    per asset, the same as one :func:`consensus` call each, with the boxes and polygons of all
    the assets done together. ``progress(done, total)`` is called as assets are finished.
    """
    if not 0.0 < quorum <= 1.0:
        raise ValueError(f"quorum is a share of the annotators in (0, 1], got {quorum!r}")
    if not 0.0 < iou <= 1.0:
        raise ValueError(f"iou is a similarity threshold in (0, 1], got {iou!r}")
    # The work allocates many small lists and dicts, none of them in a cycle: with the cyclic
    # garbage collector on, their numbers set off full collections that walk the caller's whole
    # heap (the project's shapes) again and again, which costs more than the work itself.
    if sizes is not None and len(sizes) != len(assets):
        raise ValueError(f"sizes must give one (height, width) per asset: {len(sizes)} sizes for {len(assets)} assets")
    with no_gc():
        return _consensus_many(assets, sizes, quorum, iou, kpt_sigma, progress)


def _consensus_many(assets, sizes, quorum: float, iou: float, kpt_sigma: float, progress) -> list:
    n_assets = len(assets)
    if sizes is None:
        sizes = [None] * n_assets
    states: list[_Asset] = []
    rare: list[dict[str, Family]] = []
    box_asset, box_who, box_index, box_shapes = [], [], [], []
    poly_asset, poly_who, poly_index, poly_shapes = [], [], [], []
    families = FAMILIES
    for a, asset_annotations in enumerate(assets):
        names = [str(n) for n, _ in asset_annotations]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            where = f"assets[{a}]: " if n_assets > 1 else ""
            raise ValueError(f"{where}each annotator may appear once; repeated: {', '.join(dup)}")
        size = sizes[a] if sizes[a] is not None else (None, None)
        states.append(_Asset(names, quorum, iou, size))
        fams: dict[str, Family] = {}
        region: list[tuple[int, int, Shape]] = []
        has_mask = False
        for who, (_, shapes) in enumerate(asset_annotations):
            for i, s in enumerate(shapes):
                kind = s.kind
                if kind == "box":
                    box_asset.append(a)
                    box_who.append(who)
                    box_index.append(i)
                    box_shapes.append(s)
                elif kind == "polygon" or kind == "mask":
                    region.append((who, i, s))
                    has_mask = has_mask or kind == "mask"
                else:
                    name = families.get(kind)
                    if name is None:
                        where = f"assets[{a}] " if n_assets > 1 else ""
                        raise ValueError(f"{where}{names[who]} shapes[{i}]: unknown kind {kind!r}")
                    fam = fams.get(name)
                    if fam is None:
                        fam = fams[name] = Family(name)
                    fam.add(who, i, s)
        if has_mask:
            fam = fams["region"] = Family("region")
            for who, i, s in region:
                fam.add(who, i, s)
        else:
            for who, i, s in region:
                poly_asset.append(a)
                poly_who.append(who)
                poly_index.append(i)
                poly_shapes.append(s)
        rare.append(fams)

    bulk = {
        "box": bulk_boxes(states, box_asset, box_who, box_index, box_shapes, iou),
        "region": bulk_polygons(states, poly_asset, poly_who, poly_index, poly_shapes, iou),
    }
    out = []
    step = max(1, n_assets // 100)
    for a, asset in enumerate(states):
        fams = rare[a]
        for name in _FAMILY_ORDER:
            if name in bulk:
                bulk[name].emit(a, asset)
            if name in fams:
                _family_clusters(asset, fams[name], iou, kpt_sigma)
        out.append(asset.finish())
        if progress is not None and ((a + 1) % step == 0 or a + 1 == n_assets):
            progress(a + 1, n_assets)
    return out


# -- votes -----------------------------------------------------------------------------------------


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
