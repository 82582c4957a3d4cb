"""Tests for limner.formats.coco and limner.formats.coco_panoptic: datumaro's COCO files, round trips
for every shape kind, what COCO cannot hold, pycocotools reading and evaluating our output, bad
input and detection.

Expected numbers from the peer files (datumaro tests/assets/coco_dataset), worked out by hand:

- image a.jpg (train, id 5) is 10 wide x 5 high; b.jpg (val, id 40) 5 wide x 10 high.
- instances_train: one box of "b" [2, 2, 3, 1]. instances_val: a polygon of "a" [0,0 1,0 1,2 0,2]
  with attributes x=1, y="hello"; a crowd RLE of "b", counts [0, 20, 30] on 10 x 5: column-major,
  so the first 20 pixels are the two left columns (20 pixels).
- person_keypoints repeat those annotations (same ids) and add keypoints: train "b"
  [0,0,0, 0,2,1, 4,1,2]; val "a" [1,2,2, 3,4,2, 2,3,2], "b" [2,4,2, 4,4,2, 4,2,2]. Categories
  name no keypoints and give edges [[0,1],[1,2]] (0-based, unlike COCO).
- stuff_train: an RLE of "a", counts [10,10,5,10,15] on 5 x 10 -> columns 2, 3, 5, 6 (20 pixels).
- labels: train "b"; val "a" and "b". captions: train "hello"; val "world", "text".
- panoptic (coco/): a.png has id 7 on columns 2, 3, 5, 6; b.png id 7 on columns 0-1 ("a") and id
  20 on columns 2-3 ("b", iscrowd). coco_panoptic/a.png is 5 x 5 while its image is 10 x 5.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import orjson
import pytest
from PIL import Image

from limner import formats
from limner.core import rle
from limner.core.dataset import Dataset, Item
from limner.core.geometry import iou, rasterize
from limner.core.schema import Attribute, Label, LabelSchema, Skeleton
from limner.core.shapes import Shape
from limner.formats import coco, coco_panoptic
from limner.formats.base import FormatError

ASSETS = Path(__file__).resolve().parents[3] / "shared" / "peer-data" / "datumaro" / "tests" / "assets"
PEER = ASSETS / "coco_dataset"
needs_peer = pytest.mark.skipif(not PEER.is_dir(), reason="shared/peer-data (datumaro's test assets) is not beside the repo")


def near(v, tol=1e-6):
    return pytest.approx(v, abs=tol)


def kinds(item: Item) -> list[tuple[str, str]]:
    return sorted((s.kind, s.label) for s in item.shapes)


def by_name(ds: Dataset) -> dict[str, Item]:
    return {it.name: it for it in ds.items}


def only(item: Item, kind: str, label: str) -> Shape:
    found = [s for s in item.shapes if s.kind == kind and s.label == label]
    assert len(found) == 1, (kind, label, item.shapes)
    return found[0]


def columns(h: int, w: int, cols) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    m[:, list(cols)] = 1
    return m


# -- conformance: datumaro's files ---------------------------------------------------------------

TRAIN, VAL = "train/a.jpg", "val/b.jpg"


@needs_peer
@pytest.mark.parametrize(
    "folder, fmt, expected",
    [
        ("coco_instances", "coco", {TRAIN: [("box", "b")], VAL: [("mask", "b"), ("polygon", "a")]}),
        (
            "coco_person_keypoints",
            "coco",
            {
                TRAIN: [("box", "b"), ("skeleton", "b")],
                VAL: [("box", "a"), ("box", "b"), ("mask", "b"), ("polygon", "a"), ("skeleton", "a"), ("skeleton", "b")],
            },
        ),
        ("coco_labels", "coco", {TRAIN: [("tag", "b")], VAL: [("tag", "a"), ("tag", "b")]}),
        ("coco_image_info", "coco", {TRAIN: [], VAL: []}),
        (
            "coco",
            "coco",
            {
                TRAIN: [("box", "b"), ("mask", "a"), ("skeleton", "b"), ("tag", "b")],
                VAL: [
                    ("box", "a"), ("box", "b"), ("mask", "b"), ("polygon", "a"),
                    ("skeleton", "a"), ("skeleton", "b"), ("tag", "a"), ("tag", "b"),
                ],
            },
        ),
        ("coco_panoptic", "coco_panoptic", {TRAIN: [], VAL: [("mask", "a"), ("mask", "b")]}),
        ("coco", "coco_panoptic", {TRAIN: [("mask", "a")], VAL: [("mask", "a"), ("mask", "b")]}),
    ],
)  # fmt: skip
def test_reads_datumaro_coco(folder, fmt, expected):
    ds, report, used = formats.read(PEER / folder, format=fmt)
    assert used == fmt
    items = by_name(ds)
    assert sorted(items) == [TRAIN, VAL]
    assert (items[TRAIN].subset, items[VAL].subset) == ("train", "val")
    assert (items[TRAIN].width, items[TRAIN].height) == (10, 5)
    assert (items[VAL].width, items[VAL].height) == (5, 10)
    assert items[TRAIN].image == (PEER / folder / "images" / "train" / "a.jpg").resolve()
    assert items[TRAIN].metadata["coco"]["id"] == 5 and items[VAL].metadata["coco"]["id"] == 40
    assert report.missing_images == []
    for name, want in expected.items():
        assert kinds(items[name]) == want, name
    assert report.items == 2 and report.shapes == sum(len(v) for v in expected.values())


@needs_peer
def test_peer_instances_coordinates_attributes_and_category_ids():
    ds, report = coco.read(PEER / "coco_instances")
    assert [lb.name for lb in ds.schema] == ["a", "b", "c"]
    assert {n: c["id"] for n, c in ds.info["coco"]["categories"].items()} == {"a": 1, "b": 2, "c": 4}
    items = by_name(ds)
    box = only(items[TRAIN], "box", "b")
    assert box.geometry == {"x": 2.0, "y": 2.0, "w": 3.0, "h": 1.0} and box.group_id is None
    poly = only(items[VAL], "polygon", "a")
    assert poly.geometry == {"points": [[0.0, 0.0], [1.0, 0.0], [1.0, 2.0], [0.0, 2.0]], "holes": []}
    assert all(type(c) is float for p in poly.geometry["points"] for c in p)
    assert poly.attributes == {"x": 1, "y": "hello"}
    mask = only(items[VAL], "mask", "b")
    assert mask.attributes == {"iscrowd": True}
    assert mask.geometry["rle"]["size"] == [10, 5] and isinstance(mask.geometry["rle"]["counts"], str)
    assert np.array_equal(rle.decode(mask.geometry["rle"]), columns(10, 5, [0, 1]))
    a = ds.schema.get("a")
    assert {x.name: x.kind for x in a.attributes} == {"x": "number", "y": "text"}
    assert report.problems == []


@needs_peer
def test_peer_keypoints_become_grouped_skeletons_and_boxes():
    ds, report = coco.read(PEER / "coco_person_keypoints")
    items = by_name(ds)
    sk = only(items[TRAIN], "skeleton", "b")
    assert sk.geometry["points"] == [[0.0, 0.0, 0], [0.0, 2.0, 1], [4.0, 1.0, 2]]
    box = only(items[TRAIN], "box", "b")
    assert box.geometry == {"x": 2.0, "y": 2.0, "w": 3.0, "h": 1.0}
    assert sk.group_id == box.group_id == 1  # the annotation's id
    val = items[VAL]
    assert only(val, "skeleton", "a").geometry["points"] == [[1.0, 2.0, 2], [3.0, 4.0, 2], [2.0, 3.0, 2]]
    assert only(val, "skeleton", "b").geometry["points"] == [[2.0, 4.0, 2], [4.0, 4.0, 2], [4.0, 2.0, 2]]
    assert {s.group_id for s in val.shapes if s.label == "a"} == {1}
    assert {s.group_id for s in val.shapes if s.label == "b"} == {2}
    assert only(val, "skeleton", "b").attributes == {"iscrowd": True}
    for name in ("a", "b"):
        skel = ds.schema.get(name).skeleton
        assert skel.points == ["1", "2", "3"] and skel.edges == [(0, 1), (1, 2)]
    assert sum("read as 0-based" in p for p in report.problems) == 2


@needs_peer
def test_peer_full_folder_merges_tasks_captions_and_stuff():
    ds, report = coco.read(PEER / "coco")
    items = by_name(ds)
    assert items[TRAIN].metadata["captions"] == ["hello"]
    assert items[VAL].metadata["captions"] == ["world", "text"]
    stuff = only(items[TRAIN], "mask", "a")
    assert np.array_equal(rle.decode(stuff.geometry["rle"]), columns(5, 10, [2, 3, 5, 6]))
    # instances and person_keypoints share annotation ids: one polygon, not two
    assert len([s for s in items[VAL].shapes if s.kind == "polygon"]) == 1
    assert any("coco_panoptic" in p for p in report.problems)


@needs_peer
def test_peer_panoptic_masks_isthing_and_the_mismatched_png():
    ds, report = coco_panoptic.read(PEER / "coco")
    items = by_name(ds)
    assert np.array_equal(rle.decode(only(items[TRAIN], "mask", "a").geometry["rle"]), columns(5, 10, [2, 3, 5, 6]))
    a, b = only(items[VAL], "mask", "a"), only(items[VAL], "mask", "b")
    assert np.array_equal(rle.decode(a.geometry["rle"]), columns(10, 5, [0, 1]))
    assert np.array_equal(rle.decode(b.geometry["rle"]), columns(10, 5, [2, 3]))
    assert a.attributes == {} and b.attributes == {"iscrowd": True}
    assert ds.info["coco"]["categories"]["a"]["isthing"] == 0
    ds2, report2 = coco_panoptic.read(PEER / "coco_panoptic")
    assert by_name(ds2)[TRAIN].shapes == []
    assert report2.dropped == {"segments whose PNG size differs from the image skipped": 1}
    assert any("a.png is 5x5 pixels, the image 10x5" in p for p in report2.problems)


@needs_peer
def test_peer_full_folder_survives_a_round_trip(tmp_path):
    ds, _ = coco.read(PEER / "coco")
    report = coco.write(ds, tmp_path / "out")
    assert report.dropped == {}
    names = sorted(p.name for p in (tmp_path / "out" / "annotations").iterdir())
    assert names == [f"{t}_{s}.json" for t in ("captions", "instances", "labels") for s in ("train", "val")]
    back, _ = coco.read(tmp_path / "out")

    def key(d):
        return sorted(
            (it.name, s.kind, s.label, repr(s.geometry), repr(sorted(s.attributes.items())), s.group_id)
            for it in d.items
            for s in it.shapes
        )

    assert key(back) == key(ds)
    assert [it.metadata for it in back.items] == [it.metadata for it in ds.items]
    assert back.info["coco"]["categories"] == ds.info["coco"]["categories"]


# -- round trip: every kind --------------------------------------------------------------------------

H, W = 48, 64
SKEL = Skeleton(points=["nose", "left", "right"], edges=[(0, 1), (0, 2)])


def sample() -> Dataset:
    schema = LabelSchema(
        [
            Label("car", attributes=[Attribute("color", "text"), Attribute("iscrowd", "checkbox")]),
            Label("person", skeleton=SKEL),
            Label("sky"),
            Label("scene"),
        ]
    )
    holed = {
        "points": [[10.0, 10.0], [40.0, 10.0], [40.0, 40.0], [10.0, 40.0]],
        "holes": [[[20.0, 20.0], [30.0, 20.0], [30.0, 30.0], [20.0, 30.0]]],
    }
    sky = np.zeros((H, W), np.uint8)
    sky[:10, :] = 1
    sky[5:8, 50:60] = 0
    a = Item(
        "train/0001.jpg",
        W,
        H,
        [
            Shape("box", "car", {"x": 1.5, "y": 2.25, "w": 10.0, "h": 5.0}, {"color": "red"}),
            Shape("box", "car", {"x": 3.0, "y": 4.0, "w": 6.0, "h": 7.0}, {}, 2, None, 5, "model:det", 0.5),
            Shape("rotated_box", "car", {"cx": 30.0, "cy": 20.0, "w": 10.0, "h": 4.0, "angle": 30.0}),
            Shape("polygon", "car", {"points": [[1.0, 1.0], [9.0, 1.0], [5.0, 8.5]], "holes": []}, {}, 0, 7),
            Shape("polygon", "car", {"points": [[20.0, 1.0], [29.0, 1.0], [25.0, 8.0]], "holes": []}, {}, 0, 7),
            Shape("polygon", "car", {"points": [[2.5, 30.0], [8.0, 30.0], [8.0, 44.0]], "holes": []}),
            Shape("polygon", "car", holed),
            Shape("mask", "sky", {"rle": rle.encode(sky)}, {"iscrowd": True}),
            Shape("skeleton", "person", {"points": [[10.0, 10.0, 2], [12.0, 9.0, 1], [0.0, 0.0, 0]]}, {}, 0, 3),
            Shape("box", "person", {"x": 8.0, "y": 5.0, "w": 8.0, "h": 20.0}, {}, 0, 3),
            Shape("skeleton", "person", {"points": [[30.0, 30.0, 2], [33.0, 31.0, 2], [28.0, 32.0, 1]]}),
            Shape("skeleton", "person", {"points": [[50.0, 40.0, 2], [52.0, 41.0, 2], [51.0, 42.0, 2]]}, {}, 0, 9),
            Shape("polygon", "person", {"points": [[48.0, 38.0], [56.0, 38.0], [52.0, 46.0]], "holes": []}, {}, 0, 9),
            Shape("rotated_box", "person", {"cx": 50.0, "cy": 40.0, "w": 6.0, "h": 3.0, "angle": -15.0}, {}, 0, 9),
            Shape("tag", "scene", {}, {}, 0, None, None, "model:cls", 0.75),
            Shape("ellipse", "car", {"cx": 50.0, "cy": 30.0, "rx": 8.0, "ry": 5.0, "angle": 10.0}),
            Shape("polyline", "car", {"points": [[0.0, 0.0], [5.0, 5.0]]}),
            Shape("points", "car", {"points": [[1.0, 2.0]]}),
        ],
        "train",
        {"coco": {"id": 11, "license": 3}},
    )
    b = Item("val/0002.jpg", 32, 32, [Shape("polygon", "car", {"points": [[1.0, 1.0], [9.0, 1.0], [9.0, 9.0]], "holes": []})], "val")
    c = Item("0003.jpg", 20, 10, [Shape("box", "sky", {"x": 0.0, "y": 0.0, "w": 20.0, "h": 3.0})], None, {"captions": ["a car"]})
    return Dataset(schema, [a, b, c], {"coco": {"info": {"description": "sample"}, "licenses": [{"id": 3, "name": "cc"}]}})


LOSSLESS = {"box", "rotated_box", "polygon", "mask", "skeleton", "tag"}


def same_geometry(kind: str, a: dict, b: dict) -> bool:
    if kind == "mask":
        return np.array_equal(rle.decode(a["rle"]), rle.decode(b["rle"]))
    if kind in ("polygon", "skeleton"):
        pa, pb = a["points"], b["points"]
        return len(pa) == len(pb) and all(abs(u - v) < 1e-6 for p, q in zip(pa, pb) for u, v in zip(p, q))
    return a.keys() == b.keys() and all(abs(a[k] - b[k]) < 1e-6 for k in a)


def test_round_trip_every_kind(tmp_path):
    ds = sample()
    report = coco.write(ds, tmp_path / "out")
    assert report.dropped == {
        "polygons with holes written as RLE masks": 1,
        "ellipses written as polygons": 1,
        "polylines dropped (COCO has none)": 1,
        "points shapes dropped (COCO has none)": 1,
        "rotated boxes written as CVAT-style boxes with a rotation attribute": 2,
    }
    files = sorted(p.name for p in (tmp_path / "out" / "annotations").iterdir())
    assert files == ["captions_default.json", "instances_default.json", "instances_train.json",
                     "instances_val.json", "labels_train.json"]  # fmt: skip
    back, rep2 = coco.read(tmp_path / "out")
    back.items.sort(key=lambda it: ["train/0001.jpg", "val/0002.jpg", "0003.jpg"].index(it.name))  # files by subset
    assert [(it.name, it.subset, it.width, it.height) for it in back.items] == [
        ("train/0001.jpg", "train", W, H), ("val/0002.jpg", "val", 32, 32), ("0003.jpg", None, 20, 10)
    ]  # fmt: skip
    assert back.items[0].metadata["coco"] == {"id": 11, "license": 3}
    assert back.items[2].metadata["captions"] == ["a car"]
    assert back.info["coco"]["info"] == {"description": "sample"}
    assert [lb.name for lb in back.schema] == ["car", "person", "sky", "scene"]
    assert back.schema.get("person").skeleton == SKEL
    for orig, got in zip(ds.items, back.items):
        want = [s for s in orig.shapes if s.kind in LOSSLESS and not (s.kind == "polygon" and s.geometry["holes"])]
        rest = list(got.shapes)
        for s in want:
            match = [
                g for g in rest
                if (g.kind, g.label, g.attributes, g.z_order, g.group_id, g.track_id, g.source, g.confidence)
                == (s.kind, s.label, s.attributes, s.z_order, s.group_id, s.track_id, s.source, s.confidence)
                and same_geometry(s.kind, s.geometry, g.geometry)
            ]  # fmt: skip
            assert match, (orig.name, s)
            rest.remove(match[0])
        if orig.name == "train/0001.jpg":
            # the lossy ones: the holed polygon is now a mask with the same pixels, the ellipse a polygon
            assert sorted(g.kind for g in rest) == ["mask", "polygon"]
            holed = next(s for s in orig.shapes if s.kind == "polygon" and s.geometry["holes"])
            m = next(g for g in rest if g.kind == "mask")
            assert np.array_equal(rle.decode(m.geometry["rle"]), rasterize("polygon", holed.geometry, H, W))
            ell = next(s for s in orig.shapes if s.kind == "ellipse")
            p = next(g for g in rest if g.kind == "polygon")
            assert len(p.geometry["points"]) == 64 and iou("ellipse", ell.geometry, "polygon", p.geometry) > 0.99
        else:
            assert rest == []
    assert rep2.dropped == {} and rep2.problems == []


def test_written_json_layout(tmp_path):
    coco.write(sample(), tmp_path)
    doc = orjson.loads((tmp_path / "annotations" / "instances_train.json").read_bytes())
    cats = {c["name"]: c for c in doc["categories"]}
    assert [c["id"] for c in doc["categories"]] == [1, 2, 3, 4]
    assert cats["person"]["keypoints"] == ["nose", "left", "right"]
    assert cats["person"]["skeleton"] == [[1, 2], [1, 3]]  # 1-based
    assert doc["images"] == [{"id": 11, "file_name": "0001.jpg", "width": W, "height": H, "license": 3}]
    anns = doc["annotations"]
    assert [a["id"] for a in anns] == list(range(1, len(anns) + 1))
    first = anns[0]
    assert first == {"id": 1, "image_id": 11, "category_id": 1, "segmentation": [], "area": 50.0,
                     "bbox": [1.5, 2.25, 10.0, 5.0], "iscrowd": 0, "attributes": {"color": "red"}}  # fmt: skip
    assert anns[1]["score"] == 0.5 and anns[1]["limner"] == {"z_order": 2, "track_id": 5, "source": "model:det"}
    rot = anns[2]
    assert rot["bbox"] == [25.0, 18.0, 10.0, 4.0] and rot["attributes"] == {"rotation": 30.0}
    multi = [a for a in anns if a.get("limner", {}).get("group_id") == 7]
    assert len(multi) == 1 and len(multi[0]["segmentation"]) == 2
    assert multi[0]["area"] == near(0.5 * 8 * 7.5 + 0.5 * 9 * 7)
    kp = [a for a in anns if "keypoints" in a]
    assert [a["num_keypoints"] for a in kp] == [2, 3, 3]
    assert kp[0]["bbox"] == [8.0, 5.0, 8.0, 20.0] and kp[0]["limner"] == {"group_id": 3}
    assert kp[1]["limner"] == {"bbox_derived": True} and kp[1]["bbox"] == [28.0, 30.0, 5.0, 2.0]
    assert kp[2]["limner"] == {"bbox_derived": True, "group_id": 9} and kp[2]["bbox"] == [48.0, 38.0, 8.0, 8.0]
    assert kp[2]["segmentation"] == [[48.0, 38.0, 56.0, 38.0, 52.0, 46.0]] and kp[2]["area"] == 32.0
    tags = orjson.loads((tmp_path / "annotations" / "labels_train.json").read_bytes())["annotations"]
    assert tags == [{"id": 1, "image_id": 11, "category_id": 4, "score": 0.75, "limner": {"source": "model:cls"}}]


@needs_peer
def test_category_ids_are_kept_and_new_labels_get_the_next(tmp_path):
    ds, _ = coco.read(PEER / "coco_instances")
    ds.ensure_label("d")
    ds.items[0].shapes.append(Shape("box", "d", {"x": 0.0, "y": 0.0, "w": 1.0, "h": 1.0}))
    coco.write(ds, tmp_path)
    doc = orjson.loads((tmp_path / "annotations" / "instances_train.json").read_bytes())
    assert {c["name"]: c["id"] for c in doc["categories"]} == {"a": 1, "b": 2, "c": 4, "d": 5}
    assert sorted(a["category_id"] for a in doc["annotations"]) == [2, 5]


def test_group_ids_from_coco_group_id_and_one_based_skeletons(tmp_path):
    doc = {
        "images": [{"id": 1, "file_name": "x.jpg", "width": 10, "height": 10}],
        "categories": [{"id": 3, "name": "p", "keypoints": ["a", "b", "c"], "skeleton": [[1, 2], [2, 3]]}],
        "annotations": [
            {"id": 9, "image_id": 1, "category_id": 3, "bbox": [1, 1, 2, 2], "group_id": 4},
            {"id": 10, "image_id": 1, "category_id": 3, "bbox": [1, 1, 2, 2], "segmentation": [[0, 0, 4, 0, 4, 4], [5, 5, 8, 5, 8, 8]]},
            {"id": 11, "image_id": 1, "category_id": 3, "bbox": [2, 2, 3, 3], "keypoints": [1, 1, 2, 2, 2, 2, 3, 3, 1]},
        ],
    }
    (tmp_path / "x.json").write_bytes(orjson.dumps(doc))
    ds, report = coco.read(tmp_path / "x.json")
    assert ds.schema.get("p").skeleton == Skeleton(points=["a", "b", "c"], edges=[(0, 1), (1, 2)])
    shapes = ds.items[0].shapes
    assert [(s.kind, s.group_id) for s in shapes] == [
        ("box", 4), ("polygon", 10), ("polygon", 10), ("skeleton", 11), ("box", 11)
    ]  # fmt: skip
    assert shapes[1].geometry["points"] == [[0.0, 0.0], [4.0, 0.0], [4.0, 4.0]]
    assert all(type(c) is float for s in shapes if s.kind == "polygon" for p in s.geometry["points"] for c in p)
    assert ds.items[0].name == "x.jpg" and ds.items[0].subset is None
    assert report.problems == [] and report.missing_images == ["x.jpg"]


def test_single_json_finds_images_beside_it_and_reads_missing_sizes(tmp_path):
    (tmp_path / "images").mkdir()
    Image.new("RGB", (7, 3)).save(tmp_path / "images" / "one.png")
    Image.new("RGB", (4, 4)).save(tmp_path / "two.png")
    doc = {"images": [{"id": 1, "file_name": "one.png"}, {"id": 2, "file_name": "two.png"}], "annotations": [], "categories": []}
    (tmp_path / "data.json").write_bytes(orjson.dumps(doc))
    assert formats.detect(tmp_path / "data.json")[0][0] == "coco"
    ds, report = coco.read(tmp_path / "data.json")
    assert [(it.name, it.width, it.height, it.image) for it in ds.items] == [
        ("one.png", 7, 3, (tmp_path / "images" / "one.png").resolve()),
        ("two.png", 4, 4, (tmp_path / "two.png").resolve()),
    ]
    assert report.missing_images == []


def test_include_images_copies_into_the_layout(tmp_path):
    src = tmp_path / "src.png"
    Image.new("RGB", (W, H)).save(src)
    ds = sample()
    for it in ds.items:
        it.image = src
    coco.write(ds, tmp_path / "out", include_images=True)
    assert (tmp_path / "out" / "images" / "train" / "0001.jpg").is_file()
    assert (tmp_path / "out" / "images" / "default" / "0003.jpg").is_file()
    back, report = coco.read(tmp_path / "out")
    assert report.missing_images == [] and by_name(back)["val/0002.jpg"].image == (tmp_path / "out/images/val/0002.jpg").resolve()


def test_rewrite_removes_files_of_an_earlier_write_and_tasks_option(tmp_path):
    ds = sample()
    coco.write(ds, tmp_path)
    assert (tmp_path / "annotations" / "labels_train.json").is_file()
    for it in ds.items:
        it.shapes = [s for s in it.shapes if s.kind != "tag"]
    report = coco.write(ds, tmp_path)
    assert not (tmp_path / "annotations" / "labels_train.json").exists()
    assert len(report.problems) == 1 and "labels_train.json: removed" in report.problems[0]
    only_captions, _ = coco.read(tmp_path, tasks=("captions",))
    assert [(it.name, it.metadata["captions"], it.shapes) for it in only_captions.items] == [("0003.jpg", ["a car"], [])]


def test_tolerated_problems_are_counted_not_raised(tmp_path):
    doc = {
        "images": [{"id": 1, "file_name": "x.jpg", "width": 10, "height": 10}],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 99, "bbox": [0, 0, 1, 1]},
            {"id": 2, "image_id": 42, "category_id": 1, "bbox": [0, 0, 1, 1]},
            {"id": 3, "image_id": 1, "category_id": 1, "bbox": [0, 0, 0, 1]},
            {"id": 4, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "segmentation": [[0, 0, 1, 1]]},
            {"id": 5, "image_id": 1, "category_id": 1, "segmentation": {"size": [5, 5], "counts": [25]}},
            {"id": 6, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2], "score": 7},
        ],
    }
    (tmp_path / "instances_x.json").write_bytes(orjson.dumps(doc))
    ds, report = coco.read(tmp_path / "instances_x.json")
    assert report.dropped == {
        "annotations with an unknown category_id skipped": 1,
        "annotations of images not in the file skipped": 1,
        "boxes with zero width or height skipped": 1,
        "polygons with fewer than 3 points skipped": 1,
        "masks whose size differs from their image skipped": 1,
    }
    shapes = ds.items[0].shapes
    assert [(s.kind, s.confidence, s.attributes) for s in shapes] == [
        ("box", None, {}), ("box", None, {"score": 7})
    ]  # fmt: skip
    assert ds.items[0].name == "x/x.jpg" and ds.items[0].subset == "x"


# -- independent readers: pycocotools ------------------------------------------------------------


def _cocoeval(gt_file: Path, iou_type: str, dets: list[dict], **params) -> float:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_file))
        dt = gt.loadRes(dets)
        e = COCOeval(gt, dt, iou_type)
        for k, v in params.items():
            setattr(e.params, k, v)
        e.evaluate()
        e.accumulate()
        e.summarize()
    return float(e.stats[0])


def eval_dataset() -> Dataset:
    """Polygons, masks, boxes and skeletons over a few images and labels (no crowd, no tags)."""
    schema = LabelSchema([Label("cat"), Label("dog"), Label("person", skeleton=SKEL)])
    items = []
    rng = np.random.default_rng(3)
    for k in range(4):
        shapes = []
        for j in range(3):
            x, y = 5.0 + 18 * j, 4.0 + 10 * k
            shapes.append(Shape("polygon", "cat" if j % 2 else "dog",
                                {"points": [[x, y], [x + 12, y + 1], [x + 6, y + 9]], "holes": []}))  # fmt: skip
        m = np.zeros((H, W), np.uint8)
        m[30 + k : 40, 10 + k : 30] = 1
        shapes.append(Shape("mask", "dog", {"rle": rle.encode(m)}))
        shapes.append(Shape("mask", "cat", {"rle": rle.encode(rng.random((H, W)) > 0.7)}))
        pts = [[20.0 + 3 * k, 20.0, 2], [24.0, 22.0 + k, 2], [18.0, 25.0, 1]]
        shapes.append(Shape("skeleton", "person", {"points": pts}, {}, 0, 100 + k))
        shapes.append(Shape("box", "person", {"x": 15.0, "y": 18.0, "w": 14.0, "h": 10.0 + k}, {}, 0, 100 + k))
        items.append(Item(f"train/{k}.jpg", W, H, shapes, "train"))
    return Dataset(schema, items)


@pytest.fixture()
def written(tmp_path) -> tuple[Dataset, Path]:
    ds = eval_dataset()
    coco.write(ds, tmp_path)
    return ds, tmp_path / "annotations" / "instances_train.json"


def test_pycocotools_reads_counts_and_mask_pixels(written):
    from pycocotools.coco import COCO

    ds, f = written
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(f))
    assert len(gt.getImgIds()) == 4 and len(gt.getAnnIds()) == 4 * 6
    assert [c["name"] for c in gt.loadCats(gt.getCatIds())] == ["cat", "dog", "person"]
    masks = [s for it in ds.items for s in it.shapes if s.kind == "mask"]
    got = [a for a in gt.loadAnns(gt.getAnnIds()) if isinstance(a["segmentation"], dict)]
    assert len(got) == len(masks) == 8
    for s, a in zip(masks, got):
        m = gt.annToMask(a)
        want = rle.decode(s.geometry["rle"])
        assert int(m.sum()) == int(want.sum()) and np.array_equal(m, want)
        assert a["area"] == float(want.sum())


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_cocoeval_of_our_output_against_itself_is_perfect(written, iou_type):
    from pycocotools.coco import COCO

    _, f = written
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(f))
    dets = []
    for a in gt.loadAnns(gt.getAnnIds()):
        d = {"image_id": a["image_id"], "category_id": a["category_id"], "score": 1.0}
        if iou_type == "bbox":
            d["bbox"] = a["bbox"]
        else:
            if a["category_id"] == 3:  # person: keypoints and a box, no segmentation
                continue
            d["segmentation"] = gt.annToRLE(a)
        dets.append(d)
    params = {} if iou_type == "bbox" else {"catIds": [1, 2]}
    assert _cocoeval(f, iou_type, dets, **params) == 1.0


def test_cocoeval_keypoints_of_our_output_against_itself_is_perfect(written):
    from pycocotools.coco import COCO

    _, f = written
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(f))
    anns = gt.loadAnns(gt.getAnnIds(catIds=[3]))
    assert len(anns) == 4 and all(a["num_keypoints"] == 3 for a in anns)
    dets = [{"image_id": a["image_id"], "category_id": 3, "keypoints": a["keypoints"], "score": 1.0} for a in anns]
    sigmas = np.array([0.026, 0.025, 0.025])
    assert _cocoeval(f, "keypoints", dets, catIds=[3], kpt_oks_sigmas=sigmas) == 1.0


# -- panoptic -------------------------------------------------------------------------------------


def test_panoptic_id_colours():
    ids = np.array([[0, 7, 256], [70000, 256**3 - 1, 65536]], np.uint32)
    rgb = coco_panoptic.rgb_of(ids)
    assert rgb[1, 0].tolist() == [70000 % 256, (70000 // 256) % 256, 70000 // 65536]
    assert np.array_equal(coco_panoptic.ids_of(rgb), ids)


def test_panoptic_round_trip(tmp_path):
    m = np.zeros((10, 12), np.uint8)
    m[2:6, 1:5] = 1
    poly = {"points": [[6.0, 1.0], [11.0, 1.0], [11.0, 8.0], [6.0, 8.0]], "holes": []}
    shapes = [
        Shape("mask", "road", {"rle": rle.encode(m)}, {"iscrowd": True}),
        Shape("polygon", "car", poly, {"color": "blue"}, 1),
        Shape("box", "car", {"x": 8.0, "y": 6.0, "w": 4.0, "h": 4.0}, {}, 2),  # on top of the polygon
        Shape("box", "car", {"x": 7.0, "y": 2.0, "w": 2.0, "h": 2.0}, {}, 0),  # under the polygon: hidden
        Shape("tag", "road"),
    ]
    ds = Dataset(LabelSchema([Label("road"), Label("car")]), [Item("train/p.jpg", 12, 10, shapes, "train")])
    ds.info["coco"] = {"categories": {"road": {"id": 7, "isthing": 0}}}
    report = coco_panoptic.write(ds, tmp_path)
    assert report.dropped == {
        "tag shapes dropped (COCO panoptic has only segments)": 1,
        "shapes hidden by shapes above them (or empty) dropped": 1,
        "shapes that lost overlapping pixels to a shape above them": 1,
    }
    doc = orjson.loads((tmp_path / "annotations" / "panoptic_train.json").read_bytes())
    assert [(c["name"], c["id"], c["isthing"]) for c in doc["categories"]] == [("road", 7, 0), ("car", 8, 1)]
    (ann,) = doc["annotations"]
    assert ann["file_name"] == "p.png"
    png = np.asarray(Image.open(tmp_path / "annotations" / "panoptic_train" / "p.png")).astype(np.int64)
    ids = png[..., 0].astype(int) + 256 * png[..., 1] + 65536 * png[..., 2]
    segs = ann["segments_info"]
    assert [(s["category_id"], s["area"], s["iscrowd"]) for s in segs] == [(7, 16, 1), (8, 35 - 3 * 2, 0), (8, 16, 0)]  # 5x7 less the 3x2 under the box
    for s in segs:
        assert int((ids == s["id"]).sum()) == s["area"]
    assert segs[0]["bbox"] == [1, 2, 4, 4]
    assert formats.detect(tmp_path)[0][0] == "coco_panoptic"
    back, rep = coco_panoptic.read(tmp_path)
    got = back.items[0].shapes
    assert [(s.kind, s.label, s.attributes, s.z_order) for s in got] == [
        ("mask", "road", {"iscrowd": True}, 0), ("mask", "car", {"color": "blue"}, 1), ("mask", "car", {}, 2)
    ]  # fmt: skip
    assert np.array_equal(rle.decode(got[0].geometry["rle"]), m)
    top = rasterize("box", shapes[2].geometry, 10, 12)
    assert np.array_equal(rle.decode(got[2].geometry["rle"]), top)
    under = rasterize("polygon", poly, 10, 12) & (1 - top)
    assert np.array_equal(rle.decode(got[1].geometry["rle"]), under)
    assert back.info["coco"]["categories"]["road"] == {"id": 7, "supercategory": "", "isthing": 0}


# -- bad input -----------------------------------------------------------------------------------

IMG = {"id": 1, "file_name": "x.jpg", "width": 10, "height": 10}
CAT = {"id": 1, "name": "a"}


def doc_with(ann: dict | None = None, **top) -> bytes:
    d = {"images": [IMG], "categories": [CAT], "annotations": [] if ann is None else [ann]}
    d.update(top)
    return orjson.dumps(d)


def ann(**kw) -> dict:
    return {"id": 1, "image_id": 1, "category_id": 1, **kw}


@pytest.mark.parametrize(
    "content, where",
    [
        (b'{"images": [\n  {"id": 1,\n', ":3"),
        (b"[1, 2]", "must hold a JSON object"),
        (doc_with(images={"id": 1}), "(images)"),
        (doc_with(images=[{"id": 1}]), "(images[0])"),
        (doc_with(images=[{"id": 1, "file_name": "x.jpg", "width": "ten"}]), "(images[0].width)"),
        (doc_with(categories=[{"id": 1}]), "(categories[0])"),
        (doc_with(categories=[{"id": "1", "name": "a"}]), "(categories[0].id)"),
        (doc_with(ann(bbox=[0, 0, "w", 1])), "(annotations[0].bbox)"),
        (doc_with(ann(bbox=[0, 0, 1])), "(annotations[0].bbox)"),
        (doc_with(ann(segmentation=[[0, 0, 1, 1, 2]])), "(annotations[0].segmentation[0])"),
        (doc_with(ann(segmentation=[[0, 0, 1, None, 2, 2]])), "(annotations[0].segmentation[0])"),
        (doc_with(ann(segmentation="x")), "(annotations[0].segmentation)"),
        (doc_with(ann(segmentation={"size": [10, 10], "counts": "zz"})), "(annotations[0].segmentation)"),
        (doc_with(ann(segmentation={"size": [10, 10], "counts": [50]})), "(annotations[0].segmentation)"),
        (doc_with(ann(keypoints=[1, 2, 2, 3])), "(annotations[0].keypoints)"),
        (doc_with(ann(keypoints=[1, 2, 5])), "(annotations[0].keypoints)"),
        (doc_with(ann(attributes=[1])), "(annotations[0].attributes)"),
        (doc_with(ann(limner={"z_order": "top"})), "(annotations[0].limner)"),
        (doc_with(None, annotations=[ann(bbox=[0, 0, 1, 1]), 7]), "(annotations[1])"),
    ],
)
def test_bad_input_names_file_and_key(tmp_path, content, where):
    f = tmp_path / "instances_bad.json"
    f.write_bytes(content)
    with pytest.raises(FormatError) as e:
        coco.read(f)
    assert "instances_bad.json" in str(e.value) and where in str(e.value)


@pytest.mark.parametrize(
    "annotation, where",
    [
        ({"image_id": 1, "segments_info": []}, "(annotations[0].file_name)"),
        ({"image_id": 1, "file_name": "x.png", "segments_info": {}}, "(annotations[0].segments_info)"),
        ({"image_id": 1, "file_name": "x.png", "segments_info": [{"id": -3, "category_id": 1}]},
         "(annotations[0].segments_info[0])"),
        ({"image_id": 1, "file_name": "x.png", "segments_info": [{"id": 2, "category_id": 1, "attributes": 5}]},
         "(annotations[0].segments_info[0].attributes)"),
    ],
)  # fmt: skip
def test_bad_panoptic_input_names_file_and_key(tmp_path, annotation, where):
    (tmp_path / "annotations" / "panoptic_val").mkdir(parents=True)
    Image.new("RGB", (10, 10)).save(tmp_path / "annotations" / "panoptic_val" / "x.png")
    d = {"images": [IMG], "categories": [CAT], "annotations": [annotation]}
    (tmp_path / "annotations" / "panoptic_val.json").write_bytes(orjson.dumps(d))
    with pytest.raises(FormatError) as e:
        coco_panoptic.read(tmp_path)
    assert "panoptic_val.json" in str(e.value) and where in str(e.value)


def test_empty_folder_is_a_format_error(tmp_path):
    with pytest.raises(FormatError, match="no COCO annotation files"):
        coco.read(tmp_path)


def test_writing_to_a_json_path_is_refused(tmp_path):
    from limner.errors import ValidationError

    with pytest.raises(ValidationError, match="written as a folder"):
        coco.write(sample(), tmp_path / "out.json")


# -- detection ------------------------------------------------------------------------------------


@needs_peer
@pytest.mark.parametrize(
    "folder, first",
    [
        ("coco", "coco"),
        ("coco_instances", "coco"),
        ("coco_person_keypoints", "coco"),
        ("coco_labels", "coco"),
        ("coco_image_info", "coco"),
        ("coco_panoptic", "coco_panoptic"),
    ],
)
def test_detection_ranks_coco_first_on_its_peer_data(folder, first):
    found = formats.detect(PEER / folder)
    assert found and found[0][0] == first


def _other_folders() -> list[Path]:
    out = []
    for d in sorted(ASSETS.iterdir()):
        if d.is_dir() and d.name != "coco_dataset":
            out.append(d)
            out += sorted(c for c in d.rglob("*") if c.is_dir())
            out += sorted(d.rglob("*.json"))
    return out


@needs_peer
def test_detection_does_not_claim_other_formats_folders():
    claimed = {
        (p.relative_to(ASSETS).as_posix(), name)
        for p in _other_folders()
        for name, mod in (("coco", coco), ("coco_panoptic", coco_panoptic))
        if mod.detect(p)
    }
    # mapillary's panoptic_*.json files are COCO panoptic JSON; given directly, they may be read as such
    assert {c for c in claimed if not c[0].endswith(".json")} == set()
    assert {n for p, n in claimed} <= {"coco_panoptic"}


def test_registered_names():
    assert {"coco", "coco_panoptic"} <= set(formats.names())
    assert formats.get("coco").write is coco.write and formats.get("coco_panoptic").read is coco_panoptic.read


def test_plain_polygons_take_the_short_path_to_the_same_shapes():
    ring = [10.5, 20.0, 30.0, 20.0, 30.0, 40.25, 10.5, 40.25]
    plain = {"id": 1, "image_id": 1, "category_id": 1, "segmentation": [ring], "area": 400.0, "bbox": [10.5, 20, 19.5, 20.25],
             "iscrowd": 0}
    cases = [
        plain,
        {**plain, "attributes": {}},  # a key beyond the plain ones: the general path
        {**plain, "iscrowd": 1},  # a crowd: iscrowd becomes an attribute
        {**plain, "segmentation": [ring, ring[:6]]},  # two rings: two shapes of one group
        {**plain, "segmentation": [[True, 2, 3, 4, 5, 6]]},  # numbers Python sums (a bool is 1)
    ]
    data = {"images": [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 64}],
            "categories": [{"id": 1, "name": "cell"}], "annotations": cases}
    ds = coco.coco_to_dataset([("instances", None, data, "x.json")])
    got = [s.to_dict() for s in ds.items[0].shapes]
    fast, general = got[0], got[1]
    assert fast == general
    assert fast["geometry"]["points"] == [[10.5, 20.0], [30.0, 20.0], [30.0, 40.25], [10.5, 40.25]]
    assert (fast["kind"], fast["attributes"], fast["group_id"], fast["source"]) == ("polygon", {}, None, "manual")
    assert got[2]["attributes"] == {"iscrowd": True}
    assert [s["group_id"] for s in got[3:5]] == [1, 1] and got[5]["geometry"]["points"][0] == [1.0, 2.0]
    for bad, words in (([["a", 2, 3, 4, 5, 6]], "polygon coordinates must be numbers"),
                       ([[float("nan"), 2, 3, 4, 5, 6]], "must be finite numbers"),
                       ([[1, 2, 3, 4, 5]], "flat list")):
        broken = {**data, "annotations": [plain, {**plain, "segmentation": bad}]}
        with pytest.raises(FormatError, match=words) as e:
            coco.coco_to_dataset([("instances", None, broken, "x.json")])
        assert "annotations[1].segmentation[0]" in str(e.value)


@pytest.mark.parametrize("chunk", [1, 2, 20_000])
def test_streamed_documents_are_the_bytes_of_the_whole_documents(tmp_path, chunk):
    """The writer streams each instances document in chunks of annotations; every file is the same
    bytes as its whole document dumped at once, also when a skeleton of a label the schema gives no
    points is first met in the last subset (its keypoint count is in every file's categories)."""
    from limner.formats.coco.api import _write_documents
    from limner.formats.coco.layout import dumps
    from limner.formats.coco.writing import dataset_to_coco

    ds = sample()
    ds.schema = LabelSchema([*ds.schema, Label("hand")])
    ds.items[2].shapes.append(Shape("skeleton", "hand", {"points": [[1.0, 1.0, 2], [3.0, 2.0, 2]]}))
    ds.items.append(Item("val/0004.jpg", 32, 32, [], "val"))  # no annotation at all
    ds.items[1].shapes += [Shape("polygon", "car", {"points": [[2.0, 2.0], [9.0 + k, 1.0], [9.0, 9.0]], "holes": []})
                           for k in range(5)]  # fmt: skip
    whole = dataset_to_coco(ds)
    written = _write_documents(ds, tmp_path, formats.base.Report("COCO"), chunk=chunk)
    assert written == set(whole)
    for (task, subset), doc in whole.items():
        assert (tmp_path / f"{task}_{subset}.json").read_bytes() == dumps(doc), (task, subset)
    hand = [c for c in whole[("instances", "train")]["categories"] if c["name"] == "hand"]
    assert hand[0]["keypoints"] == ["1", "2"]
    assert [a["id"] for a in whole[("instances", "val")]["annotations"]] == [1, 2, 3, 4, 5, 6]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{t}_{s}.json" for t, s in whole)


def test_a_failed_write_leaves_the_earlier_files_and_no_partial_one(tmp_path):
    ds = sample()
    coco.write(ds, tmp_path)
    before = {p.name: p.read_bytes() for p in (tmp_path / "annotations").iterdir()}
    ds.items[1].shapes[0].attributes = {"colour": object()}  # not JSON: fails in the middle of the val file
    with pytest.raises(TypeError):
        coco.write(ds, tmp_path)
    assert {p.name: p.read_bytes() for p in (tmp_path / "annotations").iterdir()} == before
