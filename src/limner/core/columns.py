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
from limner.core.points import Points, ring_bounds, ring_take
from limner.core.shapes import SHAPE_KINDS, Shape

__all__ = ["RingSink", "ShapeColumns"]

_POLYGON = SHAPE_KINDS.index("polygon")


class RingSink:
    """Plain one-ring polygons met by a reader: ``add(flat coordinates, label)`` returns the
    ring's number, which the reader puts in the item's shape list in the polygon's place. The
    coordinates are made float arrays a few million at a time, so the parsed numbers are freed as
    the reader goes."""

    __slots__ = ("flat", "chunks", "lens", "labels", "codes")
    CHUNK = 1 << 21

    def __init__(self):
        self.flat: list[float] = []
        self.chunks: list[np.ndarray] = []
        self.lens: list[int] = []
        self.labels: list[int] = []
        self.codes: dict[str, int] = {}

    def add(self, ring: list, label: str) -> int:
        n = len(self.lens)
        flat = self.flat
        flat += ring
        if len(flat) >= self.CHUNK:
            self.flush()
        self.lens.append(len(ring))
        code = self.codes.get(label)
        if code is None:
            code = self.codes[label] = len(self.codes)
        self.labels.append(code)
        return n

    def flush(self) -> None:
        """Make the coordinates added one by one so far an array (a reader calls it between pieces)."""
        if self.flat:
            self.chunks.append(np.array(self.flat, np.float64))
            self.flat.clear()

    def add_piece(self, flat: np.ndarray, lens: np.ndarray, keep: np.ndarray, labels: list[str]) -> int:
        """Add the rings ``keep`` marks of a piece read elsewhere: all their coordinates ``flat``,
        each ring's count ``lens``, the kept rings' ``labels``. Returns the first kept ring's
        number (the others follow it)."""
        n = len(self.lens)
        if not keep.all():
            offsets = np.zeros(len(lens) + 1, np.int64)
            np.cumsum(lens, out=offsets[1:])
            flat, _ = ring_take(flat, offsets, np.flatnonzero(keep))
            lens = lens[keep]
        self.flush()  # the rings added one by one before these come first
        self.chunks.append(flat)
        self.lens += lens.tolist()
        codes, labels_out = self.codes, self.labels
        for label in labels:
            code = codes.get(label)
            if code is None:
                code = codes[label] = len(codes)
            labels_out.append(code)
        return n

    def coords(self) -> np.ndarray:
        """All coordinates as an N x 2 array (the sink is emptied)."""
        parts = [*self.chunks, np.array(self.flat, np.float64)]
        self.chunks, self.flat = [], []
        return (parts[0] if len(parts) == 1 else np.concatenate(parts)).reshape(-1, 2)


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
        coords = sink.coords()
        order = ring[has]
        offsets = np.zeros(len(lens) + 1, np.int64)
        np.cumsum(lens, out=offsets[1:])
        if len(order) and (order[1:] < order[:-1]).any():
            coords, offsets = ring_take(coords, offsets, order)
        ring[has] = np.arange(len(order))
        self.ring = ring
        self.coords = coords
        self.offsets = offsets
        self.removed = np.zeros(n, bool)
        self._bounds: np.ndarray | None = None

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
        first, codes = np.unique(self.label[~self.removed], return_index=True)[::-1]
        for code in codes[np.argsort(first)].tolist():
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
        if self._bounds is None:
            self._bounds = ring_bounds(self.coords, self.offsets)
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
