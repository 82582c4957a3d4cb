"""Tests for limner.quality.consensus: clusters, quorum, label votes and the merged geometry.

Expected values are worked out by hand in the comments.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon

from limner.core import rle
from limner.core.shapes import Shape, validate_shape
from limner.quality.consensus import consensus, consensus_many, votes_needed


def box(x, y, w, h, label="car", **kw) -> Shape:
    return Shape("box", label, {"x": x, "y": y, "w": w, "h": h}, **kw)


def square(x0, y0, x1, y1, label="road") -> Shape:
    return Shape("polygon", label, {"points": [[x0, y0], [x1, y0], [x1, y1], [x0, y1]], "holes": []})


def mask(arr, label="road") -> Shape:
    return Shape("mask", label, {"rle": rle.encode(np.asarray(arr, np.uint8))})


# -- clusters and quorum ---------------------------------------------------------------------------


def test_three_boxes_merge_by_mean_of_corners_and_majority_label():
    # a-b: inter 8x10 = 80, union 120 -> 0.667; a-c and b-c: inter 9x9 = 81, union 119 -> 0.681:
    # one cluster of 3. Corners: x0 (0+2+1)/3 = 1, y0 (0+0+1)/3 = 1/3, x1 (10+12+11)/3 = 11,
    # y1 (10+10+11)/3 = 31/3. Labels car, car, bus -> car. c's far box stands alone: 1 < 2 needed.
    out, rep = consensus([
        ("a", [box(0, 0, 10, 10)]),
        ("b", [box(2, 0, 10, 10)]),
        ("c", [box(1, 1, 10, 10, label="bus"), box(100, 100, 5, 5)]),
    ])
    assert len(out) == 1
    s = out[0]
    assert (s.kind, s.label, s.source, s.confidence) == ("box", "car", "consensus", 1.0)
    assert s.geometry == pytest.approx({"x": 1.0, "y": 1 / 3, "w": 10.0, "h": 10.0})
    assert (rep.needed, rep.kept, rep.dropped, len(rep.clusters), rep.ties) == (2, 1, 1, 2, [])
    kept = rep.clusters[0]
    assert kept.members == [("a", 0), ("b", 0), ("c", 0)]
    assert kept.votes == {"car": 2, "bus": 1} and kept.shape == 0
    assert kept.similarity == pytest.approx(80 / 120)
    dropped = rep.clusters[1]
    assert dropped.members == [("c", 1)] and dropped.status == "below_quorum" and dropped.shape is None
    d = rep.to_dict()
    assert (d["clusters"], d["kept"], d["dropped_below_quorum"], d["votes_needed"]) == (2, 1, 1, 2)


@pytest.mark.parametrize(
    "quorum, k, needed",
    [(0.5, 3, 2), (0.5, 2, 1), (0.5, 4, 2), (0.75, 4, 3), (1.0, 3, 3), (0.01, 5, 1), (2 / 3, 3, 2)],
)
def test_votes_needed_is_the_ceiling_of_the_share(quorum, k, needed):
    assert votes_needed(quorum, k) == needed


def test_quorum_drops_clusters_below_the_share():
    # 4 annotators at 0.75: 3 needed. The box everyone drew stays, the one only a and b drew goes.
    anns = [(n, [box(0, 0, 10, 10)] + ([box(50, 50, 10, 10)] if n in "ab" else [])) for n in "abcd"]
    out, rep = consensus(anns, quorum=0.75)
    assert [s.geometry["x"] for s in out] == [0.0]
    assert (rep.kept, rep.dropped) == (1, 1)
    out, rep = consensus(anns, quorum=0.5)
    assert [s.geometry["x"] for s in out] == [0.0, 50.0]
    assert out[1].confidence == 0.5


def test_a_cluster_holds_one_shape_per_annotator():
    # a drew two near copies; b one. a0-b0 IoU 1 pairs first; a1 (IoU 0.818 with b0) stays alone.
    out, rep = consensus([("a", [box(0, 0, 10, 10), box(1, 0, 10, 10)]), ("b", [box(0, 0, 10, 10)])])
    assert [c.members for c in rep.clusters] == [[("a", 0), ("b", 0)], [("a", 1)]]
    assert [s.confidence for s in out] == [1.0, 0.5]  # quorum 0.5 of 2: one shape is enough


def test_complete_linkage_does_not_chain():
    # A 0..10, B 3..13, C 6..16 (all 10 high): A-B and B-C 70/130 = 0.538, A-C 40/160 = 0.25.
    # A-B join first (the tie goes to the earlier pair); C cannot join: A-C is below 0.5.
    out, rep = consensus([("a", [box(0, 0, 10, 10)]), ("b", [box(3, 0, 10, 10)]), ("c", [box(6, 0, 10, 10)])])
    assert [c.members for c in rep.clusters] == [[("a", 0), ("b", 0)], [("c", 0)]]
    assert out[0].geometry == pytest.approx({"x": 1.5, "y": 0.0, "w": 10.0, "h": 10.0})
    assert rep.clusters[0].similarity == pytest.approx(70 / 130)


def test_iou_threshold_is_inclusive_and_families_never_mix():
    # IoU exactly 0.5: x 0..10 and 0..5 -> 50 / 100. A polygon over the same box is another family.
    out, rep = consensus(
        [("a", [box(0, 0, 10, 10), square(0, 0, 10, 10)]), ("b", [box(0, 0, 5, 10), square(0, 0, 10, 10)])], quorum=1.0
    )
    assert [s.kind for s in out] == ["box", "polygon"]
    assert out[0].geometry == pytest.approx({"x": 0.0, "y": 0.0, "w": 7.5, "h": 10.0})


# -- labels, attributes, ids -----------------------------------------------------------------------


def test_label_tie_is_reported_and_goes_to_the_earliest_annotator():
    anns = [("a", [box(0, 0, 10, 10, label="car")]), ("b", [box(0, 0, 10, 10, label="bus")])]
    out, rep = consensus(anns)
    assert out[0].label == "car"
    assert rep.ties[0].tie == ["bus", "car"] and rep.to_dict()["ties"] == 1
    out, rep = consensus(list(reversed(anns)))
    assert out[0].label == "bus" and rep.ties[0].tie == ["bus", "car"]


def test_attributes_vote_among_the_winning_label_and_z_order_among_all():
    # car wins 2-1. colour among the cars: red (a), blue (c) -> a tie, a is earlier: red.
    # plate: only c has it. The bus's attribute is not a car's. z_order 1, 1, 3 -> 1.
    out, _ = consensus([
        ("a", [box(0, 0, 10, 10, attributes={"colour": "red"}, z_order=1)]),
        ("b", [box(0, 0, 10, 10, label="bus", attributes={"doors": 2}, z_order=1)]),
        ("c", [box(0, 0, 10, 10, attributes={"colour": "blue", "plate": "X1"}, z_order=3)]),
    ])
    assert out[0].attributes == {"colour": "red", "plate": "X1"}
    assert out[0].z_order == 1


def test_group_ids_are_renumbered_across_instances():
    def person(dx, g):
        return [
            box(dx, 0, 20, 40, label="person", group_id=g),
            Shape("skeleton", "person", {"points": [[dx + 10, 5, 2], [dx + 10, 30, 2]]}, group_id=g),
        ]

    out, _ = consensus([("a", person(0, 7) + person(100, 8)), ("b", person(1, 3) + person(101, 4))])
    assert [(s.kind, s.group_id) for s in out] == [("box", 1), ("skeleton", 1), ("box", 2), ("skeleton", 2)]
    assert all(s.track_id is None for s in out)


def test_tags_are_kept_by_majority_per_label():
    def tags(*names):
        return [Shape("tag", n) for n in names]

    out, rep = consensus([("a", tags("outdoor", "night")), ("b", tags("outdoor", "day")), ("c", tags("night", "outdoor"))])
    assert sorted(s.label for s in out) == ["night", "outdoor"]
    assert all(s.geometry == {} for s in out)
    assert [c.members for c in rep.clusters if c.status == "below_quorum"] == [[("b", 1)]]


def test_output_follows_the_first_annotators_order():
    out, _ = consensus([
        ("a", [box(50, 0, 10, 10, label="second"), box(0, 0, 10, 10, label="first")]),
        ("b", [box(0, 0, 10, 10, label="first"), box(50, 0, 10, 10, label="second")]),
    ])
    assert [s.label for s in out] == ["second", "first"]


# -- geometry of the other kinds -------------------------------------------------------------------


def test_polygons_keep_the_area_a_majority_covers():
    # 20x20 squares, b moved 2 right, c 2 down: a-b 360/440, b-c 324/476, all one cluster.
    # Covered by 2 of 3: x 2-20 y 0-20 (a and b) and x 0-20 y 2-20 (a and c): the square without
    # its 2x2 top-left corner, area 400 - 4 = 396.
    out, rep = consensus([("a", [square(0, 0, 20, 20)]), ("b", [square(2, 0, 22, 20)]), ("c", [square(0, 2, 20, 22)])])
    (s,) = out
    assert s.kind == "polygon" and s.geometry["holes"] == []
    ring = {tuple(p) for p in s.geometry["points"]}
    assert ring == {(2, 0), (20, 0), (20, 20), (0, 20), (0, 2), (2, 2)}
    assert Polygon(s.geometry["points"]).area == pytest.approx(396)
    assert rep.clusters[0].parts == 1
    validate_shape(s.to_dict(), index=0)


def test_polygon_vote_is_clipped_to_the_image_and_keeps_holes():
    ring = [[-5, -5], [15, -5], [15, 15], [-5, 15]]
    hole = [[4, 4], [6, 4], [6, 6], [4, 6]]
    poly = Shape("polygon", "road", {"points": ring, "holes": [hole]})
    out, _ = consensus([("a", [poly]), ("b", [poly])], height=10, width=10)
    g = out[0].geometry
    assert Polygon(g["points"], g["holes"]).area == pytest.approx(100 - 4)
    assert {tuple(p) for p in g["points"]} == {(0, 0), (10, 0), (10, 10), (0, 10)}


def test_masks_stay_masks_with_the_majority_of_pixels():
    rng = np.random.default_rng(3)
    base = np.zeros((12, 16), np.uint8)
    base[2:10, 3:13] = 1
    arrays = []
    for _ in range(3):
        m = base.copy()
        flip = rng.random(base.shape) < 0.1
        m[flip] ^= 1
        arrays.append(m)
    out, rep = consensus([(n, [mask(a)]) for n, a in zip("abc", arrays)])
    (s,) = out
    assert s.kind == "mask" and s.geometry["rle"]["size"] == [12, 16]
    expected = (np.sum(arrays, axis=0) >= 2).astype(np.uint8)
    assert np.array_equal(rle.decode(s.geometry["rle"]), expected)


def test_a_mixed_region_cluster_takes_the_kind_of_the_winning_label():
    m = np.zeros((20, 20), np.uint8)
    m[0:10, 0:10] = 1
    out, _ = consensus(
        [("a", [mask(m)]), ("b", [square(0, 0, 10, 10)]), ("c", [square(0, 0, 10, 10, label="lane")])], quorum=1.0
    )
    # road wins 2-1; its members are a mask (a) and a polygon (b): a tie of kinds, a is earlier
    assert (out[0].kind, out[0].label) == ("mask", "road")
    assert rle.decode(out[0].geometry["rle"]).sum() == 100


def test_an_empty_vote_drops_the_cluster():
    # two polygons agreeing only outside the image: nothing of the majority area is left
    out, rep = consensus([("a", [square(-9, 0, -1, 5)]), ("b", [square(-9, 0, -1, 5)])], height=10, width=10)
    assert out == [] and [c.status for c in rep.clusters] == ["empty"]


def test_polygon_vote_is_exact_where_pixels_would_lose_a_thin_overlap():
    # the same pair as above, both polygons: their common strip x 9.6..10 is the merge, exactly
    out, rep = consensus([("a", [square(0, 0, 10, 10)]), ("b", [square(9.6, 0, 20, 10)])], iou=0.01)
    (s,) = out
    assert Polygon(s.geometry["points"]).area == pytest.approx(4.0)
    assert {tuple(p) for p in s.geometry["points"]} == {(9.6, 0), (10, 0), (10, 10), (9.6, 10)}


def test_polygon_vote_of_many_members_keeps_faces_a_majority_covers():
    # 5 annotators, 3 needed. 10x10 squares starting at x = 0, 0.5, 1, 1.5, 2 (every IoU >= 8/12):
    # x is covered by the squares starting in [x - 10, x]; 3 or more for x in 1..11: area 100.
    anns = [(n, [square(dx, 0, dx + 10, 10)]) for n, dx in zip("abcde", (0, 0.5, 1, 1.5, 2))]
    out, rep = consensus(anns, iou=0.5)
    (s,) = out
    assert rep.clusters[0].parts == 1 and len(rep.clusters[0].members) == 5
    assert Polygon(s.geometry["points"]).area == pytest.approx(100.0)
    assert {tuple(p) for p in s.geometry["points"]} == {(1, 0), (11, 0), (11, 10), (1, 10)}


def test_polygon_vote_agrees_with_a_fine_pixel_vote():
    # three jittered 12-gons: the exact majority area against a pixel vote at 1/8 pixel
    from limner.core.raster import rasterize

    rng = np.random.default_rng(5)
    t = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    base = np.stack([50 + 30 * np.cos(t), 50 + 20 * np.sin(t)], 1)
    polys = [base + rng.normal(0, 2, base.shape) for _ in range(3)]
    out, _ = consensus([(n, [Shape("polygon", "road", {"points": q.tolist(), "holes": []})]) for n, q in zip("abc", polys)])
    votes = sum(rasterize("polygon", {"points": (q * 8).tolist(), "holes": []}, 800, 800).astype(int) for q in polys)
    assert Polygon(out[0].geometry["points"]).area == pytest.approx((votes >= 2).sum() / 64, rel=0.01)


def test_rotated_boxes_average_aligned_angles():
    # c describes a's figure turned 95 degrees with its sides swapped: 105 - 10 = 95 -> -85 modulo
    # 180, beyond 45: swap w and h and add 90 -> 5. Aligned offsets 0, 10, 5 -> mean 5 -> 15 degrees.
    def rb(w, h, angle, cx=50.0):
        return Shape("rotated_box", "car", {"cx": cx, "cy": 50.0, "w": w, "h": h, "angle": angle})

    out, rep = consensus([("a", [rb(40, 20, 10, 49)]), ("b", [rb(40, 20, 20, 50)]), ("c", [rb(20, 40, 105, 51)])])
    assert len(rep.clusters) == 1
    assert out[0].geometry == pytest.approx({"cx": 50.0, "cy": 50.0, "w": 40.0, "h": 20.0, "angle": 15.0})


def test_ellipse_angles_use_a_circular_mean_across_the_wrap():
    def el(angle):
        return Shape("ellipse", "face", {"cx": 10.0, "cy": 10.0, "rx": 8.0, "ry": 4.0, "angle": angle})

    out, _ = consensus([("a", [el(179.0)]), ("b", [el(-179.0)])])
    g = out[0].geometry
    # 179 and -179 are 2 degrees apart through 180: the mean is 180 (the same ellipse as 0)
    assert math.isclose(g["angle"] % 180.0, 0.0, abs_tol=1e-9) or math.isclose(g["angle"] % 180.0, 180.0)
    assert (g["rx"], g["ry"]) == (8.0, 4.0)


def test_skeleton_points_need_a_majority_and_average_the_labelled_ones():
    # point 0: labelled by all -> mean (11, 11), v 2. point 1: a and b (2 of 3) -> (20, 21); v 2 and
    # 1 tie -> 2. point 2: only b -> not labelled.
    def sk(pts):
        return Shape("skeleton", "person", {"points": pts})

    out, rep = consensus(
        [
            ("a", [sk([[10, 10, 2], [20, 20, 2], [0, 0, 0]])]),
            ("b", [sk([[12, 10, 2], [20, 22, 1], [30, 30, 2]])]),
            ("c", [sk([[11, 13, 2], [0, 0, 0], [0, 0, 0]])]),
        ],
        iou=0.1,
    )
    assert len(rep.clusters) == 1
    assert out[0].geometry["points"] == [[11.0, 11.0, 2], [20.0, 21.0, 2], [0.0, 0.0, 0]]
    # similarity a-b, by hand: scale 32*32 (the boxes are smaller), sigma 0.05 -> e = d2 / 20.48;
    # points 0 and 1 at d2 = 4 score exp(-0.195), point 2 (b only) 0: (2 * 0.8226) / 3 = 0.548
    b_c = (math.exp(-10 / 20.48)) / 3  # only point 0 is shared, at d2 = 1 + 9
    assert rep.clusters[0].similarity == pytest.approx(b_c, rel=1e-6)


def test_points_average_per_point_and_different_counts_never_match():
    p = lambda *pts: Shape("points", "face", {"points": [list(q) for q in pts]})  # noqa: E731
    out, rep = consensus([("a", [p((10, 10), (20, 20))]), ("b", [p((12, 10), (20, 22)), p((5, 5))])])
    assert out[0].geometry["points"] == [[11.0, 10.0], [20.0, 21.0]]
    assert [len(c.members) for c in rep.clusters] == [2, 1]


def test_polylines_keep_the_medoid():
    line = lambda *pts: Shape("polyline", "lane", {"points": [list(q) for q in pts]})  # noqa: E731
    out, _ = consensus([
        ("a", [line((0, 0), (100, 0))]),
        ("b", [line((0, 1), (100, 1))]),
        ("c", [line((0, 2.5), (100, 2.5))]),
    ], iou=0.2)
    assert out[0].geometry["points"] == [[0.0, 1.0], [100.0, 1.0]]  # b is closest to both others


# -- inputs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw, message",
    [({"quorum": 0}, "quorum"), ({"quorum": 1.5}, "quorum"), ({"iou": 0}, "iou"), ({"iou": 2}, "iou")],
)
def test_bad_parameters_are_refused(kw, message):
    with pytest.raises(ValueError, match=message):
        consensus([("a", [])], **kw)


def test_repeated_annotators_are_refused_and_nothing_gives_nothing():
    with pytest.raises(ValueError, match="repeated: a"):
        consensus([("a", []), ("a", [])])
    out, rep = consensus([])
    assert out == [] and rep.to_dict()["clusters"] == 0
    out, rep = consensus([("a", []), ("b", [])])
    assert out == [] and rep.kept == 0


def test_noisy_annotators_recover_the_truth():
    rng = np.random.default_rng(11)
    truth = [(rng.uniform(0, 500), rng.uniform(0, 300), rng.uniform(30, 120), rng.uniform(30, 120)) for _ in range(8)]
    anns = []
    for n in "abc":
        shapes = [box(x + rng.normal(0, 2), y + rng.normal(0, 2), w + rng.normal(0, 2), h + rng.normal(0, 2)) for x, y, w, h in truth]
        shapes.append(box(rng.uniform(600, 700), rng.uniform(0, 300), 20, 20))  # one stray box each
        anns.append((n, shapes[::-1]))
    out, rep = consensus(anns)
    assert rep.kept == 8 and rep.dropped == 3
    got = sorted((s.geometry["x"], s.geometry["y"]) for s in out)
    want = sorted((x, y) for x, y, _, _ in truth)
    assert np.allclose(got, want, atol=4)


def test_degenerate_polygons_take_part_without_breaking_the_merge():
    flat = Shape("polygon", "road", {"points": [[0, 0], [5, 5], [0, 0]], "holes": []})
    out, rep = consensus([("a", [square(0, 0, 10, 10)]), ("b", [square(0, 0, 10, 10)]), ("c", [flat])])
    assert len(out) == 1 and Polygon(out[0].geometry["points"]).area == 100
    assert [c.members for c in rep.clusters] == [[("a", 0), ("b", 0)], [("c", 0)]]


# -- many assets at once --------------------------------------------------------------------------


def _mixed_project(n_assets: int, seed: int) -> list:
    """Assets of 2 to 4 annotators drawing every kind, with noise, misses, label swaps, copies."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n_assets):
        names = [f"ann{i}" for i in range(int(rng.integers(2, 5)))]
        t = np.linspace(0, 2 * np.pi, 12, endpoint=False)
        star = np.stack([60 + rng.uniform(15, 30, 12) * np.cos(t), 50 + rng.uniform(15, 30, 12) * np.sin(t)], 1)
        base_mask = np.zeros((40, 50), np.uint8)
        base_mask[5:30, 10:40] = 1
        asset = []
        for who, name in enumerate(names):
            j = lambda s=1.0: float(rng.normal(0, s))  # noqa: E731
            label = "car" if rng.random() > 0.2 else "bus"
            shapes = [
                box(10 + j(), 10 + j(), 40 + j(), 30 + j(), label=label, attributes={"colour": ["red", "blue"][who % 2]}),
                Shape("polygon", "road", {"points": (star + rng.normal(0, 1.0, star.shape)).round(1).tolist(), "holes": []}),
                square(100, 100, 120, 120) if who < 2 else square(101, 100, 121, 120),  # copies and touching edges
                Shape("rotated_box", "sign", {"cx": 200 + j(), "cy": 50 + j(), "w": 30.0, "h": 10.0, "angle": 10 + j(3)}),
                Shape("ellipse", "face", {"cx": 300 + j(), "cy": 60 + j(), "rx": 20.0, "ry": 10.0, "angle": j(5)}),
                Shape("points", "kp", {"points": [[400 + j(), 40 + j()], [420 + j(), 45 + j()]]}),
                Shape("skeleton", "person", {"points": [[500 + j(), 50 + j(), 2], [510 + j(), 80 + j(), int(rng.integers(3))]]}),
                Shape("polyline", "lane", {"points": [[0, 200 + j()], [100, 200 + j()]]}),
                Shape("tag", ["day", "night"][int(rng.integers(0, 2))]),
            ]
            if k % 3 == 0:  # a mask in the region family: that asset's regions go by pixels
                shapes.append(mask(base_mask if who else np.roll(base_mask, 1, axis=1)))
            if rng.random() < 0.3:
                shapes.append(box(rng.uniform(0, 500), rng.uniform(0, 200), 15, 15))
            keep = [s for s in shapes if rng.random() > 0.1]
            asset.append((name, keep))
        out.append(asset)
    return out


def _same(a, b) -> None:
    (sa, ra), (sb, rb) = a, b
    assert ra.to_dict() == rb.to_dict()
    assert [s.to_dict() for s in sa] == [s.to_dict() for s in sb]


def test_consensus_many_gives_what_one_call_per_asset_gives():
    project = _mixed_project(60, seed=1)
    sizes = [(300, 700) if k % 2 else None for k in range(len(project))]
    seen = []
    many = consensus_many(project, sizes=sizes, progress=lambda done, total: seen.append((done, total)))
    assert len(many) == len(project) and seen[-1] == (60, 60)
    for asset, size, got in zip(project, sizes, many):
        one = consensus(asset, height=size[0], width=size[1]) if size else consensus(asset)
        _same(got, one)
    kinds = {s.kind for shapes, _ in many for s in shapes}
    assert kinds >= {"box", "polygon", "rotated_box", "ellipse", "points", "skeleton", "polyline", "tag", "mask"}


def test_consensus_many_refuses_mismatched_sizes_and_names_the_asset():
    with pytest.raises(ValueError, match="2 sizes for 1 assets"):
        consensus_many([[("a", [])]], sizes=[None, None])
    with pytest.raises(ValueError, match=r"assets\[1\]: each annotator may appear once; repeated: a"):
        consensus_many([[("a", [])], [("a", []), ("a", [])]])
    with pytest.raises(ValueError, match=r"assets\[0\] a shapes\[0\]: unknown kind 'blob'"):
        consensus_many([[("a", [Shape("blob", "x")])], []])


def test_noisy_polygons_vote_the_overlays_majority_area():
    # jittered 16-gons on a 0.1 grid, as people draw them: the merged polygon is the area at least
    # two of the three cover, as the overlay computes it
    rng = np.random.default_rng(4)
    t = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    project, wanted = [], []
    for _ in range(40):
        base = np.stack([200 + rng.uniform(20, 50, 16) * np.cos(t), 150 + rng.uniform(20, 50, 16) * np.sin(t)], 1)
        polys = [(base + rng.normal(0, 1.5, base.shape)).round(1) for _ in range(3)]
        project.append([(n, [Shape("polygon", "road", {"points": q.tolist(), "holes": []})]) for n, q in zip("abc", polys)])
        shp = [Polygon(p).buffer(0) for p in polys]
        wanted.append(shapely.union_all([shp[0] & shp[1], shp[0] & shp[2], shp[1] & shp[2]]))
    for (shapes, rep), want in zip(consensus_many(project, sizes=[(400, 500)] * 40), wanted):
        (s,) = shapes
        got = Polygon(s.geometry["points"], s.geometry["holes"])
        assert got.is_valid and rep.clusters[0].parts >= 1
        assert got.symmetric_difference(want).area <= 1e-9 * want.area or rep.clusters[0].parts > 1


def test_two_identical_polygons_of_three_win_as_they_are():
    star = [[0, 0], [10, 2], [20, 0], [18, 10], [20, 20], [10, 18], [0, 20], [2, 10]]
    other = [[1, 1], [11, 2], [21, 1], [19, 11], [21, 21], [11, 19], [1, 21], [3, 11]]
    same = Shape("polygon", "road", {"points": star, "holes": []})
    out, _ = consensus([("a", [same]), ("b", [Shape("polygon", "road", {"points": other, "holes": []})]), ("c", [same])])
    assert {tuple(p) for p in out[0].geometry["points"]} == {tuple(p) for p in star}
