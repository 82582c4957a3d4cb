"""One labelme JSON object <-> an Item: shapes by ``shape_type`` with their points, group id, flags
and description (and the extra keys Limner writes for what labelme has no key for), the image
``flags`` as tags, the image size (from the image header when the file lacks it), other image keys
kept in the item's metadata; and a Dataset as (JSON path, object) pairs."""

from __future__ import annotations

import math
from pathlib import Path

from limner.core.dataset import Dataset, Item
from limner.core.raster import ellipse_points, rotated_box_corners
from limner.core.shapes import Shape
from limner.formats.base import FormatError, Report
from limner.formats.labelme.attributes import _declare
from limner.formats.labelme.masks import _mask_from_png, _mask_to_png

_IMAGE_KEYS = ("version", "flags", "shapes", "imagePath", "imageData", "imageHeight", "imageWidth")
_SHAPE_KEYS = {"label", "points", "group_id", "shape_type", "flags", "description", "mask",
               "attributes", "z_order", "track_id", "source", "confidence"}  # fmt: skip
VERSION = "5.5.0"


def _geometry(st: str, pts: list, sh: dict, h, w, file: Path, key: str, report: Report):
    n = len(pts)
    if st == "rectangle" and n >= 2:
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        g = {"x": min(xs), "y": min(ys), "w": max(xs) - min(xs), "h": max(ys) - min(ys)}
        return ("box", g) if g["w"] > 0 and g["h"] > 0 else (None, "boxes with no area skipped")
    if st == "oriented_rectangle" and n == 4:
        (x0, y0), (x1, y1), (x2, y2) = pts[0], pts[1], pts[2]
        wd, ht = math.hypot(x1 - x0, y1 - y0), math.hypot(x2 - x1, y2 - y1)
        if wd <= 0 or ht <= 0:
            return None, "oriented rectangles with no area skipped"
        return "rotated_box", {"cx": (x0 + x2) / 2, "cy": (y0 + y2) / 2, "w": wd, "h": ht,
                               "angle": math.degrees(math.atan2(y1 - y0, x1 - x0))}  # fmt: skip
    if st in ("polygon", None) and n >= 3:
        return "polygon", {"points": pts, "holes": []}
    if st in ("line", "linestrip") and n >= 2:
        return "polyline", {"points": pts}
    if st in ("point", "points") and n >= 1:
        return "points", {"points": pts}
    if st == "circle" and n == 2:
        r = math.hypot(pts[1][0] - pts[0][0], pts[1][1] - pts[0][1])
        if r <= 0:
            return None, "circles with no radius skipped"
        return "ellipse", {"cx": pts[0][0], "cy": pts[0][1], "rx": r, "ry": r, "angle": 0.0}
    if st == "mask":
        if not isinstance(sh.get("mask"), str):
            raise FormatError(file, "a mask shape needs a base64 PNG in 'mask'", key=f"{key}.mask")
        if not h or not w:
            raise FormatError(file, "a mask shape needs imageHeight and imageWidth", key=key)
        try:
            return "mask", {"rle": _mask_from_png(sh["mask"], pts[0], h, w)}
        except (ValueError, OSError, IndexError) as e:
            raise FormatError(file, f"mask is not a base64 PNG with a top-left point: {e}", key=f"{key}.mask") from None
    if st in ("polygon", "rectangle", "oriented_rectangle", "line", "linestrip", "point", "points", "circle"):
        return None, f"{st} shapes with {n} points skipped"
    return None, f"{st} shapes skipped (unknown shape_type)"


def labelme_to_item(data: dict, ds: Dataset, report: Report, *, name: str, image: Path | None, file: Path) -> Item:
    """One labelme JSON object -> an Item, adding labels and attributes to ``ds.schema``."""
    where = ["(root)"]
    try:
        return _to_item(data, ds, report, name, image, file, where)
    except (TypeError, AttributeError, KeyError, IndexError, ValueError) as e:
        raise FormatError(file, f"unexpected content ({type(e).__name__}: {e})", key=where[0]) from None


def _to_item(data: dict, ds: Dataset, report: Report, name: str, image: Path | None, file: Path, where: list) -> Item:
    if not isinstance(data, dict) or not isinstance(data.get("shapes"), list):
        raise FormatError(file, "a labelme file is an object with a 'shapes' list", key="shapes")
    h, w = data.get("imageHeight"), data.get("imageWidth")
    h = h if isinstance(h, int) and h > 0 else None
    w = w if isinstance(w, int) and w > 0 else None
    if (h is None or w is None) and image is not None:
        from PIL import Image

        with Image.open(image) as im:
            w, h = im.size
    flags = data.get("flags") or {}
    if not isinstance(flags, dict):
        raise FormatError(file, "flags must be an object of name: true/false", key="flags")
    meta = {"flags": dict(flags)} if flags else {}
    extra = {k: v for k, v in data.items() if k not in _IMAGE_KEYS}
    if extra:
        meta["labelme"] = extra
    shapes = []
    for j, sh in enumerate(data["shapes"]):
        key = where[0] = f"shapes[{j}]"
        if not isinstance(sh, dict):
            raise FormatError(file, "a shape must be an object", key=key)
        label = sh.get("label")
        if not isinstance(label, str) or not label:
            raise FormatError(file, f"label must be non-empty text, got {label!r}", key=f"{key}.label")
        try:
            pts = [[float(x), float(y)] for x, y in sh["points"]]
        except (KeyError, TypeError, ValueError):
            raise FormatError(file, "points must be a list of [x, y] numbers", key=f"{key}.points") from None
        kind, geom = _geometry(sh.get("shape_type"), pts, sh, h, w, file, key, report)
        if kind is None:
            report.drop(geom)
            continue
        lab = ds.schema.get(label)
        if lab is None:
            ds.ensure_label(label)
            lab = ds.schema.get(label)
        attrs = {}
        for k, v in (sh.get("flags") or {}).items():
            attrs[str(k)] = bool(v)
        if sh.get("description"):
            attrs["description"] = str(sh["description"])
        if isinstance(sh.get("attributes"), dict):
            attrs.update(sh["attributes"])
        for k, v in attrs.items():
            _declare(lab, k, v)
        unknown = set(sh) - _SHAPE_KEYS
        if unknown:
            report.drop("unknown shape keys not kept")
        gid = sh.get("group_id")
        if gid is not None and (isinstance(gid, bool) or not isinstance(gid, int)):
            raise FormatError(file, f"group_id must be an integer or null, got {gid!r}", key=f"{key}.group_id")
        try:
            conf = sh.get("confidence")
            conf = float(conf) if conf is not None else None
            z, tid = int(sh.get("z_order") or 0), sh.get("track_id")
            tid = int(tid) if tid is not None else None
        except (TypeError, ValueError):
            raise FormatError(file, "z_order, track_id and confidence must be numbers", key=key) from None
        shapes.append(Shape(kind, label, geom, attrs, z, gid, tid, str(sh.get("source") or "manual"), conf))
    where[0] = "flags"
    for k, v in flags.items():
        if v is True:
            ds.ensure_label(str(k))
            shapes.append(Shape("tag", str(k)))
    return Item(name, w, h, shapes, None, meta, image)


def item_to_labelme(item: Item, ds: Dataset, report: Report, *, image_path: str, image_data: str | None = None) -> dict:
    """An Item -> one labelme JSON object."""
    shapes = []
    flags = {k: False for k in (item.metadata.get("flags") or {})}
    for s in item.shapes:
        g, k = s.geometry, s.kind
        extra = {}
        if k == "tag":
            flags[s.label] = True
            if s.attributes:
                report.drop("tag attributes not representable")
            continue
        if k == "box":
            st, pts = "rectangle", [[g["x"], g["y"]], [g["x"] + g["w"], g["y"] + g["h"]]]
        elif k == "rotated_box":
            st, pts = "oriented_rectangle", rotated_box_corners(g).tolist()
        elif k == "polygon":
            st, pts = "polygon", g["points"]
            if g.get("holes"):
                report.drop("polygon holes dropped")
        elif k == "polyline":
            st, pts = ("line" if len(g["points"]) == 2 else "linestrip"), g["points"]
        elif k == "points":
            st, pts = ("point" if len(g["points"]) == 1 else "points"), g["points"]
        elif k == "skeleton":
            st, pts = "points", [[x, y] for x, y, v in g["points"] if v > 0]
            report.drop("skeletons written as points")
            if not pts:
                continue
        elif k == "ellipse":
            if g["rx"] == g["ry"]:
                st, pts = "circle", [[g["cx"], g["cy"]], [g["cx"] + g["rx"], g["cy"]]]
            else:
                st, pts = "polygon", ellipse_points(g).tolist()
                report.drop("ellipses written as polygons")
        elif k == "mask":
            m = _mask_to_png(g["rle"])
            if m is None:
                report.drop("empty masks skipped")
                continue
            st, (pts, extra["mask"]) = "mask", m
        else:
            continue
        flags_s = {a: v for a, v in s.attributes.items() if isinstance(v, bool)}
        others = {a: v for a, v in s.attributes.items() if not isinstance(v, bool) and a != "description"}
        desc = s.attributes.get("description")
        sh = {"label": s.label, "points": [[float(x), float(y)] for x, y in pts], "group_id": s.group_id,
              "description": desc if isinstance(desc, str) else "", "shape_type": st, "flags": flags_s,
              "mask": extra.get("mask")}  # fmt: skip
        if desc is not None and not isinstance(desc, str):
            others["description"] = desc
        if others:
            sh["attributes"] = others
        if s.z_order:
            sh["z_order"] = s.z_order
        if s.track_id is not None:
            sh["track_id"] = s.track_id
        if s.source and s.source != "manual":
            sh["source"] = s.source
        if s.confidence is not None:
            sh["confidence"] = s.confidence
        shapes.append(sh)
    out = {"version": ds.info.get("labelme", {}).get("version") or VERSION, "flags": flags, "shapes": shapes,
           "imagePath": image_path, "imageData": image_data, "imageHeight": item.height, "imageWidth": item.width}  # fmt: skip
    for k, v in (item.metadata.get("labelme") or {}).items():
        out.setdefault(k, v)
    return out


def dataset_to_labelme(ds: Dataset, report: Report | None = None):
    """Yield (relative JSON path, labelme object) for every item."""
    report = report or Report(format="labelme")
    for item in ds.items:
        rel = Path(item.name)
        yield rel.with_suffix(".json").as_posix(), item_to_labelme(item, ds, report, image_path=rel.name)
