"""The results of one annotation or prediction -> shapes: regions (rectangles, turned ones as
rotated boxes, polygons, keypoints, ellipses, brush masks) from percent of the original image size,
the choices, text, numbers and ratings sharing a region's id as its attributes, choices without a
region as tags and other classifications by name, ``parentID`` and relations as group ids."""

from __future__ import annotations

import math
from pathlib import Path

from limner.core import rle as _rle
from limner.core.dataset import Dataset
from limner.core.schema import Attribute
from limner.core.shapes import Shape
from limner.formats.base import FormatError, Report
from limner.formats.labelstudio.brush import brush_decode

_GEOM = {"rectanglelabels": "rectangle", "rectangle": "rectangle", "polygonlabels": "polygon", "polygon": "polygon",
         "keypointlabels": "keypoint", "keypoint": "keypoint", "ellipselabels": "ellipse", "ellipse": "ellipse",
         "brushlabels": "brush", "brush": "brush"}  # fmt: skip


def _value_of(r: dict):
    v = r.get("value") or {}
    t = r.get("type")
    if t == "choices" or t == "taxonomy":
        c = v.get(t) or []
        c = ["/".join(map(str, x)) if isinstance(x, list) else x for x in c]
        if len(c) == 1:
            return {"true": True, "false": False}.get(c[0], c[0])
        return ",".join(map(str, c))
    if t == "textarea":
        text = v.get("text") or []
        return text if isinstance(text, str) else "\n".join(map(str, text))
    if t in ("number", "rating"):
        return v.get(t)
    return v.get(t) if t in v else None


class _Groups:
    def __init__(self):
        self.parent: dict[str, str] = {}

    def find(self, a: str) -> str:
        while self.parent.get(a, a) != a:
            a = self.parent[a]
        return a

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def _results(results: list, source: str, score, ds: Dataset, report: Report, file: Path, key: str, state: dict):
    """The results of one annotation or prediction -> (shapes, image-level classifications)."""
    if not isinstance(results, list):
        raise FormatError(file, "result must be a list", key=f"{key}.result")
    by_id: dict[str, list[tuple[int, dict]]] = {}
    groups, size = _Groups(), None
    for n, r in enumerate(results):
        if not isinstance(r, dict):
            raise FormatError(file, "a result must be an object", key=f"{key}.result[{n}]")
        if r.get("type") == "relation":
            if r.get("from_id") and r.get("to_id"):
                groups.union(str(r["from_id"]), str(r["to_id"]))
            continue
        rid = str(r.get("id") or f"_{n}")
        by_id.setdefault(rid, []).append((n, r))
        if r.get("parentID"):
            groups.union(str(r["parentID"]), rid)
        if r.get("original_width") and r.get("original_height") and size is None:
            try:
                size = (int(r["original_width"]), int(r["original_height"]))
            except (TypeError, ValueError):
                raise FormatError(file, "original_width and original_height must be integers", key=f"{key}.result[{n}]") from None
    shapes, classes, gid = [], {}, {}
    sizes: dict[str, int] = {}
    for rid in by_id:
        sizes[groups.find(rid)] = sizes.get(groups.find(rid), 0) + 1
    for rid, rs in by_id.items():
        geo = [(n, r) for n, r in rs if r.get("type") in _GEOM]
        labels = [x for _, r in rs for t in (r.get("type"),) if t and (t.endswith("labels") or t == "labels")
                  for x in ((r.get("value") or {}).get(t) or [])]  # fmt: skip
        others = [(n, r) for n, r in rs if r.get("type") not in _GEOM and r.get("type") != "labels"]
        if not geo:
            for _, r in others:
                state["from"].setdefault(r.get("type"), r.get("from_name"))
                if r.get("type") in ("choices", "taxonomy"):
                    v = (r.get("value") or {}).get(r["type"]) or []
                    for c in v:
                        t = "/".join(map(str, c)) if isinstance(c, list) else str(c)
                        ds.ensure_label(t)
                        shapes.append(Shape("tag", t, {}, {}, 0, None, None, source, score))
                else:
                    classes[r.get("from_name") or r.get("type")] = _value_of(r)
            continue
        n, r = geo[0]
        where = f"{key}.result[{n}]"
        t = r["type"]
        state["from"].setdefault(t if t.endswith("labels") else t + "labels", r.get("from_name"))
        state.setdefault("to_name", r.get("to_name"))
        if not labels:
            report.drop("regions without a label skipped")
            continue
        if len(set(labels)) > 1:
            report.drop("extra labels on a region dropped")
        kind, geom = _geometry(r, where, file, report)
        if kind is None:
            continue
        label = str(labels[0])
        lab = ds.schema.get(label)
        if lab is None:
            ds.ensure_label(label)
            lab = ds.schema.get(label)
        attrs = {}
        for _, o in others:
            name = o.get("from_name") or o.get("type")
            attrs[name] = _value_of(o)
            if not any(a.name == name for a in lab.attributes):
                v = attrs[name]
                kind_a = "checkbox" if isinstance(v, bool) else "number" if isinstance(v, (int, float)) else "text"
                lab.attributes.append(Attribute(name, kind_a))
        conf = r.get("score", score)
        if conf is not None and not (isinstance(conf, (int, float)) and 0 <= conf <= 1):
            report.drop("scores outside [0, 1] not kept as confidence")
            conf = None
        root = groups.find(rid)
        g = None
        if sizes.get(root, 0) > 1:
            g = gid.setdefault(root, state["next_group"])
            if g == state["next_group"]:
                state["next_group"] += 1
        shapes.append(Shape(kind, label, geom, attrs, 0, g, None, source, float(conf) if conf is not None else None))
    return shapes, classes, size


def _geometry(r: dict, where: str, file: Path, report: Report):
    v = r.get("value")
    try:
        W, H = float(r["original_width"]), float(r["original_height"])
        if not isinstance(v, dict) or W <= 0 or H <= 0:
            raise KeyError("value")
        t = _GEOM[r["type"]]
        if t == "rectangle":
            x, y = v["x"] * W / 100, v["y"] * H / 100
            w, h = v["width"] * W / 100, v["height"] * H / 100
            if w <= 0 or h <= 0:
                report.drop("rectangles with no area skipped")
                return None, None
            rot = float(v.get("rotation") or 0)
            if rot % 360 == 0:
                return "box", {"x": x, "y": y, "w": w, "h": h}
            c, s = math.cos(math.radians(rot)), math.sin(math.radians(rot))
            return "rotated_box", {"cx": x + w / 2 * c - h / 2 * s, "cy": y + w / 2 * s + h / 2 * c, "w": w, "h": h,
                                   "angle": rot}  # fmt: skip
        if t == "polygon":
            pts = [[p[0] * W / 100, p[1] * H / 100] for p in v["points"]]
            if len(pts) < 3:
                report.drop("polygons with fewer than 3 points skipped")
                return None, None
            return "polygon", {"points": pts, "holes": []}
        if t == "keypoint":
            return "points", {"points": [[v["x"] * W / 100, v["y"] * H / 100]]}
        if t == "ellipse":
            rx, ry = v["radiusX"] * W / 100, v["radiusY"] * H / 100
            if rx <= 0 or ry <= 0:
                report.drop("ellipses with no area skipped")
                return None, None
            return "ellipse", {"cx": v["x"] * W / 100, "cy": v["y"] * H / 100, "rx": rx, "ry": ry,
                               "angle": float(v.get("rotation") or 0)}  # fmt: skip
        if v.get("format", "rle") != "rle" or not isinstance(v.get("rle"), list):
            report.drop("brush regions not in rle format skipped")
            return None, None
        return "mask", {"rle": _rle.encode(brush_decode(v["rle"], int(H), int(W)))}
    except KeyError as e:
        raise FormatError(file, f"{r.get('type')} result is missing {e.args[0]}", key=where) from None
    except (TypeError, ValueError, IndexError) as e:
        raise FormatError(file, f"{r.get('type')} result has an invalid value: {e}", key=where) from None
