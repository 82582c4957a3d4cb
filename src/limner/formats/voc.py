"""Pascal VOC: Annotations/*.xml, SegmentationClass/ and SegmentationObject/ PNGs, ImageSets lists.

Layout::

    Annotations/<id>.xml              one per image: size, objects with bndbox, parts, actions
    JPEGImages/<id>.jpg
    SegmentationClass/<id>.png        indexed PNG, the VOC palette: index = class, 0 background, 255 void
    SegmentationObject/<id>.png       index = instance: the n-th <object> of the XML
    ImageSets/Main/<subset>.txt       ids per subset (also Segmentation/, Action/, Layout/)
    ImageSets/Main/<label>_<subset>.txt   "<id> 1|0|-1": image-level presence of a class
    labelmap.txt                      datumaro's extension: name:r,g,b:parts:actions per line

Coordinates. VOC numbers pixels from 1 and its boxes include both end pixels: ``xmin=1, xmax=3``
covers the first three pixel columns. In Limner a pixel ``i`` covers ``[i, i+1)`` from 0, so that box
is ``x=0, w=3``: reading gives ``x = xmin - 1, w = xmax - xmin + 1`` and writing the inverse,
``xmin = x + 1, xmax = x + w`` (rounded to whole pixels unless ``round_coordinates=False``, and
clipped to the image). datumaro reads ``x = xmin, w = xmax - xmin``: boxes differ from its by one
pixel in position and size.

Reading. Each ``<object>`` is a box with attributes: ``pose`` (kept unless "Unspecified"),
``truncated``/``difficult``/``occluded`` (kept when 1), each ``<actions>`` child (a checkbox), the
``<point>`` as ``point_x``/``point_y``, datumaro's ``<attributes><attribute><name/><value/>`` and any
other scalar child. ``<part>`` children become boxes whose label has the object's label as parent,
sharing the object's group_id. A SegmentationObject instance ``n`` becomes a mask grouped with the
n-th object (label from the SegmentationClass pixels under it, else the object's); SegmentationClass
pixels of a class not covered by any instance become one mask per class (no group). Class lists
give tags for the classes present (1) in an image that has no object of that class. An item's
subset is the smallest list naming it (``train`` rather than ``trainval``). Without labelmap.txt the
PNG indices and colours are VOC's 21 classes.

Writing ("voc": everything; "voc_detection": XML only; "voc_segmentation": PNGs only): every shape
with an area becomes an object (box: its bndbox; polygon, mask, ellipse, rotated box: their bounding
box, and their pixels in the PNGs), shapes of one group become one object (a box and a mask of one
label), with ``<part>`` for members whose label's parent is the object's label. labelmap.txt lists
background and the labels with their palette colours; PNG indices are VOC's own when every label is
a VOC class, else schema order from 1 (254 at most; 255 is void). Every object gets ``pose``,
``truncated`` and ``difficult`` (VOC's defaults when unset: its evaluation code reads them),
``occluded`` when set, actions (the label's, from ``dataset.info["voc"]["actions"]``) in
``<actions>``, other attributes in datumaro's ``<attributes>`` (read back typed: true/false, numbers,
text). Items without a subset are listed in ``ImageSets/*/default.txt``. Class lists are written
when the dataset has tags (``class_lists``); z-order, track ids, sources, confidences, polylines,
points and skeletons are dropped and counted.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from limner.core import rle as _rle
from limner.core.dataset import Dataset, Item
from limner.core.geometry import bbox, rasterize
from limner.core.schema import Attribute, Label
from limner.core.shapes import Shape
from limner.formats.base import FormatError, Report, atomic_copy, atomic_write, parse_xml
from limner.formats.registry import Format, register

__all__ = [
    "VOC_LABELS",
    "dataset_to_voc",
    "detect",
    "read",
    "voc_palette",
    "voc_to_dataset",
    "write",
]

VOC_LABELS = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
)  # fmt: skip
VOID = 255
_FLAGS = ("truncated", "difficult", "occluded")
_PIXEL_KINDS = ("polygon", "mask", "ellipse", "rotated_box")
_AREA_KINDS = ("box",) + _PIXEL_KINDS
_PLURAL = {"box": "boxes", "rotated_box": "rotated boxes", "polygon": "polygons", "ellipse": "ellipses",
           "mask": "masks", "polyline": "polylines", "points": "points", "skeleton": "skeletons", "tag": "tags"}  # fmt: skip
_SUBSET_DIRS = ("Main", "Segmentation", "Action", "Layout")
_XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")  # what may be written as an element name


def voc_palette(n: int = 256) -> list[tuple[int, int, int]]:
    """VOC's colour map: the bits of the index spread over r, g, b from the high bit down."""
    out = []
    for i in range(n):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= (c & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        out.append((r, g, b))
    return out


_PALETTE = voc_palette()


def _hex(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _typed(text: str | None):
    t = (text or "").strip()
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    for conv in (int, float):
        try:
            return conv(t)
        except ValueError:
            pass
    return t


def _flag(text: str | None) -> bool:
    v = _typed(text)
    return bool(v) if not isinstance(v, str) else v.lower() in ("yes", "y")


# -- reading -------------------------------------------------------------------------------------


def _box(el, file, where: str) -> dict:
    vals = {}
    for k in ("xmin", "ymin", "xmax", "ymax"):
        t = el.findtext(k)
        try:
            vals[k] = float(t)
        except (TypeError, ValueError):
            raise FormatError(file, f"expected a number, got {t!r}", key=f"{where}/bndbox/{k}") from None
    x, y = vals["xmin"] - 1.0, vals["ymin"] - 1.0
    return {"x": x, "y": y, "w": vals["xmax"] - vals["xmin"] + 1.0, "h": vals["ymax"] - vals["ymin"] + 1.0}


def _object(el, file, where: str) -> dict:
    """One <object>: name, box (or None), attributes, actions, parts."""
    name = (el.findtext("name") or "").strip()
    if not name:
        raise FormatError(file, "an object needs a name", key=f"{where}/name")
    bnd = el.find("bndbox")
    obj = {"name": name, "box": _box(bnd, file, where) if bnd is not None else None, "attributes": {},
           "actions": [], "parts": []}  # fmt: skip
    attrs = obj["attributes"]
    for ch in el:
        tag = ch.tag
        if tag in ("name", "bndbox"):
            continue
        if tag == "pose":
            p = (ch.text or "").strip()
            if p and p != "Unspecified":
                attrs["pose"] = p
        elif tag in _FLAGS:
            if _flag(ch.text):
                attrs[tag] = True
        elif tag == "actions":
            for a in ch:
                attrs[a.tag] = _flag(a.text)
                obj["actions"].append(a.tag)
        elif tag == "attributes":
            for a in ch.findall("attribute"):
                n = (a.findtext("name") or "").strip()
                if n:
                    attrs[n] = _typed(a.findtext("value"))
        elif tag == "part":
            pb = ch.find("bndbox")
            pn = (ch.findtext("name") or "").strip()
            if pb is not None and pn:
                obj["parts"].append({"name": pn, "box": _box(pb, file, f"{where}/part")})
        elif len(ch):
            for sub in ch:
                if not len(sub):
                    attrs[f"{tag}_{sub.tag}"] = _typed(sub.text)
        else:
            attrs[tag] = _typed(ch.text)
    return obj


def _parse_annotation(path: Path) -> dict:
    root = parse_xml(path).getroot()
    if root.tag != "annotation":
        raise FormatError(path, f"expected an <annotation> root element, got <{root.tag}>")
    rec: dict = {"filename": (root.findtext("filename") or "").strip() or None, "objects": [], "metadata": {}}
    size = root.find("size")
    if size is not None:
        try:
            w, h = int(float(size.findtext("width") or 0)), int(float(size.findtext("height") or 0))
        except ValueError:
            raise FormatError(path, "width and height must be numbers", key="size") from None
        if w > 0 and h > 0:
            rec["width"], rec["height"] = w, h
    for i, el in enumerate(root.findall("object")):
        rec["objects"].append(_object(el, path, f"object[{i}]"))
    for ch in root:
        if ch.tag in ("filename", "size", "object", "segmented", "path"):
            continue
        rec["metadata"][ch.tag] = {s.tag: (s.text or "").strip() for s in ch} if len(ch) else (ch.text or "").strip()
    return rec


def _read_labelmap(path: Path) -> list[tuple[str, tuple | None, list[str], list[str]]]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        parts = s.split(":")
        if len(parts) != 4 or not parts[0]:
            raise FormatError(path, f"expected name:r,g,b:parts:actions, got {s!r}", line=n)
        color = None
        if parts[1]:
            try:
                color = tuple(int(c) for c in parts[1].split(","))
            except ValueError:
                color = ()
            if len(color) != 3 or not all(0 <= c <= 255 for c in color):
                raise FormatError(path, f"colour must be r,g,b from 0 to 255, got {parts[1]!r}", line=n)
        split = lambda t: [p.strip() for p in t.split(",") if p.strip()]  # noqa: E731
        out.append((parts[0], color, split(parts[2]), split(parts[3])))
    return out


def _png_indices(path: Path, color_index: dict[tuple, int], by_color: bool) -> np.ndarray:
    """A segmentation PNG as an (h, w) array of indices. Indexed and grey PNGs give their indices,
    or with ``by_color`` the index of each palette colour in ``color_index`` (unknown colours keep
    their index); RGB PNGs the index of each colour in ``color_index`` (unknown colours: void)."""
    from PIL import Image

    with Image.open(path) as im:
        if im.mode in ("P", "L", "I", "I;16"):
            arr = np.asarray(im).astype(np.int32)
            if im.mode != "P" or not by_color:
                return arr
            pal = im.getpalette() or []
            colors = [tuple(pal[i : i + 3]) for i in range(0, len(pal), 3)][:256]
            colors += [None] * (256 - len(colors))
            lut = np.array([color_index.get(c, i) for i, c in enumerate(colors)], np.int32)
            return lut[arr]
        rgb = np.asarray(im.convert("RGB"), dtype=np.int32)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    uniq, inv = np.unique(packed, return_inverse=True)
    idx = np.array([color_index.get(((u >> 16) & 255, (u >> 8) & 255, u & 255), VOID) for u in uniq.tolist()], np.int32)
    return idx[inv].reshape(packed.shape)


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


def _scan(folder: Path, suffix: str) -> dict[str, Path]:
    out = {}
    if folder.is_dir():
        for dirpath, dirs, files in os.walk(folder):
            dirs.sort()
            for f in sorted(files):
                if f.lower().endswith(suffix) if suffix else not f.startswith("."):
                    p = Path(dirpath, f)
                    out.setdefault(p.relative_to(folder).with_suffix("").as_posix(), p)
    return out


def _image_lists(root: Path, labels: set[str]) -> tuple[dict[str, str], dict[str, set[str]], list[str]]:
    """(item id -> subset, item id -> labels present, ids in list order) from ImageSets."""
    lists: dict[str, list[str]] = {}
    present: dict[str, set[str]] = {}
    order: list[str] = []
    for d in _SUBSET_DIRS:
        folder = root / "ImageSets" / d
        if not folder.is_dir():
            continue
        files = sorted(p for p in folder.iterdir() if p.suffix == ".txt" and p.is_file())
        stems = {p.stem for p in files}
        for p in files:
            rows = []
            for line in p.read_text(encoding="utf-8").splitlines():
                s = line.strip()
                if s and not s.startswith("#"):
                    rows.append(s.split())
            label, _, subset = p.stem.rpartition("_")
            is_class = bool(label) and (subset in stems or label in labels or (rows and len(rows[0]) == 2))
            if is_class and rows and len(rows[0]) == 2 and d == "Main":
                for row in rows:
                    if len(row) >= 2 and row[1] == "1":
                        present.setdefault(row[0], set()).add(label)
                continue
            if is_class or any(len(row) != 1 for row in rows):
                continue
            ids = lists.setdefault(p.stem, [])
            for row in rows:
                ids.append(row[0])
                order.append(row[0])
    subset_of: dict[str, str] = {}
    for name, ids in sorted(lists.items(), key=lambda kv: (-len(set(kv[1])), kv[0])):
        for i in ids:
            subset_of[i] = name  # smaller lists come later and win
    return subset_of, present, list(dict.fromkeys(order))


def read(path: Path, **options) -> tuple[Dataset, Report]:
    """Read a VOC folder (the one holding Annotations/, ImageSets/, JPEGImages/ ...)."""
    root = Path(path)
    report = Report(format="Pascal VOC")
    labelmap = _read_labelmap(root / "labelmap.txt") if (root / "labelmap.txt").is_file() else None
    if labelmap:
        index_labels, color_index = {}, {}
        for i, (name, color, _, _) in enumerate(labelmap):
            color_index.setdefault(tuple(color) if color else _PALETTE[i], i)
            index_labels[i] = name
        color_index.setdefault((0, 0, 0), 0)
    else:
        index_labels = dict(enumerate(VOC_LABELS))
        color_index = {c: i for i, c in enumerate(_PALETTE)}
    color_index[_PALETTE[VOID]] = VOID if _PALETTE[VOID] not in color_index else color_index[_PALETTE[VOID]]
    instance_index = {c: i for i, c in enumerate(_PALETTE)}
    known = set(VOC_LABELS) | {n for n, *_ in labelmap or []}
    subset_of, present, listed = _image_lists(root, known)
    anns = _scan(root / "Annotations", ".xml")
    images = _scan(root / "JPEGImages", "")
    seg_class = _scan(root / "SegmentationClass", ".png")
    seg_object = _scan(root / "SegmentationObject", ".png")
    ids = list(dict.fromkeys(sorted(anns) + sorted(set(listed) | set(seg_class) | set(seg_object))))
    ids = sorted(ids)

    def records():
        for i in ids:
            rec = _parse_annotation(anns[i]) if i in anns else {"objects": None, "metadata": {}}
            img = images.get(i)
            if img is not None:
                name = img.relative_to(root / "JPEGImages").as_posix()
            else:
                fn = rec.get("filename")
                name = (i.rsplit("/", 1)[0] + "/" + fn if "/" in i else fn) if fn else f"{i}.jpg"
                report.missing_images.append(name)
            cm = _png_indices(seg_class[i], color_index, labelmap is not None) if i in seg_class else None
            om = _png_indices(seg_object[i], instance_index, False) if i in seg_object else None
            for m, what in ((cm, "SegmentationClass"), (om, "SegmentationObject")):
                if m is not None and rec.get("width") and m.shape != (rec["height"], rec["width"]):
                    raise FormatError(
                        (seg_class if what == "SegmentationClass" else seg_object)[i],
                        f"mask is {m.shape[1]}x{m.shape[0]}, the annotation says {rec['width']}x{rec['height']}",
                    )
                if m is not None and not rec.get("width"):
                    rec["height"], rec["width"] = m.shape
            if not rec.get("width") and img is not None:
                rec["width"], rec["height"] = _image_size(img)
            yield {
                "id": i, "name": name, "subset": subset_of.get(i), "image": img.resolve() if img else None,
                "width": rec.get("width"), "height": rec.get("height"), "objects": rec["objects"],
                "metadata": rec["metadata"], "class_mask": cm, "object_mask": om, "present": sorted(present.get(i, ())),
            }  # fmt: skip

    return voc_to_dataset(records(), labelmap=labelmap, index_labels=index_labels, report=report)


# -- writing -------------------------------------------------------------------------------------


def _label_indices(names: list[str], report: Report) -> dict[str, int]:
    if all(n in VOC_LABELS for n in names):
        return {n: VOC_LABELS.index(n) for n in names}
    out, i = {}, 1
    for n in names:
        if n == "background":
            out[n] = 0
            continue
        if i >= VOID:
            report.drop("labels beyond the 254 a VOC palette holds left out of the segmentation PNGs")
            continue
        out[n] = i
        i += 1
    return out


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


def _fmt_num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(round(float(v), 6))


def _bndbox(b, W, H, rounded: bool, report: Report, indent: str) -> str | None:
    x0, y0, x1, y1 = b[0], b[1], b[0] + b[2], b[1] + b[3]
    if rounded:
        r = (round(x0), round(y0), round(x1), round(y1))
        if r != (x0, y0, x1, y1):
            report.drop("box coordinates rounded to whole pixels")
        x0, y0, x1, y1 = r
    if W and H:
        c = (max(x0, 0), max(y0, 0), min(x1, W), min(y1, H))
        if c != (x0, y0, x1, y1):
            report.drop("shapes clipped to the image")
        x0, y0, x1, y1 = c
    if x1 <= x0 or y1 <= y0:
        report.drop("shapes outside the image dropped")
        return None
    vals = (x0 + 1, y0 + 1, x1, y1)
    inner = "".join(f"{indent}  <{k}>{_fmt_num(v)}</{k}>\n" for k, v in zip(("xmin", "ymin", "xmax", "ymax"), vals))
    return f"{indent}<bndbox>\n{inner}{indent}</bndbox>\n"


def _xml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return escape(str(v))


def _annotation_xml(item, objects, W, H, segmented, actions, rounded, report) -> str:
    meta = item.metadata.get("voc") or {}
    e = escape
    parts = ["<annotation>\n"]
    parts.append(f"  <folder>{e(str(meta.get('folder', '')))}</folder>\n")
    parts.append(f"  <filename>{e(item.name.rsplit('/', 1)[-1])}</filename>\n")
    for k, v in meta.items():
        if k == "folder" or not _XML_NAME.match(str(k)) or k in ("filename", "size", "segmented", "object"):
            continue
        if isinstance(v, dict):
            inner = "".join(f"    <{k2}>{e(str(v2))}</{k2}>\n" for k2, v2 in v.items() if _XML_NAME.match(str(k2)))
            parts.append(f"  <{k}>\n{inner}  </{k}>\n")
        else:
            parts.append(f"  <{k}>{e(str(v))}</{k}>\n")
    if W and H:
        parts.append(f"  <size>\n    <width>{W}</width>\n    <height>{H}</height>\n    <depth>3</depth>\n  </size>\n")
    parts.append(f"  <segmented>{1 if segmented else 0}</segmented>\n")
    for o in objects:
        src = o["box"] or o["pixel"]
        if o["box"] is not None:
            b = (src.geometry["x"], src.geometry["y"], src.geometry["w"], src.geometry["h"])
        else:
            b = bbox(src.kind, src.geometry)
        bnd = _bndbox(b, W, H, rounded, report, "    ") if b is not None else None
        if bnd is None:
            o["dropped"] = True
            continue
        a = dict(o["attributes"])
        acts = [n for n in actions.get(o["label"], []) if n in a and _XML_NAME.match(n)]
        out = [f"  <object>\n    <name>{e(o['label'])}</name>\n"]
        out.append(f"    <pose>{e(str(a.pop('pose', 'Unspecified')))}</pose>\n")
        for k in _FLAGS:
            v = a.pop(k, None)
            if k != "occluded" or v is not None:
                out.append(f"    <{k}>{1 if v else 0}</{k}>\n")
        out.append(bnd)
        for p in o["parts"]:
            pb = bbox(p.kind, p.geometry)
            pbnd = _bndbox(pb, W, H, rounded, report, "      ") if pb is not None else None
            if pbnd is not None:
                out.append(f"    <part>\n      <name>{e(p.label)}</name>\n{pbnd}    </part>\n")
        if acts:
            inner = "".join(f"      <{n}>{1 if a.pop(n) else 0}</{n}>\n" for n in acts)
            out.append(f"    <actions>\n{inner}    </actions>\n")
        if isinstance(a.get("point_x"), (int, float)) and isinstance(a.get("point_y"), (int, float)):
            px, py = _xml_value(a.pop("point_x")), _xml_value(a.pop("point_y"))
            out.append(f"    <point>\n      <x>{px}</x>\n      <y>{py}</y>\n    </point>\n")
        if a:
            inner = "".join(
                f"      <attribute>\n        <name>{e(str(k))}</name>\n        <value>{_xml_value(v)}</value>\n      </attribute>\n"
                for k, v in a.items()
            )
            out.append(f"    <attributes>\n{inner}    </attributes>\n")
        out.append("  </object>\n")
        parts.extend(out)
    parts.append("</annotation>\n")
    return "".join(parts)


def _png(arr: np.ndarray) -> bytes:
    from PIL import Image

    im = Image.fromarray(arr.astype(np.uint8), mode="L")
    im.putpalette([c for rgb in _PALETTE for c in rgb])
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


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


def _image_size(path: Path) -> tuple[int, int]:
    """(width, height) upright (EXIF orientations 5-8 swap them), from the header."""
    from PIL import Image

    with Image.open(path) as im:
        w, h = im.size
        if "exif" in im.info:
            try:
                if im.getexif().get(0x0112, 1) in (5, 6, 7, 8):
                    return h, w
            except Exception:  # damaged EXIF: the stored size
                pass
        return w, h


def _size_of(item: Item):
    if item.width and item.height:
        return item.width, item.height
    if item.image is not None and Path(item.image).is_file():
        return _image_size(Path(item.image))
    return None


def write(
    dataset: Dataset,
    path: Path,
    *,
    task: str = "voc",
    include_images: bool = False,
    round_coordinates: bool = True,
    class_lists: bool | None = None,
    **options,
) -> Report:
    """Write a VOC folder. ``task``: "voc", "voc_detection" or "voc_segmentation".
    ``class_lists`` writes ImageSets/Main/<label>_<subset>.txt (default: when the dataset has tags,
    which these lists carry)."""
    out = Path(path)
    report = Report(format={"voc": "Pascal VOC", "voc_detection": "VOC detection"}.get(task, "VOC segmentation"))
    if class_lists is None:
        class_lists = task != "voc_segmentation" and any(s.kind == "tag" for it in dataset.items for s in it.shapes)
    main: dict[str, list[str]] = {}
    seg: dict[str, list[str]] = {}
    presence: dict[str, dict[str, int]] = {}
    names = dataset.label_names()
    indices = _label_indices(names, report)
    for vid, files, item, objects, tags in dataset_to_voc(
        dataset, task=task, report=report, round_coordinates=round_coordinates, size_of=_size_of, indices=indices
    ):
        for rel, data in files.items():
            atomic_write(out / rel, data)
        subset = item.subset or "default"
        if task != "voc_segmentation":
            main.setdefault(subset, []).append(vid)
        if any(rel.startswith("SegmentationClass/") for rel in files):
            seg.setdefault(subset, []).append(vid)
        state: dict[str, int] = {}
        for o in objects:
            if not o.get("dropped"):
                state[o["label"]] = max(state.get(o["label"], 0), 0 if o["attributes"].get("difficult") else 1)
        for t in tags:
            if t.label in state:
                report.drop("tags dropped (an object of the same label is in the image)")
            elif not class_lists:
                report.drop("tags dropped")
            else:
                state[t.label] = 1
            if t.attributes or t.confidence is not None:
                report.drop("attributes of tags not representable")
        presence[vid] = state
        if include_images:
            if item.image is not None and Path(item.image).is_file():
                atomic_copy(Path(item.image), out / "JPEGImages" / item.name)
            else:
                report.missing_images.append(item.name)
        report.items += 1
        report.shapes += len(item.shapes)
    for subset, ids in main.items():
        atomic_write(out / "ImageSets" / "Main" / f"{subset}.txt", "".join(f"{i}\n" for i in ids))
        if class_lists:
            for lb in names:
                rows = "".join(f"{i} {presence[i].get(lb, -1):2d}\n" for i in ids)
                atomic_write(out / "ImageSets" / "Main" / f"{lb}_{subset}.txt", rows)
    for subset, ids in seg.items():
        atomic_write(out / "ImageSets" / "Segmentation" / f"{subset}.txt", "".join(f"{i}\n" for i in ids))
    actions = (dataset.info.get("voc") or {}).get("actions") or {}
    lines = ["# label:color_rgb:parts:actions\n"]
    if "background" not in indices:
        lines.append("background:0,0,0::\n")
    for n in names:
        if ":" in n or "," in n or "\n" in n:
            report.problem(f"label {n!r} holds ':' or ',' and cannot be listed in labelmap.txt")
            continue
        rgb = _PALETTE[indices[n]] if n in indices else None
        parts = [lb.name for lb in dataset.schema if lb.parent == n]
        color = ",".join(map(str, rgb)) if rgb else ""
        lines.append(f"{n}:{color}:{','.join(parts)}:{','.join(actions.get(n, []))}\n")
    atomic_write(out / "labelmap.txt", "".join(lines))
    return report


# -- detection -----------------------------------------------------------------------------------


def _peek_xml(folder: Path) -> str:
    try:
        with os.scandir(folder) as it:
            for e in it:
                if e.name.endswith(".xml") and e.is_file():
                    with open(e.path, "rb") as f:
                        return f.read(2048).decode("utf-8", "replace")
    except OSError:
        pass
    return ""


def detect(path: Path) -> int:
    """90 for Annotations/*.xml of VOC's shape with ImageSets/, 80 with JPEGImages/ only, 75 for
    SegmentationClass/ with ImageSets/ and no Annotations/."""
    root = Path(path)
    if not root.is_dir():
        return 0
    sets = (root / "ImageSets").is_dir()
    if (root / "Annotations").is_dir():
        head = _peek_xml(root / "Annotations")
        if "<annotation" not in head or "<polygon>" in head or "<imagesize>" in head:
            return 0
        if sets:
            return 90
        return 80 if (root / "JPEGImages").is_dir() else 0
    if sets and (root / "SegmentationClass").is_dir():
        return 75
    return 0


def _writer(task: str):
    def write_task(dataset: Dataset, path: Path, **options) -> Report:
        return write(dataset, path, task=task, **options)

    return write_task


register(Format("voc", "Pascal VOC (XML boxes, segmentation PNGs, ImageSets)", read, _writer("voc"), detect))
register(Format("voc_detection", "Pascal VOC, detection part only (Annotations, ImageSets/Main)", None, _writer("voc_detection")))
register(
    Format("voc_segmentation", "Pascal VOC, segmentation part only (SegmentationClass/Object)", None, _writer("voc_segmentation"))
)
