"""Tests for limner.quality.matching.

Hand-computed cases first (IoUs of boxes and intervals worked out in the comments, the Hungarian
assignment against a greedy one, the figures); then every pair of kinds against
:func:`limner.core.geometry.iou` / ``polyline_iou`` / ``oks`` shape by shape, OKS against
pycocotools' ``COCOeval.computeOks``, the bulk path against the one-pair path, and the assignment
against brute force.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from limner.core.geometry import iou, oks, polyline_iou
from limner.core.rle import encode
from limner.core.shapes import Shape
from limner.quality import matching
from limner.quality.matching import (
    Match,
    MatchCounts,
    match_annotators,
    match_assets,
    match_shapes,
    similarity_matrix,
    sum_matches,
)

H, W = 64, 80


def box(x, y, w, h, label="car", **kw) -> Shape:
    return Shape("box", label, {"x": float(x), "y": float(y), "w": float(w), "h": float(h)}, **kw)


def span(x0, x1, label="car") -> Shape:
    """A box one pixel high from x0 to x1: IoUs are interval ratios."""
    return box(x0, 0, x1 - x0, 1, label)


def poly(points, holes=(), label="car", **kw) -> Shape:
    return Shape(
        "polygon",
        label,
        {"points": [[float(x), float(y)] for x, y in points], "holes": [[[float(x), float(y)] for x, y in h] for h in holes]},
        **kw,
    )


def rbox(cx, cy, w, h, angle, label="car") -> Shape:
    return Shape("rotated_box", label, {"cx": float(cx), "cy": float(cy), "w": float(w), "h": float(h), "angle": float(angle)})


def ellipse(cx, cy, rx, ry, angle, label="car") -> Shape:
    return Shape("ellipse", label, {"cx": float(cx), "cy": float(cy), "rx": float(rx), "ry": float(ry), "angle": float(angle)})


def mask(rows, cols, label="car", h=H, w=W) -> Shape:
    m = np.zeros((h, w), np.uint8)
    m[rows[0] : rows[1], cols[0] : cols[1]] = 1
    return Shape("mask", label, {"rle": encode(m)})


def line(points, label="road") -> Shape:
    return Shape("polyline", label, {"points": [[float(x), float(y)] for x, y in points]})


def skeleton(points, label="person", **kw) -> Shape:
    return Shape("skeleton", label, {"points": [[float(x), float(y), int(v)] for x, y, v in points]}, **kw)


def test_exports():
    assert sorted(matching.__all__) == [
        "DEFAULT_SIGMA", "Match", "MatchCounts", "MatchResult", "match_annotators", "match_assets", "match_shapes",
        "similarity_matrix", "sum_matches",
    ]  # fmt: skip


# -- similarities worked out by hand ---------------------------------------------------------------

SQUARE = [(0, 0), (4, 0), (4, 4), (0, 4)]

HAND_CASES = [
    # boxes 2x2 overlapping by 1x2: 2 / (4 + 4 - 2)
    (box(0, 0, 2, 2), box(1, 0, 2, 2), 1 / 3),
    # the same as polygons (exact areas, not the closed form)
    (poly([(0, 0), (2, 0), (2, 2), (0, 2)]), poly([(1, 0), (3, 0), (3, 2), (1, 2)]), 1 / 3),
    # a triangle of area 2 inside a 2x2 box: 2 / 4
    (box(0, 0, 2, 2), poly([(0, 0), (2, 0), (0, 2)]), 0.5),
    # a 4x4 square with a 2x2 hole against the hole's box: they do not meet
    (poly(SQUARE, [[(1, 1), (3, 1), (3, 3), (1, 3)]]), box(1, 1, 2, 2), 0.0),
    # ... against the whole square: 12 / 16
    (poly(SQUARE, [[(1, 1), (3, 1), (3, 3), (1, 3)]]), box(0, 0, 4, 4), 0.75),
    # identical polygons (every edge overlaps its twin)
    (poly([(0, 0), (5, 1), (3, 4), (1, 3)]), poly([(0, 0), (5, 1), (3, 4), (1, 3)]), 1.0),
    # the same ring in the other direction and starting elsewhere
    (poly([(0, 0), (5, 1), (3, 4), (1, 3)]), poly([(3, 4), (5, 1), (0, 0), (1, 3)]), 1.0),
    # squares touching along an edge: no area in common
    (poly(SQUARE), poly([(4, 0), (8, 0), (8, 4), (4, 4)]), 0.0),
    # a square and the same square turned by 90 degrees as a rotated box
    (poly(SQUARE), rbox(2, 2, 4, 4, 90), 1.0),
    # a bow-tie is made valid (two triangles of area 1 each, as shapely's make_valid): against its box
    # (area 4): 2 / 4
    (poly([(0, 0), (2, 2), (2, 0), (0, 2)]), box(0, 0, 2, 2), 0.5),
    # masks: 10x10 block and its right half: 50 / 100
    (mask((0, 10), (0, 10)), mask((0, 10), (5, 10)), 0.5),
    # a mask against a box of the same pixels
    (mask((2, 7), (3, 9)), box(3, 2, 6, 5), 1.0),
    # a degenerate polygon (no area once made valid) overlaps nothing
    (poly([(0, 0), (2, 2), (0, 0)]), box(0, 0, 2, 2), 0.0),
    (poly([(0, 0), (1, 0), (2, 0)]), poly([(0, 0), (1, 0), (2, 0)]), 0.0),
]


@pytest.mark.parametrize("a, b, expected", HAND_CASES)
def test_similarity_by_hand(a, b, expected):
    assert similarity_matrix([a], [b])[0, 0] == pytest.approx(expected, abs=1e-12)
    assert similarity_matrix([b], [a])[0, 0] == pytest.approx(expected, abs=1e-12)
    if a.kind != "polyline":
        assert iou(a.kind, a.geometry, b.kind, b.geometry, height=H, width=W) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    "a, b",
    [
        (box(0, 0, 4, 4, "car"), box(0, 0, 4, 4, "truck")),  # another label
        (box(0, 0, 4, 4), Shape("tag", "car")),  # tags take no part
        (box(0, 0, 4, 4), line([(0, 0), (4, 4)], "car")),  # area against polyline
        (poly(SQUARE), skeleton([(1, 1, 2)], "car")),  # area against keypoints
        (line([(0, 0), (4, 4)], "car"), skeleton([(1, 1, 2), (2, 2, 2)], "car")),
        (skeleton([(1, 1, 2), (2, 2, 2)]), skeleton([(1, 1, 2)])),  # different numbers of points
    ],
)
def test_pairs_that_cannot_match(a, b):
    assert similarity_matrix([a], [b]).tolist() == [[0.0]]
    r = match_shapes([a], [b], threshold=0.0)
    assert r.matches == []


def test_labels_can_be_ignored_in_the_matrix():
    a, b = box(0, 0, 2, 2, "car"), box(1, 0, 2, 2, "truck")
    assert similarity_matrix([a], [b]).tolist() == [[0.0]]
    assert similarity_matrix([a], [b], same_label=False)[0, 0] == pytest.approx(1 / 3)


def test_threshold_zeroes_small_similarities():
    a = [box(0, 0, 2, 2), poly([(0, 0), (2, 0), (2, 2), (0, 2)])]
    b = [box(1, 0, 2, 2), poly([(1, 0), (3, 0), (3, 2), (1, 2)])]
    full = similarity_matrix(a, b)
    assert full == pytest.approx(np.full((2, 2), 1 / 3))
    assert similarity_matrix(a, b, threshold=0.3) == pytest.approx(full)
    assert similarity_matrix(a, b, threshold=0.4).tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_polyline_similarity():
    a = line([(0, 0), (10, 0)])
    b = line([(5, 0), (15, 0)])
    c = line([(0, 10), (10, 10)])
    # collinear lines overlapping by 5, widened by 1 with round caps: (10 + pi) / (30 + pi), up to
    # the polygonal approximation of the caps
    got = similarity_matrix([a], [b], polyline_buffer=1.0)[0, 0]
    assert got == pytest.approx((10 + math.pi) / (30 + math.pi), abs=1e-3)
    assert got == pytest.approx(polyline_iou(a.geometry, b.geometry, buffer=1.0), abs=1e-12)
    assert similarity_matrix([a], [c]).tolist() == [[0.0]]
    assert similarity_matrix([a], [a])[0, 0] == pytest.approx(1.0)


def test_keypoint_similarity_by_hand():
    # one point 2 px off; the reference (a) has one visible point, so its area comes from the image
    # (single point): H * W; sigma 0.5 -> variance 1: e = 4 / 1 / (H * W) / 2
    a = skeleton([(10, 10, 2), (0, 0, 0)])
    b = skeleton([(12, 10, 2), (50, 50, 2)])
    got = similarity_matrix([a], [b], height=H, width=W, sigmas={"person": [0.5, 0.5]})[0, 0]
    assert got == pytest.approx(math.exp(-4 / (H * W) / 2), rel=1e-12)
    # with two visible points the area is that of their box: 10 x 20
    a = skeleton([(0, 0, 2), (10, 20, 2)])
    b = skeleton([(0, 0, 2), (10, 22, 2)])
    expected = (1 + math.exp(-4 / 1 / 200 / 2)) / 2
    assert similarity_matrix([a], [b], sigmas={"person": [0.5, 0.5]})[0, 0] == pytest.approx(expected, rel=1e-12)
    # points count as visible; the default sigma applies without per-label sigmas
    pa = Shape("points", "person", {"points": [[0.0, 0.0], [10.0, 20.0]]})
    pb = Shape("points", "person", {"points": [[0.0, 0.0], [10.0, 22.0]]})
    var = (2 * matching.DEFAULT_SIGMA) ** 2
    assert similarity_matrix([pa], [pb])[0, 0] == pytest.approx((1 + math.exp(-4 / var / 200 / 2)) / 2, rel=1e-12)


def test_keypoint_area_comes_from_the_grouped_shape():
    # the skeleton's group has a 10 x 10 box: area 100
    a = [skeleton([(0, 0, 2)], group_id=7), box(0, 0, 10, 10, "person", group_id=7)]
    b = [skeleton([(3, 4, 2)])]
    got = similarity_matrix(a, b, sigmas={"person": [0.5]})
    assert got[0, 0] == pytest.approx(math.exp(-25 / 1 / 100 / 2), rel=1e-12)
    assert got[1, 0] == 0.0


def test_keypoint_similarity_matches_pycocotools(capsys):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    rng = np.random.default_rng(11)
    k = 5
    sigmas = [0.03, 0.05, 0.07, 0.09, 0.11]
    gt_shapes, gt_anns = [], []
    for g in range(3):
        x0, y0 = rng.uniform(10, 60, 2)
        outline = [(x0, y0), (x0 + 40, y0 + 5), (x0 + 35, y0 + 50), (x0 - 5, y0 + 40)]
        pts = rng.uniform(0, 40, (k, 2)) + (x0, y0)
        vis = rng.integers(0, 3, k)
        if g == 2:
            vis[:] = 0  # no visible point: COCO measures against the box
        pts[vis == 0] = 0
        region = poly(outline, label="person", group_id=g + 1)
        sk = skeleton([(x, y, v) for (x, y), v in zip(pts, vis)], group_id=g + 1)
        gt_shapes += [sk, region]
        from limner.core.geometry import area, bbox

        gt_anns.append(
            {
                "id": g + 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
                "area": area("polygon", region.geometry), "bbox": list(bbox("polygon", region.geometry)),
                "keypoints": np.concatenate([pts, vis[:, None]], axis=1).ravel().tolist(),
                "num_keypoints": int((vis > 0).sum()),
            }
        )  # fmt: skip
    dt_shapes, dt_anns = [], []
    for d in range(4):
        if d < 2:
            base = np.asarray(gt_anns[d]["keypoints"]).reshape(k, 3)[:, :2]
            pts = base + rng.normal(0, 2, (k, 2))
        else:
            pts = rng.uniform(10, 100, (k, 2))
        dt_shapes.append(skeleton([(x, y, 2) for x, y in pts]))
        dt_anns.append(
            {"image_id": 1, "category_id": 1, "score": 1.0 - d / 10, "keypoints": np.concatenate([pts, np.full((k, 1), 2)], axis=1).ravel().tolist()}
        )
    coco = COCO()
    coco.dataset = {"images": [{"id": 1, "width": 200, "height": 200}], "annotations": gt_anns, "categories": [{"id": 1, "name": "person"}]}
    coco.createIndex()
    ev = COCOeval(coco, coco.loadRes(dt_anns), "keypoints")
    ev.params.imgIds = [1]
    ev.params.kpt_oks_sigmas = np.array(sigmas)
    ev._prepare()
    ref = ev.computeOks(1, 1)  # detections in score order (as listed) x ground truths
    capsys.readouterr()
    got = similarity_matrix(gt_shapes, dt_shapes, sigmas={"person": sigmas})
    skeleton_rows = [0, 2, 4]
    assert got[skeleton_rows].T == pytest.approx(ref, rel=1e-12, abs=1e-15)
    assert ref[0, 0] > 0.5 and ref[1, 1] > 0.5
    assert not got[[1, 3, 5]].any()  # the outlines never match skeletons


def test_mask_needs_one_image_size():
    m = mask((0, 10), (0, 10))
    # the image size defaults to the mask's own
    assert similarity_matrix([m], [box(0, 0, 10, 10)])[0, 0] == 1.0
    with pytest.raises(ValueError, match="mask size 64x80 \\(height x width\\) differs from the image's 32x32"):
        similarity_matrix([m], [box(0, 0, 10, 10)], height=32, width=32)
    with pytest.raises(ValueError, match="both height= and width="):
        similarity_matrix([m], [m], height=32)


# -- every pair of kinds against core.geometry -------------------------------------------------


def random_shape(rng: np.random.Generator, kind: str, label: str = "car") -> Shape:
    cx, cy = rng.uniform(15, 65), rng.uniform(15, 50)
    if kind == "box":
        return box(cx - 8, cy - 6, rng.uniform(4, 20), rng.uniform(4, 20), label)
    if kind == "rotated_box":
        return rbox(cx, cy, rng.uniform(4, 20), rng.uniform(4, 20), rng.uniform(-90, 90), label)
    if kind == "ellipse":
        return ellipse(cx, cy, rng.uniform(3, 12), rng.uniform(3, 12), rng.uniform(-90, 90), label)
    if kind == "polygon":
        n = int(rng.integers(3, 12))
        t = np.sort(rng.uniform(0, 2 * np.pi, n))
        r = rng.uniform(4, 14, n)
        holes = []
        if rng.random() < 0.3:
            holes = [[(cx - 1, cy - 1), (cx + 1, cy - 1), (cx + 1, cy + 1), (cx - 1, cy + 1)]]
        if rng.random() < 0.15:  # self-crossing: made valid
            t = rng.uniform(0, 2 * np.pi, n)
        return poly(np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], 1), holes, label)
    if kind == "mask":
        m = np.zeros((H, W), np.uint8)
        x, y = int(cx), int(cy)
        m[y - int(rng.integers(2, 9)) : y + int(rng.integers(2, 9)), x - int(rng.integers(2, 9)) : x + int(rng.integers(2, 9))] = 1
        m[rng.random((H, W)) < 0.02] = 1
        return Shape("mask", label, {"rle": encode(m)})
    if kind == "polyline":
        return line(rng.uniform(10, 60, (int(rng.integers(2, 6)), 2)), label)
    n = 4
    pts = rng.uniform(10, 60, (n, 2))
    if kind == "points":
        return Shape("points", label, {"points": pts.tolist()})
    return skeleton([(x, y, int(v)) for (x, y), v in zip(pts, rng.integers(0, 3, n))], label)


AREA = ("box", "rotated_box", "polygon", "ellipse", "mask")


@pytest.mark.parametrize("seed", range(6))
def test_every_pair_of_area_kinds_matches_geometry_iou(seed):
    rng = np.random.default_rng(seed)
    a = [random_shape(rng, k) for k in AREA for _ in range(3)]
    b = [random_shape(rng, k) for k in AREA for _ in range(3)]
    got = similarity_matrix(a, b, height=H, width=W)
    expected = np.array([[iou(x.kind, x.geometry, y.kind, y.geometry, height=H, width=W) for y in b] for x in a])
    assert got == pytest.approx(expected, abs=1e-9)
    assert (expected > 0).sum() >= 10  # the case is not vacuous
    # and with a threshold: exact values above it, 0 below
    cut = similarity_matrix(a, b, height=H, width=W, threshold=0.2)
    assert cut == pytest.approx(np.where(expected >= 0.2, expected, 0.0), abs=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_polylines_and_keypoints_match_geometry(seed):
    rng = np.random.default_rng(100 + seed)
    lines_a = [random_shape(rng, "polyline") for _ in range(5)]
    lines_b = [random_shape(rng, "polyline") for _ in range(5)]
    expected = np.array([[polyline_iou(x.geometry, y.geometry, buffer=3.0) for y in lines_b] for x in lines_a])
    assert similarity_matrix(lines_a, lines_b, polyline_buffer=3.0) == pytest.approx(expected, abs=1e-12)
    sk_a = [random_shape(rng, "skeleton") for _ in range(4)]
    sk_b = [random_shape(rng, "skeleton") for _ in range(4)]
    sig = [0.2, 0.3, 0.4, 0.5]

    def ref(x, y):
        pts = np.asarray(x.geometry["points"])
        vis = pts[pts[:, 2] > 0]
        area = float(np.ptp(vis[:, 0]) * np.ptp(vis[:, 1])) if len(vis) else 0.0
        area = area if area > 0 else H * W
        return oks(x.geometry["points"], y.geometry["points"], area, sig)

    expected = np.array([[ref(x, y) for y in sk_b] for x in sk_a])
    got = similarity_matrix(sk_a, sk_b, sigmas={"car": sig}, height=H, width=W)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-300)


# -- matching ----------------------------------------------------------------------------------------


def test_hungarian_beats_greedy():
    # intervals a0 = [0, 10], a1 = [5, 15], b0 = [2, 12], b1 = [-3, 7]:
    # a0-b0 = 8/12, a1-b0 = 7/13, a0-b1 = 7/13, a1-b1 = 2/18. Greedy takes a0-b0 (the best) and
    # leaves a1 with b1 (below 0.5); the assignment takes a0-b1 and a1-b0 (sum 14/13 > 2/3).
    a = [span(0, 10), span(5, 15)]
    b = [span(2, 12), span(-3, 7)]
    r = match_shapes(a, b, threshold=0.5)
    assert r.matches == [Match(0, 1, pytest.approx(7 / 13)), Match(1, 0, pytest.approx(7 / 13))]
    assert r.unmatched_a == [] and r.unmatched_b == []
    assert r.f1 == 1.0
    assert r.mean_iou == pytest.approx(7 / 13)


MATCH_CASES = [
    # (a, b, threshold, matches, unmatched a, unmatched b, precision, recall, f1, mean IoU)
    ("identical", [box(0, 0, 4, 4), poly(SQUARE, label="dog")], [poly(SQUARE, label="dog"), box(0, 0, 4, 4)], 0.5,
     [(0, 1, 1.0), (1, 0, 1.0)], [], [], 1.0, 1.0, 1.0, 1.0),
    # IoU 1/3 is below 0.5: nothing matches
    ("below threshold", [box(0, 0, 2, 2)], [box(1, 0, 2, 2)], 0.5, [], [0], [0], 0.0, 0.0, 0.0, math.nan),
    # ... and matches at a threshold of 1/3 or less (>=)
    ("at threshold", [box(0, 0, 2, 2)], [box(1, 0, 2, 2)], 0.25, [(0, 0, 1 / 3)], [], [], 1.0, 1.0, 1.0, 1 / 3),
    # one extra shape in b: precision 1/2, recall 1, F1 2 * 1 / 3
    ("extra", [box(0, 0, 4, 4)], [box(0, 0, 4, 4), box(20, 20, 4, 4)], 0.5,
     [(0, 0, 1.0)], [], [1], 0.5, 1.0, 2 / 3, 1.0),
    # same place, other labels: nothing matches
    ("labels", [box(0, 0, 4, 4, "car")], [box(0, 0, 4, 4, "bus")], 0.1, [], [0], [0], 0.0, 0.0, 0.0, math.nan),
    # tags take no part and are nowhere in the result
    ("tags", [Shape("tag", "day"), box(0, 0, 4, 4)], [box(0, 0, 4, 4), Shape("tag", "day")], 0.5,
     [(1, 0, 1.0)], [], [], 1.0, 1.0, 1.0, 1.0),
    # empty on both sides: vacuously perfect; no pair, no mean IoU
    ("empty", [], [], 0.5, [], [], [], 1.0, 1.0, 1.0, math.nan),
    # nothing in b: recall 0, precision vacuous 1, F1 0
    ("b empty", [box(0, 0, 4, 4)], [], 0.5, [], [0], [], 1.0, 0.0, 0.0, math.nan),
    ("a empty", [], [box(0, 0, 4, 4)], 0.5, [], [], [0], 0.0, 1.0, 0.0, math.nan),
    # threshold 0 still needs some overlap
    ("zero threshold", [box(0, 0, 2, 2)], [box(2, 0, 2, 2)], 0.0, [], [0], [0], 0.0, 0.0, 0.0, math.nan),
]  # fmt: skip


@pytest.mark.parametrize(
    "name, a, b, threshold, matches, free_a, free_b, precision, recall, f1, mean_iou", MATCH_CASES, ids=[c[0] for c in MATCH_CASES]
)
def test_match_shapes(name, a, b, threshold, matches, free_a, free_b, precision, recall, f1, mean_iou):
    r = match_shapes(a, b, threshold=threshold)
    assert [(m.a, m.b) for m in r.matches] == [(i, j) for i, j, _ in matches]
    assert [m.iou for m in r.matches] == pytest.approx([v for _, _, v in matches])
    assert (r.unmatched_a, r.unmatched_b) == (free_a, free_b)
    assert (r.precision, r.recall, r.f1) == pytest.approx((precision, recall, f1))
    if math.isnan(mean_iou):
        assert math.isnan(r.mean_iou)
    else:
        assert r.mean_iou == pytest.approx(mean_iou)


def test_per_label_counts_and_sums():
    a = [box(0, 0, 4, 4, "car"), box(10, 0, 4, 4, "car"), box(20, 0, 4, 4, "bus")]
    b = [box(0, 0, 4, 2, "car"), box(20, 0, 4, 4, "bus"), box(30, 0, 4, 4, "bike")]
    r = match_shapes(a, b)
    assert r.per_label == {
        "car": MatchCounts(matched=1, unmatched_a=1, unmatched_b=0, iou_sum=0.5),
        "bus": MatchCounts(matched=1, unmatched_a=0, unmatched_b=0, iou_sum=1.0),
        "bike": MatchCounts(matched=0, unmatched_a=0, unmatched_b=1, iou_sum=0.0),
    }
    assert r.counts == MatchCounts(2, 1, 1, 1.5)
    assert r.per_label["car"].to_dict() == {
        "matched": 1, "unmatched_a": 1, "unmatched_b": 0, "precision": 1.0, "recall": 0.5, "f1": 2 / 3, "mean_iou": 0.5,
    }  # fmt: skip
    total, per_label = sum_matches([r, r, match_shapes([], [box(0, 0, 1, 1, "car")])])
    assert total == MatchCounts(4, 2, 3, 3.0)
    assert per_label["car"] == MatchCounts(2, 2, 1, 1.0)
    assert (total.precision, total.recall, total.f1, total.mean_iou) == pytest.approx((4 / 7, 4 / 6, 8 / 13, 0.75))


def test_match_result_value():
    r = matching.MatchResult([(0, 1, 0.5)], [2], [0], labels_a=["car", "car", "dog"], labels_b=["bus", "car"])
    assert r.matches == [Match(0, 1, 0.5)]
    assert (r.unmatched_a, r.unmatched_b) == ([2], [0])
    assert r.per_label == {"car": MatchCounts(1, 0, 0, 0.5), "dog": MatchCounts(0, 1, 0, 0.0), "bus": MatchCounts(0, 0, 1, 0.0)}
    assert r == matching.MatchResult([Match(0, 1, 0.5)], [2], [0])  # labels do not take part in equality
    assert r != matching.MatchResult([Match(0, 1, 0.5)], [2], [])
    assert repr(r) == "MatchResult(matches=[Match(a=0, b=1, iou=0.5)], unmatched_a=[2], unmatched_b=[0])"
    assert matching.MatchResult().matches == [] and matching.MatchResult().f1 == 1.0


def test_match_assets_with_fewer_than_two_annotators():
    assert match_assets([{}, {"ann": [box(0, 0, 1, 1)]}]) == [{}, {}]
    assert match_assets([]) == []
    assert match_assets(iter([{"a": [box(0, 0, 1, 1)], "b": []}]))[0][("a", "b")].unmatched_a == [0]


def test_match_annotators_matches_every_pair():
    shapes = {
        "ann": [box(0, 0, 4, 4), poly(SQUARE, label="dog")],
        "bob": [box(0, 0, 4, 3), poly([(0, 0), (4, 0), (4, 3), (0, 3)], label="dog")],
        "eve": [box(0, 1, 4, 3)],
    }
    got = match_annotators(shapes)
    assert list(got) == [("ann", "bob"), ("ann", "eve"), ("bob", "eve")]
    for (x, y), r in got.items():
        assert r == match_shapes(shapes[x], shapes[y])
    assert got[("ann", "bob")].matches == [Match(0, 0, 0.75), Match(1, 1, 0.75)]
    # bob's box rows 0..3, eve's 1..4: 2 rows of 4 in common over 4 rows: 0.5
    assert got[("bob", "eve")].matches == [Match(0, 0, 0.5)]


def test_match_assets_equals_one_pair_at_a_time(monkeypatch):
    """The bulk path gives the one-pair results, also across batch boundaries."""
    monkeypatch.setattr(matching, "_BATCH_ASSETS", 4)
    monkeypatch.setattr(matching, "_EDGE_PAIRS_PER_CHUNK", 200)
    rng = np.random.default_rng(5)
    kinds = (*AREA, "polyline", "skeleton", "points", "tag")
    assets = []
    for _ in range(11):
        base = [random_shape(rng, str(rng.choice(kinds)), str(rng.choice(["car", "dog"]))) for _ in range(8)]
        assets.append({name: [s for s in base if rng.random() < 0.8] for name in ("ann", "bob", "eve")})
    sizes = [(H, W)] * len(assets)
    bulk = match_assets(assets, sizes=sizes, threshold=0.3, sigmas={"car": [0.1] * 4, "dog": [0.2] * 4})
    assert len(bulk) == len(assets)
    matched = 0
    for shapes, got in zip(assets, bulk):
        for (x, y), r in got.items():
            one = match_shapes(shapes[x], shapes[y], threshold=0.3, height=H, width=W, sigmas={"car": [0.1] * 4, "dog": [0.2] * 4})
            assert [(m.a, m.b) for m in r.matches] == [(m.a, m.b) for m in one.matches]
            assert [m.iou for m in r.matches] == pytest.approx([m.iou for m in one.matches], abs=1e-12)
            assert (r.unmatched_a, r.unmatched_b) == (one.unmatched_a, one.unmatched_b)
            matched += len(r.matches)
    assert matched > 20


def test_boxes_go_through_box_iou_matrix(monkeypatch):
    calls = []
    real = matching.box_iou_matrix

    def spy(a, b):
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(matching, "box_iou_matrix", spy)
    assets = [{n: [box(i * 10 + j / 2, 0, 5, 5) for i in range(10)] for j, n in enumerate("xyz")} for _ in range(50)]
    out = match_assets(assets)
    # one call per asset over the 30 boxes of its three annotators
    assert calls == [(30, 30)] * 50
    assert [len(r.matches) for d in out for r in d.values()] == [10, 10, 10] * 50


@pytest.mark.parametrize("seed", range(20))
def test_assignment_is_optimal(seed):
    """The matched pairs have the largest total IoU among all one-to-one assignments of pairs at or
    above the threshold (brute force over small cases)."""
    rng = np.random.default_rng(seed)
    a = [box(*rng.uniform(0, 12, 2), *rng.uniform(3, 8, 2)) for _ in range(int(rng.integers(1, 5)))]
    b = [box(*rng.uniform(0, 12, 2), *rng.uniform(3, 8, 2)) for _ in range(int(rng.integers(1, 5)))]
    S = similarity_matrix(a, b, threshold=0.2)
    best = 0.0
    for k in range(min(len(a), len(b)) + 1):
        for rows in itertools.combinations(range(len(a)), k):
            for cols in itertools.permutations(range(len(b)), k):
                best = max(best, sum(S[i, j] for i, j in zip(rows, cols)))
    r = match_shapes(a, b, threshold=0.2)
    assert sum(m.iou for m in r.matches) == pytest.approx(best, abs=1e-12)
    assert all(m.iou >= 0.2 for m in r.matches)
    assert len({m.a for m in r.matches}) == len({m.b for m in r.matches}) == len(r.matches)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: match_shapes([], [], threshold=1.5), "threshold must be a number in \\[0, 1\\], got 1.5"),
        (lambda: match_shapes([], [], threshold=True), "threshold must be a number in \\[0, 1\\], got True"),
        (lambda: match_shapes([], [], polyline_buffer=0), "polyline_buffer must be a positive number of pixels, got 0"),
        (lambda: match_shapes([Shape("cuboid", "car")], []), "shapes\\[0\\]: unknown kind 'cuboid'"),
        (
            lambda: match_shapes([skeleton([(0, 0, 2)])], [skeleton([(0, 0, 2)])], sigmas={"person": [0.1, 0.1]}),
            "label 'person' has 2 OKS sigmas for 1 points",
        ),
        (lambda: match_assets([{}, {}], sizes=[(1, 1)]), "2 assets but 1 sizes"),
    ],
)
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
