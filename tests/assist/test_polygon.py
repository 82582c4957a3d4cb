"""Mask to simplified polygons, holes kept."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import Polygon

from limner.assist.polygon import mask_bbox, mask_to_polygons
from limner.core.raster import rasterize


def _raster(polys, h, w):
    out = np.zeros((h, w), bool)
    for g in polys:
        out |= rasterize("polygon", g, h, w).astype(bool)
    return out


def test_square_with_hole_and_a_separate_part_exact_at_tolerance_zero():
    m = np.zeros((50, 60), bool)
    m[10:40, 5:50] = True
    m[20:30, 20:30] = False
    m[44:46, 54:57] = True
    polys = mask_to_polygons(m, 0)
    assert len(polys) == 2
    big, small = polys  # largest first
    assert sorted(map(tuple, big["points"])) == [(5.0, 10.0), (5.0, 40.0), (50.0, 10.0), (50.0, 40.0)]
    assert len(big["holes"]) == 1
    hole = Polygon(big["holes"][0])
    assert hole.bounds == (20.0, 20.0, 30.0, 30.0)
    assert Polygon(big["points"], big["holes"]).area == pytest.approx(45 * 30 - hole.area)
    assert small == {"points": [[54.0, 44.0], [54.0, 46.0], [57.0, 46.0], [57.0, 44.0]], "holes": []}
    assert (_raster(polys, 50, 60) == m).all()


def test_simplification_stays_within_tolerance_and_keeps_the_hole():
    h, w = 300, 400
    yy, xx = np.mgrid[:h, :w]
    ring = ((xx - 200) ** 2 + (yy - 150) ** 2 <= 120**2) & ((xx - 200) ** 2 + (yy - 150) ** 2 > 50**2)
    exact = mask_to_polygons(ring, 0)
    for tol in (0.5, 1.0, 3.0):
        polys = mask_to_polygons(ring, tol)
        assert len(polys) == 1 and len(polys[0]["holes"]) == 1
        assert len(polys[0]["points"]) < len(exact[0]["points"]) / (3 if tol < 1 else 8)
        a = Polygon(polys[0]["points"], polys[0]["holes"])
        b = Polygon(exact[0]["points"], exact[0]["holes"])
        assert a.is_valid
        assert a.exterior.hausdorff_distance(b.exterior) <= tol + 1e-9
        assert a.interiors[0].hausdorff_distance(b.interiors[0]) <= tol + 1e-9
    iou = (_raster(mask_to_polygons(ring, 1.0), h, w) & ring).sum() / (_raster(mask_to_polygons(ring, 1.0), h, w) | ring).sum()
    assert iou > 0.98


def test_min_area_drops_specks_and_pinholes():
    m = np.zeros((40, 40), bool)
    m[5:35, 5:35] = True
    m[10, 10] = False  # a one-pixel hole
    m[38, 38] = True  # a one-pixel speck
    assert len(mask_to_polygons(m, 0)) == 2
    kept = mask_to_polygons(m, 1.0, min_area=1.0)
    assert len(kept) == 1 and kept[0]["holes"] == []


def test_corner_touching_pixels_are_one_part_and_edge_cases():
    m = np.zeros((4, 4), bool)
    m[0, 0] = m[1, 1] = True
    assert len(mask_to_polygons(m, 0)) == 1
    full = np.ones((3, 5), bool)
    assert mask_to_polygons(full, 0)[0]["points"] == [[0.0, 0.0], [0.0, 3.0], [5.0, 3.0], [5.0, 0.0]]
    assert mask_to_polygons(np.zeros((3, 3), bool)) == []
    assert mask_bbox(np.zeros((3, 3), bool)) is None
    assert mask_bbox(m) == (0, 0, 2, 2)
    with pytest.raises(ValueError, match="tolerance must be >= 0"):
        mask_to_polygons(m, -1)
    with pytest.raises(ValueError, match=r"must be \(height, width\)"):
        mask_to_polygons(np.zeros((2, 2, 2), bool))
