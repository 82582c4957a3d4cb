"""Dataset <-> ``tf.train.Example`` features: ``tf_to_dataset`` turns decoded records into a Dataset
(boxes, masks from the object PNGs, tags, per-object attributes, kept image features, label ids),
``dataset_to_tf`` turns a Dataset's items into serialized Examples (label ids, shapes grouped into
objects, mask PNGs, attribute lists, embedded image bytes), with the key tables and helpers they
share."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath

import numpy as np

from limner.core import rle as _rle
from limner.core.dataset import Dataset, Item
from limner.core.geometry import bbox, rasterize
from limner.core.schema import Attribute
from limner.core.shapes import Shape
from limner.formats.base import FormatError, Report
from limner.formats.tfrecord.example import encode_example

_IMAGE_FORMATS = {".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".bmp": "bmp", ".gif": "gif", ".webp": "webp",
                  ".tif": "tiff", ".tiff": "tiff"}  # fmt: skip
_AREA_KINDS = ("box", "polygon", "mask", "ellipse", "rotated_box")
_PLURAL = {"box": "boxes", "rotated_box": "rotated boxes", "polygon": "polygons", "ellipse": "ellipses",
           "mask": "masks", "polyline": "polylines", "points": "points", "skeleton": "skeletons", "tag": "tags"}  # fmt: skip
_OBJECT_KEYS = {"image/object/bbox/xmin", "image/object/bbox/xmax", "image/object/bbox/ymin", "image/object/bbox/ymax",
                "image/object/class/text", "image/object/class/label", "image/object/mask"}  # fmt: skip
_IMAGE_KEYS = {"image/filename", "image/source_id", "image/height", "image/width", "image/encoded", "image/format",
               "image/key/sha256", "image/class/text", "image/class/label", "image/class/confidence"}  # fmt: skip


# -- reading ------------------------------------------------------------------------------------------


def _text(v: bytes) -> str:
    return v.decode("utf-8", "replace")


def _mask_from_png(png: bytes, h: int | None, w: int | None) -> np.ndarray | None:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        arr = np.asarray(im.convert("L") if im.mode not in ("L", "1", "P", "I", "I;16") else im)
    if arr.ndim != 2:
        return None
    if h and w and arr.shape != (h, w):
        raise ValueError(f"mask is {arr.shape[1]}x{arr.shape[0]}, the image {w}x{h}")
    return arr != 0


def _scalar(v):
    if isinstance(v, bytes):
        return _text(v)
    if isinstance(v, float):
        return round(v, 6)  # a float32: 0.3 comes back as 0.30000001192...
    return v


def tf_to_dataset(
    records: Iterable[dict],
    *,
    label_map: list[dict] | None = None,
    report: Report | None = None,
) -> tuple[Dataset, Report]:
    """Records -> Dataset. A record: ``{"features": decode_example(...), "subset", "index",
    "file", "image" (a Path or None)}``."""
    report = report or Report(format="TF Object Detection API")
    ds = Dataset()
    id_to_name: dict[int, str] = {}
    label_ids: dict[str, int] = {}
    display: dict[str, str] = {}
    for it in label_map or []:
        name = it.get("name") or it["display_name"]
        id_to_name.setdefault(it["id"], name)
        label_ids.setdefault(name, it["id"])
        if it.get("display_name") and it.get("name") and it["display_name"] != it["name"]:
            display[name] = it["display_name"]
        ds.ensure_label(name)
    attr_kinds: dict[str, dict[str, object]] = {}

    def name_of(text: str, cid: int | None) -> str | None:
        if cid is not None and cid in id_to_name:
            return id_to_name[cid]
        if text:
            if cid is not None and cid > 0 and text not in label_ids:
                label_ids[text] = cid
                id_to_name[cid] = text
            ds.ensure_label(text)
            return text
        return None

    for r in records:
        f = r["features"]
        where = f"record {r['index']}"

        def get(key: str, kind: str) -> list:
            e = f.get(key)
            if e is None:
                return []
            if e[0] != kind and e[1]:
                raise FormatError(r["file"], f"{key} must be a {kind} list, found a {e[0]} list", key=where)
            return e[1]

        filename = _text(get("image/filename", "bytes")[0]) if get("image/filename", "bytes") else ""
        sid = get("image/source_id", "bytes")
        source_id = _text(sid[0]) if sid else ""
        hs, ws = get("image/height", "int64"), get("image/width", "int64")
        H = int(hs[0]) if hs and hs[0] > 0 else None
        W = int(ws[0]) if ws and ws[0] > 0 else None
        if not (W and H) and r.get("image") is not None:
            W, H = _image_size(r["image"]) or (None, None)
        name = filename or source_id or f"{r['subset'] or 'default'}_{r['index']}"
        item = Item(name, W, H, subset=r["subset"], image=r.get("image"))
        meta: dict = {}
        if source_id and source_id != filename:
            meta["source_id"] = source_id
        if r.get("image") is None and not get("image/encoded", "bytes"):
            report.missing_images.append(name)
        coords = [get(f"image/object/bbox/{k}", "float") for k in ("xmin", "ymin", "xmax", "ymax")]
        n = len(coords[0])
        if any(len(c) != n for c in coords):
            lengths = ", ".join(str(len(c)) for c in coords)
            raise FormatError(r["file"], f"bbox lists differ in length ({lengths})", key=where)
        texts = [_text(t) for t in get("image/object/class/text", "bytes")]
        cids = get("image/object/class/label", "int64")
        masks = get("image/object/mask", "bytes")
        if masks and len(masks) != n:
            report.problem(f"{r['file']} ({where}): {len(masks)} masks for {n} objects; masks ignored")
            masks = []
        extra = {}
        for key, (kind, values) in f.items():
            if key.startswith("image/object/") and key not in _OBJECT_KEYS and len(values) == n and n:
                extra[key[len("image/object/"):].replace("/", "_")] = values
        shapes = item.shapes
        group = 0
        for j in range(n):
            label = name_of(texts[j] if j < len(texts) else "", cids[j] if j < len(cids) else None)
            if label is None:
                report.drop("objects without a class dropped")
                continue
            if not (W and H):
                report.drop("objects of images of unknown size dropped")
                continue
            x0, y0, x1, y1 = (c[j] for c in coords)
            x0, x1, y0, y1 = x0 * W, x1 * W, y0 * H, y1 * H
            geom = {"x": round(x0, 3), "y": round(y0, 3), "w": round(x1 - x0, 3), "h": round(y1 - y0, 3)}
            attrs = {k: _scalar(v[j]) for k, v in extra.items()}
            if attrs:
                kinds = attr_kinds.setdefault(label, {})
                for k, v in attrs.items():
                    kinds.setdefault(k, v)
            mask = None
            if masks and masks[j]:
                try:
                    mask = _mask_from_png(masks[j], H, W)
                except Exception as e:  # a damaged PNG or a size mismatch: keep the box
                    report.problem(f"{r['file']} ({where}): mask of object {j} unreadable ({e}); box kept")
                if mask is not None and not mask.any():
                    mask = None
            g = None
            if mask is not None:
                group += 1
                g = group
            if geom["w"] > 0 and geom["h"] > 0:
                shapes.append(Shape("box", label, geom, attrs, group_id=g))
            else:
                report.drop("boxes of zero width or height dropped")
            if mask is not None:
                shapes.append(Shape("mask", label, {"rle": _rle.encode(mask)}, dict(attrs), group_id=g))
        ctexts = [_text(t) for t in get("image/class/text", "bytes")]
        cls = get("image/class/label", "int64")
        confs = get("image/class/confidence", "float")
        for j in range(max(len(ctexts), len(cls))):
            label = name_of(ctexts[j] if j < len(ctexts) else "", cls[j] if j < len(cls) else None)
            if label is None:
                report.drop("image classes without a name dropped")
                continue
            conf = round(confs[j], 6) if j < len(confs) and len(confs) == max(len(ctexts), len(cls)) else None
            shapes.append(Shape("tag", label, confidence=conf))
        kept = {}
        for key, (kind, values) in f.items():
            if key in _IMAGE_KEYS or key.startswith("image/object/"):
                continue
            if kind == "bytes":
                try:
                    kept[key] = [kind, [v.decode("utf-8") for v in values]]
                except UnicodeDecodeError:
                    report.drop("binary image features dropped")
            else:
                kept[key] = [kind, list(values)]
        if kept:
            meta["features"] = kept
        if meta:
            item.metadata["tf_detection_api"] = meta
        report.shapes += len(shapes)
        ds.items.append(item)
    for lb in ds.schema:
        for k, v in attr_kinds.get(lb.name, {}).items():
            kind = "number" if isinstance(v, (int, float)) else "text"
            lb.attributes.append(Attribute(k, kind))
    info: dict = {"label_ids": label_ids}
    if display:
        info["display_names"] = display
    ds.info["tf_detection_api"] = info
    report.items = len(ds.items)
    return ds, report


# -- writing ------------------------------------------------------------------------------------------


def _label_ids(dataset: Dataset) -> dict[str, int]:
    known = dict((dataset.info.get("tf_detection_api") or {}).get("label_ids") or {})
    names = [lb.name for lb in dataset.schema]
    seen = set(names)
    for it in dataset.items:
        for s in it.shapes:
            if s.label not in seen:
                seen.add(s.label)
                names.append(s.label)
    out: dict[str, int] = {}
    used = set()
    for n in names:
        i = known.get(n)
        if isinstance(i, int) and i > 0 and i not in used:
            out[n] = i
            used.add(i)
    nxt = max(used, default=0) + 1
    for n in names:
        if n not in out:
            out[n] = nxt
            nxt += 1
    return out


def _png01(mask: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(mask.astype(np.uint8), mode="L").save(buf, format="PNG")
    return buf.getvalue()


def _objects(item: Item, report: Report) -> tuple[list[dict], list[Shape]]:
    """The item's area shapes as objects ``{"label", "box", "pixel", "attributes"}`` and its tags."""
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
        start = len(objects)
        for s in members:
            slot = "box" if s.kind == "box" else "pixel"
            target = next((o for o in objects[start:] if o["label"] == s.label and o[slot] is None), None)
            if target is None:
                target = {"label": s.label, "box": None, "pixel": None, "attributes": {}}
                objects.append(target)
            target[slot] = s
            for k, v in s.attributes.items():
                target["attributes"].setdefault(k, v)
        if len(objects) - start > 1 and members[0].group_id is not None:
            report.drop("group ids not representable (more than a box and a mask in a group)", len(objects) - start - 1)
    return objects, tags


def _attribute_features(objects: list[dict], report: Report) -> dict[str, tuple[str, list]]:
    out: dict[str, tuple[str, list]] = {}
    names: dict[str, None] = {}
    for o in objects:
        for k in o["attributes"]:
            names.setdefault(k, None)
    for k in names:
        key = f"image/object/{k}"
        values = [o["attributes"].get(k) for o in objects]
        if key in _OBJECT_KEYS or key.startswith(("image/object/bbox/", "image/object/class/")) or "/" in k:
            report.drop("attributes not representable (name taken by a standard key)", len(values))
            continue
        if any(v is None for v in values):
            n_set = sum(v is not None for v in values)
            report.drop("attributes not representable (not set on every object of an image)", n_set)
            continue
        if all(isinstance(v, bool) for v in values):
            report.drop("checkbox attributes written as 0/1", len(values))
            out[key] = ("int64", [int(v) for v in values])
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            out[key] = ("int64", values)
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            out[key] = ("float", [float(v) for v in values])
        elif all(isinstance(v, str) for v in values):
            out[key] = ("bytes", [v.encode("utf-8") for v in values])
        else:
            report.drop("attributes not representable (mixed types)", len(values))
    return out


def dataset_to_tf(
    dataset: Dataset,
    *,
    report: Report,
    label_ids: dict[str, int] | None = None,
    image_bytes: Callable[[Item], bytes | None] = lambda item: None,
    size_of: Callable[[Item], tuple[int, int] | None] | None = None,
) -> Iterator[tuple[str, bytes]]:
    """Yield ``(subset file stem, serialized Example)`` per item. ``image_bytes(item)`` gives the
    encoded image (or None), ``size_of(item)`` its (width, height) when the item has none."""
    label_ids = label_ids or _label_ids(dataset)
    for item in dataset.items:
        size = (item.width, item.height) if item.width and item.height else (size_of(item) if size_of else None)
        W, H = size if size else (None, None)
        name = item.name
        meta = item.metadata.get("tf_detection_api") or {}
        feats: dict[str, tuple[str, list]] = {
            "image/filename": ("bytes", [name.encode("utf-8")]),
            "image/source_id": ("bytes", [str(meta.get("source_id") or name).encode("utf-8")]),
        }
        if W and H:
            feats["image/height"] = ("int64", [H])
            feats["image/width"] = ("int64", [W])
        data = image_bytes(item)
        if data is not None:
            fmt = _IMAGE_FORMATS.get(PurePosixPath(name).suffix.lower()) or _IMAGE_FORMATS.get(
                Path(item.image).suffix.lower() if item.image else "", ""
            )
            feats["image/encoded"] = ("bytes", [data])
            feats["image/format"] = ("bytes", [fmt.encode("ascii")])
            feats["image/key/sha256"] = ("bytes", [hashlib.sha256(data).hexdigest().encode("ascii")])
        objects, tags = _objects(item, report)
        if objects and not (W and H):
            n = sum(1 for o in objects for k in ("box", "pixel") if o[k])
            report.drop("shapes of images of unknown size dropped", n)
            objects = []
        if objects:
            xmin, xmax, ymin, ymax, texts, cids = [], [], [], [], [], []
            for o in objects:
                s = o["box"] or o["pixel"]
                if o["box"] is not None:
                    g = s.geometry
                    b = (g["x"], g["y"], g["w"], g["h"])
                else:
                    b = bbox(s.kind, s.geometry) or (0.0, 0.0, 0.0, 0.0)
                xmin.append(b[0] / W)
                xmax.append((b[0] + b[2]) / W)
                ymin.append(b[1] / H)
                ymax.append((b[1] + b[3]) / H)
                texts.append(o["label"].encode("utf-8"))
                cids.append(label_ids[o["label"]])
            feats["image/object/bbox/xmin"] = ("float", xmin)
            feats["image/object/bbox/xmax"] = ("float", xmax)
            feats["image/object/bbox/ymin"] = ("float", ymin)
            feats["image/object/bbox/ymax"] = ("float", ymax)
            feats["image/object/class/text"] = ("bytes", texts)
            feats["image/object/class/label"] = ("int64", cids)
            if any(o["pixel"] is not None for o in objects):
                pngs = []
                empty = None
                for o in objects:
                    s = o["pixel"]
                    m = None
                    if s is not None:
                        if s.kind == "mask" and list(s.geometry["rle"]["size"]) != [H, W]:
                            size = s.geometry["rle"]["size"]
                            report.problem(f"{name}: a mask of {size} on an image of {H}x{W} was left out")
                        else:
                            m = rasterize(s.kind, s.geometry, H, W)
                            if s.kind != "mask":
                                report.drop(f"{_PLURAL[s.kind]} written as pixel masks")
                    if m is None:
                        empty = empty or _png01(np.zeros((H, W), np.uint8))
                        pngs.append(empty)
                    else:
                        pngs.append(_png01(m))
                feats["image/object/mask"] = ("bytes", pngs)
            feats.update(_attribute_features(objects, report))
        if tags:
            feats["image/class/text"] = ("bytes", [t.label.encode("utf-8") for t in tags])
            feats["image/class/label"] = ("int64", [label_ids[t.label] for t in tags])
            confs = [t.confidence for t in tags]
            if all(c is not None for c in confs):
                feats["image/class/confidence"] = ("float", confs)
            elif any(c is not None for c in confs):
                report.drop("confidences of tags not representable (not set on every tag of an image)")
            for t in tags:
                if t.attributes:
                    report.drop("attributes of tags not representable")
        for key, value in (meta.get("features") or {}).items():
            if key in feats or not isinstance(value, (list, tuple)) or len(value) != 2:
                continue
            kind, values = value
            if kind == "bytes":
                feats[key] = ("bytes", [str(v).encode("utf-8") for v in values])
            elif kind in ("float", "int64"):
                feats[key] = (kind, list(values))
        report.items += 1
        report.shapes += len(item.shapes)
        yield (item.subset or "default"), encode_example(feats)


def _image_size(path: Path) -> tuple[int, int] | None:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.size
    except OSError:
        return None
