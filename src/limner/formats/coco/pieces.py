"""A big COCO annotations array read by two processes: a helper parses pieces of it and returns
their plain one-ring polygons as arrays (:func:`plain_piece`), while the reader parses the other
pieces itself (:meth:`~limner.formats.base.JsonPieces.pieces`). Used when the polygons are read
as columns (:mod:`limner.core.columns`), where a piece's polygons need no object each.

A plain annotation is exactly what :func:`~limner.formats.coco.reading._annotations_loop` reads
by its short path (the keys of ``PLAIN``, not a crowd, one ring of three points or more, finite
numbers), with integer image and category ids; every other annotation comes back as itself, in
its place, for the reader's general path (a crowd's uncompressed RLE compressed on the way, which
the reader would do)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from limner.core.columns import ring_measures
from limner.formats.base import json_parts

__all__ = ["PLAIN", "PieceColumns", "plain_piece"]

# the keys of a plain one-polygon annotation, as COCO's own ground truth has them
PLAIN = frozenset(("id", "image_id", "category_id", "segmentation", "area", "bbox", "iscrowd"))

@dataclass(slots=True)
class PieceColumns:
    """One piece of the array: ``n`` annotations, of which those at ``plain`` (positions in the
    piece) are plain polygons with their ``image_ids``, ``category_ids``, flat coordinate counts
    ``lens``, all coordinates ``coords`` and the rings' ``measures`` (proven simple, bounds);
    ``rest`` is the JSON array of the others, in order."""

    n: int
    plain: np.ndarray
    image_ids: np.ndarray
    category_ids: np.ndarray
    lens: np.ndarray
    coords: np.ndarray
    rest: bytes
    measures: tuple[np.ndarray, np.ndarray]


def _compress_counts(seg: dict) -> None:
    """Uncompressed RLE counts (a crowd's list of runs) made the compressed string they stand
    for, when they are valid: the reader takes such a string by its short path to the same mask
    (invalid counts are left for the reader to name)."""
    from limner.core.rle import _runs_sign_and_total, compress

    size, counts = seg.get("size"), seg.get("counts")
    if not (type(counts) is list and type(size) is list and len(size) == 2):
        return
    h, w = size
    if type(h) is int and type(w) is int and h > 0 and w > 0 and set(map(type, counts)) <= {int}:
        negative, total = _runs_sign_and_total(counts)
        if not negative and total == h * w:
            seg["counts"] = compress(counts, h, w)


def plain_piece(piece) -> PieceColumns | None:
    """A piece of the array (its elements between brackets, as bytes or a view of them) as a
    :class:`PieceColumns`; None when it does not parse alone (a split inside a string)."""
    import orjson

    plain, iids, cids, lens, flat, rest, chunks = [], [], [], [], [], [], []
    isfinite = math.isfinite
    k = -1
    try:
        for anns in json_parts(piece):
            for a in anns:
                k += 1
                if type(a) is dict and a.keys() <= PLAIN and not a.get("iscrowd"):
                    seg, iid, cid = a.get("segmentation"), a.get("image_id"), a.get("category_id")
                    if type(seg) is list and len(seg) == 1 and type(iid) is int and type(cid) is int and -(1 << 63) <= iid < (1 << 63) and -(1 << 63) <= cid < (1 << 63):
                        ring = seg[0]
                        if type(ring) is list and len(ring) >= 6 and not len(ring) & 1:
                            try:
                                finite = isfinite(sum(ring))
                            except TypeError:
                                finite = False
                            if finite:
                                plain.append(k)
                                iids.append(iid)
                                cids.append(cid)
                                lens.append(len(ring))
                                flat += ring
                                continue
                if type(a) is dict and type(a.get("segmentation")) is dict:
                    _compress_counts(a["segmentation"])
                rest.append(a)
            del anns
            chunks.append(np.array(flat, np.float64))  # the part's numbers freed with it
            flat.clear()
    except orjson.JSONDecodeError:
        return None
    lens_a = np.array(lens, np.int64)
    coords = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
    return PieceColumns(
        k + 1, np.array(plain, np.int64), np.array(iids, np.int64), np.array(cids, np.int64),
        lens_a, coords, orjson.dumps(rest) if rest else b"", ring_measures(coords.reshape(-1, 2), lens_a >> 1),
    )  # fmt: skip
