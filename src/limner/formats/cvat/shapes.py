"""Shape elements both ways: ``_Reader`` turns ``<box>``, ``<polygon>``, ``<polyline>``,
``<points>``, ``<ellipse>``, ``<mask>``, ``<skeleton>`` and ``<tag>`` elements into Shapes (undeclared
labels added, attribute values typed by their declaration), and the writers give a Shape's element
with its attributes (``_shape_xml``, ``_skeleton_xml``)."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from limner.core.dataset import Dataset
from limner.core.schema import Attribute, Label, Skeleton
from limner.core.shapes import Shape
from limner.formats.base import FormatError, Report
from limner.formats.cvat.mask_rle import cvat_mask_to_rle, rle_to_cvat_mask
from limner.formats.cvat.values import _f, _number, _points, _pts_str, _val

# ---------------------------------------------------------------------------------------- reading


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


# ---------------------------------------------------------------------------------------- writing


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
