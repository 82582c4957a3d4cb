"""Geometry of shapes: boxes, areas, polygons, IoU for every pair of area kinds, OKS, clipping and
transforms. Pure functions on the geometry dicts of :mod:`limner.core.shapes` (as returned by
``validate_geometry``); no I/O.

Coordinates are image pixels, x to the right and y down; pixel corners are at integer coordinates
(see :mod:`limner.core.raster` for the pixel convention). Angles of rotated boxes and ellipses are
degrees, clockwise on screen, about the centre.

IoU is computed in continuous coordinates (shapely) between box, rotated_box, polygon and ellipse,
in closed form between two boxes, and on pixels (both shapes rasterised at the image size) as soon
as one side is a mask.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from shapely.geometry import LineString, MultiPolygon, Polygon
from shapely.geometry import box as _shapely_box

from limner.core import rle as _rle
from limner.core.points import Points
from limner.core.raster import (
    ellipse_points,
    mask_shapes,
    mask_to_polygons,
    polygon_shape,
    polygon_to_mask,
    polygonal,
    rasterize,
    rotated_box_corners,
)

__all__ = [
    "AREA_KINDS",
    "COCO_PERSON_SIGMAS",
    "area",
    "bbox",
    "box_iou_matrix",
    "clip",
    "ellipse_points",
    "flip_horizontal",
    "iou",
    "is_inside",
    "mask_to_polygons",
    "oks",
    "polygon_to_mask",
    "polyline_iou",
    "rasterize",
    "rotated_box_corners",
    "to_polygon",
    "transform",
]

AREA_KINDS = ("box", "rotated_box", "polygon", "ellipse", "mask")
"""The kinds that cover an area: those :func:`iou`, :func:`to_polygon` and ``rasterize`` accept."""

COCO_PERSON_SIGMAS = (
    0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072,
    0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089,
)  # fmt: skip
"""COCO's per-keypoint sigmas for its 17 person keypoints (``COCOeval`` ``kpt_oks_sigmas``)."""

_IOU_SEGMENTS = 256  # ellipse sampling for IoU: area within 0.01 % of pi * rx * ry
_EPS = 1e-9
_POINT_KINDS = ("polygon", "polyline", "points")


def _no_area(kind: str, what: str) -> ValueError:
    if kind == "polyline":
        hint = "; compare polylines with polyline_iou"
    elif kind in ("points", "skeleton"):
        hint = "; compare keypoints with oks"
    else:
        hint = ""
    return ValueError(f"{what} needs an area kind ({', '.join(AREA_KINDS)}), got {kind!r}{hint}")


def _point_bounds(points) -> tuple[float, float, float, float]:
    """Bounds of a list of [x, y, ...] points in plain Python: for the tens of points of a shape
    this is several times faster than making a numpy array (a :class:`Points` keeps its own)."""
    if type(points) is Points:
        return points.bbox()
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, y0 = min(xs), min(ys)
    return float(x0), float(y0), float(max(xs) - x0), float(max(ys) - y0)


def _extents(w: float, h: float, angle: float) -> tuple[float, float]:
    """Half width and half height of the axis-aligned box around a turned w x h rectangle."""
    t = math.radians(angle)
    c, s = abs(math.cos(t)), abs(math.sin(t))
    return (w * c + h * s) / 2.0, (w * s + h * c) / 2.0


def _ellipse_extents(rx: float, ry: float, angle: float) -> tuple[float, float]:
    t = math.radians(angle)
    c, s = math.cos(t), math.sin(t)
    return math.hypot(rx * c, ry * s), math.hypot(rx * s, ry * c)


def _coco(rle: dict) -> dict:
    return {"size": list(rle["size"]), "counts": rle["counts"].encode("ascii")}


def bbox(kind: str, geometry: dict) -> tuple[float, float, float, float] | None:
    """The tight axis-aligned box ``(x, y, w, h)`` around a shape; None for a tag, an empty mask or
    a skeleton with no visible point (v > 0)."""
    g = geometry
    if kind == "tag":
        return None
    if kind == "box":
        return float(g["x"]), float(g["y"]), float(g["w"]), float(g["h"])
    if kind in ("rotated_box", "ellipse"):
        if kind == "rotated_box":
            ex, ey = _extents(g["w"], g["h"], g["angle"])
        else:
            ex, ey = _ellipse_extents(g["rx"], g["ry"], g["angle"])
        return g["cx"] - ex, g["cy"] - ey, 2.0 * ex, 2.0 * ey
    if kind in _POINT_KINDS:
        return _point_bounds(g["points"])
    if kind == "skeleton":
        pts = [p for p in g["points"] if p[2] > 0]
        return _point_bounds(pts) if pts else None
    if kind == "mask":
        from pycocotools import mask as mask_utils

        r = _coco(g["rle"])
        if mask_utils.area(r) == 0:
            return None
        x, y, w, h = (float(v) for v in mask_utils.toBbox(r))
        return x, y, w, h
    raise ValueError(f"unknown kind {kind!r}")


def area(kind: str, geometry: dict) -> float:
    """Area in square pixels: polygons minus their holes (shapely, made valid), masks by pixel
    count, ellipses pi * rx * ry; 0 for tags, polylines, points and skeletons."""
    g = geometry
    if kind in ("box", "rotated_box"):
        return float(g["w"] * g["h"])
    if kind == "ellipse":
        return float(math.pi * g["rx"] * g["ry"])
    if kind == "polygon":
        return float(polygon_shape(g).area)
    if kind == "mask":
        from pycocotools import mask as mask_utils

        return float(mask_utils.area(_coco(g["rle"])))
    if kind in ("tag", "polyline", "points", "skeleton"):
        return 0.0
    raise ValueError(f"unknown kind {kind!r}")


def to_polygon(kind: str, geometry: dict, *, segments: int = 64) -> Polygon | MultiPolygon:
    """The shape as a valid shapely Polygon or MultiPolygon.

    Ellipses are sampled at ``segments`` points on the curve (an inscribed polygon); masks are traced
    along pixel borders (an empty mask gives an empty Polygon).
    """
    g = geometry
    if kind == "box":
        return _shapely_box(g["x"], g["y"], g["x"] + g["w"], g["y"] + g["h"])
    if kind == "rotated_box":
        return Polygon(rotated_box_corners(g))
    if kind == "ellipse":
        return Polygon(ellipse_points(g, segments))
    if kind == "polygon":
        return polygon_shape(g)
    if kind == "mask":
        parts = mask_shapes(g["rle"])
        if not parts:
            return Polygon()
        return parts[0] if len(parts) == 1 else MultiPolygon(parts)
    raise _no_area(kind, "to_polygon")


def _box_iou(a: dict, b: dict) -> float:
    iw = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
    ih = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = a["w"] * a["h"] + b["w"] * b["h"] - inter
    return float(inter / union) if union > 0 else 0.0


def iou(
    kind_a: str,
    geom_a: dict,
    kind_b: str,
    geom_b: dict,
    *,
    height: int | None = None,
    width: int | None = None,
) -> float:
    """Intersection over union of two area shapes (box, rotated_box, polygon, ellipse, mask).

    Two boxes: closed form. Box, rotated box, polygon and ellipse among themselves: exact shapely
    areas (ellipses sampled finely). Any pair with a mask: pixel counts of both shapes rasterised at
    the image size, which ``height`` and ``width`` must give. 0.0 when the union is empty.
    """
    for k in (kind_a, kind_b):
        if k not in AREA_KINDS:
            raise _no_area(k, "iou")
    if kind_a == "box" and kind_b == "box":
        return _box_iou(geom_a, geom_b)
    if kind_a == "mask" or kind_b == "mask":
        if height is None or width is None:
            raise ValueError("iou with a mask compares pixels: pass the image size as height= and width=")
        ma = rasterize(kind_a, geom_a, height, width).astype(bool)
        mb = rasterize(kind_b, geom_b, height, width).astype(bool)
        union = np.count_nonzero(ma | mb)
        return float(np.count_nonzero(ma & mb) / union) if union else 0.0
    pa = to_polygon(kind_a, geom_a, segments=_IOU_SEGMENTS)
    pb = to_polygon(kind_b, geom_b, segments=_IOU_SEGMENTS)
    inter = pa.intersection(pb).area
    union = pa.area + pb.area - inter
    return float(inter / union) if union > 0 else 0.0


def box_iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box of ``a`` (N x 4, x y w h) with every box of ``b`` (M x 4): an N x M float64
    array, 0 where the union is empty. Vectorised; chunk ``a`` for very large N x M."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    for name, arr in (("a", a), ("b", b)):
        if arr.ndim != 2 or arr.shape[1] != 4:
            raise ValueError(f"box_iou_matrix: {name} must be an N x 4 array of x, y, w, h; got shape {arr.shape}")
    ax0, ay0 = a[:, 0:1], a[:, 1:2]
    ax1, ay1 = ax0 + a[:, 2:3], ay0 + a[:, 3:4]
    bx0, by0 = b[:, 0], b[:, 1]
    bx1, by1 = bx0 + b[:, 2], by0 + b[:, 3]
    iw = np.clip(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0.0, None)
    ih = np.clip(np.minimum(ay1, by1) - np.maximum(ay0, by0), 0.0, None)
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def polyline_iou(a: dict, b: dict, *, buffer: float = 2.0) -> float:
    """IoU of two polylines widened by ``buffer`` pixels on each side (round caps and joins)."""
    if not buffer > 0:
        raise ValueError(f"polyline_iou: buffer must be a positive number of pixels, got {buffer!r}")
    pa = LineString(a["points"]).buffer(buffer)
    pb = LineString(b["points"]).buffer(buffer)
    inter = pa.intersection(pb).area
    union = pa.area + pb.area - inter
    return float(inter / union) if union > 0 else 0.0


def oks(
    gt_points: Sequence[Sequence[float]],
    dt_points: Sequence[Sequence[float]],
    area: float,
    sigmas: Sequence[float],
    *,
    bbox: Sequence[float] | None = None,
) -> float:
    """Object keypoint similarity, as COCO's ``COCOeval.computeOks``.

    ``gt_points`` are ``[x, y, v]`` (a skeleton's points); ``dt_points`` are ``[x, y]`` or
    ``[x, y, v]`` (v ignored); ``area`` is the ground truth's area; ``sigmas`` one per point.
    Only ground-truth points with v > 0 count. With none visible, COCO measures the distance of the
    detections outside the ground truth's box doubled; pass that box as ``bbox`` (x, y, w, h),
    without it the similarity is 0.0.
    """
    s = np.asarray(sigmas, dtype=np.float64).ravel()
    g = np.asarray(gt_points, dtype=np.float64)
    d = np.asarray(dt_points, dtype=np.float64)
    if g.ndim != 2 or g.shape[1] != 3:
        raise ValueError(f"oks: gt_points must be [x, y, v] triples, got shape {g.shape}")
    if d.ndim != 2 or d.shape[1] not in (2, 3):
        raise ValueError(f"oks: dt_points must be [x, y] or [x, y, v], got shape {d.shape}")
    if not len(g) == len(d) == len(s):
        raise ValueError(f"oks: {len(g)} ground-truth points, {len(d)} detected points and {len(s)} sigmas differ")
    var = (2.0 * s) ** 2
    visible = g[:, 2] > 0
    if visible.any():
        dx, dy = d[:, 0] - g[:, 0], d[:, 1] - g[:, 1]
    elif bbox is not None:
        bx, by, bw, bh = (float(v) for v in bbox)
        x0, x1, y0, y1 = bx - bw, bx + 2 * bw, by - bh, by + 2 * bh
        dx = np.maximum(0.0, x0 - d[:, 0]) + np.maximum(0.0, d[:, 0] - x1)
        dy = np.maximum(0.0, y0 - d[:, 1]) + np.maximum(0.0, d[:, 1] - y1)
    else:
        return 0.0
    e = (dx**2 + dy**2) / var / (area + np.spacing(1)) / 2
    if visible.any():
        e = e[visible]
    return float(np.sum(np.exp(-e)) / e.shape[0])


# -- clipping -------------------------------------------------------------------------------------


def is_inside(kind: str, geometry: dict, width: int, height: int) -> bool:
    """Whether the whole shape lies within the image ``[0, width] x [0, height]`` (a skeleton: its
    visible points; a mask: its size is the image's; a tag: always)."""
    if kind == "tag":
        return True
    if kind == "mask":
        return list(geometry["rle"]["size"]) == [height, width]
    b = bbox(kind, geometry)
    if b is None:
        return True
    x, y, w, h = b
    return x >= -_EPS and y >= -_EPS and x + w <= width + _EPS and y + h <= height + _EPS


def _largest(geom, measure: str):
    parts = [p for p in getattr(geom, "geoms", [geom]) if not p.is_empty]
    return max(parts, key=lambda p: getattr(p, measure), default=None)


def clip(kind: str, geometry: dict, width: int, height: int) -> dict | None:
    """The shape cut to the image ``[0, width] x [0, height]``; None when nothing is left.

    box: intersection. polygon: shapely intersection with the image; if that splits it, the largest
    part is kept. polyline: likewise, the longest run. points: those inside. skeleton: visible
    points outside become ``[0, 0, 0]`` (COCO's "not labelled"); None when no visible point is
    left. rotated_box and ellipse cannot keep their kind when cut: they come back unchanged while
    they overlap the image (cut them with ``to_polygon`` + ``clip("polygon", ...)`` if needed).
    mask: its size must be the image's; an empty mask gives None. tag: unchanged. A shape already
    inside comes back as an equal copy.
    """
    g = geometry
    if kind == "tag":
        return {}
    if is_inside(kind, g, width, height):
        if kind == "mask" and area(kind, g) == 0:
            return None
        return _copy(g)
    if kind == "mask":
        size = g["rle"]["size"]
        raise ValueError(f"mask size {size[0]}x{size[1]} (height x width) differs from the image's {height}x{width}")
    if kind == "box":
        x0, y0 = max(g["x"], 0.0), max(g["y"], 0.0)
        x1, y1 = min(g["x"] + g["w"], float(width)), min(g["y"] + g["h"], float(height))
        if x1 <= x0 or y1 <= y0:
            return None
        return {"x": x0, "y": y0, "w": x1 - x0, "h": y1 - y0}
    frame = _shapely_box(0, 0, width, height)
    if kind in ("rotated_box", "ellipse", "polygon"):
        cut = polygonal(to_polygon(kind, g).intersection(frame))
        if cut.is_empty or cut.area <= 0:
            return None
        if kind != "polygon":
            return _copy(g)
        part = _largest(cut, "area")
        return {
            "points": [[float(x), float(y)] for x, y in part.exterior.coords[:-1]],
            "holes": [[[float(x), float(y)] for x, y in r.coords[:-1]] for r in part.interiors],
        }
    if kind == "polyline":
        runs = _clip_polyline(g["points"], float(width), float(height))
        best = max(runs, key=lambda r: LineString(r).length, default=None)
        if best is None or LineString(best).length <= 0:
            return None
        return {"points": best}

    def inside(p) -> bool:
        return -_EPS <= p[0] <= width + _EPS and -_EPS <= p[1] <= height + _EPS

    if kind == "points":
        pts = [list(p) for p in g["points"] if inside(p)]
        return {"points": pts} if pts else None
    if kind == "skeleton":
        pts = [[0.0, 0.0, 0] if p[2] > 0 and not inside(p) else list(p) for p in g["points"]]
        return {"points": pts} if any(p[2] > 0 for p in pts) else None
    raise ValueError(f"unknown kind {kind!r}")


def _clip_polyline(points, width: float, height: float) -> list[list[list[float]]]:
    """Cut a polyline to the image segment by segment (Liang-Barsky), in order: the runs of
    consecutive pieces left inside. (shapely's intersection would split a self-crossing line.)"""
    runs: list[list[list[float]]] = []
    cur: list[list[float]] = []
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        ddx, ddy = x1 - x0, y1 - y0
        t0, t1 = 0.0, 1.0
        for p, q in ((-ddx, x0), (ddx, width - x0), (-ddy, y0), (ddy, height - y0)):
            if p == 0:
                if q < 0:
                    t0, t1 = 1.0, 0.0
            elif p < 0:
                t0 = max(t0, q / p)
            else:
                t1 = min(t1, q / p)
        if t0 > t1:
            if cur:
                runs.append(cur)
                cur = []
            continue
        a = [float(x0 + t0 * ddx), float(y0 + t0 * ddy)]
        b = [float(x0 + t1 * ddx), float(y0 + t1 * ddy)]
        if cur and (t0 > 0 or cur[-1] != a):
            runs.append(cur)
            cur = []
        if not cur:
            cur = [a]
        cur.append(b)
        if t1 < 1:
            runs.append(cur)
            cur = []
    if cur:
        runs.append(cur)
    return [r for r in runs if len(r) >= 2]


def _copy(g: dict) -> dict:
    out = {}
    for k, v in g.items():
        if k in ("points", "holes"):
            out[k] = [[list(q) for q in p] if k == "holes" else list(p) for p in v]
        elif k == "rle":
            out[k] = {"size": list(v["size"]), "counts": v["counts"]}
        else:
            out[k] = v
    return out


# -- transforms -----------------------------------------------------------------------------------


def _angle(vx: float, vy: float) -> float:
    """Direction of an axis (either sense) in degrees, in (-90, 90]."""
    a = math.degrees(math.atan2(vy, vx))
    if a <= -90.0:
        a += 180.0
    elif a > 90.0:
        a -= 180.0
    return a + 0.0  # no -0.0


def transform(
    kind: str,
    geometry: dict,
    *,
    scale: float | tuple[float, float] = (1.0, 1.0),
    offset: tuple[float, float] = (0.0, 0.0),
) -> dict:
    """Map the shape by ``x' = x * sx + dx``, ``y' = y * sy + dy`` (negative scales mirror).

    Exact for every kind but one case: a rotated box scaled differently along x and y at an angle
    that is not a multiple of 90 degrees becomes a parallelogram, which is replaced by the rectangle
    of the same centre and area whose ``w`` side follows the mapped ``w`` side. Ellipses stay exact
    (the image of an ellipse is an ellipse). A turned figure that is mirrored or scaled unevenly gets
    its angle in (-90, 90]. Skeleton points with v = 0 (not labelled) are left as they are.
    Masks are pixel grids and raise ValueError.
    """
    sx, sy = (float(scale), float(scale)) if isinstance(scale, (int, float)) else (float(scale[0]), float(scale[1]))
    dx, dy = float(offset[0]), float(offset[1])
    if sx == 0 or sy == 0 or not all(math.isfinite(v) for v in (sx, sy, dx, dy)):
        raise ValueError(f"transform needs finite, non-zero scales and finite offsets, got scale {scale!r} offset {offset!r}")
    g = geometry
    if kind == "mask":
        raise ValueError(
            "transform does not apply to a mask: a mask is a pixel grid; decode it, resample the array "
            "and encode it again (or trace it with mask_to_polygons and transform the polygons)"
        )
    if kind == "tag":
        return {}
    if kind == "box":
        x, w = g["x"] * sx + dx, g["w"] * sx
        y, h = g["y"] * sy + dy, g["h"] * sy
        return {"x": min(x, x + w), "y": min(y, y + h), "w": abs(w), "h": abs(h)}
    if kind in _POINT_KINDS:
        out = {"points": [[p[0] * sx + dx, p[1] * sy + dy] for p in g["points"]]}
        if kind == "polygon":
            out["holes"] = [[[p[0] * sx + dx, p[1] * sy + dy] for p in r] for r in g.get("holes") or []]
        return out
    if kind == "skeleton":
        return {"points": [[p[0] * sx + dx, p[1] * sy + dy, p[2]] if p[2] > 0 else list(p) for p in g["points"]]}
    if kind not in ("rotated_box", "ellipse"):
        raise ValueError(f"unknown kind {kind!r}")
    out = {"cx": g["cx"] * sx + dx, "cy": g["cy"] * sy + dy}
    a_name, b_name = ("w", "h") if kind == "rotated_box" else ("rx", "ry")
    if sx == sy > 0:
        return {**out, a_name: g[a_name] * sx, b_name: g[b_name] * sx, "angle": g["angle"]}
    t = math.radians(g["angle"])
    c, s = math.cos(t), math.sin(t)
    # images of the two axes: u along w (rx), v along h (ry)
    u = np.array([sx * c * g[a_name], sy * s * g[a_name]])
    v = np.array([-sx * s * g[b_name], sy * c * g[b_name]])
    if kind == "rotated_box":
        nu = float(np.hypot(*u))
        perp = abs(float(u[0] * v[1] - u[1] * v[0])) / nu
        return {**out, "w": nu, "h": perp, "angle": _angle(*u)}
    m = np.stack([u, v], axis=1)  # maps the unit circle onto the new ellipse
    left, sv, _ = np.linalg.svd(m)
    k = int(np.argmax(np.abs(left.T @ u)))  # the new axis closest to the image of rx
    axis = left[:, k]
    return {**out, "rx": float(sv[k]), "ry": float(sv[1 - k]), "angle": _angle(axis[0], axis[1])}


def flip_horizontal(kind: str, geometry: dict, width: int, *, pairs: Sequence[tuple[int, int]] = ()) -> dict:
    """Mirror the shape left-right in an image ``width`` pixels wide (``x' = width - x``).

    A mask must be ``width`` wide; it is flipped pixel for pixel. For a skeleton, ``pairs`` of point
    indices (left and right eye, ...) are swapped after the flip, as keypoint augmentations do.
    """
    if kind == "mask":
        size = geometry["rle"]["size"]
        if size[1] != width:
            raise ValueError(f"mask is {size[1]} pixels wide, not {width}")
        return {"rle": _rle.encode(_rle.decode(geometry["rle"])[:, ::-1])}
    out = transform(kind, geometry, scale=(-1.0, 1.0), offset=(float(width), 0.0))
    if kind == "skeleton" and pairs:
        pts = out["points"]
        for i, j in pairs:
            pts[i], pts[j] = pts[j], pts[i]
    return out
