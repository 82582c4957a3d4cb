"""VGG Image Annotator (VIA) 2 JSON: a project file or an annotation export.

A project (``Project -> Save``) is ``{"_via_settings", "_via_img_metadata", "_via_attributes",
"_via_data_format_version", "_via_image_id_list"}``; an export (``Annotation -> Export as json``) is
the bare ``_via_img_metadata`` dict. Both key each image by ``filename + size`` (bytes; -1 for URLs):
``{"filename", "size", "regions": [{"shape_attributes", "region_attributes"}], "file_attributes"}``.

Shapes (``shape_attributes.name``), as VIA 2's via.js writes them: ``rect`` {x, y, width, height},
``polygon`` / ``polyline`` {all_points_x, all_points_y}, ``circle`` {cx, cy, r}, ``ellipse``
{cx, cy, rx, ry, theta (radians, clockwise on screen)}, ``point`` {cx, cy}.

The label is one region attribute: ``label_key`` (option), else the first attribute named
label / class / name / category / type; the other region attributes become shape attributes
(a checkbox's ``{"option": true}`` becomes the text "option,option"). ``file_attributes[label_key]``
becomes tags; the other file attributes stay in ``Item.metadata["file_attributes"]``.
Folders: ``<dir>/*.json`` (no split) or ``<dir>/<split>/*.json`` (the Mask R-CNN balloon layout).
"""

from __future__ import annotations

import math
from pathlib import Path

from limner.core.dataset import Dataset, Item
from limner.core.raster import mask_to_polygons, rotated_box_corners
from limner.core.schema import Attribute, Label
from limner.core.shapes import Shape
from limner.formats.base import FormatError, Report, atomic_write, copy_images, load_json, no_gc, peek
from limner.formats.registry import Format, register

__all__ = ["dataset_to_via", "detect", "read", "via_to_dataset", "write"]

_LABEL_KEYS = ("label", "class", "name", "category", "type")
VERSION = "2.0.10"


def _declare(label: Label, name: str, value) -> None:
    if any(a.name == name for a in label.attributes):
        return
    kind = "checkbox" if isinstance(value, bool) else "number" if isinstance(value, (int, float)) else "text"
    label.attributes.append(Attribute(name, kind))


def _label_key(meta: dict, attrs_def: dict) -> str | None:
    """The region attribute holding the label: the first named label/class/name/category/type among
    the project's region attributes (else those the regions use, else the file attributes)."""
    names = list((attrs_def or {}).get("region") or {})
    files = list((attrs_def or {}).get("file") or {})
    if not names:
        for rec in list(meta.values())[:200]:
            regions = rec.get("regions") if isinstance(rec, dict) else None
            regions = list(regions.values()) if isinstance(regions, dict) else regions
            for r in regions if isinstance(regions, list) else []:
                if isinstance(r, dict) and isinstance(r.get("region_attributes"), dict):
                    names.extend(k for k in r["region_attributes"] if k not in names)
            fa = rec.get("file_attributes") if isinstance(rec, dict) else None
            files.extend(k for k in (fa if isinstance(fa, dict) else {}) if k not in files)
    for pool in (names, files):
        for want in _LABEL_KEYS:
            for n in pool:
                if n.lower() == want:
                    return n
    return names[0] if names else None


def _value(v):
    if isinstance(v, dict):  # checkbox: {"option": true, ...}
        return ",".join(k for k, on in v.items() if on)
    return v


def _num(sa: dict, k: str, file: Path, key: str) -> float:
    v = sa.get(k)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise FormatError(file, f"{k} must be a number, got {v!r}", key=f"{key}.shape_attributes.{k}")
    return float(v)


def _geometry(sa: dict, file: Path, key: str):
    name = sa.get("name")
    if name == "rect":
        g = {k2: _num(sa, k1, file, key) for k1, k2 in (("x", "x"), ("y", "y"), ("width", "w"), ("height", "h"))}
        return ("box", g) if g["w"] > 0 and g["h"] > 0 else (None, "rects with no area skipped")
    if name in ("polygon", "polyline"):
        xs, ys = sa.get("all_points_x"), sa.get("all_points_y")
        if not isinstance(xs, list) or not isinstance(ys, list) or len(xs) != len(ys):
            raise FormatError(file, "all_points_x and all_points_y must be lists of the same length",
                              key=f"{key}.shape_attributes")  # fmt: skip
        try:
            pts = [[float(x), float(y)] for x, y in zip(xs, ys)]
        except (TypeError, ValueError):
            raise FormatError(file, "all_points_x and all_points_y must hold numbers", key=f"{key}.shape_attributes") from None
        least = 3 if name == "polygon" else 2
        if len(pts) < least:
            return None, f"{name}s with fewer than {least} points skipped"
        return (name, {"points": pts, "holes": []}) if name == "polygon" else (name, {"points": pts})
    if name in ("circle", "ellipse"):
        cx, cy = _num(sa, "cx", file, key), _num(sa, "cy", file, key)
        if name == "circle":
            rx = ry = _num(sa, "r", file, key)
            angle = 0.0
        else:
            rx, ry = _num(sa, "rx", file, key), _num(sa, "ry", file, key)
            angle = math.degrees(float(sa.get("theta") or 0.0))
        if rx <= 0 or ry <= 0:
            return None, f"{name}s with no radius skipped"
        return "ellipse", {"cx": cx, "cy": cy, "rx": rx, "ry": ry, "angle": angle}
    if name == "point":
        return "points", {"points": [[_num(sa, "cx", file, key), _num(sa, "cy", file, key)]]}
    return None, f"{name} regions skipped (unknown shape)"


def via_to_dataset(data: dict, ds: Dataset, report: Report, *, file: Path, prefix: str = "", subset: str | None = None,
                   label_key: str | None = None, default_label: str | None = None) -> None:  # fmt: skip
    """A VIA project or export object -> items appended to ``ds`` (names prefixed with ``prefix``)."""
    where = ["(root)"]
    try:
        _to_dataset(data, ds, report, file, prefix, subset, label_key, default_label, where)
    except (TypeError, AttributeError, KeyError, IndexError, ValueError) as e:
        raise FormatError(file, f"unexpected content ({type(e).__name__}: {e})", key=where[0]) from None


def _to_dataset(data, ds: Dataset, report: Report, file: Path, prefix: str, subset, label_key, default_label, where: list):
    if not isinstance(data, dict):
        raise FormatError(file, "a VIA file is a JSON object", key="(root)")
    meta = data.get("_via_img_metadata", data if "_via_settings" not in data else None)
    if not isinstance(meta, dict):
        raise FormatError(file, "_via_img_metadata must be an object keyed by filename+size", key="_via_img_metadata")
    attrs_def = data.get("_via_attributes") or {}
    key_name = label_key or _label_key(meta, attrs_def)
    info = ds.info.setdefault("via", {})
    for k in ("_via_settings", "_via_attributes", "_via_data_format_version"):
        if k in data:
            info.setdefault(k[5:], data[k])
    info.setdefault("label_key", key_name or "label")
    root = file.parent
    unlabelled = 0
    for img_key, rec in meta.items():
        where[0] = rec_key = f"_via_img_metadata[{img_key!r}]" if meta is not data else repr(img_key)
        if not isinstance(rec, dict) or not isinstance(rec.get("filename"), str):
            raise FormatError(file, "each image record needs a filename", key=rec_key)
        regions = rec.get("regions") or []
        if isinstance(regions, dict):  # VIA 1 stored regions as {"0": {...}}
            regions = list(regions.values())
        if not isinstance(regions, list):
            raise FormatError(file, "regions must be a list", key=f"{rec_key}.regions")
        fname = rec["filename"]
        local = "://" not in fname
        image = root / fname if local else None
        found = image is not None and image.is_file()
        name = prefix + fname if local else fname
        if not found:
            report.missing_images.append(name)
        shapes = []
        for j, r in enumerate(regions):
            key = where[0] = f"{rec_key}.regions[{j}]"
            if not isinstance(r, dict) or not isinstance(r.get("shape_attributes"), dict):
                raise FormatError(file, "a region needs shape_attributes", key=key)
            kind, geom = _geometry(r["shape_attributes"], file, key)
            if kind is None:
                report.drop(geom)
                continue
            ra = r.get("region_attributes") or {}
            if not isinstance(ra, dict):
                raise FormatError(file, "region_attributes must be an object", key=f"{key}.region_attributes")
            label = _value(ra.get(key_name)) if key_name else None
            if not isinstance(label, str) or not label:
                if not default_label:
                    unlabelled += 1
                    continue
                label = default_label
            lab = ds.schema.get(label)
            if lab is None:
                ds.ensure_label(label)
                lab = ds.schema.get(label)
            attrs = {}
            for k, v in ra.items():
                if k != key_name:
                    attrs[k] = _value(v)
                    _declare(lab, k, attrs[k])
            shapes.append(Shape(kind, label, geom, attrs))
        where[0] = f"{rec_key}.file_attributes"
        fa = dict(rec.get("file_attributes") or {})
        tags = fa.pop(key_name, None) if key_name else None
        if isinstance(tags, dict):
            tags = [k for k, on in tags.items() if on]
        elif isinstance(tags, str):
            tags = [tags] if tags else []
        for t in tags or []:
            ds.ensure_label(t)
            shapes.append(Shape("tag", t))
        metadata = {"via_size": rec.get("size")}
        if fa:
            metadata["file_attributes"] = fa
        ds.items.append(Item(name, None, None, shapes, subset, metadata, image if found else None))
    if unlabelled:
        report.drop(f"regions without a {key_name or 'label'!r} attribute skipped (pass default_label=...)", unlabelled)


def _files(path: Path) -> list[tuple[Path, str | None]]:
    if path.is_file():
        return [(path, None)]
    top = [p for p in sorted(path.glob("*.json")) if _looks_via(p)]
    if top:
        return [(p, None) for p in top]
    return [(p, d.name) for d in sorted(path.iterdir()) if d.is_dir() for p in sorted(d.glob("*.json")) if _looks_via(p)]


def read(path: Path, *, label_key: str | None = None, default_label: str | None = None, **options) -> tuple[Dataset, Report]:
    """Read VIA 2 JSON: a file, a folder of VIA files, or a folder of split folders. ``label_key``
    names the region attribute holding the label; ``default_label`` labels regions that have none."""
    path = Path(path).absolute()
    files = _files(path)
    if not files:
        raise FormatError(path, "no VIA JSON file (_via_img_metadata or filename+size records) here")
    ds, report = Dataset(), Report(format="VIA")
    for file, subset in files:
        data = load_json(file)
        with no_gc():
            via_to_dataset(data, ds, report, file=file, prefix=f"{subset}/" if subset else "", subset=subset,
                           label_key=label_key, default_label=default_label)  # fmt: skip
    report.items = len(ds.items)
    report.shapes = ds.shape_count
    return ds, report


def _region(s: Shape, key: str, report: Report) -> list[dict]:
    g, k = s.geometry, s.kind
    if k == "box":
        sas = [{"name": "rect", "x": g["x"], "y": g["y"], "width": g["w"], "height": g["h"]}]
    elif k in ("rotated_box", "polygon", "polyline", "mask"):
        if k == "rotated_box":
            rings = [rotated_box_corners(g).tolist()]
            report.drop("rotated boxes written as polygons")
        elif k == "mask":
            rings = [p["points"] for p in mask_to_polygons(g["rle"], tolerance=0.0)]
            report.drop("masks written as polygons")
        else:
            rings = [g["points"]]
            if g.get("holes"):
                report.drop("polygon holes dropped")
        name = "polyline" if k == "polyline" else "polygon"
        sas = [{"name": name, "all_points_x": [p[0] for p in r], "all_points_y": [p[1] for p in r]} for r in rings]
    elif k == "ellipse":
        if g["rx"] == g["ry"]:
            sas = [{"name": "circle", "cx": g["cx"], "cy": g["cy"], "r": g["rx"]}]
        else:
            sas = [{"name": "ellipse", "cx": g["cx"], "cy": g["cy"], "rx": g["rx"], "ry": g["ry"],
                    "theta": math.radians(g["angle"])}]  # fmt: skip
    elif k in ("points", "skeleton"):
        pts = g["points"] if k == "points" else [p[:2] for p in g["points"] if p[2] > 0]
        if k == "skeleton":
            report.drop("skeletons written as points")
        elif len(pts) > 1:
            report.drop("multi-point shapes written as one point region per point")
        sas = [{"name": "point", "cx": p[0], "cy": p[1]} for p in pts]
    else:
        return []
    for field, default, what in (("group_id", None, "group ids"), ("z_order", 0, "z-orders"),
                                 ("track_id", None, "track ids"), ("confidence", None, "confidences")):  # fmt: skip
        if getattr(s, field) != default:
            report.drop(f"{what} not representable")
    if s.source not in ("manual", None, ""):
        report.drop("sources not representable")
    ra = {key: s.label, **{a: v for a, v in s.attributes.items() if a != key}}
    return [{"shape_attributes": sa, "region_attributes": dict(ra)} for sa in sas]


def dataset_to_via(ds: Dataset, report: Report, items: list[Item], root: Path, prefix: str = "") -> dict:
    """Items -> a ``_via_img_metadata`` dict (filenames relative to ``root``, ``prefix`` removed)."""
    key = ds.info.get("via", {}).get("label_key") or "label"
    meta = {}
    for item in items:
        fname = item.name[len(prefix) :] if prefix and item.name.startswith(prefix) else item.name
        size = item.metadata.get("via_size")
        if not isinstance(size, int):
            size = Path(item.image).stat().st_size if item.image is not None and Path(item.image).is_file() else -1
        regions, tags = [], []
        for s in item.shapes:
            if s.kind == "tag":
                tags.append(s.label)
                if s.attributes:
                    report.drop("tag attributes not representable")
            else:
                regions.extend(_region(s, key, report))
        fa = dict(item.metadata.get("file_attributes") or {})
        if tags:
            fa[key] = tags[0] if len(tags) == 1 else {t: True for t in tags}
        meta[f"{fname}{size}"] = {"filename": fname, "size": size, "regions": regions, "file_attributes": fa}
    return meta


def _project(ds: Dataset, meta: dict) -> dict:
    info = ds.info.get("via", {})
    key = info.get("label_key") or "label"
    attrs = info.get("attributes") or {"region": {}, "file": {}}
    region = dict(attrs.get("region") or {})
    if key not in region:
        names = [lb.name for lb in ds.schema]
        region[key] = {"type": "dropdown", "description": "", "options": {n: "" for n in names}, "default_options": {}}
    settings = info.get("settings") or {
        "ui": {"annotation_editor_height": 25, "annotation_editor_fontsize": 0.8, "leftsidebar_width": 18,
               "image_grid": {"img_height": 80, "rshape_fill": "none", "rshape_fill_opacity": 0.3,
                              "rshape_stroke": "yellow", "rshape_stroke_width": 2, "show_region_shape": True,
                              "show_image_policy": "all"},
               "image": {"region_label": key, "region_color": "__via_default_region_color__",
                         "region_label_font": "10px Sans", "on_image_annotation_editor_placement": "NEAR_REGION"}},
        "core": {"buffer_size": 18, "filepath": {}, "default_filepath": ""},
        "project": {"name": "limner"},
    }  # fmt: skip
    via_attrs = {"region": region, "file": attrs.get("file") or {}}
    return {"_via_settings": settings, "_via_img_metadata": meta, "_via_attributes": via_attrs,
            "_via_data_format_version": info.get("data_format_version") or VERSION, "_via_image_id_list": list(meta)}  # fmt: skip


def write(dataset: Dataset, path: Path, *, include_images: bool = False, project: bool = True, **options) -> Report:
    """Write ``via_project.json`` (``project=False``: the bare export ``via_region_data.json``) in
    ``path``, one per split folder when items have subsets; a path ending in .json is the file."""
    import orjson

    path = Path(path)
    report = Report(format="VIA")
    fname = "via_project.json" if project else "via_region_data.json"
    groups: dict[str | None, list[Item]] = {}
    for item in dataset.items:
        groups.setdefault(item.subset, []).append(item)
    single = path.suffix.lower() == ".json" or list(groups) == [None]
    if single:
        groups = {None: list(dataset.items)}
    for subset, items in groups.items():
        prefix = f"{subset}/" if subset and not single else ""
        root = (path.parent if path.suffix.lower() == ".json" else path) / (subset if prefix else "")
        target = path if path.suffix.lower() == ".json" else root / fname
        meta = dataset_to_via(dataset, report, items, root, prefix)
        atomic_write(target, orjson.dumps(_project(dataset, meta) if project else meta))
        if include_images:
            copy_images(items, lambda item: root / (item.name[len(prefix) :] if prefix else item.name), report)
    report.items = len(dataset.items)
    report.shapes = dataset.shape_count
    return report


def _looks_via(p: Path) -> bool:
    head = peek(p)
    if not head.lstrip().startswith(b"{"):
        return False
    if b'"_via_img_metadata"' in head or b'"_via_settings"' in head:
        return True
    return b'"filename"' in head and b'"regions"' in head and (b'"size"' in head or b'"file_attributes"' in head)


def detect(path: Path) -> int:
    path = Path(path)
    if path.is_file():
        return 90 if path.suffix.lower() == ".json" and _looks_via(path) else 0
    if path.is_dir():
        if any(_looks_via(p) for p in sorted(path.glob("*.json"))[:20]):
            return 85
        if any(_looks_via(p) for d in sorted(path.iterdir())[:20] if d.is_dir() for p in sorted(d.glob("*.json"))[:5]):
            return 80
    return 0


register(Format("via", "VGG Image Annotator 2 JSON (project or annotation export)", read, write, detect))
