"""Shapes to pixels and back: rasterising area shapes and tracing masks into polygons.

Pure functions on the geometry dicts of :mod:`limner.core.shapes` (already validated); no I/O.

Pixel convention
----------------
Pixel ``(i, j)`` (row ``i``, column ``j``) covers ``[j, j+1) x [i, i+1)`` in image coordinates, so
its centre is ``(j + 0.5, i + 0.5)`` and pixel corners sit at integer coordinates. A box
``x=2, y=3, w=4, h=5`` therefore covers exactly the 20 pixels of rows 3..7 and columns 2..5.

Filling is **pixel-centre based**: a pixel is inside a shape when its centre is. A centre lying
exactly on an edge follows the top-left rule of graphics APIs: on a left or top edge it is inside,
on a right or bottom edge outside, so shapes that tile the plane share no pixel. Polygons are filled
with the even-odd rule after shapely's ``make_valid``, i.e. holes are cut out and a self-crossing
ring fills what shapely counts as its area. Ellipses use the exact centre test
``(u/rx)^2 + (v/ry)^2 <= 1``.

``cv2.fillPoly`` is not used for filling: it also paints every pixel an edge runs through (the box
above becomes 6 x 5 = 30 pixels, with or without ``shift``), which biases every mask outwards by
half a pixel. The scanline fill here is vectorised numpy.

Tracing (:func:`mask_to_polygons`) runs ``cv2.findContours`` (``RETR_CCOMP``: outer borders and
their holes) on a lattice of pixel corners and edge midpoints, so the rings follow the pixel
borders exactly; at ``tolerance=0`` rasterising the rings gives back the mask pixel for pixel.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from limner.core import rle as _rle

__all__ = [
    "ellipse_points",
    "mask_to_polygons",
    "polygon_to_mask",
    "rasterize",
    "rotated_box_corners",
]

_RASTER_KINDS = ("box", "rotated_box", "polygon", "ellipse", "mask")


def rotated_box_corners(geometry: dict) -> np.ndarray:
    """The 4 corners (4x2 array) of a rotated box: top-left, top-right, bottom-right, bottom-left
    of the unrotated box, turned ``angle`` degrees clockwise on screen (y points down) about the
    centre."""
    g = geometry
    t = math.radians(g["angle"])
    c, s = math.cos(t), math.sin(t)
    hw, hh = g["w"] / 2.0, g["h"] / 2.0
    local = np.array([[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]])
    rot = np.array([[c, -s], [s, c]])
    return local @ rot.T + np.array([g["cx"], g["cy"]])


def ellipse_points(geometry: dict, segments: int = 64) -> np.ndarray:
    """``segments`` points (Nx2) on an ellipse, starting at the end of the ``rx`` axis."""
    if segments < 3:
        raise ValueError(f"an ellipse needs at least 3 segments, got {segments}")
    g = geometry
    t = np.linspace(0.0, 2.0 * np.pi, segments, endpoint=False)
    a = math.radians(g["angle"])
    c, s = math.cos(a), math.sin(a)
    u, v = g["rx"] * np.cos(t), g["ry"] * np.sin(t)
    return np.stack([g["cx"] + u * c - v * s, g["cy"] + u * s + v * c], axis=1)


def polygonal(geom) -> Polygon | MultiPolygon:
    """The polygonal part of a shapely geometry (made valid first) as a Polygon or MultiPolygon."""
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if isinstance(geom, (Polygon, MultiPolygon)):
        return geom
    parts = [p for p in getattr(geom, "geoms", []) if isinstance(p, (Polygon, MultiPolygon)) and not p.is_empty]
    if not parts:
        return Polygon()
    out = shapely.unary_union(parts)
    return out if isinstance(out, (Polygon, MultiPolygon)) else Polygon()


def polygon_shape(geometry: dict) -> Polygon | MultiPolygon:
    """A polygon geometry dict as a valid shapely Polygon (or MultiPolygon after ``make_valid``)."""
    return polygonal(Polygon(geometry["points"], geometry.get("holes") or []))


def _rings(geom) -> list[np.ndarray]:
    out = []
    for p in getattr(geom, "geoms", [geom]):
        if p.is_empty:
            continue
        out.append(np.asarray(p.exterior.coords)[:-1])
        out.extend(np.asarray(r.coords)[:-1] for r in p.interiors)
    return out


def _fill_rings(rings: list[np.ndarray], height: int, width: int) -> np.ndarray:
    """Even-odd scanline fill at pixel centres (see the module docstring for the tie rule).

    For every edge and every row whose centre line ``y = r + 0.5`` it crosses (``ymin <= y < ymax``),
    the crossing toggles the parity of every pixel whose centre is at or right of it; a cumulative
    sum along each row then gives the parity, i.e. inside or out. Only the window of rows and
    columns the rings span is worked on, so a small shape on a large image costs little.
    """
    out = np.zeros((height, width), np.uint8)
    rings = [np.asarray(r, dtype=np.float64).reshape(-1, 2) for r in rings]
    rings = [r for r in rings if len(r) >= 3]
    if not rings:
        return out
    allp = np.concatenate(rings)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    c0, c1 = (int(np.clip(v, 0, width)) for v in (np.floor(lo[0]), np.ceil(hi[0])))
    r0w, r1w = (int(np.clip(v, 0, height)) for v in (np.floor(lo[1]), np.ceil(hi[1])))
    if c0 >= c1 or r0w >= r1w:
        return out
    ww = c1 - c0
    stride = ww + 1
    rows_all, cols_all = [], []
    for p in rings:
        q = np.roll(p, -1, axis=0)
        ylo = np.minimum(p[:, 1], q[:, 1])
        yhi = np.maximum(p[:, 1], q[:, 1])
        r0 = np.clip(np.ceil(ylo - 0.5), r0w, r1w).astype(np.int64)
        r1 = np.clip(np.ceil(yhi - 0.5), r0w, r1w).astype(np.int64)
        n = r1 - r0
        if not n.any():
            continue
        edge = np.repeat(np.arange(len(n)), n)
        start = np.repeat(np.cumsum(n) - n, n)
        rows = r0[edge] + (np.arange(edge.size) - start)
        px, py, qx, qy = p[edge, 0], p[edge, 1], q[edge, 0], q[edge, 1]
        x = px + (rows + 0.5 - py) * (qx - px) / (qy - py)
        cols = np.clip(np.ceil(x - 0.5), c0, c1).astype(np.int64) - c0
        rows_all.append(rows - r0w)
        cols_all.append(cols)
    if not rows_all:
        return out
    hh = r1w - r0w
    idx = np.concatenate(rows_all) * stride + np.concatenate(cols_all)
    toggles = np.bincount(idx, minlength=hh * stride).reshape(hh, stride)[:, :ww]
    out[r0w:r1w, c0:c1] = np.cumsum(toggles, axis=1) & 1
    return out


def _fill_ellipse(g: dict, height: int, width: int) -> np.ndarray:
    out = np.zeros((height, width), np.uint8)
    a = math.radians(g["angle"])
    c, s = math.cos(a), math.sin(a)
    rx, ry = g["rx"], g["ry"]
    ex, ey = math.hypot(rx * c, ry * s), math.hypot(rx * s, ry * c)
    j0, j1 = max(0, math.floor(g["cx"] - ex)), min(width, math.ceil(g["cx"] + ex) + 1)
    i0, i1 = max(0, math.floor(g["cy"] - ey)), min(height, math.ceil(g["cy"] + ey) + 1)
    if j0 >= j1 or i0 >= i1:
        return out
    dx = (np.arange(j0, j1) + 0.5 - g["cx"])[None, :]
    dy = (np.arange(i0, i1) + 0.5 - g["cy"])[:, None]
    u = (dx * c + dy * s) / rx
    v = (-dx * s + dy * c) / ry
    out[i0:i1, j0:j1] = (u * u + v * v) <= 1.0
    return out


def _check_size(height: int, width: int) -> None:
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in (height, width)):
        raise ValueError(f"height and width must be positive integers, got {height!r} x {width!r}")


def rasterize(kind: str, geometry: dict, height: int, width: int) -> np.ndarray:
    """A (height, width) uint8 array of 0/1: the pixels whose centres the shape covers.

    Works for box, rotated_box, polygon (holes cut out), ellipse and mask (decoded; its size must be
    height x width). Parts outside the image are ignored.
    """
    _check_size(height, width)
    g = geometry
    if kind == "box":
        x0, y0, x1, y1 = g["x"], g["y"], g["x"] + g["w"], g["y"] + g["h"]
        return _fill_rings([np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])], height, width)
    if kind == "rotated_box":
        return _fill_rings([rotated_box_corners(g)], height, width)
    if kind == "polygon":
        return _fill_rings(_rings(polygon_shape(g)), height, width)
    if kind == "ellipse":
        return _fill_ellipse(g, height, width)
    if kind == "mask":
        size = list(g["rle"]["size"])
        if size != [height, width]:
            raise ValueError(f"mask size {size[0]}x{size[1]} (height x width) differs from the {height}x{width} asked for")
        return _rle.decode(g["rle"])
    raise ValueError(f"cannot rasterize a {kind}: only {', '.join(_RASTER_KINDS)} cover pixels")


def polygon_to_mask(geometry: dict, height: int, width: int) -> dict:
    """A polygon geometry as a COCO RLE dict ``{"size": [height, width], "counts": str}``."""
    return _rle.encode(rasterize("polygon", geometry, height, width))


def _corner_path(p: np.ndarray) -> np.ndarray:
    """Replace the diagonal half-steps of a traced lattice ring by the pixel corner they cut.

    Coordinates are doubled (even = pixel corner, odd = edge midpoint). The border of a union of
    pixel squares is axis-aligned, but 8-connected tracing cuts a reflex corner diagonally from one
    edge midpoint to the next; the true border goes through the corner between them, the only
    candidate with both coordinates even.
    """
    q = np.roll(p, -1, axis=0)
    d = q - p
    diag = np.nonzero((np.abs(d[:, 0]) == 1) & (np.abs(d[:, 1]) == 1))[0]
    if diag.size:
        c1 = np.stack([p[diag, 0], q[diag, 1]], axis=1)
        c2 = np.stack([q[diag, 0], p[diag, 1]], axis=1)
        corner = np.where(((c1 % 2) == 0).all(axis=1)[:, None], c1, c2)
        p = np.insert(p, diag + 1, corner, axis=0)
    # drop repeated points and points in the middle of a straight run
    p = p[np.any(p != np.roll(p, 1, axis=0), axis=1)]
    if len(p) < 3:
        return p
    a, b = p - np.roll(p, 1, axis=0), np.roll(p, -1, axis=0) - p
    cross = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    dot = (a * b).sum(axis=1)
    return p[~((cross == 0) & (dot > 0))]


def _cv2():
    try:
        import cv2
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "tracing masks into polygons needs OpenCV: pip install opencv-python-headless"
        ) from None
    return cv2


def mask_shapes(rle: dict, *, tolerance: float = 0.0) -> list[Polygon]:
    """The mask's connected parts as valid shapely Polygons whose rings follow the pixel borders,
    simplified (Douglas-Peucker, topology kept) at ``tolerance`` pixels."""
    cv2 = _cv2()
    m = _rle.decode(rle)
    h, w = m.shape
    if not m.any():
        return []
    # lattice of pixel corners and edge midpoints: point (b/2, a/2) is on when it lies in the closed
    # square of an inside pixel; one more row/column of padding all round for findContours.
    up = m.repeat(2, axis=0).repeat(2, axis=1)
    lat = np.zeros((2 * h + 3, 2 * w + 3), np.uint8)
    core = lat[1:-1, 1:-1]
    core[:-1, :-1] |= up
    core[1:, :-1] |= up
    core[:-1, 1:] |= up
    core[1:, 1:] |= up
    contours, hierarchy = cv2.findContours(lat, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    if hierarchy is None:
        return []
    hier = hierarchy[0]

    def ring(i: int) -> np.ndarray:
        return (_corner_path(contours[i][:, 0, :].astype(np.int64) - 1)) / 2.0

    out: list[Polygon] = []
    for i in range(len(contours)):
        if hier[i][3] != -1:
            continue
        shell = ring(i)
        if len(shell) < 3:
            continue
        holes = []
        child = hier[i][2]
        while child != -1:
            r = ring(child)
            if len(r) >= 3:
                holes.append(r)
            child = hier[child][0]
        geom = polygonal(Polygon(shell, holes))
        if tolerance > 0:
            geom = geom.simplify(tolerance, preserve_topology=True)
        out.extend(p for p in getattr(geom, "geoms", [geom]) if isinstance(p, Polygon) and p.area > 0)
    return out


def _coords(ring) -> list[list[float]]:
    return [[float(x), float(y)] for x, y in list(ring.coords)[:-1]]


def mask_to_polygons(rle: dict, *, tolerance: float = 1.0) -> list[dict]:
    """The mask as polygon geometry dicts ``{"points", "holes"}``, one per connected part.

    Outer borders and their holes come from ``cv2.findContours`` (``RETR_CCOMP``) traced along pixel
    borders, so vertices sit on pixel corners; rings are then simplified at ``tolerance`` pixels and
    rings left with fewer than 3 points are dropped. At ``tolerance=0`` the polygons rasterise back
    to exactly the mask. An empty mask gives ``[]``.
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0 pixels, got {tolerance}")
    out = []
    for p in mask_shapes(rle, tolerance=tolerance):
        pts = _coords(p.exterior)
        if len(pts) < 3:
            continue
        holes = [h for h in (_coords(r) for r in p.interiors) if len(h) >= 3]
        out.append({"points": pts, "holes": holes})
    return out
