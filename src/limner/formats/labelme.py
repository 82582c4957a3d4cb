"""LabelMe JSON (wkentaro/labelme): one ``<image>.json`` beside each image.

Each file holds ``shapes`` (``label``, ``points``, ``group_id``, ``shape_type``, ``flags``,
``description``, ``mask``), the image-level ``flags``, ``imagePath`` (relative to the JSON file),
``imageData`` (optional base64 image), ``imageHeight`` and ``imageWidth``. Shape types, as labelme's
own ``_shape.py`` and ``utils/shape.py`` define them:

- ``rectangle`` (2 corners) -> box; ``oriented_rectangle`` (4 corners, p0->p1 along the width) ->
  rotated_box; ``polygon`` -> polygon; ``line`` / ``linestrip`` -> polyline; ``point`` / ``points`` ->
  points; ``circle`` (centre, a point on the circle) -> ellipse with rx = ry = radius;
  ``mask`` (``points`` = top-left and bottom-right pixel of the patch, ``mask`` = base64 PNG of the
  patch, placed at the rounded top-left corner) -> mask as full-image COCO RLE.
- Image ``flags`` that are true become tags (all flags are kept in ``Item.metadata["flags"]``);
  shape ``flags`` become checkbox attributes, ``description`` a text attribute.
- Limner fields labelme has no key for (other attributes, z-order, track id, source, confidence)
  are written as extra shape keys, which labelme keeps (``other_data``) and this reader reads back.
"""

from __future__ import annotations

import base64
import io
import math
import os
import shutil
from pathlib import Path, PureWindowsPath

import numpy as np

from limner.core import rle as _rle
from limner.core.dataset import Dataset, Item
from limner.core.raster import ellipse_points, rotated_box_corners
from limner.core.schema import Attribute, Label
from limner.core.shapes import Shape
from limner.formats.base import FormatError, Report, atomic_write, load_json, no_gc
from limner.formats.registry import Format, register

__all__ = ["dataset_to_labelme", "detect", "detect_xml", "item_to_labelme", "labelme_to_item", "read", "read_xml", "write",
           "write_xml"]

_IMAGE_KEYS = ("version", "flags", "shapes", "imagePath", "imageData", "imageHeight", "imageWidth")
_SHAPE_KEYS = {"label", "points", "group_id", "shape_type", "flags", "description", "mask",
               "attributes", "z_order", "track_id", "source", "confidence"}  # fmt: skip
_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif")
VERSION = "5.5.0"


def _declare(label: Label, name: str, value) -> None:
    """Give the label an attribute for a value a reader met (labelme has no attribute schema)."""
    for a in label.attributes:
        if a.name == name:
            return
    kind = "checkbox" if isinstance(value, bool) else "number" if isinstance(value, (int, float)) else "text"
    label.attributes.append(Attribute(name, kind))


def _mask_from_png(b64: str, origin, h: int, w: int) -> dict:
    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(b64))) as im:
        patch = np.asarray(im)
    if patch.ndim == 3:
        patch = patch.max(axis=2)
    patch = patch > 0
    x1, y1 = (int(round(v)) for v in origin)
    ph, pw = patch.shape
    full = np.zeros((h, w), np.uint8)
    ys, ye, xs, xe = max(y1, 0), min(y1 + ph, h), max(x1, 0), min(x1 + pw, w)
    if ys < ye and xs < xe:
        full[ys:ye, xs:xe] = patch[ys - y1 : ye - y1, xs - x1 : xe - x1]
    return _rle.encode(full)


def _mask_to_png(rle: dict):
    from PIL import Image

    m = _rle.decode(rle)
    rows, cols = np.flatnonzero(m.any(axis=1)), np.flatnonzero(m.any(axis=0))
    if not len(rows):
        return None
    t, b, left, r = int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])
    buf = io.BytesIO()
    Image.fromarray(m[t : b + 1, left : r + 1].astype(np.uint8)).save(buf, format="PNG")
    return [[float(left), float(t)], [float(r), float(b)]], base64.b64encode(buf.getvalue()).decode("ascii")


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


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return [p for p in sorted(path.rglob("*.json")) if _looks_labelme(p)]


def read(path: Path, **options) -> tuple[Dataset, Report]:
    """Read one labelme JSON file or every labelme JSON file under a folder."""
    path = Path(path).absolute()
    root = path.parent if path.is_file() else path
    files = _files(path)
    if not files:
        raise FormatError(path, "no labelme JSON files (objects with 'shapes' and 'imagePath') here")
    ds, report = Dataset(), Report(format="labelme")
    with no_gc():
        for file in files:
            data = load_json(file)
            if not isinstance(data, dict):
                raise FormatError(file, "a labelme file is a JSON object", key="(root)")
            ip = data.get("imagePath")
            if ip is not None and not isinstance(ip, str):
                raise FormatError(file, f"imagePath must be text, got {ip!r}", key="imagePath")
            image = None
            if ip:
                image = Path(os.path.normpath(file.parent / PureWindowsPath(ip).as_posix()))
            else:
                image = next((file.with_suffix(e) for e in _EXTS if file.with_suffix(e).is_file()), file.with_suffix(".jpg"))
            try:
                name = image.relative_to(root).as_posix()
            except ValueError:
                name = file.relative_to(root).with_suffix(image.suffix).as_posix()
            found = image.is_file()
            if not found:
                report.missing_images.append(name)
                if data.get("imageData"):
                    report.drop("embedded images (imageData) not kept")
            ds.items.append(labelme_to_item(data, ds, report, name=name, image=image if found else None, file=file))
            ds.info.setdefault("labelme", {"version": data.get("version") or VERSION})
    report.items = len(ds.items)
    report.shapes = sum(len(i.shapes) for i in ds.items)
    return ds, report


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


def write(dataset: Dataset, path: Path, *, include_images: bool = False, embed_images: bool = False, **options) -> Report:
    """Write one labelme JSON per item at ``<path>/<item name>.json`` (imagePath beside it)."""
    import orjson

    root = Path(path)
    report = Report(format="labelme")
    subsets = 0
    for item in dataset.items:
        if item.subset and not item.name.startswith(item.subset + "/"):
            subsets += 1
        rel = Path(item.name)
        if item.width is None or item.height is None:
            if item.image is not None and Path(item.image).is_file():
                from PIL import Image

                with Image.open(item.image) as im:
                    item_w, item_h = im.size
                item = Item(item.name, item_w, item_h, item.shapes, item.subset, item.metadata, item.image)
        has_image = item.image is not None and Path(item.image).is_file()
        data = base64.b64encode(Path(item.image).read_bytes()).decode("ascii") if embed_images and has_image else None
        obj = item_to_labelme(item, dataset, report, image_path=rel.name, image_data=data)
        atomic_write(root / rel.with_suffix(".json"), orjson.dumps(obj, option=orjson.OPT_INDENT_2))
        if include_images:
            if has_image:
                dest = root / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                if Path(item.image).resolve() != dest.resolve():
                    shutil.copyfile(item.image, dest)
            else:
                report.missing_images.append(item.name)
    if subsets:
        report.drop("subsets not representable (labelme has no splits)", subsets)
    report.items = len(dataset.items)
    report.shapes = sum(len(i.shapes) for i in dataset.items)
    return report


def _looks_labelme(p: Path) -> bool:
    try:
        size = p.stat().st_size
        with open(p, "rb") as f:
            head = f.read(4096)
            f.seek(max(0, size - 1024))
            tail = f.read(1024)
    except OSError:
        return False
    return (
        head.lstrip().startswith(b"{")
        and b'"shapes"' in head
        and b'"_via_' not in head
        and (b'"imagePath"' in head + tail or b'"imageWidth"' in head + tail)
    )


def detect(path: Path) -> int:
    path = Path(path)
    if path.is_file():
        return 90 if path.suffix.lower() == ".json" and _looks_labelme(path) else 0
    if path.is_dir():
        for i, p in enumerate(path.rglob("*.json")):
            if _looks_labelme(p):
                return 85
            if i >= 20:
                break
    return 0


# ---------------------------------------------------------------------------------------- LabelMe XML
# The original MIT LabelMe annotation files ("LabelMe 3.0" in CVAT and datumaro): one XML per image,
# <annotation><filename/><folder/><imagesize><nrows/><ncols/></imagesize><object><name/><deleted/>
# <occluded>yes|no</occluded><attributes>a, k=v</attributes><parts><hasparts>1,2</hasparts>
# <ispartof/></parts><polygon><username/><pt><x/><y/></pt>...</polygon> | <segm><box/><mask>m.png
# </mask></segm><type>bounding_box</type>?</object>. Two layouts: MIT's Annotations/<folder>/,
# Images/<folder>/, Masks/<folder>/; or datumaro's <subset>/<name>.xml beside the image, masks in
# <subset>/Masks/. Attribute text uses datumaro's escapes (\\, \=, \", \,).


def _split_attrs(text: str) -> dict:
    out, cur, eq, i, n = {}, [], -1, 0, len(text)
    while i <= n:
        c = text[i] if i < n else ","
        if c == "\\" and i + 1 < n:
            cur.append(text[i + 1])
            i += 2
            continue
        if c == ",":
            if eq < 0:
                name = "".join(cur).strip()
                if name:
                    out[name] = True
            else:
                name, v = "".join(cur[:eq]).strip(), "".join(cur[eq:]).strip()
                if v.lower() in ("true", "false"):
                    val = v.lower() == "true"
                elif len(v) > 1 and v[0] == v[-1] == '"':
                    val = v[1:-1]
                else:
                    val = v
                    for t in (int, float):
                        try:
                            if str(t(v)) == v:
                                val = t(v)
                                break
                        except ValueError:
                            pass
                out[name] = val
            cur, eq = [], -1
        elif c == "=" and eq < 0:
            eq = len(cur)
        else:
            cur.append(c)
        i += 1
    return out


def _esc(s: str) -> str:
    return s.replace("\\", "\\\\").replace("=", "\\=").replace('"', '\\"').replace(",", "\\,")


def _join_attrs(attrs: dict) -> str:
    out = []
    for k, v in attrs.items():
        if v is True:
            out.append(_esc(k))
        elif isinstance(v, bool):
            out.append(f"{_esc(k)}=false")
        elif isinstance(v, (int, float)):
            out.append(f"{_esc(k)}={v}")
        else:
            out.append(f"{_esc(k)}={_esc(str(v))}")
    return ", ".join(out)


def _xml_files(root: Path) -> tuple[list[Path], bool]:
    mit = (root / "Annotations").is_dir()
    base = root / "Annotations" if mit else root
    return [p for p in sorted(base.rglob("*.xml")) if _looks_labelme_xml(p)], mit


def read_xml(path: Path, **options) -> tuple[Dataset, Report]:
    """Read LabelMe XML (MIT layout with Annotations/ Images/ Masks/, or datumaro's per-subset folders)."""
    from limner.formats.base import parse_xml

    root = Path(path).absolute()
    files, mit = _xml_files(root)
    if not files:
        raise FormatError(root, "no LabelMe XML files (<annotation> with <object><polygon> or <segm>) here")
    ds, report = Dataset(), Report(format="LabelMe XML")
    for xml in files:
        try:
            ann = parse_xml(xml).getroot()
        except LookupError as e:  # an XML declaration naming an unknown encoding
            raise FormatError(xml, f"not readable XML: {e}", line=1) from None
        if ann.tag != "annotation":
            raise FormatError(xml, f"the root element is <{ann.tag}>, LabelMe XML has <annotation>", key=ann.tag)
        fname = (ann.findtext("filename") or "").strip()
        folder = (ann.findtext("folder") or "").strip()
        if not fname:
            raise FormatError(xml, "<filename> is missing", key="annotation/filename")
        if mit:
            image, name, subset = root / "Images" / folder / fname, f"{folder}/{fname}" if folder else fname, None
            masks = root / "Masks" / folder
        else:
            image = xml.parent / fname
            name = image.relative_to(root).as_posix()
            subset = name.split("/")[0] if "/" in name else None
            masks = xml.parent / "Masks"
        try:
            h = int(ann.findtext("imagesize/nrows") or 0) or None
            w = int(ann.findtext("imagesize/ncols") or 0) or None
        except ValueError:
            raise FormatError(xml, "imagesize nrows and ncols must be integers", key="annotation/imagesize") from None
        if not image.is_file():
            report.missing_images.append(name)
            image = None
        elif h is None or w is None:
            from PIL import Image

            with Image.open(image) as im:
                w, h = im.size
        shapes, ids, children, has_parent = [], {}, {}, set()
        for j, obj in enumerate(ann.iter("object")):
            key = f"object[{j}]"
            label = (obj.findtext("name") or "").strip()
            try:
                oid = int(obj.findtext("id") or j)
            except ValueError:
                raise FormatError(xml, f"object id {obj.findtext('id')!r} is not an integer", key=f"{key}/id") from None
            parts = obj.find("parts")
            if parts is not None:
                try:
                    children[oid] = [int(c) for c in (parts.findtext("hasparts") or "").split(",") if c.strip()]
                except ValueError:
                    raise FormatError(xml, "hasparts must list object ids", key=f"{key}/parts/hasparts") from None
                if (parts.findtext("ispartof") or "").strip():
                    has_parent.add(oid)
            if (obj.findtext("deleted") or "0").strip() == "1":
                report.drop("deleted objects skipped")
                continue
            if not label:
                report.drop("objects without a name skipped")
                continue
            attrs = _split_attrs(obj.findtext("attributes") or "")
            if (obj.findtext("occluded") or "").strip() == "yes":
                attrs["occluded"] = True
            poly, segm = obj.find("polygon"), obj.find("segm")
            src = poly if poly is not None else segm
            user = (src.findtext("username") or "").strip() if src is not None else ""
            if user:
                attrs["username"] = user
            try:
                if poly is not None:
                    pts = [[float(p.findtext("x")), float(p.findtext("y"))] for p in poly.iter("pt")]
                    if (obj.findtext("type") or "").strip() == "bounding_box" and len(pts) >= 2:
                        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
                        kind, geom = "box", {"x": min(xs), "y": min(ys), "w": max(xs) - min(xs), "h": max(ys) - min(ys)}
                    elif len(pts) >= 3:
                        kind, geom = "polygon", {"points": pts, "holes": []}
                    else:
                        report.drop("polygons with fewer than 3 points skipped")
                        continue
                elif segm is not None:
                    mpath = masks / (segm.findtext("mask") or "").strip()
                    if not mpath.is_file() or not h or not w:
                        report.problem(f"{xml} ({key}): mask {mpath.name!r} not found; object skipped")
                        continue
                    from PIL import Image

                    with Image.open(mpath) as im:
                        m = np.asarray(im)
                    m = (m.reshape(m.shape[0], m.shape[1], -1) != 0).any(axis=2).astype(np.uint8)
                    kind, geom = "mask", {"rle": _rle.encode(m)}
                else:
                    report.drop("objects with no polygon or mask skipped")
                    continue
            except (TypeError, ValueError) as e:
                raise FormatError(xml, f"invalid point: {e}", key=f"{key}/polygon") from None
            ds.ensure_label(label)
            lab = ds.schema.get(label)
            for k, v in attrs.items():
                _declare(lab, k, v)
            ids[oid] = len(shapes)
            shapes.append(Shape(kind, label, geom, attrs))
        group = 0
        for oid in [o for o in children if children[o] and o not in has_parent]:
            group += 1
            todo = [oid]
            while todo:
                o = todo.pop()
                if o in ids and shapes[ids[o]].group_id is None:
                    shapes[ids[o]].group_id = group
                todo.extend(children.get(o, []))
        ds.items.append(Item(name, w, h, shapes, subset, {}, image))
    report.items = len(ds.items)
    report.shapes = sum(len(i.shapes) for i in ds.items)
    return ds, report


def write_xml(dataset: Dataset, path: Path, *, include_images: bool = False, **options) -> Report:
    """Write LabelMe XML in datumaro's layout: ``<path>/<item name minus extension>.xml`` beside the
    image, masks as full-size PNGs in ``Masks/`` of the same folder."""
    from xml.sax.saxutils import escape

    from PIL import Image

    root = Path(path)
    report = Report(format="LabelMe XML")
    for item in dataset.items:
        rel = Path(item.name)
        folder = root / rel.parent
        objs, groups = [], {}
        for s in item.shapes:
            if s.group_id is not None:
                groups.setdefault(s.group_id, []).append(len(objs))
            objs.append(s)
        parts = {}
        for members in groups.values():
            parts[members[0]] = (",".join(str(m) for m in members[1:]), "")
            for m in members[1:]:
                parts[m] = ("", str(members[0]))
        folder_name = rel.parent.as_posix() if rel.parent.name else ""
        out = [f"<annotation><filename>{escape(rel.name)}</filename><folder>{escape(folder_name)}</folder>"
               "<source><sourceImage></sourceImage><sourceAnnotation>Limner</sourceAnnotation></source>"]  # fmt: skip
        if item.width and item.height:
            out.append(f"<imagesize><nrows>{item.height}</nrows><ncols>{item.width}</ncols></imagesize>")
        for n, s in enumerate(objs):
            g, k = s.geometry, s.kind
            attrs = dict(s.attributes)
            occluded = "yes" if attrs.pop("occluded", False) is True else "no"
            user = escape(str(attrs.pop("username", "")))
            typ, body = "", ""
            if k in ("box", "rotated_box", "polygon", "ellipse"):
                if k == "box":
                    x0, y0, x1, y1 = g["x"], g["y"], g["x"] + g["w"], g["y"] + g["h"]
                    pts = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
                    typ = "<type>bounding_box</type>"
                elif k == "polygon":
                    pts = g["points"]
                    if g.get("holes"):
                        report.drop("polygon holes dropped")
                else:
                    pts = (rotated_box_corners(g) if k == "rotated_box" else ellipse_points(g)).tolist()
                    report.drop("ellipses written as polygons" if k == "ellipse" else "rotated boxes written as polygons")
                xy = "".join(f"<pt><x>{_num_text(x)}</x><y>{_num_text(y)}</y></pt>" for x, y in pts)
                body = f"<polygon><username>{user}</username>{xy}</polygon>"
            elif k == "mask":
                m = _rle.decode(g["rle"])
                ys, xs = np.nonzero(m)
                if not len(ys):
                    report.drop("empty masks skipped")
                    continue
                mname = f"{rel.stem}_mask_{n}.png"
                buf = io.BytesIO()
                Image.fromarray(m * 255).save(buf, format="PNG")
                atomic_write(folder / "Masks" / mname, buf.getvalue())
                body = (f"<segm><username>{user}</username><box><xmin>{xs.min()}</xmin><ymin>{ys.min()}</ymin>"
                        f"<xmax>{xs.max()}</xmax><ymax>{ys.max()}</ymax></box><mask>{escape(mname)}</mask></segm>")  # fmt: skip
            else:
                report.drop(f"{k}s not representable in LabelMe XML")
                continue
            for field, default, what in (("z_order", 0, "z-orders"), ("track_id", None, "track ids"),
                                         ("confidence", None, "confidences")):  # fmt: skip
                if getattr(s, field) != default:
                    report.drop(f"{what} not representable")
            has, of = parts.get(n, ("", ""))
            out.append(f"<object><name>{escape(s.label)}</name><deleted>0</deleted><verified>0</verified>"
                       f"<occluded>{occluded}</occluded><attributes>{escape(_join_attrs(attrs))}</attributes>"
                       f"<parts><hasparts>{has}</hasparts><ispartof>{of}</ispartof></parts><date></date>"
                       f"<id>{n}</id>{typ}{body}</object>")  # fmt: skip
        out.append("</annotation>\n")
        atomic_write(folder / (rel.stem + ".xml"), "".join(out))
        if include_images:
            if item.image is not None and Path(item.image).is_file():
                (folder).mkdir(parents=True, exist_ok=True)
                if Path(item.image).resolve() != (folder / rel.name).resolve():
                    shutil.copyfile(item.image, folder / rel.name)
            else:
                report.missing_images.append(item.name)
    report.items = len(dataset.items)
    report.shapes = sum(len(i.shapes) for i in dataset.items)
    return report


def _num_text(v) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() else repr(v)


def _looks_labelme_xml(p: Path) -> bool:
    try:
        with open(p, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    marks = (b"<imagesize>", b"<pt>", b"<segm>")
    return b"<annotation>" in head and b"<bndbox>" not in head and any(m in head for m in marks)


def detect_xml(path: Path) -> int:
    path = Path(path)
    if path.is_dir():
        base = path / "Annotations" if (path / "Annotations").is_dir() else path
        for i, p in enumerate(base.rglob("*.xml")):
            if _looks_labelme_xml(p):
                return 80
            if i >= 20:
                break
    return 0


register(Format("labelme", "LabelMe JSON (one file per image, wkentaro/labelme)", read, write, detect))
register(Format("labelme_xml", "LabelMe XML (MIT LabelMe 3.0, one XML per image)", read_xml, write_xml, detect_xml))
