"""One COCO annotation to shapes: its boxes, polygons (flat lists made Points in bulk by
``_Rings``), keypoints and RLE masks checked and converted, and the shapes' attributes, group id,
z-order, track id, source and confidence from the annotation's own keys and its ``limner`` dict."""

from __future__ import annotations

import math
from itertools import chain
from typing import Any

import numpy as np

from limner.core.dataset import Item
from limner.core.points import Points, ring_bounds, ring_offsets
from limner.core.rle import string_runs_ok
from limner.core.shapes import Shape
from limner.errors import ValidationError
from limner.formats.base import FormatError, Report

_isfinite = math.isfinite
_VIS = frozenset((0, 1, 2))
_chain = chain


# -- reading: shared by coco and coco_panoptic ----------------------------------------------------


def read_extras(a: dict, attrs: dict, src: str, key: str) -> tuple[int, Any, Any, str, Any, bool]:
    """z_order, group_id, track_id, source, confidence and bbox_derived of an annotation."""
    z, gid, tid, source, derived = 0, None, None, "manual", False
    lim = a.get("limner")
    if lim is not None:
        if type(lim) is not dict:
            raise FormatError(src, "limner must be an object", key=f"{key}.limner")
        z = lim.get("z_order", 0)
        gid, tid = lim.get("group_id"), lim.get("track_id")
        source = lim.get("source", "manual")
        derived = lim.get("bbox_derived") is True
        if type(z) is not int or not (gid is None or type(gid) is int) or not (tid is None or type(tid) is int):
            raise FormatError(src, "z_order, group_id and track_id must be integers", key=f"{key}.limner")
        if not isinstance(source, str):
            raise FormatError(src, f"source must be text, got {source!r}", key=f"{key}.limner.source")
    if gid is None:
        g = a.get("group_id")
        if type(g) is int and g:
            gid = g
    conf = a.get("score")
    if conf is not None:
        if type(conf) is float or type(conf) is int:
            if 0 <= conf <= 1:
                conf = float(conf)
            else:
                attrs["score"], conf = conf, None
        else:
            attrs["score"], conf = conf, None
    return z, gid, tid, source, conf, derived


def _box(bb: Any, src: str, i: int) -> dict | None:
    key = f"annotations[{i}]"  # only formatted on error paths below
    if type(bb) is not list or len(bb) != 4:
        raise FormatError(src, f"bbox must be [x, y, width, height], got {bb!r}", key=f"{key}.bbox")
    x, y, w, h = bb
    try:
        x += 0.0
        y += 0.0
        w += 0.0
        h += 0.0
    except TypeError:
        raise FormatError(src, f"bbox must hold numbers, got {bb!r}", key=f"{key}.bbox") from None
    if not _isfinite(x + y + w + h):
        raise FormatError(src, f"bbox must hold finite numbers, got {bb!r}", key=f"{key}.bbox")
    if w <= 0 or h <= 0:
        return None
    return {"x": x, "y": y, "w": w, "h": h}


class _Rings:
    """Polygons read as flat COCO lists, made :class:`Points` in bulk: one array per few million
    coordinates, each polygon a view of it (no Python object per vertex)."""

    __slots__ = ("flats", "geoms", "n")
    CHUNK = 2_000_000

    def __init__(self):
        self.flats: list[list] = []
        self.geoms: list[dict] = []
        self.n = 0

    def add(self, flat: list, geometry: dict) -> None:
        self.flats.append(flat)
        self.geoms.append(geometry)
        self.n += len(flat)
        if self.n >= self.CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.flats:
            return
        a = np.fromiter(_chain.from_iterable(self.flats), np.float64, count=self.n).reshape(-1, 2)
        offsets = ring_offsets(np.fromiter(map(len, self.flats), np.int64, count=len(self.flats)) >> 1)
        boxes = ring_bounds(a, offsets).tolist()  # every ring has 3 points or more
        o = 0
        for g, m, box in zip(self.geoms, offsets[1:].tolist(), boxes):
            g["points"] = Points(a[o:m], box, (a, o, m))
            o = m
        self.flats, self.geoms, self.n = [], [], 0


def _polygons(seg: list, src: str, i: int, report: Report, rings: _Rings | None = None) -> list[dict]:
    """Polygon geometries of a COCO segmentation; with ``rings``, their points are filled in by
    ``rings.flush()``."""
    key = f"annotations[{i}]"
    out = []
    for j, p in enumerate(seg):
        n = len(p) if type(p) is list else 1
        if n & 1:
            raise FormatError(src, "a polygon must be a flat list [x1, y1, x2, y2, ...]", key=f"{key}.segmentation[{j}]")
        try:
            s = sum(p)
        except TypeError:
            raise FormatError(src, "polygon coordinates must be numbers", key=f"{key}.segmentation[{j}]") from None
        if not _isfinite(s):
            raise FormatError(src, "polygon coordinates must be finite numbers", key=f"{key}.segmentation[{j}]")
        if n < 6:
            report.drop("polygons with fewer than 3 points skipped")
            continue
        if rings is None:
            out.append({"points": Points(np.array(p, np.float64).reshape(-1, 2)), "holes": []})
        else:
            g = {"points": None, "holes": []}
            rings.add(p, g)
            out.append(g)
    return out


def _keypoints(kps: Any, src: str, i: int, n: int | None) -> dict:
    key = f"annotations[{i}]"
    if type(kps) is not list or len(kps) % 3:
        raise FormatError(src, "keypoints must be a flat list [x1, y1, v1, ...]", key=f"{key}.keypoints")
    if n is not None and len(kps) != 3 * n:
        raise FormatError(
            src, f"the category has {n} keypoints, the annotation {len(kps) // 3}", key=f"{key}.keypoints"
        )
    try:
        s = sum(kps)
    except TypeError:
        raise FormatError(src, "keypoints must be numbers", key=f"{key}.keypoints") from None
    if not _isfinite(s) or not _VIS.issuperset(kps[2::3]):
        raise FormatError(src, "keypoints must be finite and their visibility 0, 1 or 2", key=f"{key}.keypoints")
    it = iter(kps)
    return {"points": [[x + 0.0, y + 0.0, int(v)] for x, y, v in zip(it, it, it)]}


def _mask(seg: dict, item: Item, src: str, i: int, report: Report) -> dict | None:
    key = f"annotations[{i}]"
    from limner.core.rle import check_rle

    size, counts = seg.get("size"), seg.get("counts")
    if (
        type(counts) is str
        and type(size) is list
        and len(size) == 2
        and type(size[0]) is int
        and type(size[1]) is int
        and size[0] > 0
        and size[1] > 0
        and (item.height is None or (item.height, item.width) == (size[0], size[1]))
        and string_runs_ok(counts, size[0], size[1])
    ):
        return {"rle": {"size": [size[0], size[1]], "counts": counts}}
    try:
        return {"rle": check_rle(seg, item.height, item.width, key + ".segmentation")}
    except ValidationError as e:
        if "differs from the image" in e.detail:
            report.drop("masks whose size differs from their image skipped")
            report.problem(f"{src}: {e.detail}")
            return None
        raise FormatError(src, e.detail.split(": ", 1)[-1], key=f"{key}.segmentation") from None


def annotation_shapes(
    a: dict, label: str, item: Item, src: str, i: int, report: Report, declared: dict[str, int], counts: dict[str, int],
    rings: _Rings | None = None,
) -> list[Shape]:
    """The shapes of one COCO annotation (see the package docstring, limner.formats.coco). ``declared`` gives the number of
    keypoints of labels whose category names them; ``counts`` collects it for the others; with
    ``rings``, polygon points are filled in by ``rings.flush()``."""
    get = a.get
    attrs = get("attributes")
    if attrs is None:
        attrs = {}
    elif type(attrs) is dict:
        attrs = dict(attrs)
    else:
        raise FormatError(src, "attributes must be an object", key=f"annotations[{i}].attributes")
    if get("iscrowd"):
        attrs["iscrowd"] = True
    if "limner" in a or "score" in a or "group_id" in a:
        z, gid, tid, source, conf, derived = read_extras(a, attrs, src, f"annotations[{i}]")
    else:
        z, gid, tid, source, conf, derived = 0, None, None, "manual", None, False
    seg, bb, kps = get("segmentation"), get("bbox"), get("keypoints")
    geoms: list[tuple[str, dict]] = []
    if kps:
        n = declared.get(label)
        sk = _keypoints(kps, src, i, n)
        if n is None and counts.get(label, 0) < len(sk["points"]):
            counts[label] = len(sk["points"])
        geoms.append(("skeleton", sk))
        if bb and not derived:
            g = _box(bb, src, i)
            if g is not None:
                geoms.append(("box", g))
    if seg:
        if type(seg) is list:
            geoms += [("polygon", g) for g in _polygons(seg, src, i, report, rings)]
        elif type(seg) is dict:
            g = _mask(seg, item, src, i, report)
            if g is not None:
                geoms.append(("mask", g))
        else:
            raise FormatError(
                src, "segmentation must be a list of polygons or an RLE object", key=f"annotations[{i}].segmentation"
            )
    if not geoms:
        if bb:
            g = _box(bb, src, i)
            if g is None:
                report.drop("boxes with zero width or height skipped")
                return []
            rot = attrs.pop("rotation", None)
            if (type(rot) is int or type(rot) is float) and rot and _isfinite(rot):
                g = {"cx": g["x"] + g["w"] / 2, "cy": g["y"] + g["h"] / 2, "w": g["w"], "h": g["h"], "angle": rot + 0.0}
                geoms.append(("rotated_box", g))
            else:
                geoms.append(("box", g))
        elif seg or kps:
            return []
        else:
            geoms.append(("tag", {}))
    if len(geoms) == 1:
        kind, g = geoms[0]
        return [Shape(kind, label, g, attrs, z, gid, tid, source, conf)]
    if gid is None:
        gid = get("id")
    return [Shape(k, label, g, dict(attrs), z, gid, tid, source, conf) for k, g in geoms]
