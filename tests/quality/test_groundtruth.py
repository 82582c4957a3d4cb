"""Tests for limner.quality.groundtruth.

Per-asset comparisons and COCO AP values worked out by hand in the comments (AP with COCO's
101-point interpolated precision), then AP cross-checked with pycocotools run the usual way
(``loadRes`` on a results list) over random data.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections import Counter

import numpy as np
import pytest

from limner.core.dataset import Dataset, Item
from limner.core.rle import encode
from limner.core.shapes import Shape
from limner.quality import groundtruth
from limner.quality.groundtruth import (
    AssetComparison,
    ComparisonCounts,
    coco_ap,
    compare_datasets,
    compare_to_ground_truth,
    sum_comparisons,
)
from limner.quality.matching import Match


def box(x, y, w, h, label="car", **kw) -> Shape:
    return Shape("box", label, {"x": float(x), "y": float(y), "w": float(w), "h": float(h)}, **kw)


def square(x, y, size, label="car", **kw) -> Shape:
    pts = [[x, y], [x + size, y], [x + size, y + size], [x, y + size]]
    return Shape("polygon", label, {"points": [[float(a), float(b)] for a, b in pts], "holes": []}, **kw)


def tag(label) -> Shape:
    return Shape("tag", label)


def test_exports():
    assert sorted(groundtruth.__all__) == [
        "APResult", "AssetComparison", "ComparisonCounts", "EXTRA", "MISSING", "coco_ap", "compare_datasets",
        "compare_to_ground_truth", "sum_comparisons",
    ]  # fmt: skip


# -- per-asset comparison ---------------------------------------------------------------------------

COMPARE_CASES = [
    # name, ground truth, annotator's shapes, kwargs,
    # (valid, missing, extra, wrong labels, low overlap, attribute mismatches), confusion
    ("perfect", [box(0, 0, 10, 10), square(20, 0, 10, "dog")], [square(20, 0, 10, "dog"), box(0, 0, 10, 10)], {},
     ([(0, 1, 1.0), (1, 0, 1.0)], [], [], [], [], []), {("car", "car"): 1, ("dog", "dog"): 1}),
    ("missing and extra", [box(0, 0, 10, 10), box(20, 0, 10, 10)], [box(0, 0, 10, 10), box(50, 0, 10, 10)], {},
     ([(0, 0, 1.0)], [1], [1], [], [], []), {("car", "car"): 1, ("car", None): 1, (None, "car"): 1}),
    # the right place, the wrong label: the car is missing, the truck extra, and it is a label confusion
    ("wrong label", [box(0, 0, 10, 10, "car")], [box(0, 0, 10, 10, "truck")], {},
     ([], [0], [0], [(0, 0, 1.0)], [], []), {("car", "truck"): 1}),
    # a match of the right label wins over a better one of another label
    ("right label first", [box(0, 0, 10, 10, "car")], [box(0, 0, 10, 10, "truck"), box(0, 0, 10, 6, "car")], {},
     ([(0, 1, 0.6)], [], [0], [], [(0, 1, 0.6)], []), {("car", "car"): 1, (None, "truck"): 1}),
    # IoU 0.6: valid at 0.5, but below the low-overlap threshold 0.8
    ("low overlap", [box(0, 0, 10, 10)], [box(0, 0, 10, 6)], {},
     ([(0, 0, 0.6)], [], [], [], [(0, 0, 0.6)], []), {("car", "car"): 1}),
    # ... and missing + extra at a matching threshold of 0.7 (no wrong label: the label is right)
    ("below threshold", [box(0, 0, 10, 10)], [box(0, 0, 10, 6)], {"iou_threshold": 0.7},
     ([], [0], [0], [], [], []), {("car", None): 1, (None, "car"): 1}),
    ("no low overlap", [box(0, 0, 10, 10)], [box(0, 0, 10, 6)], {"low_overlap_threshold": 0.6},
     ([(0, 0, 0.6)], [], [], [], [], []), {("car", "car"): 1}),
    # tags: the right label is valid, another label a wrong label
    ("tags", [tag("day"), tag("city")], [tag("night"), tag("city")], {},
     ([(1, 1, 1.0)], [0], [0], [(0, 0, 1.0)], [], []), {("city", "city"): 1, ("day", "night"): 1}),
    ("empty", [], [], {}, ([], [], [], [], [], []), {}),
    ("nothing annotated", [box(0, 0, 1, 1), tag("day")], [], {}, ([], [0, 1], [], [], [], []), {("car", None): 1, ("day", None): 1}),
]  # fmt: skip


@pytest.mark.parametrize("name, gt, ann, kwargs, expected, confusion", COMPARE_CASES, ids=[c[0] for c in COMPARE_CASES])
def test_compare_to_ground_truth(name, gt, ann, kwargs, expected, confusion):
    r = compare_to_ground_truth(gt, ann, **kwargs)
    valid, missing, extra, wrong, low, attrs = expected
    assert [(m.a, m.b) for m in r.valid] == [(i, j) for i, j, _ in valid]
    assert [m.iou for m in r.valid] == pytest.approx([v for _, _, v in valid])
    assert r.missing == missing
    assert r.extra == extra
    assert [(m.a, m.b, pytest.approx(m.iou)) for m in r.wrong_label] == wrong
    assert [(m.a, m.b, pytest.approx(m.iou)) for m in r.low_overlap] == low
    assert r.attribute_mismatches == attrs
    c = r.counts
    assert (c.valid, c.missing, c.extra, c.wrong_label, c.low_overlap, c.attribute_mismatch) == (
        len(valid), len(missing), len(extra), len(wrong), len(low), len(attrs),
    )  # fmt: skip
    assert dict(c.confusion) == confusion
    # every shape is in one cell of the confusion matrix (a pair counts once)
    assert sum(confusion.values()) == len(gt) + len(ann) - len(valid) - len(wrong)


def test_figures():
    # 3 valid, 1 missing (a wrong label, so also 1 extra), 2 more extra:
    # accuracy 3 / (3 + 1 + 3), precision 3 / 6, recall 3 / 4
    gt = [box(0, 0, 10, 10), box(20, 0, 10, 10), box(40, 0, 10, 10), box(60, 0, 10, 10, "dog")]
    ann = [box(0, 0, 10, 10), box(20, 0, 10, 10), box(40, 0, 10, 10), box(60, 0, 10, 10, "cat"), box(0, 50, 5, 5), box(20, 50, 5, 5)]
    c = compare_to_ground_truth(gt, ann).counts
    assert (c.valid, c.missing, c.extra, c.wrong_label) == (3, 1, 3, 1)
    assert (c.accuracy, c.precision, c.recall) == pytest.approx((3 / 7, 3 / 6, 3 / 4))
    assert (c.ground_truth, c.annotated) == (4, 6)
    assert c.to_dict() == {
        "valid": 3, "missing": 1, "extra": 3, "wrong_label": 1, "low_overlap": 0, "attribute_mismatch": 0,
        "accuracy": pytest.approx(3 / 7), "precision": 0.5, "recall": 0.75,
    }  # fmt: skip
    # nothing to count: vacuously 1.0
    empty = ComparisonCounts()
    assert (empty.accuracy, empty.precision, empty.recall) == (1.0, 1.0, 1.0)
    # only ground truth: accuracy and recall 0, precision vacuous
    only = compare_to_ground_truth([box(0, 0, 1, 1)], []).counts
    assert (only.accuracy, only.precision, only.recall) == (0.0, 1.0, 0.0)


def test_confusion_matrix_layout():
    gt = [box(0, 0, 10, 10, "car"), box(20, 0, 10, 10, "car"), box(40, 0, 10, 10, "dog")]
    ann = [box(0, 0, 10, 10, "car"), box(40, 0, 10, 10, "cat"), box(80, 0, 10, 10, "dog")]
    c = compare_to_ground_truth(gt, ann).counts
    rows, cols, m = c.confusion_matrix()
    assert rows == ["car", "cat", "dog", "extra"]
    assert cols == ["car", "cat", "dog", "missing"]
    assert m.tolist() == [
        [1, 0, 0, 1],  # car: one valid, one missing
        [0, 0, 0, 0],
        [0, 1, 0, 0],  # the dog was called a cat
        [0, 0, 1, 0],  # an extra dog
    ]
    # a fixed order first, labels met but not listed after it
    rows, cols, m2 = c.confusion_matrix(["dog", "bird", "car"])
    assert rows == ["dog", "bird", "car", "cat", "extra"]
    assert m2[rows.index("dog"), cols.index("cat")] == 1
    assert m2[rows.index("extra"), cols.index("dog")] == 1
    assert m2.sum() == m.sum() == 4


def test_attribute_mismatches():
    gt = [box(0, 0, 10, 10, attributes={"occluded": True, "color": "red"}), box(20, 0, 10, 10, attributes={"n": 1})]
    ann = [box(0, 0, 10, 10, attributes={"occluded": False, "color": "red"}), box(20, 0, 10, 10, attributes={})]
    r = compare_to_ground_truth(gt, ann)
    # a missing key differs from a present value
    assert r.attribute_mismatches == [(0, 0, ("occluded",)), (1, 1, ("n",))]
    assert r.counts.attribute_mismatch == 2
    assert r.counts.valid == 2  # attribute mismatches stay valid
    assert compare_to_ground_truth(gt, ann, ignore_attributes=["occluded", "n"]).attribute_mismatches == []
    assert compare_to_ground_truth(gt, ann, attributes=["color"]).attribute_mismatches == []
    assert compare_to_ground_truth(gt, ann, attributes=["n"]).attribute_mismatches == [(1, 1, ("n",))]


def test_other_kinds_and_thresholds():
    # polylines (buffered IoU), masks and skeletons (OKS) take part like boxes
    m = np.zeros((20, 20), np.uint8)
    m[2:8, 2:8] = 1
    gt = [
        Shape("polyline", "lane", {"points": [[0.0, 10.0], [19.0, 10.0]]}),
        Shape("mask", "road", {"rle": encode(m)}),
        Shape("skeleton", "person", {"points": [[5.0, 5.0, 2], [15.0, 15.0, 2]]}),
    ]
    ann = [
        Shape("skeleton", "person", {"points": [[5.0, 5.0, 2], [15.0, 15.0, 2]]}),
        Shape("polygon", "road", {"points": [[2.0, 2.0], [8.0, 2.0], [8.0, 8.0], [2.0, 8.0]], "holes": []}),
        Shape("polyline", "lane", {"points": [[0.0, 10.0], [19.0, 10.0]]}),
    ]
    r = compare_to_ground_truth(gt, ann)
    assert [(v.a, v.b, pytest.approx(v.iou)) for v in r.valid] == [(0, 2, 1.0), (1, 1, 1.0), (2, 0, 1.0)]
    with pytest.raises(ValueError, match="low_overlap_threshold must be a number in \\[0, 1\\], got 2"):
        compare_to_ground_truth(gt, ann, low_overlap_threshold=2)


def test_sum_comparisons():
    a = compare_to_ground_truth([box(0, 0, 10, 10)], [box(0, 0, 10, 6)])
    b = compare_to_ground_truth([box(0, 0, 10, 10, "dog")], [box(0, 0, 10, 10, "cat"), box(50, 0, 1, 1, "cat")])
    total = sum_comparisons([a, b, ComparisonCounts(valid=1, confusion=Counter({("cat", "cat"): 1}))])
    assert (total.valid, total.missing, total.extra, total.wrong_label, total.low_overlap) == (2, 1, 2, 1, 1)
    assert total.confusion == Counter({("car", "car"): 1, ("dog", "cat"): 1, (None, "cat"): 1, ("cat", "cat"): 1})
    assert total.accuracy == pytest.approx(2 / 5)
    assert sum_comparisons([]) == ComparisonCounts()


def test_compare_datasets():
    gt = Dataset(items=[
        Item("a.jpg", 100, 100, [box(0, 0, 10, 10), box(20, 20, 10, 10, "dog")]),
        Item("b.jpg", 100, 100, [box(0, 0, 10, 10)]),
        Item("c.jpg", 100, 100, []),
    ])  # fmt: skip
    done = Dataset(items=[
        Item("a.jpg", 100, 100, [box(0, 0, 10, 10), box(20, 20, 10, 10, "cat")]),
        Item("c.jpg", 100, 100, [box(5, 5, 5, 5)]),
        Item("z.jpg", 100, 100, [box(5, 5, 5, 5)]),  # not in the ground truth: not checked
    ])  # fmt: skip
    got = compare_datasets(gt, done)
    assert list(got) == ["a.jpg", "b.jpg", "c.jpg"]
    assert got["a.jpg"].valid == [Match(0, 0, 1.0)]
    assert got["a.jpg"].wrong_label == [Match(1, 1, 1.0)]
    assert got["b.jpg"].missing == [0]  # b.jpg was not annotated: all its ground truth is missing
    assert got["c.jpg"].extra == [0]
    total = sum_comparisons(got.values())
    assert (total.valid, total.missing, total.extra, total.wrong_label) == (1, 2, 2, 1)
    # the same as one asset at a time
    for it in gt.items:
        shapes = next((x.shapes for x in done.items if x.name == it.name), [])
        assert got[it.name] == compare_to_ground_truth(it.shapes, shapes, height=it.height, width=it.width)


def test_asset_comparison_defaults():
    assert AssetComparison().counts == ComparisonCounts()


# -- COCO AP -------------------------------------------------------------------------------------------


def dataset(*items: tuple[str, list[Shape]], size=(100, 100)) -> Dataset:
    return Dataset(items=[Item(name, size[1], size[0], shapes) for name, shapes in items])


AP_CASES = [
    # one ground truth, found exactly: AP 1 at every threshold
    ("exact", [("a", [box(10, 10, 20, 20)])], [("a", [box(10, 10, 20, 20, confidence=0.9)])], (1.0, 1.0, 1.0)),
    # IoU 0.62 (a 20x12.4 box inside a 20x20 one: 248 / 400): a hit at 0.50, 0.55, 0.60 only:
    # AP = 3/10, AP50 = 1, AP75 = 0
    ("iou 0.62", [("a", [box(10, 10, 20, 20)])], [("a", [box(10, 10, 20, 12.4, confidence=0.9)])], (0.3, 1.0, 0.0)),
    # two ground truths; a false positive scored 0.9 ranks before the hit scored 0.8:
    # precision/recall after each: (0, 0), (1/2, 1/2). Interpolated precision is 1/2 for the 51
    # recall points 0.00 .. 0.50 and 0 above: AP = 51 * 0.5 / 101 at every threshold
    ("false positive first",
     [("a", [box(10, 10, 20, 20), box(60, 60, 20, 20)])],
     [("a", [box(40, 40, 5, 5, confidence=0.9), box(10, 10, 20, 20, confidence=0.8)])],
     (25.5 / 101,) * 3),
    # the same detections in the other order of scores: precision 1 up to recall 1/2 -> AP 51 / 101
    ("hit first",
     [("a", [box(10, 10, 20, 20), box(60, 60, 20, 20)])],
     [("a", [box(40, 40, 5, 5, confidence=0.5), box(10, 10, 20, 20, confidence=0.8)])],
     (51 / 101,) * 3),
    # no confidence: every detection scores 1.0
    ("no confidence", [("a", [box(10, 10, 20, 20)])], [("a", [box(10, 10, 20, 20)])], (1.0, 1.0, 1.0)),
    # nothing detected
    ("nothing", [("a", [box(10, 10, 20, 20)])], [], (0.0, 0.0, 0.0)),
    # a detection on an image the ground truth lacks is ignored
    ("other image", [("a", [box(10, 10, 20, 20)])], [("a", [box(10, 10, 20, 20)]), ("b", [box(0, 0, 9, 9)])], (1.0, 1.0, 1.0)),
]  # fmt: skip


@pytest.mark.parametrize("name, gt, dt, expected", AP_CASES, ids=[c[0] for c in AP_CASES])
def test_coco_ap_by_hand(name, gt, dt, expected):
    r = coco_ap(dataset(*gt), dataset(*dt))
    assert (r.ap, r.ap50, r.ap75) == pytest.approx(expected, abs=1e-12)
    assert r.per_label == {"car": pytest.approx(expected[0], abs=1e-12)}
    assert len(r.stats) == 12


def test_coco_ap_per_label():
    # car found, dog missed: per label 1 and 0, AP their mean; a label only detected has no AP
    gt = dataset(("a", [box(10, 10, 20, 20, "car"), box(50, 50, 20, 20, "dog")]))
    dt = dataset(("a", [box(10, 10, 20, 20, "car", confidence=0.9), box(0, 60, 10, 10, "bird", confidence=0.8)]))
    r = coco_ap(gt, dt)
    assert r.per_label["car"] == pytest.approx(1.0)
    assert r.per_label["dog"] == 0.0
    assert math.isnan(r.per_label["bird"])
    assert r.ap == pytest.approx(0.5)
    # no ground truth of a size range: COCO's -1 comes back as NaN (the boxes here are all "small",
    # under 32 x 32)
    assert r.stats[3] == pytest.approx(0.5) and math.isnan(r.stats[4]) and math.isnan(r.stats[5])


def test_coco_ap_segm():
    # ground truth: a right triangle with legs of 20 px; detections: the same pixels as a mask (a
    # hit), and a 19x19 box over the triangle's corner
    tri = Shape("polygon", "car", {"points": [[10.0, 10.0], [30.0, 10.0], [10.0, 30.0]], "holes": []})
    from limner.core.raster import rasterize

    m = rasterize("polygon", tri.geometry, 100, 100)
    # pixel centres (10.5 + k, 10.5 + r) with k + r < 19 (the hypotenuse x + y = 40 is a bottom-right
    # edge: centres on it are outside): 19 + 18 + ... + 1 = 190 pixels, all inside the 19x19 box
    assert int(m.sum()) == 190
    exact = Shape("mask", "car", {"rle": encode(m)}, confidence=0.9)
    r = coco_ap(dataset(("a", [tri])), dataset(("a", [exact])), iou_type="segm")
    assert (r.ap, r.ap50, r.ap75) == pytest.approx((1.0, 1.0, 1.0))
    # pixel IoU 190 / 361 = 0.526: a hit at 0.50 only
    cover = box(10, 10, 19, 19, confidence=0.9)
    r = coco_ap(dataset(("a", [tri])), dataset(("a", [cover])), iou_type="segm")
    assert (r.ap, r.ap50, r.ap75) == pytest.approx((0.1, 1.0, 0.0))
    # bbox AP of the same: the triangle's 20x20 box against the 19x19 one, IoU 361 / 400 = 0.9025:
    # hits at 0.50 .. 0.90
    assert coco_ap(dataset(("a", [tri])), dataset(("a", [cover]))).ap == pytest.approx(0.9)
    with pytest.raises(ValueError, match="item 'a': segm AP rasterises shapes and needs the image's height and width"):
        coco_ap(Dataset(items=[Item("a", shapes=[tri])]), dataset(), iou_type="segm")
    with pytest.raises(ValueError, match="iou_type must be 'bbox' or 'segm', got 'keypoints'"):
        coco_ap(dataset(), dataset(), iou_type="keypoints")


def test_coco_ap_groups_shapes_into_instances():
    # a box and a polygon of one instance (same group id and label) are one ground truth: the
    # detection finds it once, AP 1 (two instances would leave one missed: AP 0.5)
    gt = dataset(("a", [box(10, 10, 20, 20, group_id=1), square(10, 10, 20, group_id=1)]))
    r = coco_ap(gt, dataset(("a", [box(10, 10, 20, 20, confidence=0.9)])))
    assert r.ap == pytest.approx(1.0)
    # without the group they are two
    gt = dataset(("a", [box(10, 10, 20, 20), square(10, 10, 20)]))
    assert coco_ap(gt, dataset(("a", [box(10, 10, 20, 20, confidence=0.9)]))).ap == pytest.approx(51 / 101)
    # crowd regions are not to be found: a detection on one is ignored, not a false positive
    gt = dataset(("a", [box(10, 10, 20, 20), box(50, 50, 30, 30, attributes={"iscrowd": True})]))
    dt = dataset(("a", [box(50, 50, 30, 30, confidence=0.95), box(10, 10, 20, 20, confidence=0.9)]))
    assert coco_ap(gt, dt).ap == pytest.approx(1.0)


def random_detection_data(seed: int):
    """Datasets with random boxes and the same data as COCO ground truth and results lists."""
    rng = np.random.default_rng(seed)
    labels = ["car", "dog", "bird"]
    gt_items, dt_items, gt_anns, dt_results = [], [], [], []
    for k in range(1, 9):
        gt_shapes, dt_shapes = [], []
        for _ in range(int(rng.integers(0, 6))):
            x, y = rng.uniform(0, 150, 2)
            w, h = rng.uniform(4, 60, 2)
            label = labels[int(rng.integers(3))]
            gt_shapes.append(box(x, y, w, h, label))
            gt_anns.append({"image_id": k, "category_id": labels.index(label) + 1, "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0})
            if rng.random() < 0.8:  # found, more or less precisely
                j = rng.normal(0, 4, 4)
                d = [x + j[0], y + j[1], max(1.0, w + j[2]), max(1.0, h + j[3])]
                score = float(rng.uniform(0.05, 1))
                dt_shapes.append(box(*d, label, confidence=score))
                dt_results.append({"image_id": k, "category_id": labels.index(label) + 1, "bbox": d, "score": score})
        for _ in range(int(rng.integers(0, 3))):  # false positives
            d = [*rng.uniform(0, 150, 2), *rng.uniform(4, 60, 2)]
            label = labels[int(rng.integers(3))]
            score = float(rng.uniform(0.05, 1))
            dt_shapes.append(box(*d, label, confidence=score))
            dt_results.append({"image_id": k, "category_id": labels.index(label) + 1, "bbox": [float(v) for v in d], "score": score})
        gt_items.append(Item(f"{k}.jpg", 200, 200, gt_shapes))
        dt_items.append(Item(f"{k}.jpg", 200, 200, dt_shapes))
    for i, a in enumerate(gt_anns, 1):
        a["id"] = i
    coco = {
        "images": [{"id": k, "file_name": f"{k}.jpg", "width": 200, "height": 200} for k in range(1, 9)],
        "annotations": gt_anns,
        "categories": [{"id": i, "name": n} for i, n in enumerate(labels, 1)],
    }
    return Dataset(items=gt_items), Dataset(items=dt_items), coco, dt_results


@pytest.mark.parametrize("seed", range(5))
def test_coco_ap_matches_pycocotools_loadres(seed):
    """The in-memory COCO objects give what pycocotools gives on a ground-truth dict and a results
    list loaded with ``loadRes``, the usual way."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt_ds, dt_ds, coco_gt, results = random_detection_data(seed)
    with contextlib.redirect_stdout(io.StringIO()):
        ref_gt = COCO()
        ref_gt.dataset = coco_gt
        ref_gt.createIndex()
        ev = COCOeval(ref_gt, ref_gt.loadRes(results), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    got = coco_ap(gt_ds, dt_ds)
    ref_stats = [math.nan if v == -1 else v for v in ev.stats]
    assert list(got.stats) == pytest.approx(ref_stats, abs=1e-12, nan_ok=True)
    for k, cid in enumerate(ev.params.catIds):
        p = ev.eval["precision"][:, :, k, 0, -1]
        p = p[p > -1]
        name = coco_gt["categories"][cid - 1]["name"]  # our category ids differ: compare by name
        assert got.per_label[name] == pytest.approx(float(p.mean()) if p.size else math.nan, abs=1e-12, nan_ok=True)
    assert 0.0 < got.ap < 1.0
