"""A dataset whose plain polygons are held as columns: :class:`RingSink` collects them while a
reader runs, :class:`ShapeColumns` is the dataset afterwards.

A big COCO file has hundreds of thousands of one-ring polygons with nothing else to them (no
attributes, group, z-order, source). Converting such a file to a format that needs only their
boxes (YOLO detect) does not need a :class:`~limner.core.shapes.Shape` per polygon: their vertices
stay in one float array with ring offsets, their labels and items in integer arrays, and checks
and writers work on the arrays. Every other shape is a real ``Shape``, kept by its place.

The shapes are in the dataset's own order: item by item, and within an item in the order the
reader met them, the polygons and the other shapes interleaved as they came. ``shape(s)`` makes
the ``Shape`` of any position on demand (the same object a reader of shapes would have made),
so code written for shapes handles the few that need it (clipped, invalid, reported), and
``to_dataset()`` gives the whole dataset as shapes.
"""

from __future__ import annotations

from itertools import chain

import numpy as np

from limner.core.dataset import Dataset, Item
from limner.core.points import Points, ring_bounds, ring_offsets, ring_take, star_simple
from limner.core.shapes import SHAPE_KINDS, Shape

__all__ = ["RingSink", "ShapeColumns", "ring_measures"]

_POLYGON = SHAPE_KINDS.index("polygon")


def ring_measures(coords: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(proven simple, x0 y0 x1 y1) of rings given as N x 2 ``coords`` and vertex counts ``lens``:
    :func:`~limner.core.points.star_simple` and :func:`~limner.core.points.ring_bounds`, which the
    checks and writers of columns need, made a piece at a time where the rings are read."""
    offsets = ring_offsets(lens)
    return star_simple(coords, offsets), ring_bounds(coords, offsets)


class RingSink:
    """Plain one-ring polygons met by a reader: ``add(flat coordinates, label)`` returns the
    ring's number, which the reader puts in the item's shape list in the polygon's place. The
    coordinates are made float arrays a few million at a time (``flush``), so the parsed numbers
    are freed as the reader goes, with each ring's measures (:func:`ring_measures`)."""

    __slots__ = ("flat", "chunks", "lens", "labels", "codes", "flushed", "proven", "bounds", "progress")
    CHUNK = 1 << 21

    def __init__(self):
        self.flat: list[float] = []
        self.chunks: list[np.ndarray] = []
        self.lens: list[int] = []  # flat coordinates per ring
        self.labels: list[int] = []
        self.codes: dict[str, int] = {}
        self.flushed = 0  # rings whose coordinates are in chunks
        self.proven: list[np.ndarray] = []
        self.bounds: list[np.ndarray] = []
        self.progress = None  # progress(fraction) of the reader's work, when someone listens

    def add(self, ring: list, label: str) -> int:
        n = len(self.lens)
        flat = self.flat
        flat += ring
        self.lens.append(len(ring))
        if len(flat) >= self.CHUNK:
            self.flush()
        code = self.codes.get(label)
        if code is None:
            code = self.codes[label] = len(self.codes)
        self.labels.append(code)
        return n

    def flush(self) -> None:
        """Make the coordinates added one by one so far an array (a reader calls it between pieces)."""
        if self.flat:
            coords = np.array(self.flat, np.float64).reshape(-1, 2)
            self.flat.clear()
            self._chunk(coords, np.array(self.lens[self.flushed :], np.int64) >> 1)

    def _chunk(self, coords: np.ndarray, vertices: np.ndarray, measures=None) -> None:
        proven, bounds = measures if measures is not None else ring_measures(coords, vertices)
        self.chunks.append(coords)
        self.proven.append(proven)
        self.bounds.append(bounds)
        self.flushed += len(vertices)

    def add_piece(self, flat: np.ndarray, lens: np.ndarray, keep: np.ndarray, labels: list[str], measures=None) -> int:
        """Add the rings ``keep`` marks of a piece read elsewhere: all their coordinates ``flat``,
        each ring's count ``lens``, the kept rings' ``labels``, and the measures of all rings
        when they were made there. Returns the first kept ring's number (the others follow)."""
        n = len(self.lens)
        coords = flat.reshape(-1, 2)
        vertices = lens >> 1
        if not keep.all():
            coords, _ = ring_take(coords, ring_offsets(vertices), np.flatnonzero(keep))
            vertices, lens = vertices[keep], lens[keep]
            if measures is not None:
                measures = (measures[0][keep], measures[1][keep])
        self.flush()  # the rings added one by one before these come first
        self.lens += lens.tolist()
        self._chunk(coords, vertices, measures)
        codes, labels_out = self.codes, self.labels
        for label in labels:
            code = codes.get(label)
            if code is None:
                code = codes[label] = len(codes)
            labels_out.append(code)
        return n

    def take(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(all coordinates as N x 2, each ring's proven flag, each ring's bounds); the sink is emptied."""
        self.flush()
        parts = (self.chunks, self.proven, self.bounds)
        out = tuple(
            (p[0] if len(p) == 1 else np.concatenate(p)) if p else empty
            for p, empty in zip(parts, (np.zeros((0, 2)), np.zeros(0, bool), np.zeros((0, 4))))
        )
        self.chunks, self.proven, self.bounds = [], [], []
        return out


class ShapeColumns:
    """A dataset (items, schema, info) whose shapes are columns; see the module's doc.

    Per shape ``s`` in dataset order: ``item[s]`` its item's position, ``index[s]`` its place in
    the item, ``ring[s]`` its ring (rows ``offsets[r]:offsets[r + 1]`` of ``coords``) or -1 for a
    shape held as an object, ``label[s]`` its label's position in ``labels``. ``removed[s]``
    marks shapes taken out since (a check that dropped it); ``objects`` holds the shapes made or
    changed since, by position."""

    def __init__(self, dataset: Dataset, sink: RingSink):
        self.dataset = dataset
        items = dataset.items
        slots = [it.shapes for it in items]
        counts = np.fromiter(map(len, slots), np.int64, count=len(items))
        flat = list(chain.from_iterable(slots))
        for it in items:
            it.shapes = []
        n = self.n = len(flat)
        self.counts = counts
        self.item = np.repeat(np.arange(len(items), dtype=np.int64), counts)
        starts = np.cumsum(counts) - counts
        self.index = np.arange(n, dtype=np.int64) - np.repeat(starts, counts)
        ring = np.fromiter((x if type(x) is int else -1 for x in flat), np.int64, count=n)
        self.objects: dict[int, Shape] = {s: x for s, x in enumerate(flat) if type(x) is not int}
        # labels: the sink's codes, then the objects' labels
        names = list(sink.codes)
        codes = dict(sink.codes)
        for sh in self.objects.values():
            if sh.label not in codes:
                codes[sh.label] = len(names)
                names.append(sh.label)
        self.labels = names
        ring_label = np.array(sink.labels, np.int64)
        label = np.full(n, -1, np.int64)
        has = ring >= 0
        label[has] = ring_label[ring[has]]
        for s, sh in self.objects.items():
            label[s] = codes[sh.label]
        self.label = label
        # the rings in dataset order, so that each polygon's vertices follow the one before
        lens = np.array(sink.lens, np.int64) >> 1
        coords, proven, bounds = sink.take()
        order = ring[has]
        offsets = ring_offsets(lens)
        if len(order) and (order[1:] < order[:-1]).any():
            coords, offsets = ring_take(coords, offsets, order)
            proven, bounds = proven[order], bounds[order]
        ring[has] = np.arange(len(order))
        self.ring = ring
        self.coords = coords
        self.offsets = offsets
        self.proven = proven  # star_simple of each ring
        self.removed = np.zeros(n, bool)
        self._bounds = bounds

    # -- what a dataset answers ------------------------------------------------------------------

    @property
    def items(self) -> list[Item]:
        return self.dataset.items

    @property
    def schema(self):
        return self.dataset.schema

    @property
    def info(self) -> dict:
        return self.dataset.info

    def label_names(self) -> list[str]:
        """As ``Dataset.label_names``: the schema's labels, then those only shapes use."""
        names = [lb.name for lb in self.dataset.schema]
        seen = set(names)
        # then the labels shapes use, in the order the shapes come
        label = self.label[~self.removed]
        order = np.argsort(label, kind="stable")  # each label's shapes together, in their order
        ordered = label[order]
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1]))) if len(label) else np.zeros(0, np.int64)
        for code in ordered[starts][np.argsort(order[starts])].tolist():  # by where each first comes
            name = self.labels[code]
            if name not in seen:
                seen.add(name)
                names.append(name)
        return names

    @property
    def shape_count(self) -> int:
        return int(self.n - self.removed.sum())

    # -- shapes on demand ------------------------------------------------------------------------

    def ring_bounds(self) -> np.ndarray:
        """x0, y0, x1, y1 of each ring, by ring number."""
        return self._bounds

    def kind_codes(self) -> np.ndarray:
        """Each shape's kind as its position in ``SHAPE_KINDS`` (-1 for an unknown kind)."""
        kinds = np.full(self.n, _POLYGON, np.int16)
        for s, sh in self.objects.items():
            kinds[s] = SHAPE_KINDS.index(sh.kind) if sh.kind in SHAPE_KINDS else -1
        return kinds

    def shape(self, s: int) -> Shape:
        """The shape at position ``s``: a held object, or the polygon of its ring made now (and
        kept, so a change to it stays)."""
        sh = self.objects.get(s)
        if sh is None:
            r = int(self.ring[s])
            a, b = int(self.offsets[r]), int(self.offsets[r + 1])
            box = self.ring_bounds()[r].tolist()
            pts = Points(self.coords[a:b], box, (self.coords, a, b))
            sh = Shape("polygon", self.labels[self.label[s]], {"points": pts, "holes": []}, {}, 0, None, None, "manual", None)
            self.objects[s] = sh
        return sh

    def is_plain(self) -> np.ndarray:
        """Shapes still as their ring alone: not made an object (changed or met otherwise), not removed."""
        plain = (self.ring >= 0) & ~self.removed
        if self.objects:
            plain[np.fromiter(self.objects, np.int64, count=len(self.objects))] = False
        return plain

    def remove(self, positions) -> None:
        self.removed[np.asarray(list(positions), np.int64)] = True

    def to_dataset(self) -> Dataset:
        """The dataset with every remaining shape made a ``Shape`` in its item."""
        ds = self.dataset
        keep = np.flatnonzero(~self.removed).tolist()
        item = self.item
        for s in keep:
            ds.items[item[s]].shapes.append(self.shape(s))
        return ds
