"""Shapes: the one annotation type, its kinds, and the geometry rules checked on every write.

Geometry is a plain dict in image pixels (floats), the same on the wire, in the database and in
formats:

===========  ==========================================================
kind         geometry
===========  ==========================================================
tag          {} (image-level label)
box          {"x", "y", "w", "h"} (top-left corner, size)
rotated_box  {"cx", "cy", "w", "h", "angle"} (centre, size, degrees clockwise)
polygon      {"points": [[x, y], ...], "holes": [[[x, y], ...], ...]}
polyline     {"points": [[x, y], ...]}
points       {"points": [[x, y], ...]}
skeleton     {"points": [[x, y, v], ...]} one per skeleton point, v in 0/1/2
ellipse      {"cx", "cy", "rx", "ry", "angle"}
mask         {"rle": {"size": [height, width], "counts": "..."}} (COCO RLE)
===========  ==========================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import chain as _chain
from typing import Any

import numpy as np

from limner.core.points import Points
from limner.core.rle import check_rle
from limner.core.schema import LabelSchema
from limner.errors import ValidationError

__all__ = ["SHAPE_KINDS", "Shape", "validate_geometry", "validate_shape"]

SHAPE_KINDS = ("tag", "box", "rotated_box", "polygon", "polyline", "points", "skeleton", "ellipse", "mask")
_MIN_POINTS = {"polygon": 3, "polyline": 2, "points": 1}
_isfinite = math.isfinite
_F64 = np.dtype(np.float64)
_FLOAT = {float}


@dataclass(slots=True)
class Shape:
    kind: str
    label: str
    geometry: dict = field(default_factory=dict)
    attributes: dict = field(default_factory=dict)
    z_order: int = 0
    group_id: int | None = None
    track_id: int | None = None
    source: str = "manual"
    confidence: float | None = None

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "label": self.label,
            "geometry": self.geometry,
            "attributes": self.attributes,
            "z_order": self.z_order,
            "group_id": self.group_id,
            "track_id": self.track_id,
            "source": self.source,
            "confidence": self.confidence,
        }


def _finite(v: Any) -> bool:
    """A finite int or float (bools and integers too large for a float are not)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        return _isfinite(v)
    except OverflowError:
        return False


def _num(v: Any, where: str, name: str) -> float:
    if not _finite(v):
        raise ValidationError(f"{where}: {name} must be a finite number, got {_short(v)}", field=f"{where}.geometry.{name}")
    return float(v)


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 40 else r[:37] + "..."


def _fields(g: dict, names: tuple[str, ...], where: str, kind: str) -> dict:
    missing = [n for n in names if n not in g]
    if missing:
        raise ValidationError(
            f"{where}: {kind} needs {', '.join(names)}; missing {', '.join(missing)}", field=f"{where}.geometry"
        )
    return {n: _num(g[n], where, n) for n in names}


def _ring(pts: Any, where: str, name: str, least: int, kind: str, dims: int = 2) -> list[list[float]] | Points:
    if dims == 2 and _len_ok(pts, least):
        fast = _float_pairs(pts)
        if fast is not None:
            return fast
    if type(pts) is Points:
        pts = pts.tolist()
    if not isinstance(pts, list):
        what = "[x, y] pairs" if dims == 2 else "[x, y, visibility] triples"
        raise ValidationError(f"{where}: {name} must be a list of {what}", field=f"{where}.geometry.{name}")
    if len(pts) < least:
        unit = "point" if least == 1 else "points"
        raise ValidationError(
            f"{where}: {kind} needs at least {least} {unit}, got {len(pts)}", field=f"{where}.geometry.{name}"
        )
    out = []
    for i, p in enumerate(pts):
        if not isinstance(p, (list, tuple)) or len(p) != dims:
            shape = "[x, y]" if dims == 2 else "[x, y, visibility]"
            raise ValidationError(f"{where}: {name}[{i}] must be {shape}, got {p!r}", field=f"{where}.geometry.{name}[{i}]")
        x, y = p[0], p[1]
        if not (_finite(x) and _finite(y)):
            raise ValidationError(
                f"{where}: {name}[{i}] must hold finite numbers, got {_short(p)}", field=f"{where}.geometry.{name}[{i}]"
            )
        if dims == 2:
            out.append([float(x), float(y)])
        else:
            v = p[2]
            if v not in (0, 1, 2) or isinstance(v, bool):
                raise ValidationError(
                    f"{where}: {name}[{i}] visibility must be 0, 1 or 2, got {v!r}", field=f"{where}.geometry.{name}[{i}]"
                )
            out.append([float(x), float(y), int(v)])
    return out


def _len_ok(pts: Any, least: int) -> bool:
    return (type(pts) is list or type(pts) is Points) and len(pts) >= least


def _float_pairs(pts: list | Points) -> list[list[float]] | Points | None:
    """The common case checked in bulk: a list of ``[x, y]`` lists of floats, all finite, copied as
    a new list, or a :class:`Points` of N x 2 finite floats, kept as it is (it is read-only, and its
    array is written to JSON as is). None when anything is otherwise: the point-by-point check then
    finds what and where, with its message."""
    if type(pts) is Points:
        a = pts.array
        ok = a.dtype == _F64 and a.ndim == 2 and a.shape[1] == 2 and bool(np.isfinite(a).all())
        return pts if ok else None
    if not all(type(p) is list and len(p) == 2 for p in pts):
        return None
    flat = list(_chain.from_iterable(pts))
    if set(map(type, flat)) != _FLOAT:
        return None
    try:
        if not _isfinite(sum(flat)):  # a NaN or an infinity makes the sum one (overflow too: the slow path decides)
            return None
    except OverflowError:
        return None
    it = iter(flat)
    return [[x, y] for x, y in zip(it, it)]


def validate_geometry(
    kind: str,
    geometry: Any,
    *,
    where: str = "shape",
    height: int | None = None,
    width: int | None = None,
    skeleton_size: int | None = None,
) -> dict:
    """Check a geometry for its kind and return it normalised (floats, canonical keys)."""
    if kind not in SHAPE_KINDS:
        raise ValidationError(f"{where}: unknown kind {kind!r}; kinds are {', '.join(SHAPE_KINDS)}", field=f"{where}.kind")
    g = geometry if geometry is not None else {}
    if not isinstance(g, dict):
        raise ValidationError(f"{where}: geometry must be an object", field=f"{where}.geometry")
    if kind == "tag":
        if g:
            raise ValidationError(f"{where}: a tag has no geometry, got keys {sorted(g)}", field=f"{where}.geometry")
        return {}
    if kind == "box":
        out = _fields(g, ("x", "y", "w", "h"), where, kind)
        if out["w"] <= 0 or out["h"] <= 0:
            raise ValidationError(
                f"{where}: box width and height must be positive, got {out['w']} x {out['h']}", field=f"{where}.geometry"
            )
        return out
    if kind == "rotated_box":
        out = _fields(g, ("cx", "cy", "w", "h", "angle"), where, kind)
        if out["w"] <= 0 or out["h"] <= 0:
            raise ValidationError(
                f"{where}: rotated_box width and height must be positive, got {out['w']} x {out['h']}",
                field=f"{where}.geometry",
            )
        return out
    if kind == "ellipse":
        out = _fields(g, ("cx", "cy", "rx", "ry", "angle"), where, kind)
        if out["rx"] <= 0 or out["ry"] <= 0:
            raise ValidationError(
                f"{where}: ellipse radii must be positive, got {out['rx']} and {out['ry']}", field=f"{where}.geometry"
            )
        return out
    if kind in _MIN_POINTS:
        pts = _ring(g.get("points"), where, "points", _MIN_POINTS[kind], kind)
        out = {"points": pts}
        if kind == "polygon":
            holes = g.get("holes")
            holes = [] if holes is None else holes
            if not isinstance(holes, list):
                raise ValidationError(f"{where}: holes must be a list of rings", field=f"{where}.geometry.holes")
            out["holes"] = [_ring(h, where, f"holes[{i}]", 3, "a polygon hole") for i, h in enumerate(holes)]
        return out
    if kind == "skeleton":
        pts = _ring(g.get("points"), where, "points", 1, kind, dims=3)
        if skeleton_size is not None and len(pts) != skeleton_size:
            raise ValidationError(
                f"{where}: the label's skeleton has {skeleton_size} points, got {len(pts)}", field=f"{where}.geometry.points"
            )
        return {"points": pts}
    # mask
    return {"rle": check_rle(g.get("rle"), height, width, where, field_prefix=f"{where}.geometry")}


def validate_shape(
    data: Any,
    *,
    index: int,
    schema: LabelSchema | None = None,
    height: int | None = None,
    width: int | None = None,
    require_attributes: bool = True,
) -> Shape:
    """Build a Shape from wire data, checking kind, geometry, label and attributes.

    Every error names the shape as ``shapes[index]`` and the rule it breaks. Imports pass
    `require_attributes=False`: a pre-label may lack what only a person can fill in.
    """
    where = f"shapes[{index}]"
    if not isinstance(data, dict):
        raise ValidationError(f"{where}: a shape must be an object", field=where)
    kind = data.get("kind")
    label_name = data.get("label")
    if not isinstance(label_name, str) or not label_name:
        raise ValidationError(f"{where}: a shape needs a label", field=f"{where}.label")
    label = None
    if schema is not None:
        label = schema.get(label_name)
        if label is None:
            raise ValidationError(f"{where}: label {label_name!r} is not in the project's schema", field=f"{where}.label")
        if kind in SHAPE_KINDS and not label.allows(kind):
            raise ValidationError(
                f"{where}: label {label_name!r} allows {', '.join(label.kinds)}, not {kind}", field=f"{where}.kind"
            )
    skeleton_size = len(label.skeleton.points) if label is not None and label.skeleton is not None else None
    geometry = validate_geometry(
        kind, data.get("geometry"), where=where, height=height, width=width, skeleton_size=skeleton_size
    )
    attributes = data.get("attributes")
    attributes = {} if attributes is None else attributes
    if not isinstance(attributes, dict):
        raise ValidationError(f"{where}: attributes must be an object", field=f"{where}.attributes")
    if label is not None:
        attributes = schema.check_attributes(label, attributes, where, required=require_attributes)
    z = data.get("z_order", 0)
    if isinstance(z, bool) or not isinstance(z, int):
        raise ValidationError(f"{where}: z_order must be an integer", field=f"{where}.z_order")
    ids = {}
    for name in ("group_id", "track_id"):
        v = data.get(name)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            raise ValidationError(f"{where}: {name} must be an integer or null", field=f"{where}.{name}")
        ids[name] = v
    source = data.get("source")
    source = "manual" if source is None or source == "" else source
    if not isinstance(source, str):
        raise ValidationError(f"{where}: source must be text", field=f"{where}.source")
    conf = data.get("confidence")
    if conf is not None:
        if not _finite(conf) or not 0.0 <= conf <= 1.0:
            raise ValidationError(f"{where}: confidence must be a number in [0, 1], got {conf!r}", field=f"{where}.confidence")
        conf = float(conf)
    return Shape(kind, label_name, geometry, attributes, z, ids["group_id"], ids["track_id"], source, conf)
