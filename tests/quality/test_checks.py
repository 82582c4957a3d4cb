"""Tests for limner.quality.checks: each rule on a hand-made dataset, the vectorised paths against
a shape-by-shape reference on random data, the export behaviour (clip) and the report."""

from __future__ import annotations

import numpy as np
import pytest

from limner.core import rle
from limner.core.dataset import Dataset, Item
from limner.core.geometry import bbox, iou
from limner.core.schema import Attribute, Label, LabelSchema, Skeleton
from limner.core.shapes import Shape
from limner.errors import ValidationError
from limner.quality.checks import (
    GEOMETRY_RULES,
    RULES,
    CheckOptions,
    Hits,
    check_dataset,
    class_balance,
    robust_z,
    rule,
    run_checks,
)


def box(x, y, w, h, label="car", **kw) -> Shape:
    return Shape("box", label, {"x": x, "y": y, "w": w, "h": h}, **kw)


def poly(points, label="road", holes=()) -> Shape:
    return Shape("polygon", label, {"points": [list(p) for p in points], "holes": [list(map(list, h)) for h in holes]})


def ds(*items: Item, labels=("car", "road", "person")) -> Dataset:
    schema = LabelSchema([Label(n) for n in labels]) if labels else LabelSchema()
    return Dataset(schema=schema, items=list(items))


def hits(report_or_findings, rule_name):
    found = report_or_findings.findings if hasattr(report_or_findings, "findings") else report_or_findings
    return [(f.item, f.shape) for f in found if f.rule == rule_name]


# -- the geometry rules (what an export runs) -----------------------------------------------------


def test_geometry_rules_find_each_problem_and_name_item_shape_and_rule():
    bow_tie = [(0, 0), (10, 10), (10, 0), (0, 10)]
    m = np.zeros((5, 6), np.uint8)
    m[1:3, 1:3] = 1
    d = ds(
        Item("a.jpg", 100, 50, [
            box(90, 10, 20, 5),  # 0: reaches x 110 > 100
            poly(bow_tie),  # 1: self-intersecting
            poly([(1, 1), (1, 1), (2, 2)]),  # 2: 2 distinct points
            poly([(0, 0), (5, 0), (10, 0)]),  # 3: collinear: zero area (GEOS calls it invalid too)
            Shape("polyline", "road", {"points": [[3, 3], [3, 3]]}),  # 4: one distinct point
            Shape("mask", "road", {"rle": rle.encode(m)}),  # 5: 5x6, the image is 50x100
            Shape("tag", "car"),  # 6: fine
            Shape("ellipse", "car", {"cx": 10, "cy": 10, "rx": 5, "ry": 5, "angle": 0}),  # 7: fine
        ]),
        Item("b.jpg", None, None, [box(-5, -5, 10, 10)]),  # no size: outside is not checked
    )
    findings, counts = check_dataset(d)
    assert counts == {"outside_image": 1, "invalid_polygon": 2, "degenerate": 2, "mask_size": 1}
    got = {(f.item, f.shape, f.rule) for f in findings}
    assert got == {
        ("a.jpg", 0, "outside_image"),
        ("a.jpg", 1, "invalid_polygon"),
        ("a.jpg", 2, "degenerate"),
        ("a.jpg", 3, "invalid_polygon"),
        ("a.jpg", 4, "degenerate"),
        ("a.jpg", 5, "mask_size"),
    }
    by = {(f.shape, f.rule): f.message for f in findings}
    assert by[(0, "outside_image")] == "a.jpg shapes[0]: box reaches outside the 100x50 image"
    assert by[(1, "invalid_polygon")].startswith("a.jpg shapes[1]: Self-intersection")
    assert by[(2, "degenerate")] == "a.jpg shapes[2]: polygon has fewer than 3 distinct points"
    assert by[(4, "degenerate")] == "a.jpg shapes[4]: polyline has fewer than 2 distinct points"
    assert by[(5, "mask_size")] == "a.jpg shapes[5]: mask is 5x6, the image 50x100"
    assert [f.shape for f in findings] == sorted(f.shape for f in findings)  # item, then shape order


def test_check_dataset_clips_and_drops_as_exports_expect():
    d = ds(Item("a.jpg", 100, 50, [
        box(90, 10, 20, 5),
        poly([(-10, -10), (-1, -10), (-1, -1)]),  # wholly outside: dropped
        poly([(-10, 0), (20, 0), (20, 20), (-10, 20)]),
        box(1, 1, 5, 5),
    ]))
    findings, counts = check_dataset(d, clip=True)
    assert counts == {"outside_image": 3, "clipped": 2, "dropped_outside": 1}
    shapes = d.items[0].shapes
    assert len(shapes) == 3
    assert shapes[0].geometry == {"x": 90.0, "y": 10.0, "w": 10.0, "h": 5.0}
    assert min(p[0] for p in shapes[1].geometry["points"]) == 0.0
    assert [f.shape for f in findings] == [0, 1, 2]  # indices of the shapes as they were


def test_check_dataset_keeps_its_defaults_for_exports():
    d = ds(Item("empty.jpg", 10, 10, []), Item("a.jpg", 10, 10, [box(0, 0, 1, 1, label="ghost")]))
    findings, counts = check_dataset(d)
    assert findings == [] and counts == {}  # unlabelled, small_area, unknown_label are not export rules
    assert GEOMETRY_RULES == ("outside_image", "degenerate", "invalid_polygon", "mask_size")


def test_limit_lists_the_first_findings_and_counts_them_all():
    d = ds(*[Item(f"{i:02d}.jpg", 10, 10, [box(-1, 0, 5, 5), box(8, 8, 5, 5)]) for i in range(30)])
    findings, counts = check_dataset(d, limit=5)
    assert counts["outside_image"] == 60 and len(findings) == 5
    assert [(f.item, f.shape) for f in findings] == [("00.jpg", 0), ("00.jpg", 1), ("01.jpg", 0), ("01.jpg", 1), ("02.jpg", 0)]


# -- the quality rules ----------------------------------------------------------------------------


def test_unlabelled_images():
    rep = run_checks(ds(Item("a.jpg", 10, 10, []), Item("b.jpg", 10, 10, [Shape("tag", "car")])), rules=["unlabelled"])
    assert hits(rep, "unlabelled") == [("a.jpg", None)]
    assert rep.findings[0].message == "a.jpg: no shapes"


def test_small_area_below_the_minimum_but_not_zero():
    d = ds(Item("a.jpg", 100, 100, [
        box(0, 0, 3, 5),  # 15 < 16
        box(0, 0, 4, 4),  # 16: not below
        poly([(0, 0), (3, 0), (3, 3)]),  # 4.5
        Shape("ellipse", "car", {"cx": 50, "cy": 50, "rx": 1, "ry": 2, "angle": 0}),  # 2 pi = 6.28
        Shape("rotated_box", "car", {"cx": 50, "cy": 50, "w": 2, "h": 2, "angle": 30}),  # 4
        poly([(0, 0), (5, 0), (10, 0)]),  # zero area: degenerate, not small
    ]))
    rep = run_checks(d, rules=["small_area"])
    assert [s for _, s in hits(rep, "small_area")] == [0, 2, 3, 4]
    assert rep.findings[0].message == "a.jpg shapes[0]: box of 15 px², below 16"
    rep = run_checks(d, rules=["small_area"], options=CheckOptions(min_area=5))
    assert [s for _, s in hits(rep, "small_area")] == [2, 4]


def test_duplicates_same_label_and_kind_above_the_iou():
    sq = [(0, 0), (20, 0), (20, 20), (0, 20)]
    d = ds(Item("a.jpg", 100, 100, [
        box(10, 10, 50, 50),  # 0
        box(10.5, 10, 50, 50),  # 1: IoU 49.5*50 / (2500 + 25) = 0.980 with 0
        box(10, 10, 50, 50, label="person"),  # 2: another label
        box(12, 10, 50, 50),  # 3: IoU 48/52 = 0.923 with 0: not a duplicate
        box(10, 10, 50, 50),  # 4: a third copy: reported once, against 0
        poly(sq),  # 5
        poly([(0, 0), (20, 0), (20, 20.5), (0, 20)]),  # 6: one corner 0.5 higher: area 400 + 20 * 0.5 / 2, IoU 400/405 with 5
        poly([(x + 100, y) for x, y in sq]),  # 7: far away
    ]), Item("b.jpg", 100, 100, [box(10, 10, 50, 50)]))  # the same box in another image: fine
    rep = run_checks(d, rules=["duplicate"])
    assert hits(rep, "duplicate") == [("a.jpg", 1), ("a.jpg", 4), ("a.jpg", 6)]
    msgs = [f.message for f in rep.findings]
    assert msgs[0] == "a.jpg shapes[1]: duplicates shapes[0] (car, IoU 0.980)"
    assert msgs[1] == "a.jpg shapes[4]: duplicates shapes[0] (car, IoU 1.000)"
    assert msgs[2] == "a.jpg shapes[6]: duplicates shapes[5] (road, IoU 0.988)"


def test_missing_required_attributes_and_unknown_labels():
    schema = LabelSchema([
        Label("car", attributes=[Attribute("plate", "text", required=True), Attribute("colour", "select", ["red"], default="red", required=True)]),
        Label("road"),
    ])
    d = Dataset(schema=schema, items=[Item("a.jpg", 100, 100, [
        box(0, 0, 10, 10, attributes={"plate": "X"}),
        box(0, 0, 10, 10),  # plate missing (colour has a default: filled in on write)
        box(0, 0, 10, 10, attributes={"plate": None}),
        box(0, 0, 10, 10, label="lorry"),
    ])])
    rep = run_checks(d, rules=["missing_attribute", "unknown_label"])
    assert rep.counts == {"missing_attribute": 2, "unknown_label": 1}
    assert [f.message for f in rep.findings] == [
        "a.jpg shapes[1]: 'car' needs 'plate'",
        "a.jpg shapes[2]: 'car' needs 'plate'",
        "a.jpg shapes[3]: label 'lorry' is not in the schema",
    ]
    # without a schema (a format that has none) no label is unknown
    assert run_checks(Dataset(items=d.items), rules=["unknown_label"]).counts == {"unknown_label": 0}


def test_keypoints_outside_their_instance_box():
    schema = LabelSchema([Label("person", skeleton=Skeleton(["head", "hand"]))])
    d = Dataset(schema=schema, items=[Item("a.jpg", 200, 200, [
        box(10, 10, 50, 100, label="person", group_id=1),
        Shape("skeleton", "person", {"points": [[30, 20, 2], [70, 50, 2]]}, group_id=1),  # hand at x 70 > 60
        Shape("skeleton", "person", {"points": [[30, 20, 2], [90, 50, 0]]}, group_id=1),  # not labelled: fine
        Shape("points", "person", {"points": [[5, 5]]}, group_id=1),  # outside
        Shape("points", "person", {"points": [[500, 5]]}, group_id=2),  # no box with group 2
        Shape("points", "person", {"points": [[500, 5]]}),  # no group
        box(100, 100, 10, 10, label="person", group_id=3),
    ]), Item("b.jpg", 200, 200, [Shape("points", "person", {"points": [[500, 5]]}, group_id=1)])])
    rep = run_checks(d, rules=["keypoint_outside_box"])
    assert hits(rep, "keypoint_outside_box") == [("a.jpg", 1), ("a.jpg", 3)]
    assert rep.findings[0].message == "a.jpg shapes[1]: 1 of 2 points outside the box of group 1 (points 1)"


def test_robust_z_by_hand():
    # counts 10, 10, 11, 9, 10, 40: median 10, |deviations| 0 0 1 1 0 30 -> MAD 0.5;
    # z(40) = 0.6745 * 30 / 0.5 = 40.47; z(11) = 1.349
    z = robust_z(np.array([10, 10, 11, 9, 10, 40]))
    assert z == pytest.approx([0, 0, 1.349, -1.349, 0, 40.47])
    # MAD 0 (most counts equal): the mean absolute deviation instead, 1.253314 * (0+0+0+0+6)/5
    z = robust_z(np.array([5, 5, 5, 5, 11]))
    assert z[-1] == pytest.approx(6 / (1.253314 * 1.2))
    assert not robust_z(np.array([3, 3, 3])).any()


def test_shape_count_outliers():
    items = [Item(f"{i}.jpg", 10, 10, [box(0, 0, 5, 5)] * n) for i, n in enumerate([10, 10, 11, 9, 10, 40, 0])]
    rep = run_checks(ds(*items), rules=["count_outlier"])
    # median 10, |dev| 0 0 1 1 0 30 10 -> MAD 1: z(40) = 20.2, z(0) = -6.7, z(11) = 0.67
    assert hits(rep, "count_outlier") == [("5.jpg", None), ("6.jpg", None)]
    assert rep.findings[0].message == "5.jpg: 40 shapes, the median is 10 (robust z +20.2)"
    rep = run_checks(ds(*items), rules=["count_outlier"], options=CheckOptions(outlier_z=25))
    assert rep.counts == {"count_outlier": 0}


def test_class_balance():
    d = ds(Item("a.jpg", 10, 10, [box(0, 0, 5, 5)] * 6 + [box(0, 0, 5, 5, label="road")] * 2 + [box(0, 0, 5, 5, label="x")]))
    b = class_balance(d)
    assert b == {"labels": {"car": 6, "road": 2, "person": 0, "x": 1}, "most": "car", "least": "x", "ratio": 6.0,
                 "unused": ["person"]}
    assert class_balance(ds(Item("a.jpg", 1, 1, [])))["ratio"] is None


# -- the report and the registry ------------------------------------------------------------------


def test_report_carries_asset_ids_by_name_or_by_position():
    d = ds(Item("a.jpg", 10, 10, []), Item("b.jpg", 10, 10, [box(-1, 0, 5, 5)]))
    rep = run_checks(d, asset_ids={"a.jpg": 7, "b.jpg": 9})
    assert [(f.item, f.rule, f.asset_id) for f in rep.findings] == [("a.jpg", "unlabelled", 7), ("b.jpg", "outside_image", 9)]
    rep = run_checks(d, asset_ids=[3, 4])
    assert [f.asset_id for f in rep.findings] == [3, 4]
    out = rep.to_dict()
    assert out["counts"]["outside_image"] == 1 and out["total"] == 2 and out["truncated"] is False
    assert out["findings"][1] == {"item": "b.jpg", "shape": 0, "rule": "outside_image",
                                   "message": "b.jpg shapes[0]: box reaches outside the 10x10 image", "asset_id": 4}
    assert [r["name"] for r in out["rules"]] == list(RULES)
    assert run_checks(d, limit=1).to_dict()["truncated"] is True


def test_unknown_rules_are_refused():
    with pytest.raises(ValidationError, match="unknown rule nope; rules are outside_image"):
        run_checks(ds(), rules=["nope"])


def test_a_registered_rule_runs_like_the_built_in_ones():
    @rule("wide_box", "box wider than 3 times its height")
    def _wide(t, o):
        idx, arr = t.boxes
        s = idx[arr[:, 2] > 3 * arr[:, 3]]
        return Hits.of((t.item[f], t.index[f], f"{t.where(f)}: wide") for f in s)

    try:
        rep = run_checks(ds(Item("a.jpg", 100, 100, [box(0, 0, 10, 10), box(0, 0, 40, 10)])), rules=["wide_box"])
        assert [(f.shape, f.message) for f in rep.findings] == [(1, "a.jpg shapes[1]: wide")]
    finally:
        from limner.quality import checks

        del checks.RULES["wide_box"], checks._CHECKS["wide_box"]


# -- the vectorised paths against a shape-by-shape reference -------------------------------------


def _random_dataset(seed: int) -> Dataset:
    rng = np.random.default_rng(seed)
    items = []
    for i in range(60):
        shapes = []
        for _ in range(rng.integers(0, 12)):
            label = ["car", "road"][rng.integers(0, 2)]
            if rng.random() < 0.5:
                x, y = rng.uniform(-20, 120, 2)
                w, h = rng.uniform(1, 40, 2)
                shapes.append(box(x, y, w, h, label=label))
                if rng.random() < 0.3:  # a near copy
                    shapes.append(box(x + rng.uniform(-0.3, 0.3), y, w, h, label=label))
            else:
                c = rng.uniform(0, 100, 2)
                n = int(rng.integers(3, 9))
                a = np.sort(rng.uniform(0, 2 * np.pi, n)) if rng.random() < 0.8 else rng.uniform(0, 2 * np.pi, n)
                r = rng.uniform(0.5, 30, n)
                pts = np.stack([c[0] + r * np.cos(a), c[1] + r * np.sin(a)], 1).round(2)
                shapes.append(poly(pts.tolist(), label=label))
                if rng.random() < 0.3:
                    shapes.append(poly((pts + rng.uniform(-0.05, 0.05, pts.shape)).tolist(), label=label))
        items.append(Item(f"{i}.jpg", 100, 100, shapes))
    return ds(*items)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vectorised_rules_agree_with_a_shape_by_shape_reference(seed):
    from shapely.geometry import Polygon

    d = _random_dataset(seed)
    rep = run_checks(d, limit=100_000, options=CheckOptions(min_area=30))
    want = {r: set() for r in ("outside_image", "invalid_polygon", "small_area", "duplicate")}
    for it in d.items:
        for j, s in enumerate(it.shapes):
            b = bbox(s.kind, s.geometry)
            if b[0] < 0 or b[1] < 0 or b[0] + b[2] > 100 or b[1] + b[3] > 100:
                want["outside_image"].add((it.name, j))
            if s.kind == "polygon":
                p = Polygon(s.geometry["points"])
                if not p.is_valid:
                    want["invalid_polygon"].add((it.name, j))
                    continue
                a = p.area
            else:
                a = s.geometry["w"] * s.geometry["h"]
            if 0 < a < 30:
                want["small_area"].add((it.name, j))
            for k in range(j):
                o = it.shapes[k]
                if o.kind == s.kind and o.label == s.label and (s.kind == "box" or Polygon(o.geometry["points"]).is_valid):
                    if iou(o.kind, o.geometry, s.kind, s.geometry) > 0.95:
                        want["duplicate"].add((it.name, j))
    for r, expected in want.items():
        assert set(hits(rep, r)) == expected, r
    assert want["duplicate"] and want["invalid_polygon"] and want["small_area"] and want["outside_image"]
