"""VOC's Annotations/<id>.xml files: parsing an ``<annotation>`` (size, objects with their bndbox,
pose, flags, actions, point, datumaro's attributes, parts; VOC's 1-based inclusive boxes turned into
Limner's) and writing one back from grouped objects (boxes rounded and clipped, typed attribute
values)."""

from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import escape

from limner.core.geometry import bbox
from limner.formats.base import FormatError, Report, parse_xml

_FLAGS = ("truncated", "difficult", "occluded")
_XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")  # what may be written as an element name


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


# -- writing -------------------------------------------------------------------------------------


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
