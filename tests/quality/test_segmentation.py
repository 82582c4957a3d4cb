"""Tests for limner.quality.segmentation.

Small class maps worked out by hand in the comments, then scikit-learn's ``jaccard_score``,
``f1_score`` and ``accuracy_score`` on flattened random maps.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from limner.core.rle import encode
from limner.core.shapes import Shape
from limner.quality import segmentation
from limner.quality.segmentation import (
    SegmentationScores,
    class_map,
    confusion_matrix,
    segmentation_scores,
    shape_segmentation_scores,
)

NAN = math.nan


def approx_nan(values):
    return pytest.approx(values, nan_ok=True)


def test_exports():
    assert sorted(segmentation.__all__) == [
        "SegmentationScores", "class_map", "confusion_matrix", "segmentation_scores", "shape_segmentation_scores",
    ]  # fmt: skip


# truth        prediction
# 0 0 1        0 1 1
# 1 1 2        1 2 2
# pixels (truth -> prediction): 0->0, 0->1, 1->1, 1->1, 1->2, 2->2
# confusion [[1, 1, 0], [0, 2, 1], [0, 0, 1]]
# class 0: TP 1, FP 0, FN 1 -> IoU 1/2, Dice 2/3, recall 1/2
# class 1: TP 2, FP 1, FN 1 -> IoU 2/4, Dice 4/6, recall 2/3
# class 2: TP 1, FP 1, FN 0 -> IoU 1/2, Dice 2/3, recall 1
# pixel accuracy 4/6
T1 = [[0, 0, 1], [1, 1, 2]]
P1 = [[0, 1, 1], [1, 2, 2]]

CASES = [
    # truth, prediction, classes, ignore, confusion, IoU, Dice, pixel accuracy
    (T1, P1, 3, None, [[1, 1, 0], [0, 2, 1], [0, 0, 1]], [0.5, 0.5, 0.5], [2 / 3, 2 / 3, 2 / 3], 4 / 6),
    # perfect prediction; class 2 absent from both maps: NaN, left out of the means
    ([[0, 1], [1, 0]], [[0, 1], [1, 0]], 3, None, [[2, 0, 0], [0, 2, 0], [0, 0, 0]], [1.0, 1.0, NAN], [1.0, 1.0, NAN], 1.0),
    # everything wrong: class 0 -> 1 and 1 -> 0
    ([[0, 1]], [[1, 0]], 2, None, [[0, 1], [1, 0]], [0.0, 0.0], [0.0, 0.0], 0.0),
    # 255 in the truth is void: those pixels do not count, whatever was predicted there
    ([[0, 255], [1, 255]], [[0, 1], [1, 0]], 2, 255, [[1, 0], [0, 1]], [1.0, 1.0], [1.0, 1.0], 1.0),
    # a class predicted but absent from the truth: IoU 0 for it (FP only), not NaN
    ([[0, 0]], [[0, 1]], 2, None, [[1, 1], [0, 0]], [0.5, 0.0], [2 / 3, 0.0], 0.5),
    # every pixel void: no score at all
    ([[255]], [[0]], 2, 255, [[0, 0], [0, 0]], [NAN, NAN], [NAN, NAN], NAN),
]


@pytest.mark.parametrize("truth, pred, n, ignore, confusion, ious, dice, accuracy", CASES)
def test_scores_by_hand(truth, pred, n, ignore, confusion, ious, dice, accuracy):
    s = segmentation_scores(np.array(truth), np.array(pred), n, ignore_index=ignore)
    assert s.confusion.tolist() == confusion
    assert s.confusion.dtype == np.int64
    assert s.num_classes == n
    assert s.per_class_iou.tolist() == approx_nan(ious)
    assert s.per_class_dice.tolist() == approx_nan(dice)
    assert s.pixel_accuracy == approx_nan(accuracy)
    present = [v for v in ious if not math.isnan(v)]
    assert s.mean_iou == approx_nan(sum(present) / len(present) if present else NAN)
    present = [v for v in dice if not math.isnan(v)]
    assert s.mean_dice == approx_nan(sum(present) / len(present) if present else NAN)


def test_class_accuracy_and_to_dict():
    s = segmentation_scores(np.array(T1), np.array(P1), 3)
    assert s.per_class_accuracy.tolist() == pytest.approx([1 / 2, 2 / 3, 1.0])
    assert s.mean_accuracy == pytest.approx((1 / 2 + 2 / 3 + 1) / 3)
    d = segmentation_scores(np.array([[0, 1]]), np.array([[0, 1]]), 3).to_dict(["bg", "cat", "dog"])
    assert d == {
        "mean_iou": 1.0, "mean_dice": 1.0, "pixel_accuracy": 1.0, "mean_accuracy": 1.0,
        "per_class_iou": [1.0, 1.0, None], "per_class_dice": [1.0, 1.0, None], "classes": ["bg", "cat", "dog"],
    }  # fmt: skip


def test_scores_add_up_over_images():
    a = segmentation_scores(np.array(T1), np.array(P1), 3)
    b = segmentation_scores(np.array([[2, 2]]), np.array([[2, 0]]), 3)
    both = a + b
    assert both.confusion.tolist() == [[1, 1, 0], [0, 2, 1], [1, 0, 2]]
    # dataset-level IoU comes from the summed matrix: class 2 TP 2, FP 1, FN 1 -> 1/2; class 0 TP 1,
    # FP 1, FN 1 -> 1/3
    assert both.per_class_iou.tolist() == pytest.approx([1 / 3, 0.5, 0.5])
    flat = segmentation_scores(np.array([0, 0, 1, 1, 1, 2, 2, 2]), np.array([0, 1, 1, 1, 2, 2, 2, 0]), 3)
    assert flat.confusion.tolist() == both.confusion.tolist()
    with pytest.raises(ValueError, match="cannot add scores over 3 and 2 classes"):
        a + SegmentationScores(np.zeros((2, 2), np.int64))


@pytest.mark.parametrize(
    "truth, pred, n, message",
    [
        ([[0, 1]], [[0, 1, 1]], 2, "class maps differ in shape: truth \\(1, 2\\), prediction \\(1, 3\\)"),
        ([[0, 3]], [[0, 1]], 2, "truth holds class 3, outside 0..1"),
        ([[0, 1]], [[-1, 1]], 2, "prediction holds class -1, outside 0..1"),
        ([[0.0, 1.0]], [[0, 1]], 2, "truth must be an integer class map, got dtype float64"),
        ([[0]], [[0]], 0, "num_classes must be a positive integer, got 0"),
    ],
)
def test_confusion_matrix_errors(truth, pred, n, message):
    with pytest.raises(ValueError, match=message):
        confusion_matrix(np.array(truth), np.array(pred), n)


def test_ignored_pixels_may_hold_any_prediction():
    # the prediction under a void pixel may be anything, even out of range
    m = confusion_matrix(np.array([[255, 0]]), np.array([[7, 0]]), 1, ignore_index=255)
    assert m.tolist() == [[1]]


# -- cross-checks with scikit-learn ----------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_matches_scikit_learn(seed):
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    n = 3 + seed % 4
    truth = rng.integers(0, n, (20, 30))
    pred = np.where(rng.random(truth.shape) < 0.6, truth, rng.integers(0, n, truth.shape))
    if seed % 2:
        truth[truth == n - 1] = 0  # a class only in the prediction
        pred[pred == n - 2] = 1  # and one only in the truth
    s = segmentation_scores(truth, pred, n)
    t, p = truth.ravel(), pred.ravel()
    present = [c for c in range(n) if (t == c).any() or (p == c).any()]
    assert s.per_class_iou[present] == pytest.approx(metrics.jaccard_score(t, p, labels=present, average=None), abs=1e-12)
    assert s.per_class_dice[present] == pytest.approx(metrics.f1_score(t, p, labels=present, average=None), abs=1e-12)
    assert s.mean_iou == pytest.approx(metrics.jaccard_score(t, p, labels=present, average="macro"), abs=1e-12)
    assert s.mean_dice == pytest.approx(metrics.f1_score(t, p, labels=present, average="macro"), abs=1e-12)
    assert s.pixel_accuracy == pytest.approx(metrics.accuracy_score(t, p), abs=1e-12)
    assert s.confusion.tolist() == metrics.confusion_matrix(t, p, labels=list(range(n))).tolist()
    assert np.isnan(s.per_class_iou[[c for c in range(n) if c not in present]]).all()


def test_matches_scikit_learn_with_void():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(42)
    truth = rng.integers(0, 4, (16, 16))
    truth[rng.random(truth.shape) < 0.2] = 255
    pred = rng.integers(0, 4, truth.shape)
    s = segmentation_scores(truth, pred, 4, ignore_index=255)
    keep = truth.ravel() != 255
    t, p = truth.ravel()[keep], pred.ravel()[keep]
    assert s.per_class_iou == pytest.approx(metrics.jaccard_score(t, p, labels=[0, 1, 2, 3], average=None), abs=1e-12)
    assert s.pixel_accuracy == pytest.approx(metrics.accuracy_score(t, p), abs=1e-12)


# -- shapes painted into class maps ----------------------------------------------------------------


def box(x, y, w, h, label, z=0) -> Shape:
    return Shape("box", label, {"x": float(x), "y": float(y), "w": float(w), "h": float(h)}, z_order=z)


def test_class_map_paints_pixel_centres():
    # box x=2, y=3, w=4, h=5 covers rows 3..7 and columns 2..5: 20 pixels
    m = class_map([box(2, 3, 4, 5, "cat")], 10, 10, ["background", "cat"])
    assert m.dtype == np.int64
    assert (m == 1).sum() == 20
    assert (m[3:8, 2:6] == 1).all()


def test_class_map_paints_in_z_order():
    under = box(0, 0, 4, 4, "cat", z=1)
    over = box(2, 0, 4, 4, "dog", z=2)
    classes = {"cat": 1, "dog": 2}
    expected = [[1, 1, 2, 2, 2, 2, 0]] * 4 + [[0] * 7]
    # z-order decides, not the list order
    assert class_map([over, under], 5, 7, classes).tolist() == expected
    assert class_map([under, over], 5, 7, classes).tolist() == expected
    # equal z-orders: the later shape is painted last
    a, b = box(0, 0, 4, 4, "cat"), box(2, 0, 4, 4, "dog")
    assert class_map([b, a], 5, 7, classes).tolist() == [[1, 1, 1, 1, 2, 2, 0]] * 4 + [[0] * 7]


def test_class_map_kinds_background_and_errors():
    m = np.zeros((6, 6), np.uint8)
    m[1:3, 1:5] = 1
    shapes = [
        Shape("mask", "road", {"rle": encode(m)}),
        Shape("polyline", "lane", {"points": [[0.0, 0.0], [5.0, 5.0]]}),  # no area: skipped
        Shape("tag", "night"),
        Shape("polygon", "car", {"points": [[4.0, 4.0], [6.0, 4.0], [6.0, 6.0], [4.0, 6.0]], "holes": []}),
    ]
    got = class_map(shapes, 6, 6, {"road": 3, "car": 5}, background=9)
    expected = np.full((6, 6), 9)
    expected[1:3, 1:5] = 3
    expected[4:6, 4:6] = 5
    assert got.tolist() == expected.tolist()
    with pytest.raises(ValueError, match="shapes\\[0\\]: label 'road' has no class id \\(classes: car\\)"):
        class_map(shapes[:1], 6, 6, {"car": 1})
    with pytest.raises(ValueError, match="class 'car' is listed twice"):
        class_map([], 6, 6, ["car", "car"])
    with pytest.raises(ValueError, match="class id of 'car' must be a non-negative integer, got -1"):
        class_map([], 6, 6, {"car": -1})


def test_shape_segmentation_scores():
    # a 4x8 image. truth: cat in columns 0..3, background 4..7. prediction: cat in columns 2..5, a dog
    # in rows 0..1 of columns 6..7, background elsewhere (columns 0..1, rows 2..3 of columns 6..7).
    # truth background (cols 4..7) -> cat 8 (cols 4..5), dog 4, background 4;
    # truth cat (cols 0..3) -> background 8 (cols 0..1), cat 8.
    # IoU background 4 / (4 + 8 + 12), cat 8 / (8 + 8 + 8), dog 0 / 4; pixel accuracy 12 / 32
    truth = [box(0, 0, 4, 4, "cat")]
    pred = [box(2, 0, 4, 4, "cat"), box(6, 0, 2, 2, "dog")]
    s = shape_segmentation_scores(truth, pred, 4, 8, ["bg", "cat", "dog"])
    assert s.confusion.tolist() == [[4, 8, 4], [8, 8, 0], [0, 0, 0]]
    assert s.per_class_iou.tolist() == pytest.approx([4 / 24, 8 / 24, 0.0])
    assert s.pixel_accuracy == pytest.approx(12 / 32)
    # num_classes may be larger than the ids used
    assert shape_segmentation_scores(truth, pred, 4, 8, {"cat": 1, "dog": 2}, num_classes=5).num_classes == 5
