"""Label Studio JSON export: realistic exports built from the documented format, the brush RLE
against a transcription of label-studio-converter's brush.py, round trips, bad input, detection."""

from __future__ import annotations

import json
from itertools import groupby
from pathlib import Path

import numpy as np
import pytest

from limner import formats
from limner.core import rle as _rle
from limner.core.dataset import Dataset, Item
from limner.core.raster import rotated_box_corners
from limner.core.shapes import Shape
from limner.formats import labelstudio as ls
from limner.formats.base import FormatError

from ._shared import ASSETS, assert_valid, close  # noqa: E402







# label-studio-converter brush.py (decode_rle / encode_rle), transcribed: the reference the module's
# own fast implementation is checked against.
def ref_decode(rle: list[int]) -> np.ndarray:
    bits = "".join(f"{b:08b}" for b in rle)
    pos = 0

    def read(n):
        nonlocal pos
        v = int(bits[pos : pos + n], 2)
        pos += n
        return v

    num, word = read(32), read(5) + 1
    sizes = [read(4) + 1 for _ in range(4)]
    out, i = np.zeros(num, np.uint8), 0
    while i < num:
        x = read(1)
        j = i + 1 + read(sizes[read(2)])
        if x:
            out[i:j] = read(word)
            i = j
        else:
            while i < j:
                out[i] = read(word)
                i += 1
    return out


def ref_encode(arr) -> list[int]:
    parts = [f"{len(arr):032b}", f"{7:05b}"] + [f"{x - 1:04b}" for x in (3, 4, 8, 16)]
    for v, g in groupby(int(a) for a in arr):
        n = len(list(g))
        if n == 1:
            parts.append("0" + "00" + "000" + f"{v:08b}")
        elif n <= 8:
            parts.append("1" + "00" + f"{n - 1:03b}" + f"{v:08b}")
        elif n <= 16:
            parts.append("1" + "01" + f"{n - 1:04b}" + f"{v:08b}")
        elif n <= 256:
            parts.append("1" + "10" + f"{n - 1:08b}" + f"{v:08b}")
        else:
            while n > 2**16:
                parts.append("1" + "11" + f"{2**16 - 1:016b}" + f"{v:08b}")
                n -= 2**16
            parts.append("1" + "11" + f"{n - 1:016b}" + f"{v:08b}")
    s = "".join(parts)
    s += (8 - len(s) % 8) * "0"
    return [int(s[i : i + 8], 2) for i in range(0, len(s), 8)]


MASK = np.zeros((40, 60), np.uint8)
MASK[5:20, 10:30] = 1
MASK[8:12, 15:20] = 0


@pytest.mark.parametrize("h,w,seed", [(1, 1, 0), (7, 5, 1), (40, 60, 2), (300, 400, 3)])
def test_brush_rle_agrees_with_label_studio_converter(h, w, seed):
    rng = np.random.default_rng(seed)
    m = (rng.random((h, w)) > 0.6).astype(np.uint8)
    m[h // 3 :, : w // 2] = 1  # long runs too
    ours = ls.brush_encode(m)
    assert (ref_decode(ours)[3::4] > 0).reshape(h, w).tolist() == m.tolist()
    theirs = ref_encode(np.repeat(m.ravel() * 255, 4))
    assert ls.brush_decode(theirs, h, w).tolist() == m.tolist()
    # as the Label Studio editor paints: label colour in RGB, 255 alpha
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[m > 0] = (255, 0, 128, 255)
    assert ls.brush_decode(ref_encode(rgba.ravel()), h, w).tolist() == m.tolist()


def test_brush_rle_runs_longer_than_16_bits():
    m = np.ones((300, 400), np.uint8)  # 480000 equal values: several 65536-long blocks
    assert (ref_decode(ls.brush_encode(m)) == 255).all()
    assert ls.brush_decode(ref_encode(np.repeat(m.ravel() * 255, 4)), 300, 400).all()


# ------------------------------------------------------------------------------------ reading


def res(rid, typ, value, *, W=200, H=100, from_name=None, **extra) -> dict:
    """One result as Label Studio exports it."""
    r = {"original_width": W, "original_height": H, "image_rotation": 0, "value": value, "id": rid,
         "from_name": from_name or {"rectanglelabels": "label", "polygonlabels": "poly", "keypointlabels": "kp",
                                    "ellipselabels": "ell", "brushlabels": "tag", "choices": "weather"}.get(typ, typ),
         "to_name": "image", "type": typ, "origin": "manual"}  # fmt: skip
    r.update(extra)
    return r


def export(tmp_path: Path) -> Path:
    results = [
        res("r1", "rectanglelabels", {"x": 10, "y": 20, "width": 30, "height": 40, "rotation": 0, "rectanglelabels": ["Car"]}),
        res("r1", "textarea", {"text": ["blue, dented"]}, from_name="notes"),
        res("r1", "choices", {"choices": ["true"]}, from_name="parked"),
        res("r2", "rectanglelabels", {"x": 25, "y": 20, "width": 20, "height": 30, "rotation": 90, "rectanglelabels": ["Car"]},
            parentID="r1"),
        res("p1", "polygonlabels", {"points": [[10, 10], [50, 10], [30, 80]], "closed": True, "polygonlabels": ["Road"]}),
        res("k1", "keypointlabels", {"x": 50, "y": 50, "width": 0.6, "keypointlabels": ["Eye"]}),
        res("e1", "ellipselabels", {"x": 50, "y": 50, "radiusX": 10, "radiusY": 20, "rotation": 15, "ellipselabels": ["Sun"]}),
        res("b1", "brushlabels", {"format": "rle", "rle": ref_encode(np.repeat(np.pad(MASK, ((0, 60), (0, 140))).ravel() * 255, 4)),
                                  "brushlabels": ["Sky"]}),
        res("c1", "choices", {"choices": ["Sunny", "Windy"]}),
        {"from_id": "k1", "to_id": "e1", "type": "relation", "direction": "right", "labels": []},
    ]  # fmt: skip
    tasks = [
        {
            "id": 7,
            "annotations": [
                {"id": 11, "completed_by": 1, "result": results[:1], "was_cancelled": False, "ground_truth": False,
                 "created_at": "2024-05-01T10:00:00Z", "lead_time": 3.5, "task": 7},
                {"id": 12, "completed_by": 2, "result": results, "was_cancelled": False, "ground_truth": True,
                 "created_at": "2024-05-01T11:00:00Z", "lead_time": 9.1, "task": 7},
                {"id": 13, "completed_by": 3, "result": [], "was_cancelled": True, "ground_truth": False, "task": 7},
            ],
            "file_upload": "8f2c1a9e-street.jpg",
            "drafts": [],
            "predictions": [
                {"id": 3, "model_version": "yolov8n", "score": 0.5, "task": 7, "result": [
                    res("m1", "rectanglelabels", {"x": 0, "y": 0, "width": 10, "height": 10, "rotation": 0, "rectanglelabels": ["Car"]},
                        score=0.91),
                    res("m2", "rectanglelabels", {"x": 50, "y": 50, "width": 10, "height": 10, "rotation": 0, "rectanglelabels": ["Car"]}),
                ]},
            ],
            "data": {"image": "/data/upload/1/8f2c1a9e-street.jpg"},
            "meta": {"source": "camera 3"},
            "inner_id": 1,
            "total_annotations": 2,
        },
        {"id": 8, "annotations": [], "predictions": [], "data": {"image": "/data/local-files/?d=photos%2Fpark.jpg"}},
        {"id": 9, "annotations": [], "predictions": [], "data": {"image": "s3://bucket/raw/lake.jpg"}},
    ]  # fmt: skip
    f = tmp_path / "project-1-at-2024-05-01.json"
    f.write_text(json.dumps(tasks, indent=1))
    return f


def test_reads_a_realistic_export(tmp_path):
    ds, report = ls.read(export(tmp_path))
    assert [i.name for i in ds.items] == ["8f2c1a9e-street.jpg", "photos/park.jpg", "raw/lake.jpg"]
    item = ds.items[0]
    assert (item.width, item.height) == (200, 100)
    assert item.metadata["labelstudio"]["id"] == 7 and item.metadata["labelstudio"]["meta"] == {"source": "camera 3"}
    by = {(s.kind, s.label, s.source): s for s in item.shapes}
    car = by[("box", "Car", "manual")]
    assert car.geometry == {"x": 20.0, "y": 20.0, "w": 60.0, "h": 40.0}  # 10 %, 20 %, 30 %, 40 % of 200 x 100
    assert car.attributes == {"notes": "blue, dented", "parked": True}
    # x=25 % y=20 % w=20 % h=30 % of 200 x 100 turned 90 degrees about its top-left corner (50, 20):
    # corners (50, 20), (50, 60), (20, 60), (20, 20), centre (35, 40)
    rot = by[("rotated_box", "Car", "manual")]
    assert close(rot.geometry, {"cx": 35.0, "cy": 40.0, "w": 40.0, "h": 30.0, "angle": 90.0})
    assert close(rotated_box_corners(rot.geometry).tolist(), [[50, 20], [50, 60], [20, 60], [20, 20]])
    assert car.group_id == rot.group_id == 1  # parentID
    assert by[("polygon", "Road", "manual")].geometry == {"points": [[20.0, 10.0], [100.0, 10.0], [60.0, 80.0]], "holes": []}
    eye, sun = by[("points", "Eye", "manual")], by[("ellipse", "Sun", "manual")]
    assert eye.geometry == {"points": [[100.0, 50.0]]}
    assert sun.geometry == {"cx": 100.0, "cy": 50.0, "rx": 20.0, "ry": 20.0, "angle": 15.0}
    assert eye.group_id == sun.group_id == 2  # a relation
    sky = _rle.decode(by[("mask", "Sky", "manual")].geometry["rle"])
    assert sky.shape == (100, 200) and sky[:40, :60].tolist() == MASK.tolist() and int(sky.sum()) == int(MASK.sum())
    assert [s.label for s in item.shapes if s.kind == "tag"] == ["Sunny", "Windy"]
    preds = [s for s in item.shapes if s.source == "model:yolov8n"]
    assert [(p.geometry["x"], p.confidence) for p in preds] == [(0.0, 0.91), (100.0, 0.5)]  # result score, else task score
    assert report.dropped == {"cancelled annotations skipped": 1,
                              "other annotations of a task skipped (all_annotations=True keeps them)": 1}  # fmt: skip
    assert report.missing_images == ["8f2c1a9e-street.jpg", "photos/park.jpg", "raw/lake.jpg"]
    info = ds.info["labelstudio"]
    assert info["from_names"]["rectanglelabels"] == "label" and info["to_name"] == "image" and info["data_key"] == "image"
    assert_valid(ds)


def test_all_annotations_keeps_every_annotator(tmp_path):
    ds, report = ls.read(export(tmp_path), all_annotations=True)
    manual_boxes = [s for s in ds.items[0].shapes if s.kind == "box" and s.source == "manual"]
    assert len(manual_boxes) == 2
    assert report.dropped == {"cancelled annotations skipped": 1}


def test_images_found_beside_the_export_or_under_image_root(tmp_path):
    (tmp_path / "imgs" / "photos").mkdir(parents=True)
    from PIL import Image

    Image.new("RGB", (32, 16)).save(tmp_path / "imgs" / "photos" / "park.jpg")
    ds, report = ls.read(export(tmp_path), image_root=tmp_path / "imgs")
    park = ds.items[1]
    assert park.image == tmp_path / "imgs" / "photos" / "park.jpg" and (park.width, park.height) == (32, 16)
    assert "photos/park.jpg" not in report.missing_images


# ------------------------------------------------------------------------------------ round trips


ROUND_TRIPS = [
    ("box", {"x": 1.5, "y": 2.25, "w": 10.125, "h": 5.0}, {"truncated": True, "color": "red", "doors": 4}),
    ("rotated_box", {"cx": 20.0, "cy": 15.0, "w": 12.0, "h": 4.0, "angle": 33.3}, {}),
    ("polygon", {"points": [[0.5, 0.25], [10.0, 1.0], [7.123456789, 9.0]], "holes": []}, {"note": "x"}),
    ("points", {"points": [[3.0, 4.0]]}, {}),
    ("ellipse", {"cx": 30.0, "cy": 20.0, "rx": 8.0, "ry": 3.0, "angle": -20.0}, {}),
    ("mask", {"rle": _rle.encode(MASK)}, {}),
    ("tag", {}, {}),
]


@pytest.mark.parametrize("source,confidence", [("manual", None), ("model:sam-2", 0.875)], ids=["annotation", "prediction"])
@pytest.mark.parametrize("kind,geometry,attributes", ROUND_TRIPS, ids=[r[0] for r in ROUND_TRIPS])
def test_round_trip_each_kind(tmp_path, kind, geometry, attributes, source, confidence):
    ds = Dataset()
    ds.items.append(Item("a.jpg", 60, 40, [Shape(kind, "thing", geometry, attributes, source=source, confidence=confidence)]))
    report = ls.write(ds, tmp_path)
    assert report.dropped == {}
    tasks = json.loads((tmp_path / "tasks.json").read_text())
    assert len(tasks[0]["annotations" if source == "manual" else "predictions"]) == 1
    back, _ = ls.read(tmp_path)
    (s,) = back.items[0].shapes
    assert (s.kind, s.label, s.attributes, s.source, s.confidence) == (kind, "thing", attributes, source, confidence)
    assert close(geometry, s.geometry), s.geometry
    assert_valid(back)


def test_write_separates_annotations_and_predictions_and_keeps_groups(tmp_path):
    ds = Dataset()
    shapes = [
        Shape("box", "car", {"x": 0, "y": 0, "w": 10, "h": 10}, group_id=4),
        Shape("box", "wheel", {"x": 1, "y": 6, "w": 3, "h": 3}, group_id=4),
        Shape("box", "car", {"x": 20, "y": 0, "w": 10, "h": 10}, source="model:a", confidence=0.5),
        Shape("box", "car", {"x": 30, "y": 0, "w": 10, "h": 10}, source="model:a", confidence=0.7),
        Shape("box", "car", {"x": 40, "y": 0, "w": 10, "h": 10}, source="model:b"),
    ]
    ds.items.append(Item("a.jpg", 60, 40, shapes, metadata={"labelstudio": {"id": 42, "data": {"image": "s3://b/a.jpg"}}}))
    ls.write(ds, tmp_path / "out.json")
    (task,) = json.loads((tmp_path / "out.json").read_text())
    assert task["id"] == 42 and task["data"] == {"image": "s3://b/a.jpg"}
    (ann,) = task["annotations"]
    assert [r.get("parentID") for r in ann["result"]] == [None, ann["result"][0]["id"]]
    assert [(p["model_version"], p.get("score"), len(p["result"])) for p in task["predictions"]] == [("a", 0.6, 2), ("b", None, 1)]
    back, _ = ls.read(tmp_path / "out.json")
    got = back.items[0].shapes
    assert [s.group_id for s in got[:2]] == [1, 1] and got[0].source == "manual"
    assert [(s.source, s.confidence) for s in got[2:]] == [("model:a", 0.5), ("model:a", 0.7), ("model:b", None)]


def test_label_config_matches_the_results(tmp_path):
    import defusedxml.ElementTree as DET

    ds = Dataset()
    ds.items.append(Item("a.jpg", 60, 40, [
        Shape("box", "car", {"x": 0, "y": 0, "w": 10, "h": 10}, {"parked": True, "note": "x"}),
        Shape("mask", "sky", {"rle": _rle.encode(MASK)}), Shape("tag", "sunny")]))  # fmt: skip
    ls.write(ds, tmp_path)
    root = DET.fromstring((tmp_path / "label_config.xml").read_text())
    controls = {(c.tag, c.get("name")) for c in root}
    results = {(r["type"], r["from_name"]) for r in json.loads((tmp_path / "tasks.json").read_text())[0]["annotations"][0]["result"]}
    tag_of = {"rectanglelabels": "RectangleLabels", "brushlabels": "BrushLabels", "choices": "Choices", "textarea": "TextArea"}
    assert {(tag_of[t], n) for t, n in results} <= controls
    assert [lb.get("value") for lb in root.find("RectangleLabels")] == ["car", "sky"]


@pytest.mark.parametrize(
    "shape,dropped",
    [
        (Shape("polyline", "x", {"points": [[1, 1], [5, 5]]}), {"polylines not representable in Label Studio": 1}),
        (Shape("polygon", "x", {"points": [[0, 0], [9, 0], [9, 9]], "holes": [[[1, 1], [2, 1], [2, 2]]]}),
         {"polygon holes dropped": 1}),
        (Shape("skeleton", "x", {"points": [[1, 1, 2], [2, 2, 1], [0, 0, 0]]}), {"skeletons written as keypoints": 1}),
        (Shape("points", "x", {"points": [[1, 1], [2, 2]]}), {"multi-point shapes written as one keypoint per point": 1}),
        (Shape("box", "x", {"x": 1, "y": 1, "w": 2, "h": 2}, z_order=2), {"z-orders and track ids not representable": 1}),
        (Shape("box", "x", {"x": 1, "y": 1, "w": 2, "h": 2}, source="auto"),
         {"sources other than manual and model:* written as manual": 1}),
        (Shape("tag", "x", {}, {"k": 1}), {"tag attributes not representable": 1}),
    ],
)  # fmt: skip
def test_lossy_writes_are_counted(tmp_path, shape, dropped):
    ds = Dataset()
    ds.items.append(Item("a.jpg", 60, 40, [shape]))
    assert ls.write(ds, tmp_path).dropped == dropped


# ------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "doc,needle",
    [
        ('{"data": {}}', "(root)"),
        ('[{"id": 1}]', "([0].data)"),
        ('[{"data": {"image": 5}}]', "([0].data)"),
        ('[{"data": {"image": "a.jpg"}, "annotations": [{"result": {}}]}]', "([0].annotations[0].result)"),
        ('[{"data": {"image": "a.jpg"}, "annotations": [{"result": [{"id": "a", "type": "rectanglelabels", "original_width": 10, '
         '"original_height": 10, "value": {"x": 1, "y": 1, "height": 2, "rectanglelabels": ["c"]}}]}]}]',
         "([0].annotations[0].result[0])"),
        ('[{"data": {"image": "a.jpg"}, "predictions": [{"result": [{"id": "a", "type": "polygonlabels", "value": '
         '{"points": [[1, 1], [2, 2], [3, 1]], "polygonlabels": ["c"]}}]}]}]', "missing original_width"),
        ('[{"data": {"image": "a.jpg"}, "annotations": [{"result": [{"id": "a", "type": "brushlabels", "original_width": 10, '
         '"original_height": 10, "value": {"format": "rle", "rle": [0, 0, 0, 4, 224, 0, 0], "brushlabels": ["c"]}}]}]}]',
         "brush rle holds 4 values"),
        ('[{"data": {"image": "a.jpg"},\n "annotations": [\n}]', ":3"),
    ],
)  # fmt: skip
def test_bad_input_names_file_and_key(tmp_path, doc, needle):
    f = tmp_path / "export.json"
    f.write_text(doc)
    with pytest.raises(FormatError) as e:
        ls.read(f)
    assert str(f) in str(e.value) and needle in str(e.value)


def test_regions_without_labels_are_counted(tmp_path):
    doc = [{"data": {"image": "a.jpg"}, "annotations": [{"result": [res("a", "rectangle", {"x": 1, "y": 1, "width": 2, "height": 2})]}]}]
    (tmp_path / "e.json").write_text(json.dumps(doc))
    ds, report = ls.read(tmp_path / "e.json")
    assert ds.items[0].shapes == [] and report.dropped == {"regions without a label skipped": 1}


# ------------------------------------------------------------------------------------ detection


@pytest.mark.skipif(not ASSETS.is_dir(), reason="peer data ../shared/peer-data/datumaro is not present")
def test_detect_claims_no_other_peer_folder():
    for d in [p for top in sorted(ASSETS.iterdir()) if top.is_dir() for p in [top, *sorted(top.rglob("*"))] if p.is_dir()]:
        assert ls.detect(d) == 0, d
        for f in sorted(d.glob("*.json"))[:5]:
            assert ls.detect(f) == 0, f


def test_detect_export_file_and_folder(tmp_path):
    f = export(tmp_path)
    assert formats.detect(f)[0] == ("labelstudio", 90)
    assert formats.detect(tmp_path)[0][0] == "labelstudio"


def test_detect_tells_the_sibling_formats_apart(tmp_path):
    ds = Dataset()
    ds.items.append(Item("a.jpg", 60, 40, [Shape("box", "car", {"x": 1, "y": 2, "w": 3, "h": 4})]))
    for name in ("cvat", "labelme", "labelme_xml", "via", "labelstudio"):
        formats.write(ds, tmp_path / name, name)
        assert formats.detect(tmp_path / name)[0][0] == name
        assert (ls.detect(tmp_path / name) > 0) == (name == "labelstudio")


def test_shape_and_labels_results_sharing_an_id(tmp_path):
    """Configs with <Rectangle> plus a separate <Labels> give two results with one id."""
    doc = [{"data": {"image": "a.jpg"}, "annotations": [{"result": [
        res("a", "rectangle", {"x": 10, "y": 10, "width": 20, "height": 20}, from_name="box"),
        res("a", "labels", {"labels": ["Car"]}, from_name="kind"),
        res("a", "number", {"number": 3}, from_name="doors"),
    ]}]}]  # fmt: skip
    (tmp_path / "e.json").write_text(json.dumps(doc))
    ds, report = ls.read(tmp_path / "e.json")
    (s,) = ds.items[0].shapes
    assert (s.kind, s.label, s.geometry, s.attributes) == ("box", "Car", {"x": 20.0, "y": 10.0, "w": 40.0, "h": 20.0}, {"doors": 3})
    assert report.dropped == {}
    assert_valid(ds)
