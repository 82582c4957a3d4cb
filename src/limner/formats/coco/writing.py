"""A Dataset to COCO documents: ``dataset_to_coco`` makes, per subset, the instances, labels and
captions documents; the shapes of one group and label become one annotation (polygons one
multi-polygon segmentation, a skeleton with its box and segmentation), with bbox and area, image
ids kept, and what COCO has no field for in the annotation's ``limner`` dict. ``CocoParts`` gives
the same documents in parts, for a writer that streams the annotations."""

from __future__ import annotations

from itertools import chain as _chain
from operator import mul as _mul
from typing import Any

from limner.core.dataset import Dataset, Item
from limner.core.points import Points
from limner.core.shapes import Shape
from limner.formats.base import Report, no_gc
from limner.formats.coco.categories import _categories, category_ids
from limner.formats.coco.layout import DEFAULT_SUBSET, file_name_of


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
        report = report if report is not None else Report("COCO")
        docs: dict[tuple[str, str], dict] = {}
        parts = CocoParts(dataset, report)
        for sub in parts.subsets():
            anns = [a for chunk in sub.annotations() for a in chunk]
            docs[("instances", sub.name)] = {**sub.head, "images": sub.images, "annotations": anns, "categories": []}
            docs.update(sub.others())
        cats = parts.categories()
        for (task, _), doc in docs.items():
            if task != "captions":
                doc["categories"] = cats
        return docs


class CocoParts:
    """A dataset as the parts of its COCO documents, subset by subset, so that a writer can stream
    the instances' annotations (most of a document) in chunks instead of holding them all: per
    subset its head and images, then its annotations (:meth:`_Subset.annotations`), then its labels
    and captions documents; the categories last, since a skeleton's keypoint count is known once
    its first annotation is made. COCO's own key order is kept: images first, so a peek at the head
    of a file sees them, and categories last."""

    def __init__(self, dataset: Dataset, report: Report):
        self.dataset, self.report = dataset, report
        self.ids, self.kept = category_ids(dataset)
        meta = dataset.info.get("coco") or {}
        self.head = {"info": meta.get("info", {}), "licenses": meta.get("licenses", [])}
        for k, v in (meta.get("extra") or {}).items():
            if k not in ("images", "annotations", "categories"):
                self.head.setdefault(k, v)
        self.npoints: dict[str, int] = {}

    def subsets(self):
        by_subset: dict[str, list[Item]] = {}
        for item in self.dataset.items:
            by_subset.setdefault(item.subset or DEFAULT_SUBSET, []).append(item)
        for name, items in by_subset.items():
            yield _Subset(self, name, items)
        self.report.items = len(self.dataset.items)
        self.report.shapes = self.dataset.shape_count

    def categories(self) -> list[dict]:
        return _categories(self.dataset, self.ids, self.kept, self.npoints)


class _Subset:
    """One subset's parts: its images and captions made at once, its annotations when asked."""

    def __init__(self, parts: CocoParts, name: str, items: list[Item]):
        self.parts, self.name, self.items = parts, name, items
        self.head = parts.head
        self.iids = image_ids(items)
        self.images, self.captions = [], []
        for item, iid in zip(items, self.iids):
            rec = {"id": iid, "file_name": file_name_of(item)}
            if item.width and item.height:
                rec["width"], rec["height"] = item.width, item.height
            else:
                parts.report.drop("images written without width and height (size unknown)")
            rec.update({k: v for k, v in (item.metadata.get("coco") or {}).items() if k not in rec and k != "id"})
            self.images.append(rec)
            for c in item.metadata.get("captions") or ():
                self.captions.append({"id": len(self.captions) + 1, "image_id": iid, "caption": c})
        self.tags: list[dict] = []

    def annotations(self, chunk: int = 20_000):
        """The instances' annotations, numbered from 1, in lists of about ``chunk``; tags are
        collected for :meth:`others` meanwhile."""
        p = self.parts
        out: list[dict] = []
        n = 0  # annotations yielded before ``out``
        for item, iid in zip(self.items, self.iids):
            _item_annotations(item, iid, p.ids, out, self.tags, p.report, p.npoints)
            if len(out) >= chunk:
                yield _numbered(out, n)
                n += len(out)
                out = []
        if out or not n:
            yield _numbered(out, n)

    def others(self) -> dict[tuple[str, str], dict]:
        """The labels (tags) and captions documents of the subset, once its annotations are made;
        their categories are set by the caller."""
        docs = {}
        _numbered(self.tags, 0)
        if self.tags:
            docs[("labels", self.name)] = {**self.head, "images": self.images, "annotations": self.tags, "categories": []}
        if self.captions:
            docs[("captions", self.name)] = {**self.head, "images": self.images, "annotations": self.captions, "categories": []}
        return docs


def _numbered(anns: list[dict], before: int) -> list[dict]:
    """Give annotations their ids in place, from ``before + 1`` on."""
    for j, a in enumerate(anns, before + 1):
        a["id"] = j
    return anns


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
