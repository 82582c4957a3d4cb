"""Dataset <-> VOC records: ``voc_to_dataset`` builds a Dataset from parsed XML records and
segmentation index arrays (boxes, parts, masks grouped with their objects, tags from class lists,
the schema with parents and attributes); ``dataset_to_voc`` groups each item's shapes into VOC
objects, paints them into class and instance arrays and yields the item's XML and PNGs."""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np

from limner.core import rle as _rle
from limner.core.dataset import Dataset, Item
from limner.core.geometry import rasterize
from limner.core.schema import Attribute, Label
from limner.core.shapes import Shape
from limner.formats.base import Report
from limner.formats.voc.annotations import _annotation_xml
from limner.formats.voc.segmentation import _PALETTE, VOC_LABELS, VOID, _hex, _label_indices, _png

_PIXEL_KINDS = ("polygon", "mask", "ellipse", "rotated_box")
_AREA_KINDS = ("box",) + _PIXEL_KINDS
_PLURAL = {"box": "boxes", "rotated_box": "rotated boxes", "polygon": "polygons", "ellipse": "ellipses",
           "mask": "masks", "polyline": "polylines", "points": "points", "skeleton": "skeletons", "tag": "tags"}  # fmt: skip


# -- reading -------------------------------------------------------------------------------------


def voc_to_dataset(
    records: Iterable[dict],
    *,
    labelmap: list | None = None,
    index_labels: dict[int, str] | None = None,
    report: Report | None = None,
) -> tuple[Dataset, Report]:
    """Records -> Dataset. A record: ``{"id", "name", "subset", "image", "width", "height",
    "objects" (from the XML, or None), "metadata", "class_mask", "object_mask" ((h, w) index arrays
    or None), "present" (labels of the class lists)}``; ``index_labels`` maps class indices to
    labels (VOC's by default)."""
    report = report or Report(format="Pascal VOC")
    index_labels = index_labels or dict(enumerate(VOC_LABELS))
    ds = Dataset()
    used: dict[str, None] = {}
    parents: dict[str, str] = {}
    actions: dict[str, list[str]] = {}
    attr_kinds: dict[str, dict[str, object]] = {}

    def use(label: str, attrs: dict | None = None) -> None:
        used.setdefault(label, None)
        if attrs:
            kinds = attr_kinds.setdefault(label, {})
            for k, v in attrs.items():
                kinds.setdefault(k, v)

    for r in records:
        item = Item(r["name"], r.get("width"), r.get("height"), subset=r.get("subset"), image=r.get("image"))
        if r.get("metadata"):
            item.metadata["voc"] = r["metadata"]
        shapes = item.shapes
        objects = r.get("objects") or []
        groups: list[int | None] = []
        om, cm = r.get("object_mask"), r.get("class_mask")
        instances = set(np.unique(om).tolist()) - {0, VOID} if om is not None else set()
        for i, o in enumerate(objects, 1):
            g = i if (o["parts"] or i in instances) else None
            groups.append(g)
            use(o["name"], o["attributes"])
            for a in o["actions"]:
                if a not in actions.setdefault(o["name"], []):
                    actions[o["name"]].append(a)
            if o["box"] is not None and o["box"]["w"] > 0 and o["box"]["h"] > 0:
                shapes.append(Shape("box", o["name"], o["box"], dict(o["attributes"]), group_id=g))
            elif o["box"] is not None:
                report.drop("boxes of zero width or height dropped")
            for p in o["parts"]:
                parents.setdefault(p["name"], o["name"])
                use(p["name"])
                shapes.append(Shape("box", p["name"], p["box"], group_id=g))
        covered = None
        for k in sorted(instances):
            m = om == k
            label = None
            if cm is not None:
                vals = cm[m]
                vals = vals[(vals != 0) & (vals != VOID)]
                if vals.size:
                    label = index_labels.get(int(np.bincount(vals).argmax()))
            if label is None and k <= len(objects):
                label = objects[k - 1]["name"]
            if label is None:
                report.problem(f"{r['name']}: instance {k} of its SegmentationObject has no class; dropped")
                continue
            use(label)
            shapes.append(Shape("mask", label, {"rle": _rle.encode(m)}, group_id=k))
            covered = m if covered is None else covered | m
        if cm is not None:
            for c in sorted(set(np.unique(cm).tolist()) - {0, VOID}):
                m = cm == c
                if covered is not None:
                    m &= ~covered
                if not m.any():
                    continue
                label = index_labels.get(c)
                if label is None:
                    report.problem(f"{r['name']}: class index {c} of its SegmentationClass has no label; dropped")
                    continue
                use(label)
                shapes.append(Shape("mask", label, {"rle": _rle.encode(m)}))
        have = {s.label for s in shapes}
        for label in r.get("present") or ():
            if label not in have:
                use(label)
                shapes.append(Shape("tag", label))
        report.shapes += len(shapes)
        ds.items.append(item)
    # the schema: labelmap order (background only when used), else VOC order, then the rest
    labels: list[Label] = []
    if labelmap:
        for name, color, parts, acts in labelmap:
            if name == "background" and name not in used:
                continue
            labels.append(Label(name, _hex(color) if color else "#1f77b4"))
            for p in parts:
                parents.setdefault(p, name)
            for a in acts:
                if a not in actions.setdefault(name, []):
                    actions[name].append(a)
    else:
        labels = [Label(n, _hex(_PALETTE[i])) for i, n in enumerate(VOC_LABELS) if n in used]
    known = {lb.name for lb in labels}
    extra = [n for n in used if n not in known] + [p for p in parents if p not in known and p not in used]
    for n in extra:
        labels.append(Label(n, _hex(_PALETTE[(len(labels) + 1) % 255])))
    by_name = {lb.name: lb for lb in labels}
    for lb in labels:
        parent = parents.get(lb.name)
        if parent in by_name and parent != lb.name:
            lb.parent = parent
        for a in actions.get(lb.name, []):
            lb.attributes.append(Attribute(a, "checkbox"))
        for k, v in attr_kinds.get(lb.name, {}).items():
            if k not in actions.get(lb.name, []):
                kind = "checkbox" if isinstance(v, bool) else "number" if isinstance(v, (int, float)) else "text"
                lb.attributes.append(Attribute(k, kind))
    ordered = [lb for lb in labels if lb.parent is None] + [lb for lb in labels if lb.parent is not None]
    for lb in ordered:
        ds.schema.add(lb)
    ds.info["voc"] = {"actions": {k: v for k, v in actions.items() if v}}
    report.items = len(ds.items)
    return ds, report


# -- writing -------------------------------------------------------------------------------------


def _objects(item: Item, dataset: Dataset, report: Report, boxes: bool) -> tuple[list[dict], list]:
    """Group the item's area shapes into VOC objects: ``{"label", "box", "pixel", "attributes",
    "parts"}`` (``pixel``: the shape drawn into the PNGs). Returns (objects, tags)."""
    groups: dict[object, list[Shape]] = {}
    tags = []
    for n, s in enumerate(item.shapes):
        if s.kind == "tag":
            tags.append(s)
            continue
        if s.kind not in _AREA_KINDS:
            report.drop(f"{_PLURAL[s.kind]} dropped")
            continue
        report.unrepresentable(s, "z_order", "track_id", "source", "confidence")
        groups.setdefault(("g", s.group_id) if s.group_id is not None else ("s", n), []).append(s)
    objects: list[dict] = []
    for members in groups.values():
        labels = {s.label for s in members}
        start = len(objects)
        parts = []
        for s in members:
            lb = dataset.schema.get(s.label)
            parent = lb.parent if lb is not None else None
            if parent is not None and parent in labels and parent != s.label:
                parts.append((parent, s))
                continue
            slot = "box" if s.kind == "box" else "pixel"
            target = next((o for o in objects[start:] if o["label"] == s.label and o[slot] is None), None)
            if target is None:
                target = {"label": s.label, "box": None, "pixel": None, "attributes": {}, "parts": []}
                objects.append(target)
            target[slot] = s
            for k, v in s.attributes.items():
                target["attributes"].setdefault(k, v)
        for parent, s in parts:
            owner = next((o for o in objects[start:] if o["label"] == parent), None)
            if owner is not None and not boxes:
                report.drop("parts dropped (voc_segmentation keeps masks only)")
            elif owner is not None:
                owner["parts"].append(s)
                if s.kind != "box":
                    report.drop(f"{_PLURAL[s.kind]} of parts written as their bounding boxes")
                if s.attributes:
                    report.drop("attributes of parts not representable")
        if len(objects) - start > 1 and members[0].group_id is not None:
            report.drop("group ids not representable (several objects in one group)", len(objects) - start - 1)
    return objects, tags


def _paint(objects: list[dict], H: int, W: int, indices: dict[str, int], report: Report):
    cls = np.zeros((H, W), np.uint8)
    obj = np.zeros((H, W), np.uint8)
    order = sorted(
        (o for o in objects if o["pixel"] is not None and not o.get("dropped")),
        key=lambda o: o["pixel"].z_order,
    )
    number = {id(o): n for n, o in enumerate((o for o in objects if not o.get("dropped")), 1)}
    for o in order:
        s = o["pixel"]
        k = number[id(o)]
        if s.kind == "mask" and list(s.geometry["rle"]["size"]) != [H, W]:
            report.problem(f"a mask of {s.geometry['rle']['size']} on an image of {H}x{W} was left out of the PNGs")
            continue
        if k >= VOID:
            report.drop("instances beyond the 254 a SegmentationObject PNG holds left out")
            continue
        m = rasterize(s.kind, s.geometry, H, W).astype(bool)
        if not m.any():
            continue
        if s.kind != "mask":
            report.drop(f"{_PLURAL[s.kind]} written as pixel masks")
        if obj[m].any():
            report.drop("masks partly hidden by overlapping masks")
        obj[m] = k
        if o["label"] in indices:
            cls[m] = indices[o["label"]]
    return cls, obj


def dataset_to_voc(
    dataset: Dataset,
    *,
    task: str = "voc",
    report: Report,
    round_coordinates: bool = True,
    size_of=None,
    indices: dict[str, int] | None = None,
):
    """Yield per item ``(id, {relative path: XML text or PNG bytes}, item, objects, tags)``."""
    if indices is None:
        indices = _label_indices(dataset.label_names(), report)
    actions = (dataset.info.get("voc") or {}).get("actions") or {}
    want_xml, want_png = task in ("voc", "voc_detection"), task in ("voc", "voc_segmentation")
    for item in dataset.items:
        vid = os.path.splitext(item.name.replace("\\", "/").lstrip("/"))[0]
        size = size_of(item) if size_of else (item.width, item.height) if item.width and item.height else None
        if size is None:
            size = next((tuple(s.geometry["rle"]["size"][::-1]) for s in item.shapes if s.kind == "mask"), None)
        W, H = size if size else (None, None)
        objects, tags = _objects(item, dataset, report, want_xml)
        files: dict[str, bytes | str] = {}
        has_pixels = want_png and any(o["pixel"] is not None for o in objects)
        if not want_png:
            for o in objects:
                if o["pixel"] is not None and o["box"] is None:
                    report.drop(f"{_PLURAL[o['pixel'].kind]} written as their bounding boxes")
                elif o["pixel"] is not None:
                    report.drop(f"{_PLURAL[o['pixel'].kind]} dropped (a box of their group was written)")
        if want_xml:
            files[f"Annotations/{vid}.xml"] = _annotation_xml(
                item, objects, W, H, has_pixels and bool(W), actions, round_coordinates, report
            )
        else:
            for o in objects:
                if o["box"] is not None:
                    report.drop("boxes dropped (voc_segmentation keeps masks only)")
                if o["pixel"] is None:
                    o["dropped"] = True
                elif o["attributes"]:
                    report.drop("attributes not representable")
            objects = [o for o in objects if not o.get("dropped")]
        if has_pixels:
            if not W:
                report.drop("masks and polygons of images of unknown size dropped")
            else:
                cls, obj = _paint(objects, H, W, indices, report)
                files[f"SegmentationClass/{vid}.png"] = _png(cls)
                files[f"SegmentationObject/{vid}.png"] = _png(obj)
        yield vid, files, item, objects, tags
