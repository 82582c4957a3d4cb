"""Tests for limner.core.geometry and limner.core.raster.

Expected values are worked out by hand in the comments; the cross-checks compare with independent
implementations (pycocotools for box IoU, mask IoU and OKS; shapely point-in-polygon for filling).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from shapely.geometry import MultiPolygon, Polygon

from limner.core import geometry as G
from limner.core import raster as R
from limner.core.geometry import (
    COCO_PERSON_SIGMAS,
    area,
    bbox,
    box_iou_matrix,
    clip,
    flip_horizontal,
    iou,
    is_inside,
    mask_to_polygons,
    oks,
    polygon_to_mask,
    polyline_iou,
    rasterize,
    rotated_box_corners,
    to_polygon,
    transform,
)
from limner.core.rle import decode, encode

S2 = math.sqrt(2.0)


def approx(v, tol=1e-9):
    if v is None:
        return None
    if isinstance(v, (tuple, list)):
        return pytest.approx(list(v), abs=tol)
    return pytest.approx(v, abs=tol)


def mask_geom(arr) -> dict:
    return {"rle": encode(np.asarray(arr, np.uint8))}


def block(h, w, rows, cols) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    m[rows[0] : rows[1], cols[0] : cols[1]] = 1
    return m


def box(x, y, w, h):
    return {"x": float(x), "y": float(y), "w": float(w), "h": float(h)}


def rbox(cx, cy, w, h, angle):
    return {"cx": float(cx), "cy": float(cy), "w": float(w), "h": float(h), "angle": float(angle)}


def ell(cx, cy, rx, ry, angle):
    return {"cx": float(cx), "cy": float(cy), "rx": float(rx), "ry": float(ry), "angle": float(angle)}


def poly(points, holes=()):
    return {"points": [list(map(float, p)) for p in points], "holes": [[list(map(float, p)) for p in h] for h in holes]}


SQUARE_WITH_HOLE = poly([[0, 0], [4, 0], [4, 4], [0, 4]], [[[1, 1], [3, 1], [3, 3], [1, 3]]])


# -- exports --------------------------------------------------------------------------------------


def test_all_is_exact():
    assert set(G.__all__) == {
        "AREA_KINDS", "COCO_PERSON_SIGMAS", "area", "bbox", "box_iou_matrix", "clip", "ellipse_points",
        "flip_horizontal", "iou", "is_inside", "mask_to_polygons", "oks", "polygon_to_mask", "polyline_iou",
        "rasterize", "rotated_box_corners", "to_polygon", "transform",
    }  # fmt: skip
    assert set(R.__all__) == {"ellipse_points", "mask_to_polygons", "polygon_to_mask", "rasterize", "rotated_box_corners"}
    for module in (G, R):
        assert len(set(module.__all__)) == len(module.__all__)
        assert all(hasattr(module, name) for name in module.__all__)
    # the raster functions re-exported by geometry are the same objects
    assert all(getattr(G, name) is getattr(R, name) for name in R.__all__)


# -- bbox -----------------------------------------------------------------------------------------

BBOX_CASES = [
    ("tag", {}, None),
    ("box", box(1, 2, 3, 4), (1, 2, 3, 4)),
    ("rotated_box", rbox(10, 10, 4, 2, 0), (8, 9, 4, 2)),
    ("rotated_box", rbox(10, 10, 4, 2, 90), (9, 8, 2, 4)),
    ("rotated_box", rbox(10, 10, 4, 2, -270), (9, 8, 2, 4)),
    # a 2 x 2 square at 45 degrees: half extent (2 cos45 + 2 sin45) / 2 = sqrt 2
    ("rotated_box", rbox(10, 10, 2, 2, 45), (10 - S2, 10 - S2, 2 * S2, 2 * S2)),
    ("ellipse", ell(10, 10, 4, 2, 0), (6, 8, 8, 4)),
    ("ellipse", ell(10, 10, 4, 2, 90), (8, 6, 4, 8)),
    ("ellipse", ell(10, 10, 3, 3, 37), (7, 7, 6, 6)),
    # rx=2, ry=1 at 45: half extent sqrt((2 cos45)^2 + (1 sin45)^2) = sqrt(2.5)
    ("ellipse", ell(0, 0, 2, 1, 45), (-math.sqrt(2.5), -math.sqrt(2.5), 2 * math.sqrt(2.5), 2 * math.sqrt(2.5))),
    ("polygon", poly([[1, 5], [7, 2], [4, 9]]), (1, 2, 6, 7)),
    ("polygon", SQUARE_WITH_HOLE, (0, 0, 4, 4)),
    ("polyline", {"points": [[3, 3], [1, 8]]}, (1, 3, 2, 5)),
    ("points", {"points": [[3, 4]]}, (3, 4, 0, 0)),
    ("points", {"points": [[3, 4], [-1, 6], [2, 0]]}, (-1, 0, 4, 6)),
    ("skeleton", {"points": [[1, 1, 2], [100, 100, 0], [5, 3, 1]]}, (1, 1, 4, 2)),
    ("skeleton", {"points": [[1, 1, 0], [5, 3, 0]]}, None),
    ("mask", mask_geom(block(8, 10, (2, 5), (3, 7))), (3, 2, 4, 3)),
    ("mask", mask_geom(np.zeros((4, 4))), None),
]


@pytest.mark.parametrize("kind, geometry, expected", BBOX_CASES)
def test_bbox(kind, geometry, expected):
    assert bbox(kind, geometry) == approx(expected)


def test_bbox_of_rotated_figures_matches_their_polygons():
    rng = np.random.default_rng(0)
    for _ in range(30):
        cx, cy, a, b = rng.uniform(5, 50, 4)
        angle = rng.uniform(-360, 360)
        rb = rbox(cx, cy, a, b, angle)
        x0, y0, x1, y1 = Polygon(rotated_box_corners(rb)).bounds
        assert bbox("rotated_box", rb) == approx((x0, y0, x1 - x0, y1 - y0))
        e = ell(cx, cy, a, b, angle)
        x0, y0, x1, y1 = to_polygon("ellipse", e, segments=20000).bounds
        assert bbox("ellipse", e) == approx((x0, y0, x1 - x0, y1 - y0), tol=1e-3)


def test_bbox_unknown_kind():
    with pytest.raises(ValueError, match="unknown kind 'circle'"):
        bbox("circle", {})


# -- area -----------------------------------------------------------------------------------------

AREA_CASES = [
    ("tag", {}, 0.0),
    ("box", box(1, 2, 3, 4), 12.0),
    ("rotated_box", rbox(0, 0, 4, 2, 33), 8.0),
    ("ellipse", ell(0, 0, 4, 2, 10), 8 * math.pi),
    ("polygon", poly([[0, 0], [4, 0], [0, 3]]), 6.0),
    ("polygon", SQUARE_WITH_HOLE, 12.0),  # 16 - 4
    ("polygon", poly([[0, 0], [2, 2], [2, 0], [0, 2]]), 2.0),  # bow tie: two triangles of 1
    ("polyline", {"points": [[0, 0], [5, 5]]}, 0.0),
    ("points", {"points": [[0, 0]]}, 0.0),
    ("skeleton", {"points": [[0, 0, 2]]}, 0.0),
    ("mask", mask_geom(block(8, 10, (2, 5), (3, 7))), 12.0),
    ("mask", mask_geom(np.zeros((3, 3))), 0.0),
]


@pytest.mark.parametrize("kind, geometry, expected", AREA_CASES)
def test_area(kind, geometry, expected):
    assert area(kind, geometry) == approx(expected)


# -- to_polygon -----------------------------------------------------------------------------------


def test_rotated_box_corners_turn_clockwise_on_screen():
    # w=4 along x, h=2; 90 degrees clockwise with y down: the w side now runs down the screen
    c = rotated_box_corners(rbox(0, 0, 4, 2, 90))
    assert np.allclose(c, [[1, -2], [1, 2], [-1, 2], [-1, -2]])
    # 45 degrees: the top-left corner (-1, -1) of a 2 x 2 square moves to the top (0, -sqrt 2)
    assert rotated_box_corners(rbox(0, 0, 2, 2, 45))[0].tolist() == approx([0, -S2])


TO_POLYGON_CASES = [
    ("box", box(1, 2, 3, 4), 12.0, (1, 2, 4, 6)),
    ("rotated_box", rbox(5, 5, 4, 2, 90), 8.0, (4, 3, 6, 7)),
    ("polygon", SQUARE_WITH_HOLE, 12.0, (0, 0, 4, 4)),
    ("mask", mask_geom(block(8, 10, (2, 5), (3, 7))), 12.0, (3, 2, 7, 5)),
]


@pytest.mark.parametrize("kind, geometry, expected_area, bounds", TO_POLYGON_CASES)
def test_to_polygon(kind, geometry, expected_area, bounds):
    p = to_polygon(kind, geometry)
    assert isinstance(p, Polygon) and p.is_valid
    assert p.area == approx(expected_area)
    assert p.bounds == approx(bounds)


def test_to_polygon_ellipse_samples_points_on_the_curve():
    e = ell(10, 20, 5, 2, 30)
    p = to_polygon("ellipse", e, segments=12)
    pts = np.asarray(p.exterior.coords)[:-1]
    assert len(pts) == 12
    t = math.radians(30)
    dx, dy = pts[:, 0] - 10, pts[:, 1] - 20
    u = (dx * math.cos(t) + dy * math.sin(t)) / 5
    v = (-dx * math.sin(t) + dy * math.cos(t)) / 2
    assert np.allclose(u * u + v * v, 1.0)
    assert pts[0].tolist() == approx([10 + 5 * math.cos(t), 20 + 5 * math.sin(t)])


def test_to_polygon_holes_and_parts():
    assert len(to_polygon("polygon", SQUARE_WITH_HOLE).interiors) == 1
    two = np.zeros((6, 6), np.uint8)
    two[0:2, 0:2] = 1
    two[4:6, 3:6] = 1
    p = to_polygon("mask", mask_geom(two))
    assert isinstance(p, MultiPolygon) and p.area == 10
    assert to_polygon("mask", mask_geom(np.zeros((3, 3)))).is_empty


@pytest.mark.parametrize(
    "kind, message",
    [("polyline", "polyline_iou"), ("points", "oks"), ("skeleton", "oks"), ("tag", "got 'tag'")],
)
def test_to_polygon_refuses_kinds_without_area(kind, message):
    with pytest.raises(ValueError, match=message):
        to_polygon(kind, {"points": [[0, 0], [1, 1]]})


# -- rasterize ------------------------------------------------------------------------------------


def pixels(m: np.ndarray) -> set[tuple[int, int]]:
    return {(int(i), int(j)) for i, j in np.argwhere(m)}


def grid(rows, cols) -> set[tuple[int, int]]:
    return {(i, j) for i in rows for j in cols}


def test_rasterize_box_covers_the_pixels_whose_centres_it_holds():
    m = rasterize("box", box(2, 3, 4, 5), 12, 12)
    assert m.dtype == np.uint8 and m.shape == (12, 12)
    assert int(m.sum()) == 20
    assert pixels(m) == grid(range(3, 8), range(2, 6))


RASTER_CASES = [
    # centres on the left/top edges are in, on the right/bottom edges out: cols 2..4, rows 3..5
    ("box", box(2.5, 3.5, 3, 3), grid(range(3, 6), range(2, 5))),
    ("box", box(2.4, 3.4, 0.2, 0.2), {(3, 2)}),  # holds one centre
    ("box", box(2.6, 3.6, 0.2, 0.2), set()),  # holds none
    ("box", box(-2, -2, 4, 4), grid(range(0, 2), range(0, 2))),  # cut by the image
    ("box", box(20, 20, 4, 4), set()),
    ("box", box(-1e12, -1e12, 2e12, 2e12), grid(range(10), range(12))),
    ("rotated_box", rbox(5, 5, 4, 2, 90), grid(range(3, 7), range(4, 6))),
    # diamond |dx| + |dy| <= 2.5 around (5, 5): centre offsets (0.5, 0.5), (0.5, 1.5), (1.5, 0.5) x4
    (
        "rotated_box",
        rbox(5, 5, 2.5 * S2, 2.5 * S2, 45),
        {(i, j) for i in range(10) for j in range(10) if abs(i + 0.5 - 5) + abs(j + 0.5 - 5) <= 2.5},
    ),
    # right triangle: centres with x + y = 4 lie on the hypotenuse, a right edge, so they are out
    ("polygon", poly([[0, 0], [4, 0], [0, 4]]), {(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (2, 0)}),
    ("polygon", SQUARE_WITH_HOLE, grid(range(4), range(4)) - grid(range(1, 3), range(1, 3))),
    # circle r=2 at (5, 5): offsets (.5,.5) -> 0.5 and (.5,1.5) -> 2.5 are in, (1.5,1.5) -> 4.5 out
    ("ellipse", ell(5, 5, 2, 2, 0), grid(range(4, 6), range(3, 7)) | grid(range(3, 7), range(4, 6))),
    # rx=3 turned upright, ry=1: dx=0.5 allows |dy| <= 3 sqrt(0.75) = 2.6, so rows 2..7
    ("ellipse", ell(5, 5, 3, 1, 90), grid(range(2, 8), range(4, 6))),
    ("mask", mask_geom(block(10, 12, (2, 5), (3, 7))), grid(range(2, 5), range(3, 7))),
]


@pytest.mark.parametrize("kind, geometry, expected", RASTER_CASES)
def test_rasterize(kind, geometry, expected):
    assert pixels(rasterize(kind, geometry, 10, 12)) == expected


def test_rasterize_tiles_without_overlap():
    left = rasterize("box", box(0, 0, 2.5, 3.5), 6, 6)
    right = rasterize("box", box(2.5, 0, 3.5, 3.5), 6, 6)
    below = rasterize("box", box(0, 3.5, 6, 2.5), 6, 6)
    assert int((left & right).sum()) == int((left & below).sum()) == 0
    assert ((left | right | below) == 1).all()


def test_rasterize_polygons_like_a_point_in_polygon_test():
    """Independent check: shapely's contains at every pixel centre (random coordinates, no ties)."""
    import shapely

    rng = np.random.default_rng(1)
    jj, ii = np.meshgrid(np.arange(40) + 0.5, np.arange(30) + 0.5)
    for _ in range(40):
        n = int(rng.integers(3, 12))
        ang = np.sort(rng.uniform(0, 2 * np.pi, n))
        rad = rng.uniform(3, 18, n)
        pts = np.stack([20 + rad * np.cos(ang), 15 + rad * np.sin(ang)], axis=1)
        g = poly(pts.tolist())
        expected = shapely.contains_xy(Polygon(pts), jj, ii)
        assert (rasterize("polygon", g, 30, 40).astype(bool) == expected).all()
        e = ell(*rng.uniform(5, 30, 2), *rng.uniform(1, 12, 2), rng.uniform(-180, 180))
        dense = to_polygon("ellipse", e, segments=4096)
        got = rasterize("ellipse", e, 30, 40).astype(bool)
        assert (got != shapely.contains_xy(dense, jj, ii)).sum() <= 1  # only a sliver differs


def test_rasterize_errors():
    with pytest.raises(ValueError, match="cannot rasterize a polyline"):
        rasterize("polyline", {"points": [[0, 0], [3, 3]]}, 5, 5)
    with pytest.raises(ValueError, match="mask size 4x4 .* differs from the 5x6 asked for"):
        rasterize("mask", mask_geom(np.zeros((4, 4))), 5, 6)
    with pytest.raises(ValueError, match="positive integers"):
        rasterize("box", box(0, 0, 1, 1), 0, 5)


# -- masks <-> polygons ---------------------------------------------------------------------------


def ring_set(points) -> set[tuple[float, float]]:
    return {(float(x), float(y)) for x, y in points}


def test_polygon_to_mask_is_rasterize_encoded():
    g = poly([[1, 1], [9, 2], [5, 8]])
    r = polygon_to_mask(g, 10, 12)
    assert r["size"] == [10, 12] and isinstance(r["counts"], str)
    assert (decode(r) == rasterize("polygon", g, 10, 12)).all()
    # pycocotools fills polygons by its own (corner-biased) rule: close, not equal
    coco = mask_utils.decode(mask_utils.frPyObjects([sum(g["points"], [])], 10, 12)[0])
    inter, union = (coco & decode(r)).sum(), (coco | decode(r)).sum()
    assert inter / union > 0.6


TRACE_CASES = [
    # one pixel at row 2, col 3: its square
    ("pixel", [(2, 3)], [({(3, 2), (4, 2), (4, 3), (3, 3)}, [])]),
    # L shape: 4x2 block plus 2x3 foot; the reflex corner (3, 3) must be a vertex
    (
        "L",
        [(i, j) for i in range(1, 5) for j in range(1, 3)] + [(i, j) for i in range(3, 5) for j in range(3, 6)],
        [({(1, 1), (3, 1), (3, 3), (6, 3), (6, 5), (1, 5)}, [])],
    ),
    # pixels touching by a corner only are two polygons
    ("diagonal", [(0, 0), (1, 1)], [({(0, 0), (1, 0), (1, 1), (0, 1)}, []), ({(1, 1), (2, 1), (2, 2), (1, 2)}, [])]),
    # 3x3 ring: one polygon with a one-pixel hole
    (
        "ring",
        [(i, j) for i in range(1, 4) for j in range(1, 4) if (i, j) != (2, 2)],
        [({(1, 1), (4, 1), (4, 4), (1, 4)}, [{(2, 2), (3, 2), (3, 3), (2, 3)}])],
    ),
]


@pytest.mark.parametrize("name, on, expected", TRACE_CASES, ids=[c[0] for c in TRACE_CASES])
def test_mask_to_polygons_follows_pixel_borders(name, on, expected):
    m = np.zeros((6, 7), np.uint8)
    for i, j in on:
        m[i, j] = 1
    got = mask_to_polygons(encode(m), tolerance=0)
    got_sets = sorted(
        ((ring_set(p["points"]), sorted(map(sorted, map(ring_set, p["holes"])))) for p in got), key=lambda t: sorted(t[0])
    )
    want = sorted(((pts, sorted(map(sorted, holes))) for pts, holes in expected), key=lambda t: sorted(t[0]))
    assert got_sets == want
    assert all(len(p["points"]) == len(ring_set(p["points"])) for p in got)


def test_mask_to_polygons_island_in_a_hole_and_empty():
    m = np.zeros((9, 9), np.uint8)
    m[1:8, 1:8] = 1
    m[2:7, 2:7] = 0
    m[4, 4] = 1
    polys = mask_to_polygons(encode(m), tolerance=0)
    assert sorted(area("polygon", p) for p in polys) == [1.0, 24.0]
    assert mask_to_polygons(encode(np.zeros((4, 4))), tolerance=0) == []
    with pytest.raises(ValueError, match="tolerance must be >= 0"):
        mask_to_polygons(encode(m), tolerance=-1)


@pytest.mark.parametrize("seed", range(50))
def test_mask_to_polygons_round_trip_is_exact_at_zero_tolerance(seed):
    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(1, 40, 2))
    m = (rng.random((h, w)) < rng.uniform(0.1, 0.9)).astype(np.uint8)
    polys = mask_to_polygons(encode(m), tolerance=0)
    back = np.zeros_like(m)
    for p in polys:
        assert len(p["points"]) >= 3 and all(len(r) >= 3 for r in p["holes"])
        back |= rasterize("polygon", p, h, w)
    assert (back == m).all()
    assert sum(area("polygon", p) for p in polys) == m.sum()


def test_mask_to_polygons_simplifies_a_blob():
    yy, xx = np.mgrid[0:64, 0:64]
    blob = (((xx - 30) / 22.0) ** 2 + ((yy - 34) / 15.0) ** 2 <= 1) & ~(((xx - 36) ** 2 + (yy - 34) ** 2) <= 16)
    blob = blob.astype(np.uint8)
    rle = encode(blob)
    exact = mask_to_polygons(rle, tolerance=0)
    simple = mask_to_polygons(rle)
    assert len(simple) == 1 and len(simple[0]["holes"]) == 1
    assert len(simple[0]["points"]) < len(exact[0]["points"]) / 2
    back = rasterize("polygon", simple[0], 64, 64)
    assert (back & blob).sum() / (back | blob).sum() > 0.95


# -- IoU ------------------------------------------------------------------------------------------

IOU_CASES = [
    ("box", box(0, 0, 2, 2), "box", box(0, 0, 2, 2), 1.0),
    ("box", box(0, 0, 2, 2), "box", box(5, 5, 2, 2), 0.0),
    ("box", box(0, 0, 2, 2), "box", box(2, 0, 2, 2), 0.0),  # touching
    ("box", box(0, 0, 2, 2), "box", box(1, 0, 2, 2), 1 / 3),  # 2 / (4 + 4 - 2)
    ("box", box(0, 0, 4, 4), "box", box(1, 1, 2, 2), 0.25),
    ("box", box(0, 0, 2, 2), "polygon", poly([[1, 1], [3, 1], [3, 3], [1, 3]]), 1 / 7),
    ("box", box(0, 0, 4, 4), "polygon", SQUARE_WITH_HOLE, 0.75),
    ("box", box(4, 3, 2, 4), "rotated_box", rbox(5, 5, 4, 2, 90), 1.0),
    ("box", box(0, 0, 2, 2), "rotated_box", rbox(1, 1, 2, 2, 0), 1.0),
    # a square and its 45-degree turn: the regular octagon 8 (sqrt2 - 1) over 8 - that = 1/sqrt2
    ("rotated_box", rbox(0, 0, 2, 2, 0), "rotated_box", rbox(0, 0, 2, 2, 45), 1 / S2),
    ("rotated_box", rbox(0, 0, 2, 2, 45), "polygon", poly([[-1, -1], [1, -1], [1, 1], [-1, 1]]), 1 / S2),
    # concentric circles r and r/2: the two sampled polygons are similar, so exactly 1/4
    ("ellipse", ell(0, 0, 2, 2, 0), "ellipse", ell(0, 0, 1, 1, 0), 0.25),
    ("ellipse", ell(3, 3, 2, 1, 20), "ellipse", ell(3, 3, 2, 1, 20), 1.0),
    ("ellipse", ell(3, 3, 2, 1, 0), "ellipse", ell(3, 3, 1, 2, 90), 1.0),
]


@pytest.mark.parametrize("ka, ga, kb, gb, expected", IOU_CASES)
def test_iou(ka, ga, kb, gb, expected):
    assert iou(ka, ga, kb, gb) == approx(expected)
    assert iou(kb, gb, ka, ga) == approx(expected)


def test_iou_of_a_circle_and_its_box_is_pi_over_4():
    assert iou("ellipse", ell(5, 5, 3, 3, 0), "box", box(2, 2, 6, 6)) == pytest.approx(math.pi / 4, rel=1e-3)


MASK_A = mask_geom(block(10, 10, (0, 4), (0, 4)))
MASK_IOU_CASES = [
    ("mask", MASK_A, "mask", mask_geom(block(10, 10, (0, 4), (2, 6))), 1 / 3),  # 8 / 24
    ("mask", MASK_A, "box", box(0, 0, 4, 4), 1.0),
    ("mask", MASK_A, "box", box(0, 0, 4, 2), 0.5),
    ("mask", MASK_A, "polygon", SQUARE_WITH_HOLE, 0.75),
    ("mask", MASK_A, "rotated_box", rbox(2, 2, 4, 4, 90), 1.0),
    ("mask", MASK_A, "ellipse", ell(2, 2, 2, 2, 0), 12 / 16),  # 12 centres within r=2 (see RASTER_CASES)
    ("mask", MASK_A, "mask", mask_geom(np.zeros((10, 10))), 0.0),
    ("mask", mask_geom(np.zeros((10, 10))), "mask", mask_geom(np.zeros((10, 10))), 0.0),
]


@pytest.mark.parametrize("ka, ga, kb, gb, expected", MASK_IOU_CASES)
def test_iou_with_masks_counts_pixels(ka, ga, kb, gb, expected):
    assert iou(ka, ga, kb, gb, height=10, width=10) == approx(expected)
    assert iou(kb, gb, ka, ga, height=10, width=10) == approx(expected)


@pytest.mark.parametrize(
    "ka, ga, kb, gb, kwargs, message",
    [
        ("mask", MASK_A, "box", box(0, 0, 1, 1), {}, "pass the image size as height= and width="),
        ("box", box(0, 0, 1, 1), "mask", MASK_A, {"height": 10}, "height= and width="),
        ("mask", MASK_A, "box", box(0, 0, 1, 1), {"height": 12, "width": 10}, "mask size 10x10"),
        ("polyline", {"points": [[0, 0], [1, 1]]}, "box", box(0, 0, 1, 1), {}, "use polyline_iou|compare polylines"),
        ("box", box(0, 0, 1, 1), "skeleton", {"points": [[0, 0, 2]]}, {}, "compare keypoints with oks"),
        ("points", {"points": [[0, 0]]}, "box", box(0, 0, 1, 1), {}, "oks"),
        ("tag", {}, "box", box(0, 0, 1, 1), {}, "iou needs an area kind"),
    ],
)
def test_iou_errors(ka, ga, kb, gb, kwargs, message):
    with pytest.raises(ValueError, match=message):
        iou(ka, ga, kb, gb, **kwargs)


def random_boxes(rng, n):
    xy = rng.uniform(0, 50, (n, 2))
    wh = rng.uniform(1, 30, (n, 2))
    return np.concatenate([xy, wh], axis=1)


def test_box_iou_matches_pycocotools():
    rng = np.random.default_rng(7)
    a, b = random_boxes(rng, 40), random_boxes(rng, 30)
    ref = mask_utils.iou(a.tolist(), b.tolist(), [0] * len(b))
    got = box_iou_matrix(a, b)
    assert got.shape == (40, 30)
    assert np.allclose(got, ref, atol=1e-12)
    assert (got > 0).any()
    for i in range(0, 40, 7):
        for j in range(0, 30, 5):
            assert iou("box", box(*a[i]), "box", box(*b[j])) == approx(ref[i, j], 1e-12)
            # the shapely path agrees with the closed form
            x, y, w, h = b[j]
            same_box = rbox(x + w / 2, y + h / 2, w, h, 0)
            assert iou("box", box(*a[i]), "rotated_box", same_box) == approx(ref[i, j], 1e-9)


@pytest.mark.parametrize("seed", range(10))
def test_mask_iou_matches_pycocotools(seed):
    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(5, 60, 2))
    ma = (rng.random((h, w)) < 0.5).astype(np.uint8)
    mb = (rng.random((h, w)) < rng.uniform(0.1, 0.9)).astype(np.uint8)
    ra, rb = encode(ma), encode(mb)
    coco_a = {"size": ra["size"], "counts": ra["counts"].encode()}
    coco_b = {"size": rb["size"], "counts": rb["counts"].encode()}
    ref = mask_utils.iou([coco_a], [coco_b], [0])
    assert iou("mask", {"rle": ra}, "mask", {"rle": rb}, height=h, width=w) == approx(float(ref[0, 0]), 1e-12)


def test_box_iou_matrix_edge_cases():
    assert box_iou_matrix(np.zeros((0, 4)), random_boxes(np.random.default_rng(0), 3)).shape == (0, 3)
    # zero-area boxes give 0, not NaN
    z = box_iou_matrix([[1, 1, 0, 0]], [[1, 1, 0, 0], [0, 0, 2, 2]])
    assert z.tolist() == [[0.0, 0.0]]
    assert np.allclose(box_iou_matrix([[0, 0, 2, 2]], [[1, 0, 2, 2]]), [[1 / 3]])
    with pytest.raises(ValueError, match="N x 4 array of x, y, w, h; got shape \\(3,\\)"):
        box_iou_matrix([1, 2, 3], [[0, 0, 1, 1]])


def test_polyline_iou():
    a = {"points": [[0, 0], [10, 0]]}
    assert polyline_iou(a, a) == approx(1.0)
    assert polyline_iou(a, {"points": [[0, 10], [10, 10]]}) == 0.0
    # collinear, overlapping by 5 with round caps of radius 1: (10 + pi) / (30 + pi)
    b = {"points": [[5, 0], [15, 0]]}
    assert polyline_iou(a, b, buffer=1.0) == pytest.approx((10 + math.pi) / (30 + math.pi), abs=1e-3)
    with pytest.raises(ValueError, match="buffer must be a positive number of pixels, got 0"):
        polyline_iou(a, b, buffer=0)


# -- OKS ------------------------------------------------------------------------------------------

OKS_CASES = [
    # identical points
    ([[1, 1, 2], [5, 5, 1]], [[1, 1], [5, 5]], 10.0, [0.1, 0.1], None, 1.0),
    # one point 2 px off, sigma 0.5 (variance 1), area 1: e = 4 / 1 / 1 / 2 = 2
    ([[0, 0, 2]], [[2, 0]], 1.0, [0.5], None, math.exp(-2)),
    # the same with sigma 0.25 (variance 0.25): e = 8, and an unlabelled point that does not count
    ([[0, 0, 2], [9, 9, 0]], [[0, 2], [100, 100]], 1.0, [0.25, 0.25], None, math.exp(-8)),
    # two visible points, one exact, one 1 px off with variance 1 and area 2: (1 + e^-0.25) / 2
    ([[0, 0, 1], [3, 3, 2]], [[0, 0, 1], [4, 3, 1]], 2.0, [0.5, 0.5], None, (1 + math.exp(-0.25)) / 2),
    # no visible point: without a box 0, with one COCO's distance outside the box doubled
    ([[0, 0, 0]], [[3, 3]], 1.0, [0.5], None, 0.0),
    ([[0, 0, 0]], [[3, 3]], 1.0, [0.5], (0, 0, 2, 2), 1.0),  # inside [-2, 4] x [-2, 4]
    ([[0, 0, 0]], [[6, 4]], 1.0, [0.5], (0, 0, 2, 2), math.exp(-2)),  # 2 px right of x=4
]


@pytest.mark.parametrize("gt, dt, area_, sigmas, bbox_, expected", OKS_CASES)
def test_oks(gt, dt, area_, sigmas, bbox_, expected):
    assert oks(gt, dt, area_, sigmas, bbox=bbox_) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    "gt, dt, sigmas, message",
    [
        ([[0, 0]], [[0, 0]], [0.1], "gt_points must be \\[x, y, v\\] triples"),
        ([[0, 0, 2]], [[0]], [0.1], "dt_points must be \\[x, y\\] or \\[x, y, v\\]"),
        ([[0, 0, 2]], [[0, 0]], [0.1, 0.1], "1 ground-truth points, 1 detected points and 2 sigmas differ"),
    ],
)
def test_oks_errors(gt, dt, sigmas, message):
    with pytest.raises(ValueError, match=message):
        oks(gt, dt, 1.0, sigmas)


def test_oks_matches_pycocotools_cocoeval(capsys):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    rng = np.random.default_rng(3)
    k = len(COCO_PERSON_SIGMAS)
    gts, dts = [], []
    for gid in range(1, 4):
        pts = rng.uniform(20, 180, (k, 2))
        vis = rng.integers(0, 3, k)
        if gid == 3:
            vis[:] = 0  # no visible keypoint: COCO falls back on the box
        kps = np.concatenate([pts, vis[:, None]], axis=1)
        kps[vis == 0, :2] = 0
        gts.append(
            {
                "id": gid, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": float(rng.uniform(500, 5000)),
                "bbox": [float(v) for v in (*rng.uniform(20, 100, 2), *rng.uniform(20, 60, 2))],
                "keypoints": kps.ravel().tolist(), "num_keypoints": int((vis > 0).sum()),
            }
        )  # fmt: skip
    for did in range(1, 5):
        pts = rng.uniform(20, 180, (k, 2))
        if did <= 2:  # two detections near ground truths 1 and 2
            pts = np.asarray(gts[did - 1]["keypoints"]).reshape(k, 3)[:, :2] + rng.normal(0, 3, (k, 2))
        kps = np.concatenate([pts, np.ones((k, 1))], axis=1).ravel().tolist()
        dts.append({"image_id": 1, "category_id": 1, "score": 1.0 - did / 10, "keypoints": kps})
    coco = COCO()
    coco.dataset = {
        "images": [{"id": 1, "width": 200, "height": 200}],
        "annotations": gts,
        "categories": [{"id": 1, "name": "person"}],
    }
    coco.createIndex()
    res = coco.loadRes(dts)
    ev = COCOeval(coco, res, "keypoints")
    ev.params.imgIds = [1]
    ev._prepare()
    ref = ev.computeOks(1, 1)  # detections (by score) x ground truths
    capsys.readouterr()
    assert ref.shape == (4, 3)
    for i, d in enumerate(dts):
        for j, g in enumerate(gts):
            gp = np.asarray(g["keypoints"]).reshape(k, 3)
            dp = np.asarray(d["keypoints"]).reshape(k, 3)
            got = oks(gp.tolist(), dp.tolist(), g["area"], COCO_PERSON_SIGMAS, bbox=g["bbox"])
            assert got == pytest.approx(ref[i, j], rel=1e-12, abs=1e-15)
    assert ref[0, 0] > 0.5 and ref[1, 1] > 0.5


# -- clip and is_inside ---------------------------------------------------------------------------

CLIP_CASES = [
    ("tag", {}, {}),
    ("box", box(1, 1, 3, 3), box(1, 1, 3, 3)),
    ("box", box(-2, 8, 5, 5), box(0, 8, 3, 2)),
    ("box", box(10, 0, 3, 3), None),  # touches the right border only
    ("polygon", poly([[1, 1], [3, 1], [2, 3]]), poly([[1, 1], [3, 1], [2, 3]])),
    ("polygon", poly([[-5, -5], [5, -5], [5, 5], [-5, 5]]), {"area": 25.0, "ring": {(0, 0), (5, 0), (5, 5), (0, 5)}}),
    ("polygon", poly([[11, 0], [20, 0], [20, 5]]), None),
    # a U whose bottom lies outside: two legs remain, the wider one is kept
    (
        "polygon",
        poly([[1, 5], [2, 5], [2, 11], [5, 11], [5, 5], [8, 5], [8, 14], [1, 14]]),
        {"area": 15.0, "ring": {(5, 5), (8, 5), (8, 10), (5, 10)}},
    ),
    ("polyline", {"points": [[-5, 5], [5, 5], [5, 15], [5, 5], [8, 5]]}, {"points": [[0, 5], [5, 5], [5, 10]]}),
    ("polyline", {"points": [[1, 1], [4, 4]]}, {"points": [[1, 1], [4, 4]]}),
    ("polyline", {"points": [[-1, -1], [-4, 4]]}, None),
    ("points", {"points": [[1, 1], [11, 1], [10, 10]]}, {"points": [[1, 1], [10, 10]]}),
    ("points", {"points": [[-1, 1]]}, None),
    ("skeleton", {"points": [[1, 1, 2], [11, 1, 2], [3, 3, 0]]}, {"points": [[1, 1, 2], [0.0, 0.0, 0], [3, 3, 0]]}),
    ("skeleton", {"points": [[-1, 1, 2], [3, 3, 0]]}, None),
    ("rotated_box", rbox(9, 9, 4, 4, 30), rbox(9, 9, 4, 4, 30)),  # overlaps: kept as is
    ("rotated_box", rbox(20, 20, 4, 4, 30), None),
    ("ellipse", ell(0, 0, 3, 2, 10), ell(0, 0, 3, 2, 10)),
    ("ellipse", ell(-5, 5, 3, 2, 0), None),
    ("mask", mask_geom(block(10, 10, (0, 2), (0, 2))), mask_geom(block(10, 10, (0, 2), (0, 2)))),
    ("mask", mask_geom(np.zeros((10, 10))), None),
]


@pytest.mark.parametrize("kind, geometry, expected", CLIP_CASES)
def test_clip(kind, geometry, expected):
    before = repr(geometry)
    got = clip(kind, geometry, 10, 10)
    assert repr(geometry) == before  # the input is not touched
    if isinstance(expected, dict) and "ring" in expected:
        assert area("polygon", got) == approx(expected["area"])
        assert ring_set(got["points"]) == expected["ring"]
    else:
        assert got == expected


def test_clip_mask_of_another_size():
    with pytest.raises(ValueError, match="mask size 4x5 .* differs from the image's 10x10"):
        clip("mask", mask_geom(np.ones((4, 5))), 10, 10)


INSIDE_CASES = [
    ("tag", {}, True),
    ("box", box(0, 0, 10, 8), True),
    ("box", box(0.5, 0, 10, 8), False),
    ("box", box(-0.1, 0, 1, 1), False),
    ("rotated_box", rbox(5, 4, 8, 2, 90), True),  # 2 wide, 8 tall
    ("rotated_box", rbox(5, 4, 8, 2, 0), True),
    ("rotated_box", rbox(5, 4, 8, 8, 45), False),  # half diagonal 5.66 > 4
    ("ellipse", ell(5, 4, 5, 4, 0), True),
    ("ellipse", ell(5, 4, 5, 4, 90), False),
    ("polygon", poly([[0, 0], [10, 0], [10, 8]]), True),
    ("polygon", poly([[0, 0], [10.5, 0], [10, 8]]), False),
    ("polyline", {"points": [[0, 0], [10, 9]]}, False),
    ("points", {"points": [[10, 8]]}, True),
    ("skeleton", {"points": [[1, 1, 2], [50, 50, 0]]}, True),
    ("skeleton", {"points": [[1, 1, 2], [50, 50, 1]]}, False),
    ("mask", mask_geom(np.zeros((8, 10))), True),
    ("mask", mask_geom(np.zeros((10, 8))), False),
]


@pytest.mark.parametrize("kind, geometry, expected", INSIDE_CASES)
def test_is_inside(kind, geometry, expected):
    assert is_inside(kind, geometry, 10, 8) is expected


# -- transforms -----------------------------------------------------------------------------------

TRANSFORM_CASES = [
    ("tag", {}, (2, 3), (1, 1), {}),
    ("box", box(1, 2, 3, 4), (2, 3), (1, 1), box(3, 7, 6, 12)),
    ("box", box(1, 2, 3, 4), (-1, 1), (10, 0), box(6, 2, 3, 4)),  # mirrored, size stays positive
    ("box", box(1, 2, 3, 4), 0.5, (0, 0), box(0.5, 1, 1.5, 2)),
    ("polygon", SQUARE_WITH_HOLE, (2, 1), (1, 0), poly([[1, 0], [9, 0], [9, 4], [1, 4]], [[[3, 1], [7, 1], [7, 3], [3, 3]]])),
    ("polyline", {"points": [[1, 1], [2, 3]]}, (2, 2), (0, 1), {"points": [[2, 3], [4, 7]]}),
    ("points", {"points": [[1, 1]]}, (3, 1), (0, 0), {"points": [[3, 1]]}),
    ("skeleton", {"points": [[1, 1, 2], [0, 0, 0]]}, (2, 2), (5, 5), {"points": [[7, 7, 2], [0, 0, 0]]}),
    ("rotated_box", rbox(1, 1, 4, 2, 30), (2, 2), (1, 0), rbox(3, 2, 8, 4, 30)),  # uniform: angle kept
    ("rotated_box", rbox(1, 1, 4, 2, 90), (2, 3), (0, 0), rbox(2, 3, 12, 4, 90)),  # w runs along y
    ("rotated_box", rbox(0, 0, 4, 2, 0), (2, 3), (0, 0), rbox(0, 0, 8, 6, 0)),
    ("rotated_box", rbox(0, 0, 4, 2, 30), (-1, 1), (0, 0), rbox(0, 0, 4, 2, -30)),
    # parallelogram case, by hand: the w side (2, 2)/sqrt2*... maps to (2 sqrt2, sqrt2): w' = sqrt 10,
    # angle atan(1/2); the h side to (-2 sqrt2, sqrt2); cross product 8 so h' = 8 / sqrt 10 (area 8)
    ("rotated_box", rbox(0, 0, 2, 2, 45), (2, 1), (0, 0), rbox(0, 0, math.sqrt(10), 8 / math.sqrt(10), math.degrees(math.atan(0.5)))),
    ("ellipse", ell(1, 1, 5, 2, 30), (3, 3), (0, 1), ell(3, 4, 15, 6, 30)),
    ("ellipse", ell(0, 0, 5, 2, 0), (1, 3), (0, 0), ell(0, 0, 5, 6, 0)),  # rx stays along x
    ("ellipse", ell(0, 0, 5, 2, 30), (-1, 1), (0, 0), ell(0, 0, 5, 2, -30)),
    ("ellipse", ell(0, 0, 1, 1, 30), (2, 1), (0, 0), ell(0, 0, 2, 1, 0)),  # a circle stretched along x
]


@pytest.mark.parametrize("kind, geometry, scale, offset, expected", TRANSFORM_CASES)
def test_transform(kind, geometry, scale, offset, expected):
    got = transform(kind, geometry, scale=scale, offset=offset)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        if key == "points" or key == "holes":
            assert np.allclose(np.asarray(got[key], float), np.asarray(value, float))
        else:
            assert got[key] == approx(value), key


@pytest.mark.parametrize("seed", range(20))
def test_transform_ellipse_is_exact(seed):
    """Points of the original ellipse, mapped, lie on the transformed ellipse."""
    rng = np.random.default_rng(seed)
    e = ell(*rng.uniform(-20, 20, 2), *rng.uniform(1, 10, 2), rng.uniform(-180, 180))
    sx, sy = rng.uniform(0.2, 3, 2) * rng.choice([-1, 1], 2)
    dx, dy = rng.uniform(-10, 10, 2)
    t = transform("ellipse", e, scale=(sx, sy), offset=(dx, dy))
    pts = np.asarray(R.ellipse_points(e, 50)) * [sx, sy] + [dx, dy]
    a = math.radians(t["angle"])
    px, py = pts[:, 0] - t["cx"], pts[:, 1] - t["cy"]
    u = (px * math.cos(a) + py * math.sin(a)) / t["rx"]
    v = (-px * math.sin(a) + py * math.cos(a)) / t["ry"]
    assert np.allclose(u * u + v * v, 1.0)
    assert -90 < t["angle"] <= 90


def test_transform_errors():
    with pytest.raises(ValueError, match="transform does not apply to a mask"):
        transform("mask", MASK_A, scale=2)
    with pytest.raises(ValueError, match="non-zero scales"):
        transform("box", box(0, 0, 1, 1), scale=(0, 1))


FLIP_CASES = [
    ("tag", {}, {}),
    ("box", box(1, 2, 3, 4), box(6, 2, 3, 4)),
    ("rotated_box", rbox(2, 5, 4, 2, 30), rbox(8, 5, 4, 2, -30)),
    ("rotated_box", rbox(2, 5, 4, 2, 0), rbox(8, 5, 4, 2, 0)),
    ("ellipse", ell(2, 5, 4, 2, -60), ell(8, 5, 4, 2, 60)),
    ("polygon", poly([[0, 0], [4, 0], [0, 4]]), poly([[10, 0], [6, 0], [10, 4]])),
    ("polyline", {"points": [[1, 1], [2, 2]]}, {"points": [[9, 1], [8, 2]]}),
    ("points", {"points": [[1, 1]]}, {"points": [[9, 1]]}),
    ("skeleton", {"points": [[1, 1, 2], [0, 0, 0]]}, {"points": [[9, 1, 2], [0, 0, 0]]}),
]


@pytest.mark.parametrize("kind, geometry, expected", FLIP_CASES)
def test_flip_horizontal(kind, geometry, expected):
    got = flip_horizontal(kind, geometry, 10)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert np.allclose(np.asarray(got[key], float), np.asarray(value, float)), key


@pytest.mark.parametrize("kind, geometry, expected", FLIP_CASES)
def test_flip_twice_is_identity(kind, geometry, expected):
    back = flip_horizontal(kind, flip_horizontal(kind, geometry, 10), 10)
    for key, value in geometry.items():
        assert np.allclose(np.asarray(back[key], float), np.asarray(value, float)), key


def test_flip_skeleton_swaps_pairs_and_masks_flip_pixels():
    sk = {"points": [[1, 1, 2], [3, 1, 2], [5, 5, 1]]}
    assert flip_horizontal("skeleton", sk, 10, pairs=[(0, 1)])["points"] == [[7.0, 1.0, 2], [9.0, 1.0, 2], [5.0, 5.0, 1]]
    m = block(4, 6, (1, 3), (0, 2))
    got = decode(flip_horizontal("mask", mask_geom(m), 6)["rle"])
    assert (got == m[:, ::-1]).all()
    with pytest.raises(ValueError, match="mask is 6 pixels wide, not 10"):
        flip_horizontal("mask", mask_geom(m), 10)


def test_flip_agrees_with_flipping_pixels():
    rng = np.random.default_rng(5)
    for _ in range(20):
        shapes = [
            ("box", box(*rng.uniform(0, 20, 2), *rng.uniform(1, 15, 2))),
            ("rotated_box", rbox(*rng.uniform(5, 25, 2), *rng.uniform(2, 15, 2), rng.uniform(-180, 180))),
            ("ellipse", ell(*rng.uniform(5, 25, 2), *rng.uniform(2, 10, 2), rng.uniform(-180, 180))),
        ]
        for kind, g in shapes:
            m = rasterize(kind, g, 30, 31)
            assert (rasterize(kind, flip_horizontal(kind, g, 31), 30, 31) == m[:, ::-1]).all()
