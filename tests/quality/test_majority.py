"""Tests for limner.quality.majority: the exact majority area of polygon groups, in bulk.

Every result the module settles is checked against shapely's overlay (the union of the pairwise
intersections, or the faces of the members' overlay covered by a majority).
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon

from limner.quality.majority import majority_shells


def run(*groups):
    rings = [np.asarray(p, float) for g in groups for p in g]
    return majority_shells(np.concatenate(rings), [len(r) for r in rings], [len(g) for g in groups])


def overlay_majority(group) -> shapely.Geometry:
    polys = np.array([Polygon(p) for p in group])
    faces = shapely.get_parts(shapely.polygonize([shapely.union_all(shapely.boundary(polys))]))
    votes = shapely.covers(polys[:, None], shapely.point_on_surface(faces)[None, :]).sum(axis=0)
    return shapely.union_all(faces[votes * 2 > len(group)])


def test_two_squares_give_their_intersection_clockwise():
    # [0,10]^2 and [5,15] x [-1,11]: the edges cross at (5, 0) and (5, 10); no edge runs along another
    (shell,), ok = run([[(0, 0), (10, 0), (10, 10), (0, 10)], [(5, -1), (15, -1), (15, 11), (5, 11)]])
    assert ok.tolist() == [True]
    assert {tuple(p) for p in shell.tolist()} == {(5, 0), (10, 0), (10, 10), (5, 10)}
    assert not Polygon(shell).exterior.is_ccw and Polygon(shell).area == 50


def test_nested_members_and_empty_majorities():
    # A inside B inside C: a point in B is covered by B and C -> B. Three disjoint triangles: empty.
    a = [(4, 4), (6, 4), (6, 6), (4, 6)]
    b = [(2, 2), (8, 2), (8, 8), (2, 8)]
    c = [(0, 0), (10, 0), (10, 10), (0, 10)]
    tri = [[(0, 0), (1, 0), (0, 1)], [(5, 5), (6, 5), (5, 6)], [(9, 9), (10, 9), (9, 10)]]
    (nested, empty), ok = run([a, c, b], tri)
    assert ok.tolist() == [True, True]
    assert {tuple(p) for p in nested.tolist()} == set(b)
    assert empty is None


@pytest.mark.parametrize(
    "group",
    [
        [[(0, 0), (10, 0), (10, 10), (0, 10)]] * 2,  # the same square twice: every edge runs along another
        # a shared vertex
        [[(0, 0), (10, 0), (10, 10), (0, 10)], [(10, 10), (20, 10), (20, 20), (12, 20)], [(1, 1), (9, 1), (5, 9)]],
        [[(0, 0), (10, 0), (10, 10), (0, 10)], [(5, 0), (15, 5), (5, 8)]],  # a vertex on the other's edge
        [[(0, 0), (10, 0), (10, 10), (0, 10)], [(1, 1), (2, 1)]],  # not a polygon
    ],
)
def test_touching_boundaries_are_left_to_the_caller(group):
    (shell,), ok = run(group)
    assert ok.tolist() == [False] and shell is None


def test_groups_of_noisy_polygons_agree_with_the_overlay():
    # 2 to 5 members, jittered 5- to 24-gons (stars, so non-convex), on a 0.1 grid like drawn data
    rng = np.random.default_rng(7)
    groups = []
    while len(groups) < 300:
        v = int(rng.integers(5, 25))
        ang = np.sort(rng.uniform(0, 2 * np.pi, v))
        r = rng.uniform(20, 60, v)
        base = np.stack([300 + r * np.cos(ang), 200 + r * np.sin(ang)], axis=1)
        group = [(base + rng.normal(0, 2.0, base.shape)).round(1) for _ in range(int(rng.integers(2, 6)))]
        if all(Polygon(p).is_valid for p in group):
            groups.append(group)
    shells, ok = run(*groups)
    assert ok.mean() > 0.8  # touching boundaries are rare in such data
    for group, shell, k in zip(groups, shells, ok):
        if not k:
            continue
        want = overlay_majority(group)
        if shell is None:
            assert want.area < 1e-9
            continue
        got = Polygon(shell)
        assert got.is_valid and not got.exterior.is_ccw
        assert got.symmetric_difference(want).area <= 1e-9 * want.area


def test_a_vertex_within_rounding_of_an_edge_is_decided_exactly():
    # (242.5, 292.4), b's vertex, lies on a's edge (239.3, 282) - (243.3, 295) in decimals but not
    # in binary: exact predicates decide on which side, and the two crossings of b's edges with
    # that edge, 1e-15 apart, are ordered exactly.
    a = [(239.3, 282.0), (243.3, 295.0), (230.0, 300.0)]
    b = [(241.9, 282.4), (242.5, 292.4), (242.1, 303.2), (236.0, 290.0)]
    (shell,), ok = run([a, b])
    want = overlay_majority([a, b])
    assert ok.tolist() == [True]
    assert Polygon(shell).is_valid and Polygon(shell).symmetric_difference(want).area <= 1e-9 * want.area
    assert min(np.hypot(*(shell - (242.5, 292.4)).T)) < 1e-9


def test_bad_groups_are_refused():
    with pytest.raises(ValueError, match="at least 2 polygons"):
        run([[(0, 0), (1, 0), (0, 1)]])
