"""The ``<meta>`` block: reading the labels of a ``<task>`` or ``<project>`` into the schema
(label types as shape kinds, attributes with their input types, skeleton sublabels with the edges
drawn in the label's svg) and the task's settings, and writing a label back as ``<label>`` XML."""

from __future__ import annotations

import math
import re
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from limner.core.dataset import Dataset, _color
from limner.core.schema import Attribute, Label, Skeleton
from limner.errors import ValidationError
from limner.formats.base import FormatError, Report
from limner.formats.cvat.values import _f, _number, _val

_TYPE_KINDS = {
    "rectangle": ["box", "rotated_box"], "bbox": ["box", "rotated_box"], "polygon": ["polygon"],
    "polyline": ["polyline"], "points": ["points"], "ellipse": ["ellipse"], "mask": ["mask"],
    "skeleton": ["skeleton"], "tag": ["tag"],
}  # fmt: skip
_KIND_TYPE = {"polygon": "polygon", "polyline": "polyline", "points": "points", "ellipse": "ellipse",
              "mask": "mask", "skeleton": "skeleton", "tag": "tag"}  # fmt: skip
_SVG_TAG = re.compile(r"<(line|circle)\b([^>]*)>")
_SVG_ATTR = re.compile(r'([\w:.-]+)="([^"]*)"')


# ---------------------------------------------------------------------------------------- reading


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


# ---------------------------------------------------------------------------------------- writing


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
