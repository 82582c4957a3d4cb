import copy
import json
import pickle

import numpy as np
import orjson
import pytest
import shapely

from limner.core.points import Points, as_array, json_default, ring_bounds, ring_coords, star_simple


def pts(*xy):
    return Points(np.array(xy, np.float64).reshape(-1, 2))


def test_points_read_as_a_list_of_pairs():
    p = pts(1, 2, 3.5, 4, 5, 6)
    assert len(p) == 3 and p[0] == [1.0, 2.0] and p[-1] == [5.0, 6.0] and p[1:] == [[3.5, 4.0], [5.0, 6.0]]
    assert list(p) == [[1.0, 2.0], [3.5, 4.0], [5.0, 6.0]] and p.tolist() == list(p)
    assert p == [[1, 2], [3.5, 4], [5, 6]] and p != [[1, 2]] and p == pts(1, 2, 3.5, 4, 5, 6) and p != pts(1, 2)
    assert p != (1, 2) and bool(p) and not Points(np.zeros((0, 2)))
    assert {"points": p, "holes": []} == {"points": [[1.0, 2.0], [3.5, 4.0], [5.0, 6.0]], "holes": []}
    assert p + [[7.0, 8.0]] == [[1.0, 2.0], [3.5, 4.0], [5.0, 6.0], [7.0, 8.0]] and [[0.0, 0.0]] + p == [[0.0, 0.0], *p]
    assert repr(p) == "[[1.0, 2.0], [3.5, 4.0], [5.0, 6.0]]" and [x for x, _ in p] == [1.0, 3.5, 5.0]
    assert np.asarray(p) is p.array and as_array(p) is p.array and np.asarray(p, np.float32).dtype == np.float32
    assert copy.deepcopy(p) == p and pickle.loads(pickle.dumps(p)) == p
    with pytest.raises(TypeError):
        hash(p)
    with pytest.raises(TypeError):
        p[0] = [0, 0]  # read-only: a change makes a new geometry


def test_points_serialise_as_lists_and_make_shapely_geometries():
    p = pts(0, 0, 4, 0, 4, 3)
    assert orjson.loads(orjson.dumps({"points": p}, default=json_default)) == {"points": [[0.0, 0.0], [4.0, 0.0], [4.0, 3.0]]}
    assert json.loads(json.dumps(p, default=json_default)) == [[0.0, 0.0], [4.0, 0.0], [4.0, 3.0]]
    with pytest.raises(TypeError, match="not JSON serializable: object"):
        json_default(object())
    assert shapely.Polygon(p).area == 6.0


def test_ring_coords_and_bounds_mix_points_and_lists():
    rings = [pts(1, 2, 5, -1, 3, 7), [[0.0, 0.0], [2, 2], [1, 3]], pts()]
    coords, offsets = ring_coords(rings)
    assert coords.shape == (6, 2) and offsets.tolist() == [0, 3, 6, 6]
    b = ring_bounds(coords, offsets)
    assert b[:2].tolist() == [[1.0, -1.0, 5.0, 7.0], [0.0, 0.0, 2.0, 3.0]] and np.isnan(b[2]).all()
    assert ring_bounds(np.zeros((0, 2)), np.zeros(1, np.int64)).shape == (0, 4)


def test_ring_coords_joins_spans_of_one_array_as_its_slices():
    base = np.arange(20, dtype=np.float64).reshape(10, 2)
    other = np.arange(100, 108, dtype=np.float64).reshape(4, 2)
    cut = [Points(base[a:b], None, (base, a, b)) for a, b in ((0, 3), (3, 7), (7, 10))]
    coords, offsets = ring_coords(cut)
    assert offsets.tolist() == [0, 3, 7, 10] and coords.tolist() == base.tolist()
    assert np.shares_memory(coords, base)  # no copy: one slice of the reader's array
    # a gap, a second base, and a ring without a span: the same figures as joining each ring
    mixed = [cut[0], cut[2], Points(other[1:4], None, (other, 1, 4)), cut[1]]
    coords, offsets = ring_coords(mixed)
    assert offsets.tolist() == [0, 3, 6, 9, 13]
    assert coords.tolist() == np.concatenate([base[0:3], base[7:10], other[1:4], base[3:7]]).tolist()
    plain = [cut[0], Points(base[3:7].copy()), [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]]
    coords, offsets = ring_coords(plain)
    assert offsets.tolist() == [0, 3, 7, 10] and coords[7:].tolist() == [[0, 1], [2, 3], [4, 5]]


def _random_rings(rng, n):
    out = []
    for k in range(n):
        m = int(rng.integers(3, 30))
        kind = k % 6
        if kind == 0:  # vertices in random order: mostly self-intersecting
            r = rng.uniform(0, 100, (m, 2))
        elif kind in (1, 2):  # star around a centre, sorted angles: simple
            a = np.sort(rng.uniform(0, 2 * np.pi, m))
            rad = rng.uniform(1, 50, m) if kind == 1 else rng.uniform(40, 50, m)
            r = np.stack([50 + rad * np.cos(a), 50 + rad * np.sin(a)], 1)
            if k % 12 == 1:
                r = r[::-1]  # clockwise
        elif kind == 3:  # a star walked twice round: self-intersecting, winding 2
            a = np.linspace(0, 4 * np.pi, m, endpoint=False) + 0.1
            r = np.stack([50 + 30 * np.cos(a), 50 + 30 * np.sin(a)], 1)
        elif kind == 4:  # a ring with a repeated vertex, a closing vertex or collinear points
            a = np.linspace(0, 2 * np.pi, m, endpoint=False)
            r = np.stack([50 + 30 * np.cos(a), 50 + 30 * np.sin(a)], 1)
            j = int(rng.integers(0, 3))
            r = np.concatenate([r, r[:1]]) if j == 0 else np.insert(r, 1, r[1], 0) if j == 1 else np.array(
                [[0, 0], [10, 0], [20, 0], [20, 10], [0, 10.0]])
        else:  # an L, a spiral or a bow tie: simple but not star-shaped, or not simple
            j = int(rng.integers(0, 3))
            r = np.array([[0, 0], [10, 0], [10, 1], [1, 1], [1, 10], [0, 10.0]]) if j == 0 else np.array(
                [[0, 0], [10, 10], [10, 0], [0, 10.0]]) if j == 1 else np.array(
                [[0, 0], [10, 0], [10, 10], [2, 10], [2, 3], [7, 3], [7, 7], [5, 7], [5, 5], [4, 5], [4, 8], [9, 8],
                 [9, 1], [1, 1], [1, 11], [0, 11.0]])  # fmt: skip
        out.append(r.round(int(rng.integers(0, 4))))
    return out


def test_star_simple_proves_only_rings_shapely_finds_valid():
    rng = np.random.default_rng(7)
    rings = _random_rings(rng, 3000)
    rings += [np.array([[0, 0], [1, 0]]), np.array([[0, 0], [np.nan, 1], [1, 1]]), np.array([[0, 0], [1, 0], [np.inf, 1]])]
    coords, offsets = ring_coords(rings)
    proven = star_simple(coords, offsets)
    lens = np.diff(offsets)
    with np.errstate(invalid="ignore"):
        geoms = np.array([shapely.Polygon(r) if len(r) >= 3 else None for r in rings], object)
        valid = shapely.is_valid(geoms) & (np.nan_to_num(shapely.area(geoms)) > 0)
    assert not (proven & ~valid).any()
    assert proven.sum() > 500 and valid.sum() > proven.sum()  # stars are proven, the rest goes to shapely
    assert not proven[-3:].any() and not proven[lens < 3].any()
    # chunked passes give the same answer as one
    assert (star_simple(coords[: offsets[100]], offsets[:101]) == proven[:100]).all()


def test_star_simple_of_nothing():
    assert star_simple(np.zeros((0, 2)), np.zeros(1, np.int64)).shape == (0,)
    assert star_simple(np.zeros((2, 2)), np.array([0, 2])).tolist() == [False]


def test_hold_points_makes_arrays_of_stored_lists_cut_from_one_array():
    from limner.core.points import hold_points

    gs = [{"points": [[1.0, 2.0], [3, 4], [5.5, 6.0]], "holes": []}, {"points": [[7.0, 8.0], [9.0, 10.0]]}, {"points": [[0.0, 0.0]]}]
    hold_points(gs)
    assert [type(g["points"]) for g in gs] == [Points, Points, Points]
    assert gs[0] == {"points": [[1.0, 2.0], [3.0, 4.0], [5.5, 6.0]], "holes": []} and gs[2]["points"] == [[0.0, 0.0]]
    # one array under all: joined again without a copy
    coords, offsets = ring_coords([g["points"] for g in gs])
    assert np.shares_memory(coords, gs[0]["points"].array) and offsets.tolist() == [0, 3, 5, 6]
    assert coords.tolist() == [[1.0, 2.0], [3.0, 4.0], [5.5, 6.0], [7.0, 8.0], [9.0, 10.0], [0.0, 0.0]]


def test_hold_points_leaves_what_is_not_pairs_of_numbers_as_it_was():
    from limner.core.points import hold_points

    good = {"points": [[1.0, 2.0], [3.0, 4.0]]}
    triples = {"points": [[1, 2, 3], [4, 5, 6]]}
    mixed = {"points": [[1.0, 2.0, 3.0], [4.0]]}  # four numbers, but not two pairs
    words = {"points": [["a", "b"]]}
    none = {"rle": {"size": [2, 2], "counts": "04"}}
    gs = [good, triples, mixed, words, none]
    hold_points(gs)
    assert type(good["points"]) is Points and good["points"] == [[1.0, 2.0], [3.0, 4.0]]
    assert triples == {"points": [[1, 2, 3], [4, 5, 6]]} and mixed == {"points": [[1.0, 2.0, 3.0], [4.0]]}
    assert words == {"points": [["a", "b"]]} and none == {"rle": {"size": [2, 2], "counts": "04"}}
