"""COCO panoptic: ``annotations/panoptic_<subset>.json`` and one PNG per image in
``annotations/panoptic_<subset>/``, where a pixel's segment id is ``R + 256*G + 256²*B`` (0: no
segment).

Reading: each entry of an image's ``segments_info`` becomes a mask shape of its category's label,
``iscrowd`` 1 the attribute ``iscrowd`` True; ``attributes``, ``score`` and ``limner`` on a segment
are read as in :mod:`limner.formats.coco`. Categories keep their id, ``isthing`` and other keys in
``dataset.info["coco"]["categories"]``. A PNG that is missing, or whose size differs from its image,
is reported and its segments skipped.

Writing: the area shapes of an item (mask, polygon, box, rotated_box, ellipse) are painted in
z-order (later shapes on top) into one PNG at the image size; each visible shape is a segment with
id 1, 2, ... Pixels covered twice go to the shape on top and shapes left with no pixel are dropped;
tags, skeletons, polylines and points have no place in panoptic PNGs. Each is counted in the report.
``isthing`` comes from the kept category, else 1.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from limner.core.dataset import Dataset, Item
from limner.core.shapes import Shape
from limner.errors import ValidationError
from limner.formats import coco
from limner.formats.base import FormatError, Report, atomic_write, load_json
from limner.formats.registry import Format, register

__all__ = ["dataset_to_panoptic", "detect", "item_to_panoptic", "panoptic_to_dataset", "read", "write"]

_AREA_KINDS = ("mask", "polygon", "box", "rotated_box", "ellipse")


def png_name(file_name: str) -> str:
    """The PNG of an image: its file name with the extension .png."""
    stem, _ = os.path.splitext(file_name)
    return stem + ".png"


def ids_of(rgb: np.ndarray) -> np.ndarray:
    """Segment ids of an (H, W, 3) panoptic image: R + 256 G + 256² B."""
    a = rgb.astype(np.uint32)
    return a[..., 0] + (a[..., 1] << 8) + (a[..., 2] << 16)


def rgb_of(ids: np.ndarray) -> np.ndarray:
    return np.stack([(ids & 255), (ids >> 8) & 255, (ids >> 16) & 255], axis=-1).astype(np.uint8)


def _segment_rles(ids: np.ndarray, segments: list) -> list[dict | None]:
    """COCO RLEs of the pixels of each segment id (one comparison and one encode for them all);
    None for an id with no pixel."""
    from pycocotools import mask as mask_utils

    h, w = ids.shape
    step = max(1, (64 << 20) // max(1, h * w))  # at most ~64 MB of masks at a time
    flat = ids[:, :, None]
    out: list[dict | None] = []
    for k in range(0, len(segments), step):
        want = np.array([s[0] for s in segments[k : k + step]], dtype=ids.dtype)
        rles = mask_utils.encode(np.asfortranarray((flat == want).astype(np.uint8)))
        areas = mask_utils.area(rles)
        out += [{"size": [h, w], "counts": r["counts"].decode("ascii")} if a > 0 else None for r, a in zip(rles, areas)]
    return out


def panoptic_to_dataset(
    files: list[tuple[str | None, dict, str]],
    load_ids: Callable[[str, str | None, str], np.ndarray | None],
    *,
    report: Report | None = None,
) -> Dataset:
    """A Dataset from parsed panoptic files (subset, data, source name); ``load_ids(source, subset,
    png file name)`` gives a PNG's segment ids as an (H, W) array, or None when it is missing."""
    report = report if report is not None else Report("COCO panoptic")
    ds = Dataset()
    ds.info["coco"] = {"categories": {}}
    items: dict[str, Item] = {}
    for subset, data, src in files:
        coco.check_top(data, src, ("images", "annotations", "categories", "licenses"))
        coco.read_meta(data, ds)
        cats = coco.read_categories(data, src, ds, report)
        imgs = coco.read_images(data, src, subset, ds, items)
        for i, a in enumerate(data.get("annotations") or ()):
            key = f"annotations[{i}]"
            if type(a) is not dict:
                raise FormatError(src, "an annotation must be an object", key=key)
            segs = a.get("segments_info")
            segs = [] if segs is None else segs
            fn = a.get("file_name")
            if not isinstance(segs, list):
                raise FormatError(src, "segments_info must be a list", key=f"{key}.segments_info")
            if not isinstance(fn, str) or not fn:
                raise FormatError(src, "an annotation needs the file_name of its PNG", key=f"{key}.file_name")
            item = imgs.get(a.get("image_id"))
            if item is None:
                report.drop("segments of images not in the file skipped", len(segs))
                continue
            if not segs:
                continue
            ids = load_ids(src, subset, fn)
            if ids is None:
                report.drop("segments whose PNG is missing skipped", len(segs))
                report.problem(f"{src}: {key}: the PNG {fn} is missing")
                continue
            if item.height and item.width and ids.shape != (item.height, item.width):
                report.drop("segments whose PNG size differs from the image skipped", len(segs))
                report.problem(
                    f"{src}: {key}: {fn} is {ids.shape[1]}x{ids.shape[0]} pixels, the image {item.width}x{item.height}"
                )
                continue
            if not item.height or not item.width:
                item.height, item.width = int(ids.shape[0]), int(ids.shape[1])
            keep = []
            for j, sg in enumerate(segs):
                skey = f"{key}.segments_info[{j}]"
                if type(sg) is not dict or type(sg.get("id")) is not int or not 0 < sg["id"] < 1 << 24:
                    raise FormatError(src, "a segment must be an object with an id in 1..16777215", key=skey)
                label = cats.get(sg.get("category_id"))
                if label is None:
                    report.drop("segments with an unknown category_id skipped")
                    continue
                attrs = sg.get("attributes")
                if attrs is not None and type(attrs) is not dict:
                    raise FormatError(src, "attributes must be an object", key=f"{skey}.attributes")
                attrs = dict(attrs or {})
                if sg.get("iscrowd"):
                    attrs["iscrowd"] = True
                keep.append((sg["id"], label, attrs, coco.read_extras(sg, attrs, src, skey)))
            for rle, (_, label, attrs, (z, gid, tid, source, conf, _)) in zip(_segment_rles(ids, keep), keep):
                if rle is None:
                    report.drop("segments with no pixel in their PNG skipped")
                    continue
                item.shapes.append(Shape("mask", label, {"rle": rle}, attrs, z, gid, tid, source, conf))
    coco.finish_skeletons(ds, {}, report)
    coco.declare_attributes(ds, report)
    report.items = len(ds.items)
    report.shapes = ds.shape_count
    return ds


def _png_dirs(json_file: Path) -> list[Path]:
    return [json_file.parent / json_file.stem, json_file.parent]


def read(path: Path, **options) -> tuple[Dataset, Report]:
    """Read ``annotations/panoptic_<subset>.json`` with their PNG folders, or one panoptic JSON."""
    from PIL import Image

    path = Path(path)
    report = Report("COCO panoptic")
    files = coco.find_files(path, ("panoptic",))
    if not files:
        raise FormatError(path, "no COCO panoptic files found (expected annotations/panoptic_<subset>.json)")
    where = {str(f): _png_dirs(f) for _, _, f in files}

    def load_ids(src: str, subset: str | None, fn: str) -> np.ndarray | None:
        for d in where[src]:
            p = d / fn
            if p.is_file():
                try:
                    with Image.open(p) as im:
                        return ids_of(np.asarray(im.convert("RGB")))
                except OSError as e:
                    raise FormatError(p, f"not a readable PNG: {e}") from None
        return None

    parsed = [(subset, load_json(f), str(f)) for _, subset, f in files]
    ds = panoptic_to_dataset(parsed, load_ids, report=report)
    sources = {}
    for _, subset, f in files:
        sources.setdefault(coco.split_subset(subset), (f, subset))
    coco.find_images(ds, path, sources, report)
    return ds, report


def item_to_panoptic(
    item: Item, image_id: Any, cat_ids: dict[str, int], report: Report
) -> tuple[dict, np.ndarray | None]:
    """The panoptic annotation of one item and its segment-id image (None when it has no segment)."""
    from limner.core.geometry import rasterize

    ann: dict = {"image_id": image_id, "file_name": png_name(coco.file_name_of(item)), "segments_info": []}
    area = []
    for s in item.shapes:
        if s.kind in _AREA_KINDS:
            area.append(s)
        else:
            report.drop(f"{s.kind} shapes dropped (COCO panoptic has only segments)")
    if not area:
        return ann, None
    h, w = item.height, item.width
    if not h or not w:
        report.drop("shapes of images of unknown size dropped", len(area))
        report.problem(f"{item.name}: the image size is unknown, so its segments cannot be painted")
        return ann, None
    area.sort(key=lambda s: s.z_order)
    canvas = np.zeros((h, w), dtype=np.uint32)
    drawn = []
    for k, s in enumerate(area):
        m = rasterize(s.kind, s.geometry, h, w).astype(bool)
        canvas[m] = k + 1
        drawn.append(int(np.count_nonzero(m)))
    final = np.bincount(canvas.ravel(), minlength=len(area) + 1)
    for k, s in enumerate(area):
        sid = k + 1
        n = int(final[sid])
        if n == 0:
            report.drop("shapes hidden by shapes above them (or empty) dropped")
            continue
        if n < drawn[k]:
            report.drop("shapes that lost overlapping pixels to a shape above them")
        ys, xs = np.nonzero(canvas == sid)
        x0, y0 = int(xs.min()), int(ys.min())
        attrs = dict(s.attributes)
        seg = {
            "id": sid,
            "category_id": cat_ids[s.label],
            "area": n,
            "bbox": [x0, y0, int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1],
            "iscrowd": 1 if attrs.pop("iscrowd", False) else 0,
        }
        if attrs:
            seg["attributes"] = attrs
        if s.confidence is not None:
            seg["score"] = s.confidence
        extra: dict = {}
        coco.write_extras(s, s.group_id, extra)
        if extra:
            seg["limner"] = extra
        ann["segments_info"].append(seg)
    return ann, canvas


def dataset_to_panoptic(dataset: Dataset, *, report: Report | None = None):
    """Yield (subset, document, [(png name, (H, W, 3) uint8 array), ...]) per subset; the PNGs are
    made as the items are met."""
    report = report if report is not None else Report("COCO panoptic")
    ids, kept = coco.category_ids(dataset)
    meta = dataset.info.get("coco") or {}
    cats = []
    for name, cid in ids.items():
        rec = {"id": cid, "name": name, "supercategory": "", "isthing": 1}
        rec.update({k: v for k, v in (kept.get(name) or {}).items() if k not in ("id", "name")})
        cats.append(rec)
    subsets: dict[str, list[Item]] = {}
    for item in dataset.items:
        subsets.setdefault(item.subset or coco.DEFAULT_SUBSET, []).append(item)
    for subset, items in subsets.items():
        images, anns = [], []

        def pngs(items=items, images=images, anns=anns):
            for item, iid in zip(items, coco.image_ids(items)):
                rec = {"id": iid, "file_name": coco.file_name_of(item)}
                if item.width and item.height:
                    rec["width"], rec["height"] = item.width, item.height
                rec.update({k: v for k, v in (item.metadata.get("coco") or {}).items() if k not in rec and k != "id"})
                images.append(rec)
                ann, canvas = item_to_panoptic(item, iid, ids, report)
                anns.append(ann)
                if canvas is None and item.width and item.height:
                    canvas = np.zeros((item.height, item.width), dtype=np.uint32)
                if canvas is not None:
                    yield ann["file_name"], rgb_of(canvas)

        doc = {"info": meta.get("info", {}), "licenses": meta.get("licenses", []), "images": images,
               "annotations": anns, "categories": cats}  # fmt: skip
        yield subset, doc, pngs()


def write(dataset: Dataset, path: Path, *, include_images: bool = False, **options) -> Report:
    """Write ``annotations/panoptic_<subset>.json`` and ``annotations/panoptic_<subset>/*.png``."""
    from PIL import Image

    path = Path(path)
    if path.suffix.lower() == ".json":
        raise ValidationError(f"{path}: COCO panoptic is written as a folder; give a folder", field="path")
    report = Report("COCO panoptic")
    for subset, doc, pngs in dataset_to_panoptic(dataset, report=report):
        folder = path / "annotations" / f"panoptic_{subset}"
        for name, rgb in pngs:
            buf = io.BytesIO()
            Image.fromarray(rgb, "RGB").save(buf, "PNG")
            atomic_write(folder / name, buf.getvalue())
        atomic_write(path / "annotations" / f"panoptic_{subset}.json", coco.dumps(doc))
    if include_images:
        coco.copy_images(dataset, path, report)
    report.items = len(dataset.items)
    report.shapes = dataset.shape_count
    return report


def detect(path: Path) -> int:
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() != ".json":
            return 0
        head = coco.peek(path)
        return 75 if b'"segments_info"' in head and (b'"images"' in head or b'"annotations"' in head) else 0
    ann = path / "annotations"
    if not ann.is_dir():
        return 0
    tasks = {t[0] for t in (coco.parse_name(f) for f in os.listdir(ann)) if t}
    if "panoptic" not in tasks:
        return 0
    return 90 if tasks == {"panoptic"} else 60


register(
    Format(
        name="coco_panoptic",
        description="COCO panoptic segmentation (annotations/panoptic_<subset>.json + PNGs)",
        read=read,
        write=write,
        detect=detect,
    )
)
