"""COCO documents to a Dataset: the checks of a file's top-level keys, its info, licenses and
other keys kept, its images as items, then ``coco_to_dataset`` turning parsed files of every task
into one Dataset (annotations split over instances/stuff/person_keypoints files merged, captions
into item metadata)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from limner.core.columns import RingSink
from limner.core.dataset import Dataset, Item
from limner.core.shapes import Shape
from limner.formats.base import FormatError, JsonPieces, Report, no_gc
from limner.formats.coco.annotations import _Rings, annotation_shapes
from limner.formats.coco.categories import declare_attributes, finish_skeletons, read_categories
from limner.formats.coco.layout import _OBJECT_TASKS, split_subset
from limner.formats.coco.pieces import PLAIN, plain_piece

_isfinite = math.isfinite

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


# -- reading: coco ---------------------------------------------------------------------------------


def coco_to_dataset(
    files: list[tuple[str, str | None, dict, str]], *, report: Report | None = None, consume: bool = False,
    rings: RingSink | None = None,
) -> Dataset:
    """A Dataset from parsed COCO files given as (task, subset, data, source name).

    Files of one subset share their items (matched by file name). Panoptic files are not read here.
    ``consume=True`` empties the annotation lists as they are converted, so the parsed file and the
    dataset are not both whole in memory at once.

    ``rings`` (a :class:`~limner.core.columns.RingSink`) takes each plain one-ring polygon
    instead: the item's shape list gets the number ``rings.add`` returns in the polygon's place.
    """
    with no_gc():
        return _coco_to_dataset(files, report, consume, rings)


def _coco_to_dataset(files, report, consume, sink=None):
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
        _read_annotations(anns, imgs, cats, src, report, declared, counts, merge, consume, sink)
    finish_skeletons(ds, counts, report)
    declare_attributes(ds, report)
    report.items = len(ds.items)
    report.shapes = ds.shape_count
    return ds


def _read_annotations(anns, imgs, cats, src, report, declared, counts, merge: dict | None, consume: bool, sink) -> None:
    rings = _Rings()
    args = (imgs, cats, src, report, declared, counts, merge)
    if sink is not None and merge is None and isinstance(anns, JsonPieces):
        unknown_images, unknown_cats = _pieces_loop(anns, args, rings, sink)
    else:
        unknown_images, unknown_cats = _annotations_loop(anns, *args, consume, rings, sink)
    rings.flush()
    if unknown_images:
        report.drop("annotations of images not in the file skipped", unknown_images)
    if unknown_cats:
        report.drop("annotations with an unknown category_id skipped", unknown_cats)
        report.problem(f"{src}: {unknown_cats} annotations name a category_id that is not in categories")


def _pieces_loop(anns: JsonPieces, args: tuple, rings: _Rings, sink) -> tuple[int, int]:
    """:func:`_annotations_loop` over the pieces of a big array, some parsed by a helper process
    into columns (:mod:`limner.formats.coco.pieces`): their plain polygons go to ``sink`` a piece
    at a time, the other annotations through the loop, each in its place."""
    import orjson

    imgs, cats = args[0], args[1]
    unknown_images = unknown_cats = 0
    i = 0
    total, done = len(anns.bounds), 0
    for part in anns.pieces(plain_piece):
        done += 1
        if sink.progress is not None:
            sink.progress(min(done / total, 1.0))
        if type(part) is list:
            ui, uc = _annotations_loop(part, *args, False, rings, sink, start=i)
            unknown_images, unknown_cats, i = unknown_images + ui, unknown_cats + uc, i + len(part)
            sink.flush()  # while the helper still works, not after
            continue
        items = [imgs.get(x) for x in part.image_ids.tolist()]
        labels = [cats.get(x) for x in part.category_ids.tolist()]
        has_item = np.fromiter((x is not None for x in items), bool, count=len(items))
        has_label = np.fromiter((x is not None for x in labels), bool, count=len(labels))
        keep = has_item & has_label
        unknown_images += int((~has_item).sum())
        unknown_cats += int((has_item & ~has_label).sum())
        flags = keep.tolist()
        r0 = sink.add_piece(part.coords, part.lens, keep, [x for x, k in zip(labels, flags) if k], part.measures)
        targets = [x for x, k in zip(items, flags) if k]  # the items of the kept polygons, in order
        kept_before = np.concatenate(([0], np.cumsum(keep))).tolist()
        rest = orjson.loads(part.rest) if part.rest else []
        others = np.ones(part.n, bool)
        others[part.plain] = False
        rest_at = np.flatnonzero(others).tolist()
        cuts = np.searchsorted(part.plain, rest_at).tolist()
        j = 0
        for m, (k, cut) in enumerate(zip([*rest_at, part.n], [*cuts, len(part.plain)])):
            a, b = kept_before[j], kept_before[cut]
            for item, ring in zip(targets[a:b], range(r0 + a, r0 + b)):  # the polygons before it
                item.shapes.append(ring)
            j = cut
            if m < len(rest):
                ui, uc = _annotations_loop(rest[m : m + 1], *args, False, rings, sink, start=i + k)
                unknown_images, unknown_cats = unknown_images + ui, unknown_cats + uc
        i += part.n
    return unknown_images, unknown_cats


def _annotations_loop(anns, imgs, cats, src, report, declared, counts, merge, consume, rings, sink=None, *, start=0) -> tuple[int, int]:
    """Read annotations (the ``start``-th of the file first) into their items; returns the counts
    of those skipped for an unknown image and for an unknown category."""
    unknown_images = unknown_cats = 0
    shapes_of = annotation_shapes
    plain, add_ring, isfinite = PLAIN, rings.add, _isfinite
    consume = consume and type(anns) is list  # pieces are released by JsonPieces itself
    for i, a in enumerate(anns, start):
        if consume:
            anns[i - start] = None
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
        if merge is None and a.keys() <= plain and not a.get("iscrowd"):
            seg = a.get("segmentation")
            if type(seg) is list and len(seg) == 1:
                ring = seg[0]
                if type(ring) is list and len(ring) >= 6 and not len(ring) & 1:
                    try:
                        finite = isfinite(sum(ring))
                    except TypeError:  # not numbers: the general path says where
                        finite = False
                    if finite:
                        if sink is not None:
                            item.shapes.append(sink.add(ring, label))
                            continue
                        g = {"points": None, "holes": []}
                        add_ring(ring, g)
                        item.shapes.append(Shape("polygon", label, g, {}, 0, None, None, "manual", None))
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
    return unknown_images, unknown_cats


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
