"""CVAT XML 1.1: "CVAT for images" (``<image>`` elements) and "CVAT for video" (``<track>`` elements).

One ``annotations.xml`` (CVAT's own export) or several ``<subset>.xml`` files (datumaro's layout),
with images under ``images/`` (``images/<subset>/`` for a project export). The spec is
docs.cvat.ai "XML annotation format"; the mask RLE and rotations follow CVAT's own code
(``dataset_manager/formats/cvat.py`` and ``transformations.py``):

- ``<mask rle="3, 5, 7" left top width height>``: run lengths of alternating 0s and 1s, starting with
  0s, over the ``width`` x ``height`` window, row by row. Converted to and from full-image COCO RLE.
- ``<box ... rotation="deg">``: turned clockwise about the box centre -> ``rotated_box``.
- ``<ellipse cx cy rx ry rotation>`` -> ``ellipse``; ``<skeleton>`` with one ``<points label=sub>`` per
  sublabel -> ``skeleton`` (point order = sublabel order in ``<meta>``, edges from the label's svg).
- ``occluded="1"`` becomes the checkbox attribute ``occluded`` (declared on the label when met);
  ``source``, ``z_order`` and ``group_id`` map to the Shape fields; ``<track id>`` to ``track_id``.

Files over a few MB are read with defusedxml's ``iterparse``, one top-level element at a time.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import orjson

from limner.core import rle as _rle
from limner.core.dataset import Dataset, Item, _color
from limner.core.points import Points
from limner.core.schema import Attribute, Label, Skeleton
from limner.core.shapes import Shape
from limner.errors import ValidationError
from limner.formats.base import FormatError, Report, no_gc, parse_xml
from limner.formats.registry import Format, register

__all__ = ["cvat_mask_to_rle", "detect", "read", "rle_to_cvat_mask", "write"]

STREAM_ABOVE = 4 << 20  # bytes: bigger files are parsed with iterparse, element by element
_TYPE_KINDS = {
    "rectangle": ["box", "rotated_box"], "bbox": ["box", "rotated_box"], "polygon": ["polygon"],
    "polyline": ["polyline"], "points": ["points"], "ellipse": ["ellipse"], "mask": ["mask"],
    "skeleton": ["skeleton"], "tag": ["tag"],
}  # fmt: skip
_KIND_TYPE = {"polygon": "polygon", "polyline": "polyline", "points": "points", "ellipse": "ellipse",
              "mask": "mask", "skeleton": "skeleton", "tag": "tag"}  # fmt: skip
_SHAPE_TAGS = ("box", "polygon", "polyline", "points", "ellipse", "mask", "skeleton", "cuboid")
_SVG_TAG = re.compile(r"<(line|circle)\b([^>]*)>")
_SVG_ATTR = re.compile(r'([\w:.-]+)="([^"]*)"')


# ---------------------------------------------------------------------------------------- masks


def cvat_mask_to_rle(counts: list[int], left: int, top: int, width: int, height: int, img_h: int, img_w: int) -> dict:
    """CVAT's window RLE (row-major, starting with 0s) -> full-image compressed COCO RLE."""
    if sum(counts) != width * height:
        raise ValueError(f"rle covers {sum(counts)} pixels, the {width}x{height} window has {width * height}")
    win = np.repeat(np.arange(len(counts), dtype=np.uint8) & 1, counts).reshape(height, width)
    full = np.zeros((img_h, img_w), np.uint8)
    y0, x0, y1, x1 = max(top, 0), max(left, 0), min(top + height, img_h), min(left + width, img_w)
    if y0 < y1 and x0 < x1:
        full[y0:y1, x0:x1] = win[y0 - top : y1 - top, x0 - left : x1 - left]
    return _rle.encode(full)


def rle_to_cvat_mask(rle: dict) -> tuple[list[int], int, int, int, int] | None:
    """Full-image COCO RLE -> (counts, left, top, width, height) over the tight window; None if empty.

    Only the window is painted: COCO runs are column-major, so the window's columns are one span of
    the runs, clipped and repeated (no full-image decode)."""
    h, w = (int(v) for v in rle["size"])
    runs = _rle.string_runs(rle["counts"])
    if runs is None or runs.min() < 0 or int(runs.sum()) != h * w:
        m = _rle.decode(rle)  # not expected for a checked RLE; the plain way
        runs = None
    if runs is not None:
        ends = np.cumsum(runs)
        starts = ends - runs
        fg = (np.arange(runs.size) & 1).astype(bool) & (runs > 0)
        if not fg.any():
            return None
        lo, hi = int(starts[fg][0]), int(ends[fg][-1])  # the first and last foreground pixel (+1)
        c0, c1 = lo // h, (hi - 1) // h + 1
        a, b = c0 * h, c1 * h
        s, e = np.clip(starts, a, b), np.clip(ends, a, b)
        cols = np.repeat(fg.astype(np.uint8), e - s).reshape(c1 - c0, h)
        m = cols.T  # rows x window columns
        left = c0
    else:
        left = 0
    rows = np.flatnonzero(m.any(axis=1))
    if not len(rows):
        return None
    top, bottom = int(rows[0]), int(rows[-1])
    if runs is None:
        cols_any = np.flatnonzero(m.any(axis=0))
        left, right = int(cols_any[0]), int(cols_any[-1])
        m = m[:, left : right + 1]
    win = np.ascontiguousarray(m[top : bottom + 1]).ravel()
    bounds = np.concatenate(([0], np.flatnonzero(win[1:] != win[:-1]) + 1, [win.size]))
    counts = np.diff(bounds).tolist()
    if win[0]:
        counts.insert(0, 0)
    return counts, left, top, m.shape[1], bottom - top + 1


# ---------------------------------------------------------------------------------------- reading


def _top_elements(path: Path):
    """The children of ``<annotations>``, one at a time (iterparse and clearing for big files)."""
    from xml.etree.ElementTree import ParseError

    if path.stat().st_size <= STREAM_ABOVE:
        try:
            root = parse_xml(path).getroot()
        except LookupError as e:  # an XML declaration naming an unknown encoding
            raise FormatError(path, f"not readable XML: {e}", line=1) from None
        if root.tag != "annotations":
            raise FormatError(path, f"the root element is <{root.tag}>, CVAT XML has <annotations>", key=root.tag)
        yield from root
        return
    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException

    depth, root = 0, None
    try:
        for ev, el in DET.iterparse(str(path), events=("start", "end")):
            if ev == "start":
                if depth == 0:
                    root = el
                    if el.tag != "annotations":
                        raise FormatError(path, f"the root element is <{el.tag}>, CVAT XML has <annotations>", key=el.tag)
                depth += 1
            else:
                depth -= 1
                if depth == 1:
                    yield el
                    root.clear()
    except ParseError as e:
        line = e.position[0] if getattr(e, "position", None) else None
        raise FormatError(path, f"not well-formed XML: {e}", line=line) from None
    except DefusedXmlException as e:
        raise FormatError(path, f"refused XML: {type(e).__name__} (entities and DTDs are not allowed)") from None
    except LookupError as e:
        raise FormatError(path, f"not readable XML: {e}", line=1) from None


def _text(el, tag: str, default: str = "") -> str:
    c = el.find(tag)
    return (c.text or "").strip() if c is not None and c.text else default


def _attribute_spec(el, label: str, extras: dict, report: Report, path: Path) -> Attribute:
    name = _text(el, "name")
    itype = _text(el, "input_type", "text").lower()
    default = _text(el, "default_value")
    raw = (el.find("values").text or "") if el.find("values") is not None else ""
    values = [v.strip() for v in raw.split("\n") if v.strip()]
    if itype == "number" or (len(values) == 1 and default not in values and default in values[0].split()):
        values = raw.split()  # datumaro writes values separated by spaces
    extra = {}
    if itype == "radio":
        extra["input_type"] = "radio"
    if _text(el, "mutable").lower() == "true":
        extra["mutable"] = True
    try:
        if itype in ("select", "radio"):
            opts = list(dict.fromkeys(values))
            if default and default not in opts:
                opts.insert(0, default)
            if opts:
                return Attribute(name, "select", options=opts, default=default or None)
            return Attribute(name, "text")
        if itype == "checkbox":
            return Attribute(name, "checkbox", default=default.lower() == "true")
        if itype == "number":
            nums = [float(v) for v in values]
            lo, hi = (nums[0], nums[1]) if len(nums) >= 2 and nums[0] <= nums[1] else (None, None)
            if len(nums) >= 3 and lo is not None and nums[2] != 1:
                extra["step"] = nums[2]
            d = _number(default) if default else None
            if d is not None and lo is not None and not lo <= d <= hi:
                d = None
            return Attribute(name, "number", default=d, minimum=lo, maximum=hi)
        return Attribute(name, "text", default=default or None)
    except (ValueError, ValidationError) as e:
        report.problem(f"{path}: attribute {name!r} of label {label!r} kept as text ({e})")
        return Attribute(name or "?", "text")
    finally:
        if extra:
            extras.setdefault(label, {})[name] = extra


def _svg_edges(svg: str, names: list[str]) -> list[tuple[int, int]]:
    ids, lines = {}, []
    for tag, attrs in _SVG_TAG.findall(svg):
        a = dict(_SVG_ATTR.findall(attrs))
        if tag == "circle" and "data-node-id" in a:
            ids[a["data-node-id"]] = a.get("data-label-name")
        elif tag == "line" and "data-node-from" in a and "data-node-to" in a:
            lines.append((a["data-node-from"], a["data-node-to"]))
    index = {n: i for i, n in enumerate(names)}
    edges = []
    for f, t in lines:
        a, b = index.get(ids.get(f)), index.get(ids.get(t))
        if a is not None and b is not None and a != b and (a, b) not in edges and (b, a) not in edges:
            edges.append((a, b))
    return edges


def _read_meta(meta, ds: Dataset, info: dict, report: Report, path: Path) -> None:
    holder = meta.find("task")
    if holder is None:
        holder = meta.find("project")
    if holder is None:
        return
    for key in ("name", "mode", "start_frame", "stop_frame", "frame_filter", "size"):
        if holder.find(key) is not None:
            info.setdefault(key, _text(holder, key))
    size = holder.find("original_size")
    if size is not None:
        try:
            info["original_size"] = [int(_text(size, "width", "0")), int(_text(size, "height", "0"))]
        except ValueError:
            raise FormatError(path, "original_size width and height must be integers", key="meta/task/original_size") from None
    labels = holder.find("labels")
    raw = []
    for lab in labels.findall("label") if labels is not None else []:
        raw.append((lab, _text(lab, "name"), _text(lab, "parent") or None))
    subs: dict[str, list[str]] = {}
    for _, name, parent in raw:
        if parent:
            subs.setdefault(parent, []).append(name)
    extras = info.setdefault("attributes", {})
    for lab, name, parent in raw:
        if parent or not name or name in ds.schema:
            continue
        color = _text(lab, "color")
        kinds = list(_TYPE_KINDS.get(_text(lab, "type", "any").lower(), []))
        skeleton = None
        if subs.get(name):
            skeleton = Skeleton(subs[name], _svg_edges(_text(lab, "svg"), subs[name]))
        elif "skeleton" in kinds:
            kinds = []
        attrs_el = lab.find("attributes")
        attrs = [_attribute_spec(a, name, extras, report, path) for a in (attrs_el if attrs_el is not None else [])]
        attrs = list({a.name: a for a in attrs}.values())
        color = color if re.fullmatch(r"#[0-9a-fA-F]{6}", color) else _color(len(ds.schema))
        ds.schema.add(Label(name, color=color, kinds=kinds, attributes=attrs, skeleton=skeleton))


def _number(s: str):
    try:
        return int(s)
    except ValueError:
        return float(s)


def _points(s: str | None) -> list[list[float]]:
    if not s:
        raise ValueError("points are missing")
    out = []
    for p in s.split(";"):
        x, y = p.split(",")
        out.append([float(x), float(y)])
    return out


class _Reader:
    """What reading one or more XML files shares: the dataset, the report and attribute types."""

    def __init__(self, ds: Dataset, report: Report):
        self.ds, self.report = ds, report
        self.known: dict[tuple[str, str], Attribute | None] = {}
        self.unknown_labels: set[str] = set()

    def label(self, name: str | None, kind: str, path: Path) -> Label | None:
        if not name:
            self.report.drop("shapes without a label skipped")
            return None
        label = self.ds.schema.get(name)
        if label is None:
            self.ds.ensure_label(name)
            label = self.ds.schema.get(name)
            if name not in self.unknown_labels:
                self.unknown_labels.add(name)
                self.report.problem(f"{path}: label {name!r} is not declared in <meta>; added")
        if label.kinds and kind not in label.kinds:
            label.kinds.append(kind)
        return label

    def attr(self, label: Label, name: str, text: str):
        key = (label.name, name)
        spec = self.known.get(key, False)
        if spec is False:
            spec = next((a for a in label.attributes if a.name == name), None)
            if spec is None:
                spec = Attribute(name, "checkbox", default=False) if name == "occluded" else Attribute(name, "text")
                label.attributes.append(spec)
            self.known[key] = spec
        if spec.kind == "checkbox":
            return text.strip().lower() in ("true", "1")
        if spec.kind == "number":
            try:
                return _number(text.strip())
            except ValueError:
                self.report.problem(f"attribute {name!r} of label {label.name!r}: {text!r} is not a number; kept as text")
                return text
        return text

    def attrs(self, el, label: Label) -> dict:
        out = {a.get("name"): self.attr(label, a.get("name"), a.text or "") for a in el.findall("attribute") if a.get("name")}
        if el.get("occluded") == "1":
            out["occluded"] = self.attr(label, "occluded", "true")
        return out

    def shape(self, el, label_name: str | None, img_h: int | None, img_w: int | None, path: Path, where: str):
        tag = el.tag
        if tag == "cuboid":
            self.report.drop("cuboids skipped (not supported)")
            return None
        kind = {"box": "box", "tag": "tag"}.get(tag, tag)
        g = el.get
        try:
            group, z = int(g("group_id") or 0) or None, int(g("z_order") or 0)
            if tag == "box":
                x0, y0, x1, y1 = float(g("xtl")), float(g("ytl")), float(g("xbr")), float(g("ybr"))
                rot = float(g("rotation") or 0)
                if rot % 360:
                    kind = "rotated_box"
                    geom = {"cx": (x0 + x1) / 2, "cy": (y0 + y1) / 2, "w": x1 - x0, "h": y1 - y0, "angle": rot}
                else:
                    geom = {"x": x0, "y": y0, "w": x1 - x0, "h": y1 - y0}
                if x1 <= x0 or y1 <= y0:
                    self.report.drop("boxes with no area skipped")
                    return None
            elif tag in ("polygon", "polyline", "points"):
                pts = _points(g("points"))
                least = {"polygon": 3, "polyline": 2, "points": 1}[tag]
                if len(pts) < least:
                    self.report.drop(f"{tag}s with fewer than {least} points skipped")
                    return None
                geom = {"points": pts, "holes": []} if tag == "polygon" else {"points": pts}
            elif tag == "ellipse":
                geom = {"cx": float(g("cx")), "cy": float(g("cy")), "rx": float(g("rx")), "ry": float(g("ry")),
                        "angle": float(g("rotation") or 0)}  # fmt: skip
                if geom["rx"] <= 0 or geom["ry"] <= 0:
                    self.report.drop("ellipses with no area skipped")
                    return None
            elif tag == "mask":
                if not img_h or not img_w:
                    raise ValueError("a mask needs the image's width and height")
                counts = [int(v) for v in (g("rle") or "").replace(" ", "").split(",") if v]
                geom = {"rle": cvat_mask_to_rle(counts, int(g("left")), int(g("top")), int(g("width")),
                                                int(g("height")), img_h, img_w)}  # fmt: skip
            elif tag == "skeleton":
                geom = None  # below, once the label is known
            elif tag == "tag":
                geom = {}
            else:
                return None
        except (TypeError, ValueError) as e:
            raise FormatError(path, f"<{tag}> has a missing or invalid value: {e}", key=where) from None
        label = self.label(label_name or g("label"), kind, path)
        if label is None:
            return None
        if tag == "skeleton":
            geom = self.skeleton(el, label, path, where)
        return Shape(kind, label.name, geom, self.attrs(el, label), z, group, None, g("source") or "manual")

    def skeleton(self, el, label: Label, path: Path, where: str) -> dict:
        found = {}
        for p in el.findall("points"):
            try:
                x, y = _points(p.get("points"))[0]
            except (TypeError, ValueError) as e:
                raise FormatError(path, f"<skeleton> point {p.get('label')!r} has invalid points: {e}", key=where) from None
            v = 0 if p.get("outside") == "1" else 1 if p.get("occluded") == "1" else 2
            found[p.get("label") or ""] = [x, y, v]
            if p.find("attribute") is not None:
                self.report.drop("skeleton point attributes not kept")
        if label.skeleton is None:
            label.skeleton = Skeleton(list(found) or ["1"])
            if label.kinds and "skeleton" not in label.kinds:
                label.kinds.append("skeleton")
        names = label.skeleton.points
        extra = [n for n in found if n not in names]
        if extra:
            self.report.problem(f"{path} ({where}): skeleton points {extra} are not sublabels of {label.name!r}; dropped")
        return {"points": [found.get(n, [0.0, 0.0, 0]) for n in names]}


def _xml_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if (path / "annotations.xml").is_file():
        return [path / "annotations.xml"]
    return [p for p in sorted(path.glob("*.xml")) if _looks_cvat(p)]


def _find_image(root: Path, subset: str | None, name: str) -> tuple[str, Path | None]:
    images = root / "images"
    if subset and (images / subset / name).is_file():
        return f"{subset}/{name}", images / subset / name
    for base in (images, root):
        if (base / name).is_file():
            return name, base / name
    return (f"{subset}/{name}" if subset else name), None


def read(path: Path, **options) -> tuple[Dataset, Report]:
    """Read CVAT for images / for video XML: a file, or a folder with annotations.xml or <subset>.xml."""
    path = Path(path).absolute()
    files = _xml_files(path)
    if not files:
        raise FormatError(path, "no CVAT XML file (annotations.xml or *.xml with <annotations>) here")
    ds, report = Dataset(), Report(format="CVAT")
    info = ds.info.setdefault("cvat", {"version": "1.1"})
    rd = _Reader(ds, report)
    with no_gc():
        for xml in files:
            _read_file(xml, rd, info, options)
    report.items = len(ds.items)
    report.shapes = sum(len(i.shapes) for i in ds.items)
    return ds, report


def _read_file(xml: Path, rd: _Reader, info: dict, options: dict) -> None:
    ds, report = rd.ds, rd.report
    root = xml.parent
    file_subset = None if xml.stem == "annotations" else xml.stem
    by_frame: dict[tuple[str | None, int], Item] = {}
    pending: list[tuple[str | None, int, Shape]] = []
    meta_info: dict = {}
    n_img = 0
    for el in _top_elements(xml):
        if el.tag == "meta":
            _read_meta(el, ds, meta_info, report, xml)
        elif el.tag == "image":
            _read_image(el, n_img, xml, rd, file_subset, by_frame)
            n_img += 1
        elif el.tag == "track":
            _read_track(el, xml, rd, meta_info, file_subset, pending)
    for k in ("name", "mode"):
        if k in meta_info:
            info.setdefault(k, meta_info[k])
    if meta_info.get("attributes"):
        info.setdefault("attributes", {}).update(meta_info["attributes"])
    if pending:
        _attach_tracks(pending, by_frame, meta_info, root, rd, info)


def _read_image(el, n: int, xml: Path, rd: _Reader, file_subset, by_frame) -> None:
    name = el.get("name")
    if not name:
        raise FormatError(xml, "an <image> has no name", key=f"image[{n}]")
    try:
        frame = int(el.get("id", n))
        w = int(el.get("width")) if el.get("width") else None
        h = int(el.get("height")) if el.get("height") else None
    except ValueError as e:
        raise FormatError(xml, f"<image> has an invalid id, width or height: {e}", key=f"image {name!r}") from None
    subset = el.get("subset") or file_subset
    rel, image = _find_image(xml.parent, el.get("subset"), name)
    if image is None:
        rd.report.missing_images.append(rel)
    meta = {"frame": frame}
    if el.get("task_id"):
        meta["task_id"] = el.get("task_id")
    item = Item(rel, w, h, [], subset, meta, image)
    shapes = item.shapes
    for j, child in enumerate(el):
        if child.tag in _SHAPE_TAGS or child.tag == "tag":
            s = rd.shape(child, None, h, w, xml, f"image {name!r} > {child.tag}[{j}]")
            if s is not None:
                shapes.append(s)
    rd.ds.items.append(item)
    by_frame[(subset, frame)] = item


def _read_track(el, xml: Path, rd: _Reader, meta_info: dict, file_subset, pending) -> None:
    try:
        tid = int(el.get("id"))
        group = int(el.get("group_id") or 0) or None
    except (TypeError, ValueError):
        raise FormatError(xml, f"a <track> has an invalid id or group_id ({el.get('id')!r})", key="track") from None
    size = meta_info.get("original_size") or [None, None]
    subset = el.get("subset") or file_subset
    for j, child in enumerate(el):
        if child.tag not in _SHAPE_TAGS:
            continue
        where = f"track {tid} > {child.tag}[{j}]"
        if child.get("outside") == "1" or (
            child.tag == "skeleton" and child.findall("points") and all(p.get("outside") == "1" for p in child.findall("points"))
        ):
            continue
        try:
            frame = int(child.get("frame"))
        except (TypeError, ValueError):
            raise FormatError(xml, f"a tracked <{child.tag}> has an invalid frame {child.get('frame')!r}", key=where) from None
        s = rd.shape(child, el.get("label"), size[1], size[0], xml, where)
        if s is not None:
            s.track_id, s.group_id = tid, group or s.group_id
            s.source = el.get("source") or s.source
            pending.append((subset, frame, s))


def _attach_tracks(pending, by_frame, meta_info: dict, root: Path, rd: _Reader, info: dict) -> None:
    """Tracked shapes to their frames; in video mode the frames become items named frame_NNNNNN."""
    if not by_frame:
        frames = sorted({f for _, f, _ in pending})
        try:
            start = int(meta_info.get("start_frame") or 0)
            step = int((meta_info.get("frame_filter") or "step=1").partition("=")[2] or 1)
            size = int(meta_info.get("size") or 0)
        except ValueError:
            start, step, size = 0, 1, 0
        if size:
            frames = sorted(set(frames) | {start + i * step for i in range(size)})
        images = {p.stem: p for p in (root / "images").glob("frame_*")} if (root / "images").is_dir() else {}
        w, h = meta_info.get("original_size") or (None, None)
        info["video"] = {"start_frame": start, "step": step}
        if "original_size" in meta_info:
            info["video"]["original_size"] = meta_info["original_size"]
        for f in frames:
            stem = f"frame_{f:06d}"
            image = images.get(stem)
            name = image.name if image else stem + ".png"
            if image is None:
                rd.report.missing_images.append(name)
            item = Item(name, w or None, h or None, [], None, {"frame": f}, image)
            rd.ds.items.append(item)
            by_frame[(None, f)] = item
    for subset, frame, s in pending:
        item = by_frame.get((subset, frame)) or by_frame.get((None, frame))
        if item is None:
            rd.report.drop("tracked shapes on frames with no image skipped")
            continue
        item.shapes.append(s)


# ---------------------------------------------------------------------------------------- writing


def _f(v: float) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def _val(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return _f(v)
    return str(v)


def _pts_str(pts) -> str:
    if type(pts) is Points:
        a = pts.array[:, :2] + 0.0  # -0.0 becomes 0.0, as _f writes it
        if len(a):
            # every number's shortest round-trip form at once (orjson, C): b"[[x,y],[x,y]]"
            s = orjson.dumps(a, option=orjson.OPT_SERIALIZE_NUMPY)
            if b"e" not in s and b"n" not in s:  # exponents are written as repr does, NaN (null) by _f
                return s.replace(b".0,", b",").replace(b".0]", b"]")[2:-2].replace(b"],[", b";").decode()
    return ";".join(f"{_f(p[0])},{_f(p[1])}" for p in pts)


def _label_xml(label: Label, extras: dict) -> str:
    kinds = set(label.kinds)
    if not kinds:
        typ = "any"
    elif kinds <= {"box", "rotated_box"}:
        typ = "rectangle"
    elif len(kinds) == 1:
        typ = _KIND_TYPE[next(iter(kinds))]
    else:
        typ = "any"
    out = [f"<label><name>{escape(label.name)}</name><color>{label.color}</color><type>{typ}</type><attributes>"]
    for a in label.attributes:
        if a.name == "occluded":
            continue
        ex = extras.get(label.name, {}).get(a.name, {})
        itype = ex.get("input_type", a.kind) if a.kind == "select" else a.kind
        if a.kind == "select":
            values = "\n".join(a.options)
        elif a.kind == "checkbox":
            values = "true" if a.default else "false"
        elif a.kind == "number" and a.minimum is not None and a.maximum is not None:
            values = "\n".join(_f(v) for v in (a.minimum, a.maximum, ex.get("step", 1)))
        else:
            values = ""
        default = "" if a.default is None else _val(a.default)
        if a.kind == "checkbox":
            default = "true" if a.default else "false"
        out.append(
            f"<attribute><name>{escape(a.name)}</name><mutable>{'True' if ex.get('mutable') else 'False'}</mutable>"
            f"<input_type>{itype}</input_type><default_value>{escape(default)}</default_value>"
            f"<values>{escape(values)}</values></attribute>"
        )
    out.append("</attributes>")
    sk = label.skeleton
    if sk is not None:
        n = len(sk.points)
        pos = [(50 + 40 * math.cos(2 * math.pi * i / n), 50 + 40 * math.sin(2 * math.pi * i / n)) for i in range(n)]
        svg = "".join(
            f'<line x1="{pos[a][0]:.2f}" y1="{pos[a][1]:.2f}" x2="{pos[b][0]:.2f}" y2="{pos[b][1]:.2f}" '
            f'stroke="black" data-type="edge" data-node-from="{a + 1}" stroke-width="0.5" data-node-to="{b + 1}"></line>'
            for a, b in sk.edges
        ) + "".join(
            f'<circle r="1.5" stroke="black" fill="#b3b3b3" cx="{x:.2f}" cy="{y:.2f}" stroke-width="0.1" '
            f'data-type="element node" data-element-id="{i + 1}" data-node-id="{i + 1}" '
            f"data-label-name={quoteattr(sk.points[i])}></circle>"
            for i, (x, y) in enumerate(pos)
        )
        out.append(f"<svg>{escape(svg)}</svg>")
    out.append("</label>")
    if sk is not None:
        out += [
            f"<label><name>{escape(p)}</name><color>{label.color}</color><type>points</type><attributes></attributes>"
            f"<parent>{escape(label.name)}</parent></label>"
            for p in sk.points
        ]
    return "".join(out)


def _attr_children(s: Shape) -> str:
    return "".join(
        f"<attribute name={quoteattr(str(k))}>{escape(_val(v))}</attribute>"
        for k, v in s.attributes.items()
        if k != "occluded" and v is not None
    )


def _shape_xml(s: Shape, extra: str, report: Report) -> str | None:
    """One shape as its element; ``extra`` holds the leading attributes (label or frame/keyframe/outside)."""
    g, k = s.geometry, s.kind
    occl = ' occluded="1"' if s.attributes.get("occluded") is True else ' occluded="0"'
    tail = f' z_order="{s.z_order}"'
    if s.confidence is not None:
        report.drop("confidences not representable")
    if k == "box":
        corners = f'xtl="{_f(g["x"])}" ytl="{_f(g["y"])}" xbr="{_f(g["x"] + g["w"])}" ybr="{_f(g["y"] + g["h"])}"'
        body = f"<box{extra}{occl} {corners}{tail}>"
        close = "</box>"
    elif k == "rotated_box":
        x0, y0 = g["cx"] - g["w"] / 2, g["cy"] - g["h"] / 2
        body = (f'<box{extra}{occl} xtl="{_f(x0)}" ytl="{_f(y0)}" xbr="{_f(x0 + g["w"])}" ybr="{_f(y0 + g["h"])}" '
                f'rotation="{_f(g["angle"])}"{tail}>')  # fmt: skip
        close = "</box>"
    elif k in ("polygon", "polyline", "points"):
        if g.get("holes"):
            report.drop("polygon holes dropped")
        body, close = f'<{k}{extra}{occl} points="{_pts_str(g["points"])}"{tail}>', f"</{k}>"
    elif k == "ellipse":
        rot = f' rotation="{_f(g["angle"])}"' if g.get("angle") else ""
        body = f'<ellipse{extra}{occl} cx="{_f(g["cx"])}" cy="{_f(g["cy"])}" rx="{_f(g["rx"])}" ry="{_f(g["ry"])}"{rot}{tail}>'
        close = "</ellipse>"
    elif k == "mask":
        m = rle_to_cvat_mask(g["rle"])
        if m is None:
            report.drop("empty masks skipped")
            return None
        counts, left, top, w, h = m
        body = (f'<mask{extra}{occl} rle="{", ".join(map(str, counts))}" left="{left}" top="{top}" '
                f'width="{w}" height="{h}"{tail}>')  # fmt: skip
        close = "</mask>"
    else:
        return None
    return body + _attr_children(s) + close


def _skeleton_xml(s: Shape, names: list[str], extra: str, point_extra: str) -> str:
    pts = "".join(
        f"<points label={quoteattr(n)} occluded=\"{1 if v == 1 else 0}\" outside=\"{1 if v == 0 else 0}\"{point_extra} "
        f'points="{_f(x)},{_f(y)}"></points>'
        for n, (x, y, v) in zip(names, s.geometry["points"])
    )
    return f'<skeleton{extra} z_order="{s.z_order}">{pts}{_attr_children(s)}</skeleton>'


def _common(s: Shape) -> str:
    out = f' source={quoteattr(s.source or "manual")}'
    return out + (f' group_id="{s.group_id}"' if s.group_id else "")


def _image_shapes(item: Item, ds: Dataset, report: Report) -> list[str]:
    out = []
    for s in item.shapes:
        if s.track_id is not None:
            report.drop("track ids not representable in CVAT for images (write cvat_video)")
        if s.kind == "tag":
            out.append(f"<tag label={quoteattr(s.label)}{_common(s)}>{_attr_children(s)}</tag>")
        elif s.kind == "skeleton":
            lab = ds.schema.get(s.label)
            names = lab.skeleton.points if lab and lab.skeleton else [str(i + 1) for i in range(len(s.geometry["points"]))]
            out.append(_skeleton_xml(s, names, f" label={quoteattr(s.label)}{_common(s)}", ""))
        else:
            x = _shape_xml(s, f" label={quoteattr(s.label)}{_common(s)}", report)
            if x:
                out.append(x)
    return out


def _image_size(item: Item) -> tuple[int | None, int | None]:
    if item.width and item.height:
        return item.width, item.height
    for s in item.shapes:
        if s.kind == "mask":
            h, w = s.geometry["rle"]["size"]
            return w, h
    if item.image is not None and Path(item.image).is_file():
        from PIL import Image

        with Image.open(item.image) as im:
            return im.size
    return None, None


def _stream(target: Path, chunks) -> None:
    """Write an iterable of strings to ``target`` through a temporary file and os.replace."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            buf: list[str] = []
            for c in chunks:
                buf.append(c)
                if len(buf) >= 512:
                    f.write("".join(buf))
                    buf.clear()
            f.write("".join(buf))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _copy_image(item: Item, dest: Path, report: Report) -> None:
    if item.image is not None and Path(item.image).is_file():
        dest.parent.mkdir(parents=True, exist_ok=True)
        if Path(item.image).resolve() != dest.resolve():
            shutil.copyfile(item.image, dest)
    else:
        report.missing_images.append(item.name)


def write(dataset: Dataset, path: Path, *, include_images: bool = False, video: bool = False, **options) -> Report:
    """Write ``annotations.xml`` (CVAT for images, or for video with ``video=True``) under ``path``
    (or to ``path`` itself when it ends in .xml), streaming one image or track at a time."""
    path = Path(path)
    xml = path if path.suffix.lower() == ".xml" else path / "annotations.xml"
    report = Report(format="CVAT for video" if video else "CVAT for images")
    info = dataset.info.get("cvat", {})
    extras = info.get("attributes", {})
    labels = "".join(_label_xml(lb, extras) for lb in dataset.schema)
    name = escape(str(info.get("name") or "limner"))
    gen = _video_chunks if video else _image_chunks
    _stream(xml, gen(dataset, xml.parent, name, labels, include_images, report))
    report.items = len(dataset.items)
    report.shapes = sum(len(i.shapes) for i in dataset.items)
    return report


def _image_chunks(ds: Dataset, root: Path, name: str, labels: str, include_images: bool, report: Report):
    subsets = list(dict.fromkeys(i.subset for i in ds.items if i.subset))
    yield '<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n  <meta>\n'
    if subsets:
        yield (f"    <project><name>{name}</name><labels>{labels}</labels>"
               f"<subsets>{escape(chr(10).join(subsets))}</subsets></project>\n")  # fmt: skip
    else:
        yield (f"    <task><name>{name}</name><size>{len(ds.items)}</size><mode>annotation</mode>"
               f"<labels>{labels}</labels></task>\n")  # fmt: skip
    yield "  </meta>\n"
    for idx, item in enumerate(ds.items):
        w, h = _image_size(item)
        rel = item.name
        if item.subset and rel.startswith(item.subset + "/"):
            rel = rel[len(item.subset) + 1 :]
        attrs = f'id="{idx}" name={quoteattr(rel)}'
        if subsets:
            attrs += f" subset={quoteattr(item.subset or 'default')}"
        if w and h:
            attrs += f' width="{w}" height="{h}"'
        else:
            report.problem(f"{item.name}: image size unknown; width and height left out")
        body = "".join("\n    " + x for x in _image_shapes(item, ds, report))
        yield f"  <image {attrs}>{body}\n  </image>\n"
        if include_images:
            sub = f"{item.subset}/" if subsets and item.subset else ""
            _copy_image(item, root / "images" / (sub + rel), report)
    yield "</annotations>\n"


def _video_chunks(ds: Dataset, root: Path, name: str, labels: str, include_images: bool, report: Report):
    frames = [i.metadata.get("frame") for i in ds.items]
    ok = all(isinstance(f, int) for f in frames) and len(set(frames)) == len(frames)
    if ok and len(frames) > 1:
        frames_sorted = sorted(frames)
        steps = {b - a for a, b in zip(frames_sorted, frames_sorted[1:])}
        ok = len(steps) == 1
    if not ok:
        if any(f is not None for f in frames):
            report.problem("frame numbers were not an evenly spaced sequence; renumbered 0..n-1")
        frames = list(range(len(ds.items)))
    order = sorted(range(len(frames)), key=frames.__getitem__)
    fs = [frames[i] for i in order]
    step = fs[1] - fs[0] if len(fs) > 1 else 1
    w = h = None
    for item in ds.items:
        w, h = _image_size(item)
        if w:
            break
    yield '<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n  <meta>\n'
    yield (f"    <task><name>{name}</name><size>{len(fs)}</size><mode>interpolation</mode>"
           f"<start_frame>{fs[0] if fs else 0}</start_frame><stop_frame>{fs[-1] if fs else 0}</stop_frame>"
           f"<frame_filter>{f'step={step}' if step > 1 else ''}</frame_filter><labels>{labels}</labels>")  # fmt: skip
    if w and h:
        yield f"<original_size><width>{w}</width><height>{h}</height></original_size>"
    yield "</task>\n  </meta>\n"
    tracks: dict[tuple, list[tuple[int, Shape]]] = {}
    used = {s.track_id for i in ds.items for s in i.shapes if s.track_id is not None}
    next_id = max(used, default=-1) + 1
    seen_ids: dict[int, tuple] = {}
    for i in order:
        item, frame = ds.items[i], frames[i]
        if include_images and item.image is not None:
            _copy_image(item, root / "images" / f"frame_{frame:06d}{Path(item.name).suffix or '.png'}", report)
        if item.name != f"frame_{frame:06d}{Path(item.name).suffix}":
            report.drop("image names replaced by frame numbers")
        for s in item.shapes:
            if s.kind == "tag":
                report.drop("tags not representable in CVAT for video")
                continue
            if s.track_id is None:
                key = (next_id, s.label, s.kind)
                next_id += 1
                report.drop("untracked shapes written as one-frame tracks")
            else:
                key = seen_ids.setdefault(s.track_id, (s.track_id, s.label, s.kind))
                if key[1:] != (s.label, s.kind):
                    key = seen_ids.setdefault(f"{s.track_id}/{s.label}/{s.kind}", (next_id, s.label, s.kind))
                    if key[0] == next_id:
                        next_id += 1
                        report.problem(f"track {s.track_id} mixes labels or kinds; split into track {key[0]}")
            tracks.setdefault(key, []).append((frame, s))
    pos = {f: n for n, f in enumerate(fs)}
    for (tid, label, _kind), shapes in tracks.items():
        shapes.sort(key=lambda t: t[0])
        first = shapes[0][1]
        lab = ds.schema.get(label)
        names = lab.skeleton.points if lab and lab.skeleton else None
        out = []
        for n, (frame, s) in enumerate(shapes):
            out.append(_tracked(s, frame, False, names, report))
            nxt = fs[pos[frame] + 1] if pos[frame] + 1 < len(fs) else None
            if nxt is not None and (n + 1 == len(shapes) or shapes[n + 1][0] != nxt):
                out.append(_tracked(s, nxt, True, names, report))
        body = "".join("\n    " + x for x in out if x)
        yield f"  <track id=\"{tid}\" label={quoteattr(label)}{_common(first)}>{body}\n  </track>\n"
    yield "</annotations>\n"


def _tracked(s: Shape, frame: int, outside: bool, names, report: Report) -> str | None:
    if s.kind == "skeleton":
        names = names or [str(i + 1) for i in range(len(s.geometry["points"]))]
        pts = s.geometry["points"]
        if outside:
            s = Shape(s.kind, s.label, {"points": [[x, y, 0] for x, y, _ in pts]}, s.attributes, s.z_order)
        return _skeleton_xml(s, names, f' frame="{frame}" keyframe="1"', ' keyframe="1"')
    return _shape_xml(s, f' frame="{frame}" keyframe="1" outside="{int(outside)}"', report)


# ---------------------------------------------------------------------------------------- detection


def _looks_cvat(p: Path) -> bool:
    try:
        with open(p, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return b"<annotations" in head and (b"<version>" in head or b"<meta>" in head)


def detect(path: Path) -> int:
    path = Path(path)
    if path.is_file():
        return 95 if path.suffix.lower() == ".xml" and _looks_cvat(path) else 0
    if path.is_dir():
        if (path / "annotations.xml").is_file() and _looks_cvat(path / "annotations.xml"):
            return 95
        if any(_looks_cvat(p) for p in sorted(path.glob("*.xml"))[:20]):
            return 90
    return 0


register(Format("cvat", "CVAT XML 1.1 for images (also reads CVAT for video)", read, write, detect))
register(Format("cvat_video", "CVAT XML 1.1 for video (tracks)", read, lambda ds, path, **o: write(ds, path, video=True, **o)))
