"""COCO: instances, person keypoints, image-level labels, captions and image_info (panoptic is in
:mod:`limner.formats.coco_panoptic`).

Layout: ``annotations/<task>_<subset>.json`` with the images in ``images/<subset>/`` (also looked
for in ``images/``, ``<subset>/`` as COCO 2017 keeps them, and the dataset folder), or one JSON file
given directly (images next to it or in an ``images/`` folder beside it). Tasks read: ``instances``,
``person_keypoints``, ``stuff``, ``labels`` (datumaro's image-level labels), ``captions`` and
``image_info``. Item names are ``<subset>/<file_name>``; the subset ``default`` is Limner's "no
subset" (``Item.subset`` None, name = ``file_name``), as datumaro uses that name.

COCO annotation → shapes:

- ``segmentation`` polygons → one polygon shape each; an RLE (compressed string or uncompressed
  list counts) → a mask shape; with neither, ``bbox`` → a box (a CVAT ``rotation`` attribute makes
  it a rotated_box around the box's centre); with no bbox either → a tag.
- ``keypoints`` → a skeleton shape, plus a box from ``bbox`` and the segmentation shapes.
- the shapes of one annotation share a group id: the annotation's ``limner.group_id``, else its
  ``group_id``, else its ``id``. A single shape keeps the group id only if the file gives one.
- ``iscrowd`` 1 → attribute ``iscrowd`` True; the ``attributes`` dict (as CVAT writes it) → the
  shape's attributes; ``score`` (COCO results) → confidence; the ``limner`` dict holds the rest of a
  shape that COCO has no field for: ``z_order``, ``group_id``, ``track_id``, ``source`` (each only
  when not the default) and ``bbox_derived`` (the bbox was computed for a skeleton, not drawn).
- annotations split over instances/stuff/person_keypoints files of a subset with the same image and
  id are one annotation (COCO's person keypoints repeat the instances' ids): shapes of a kind
  already read are not added twice.

Images: ``width``/``height`` (read from the image header when the file lacks them and the image is
found), the image ``id`` and every other key (license, urls, ...) in ``item.metadata["coco"]``, so a
write keeps the ids. Captions go to ``item.metadata["captions"]``. Labels get the attributes their
shapes carry declared (checkbox, number or text by the values met). Other keys of an annotation
are not kept. Polygons with fewer than 3 points, zero-size boxes, masks of the wrong size, unknown
categories and images are skipped and counted; malformed values raise FormatError naming the file
and the key (``annotations[12].bbox``).

Category ids, supercategories and any other category keys are kept in
``dataset.info["coco"]["categories"][name]``; a write reuses the ids and gives new labels the next
free ones. Categories with ``keypoints``/``skeleton`` give their label a skeleton; COCO edges are
1-based, Limner's 0-based (a file whose edges use index 0 is read as 0-based, and reported).

Writing: per subset ``annotations/instances_<subset>.json`` with boxes, polygons, masks and
keypoints (categories carry ``keypoints`` and ``skeleton``), ``labels_<subset>.json`` with the tags
(kept apart so the instances file stays valid for COCOeval, which needs a bbox on every annotation)
and ``captions_<subset>.json`` from ``item.metadata["captions"]``. Shapes of one group and label
become one annotation (polygons as one multi-polygon segmentation; a skeleton with its box and
segmentation). Polygons with holes become RLE masks, ellipses polygons, rotated boxes CVAT-style
boxes with a ``rotation`` attribute; polylines and points are dropped — each counted in the report.
Polygon areas are shoelace areas, mask areas pixel counts. Files of the written subsets left by an
earlier write (say a ``labels_train.json`` when there are no tags now) are removed and reported.

Speed and memory: the annotations array of a big file is parsed a few MB at a time as it is
converted (:func:`~limner.formats.base.load_json_pieces`), with the cyclic garbage collector paused
(see :func:`no_gc`); polygon points become :class:`~limner.core.points.Points` views of one float
array per few million coordinates, with their bounds, instead of a Python list per vertex.
"""

from __future__ import annotations

import math
import os
import re
import shutil
from itertools import chain
from operator import mul as _mul
from pathlib import Path
from typing import Any


import numpy as np

from limner.core.dataset import Dataset, Item
from limner.core.points import Points, ring_bounds
from limner.core.schema import Attribute, Skeleton
from limner.core.shapes import Shape
from limner.errors import ValidationError
from limner.core.rle import string_runs_ok
from limner.formats.base import FormatError, JsonPieces, Report, atomic_write, load_json_pieces, no_gc
from limner.formats.registry import Format, register

__all__ = [
    "DEFAULT_SUBSET",
    "TASKS",
    "coco_to_dataset",
    "dataset_to_coco",
    "detect",
    "find_files",
    "read",
    "write",
]

TASKS = ("instances", "stuff", "person_keypoints", "labels", "captions", "image_info", "panoptic")
_OBJECT_TASKS = ("instances", "stuff", "person_keypoints")  # one annotation may be split over these
_READ_TASKS = ("instances", "stuff", "person_keypoints", "labels", "captions", "image_info")
_FILE = re.compile(r"^(" + "|".join(TASKS) + r")_(.+)\.json$")
DEFAULT_SUBSET = "default"
_isfinite = math.isfinite
_VIS = frozenset((0, 1, 2))
_chain = chain


# -- files and layout -----------------------------------------------------------------------------


def parse_name(name: str) -> tuple[str, str] | None:
    """``instances_val.json`` → ("instances", "val"); None for other names."""
    m = _FILE.match(name)
    return (m.group(1), m.group(2)) if m else None


def peek(path: Path, n: int = 4096) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except OSError:
        return b""


def _looks_coco(head: bytes) -> bool:
    """A COCO file's first KBs: an "images" list (official files put annotations and categories
    after every image, so an image's "file_name" is the other sign)."""
    return b'"images"' in head and (b'"file_name"' in head or b'"annotations"' in head or b'"categories"' in head)


def find_files(path: Path, tasks: tuple[str, ...] = _READ_TASKS) -> list[tuple[str, str | None, Path]]:
    """The COCO files under ``path`` as (task, subset, file), in task order.

    A folder: ``annotations/<task>_<subset>.json``, else JSON files directly inside it that look
    like COCO. A file: itself, its task and subset from its name when it follows the pattern.
    """
    path = Path(path)
    found: list[tuple[str, str | None, Path]] = []
    if path.is_file():
        ts = parse_name(path.name)
        if ts is None:
            found.append(("panoptic" if b'"segments_info"' in peek(path) else "instances", None, path))
        else:
            found.append((ts[0], ts[1], path))
    elif (path / "annotations").is_dir():
        for f in sorted((path / "annotations").iterdir()):
            ts = parse_name(f.name)
            if ts is not None and f.is_file():
                found.append((ts[0], ts[1], f))
    elif path.is_dir():
        for f in sorted(path.glob("*.json")):
            head = peek(f)
            if _looks_coco(head):
                ts = parse_name(f.name)
                task = ts[0] if ts else ("panoptic" if b'"segments_info"' in head else "instances")
                found.append((task, ts[1] if ts else None, f))
    found = [f for f in found if f[0] in tasks]
    found.sort(key=lambda f: (TASKS.index(f[0]), f[1] or ""))
    return found


def image_dirs(path: Path, json_file: Path, subset: str | None) -> list[Path]:
    """Where the images of ``json_file`` may be, most likely first."""
    path = Path(path)
    root = path if path.is_dir() else json_file.parent
    if json_file.parent.name == "annotations":
        root = json_file.parent.parent
    out = []
    if subset:
        out += [root / "images" / subset, root / subset]
    out += [root / "images", root, json_file.parent, json_file.parent / "images"]
    seen: list[Path] = []
    for d in out:
        if d not in seen:
            seen.append(d)
    return seen


def _locate(file_name: str, dirs: list[Path], listings: dict[Path, tuple[Path, set[str]] | None]) -> Path | None:
    for d in dirs:
        if "/" in file_name or "\\" in file_name:
            p = d / file_name
            if p.is_file():
                return p.resolve()
            continue
        if d not in listings:
            try:
                listings[d] = (d.resolve(), set(os.listdir(d)))
            except OSError:
                listings[d] = None
        found = listings[d]
        if found is not None and file_name in found[1]:
            return found[0] / file_name
    return None


def split_subset(subset: str | None) -> str | None:
    return None if subset in (None, DEFAULT_SUBSET) else subset


def file_name_of(item: Item) -> str:
    """The COCO ``file_name`` of an item: its name without the ``<subset>/`` prefix."""
    if item.subset and item.name.startswith(item.subset + "/"):
        return item.name[len(item.subset) + 1 :]
    return item.name


# -- reading: shared by coco and coco_panoptic ----------------------------------------------------


def check_top(data: Any, src: str, keys: tuple[str, ...]) -> None:
    if not isinstance(data, dict):
        raise FormatError(src, "a COCO file must hold a JSON object with images, annotations and categories")
    for k in keys:
        if k in data and data[k] is not None and not isinstance(data[k], (list, JsonPieces)):
            raise FormatError(src, f"{k} must be a list, got {type(data[k]).__name__}", key=k)


def read_meta(data: dict, dataset: Dataset) -> None:
    """Keep the file's info, licenses and unknown top-level keys in ``dataset.info["coco"]``."""
    meta = dataset.info.setdefault("coco", {})
    meta.setdefault("categories", {})
    for k in ("info", "licenses"):
        if k in data and k not in meta:
            meta[k] = data[k]
    for k, v in data.items():
        if k not in ("info", "licenses", "images", "annotations", "categories"):
            meta.setdefault("extra", {}).setdefault(k, v)


def read_categories(data: dict, src: str, dataset: Dataset, report: Report) -> dict[Any, str]:
    """Category id → label name; adds labels (with skeletons) and keeps ids in dataset.info."""
    known = dataset.info.setdefault("coco", {}).setdefault("categories", {})
    out: dict[Any, str] = {}
    names: set[str] = set()
    for j, c in enumerate(data.get("categories") or ()):
        key = f"categories[{j}]"
        if not isinstance(c, dict) or "id" not in c or "name" not in c:
            raise FormatError(src, "a category must be an object with id and name", key=key)
        cid, name = c["id"], c["name"]
        if not isinstance(name, str) or not name.strip():
            raise FormatError(src, f"category name must be non-empty text, got {name!r}", key=f"{key}.name")
        if isinstance(cid, bool) or not isinstance(cid, int):
            raise FormatError(src, f"category id must be an integer, got {cid!r}", key=f"{key}.id")
        if name in names and out.get(cid) != name:
            report.problem(f"{src}: category {name!r} appears twice (ids {cid} and others); both read as one label")
        names.add(name)
        dataset.ensure_label(name)
        kept = known.get(name)
        if kept is None:
            known[name] = {k: v for k, v in c.items() if k not in ("name", "keypoints", "skeleton")}
        elif kept.get("id") != cid:
            report.problem(f"{src}: category {name!r} has id {cid} here and {kept.get('id')} in another file")
        kps, edges = c.get("keypoints"), c.get("skeleton")
        label = dataset.schema.get(name)
        if (kps or edges) and label.skeleton is None:
            if kps is not None and (not isinstance(kps, list) or not all(isinstance(k, str) for k in kps)):
                raise FormatError(src, "keypoints must be a list of point names", key=f"{key}.keypoints")
            if edges is not None and (
                not isinstance(edges, list)
                or not all(isinstance(e, list) and len(e) == 2 and all(type(v) is int for v in e) for e in edges)
            ):
                raise FormatError(src, "skeleton must be a list of [a, b] point numbers", key=f"{key}.skeleton")
            # the skeleton is made once the number of points is known (names may be missing)
            dataset.info.setdefault("_coco_pending", {})[name] = (list(kps or []), list(edges or []), src)
        out[cid] = name
    return out


def finish_skeletons(dataset: Dataset, counts: dict[str, int], report: Report) -> None:
    """Give labels their Skeleton (0-based edges): from keypoint categories, and numbered points for
    labels whose annotations have keypoints but whose category names none."""
    pending = dataset.info.pop("_coco_pending", {})
    for name, n in counts.items():
        if name not in pending and dataset.schema.get(name).skeleton is None:
            pending[name] = ([], [], "")
    for name, (names, edges, src) in pending.items():
        n = len(names) or max(counts.get(name, 0), max((max(e) for e in edges), default=0))
        if n == 0:
            continue
        if not names:
            names = [str(k + 1) for k in range(n)]
        elif len(set(names)) != len(names):
            report.problem(f"{src}: keypoint names of {name!r} repeat; numbered instead")
            names = [str(k + 1) for k in range(n)]
        base = 1
        if any(v == 0 for e in edges for v in e):
            base = 0
            report.problem(f"{src}: skeleton edges of {name!r} use point 0, so they are read as 0-based (COCO's are 1-based)")
        good = [(a - base, b - base) for a, b in edges if 0 <= a - base < n and 0 <= b - base < n and a != b]
        if len(good) != len(edges):
            report.problem(f"{src}: {len(edges) - len(good)} skeleton edges of {name!r} name points that do not exist")
        dataset.schema.get(name).skeleton = Skeleton(points=names, edges=good)


def read_images(
    data: dict, src: str, subset: str | None, dataset: Dataset, items: dict[str, Item]
) -> dict[Any, Item]:
    """Image id → Item; an image already met in another file of the subset is the same Item."""
    sub = split_subset(subset)
    out: dict[Any, Item] = {}
    for j, im in enumerate(data.get("images") or ()):
        if type(im) is not dict:
            raise FormatError(src, "an image must be an object", key=f"images[{j}]")
        try:
            iid, fn = im["id"], im["file_name"]
        except KeyError as e:
            raise FormatError(src, f"an image needs {e.args[0]}", key=f"images[{j}]") from None
        if not isinstance(fn, str) or not fn:
            raise FormatError(src, f"file_name must be non-empty text, got {fn!r}", key=f"images[{j}].file_name")
        name = f"{sub}/{fn}" if sub else fn
        item = items.get(name)
        if item is None:
            w, h = im.get("width"), im.get("height")
            for v, k in ((w, "width"), (h, "height")):
                if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or v != int(v)):
                    raise FormatError(src, f"{k} must be a whole number of pixels, got {v!r}", key=f"images[{j}].{k}")
            meta = {k: v for k, v in im.items() if k not in ("file_name", "width", "height")}
            item = Item(name, int(w) if w else None, int(h) if h else None, [], sub, {"coco": meta})
            items[name] = item
            dataset.items.append(item)
        out[iid] = item
    return out


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
        offsets = np.zeros(len(self.flats) + 1, np.int64)
        np.cumsum(np.fromiter(map(len, self.flats), np.int64, count=len(self.flats)) >> 1, out=offsets[1:])
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
    """The shapes of one COCO annotation (see the module docstring). ``declared`` gives the number of
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


def declare_attributes(dataset: Dataset, report: Report) -> None:
    """Declare on each label the attributes its shapes carry (checkbox, number or text)."""
    seen: dict[str, dict[str, set]] = {}
    for item in dataset.items:
        for s in item.shapes:
            if s.attributes:
                d = seen.setdefault(s.label, {})
                for k, v in s.attributes.items():
                    d.setdefault(k, set()).add(type(v))
    for name, attrs in seen.items():
        label = dataset.schema.get(name)
        have = {a.name for a in label.attributes}
        for k, types in attrs.items():
            if k in have:
                continue
            if types == {bool}:
                kind = "checkbox"
            elif types <= {int, float}:
                kind = "number"
            elif types == {str}:
                kind = "text"
            else:
                report.problem(f"attribute {k!r} of label {name!r} mixes value types; not declared on the label")
                continue
            label.attributes.append(Attribute(name=k, kind=kind))


# -- reading: coco ---------------------------------------------------------------------------------


def coco_to_dataset(
    files: list[tuple[str, str | None, dict, str]], *, report: Report | None = None, consume: bool = False
) -> Dataset:
    """A Dataset from parsed COCO files given as (task, subset, data, source name).

    Files of one subset share their items (matched by file name). Panoptic files are not read here.
    ``consume=True`` empties the annotation lists as they are converted, so the parsed file and the
    dataset are not both whole in memory at once.
    """
    with no_gc():
        return _coco_to_dataset(files, report, consume)


def _coco_to_dataset(files, report, consume):
    report = report if report is not None else Report("COCO")
    ds = Dataset()
    ds.info["coco"] = {"categories": {}}
    items: dict[str, Item] = {}
    declared: dict[str, int] = {}  # label -> keypoints named by its category
    counts: dict[str, int] = {}  # label -> most keypoints met, for categories that name none
    objects_per_subset: dict[str | None, int] = {}
    for task, subset, _, _ in files:
        if task in _OBJECT_TASKS:
            objects_per_subset[subset] = objects_per_subset.get(subset, 0) + 1
    seen: dict[str | None, dict] = {}
    for task, subset, data, src in files:
        if task == "panoptic":
            report.problem(f"{src}: panoptic annotations are read by the coco_panoptic format")
            continue
        check_top(data, src, ("images", "annotations", "categories", "licenses"))
        read_meta(data, ds)
        cats = read_categories(data, src, ds, report)
        for name, (names, _, _) in ds.info.get("_coco_pending", {}).items():
            if names:
                declared.setdefault(name, len(names))
        for name in cats.values():
            sk = ds.schema.get(name).skeleton
            if sk is not None:
                declared.setdefault(name, len(sk.points))
        imgs = read_images(data, src, subset, ds, items)
        anns = data.get("annotations") or ()
        if task == "image_info":
            continue
        if task == "captions":
            _read_captions(anns, imgs, src, report)
            continue
        merge = seen.setdefault(subset, {}) if objects_per_subset.get(subset, 0) > 1 and task in _OBJECT_TASKS else None
        _read_annotations(anns, imgs, cats, src, report, declared, counts, merge, consume)
    finish_skeletons(ds, counts, report)
    declare_attributes(ds, report)
    report.items = len(ds.items)
    report.shapes = sum(len(it.shapes) for it in ds.items)
    return ds


def _read_annotations(anns, imgs, cats, src, report, declared, counts, merge: dict | None, consume: bool) -> None:
    rings = _Rings()
    _annotations_loop(anns, imgs, cats, src, report, declared, counts, merge, consume, rings)
    rings.flush()


def _annotations_loop(anns, imgs, cats, src, report, declared, counts, merge, consume, rings) -> None:
    unknown_images = unknown_cats = 0
    shapes_of = annotation_shapes
    consume = consume and type(anns) is list  # pieces are released by JsonPieces itself
    for i, a in enumerate(anns):
        if consume:
            anns[i] = None
        if type(a) is not dict:
            raise FormatError(src, "an annotation must be an object", key=f"annotations[{i}]")
        item = imgs.get(a.get("image_id"))
        if item is None:
            unknown_images += 1
            continue
        label = cats.get(a.get("category_id"))
        if label is None:
            unknown_cats += 1
            continue
        shapes = shapes_of(a, label, item, src, i, report, declared, counts, rings)
        if merge is None:
            item.shapes += shapes
            continue
        k = (id(item), a.get("id"))
        before = merge.get(k)
        if before is None or before[0].label != label:
            merge[k] = shapes
            item.shapes += shapes
            continue
        kinds = {s.kind for s in before}
        new = [s for s in shapes if s.kind not in kinds and s.kind != "tag"]
        if new:
            gid = before[0].group_id if before[0].group_id is not None else new[0].group_id
            if gid is None:
                gid = a.get("id")
            for s in before + new:
                s.group_id = gid
            before += new
            item.shapes += new
    if unknown_images:
        report.drop("annotations of images not in the file skipped", unknown_images)
    if unknown_cats:
        report.drop("annotations with an unknown category_id skipped", unknown_cats)
        report.problem(f"{src}: {unknown_cats} annotations name a category_id that is not in categories")


def _read_captions(anns, imgs, src, report) -> None:
    for i, a in enumerate(anns):
        if type(a) is not dict:
            raise FormatError(src, "an annotation must be an object", key=f"annotations[{i}]")
        item = imgs.get(a.get("image_id"))
        if item is None:
            report.drop("captions of images not in the file skipped")
            continue
        cap = a.get("caption")
        if not isinstance(cap, str):
            raise FormatError(src, f"caption must be text, got {cap!r}", key=f"annotations[{i}].caption")
        item.metadata.setdefault("captions", []).append(cap)


def find_images(dataset: Dataset, path: Path, sources: dict[str | None, tuple[Path, str | None]], report: Report) -> None:
    """Set Item.image where the file exists; read the size from its header when the JSON lacks it.
    ``sources`` maps an item's subset to the JSON file (and raw subset name) it came from."""
    listings: dict[Path, tuple[Path, set[str]] | None] = {}
    dirs_of = {sub: image_dirs(path, f, raw) for sub, (f, raw) in sources.items()}
    for item in dataset.items:
        dirs = dirs_of.get(item.subset)
        if dirs is None:
            continue
        found = _locate(file_name_of(item), dirs, listings)
        if found is None:
            report.missing_images.append(item.name)
            continue
        item.image = found
        if item.width is None or item.height is None:
            from PIL import Image

            try:
                with Image.open(found) as im:
                    item.width, item.height = im.size
            except OSError as e:
                report.problem(f"{found}: cannot read the image size: {e}")


def read(path: Path, *, tasks: tuple[str, ...] | None = None, **options) -> tuple[Dataset, Report]:
    """Read a COCO folder (``annotations/<task>_<subset>.json``) or one COCO JSON file.

    ``tasks`` limits the files read (default: every task but panoptic)."""
    path = Path(path)
    report = Report("COCO")
    files = find_files(path, tuple(tasks) if tasks else TASKS)
    if not [f for f in files if f[0] != "panoptic"]:
        raise FormatError(path, "no COCO annotation files found (expected annotations/<task>_<subset>.json)")
    sources: dict[str | None, tuple[Path, str | None]] = {}
    with no_gc():
        parsed = []
        for task, subset, f in files:
            sources.setdefault(split_subset(subset), (f, subset))
            parsed.append((task, subset, load_json_pieces(f, "annotations"), str(f)))
        ds = coco_to_dataset(parsed, report=report, consume=True)
        del parsed
    find_images(ds, path, sources, report)
    return ds, report


# -- writing ---------------------------------------------------------------------------------------


def category_ids(dataset: Dataset) -> tuple[dict[str, int], dict[str, dict]]:
    """Label name → COCO id (kept from dataset.info, new labels after the largest) and the kept
    category records."""
    kept = (dataset.info.get("coco") or {}).get("categories") or {}
    ids: dict[str, int] = {}
    used: set[int] = set()
    for label in dataset.schema:
        cid = (kept.get(label.name) or {}).get("id")
        if type(cid) is int and cid not in used:
            ids[label.name] = cid
            used.add(cid)
    nxt = max(used, default=0) + 1
    for label in dataset.schema:
        if label.name not in ids:
            ids[label.name] = nxt
            used.add(nxt)
            nxt += 1
    for item in dataset.items:
        for s in item.shapes:
            if s.label not in ids:
                ids[s.label] = nxt
                nxt += 1
    return ids, kept


def _categories(dataset: Dataset, ids: dict[str, int], kept: dict, npoints: dict[str, int]) -> list[dict]:
    out = []
    for name, cid in ids.items():
        rec = {"id": cid, "name": name, "supercategory": ""}
        rec.update({k: v for k, v in (kept.get(name) or {}).items() if k not in ("id", "name")})
        label = dataset.schema.get(name)
        sk = label.skeleton if label is not None else None
        if sk is not None:
            rec["keypoints"] = list(sk.points)
            rec["skeleton"] = [[a + 1, b + 1] for a, b in sk.edges]
        elif name in npoints:
            rec["keypoints"] = [str(k + 1) for k in range(npoints[name])]
            rec["skeleton"] = []
        out.append(rec)
    return out


def image_ids(items: list[Item]) -> list[int]:
    ids = [(it.metadata.get("coco") or {}).get("id") for it in items]
    if all(type(v) is int for v in ids) and len(set(ids)) == len(ids):
        return ids
    return list(range(1, len(items) + 1))


def _area_bbox(flat: list[float]) -> tuple[list[float], float]:
    """Bounding box and shoelace area of a flat polygon [x1, y1, x2, y2, ...]."""
    xs, ys = flat[0::2], flat[1::2]
    twice = sum(map(_mul, xs, ys[1:] + ys[:1])) - sum(map(_mul, xs[1:] + xs[:1], ys))
    x0, y0 = min(xs), min(ys)
    return [x0, y0, max(xs) - x0, max(ys) - y0], abs(twice) / 2.0


def _union(a: list[float] | None, b: list[float]) -> list[float]:
    if a is None:
        return b
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    return [x0, y0, max(a[0] + a[2], b[0] + b[2]) - x0, max(a[1] + a[3], b[1] + b[3]) - y0]


def _segm(s: Shape, item: Item, report: Report) -> tuple[Any, list[float], float] | None:
    """(segmentation, bbox, area) of an area shape, or None when COCO has no room for it."""
    k, g = s.kind, s.geometry
    if k == "polygon":
        if g.get("holes"):
            if item.height and item.width:
                from limner.core.geometry import polygon_to_mask

                report.drop("polygons with holes written as RLE masks")
                return _mask_segm(polygon_to_mask(g, item.height, item.width))
            report.drop("polygon holes dropped (image size unknown, so no RLE mask)")
        pts = g["points"]
        flat = pts.array.ravel().tolist() if type(pts) is Points else list(_chain(*pts))
        return [flat], *_area_bbox(flat)
    if k == "ellipse":
        from limner.core.geometry import ellipse_points

        report.drop("ellipses written as polygons")
        flat = [float(c) for p in ellipse_points(g, 64) for c in p]
        return [flat], *_area_bbox(flat)
    if k == "mask":
        return _mask_segm(g["rle"])
    return None


def _mask_segm(rle: dict) -> tuple[dict, list[float], float]:
    from pycocotools import mask as mask_utils

    r = {"size": list(rle["size"]), "counts": rle["counts"].encode("ascii")}
    return {"size": list(rle["size"]), "counts": rle["counts"]}, [float(v) for v in mask_utils.toBbox(r)], float(mask_utils.area(r))


def _same_extras(a: Shape, b: Shape) -> bool:
    return (
        a.attributes == b.attributes
        and a.z_order == b.z_order
        and a.track_id == b.track_id
        and a.source == b.source
        and a.confidence == b.confidence
    )


def _annotation(
    parts: list[Shape], item: Item, iid: int, cid: int, group: Any, report: Report, npoints: dict[str, int]
) -> dict | None:
    """One COCO annotation from shapes of one label (and group) that fit in it together."""
    first = parts[0]
    attrs = first.attributes
    crowd = 0
    extra: dict[str, Any] = {}
    if attrs:
        attrs = dict(attrs)
        crowd = 1 if attrs.pop("iscrowd", False) else 0
    seg: Any = []
    bbox: list[float] | None = None
    area = 0.0
    kps = None
    box = None
    for s in parts:
        k, g = s.kind, s.geometry
        if k == "box":
            box = [g["x"], g["y"], g["w"], g["h"]]
        elif k == "rotated_box":
            box = [g["cx"] - g["w"] / 2, g["cy"] - g["h"] / 2, g["w"], g["h"]]
            attrs = dict(attrs or {})
            attrs["rotation"] = g["angle"]
            report.drop("rotated boxes written as CVAT-style boxes with a rotation attribute")
        elif k == "skeleton":
            kps = [c for p in g["points"] for c in (p[0], p[1], int(p[2]))]
            npoints.setdefault(s.label, len(g["points"]))
        else:
            r = _segm(s, item, report)
            if r is None:
                continue
            if type(r[0]) is dict:
                seg = r[0]
            else:
                seg = seg + r[0]
            bbox = _union(bbox, r[1])
            area += r[2]
    if box is not None:
        if bbox is None:
            area = box[2] * box[3]
        bbox = box
    if kps is not None:
        vis = [(kps[j], kps[j + 1]) for j in range(0, len(kps), 3) if kps[j + 2] > 0]
        if box is None:  # a reader makes a box of a keypoint annotation's bbox unless told not to
            extra["bbox_derived"] = True
        if bbox is None:
            if vis:
                xs, ys = [p[0] for p in vis], [p[1] for p in vis]
                bbox = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
            else:
                bbox = [0.0, 0.0, 0.0, 0.0]
            area = bbox[2] * bbox[3]
    if bbox is None:
        return None
    ann = {"id": 0, "image_id": iid, "category_id": cid, "segmentation": seg, "area": area, "bbox": bbox, "iscrowd": crowd}
    if kps is not None:
        ann["keypoints"] = kps
        ann["num_keypoints"] = len(vis)
    if attrs:
        ann["attributes"] = attrs
    if first.confidence is not None:
        ann["score"] = first.confidence
    write_extras(first, group, extra)
    if extra:
        ann["limner"] = extra
    return ann


def write_extras(s: Shape, group: Any, extra: dict) -> None:
    if s.z_order:
        extra["z_order"] = s.z_order
    if group is not None:
        extra["group_id"] = group
    if s.track_id is not None:
        extra["track_id"] = s.track_id
    if s.source != "manual":
        extra["source"] = s.source


def _tag(s: Shape, iid: int, cid: int) -> dict:
    ann = {"id": 0, "image_id": iid, "category_id": cid}
    if s.attributes:
        ann["attributes"] = dict(s.attributes)
    if s.confidence is not None:
        ann["score"] = s.confidence
    extra: dict = {}
    write_extras(s, s.group_id, extra)
    if extra:
        ann["limner"] = extra
    return ann


_DROPPED = {"polyline": "polylines dropped (COCO has none)", "points": "points shapes dropped (COCO has none)"}


def _group_annotations(shapes: list[Shape], item, iid, cid, group, report, npoints) -> list[dict]:
    """Annotations for the shapes of one group and label: a skeleton takes a box and the
    segmentation; without one, polygons make one multi-polygon annotation, boxes and masks one each."""
    out = []
    buckets: list[list[Shape]] = []
    for s in shapes:
        for b in buckets:
            if _same_extras(b[0], s):
                b.append(s)
                break
        else:
            buckets.append([s])
    for b in buckets:
        sks = [s for s in b if s.kind == "skeleton"]
        boxes = [s for s in b if s.kind == "box"]
        polys = [s for s in b if s.kind in ("polygon", "ellipse") and not (s.kind == "polygon" and s.geometry.get("holes"))]
        masks = [s for s in b if s.kind == "mask" or (s.kind == "polygon" and s.geometry.get("holes"))]
        parts: list[list[Shape]] = []
        for j, sk in enumerate(sks):
            p = [sk]
            if j < len(boxes):
                p.append(boxes[j])
            if j == 0:
                if polys:
                    p += polys
                    polys = []
                elif masks:
                    p.append(masks.pop(0))
            parts.append(p)
        parts += [[s] for s in boxes[len(sks) :]] + [[s] for s in b if s.kind == "rotated_box"]
        if polys:
            parts.append(polys)
        parts += [[m] for m in masks]
        for p in parts:
            ann = _annotation(p, item, iid, cid, group, report, npoints)
            if ann is not None:
                out.append(ann)
    return out


def dataset_to_coco(dataset: Dataset, *, report: Report | None = None) -> dict[tuple[str, str], dict]:
    """COCO documents by (task, subset): instances (boxes, polygons, masks, keypoints), labels (tags)
    and captions, for each subset (``default`` for items without one)."""
    with no_gc():
        return _dataset_to_coco(dataset, report if report is not None else Report("COCO"))


def _dataset_to_coco(dataset: Dataset, report: Report) -> dict[tuple[str, str], dict]:
    ids, kept = category_ids(dataset)
    meta = dataset.info.get("coco") or {}
    head = {"info": meta.get("info", {}), "licenses": meta.get("licenses", [])}
    for k, v in (meta.get("extra") or {}).items():
        head.setdefault(k, v)
    subsets: dict[str, list[Item]] = {}
    for item in dataset.items:
        subsets.setdefault(item.subset or DEFAULT_SUBSET, []).append(item)
    npoints: dict[str, int] = {}
    docs: dict[tuple[str, str], dict] = {}
    nshapes = 0
    for subset, items in subsets.items():
        images, anns, tags, caps = [], [], [], []
        for item, iid in zip(items, image_ids(items)):
            rec = {"id": iid, "file_name": file_name_of(item)}
            if item.width and item.height:
                rec["width"], rec["height"] = item.width, item.height
            else:
                report.drop("images written without width and height (size unknown)")
            rec.update({k: v for k, v in (item.metadata.get("coco") or {}).items() if k not in rec and k != "id"})
            images.append(rec)
            for c in item.metadata.get("captions") or ():
                caps.append({"id": len(caps) + 1, "image_id": iid, "caption": c})
            nshapes += len(item.shapes)
            _item_annotations(item, iid, ids, anns, tags, report, npoints)
        for j, a in enumerate(anns):
            a["id"] = j + 1
        for j, a in enumerate(tags):
            a["id"] = j + 1
        # COCO's own key order: images first, so a peek at the head of the file sees them
        docs[("instances", subset)] = {**head, "images": images, "annotations": anns, "categories": []}
        if tags:
            docs[("labels", subset)] = {**head, "images": images, "annotations": tags, "categories": []}
        if caps:
            docs[("captions", subset)] = {**head, "images": images, "annotations": caps, "categories": []}
    cats = _categories(dataset, ids, kept, npoints)  # keypoint counts are known after all items
    for (task, subset), doc in docs.items():
        if task != "captions":
            doc["categories"] = cats
    report.items = len(dataset.items)
    report.shapes = nshapes
    return docs


def _item_annotations(item: Item, iid: int, ids: dict[str, int], anns: list, tags: list, report, npoints) -> None:
    groups: dict[tuple[Any, str], list[Shape]] | None = None
    for s in item.shapes:
        if s.group_id is not None:
            if groups is None:
                groups = {}
            groups.setdefault((s.group_id, s.label), []).append(s)
    done: set = set()
    for s in item.shapes:
        k = s.kind
        if k == "tag":
            tags.append(_tag(s, iid, ids[s.label]))
        elif k in _DROPPED:
            report.drop(_DROPPED[k])
        elif s.group_id is None:
            ann = _annotation([s], item, iid, ids[s.label], None, report, npoints)
            if ann is not None:
                anns.append(ann)
        else:
            key = (s.group_id, s.label)
            if key in done:
                continue
            done.add(key)
            members = [m for m in groups[key] if m.kind not in _DROPPED and m.kind != "tag"]
            anns += _group_annotations(members, item, iid, ids[s.label], s.group_id, report, npoints)


def dumps(doc: Any) -> bytes:
    import orjson

    return orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY)


def copy_images(dataset: Dataset, path: Path, report: Report) -> None:
    """Copy each item's image to ``images/<subset>/<file_name>``."""
    for item in dataset.items:
        dst = path / "images" / (item.subset or DEFAULT_SUBSET) / file_name_of(item)
        if item.image is None or not Path(item.image).is_file():
            report.missing_images.append(item.name)
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if Path(item.image).resolve() != dst.resolve():
            shutil.copyfile(item.image, dst)


def write(dataset: Dataset, path: Path, *, include_images: bool = False, **options) -> Report:
    """Write ``annotations/<task>_<subset>.json`` under the folder ``path`` (and the images)."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        raise ValidationError(f"{path}: COCO is written as a folder (annotations/<task>_<subset>.json); give a folder", field="path")
    report = Report("COCO")
    docs = dataset_to_coco(dataset, report=report)
    for (task, subset), doc in docs.items():
        atomic_write(path / "annotations" / f"{task}_{subset}.json", dumps(doc))
    for subset in {s for _, s in docs}:  # files of an earlier write would be read with these
        for task in _READ_TASKS:
            old = path / "annotations" / f"{task}_{subset}.json"
            if (task, subset) not in docs and old.is_file():
                old.unlink()
                report.problem(f"{old}: removed, it was not part of this dataset")
    if include_images:
        copy_images(dataset, path, report)
    return report


# -- detection -------------------------------------------------------------------------------------


def detect(path: Path) -> int:
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() != ".json":
            return 0
        head = peek(path)
        return 70 if _looks_coco(head) and b'"segments_info"' not in head else 0
    if not path.is_dir():
        return 0
    ann = path / "annotations"
    if ann.is_dir():
        tasks = {t[0] for t in (parse_name(f) for f in os.listdir(ann)) if t}
        return 90 if tasks & set(_READ_TASKS) else 0
    for f in sorted(path.glob("*.json"))[:5]:
        head = peek(f)
        if _looks_coco(head) and b'"segments_info"' not in head:
            return 50
    return 0


register(
    Format(
        name="coco",
        description="COCO instances, person keypoints, image labels, captions (annotations/<task>_<subset>.json)",
        read=read,
        write=write,
        detect=detect,
    )
)
