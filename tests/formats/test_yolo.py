"""Tests for limner.formats.yolo: datumaro's YOLO files, round trips for every task, what each task
cannot hold, an independent check of the written files against Ultralytics' rules, bad input and
detection.

Expected numbers from the peer files, worked out by hand: every image there is 15 x 10 pixels and
its label file reads ``2 0.133333 0.300000 0.266667 0.200000`` / ``4 0.266667 0.450000 0.133333
0.300000``, i.e. label_2 with centre (2.0, 3.0) and size 4.0 x 2.0 -> box x=0, y=2, w=4, h=2, and
label_4 with centre (4.0, 4.5), size 2.0 x 3.0 -> box x=3, y=3, w=2, h=3 (within 1e-4: six decimals).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from limner import formats
from limner.core import rle
from limner.core.dataset import Dataset, Item
from limner.core.geometry import rasterize, rotated_box_corners
from limner.core.schema import Label, LabelSchema, Skeleton
from limner.core.shapes import Shape
from limner.formats import yolo
from limner.formats.base import FormatError

ASSETS = Path(__file__).resolve().parents[3] / "shared" / "peer-data" / "datumaro" / "tests" / "assets"
PEER = ASSETS / "yolo_dataset"
needs_peer = pytest.mark.skipif(not PEER.is_dir(), reason="shared/peer-data (datumaro's test assets) is not beside the repo")
LABELS = [f"label_{i}" for i in range(10)]


def near(v, tol=1e-4):
    return pytest.approx(v, abs=tol)


# -- conformance: datumaro's files ---------------------------------------------------------------


@needs_peer
@pytest.mark.parametrize(
    "folder, items",
    [
        ("strict", [("obj_train_data/1.jpg", "train")]),  # darknet: obj.data, train.txt with data/ paths
        ("annotations", [("1.jpg", None)]),  # obj.names, Images/, Annotations/
        ("labels", [("train/1.jpg", "train"), ("val/1.jpg", "val")]),  # obj.names, images/<split>, labels/<split>
    ],
)
def test_reads_datumaro_yolo(folder, items):
    ds, report = yolo.read(PEER / folder)
    assert [(it.name, it.subset) for it in ds.items] == items
    assert [lb.name for lb in ds.schema] == LABELS
    assert report.problems == [] and report.missing_images == []
    for it in ds.items:
        assert (it.width, it.height) == (15, 10)
        assert it.image is not None and it.image.is_file()
        assert [(s.kind, s.label) for s in it.shapes] == [("box", "label_2"), ("box", "label_4")]
        a, b = (s.geometry for s in it.shapes)
        assert (a["x"], a["y"], a["w"], a["h"]) == (near(0.0), near(2.0), near(4.0), near(2.0))
        assert (b["x"], b["y"], b["w"], b["h"]) == (near(3.0), near(3.0), near(2.0), near(3.0))
    assert report.items == len(items) and report.shapes == 2 * len(items)


@needs_peer
@pytest.mark.parametrize("folder", ["strict", "annotations", "labels"])
def test_detection_ranks_yolo_first_on_its_peer_data(folder):
    found = formats.detect(PEER / folder)
    assert found and found[0][0] == "yolo"


def _peer_folders() -> list[Path]:
    if not ASSETS.is_dir():
        return []
    out = []
    for d in sorted(ASSETS.iterdir()):
        if d.is_dir() and d.name != "yolo_dataset":
            out.append(d)
            out += sorted(c for c in d.iterdir() if c.is_dir())
    return out


@needs_peer
def test_detection_does_not_claim_other_formats_folders():
    formats.names()  # load every format
    yolo_formats = [f for n, f in formats.FORMATS.items() if n.startswith("yolo")]
    assert len(yolo_formats) == 5
    claimed = {(p.relative_to(ASSETS).as_posix(), f.name) for p in _peer_folders() for f in yolo_formats if f.detect(p)}
    assert claimed == set()


# -- helpers -------------------------------------------------------------------------------------


def image(tmp_path: Path, name: str, w: int, h: int) -> Path:
    p = tmp_path / "src" / name
    p.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (w, h), (90, 120, 150)).save(p)
    return p


def dataset(tmp_path, shapes, *, schema=None, w=64, h=48, extra_items=(), info=None) -> Dataset:
    items = [Item("train/a.jpg", w, h, list(shapes), subset="train", image=image(tmp_path, "a.jpg", w, h))]
    for name, subset in extra_items:
        items.append(Item(name, w, h, [], subset=subset, image=image(tmp_path, name.replace("/", "_"), w, h)))
    return Dataset(schema=schema or LabelSchema([Label("car"), Label("person"), Label("dog")]), items=items, info=info or {})


def roundtrip(tmp_path, ds, task, **options):
    out = tmp_path / f"out_{task}"
    wrep = yolo.write(ds, out, task=task, include_images=True, **options)
    back, rrep = yolo.read(out)
    return out, wrep, back, rrep


def ultralytics_check(root: Path, task: str) -> dict:
    """The rules Ultralytics applies to a dataset (check_det_dataset, verify_image_label), checked
    independently of limner: data.yaml loads with PyYAML and has train, val and names ({int: str}
    matching nc); every image has exactly one label file; every line has a class id in range and
    coordinates in [0, 1] in the number the task needs."""
    doc = yaml.safe_load((root / "data.yaml").read_text())
    for key in ("train", "val", "names"):
        assert key in doc, f"data.yaml lacks {key}"
    names = doc["names"]
    assert isinstance(names, dict) and all(isinstance(k, int) for k in names)
    assert sorted(names) == list(range(len(names))) and doc.get("nc", len(names)) == len(names)
    if task == "pose":
        k, d = doc["kpt_shape"]
        assert d in (2, 3) and ("flip_idx" not in doc or len(doc["flip_idx"]) == k)
    lines = 0
    for key in ("train", "val", "test"):
        if key not in doc:
            continue
        folder = root / doc[key]
        assert folder.is_dir()
        for img in sorted(p for p in folder.rglob("*") if p.is_file()):
            lab = Path(yolo._label_path(str(img)))
            assert lab.is_file(), f"{img} has no label file"
            for line in lab.read_text().splitlines():
                v = line.split()
                cid, nums = int(v[0]), [float(x) for x in v[1:]]
                assert 0 <= cid < len(names)
                if task == "detect":
                    assert len(nums) == 4
                elif task == "obb":
                    assert len(nums) == 8
                elif task == "segment":
                    assert len(nums) >= 6 and len(nums) % 2 == 0
                else:
                    k, d = doc["kpt_shape"]
                    assert len(nums) == 4 + k * d
                    nums = [x for i, x in enumerate(nums) if i < 4 or d == 2 or (i - 4) % 3 != 2]
                assert all(0.0 <= x <= 1.0 for x in nums), line
                lines += 1
    labels = list((root / "labels").rglob("*.txt"))
    images = [p for p in (root / "images").rglob("*") if p.is_file()]
    assert len(labels) == len(images)
    return {"lines": lines, "doc": doc}


# -- round trips ---------------------------------------------------------------------------------

BOXES = [
    Shape("box", "car", {"x": 4.0, "y": 6.0, "w": 20.0, "h": 10.0}),
    Shape("box", "dog", {"x": 30.5, "y": 20.25, "w": 12.0, "h": 7.5}),
    Shape("box", "car", {"x": 0.0, "y": 0.0, "w": 64.0, "h": 48.0}),
]
POLYGONS = [
    Shape("polygon", "person", {"points": [[2.0, 2.0], [20.0, 3.0], [12.0, 30.0]], "holes": []}),
    Shape("polygon", "dog", {"points": [[40.0, 10.0], [60.0, 10.0], [60.0, 40.0], [50.0, 45.0], [40.0, 40.0]], "holes": []}),
]
ROTATED = [
    Shape("rotated_box", "car", {"cx": 30.0, "cy": 20.0, "w": 16.0, "h": 6.0, "angle": 30.0}),
    Shape("rotated_box", "dog", {"cx": 20.0, "cy": 30.0, "w": 10.0, "h": 4.0, "angle": -75.0}),
    Shape("rotated_box", "person", {"cx": 40.0, "cy": 24.0, "w": 8.0, "h": 8.0, "angle": 0.0}),
]


@pytest.mark.parametrize("task, shapes", [("detect", BOXES), ("segment", POLYGONS), ("obb", ROTATED)])
def test_roundtrip_keeps_geometry_and_labels(tmp_path, task, shapes):
    ds = dataset(tmp_path, shapes, extra_items=[("val/b.jpg", "val"), ("test/c.png", "test")])
    out, wrep, back, rrep = roundtrip(tmp_path, ds, task)
    assert dict(wrep.dropped) == {} and wrep.problems == []
    assert rrep.problems == [] and rrep.missing_images == []
    assert back.info["yolo"]["task"] == task
    assert [lb.name for lb in back.schema] == ["car", "person", "dog"]
    assert [(it.name, it.subset, it.width, it.height) for it in back.items] == [
        ("train/a.jpg", "train", 64, 48), ("val/b.jpg", "val", None, None), ("test/c.png", "test", None, None),
    ]  # fmt: skip
    got = back.items[0].shapes
    assert [(s.kind, s.label) for s in got] == [(s.kind, s.label) for s in shapes]
    tol = 64 * 1e-6  # six decimals of a 64-pixel side
    for a, b in zip(shapes, got):
        if task == "detect":
            assert b.geometry == {k: near(v, tol) for k, v in a.geometry.items()}
        elif task == "segment":
            assert np.allclose(b.geometry["points"], a.geometry["points"], atol=tol) and b.geometry["holes"] == []
        else:  # same rectangle: same corners, whatever the angle's turn
            assert np.allclose(rotated_box_corners(b.geometry), rotated_box_corners(a.geometry), atol=2 * tol)
            assert (b.geometry["w"], b.geometry["h"]) == (near(a.geometry["w"], tol), near(a.geometry["h"], tol))
    assert ultralytics_check(out, task)["lines"] == len(shapes)
    assert (out / "labels" / "val" / "b.txt").read_text() == ""  # an image without objects: an empty file


def test_roundtrip_pose_keeps_keypoints_names_edges_and_visibility(tmp_path):
    person = Label("person", skeleton=Skeleton(["nose", "left_eye", "right_eye"], [(0, 1), (0, 2)]))
    schema = LabelSchema([person, Label("car")])
    shapes = [
        Shape("box", "person", {"x": 10.0, "y": 8.0, "w": 20.0, "h": 30.0}, group_id=7),
        Shape("skeleton", "person", {"points": [[15.0, 12.0, 2], [18.0, 11.0, 1], [0.0, 0.0, 0]]}, group_id=7),
        Shape("skeleton", "person", {"points": [[40.0, 10.0, 2], [44.0, 20.0, 2], [50.0, 12.0, 2]]}, group_id=9),
        Shape("box", "car", {"x": 2.0, "y": 2.0, "w": 5.0, "h": 5.0}),
    ]
    ds = dataset(tmp_path, shapes, schema=schema)
    out, wrep, back, rrep = roundtrip(tmp_path, ds, "pose")
    assert dict(wrep.dropped) == {"skeletons written with a box around their points": 1, "boxes written without keypoints": 1}
    check = ultralytics_check(out, "pose")
    assert check["doc"]["kpt_shape"] == [3, 3] and check["doc"]["flip_idx"] == [0, 2, 1]
    assert check["doc"]["kpt_names"] == {0: ["nose", "left_eye", "right_eye"]}
    sk = back.schema.get("person").skeleton
    assert sk.points == ["nose", "left_eye", "right_eye"] and sk.edges == [(0, 1), (0, 2)]
    got = back.items[0].shapes
    assert [(s.kind, s.label) for s in got] == [("box", "person"), ("skeleton", "person"), ("box", "person"),
                                                ("skeleton", "person"), ("box", "car")]  # fmt: skip
    assert got[0].group_id == got[1].group_id != got[2].group_id == got[3].group_id
    assert got[4].group_id is None  # a box without keypoints comes back alone
    assert got[0].geometry == {"x": near(10.0), "y": near(8.0), "w": near(20.0), "h": near(30.0)}
    assert np.allclose(got[1].geometry["points"], [[15, 12, 2], [18, 11, 1], [0, 0, 0]], atol=1e-4)
    assert [p[2] for p in got[1].geometry["points"]] == [2, 1, 0]
    assert got[2].geometry == {"x": near(40.0), "y": near(10.0), "w": near(10.0), "h": near(10.0)}
    assert np.allclose(got[3].geometry["points"], shapes[2].geometry["points"], atol=1e-4)


def test_pose_with_two_dimensional_keypoints(tmp_path):
    root = tmp_path / "pose2"
    (root / "images" / "train").mkdir(parents=True)
    (root / "labels" / "train").mkdir(parents=True)
    Image.new("RGB", (100, 50)).save(root / "images" / "train" / "x.jpg")
    (root / "labels" / "train" / "x.txt").write_text("0 0.5 0.5 0.2 0.4 0.45 0.4 0 0\n")
    (root / "data.yaml").write_text("train: images/train\nval: images/train\nkpt_shape: [2, 2]\nnames: [hand]\n")
    ds, _ = yolo.read(root)
    box, sk = ds.items[0].shapes
    assert box.geometry == {"x": near(40.0), "y": near(15.0), "w": near(20.0), "h": near(20.0)}
    assert sk.geometry["points"] == [[near(45.0), near(20.0), 2], [0.0, 0.0, 0]]  # (0, 0): not labelled
    assert ds.info["yolo"]["kpt_shape"] == [2, 2]
    rep = yolo.write(ds, tmp_path / "again", task="pose")
    assert (tmp_path / "again" / "labels" / "train" / "x.txt").read_text() == (
        "0 0.500000 0.500000 0.200000 0.400000 0.450000 0.400000 0.000000 0.000000\n"
    )
    assert dict(rep.dropped) == {}


def test_classify_roundtrip(tmp_path):
    items = [
        Item("x/1.jpg", shapes=[Shape("tag", "cat")], subset="train", image=image(tmp_path, "1.jpg", 8, 8)),
        Item("x/2.jpg", shapes=[Shape("tag", "dog")], subset="val", image=image(tmp_path, "2.jpg", 8, 8)),
        Item("x/3.jpg", shapes=[Shape("tag", "dog"), Shape("tag", "cat")], subset="train", image=image(tmp_path, "3.jpg", 8, 8)),
        Item("x/4.jpg", shapes=[], subset="train", image=image(tmp_path, "4.jpg", 8, 8)),
    ]
    ds = Dataset(schema=LabelSchema([Label("cat"), Label("dog")]), items=items)
    rep = yolo.write(ds, tmp_path / "cls", task="classify")
    assert dict(rep.dropped) == {"tags beyond the first of an image dropped": 1, "images without a class tag dropped": 1}
    assert sorted(p.relative_to(tmp_path / "cls").as_posix() for p in (tmp_path / "cls").rglob("*.jpg")) == [
        "train/cat/1.jpg", "train/dog/3.jpg", "val/dog/2.jpg",
    ]  # fmt: skip
    assert [n for n, s in formats.detect(tmp_path / "cls")][:1] == ["yolo_classify"]
    back, _ = yolo.read(tmp_path / "cls")
    assert [lb.name for lb in back.schema] == ["cat", "dog"]
    assert [(it.name, it.subset, [(s.kind, s.label) for s in it.shapes]) for it in back.items] == [
        ("train/cat/1.jpg", "train", [("tag", "cat")]),
        ("train/dog/3.jpg", "train", [("tag", "dog")]),
        ("val/dog/2.jpg", "val", [("tag", "dog")]),
    ]


# -- what a task cannot hold ---------------------------------------------------------------------


def _mask(h, w, rows, cols):
    m = np.zeros((h, w), np.uint8)
    m[rows[0] : rows[1], cols[0] : cols[1]] = 1
    return {"rle": rle.encode(m)}


MIXED = [
    Shape("polygon", "car", {"points": [[4.0, 4.0], [20.0, 4.0], [12.0, 20.0]], "holes": []}),
    Shape("mask", "dog", _mask(48, 64, (10, 20), (30, 40))),
    Shape("ellipse", "person", {"cx": 32.0, "cy": 24.0, "rx": 8.0, "ry": 4.0, "angle": 0.0}),
    Shape("rotated_box", "car", {"cx": 20.0, "cy": 30.0, "w": 10.0, "h": 10.0, "angle": 45.0}),
    Shape("box", "car", {"x": 50.0, "y": 40.0, "w": 30.0, "h": 30.0}),  # crosses the right and bottom edges
    Shape("box", "car", {"x": 100.0, "y": 100.0, "w": 5.0, "h": 5.0}),  # wholly outside
    Shape("tag", "car"),
    Shape("polyline", "car", {"points": [[1.0, 1.0], [5.0, 5.0]]}),
    Shape("points", "car", {"points": [[1.0, 1.0]]}),
    Shape("box", "dog", {"x": 1.0, "y": 1.0, "w": 2.0, "h": 2.0}, attributes={"pose": "left"}, z_order=2,
          group_id=4, track_id=1, source="yolov8n", confidence=0.75),  # fmt: skip
]


@pytest.mark.parametrize(
    "task, lines, dropped",
    [
        (
            "detect",
            [
                "0 0.187500 0.250000 0.250000 0.333333",  # polygon's box 4..20 x 4..20
                "2 0.546875 0.312500 0.156250 0.208333",  # mask's box: columns 30..40, rows 10..20
                "1 0.500000 0.500000 0.250000 0.166667",  # ellipse's box 24..40 x 20..28
                "0 0.312500 0.625000 0.220971 0.294628",  # rotated box: 10 * sqrt(2) wide
                "0 0.890625 0.916667 0.218750 0.166667",  # clipped to 50..64 x 40..48
                "2 0.031250 0.041667 0.031250 0.041667",
            ],
            {
                "polygons written as their bounding boxes": 1, "masks written as their bounding boxes": 1,
                "ellipses written as their bounding boxes": 1, "rotated boxes written as their bounding boxes": 1,
                "shapes clipped to the image": 1, "shapes outside the image dropped": 1, "tags dropped": 1,
                "polylines dropped": 1, "points dropped": 1, "attributes not representable": 1,
                "z-orders not representable": 1, "group ids not representable": 1, "track ids not representable": 1,
                "sources not representable": 1, "confidences not representable (with_confidence=False)": 1,
            },
        ),
        (
            "segment",
            [
                "0 0.062500 0.083333 0.312500 0.083333 0.187500 0.416667",
                "2 0.468750 0.208333 0.468750 0.416667 0.625000 0.416667 0.625000 0.208333",
                None,  # the ellipse: 64 points
                "0 0.312500 0.477686 0.422985 0.625000 0.312500 0.772314 0.202015 0.625000",  # corners 5 sqrt(2) from (20, 30)
                "0 0.781250 0.833333 1.000000 0.833333 1.000000 1.000000 0.781250 1.000000",
                "2 0.015625 0.020833 0.046875 0.020833 0.046875 0.062500 0.015625 0.062500",
            ],
            {
                "masks written as polygons": 1, "ellipses written as polygons": 1, "rotated boxes written as polygons": 1,
                "boxes written as 4-point polygons": 3, "shapes clipped to the image": 1,
                "shapes outside the image dropped": 1, "tags dropped": 1, "polylines dropped": 1, "points dropped": 1,
                "attributes not representable": 1, "z-orders not representable": 1, "group ids not representable": 1,
                "track ids not representable": 1, "sources not representable": 1,
                "confidences not representable (with_confidence=False)": 1,
            },
        ),
    ],
)
def test_conversions_and_losses_are_counted(tmp_path, task, lines, dropped):
    ds = dataset(tmp_path, MIXED)
    out = tmp_path / "out"
    rep = yolo.write(ds, out, task=task, include_images=True)
    assert dict(rep.dropped) == dropped
    assert rep.summary()[0].startswith(f"YOLO {task}: ")
    written = (out / "labels" / "train" / "a.txt").read_text().splitlines()
    assert len(written) == len(lines)
    for want, got in zip(lines, written):
        if want is None:
            assert len(got.split()) == 1 + 2 * 64
        else:
            assert got == want
    ultralytics_check(out, task)


def test_confidence_column(tmp_path):
    shapes = [
        Shape("box", "car", {"x": 8.0, "y": 8.0, "w": 16.0, "h": 8.0}, confidence=0.875),
        Shape("box", "dog", {"x": 0.0, "y": 0.0, "w": 32.0, "h": 24.0}),
    ]
    out, rep, back, _ = roundtrip(tmp_path, dataset(tmp_path, shapes), "detect", with_confidence=True)
    assert (out / "labels" / "train" / "a.txt").read_text().splitlines() == [
        "0 0.250000 0.250000 0.250000 0.166667 0.875000",
        "2 0.250000 0.250000 0.500000 0.500000 1.000000",
    ]
    assert [s.confidence for s in back.items[0].shapes] == [0.875, 1.0]
    assert dict(rep.dropped) == {}


def test_class_ids_follow_the_schema_and_keep_unused_labels(tmp_path):
    schema = LabelSchema([Label("a"), Label("b"), Label("c")])
    ds = dataset(tmp_path, [Shape("box", "c", {"x": 1.0, "y": 1.0, "w": 2.0, "h": 2.0}),
                            Shape("box", "zebra", {"x": 1.0, "y": 1.0, "w": 2.0, "h": 2.0})], schema=schema)  # fmt: skip
    for task in ("detect", "segment", "obb"):
        out = tmp_path / task
        yolo.write(ds, out, task=task)
        doc = yaml.safe_load((out / "data.yaml").read_text())
        assert doc["names"] == {0: "a", 1: "b", 2: "c", 3: "zebra"} and doc["nc"] == 4
        assert [ln.split()[0] for ln in (out / "labels" / "train" / "a.txt").read_text().splitlines()] == ["2", "3"]


def test_data_yaml_extra_keys_kept_and_no_val_falls_back_to_train(tmp_path):
    ds = dataset(tmp_path, BOXES[:1], info={"yolo": {"download": "x", "license": "CC-BY", "task": "detect"}})
    out = tmp_path / "out"
    rep = yolo.write(ds, out)
    doc = yaml.safe_load((out / "data.yaml").read_text())
    assert doc == {"task": "detect", "train": "images/train", "val": "images/train", "nc": 3,
                   "names": {0: "car", 1: "person", 2: "dog"}, "license": "CC-BY"}  # fmt: skip
    assert rep.problems == ["no val subset: data.yaml's val is the train folder (Ultralytics requires a val entry)"]
    back, _ = yolo.read(out / "data.yaml")  # the yaml itself
    assert back.info["yolo"] == {"license": "CC-BY", "task": "detect"}


def test_unknown_image_size_drops_shapes_with_a_problem(tmp_path):
    ds = Dataset(items=[Item("nowhere.jpg", shapes=[BOXES[0]])])
    rep = yolo.write(ds, tmp_path / "out")
    assert rep.dropped["shapes of images of unknown size dropped"] == 1
    assert rep.problems[0].startswith("nowhere.jpg: image size unknown")
    assert (tmp_path / "out" / "labels" / "train" / "nowhere.txt").read_text() == ""


# -- reading: lists, sniffing, missing files ----------------------------------------------------


def _ultra(tmp_path, yaml_text, labels: dict[str, str], images=("train/a.jpg",), size=(100, 50)):
    root = tmp_path / "ds"
    for rel in images:
        p = root / "images" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size).save(p)
    for rel, text in labels.items():
        p = root / "labels" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (root / "data.yaml").write_text(yaml_text)
    return root


@pytest.mark.parametrize(
    "text, task, kind",
    [
        ("0 0.5 0.5 0.2 0.2\n", "detect", "box"),
        ("0 0.1 0.1 0.5 0.1 0.3 0.4\n1 0.5 0.5 0.1 0.1\n", "segment", "polygon"),
        ("0 0.1 0.1 0.5 0.1 0.5 0.4 0.1 0.4\n", "obb", "rotated_box"),
    ],
)
def test_task_found_from_label_lines(tmp_path, text, task, kind):
    root = _ultra(tmp_path, "train: images/train\nval: images/train\nnames: {0: a, 1: b}\n", {"train/a.txt": text})
    ds, rep = yolo.read(root)
    assert rep.format == f"YOLO {task}" and ds.items[0].shapes[0].kind == kind
    found = formats.detect(root)
    assert found[0] == (formats.get("yolo" if task == "detect" else f"yolo_{task}").name, 91 if task != "detect" else 90)


def test_obb_corners_read_as_rotated_box(tmp_path):
    # a 40 x 10 rectangle turned 90 degrees about (50, 25) on a 100 x 50 image: corners (55, 5), (55, 45), (45, 45), (45, 5)
    root = _ultra(tmp_path, "train: images/train\nval: images/train\nnames: [ship]\n",
                  {"train/a.txt": "0 0.55 0.1 0.55 0.9 0.45 0.9 0.45 0.1\n"})  # fmt: skip
    ds, _ = yolo.read(root)
    g = ds.items[0].shapes[0].geometry
    assert g == {"cx": near(50.0), "cy": near(25.0), "w": near(40.0), "h": near(10.0), "angle": near(90.0)}


def test_txt_lists_missing_images_and_orphan_labels(tmp_path):
    root = _ultra(
        tmp_path,
        "path: .\ntrain: train.txt\nval: [images/val]\nnames: [a]\n",
        {"train/a.txt": "0 0.5 0.5 0.2 0.2\n", "train/gone.txt": "0 0.5 0.5 0.1 0.1\n", "train/orphan.txt": ""},
        images=("train/a.jpg", "val/v.jpg"),
    )
    (root / "train.txt").write_text("./images/train/a.jpg\n./images/train/gone.jpg\n")
    ds, rep = yolo.read(root)
    assert [(it.name, it.subset, len(it.shapes)) for it in ds.items] == [
        ("train/a.jpg", "train", 1), ("train/gone.jpg", "train", 0), ("val/v.jpg", "val", 0),
    ]  # fmt: skip
    assert rep.missing_images == [str(root / "images" / "train" / "gone.jpg")]
    assert any(p.startswith("1 label files not read: their image was not found") and "gone.txt" in p for p in rep.problems)
    assert any(p.startswith("1 label files have no image") and "orphan.txt" in p for p in rep.problems)


def test_class_id_beyond_names_is_a_problem_not_a_crash(tmp_path):
    root = _ultra(tmp_path, "train: images/train\nval: images/train\nnames: [a]\n", {"train/a.txt": "3 0.5 0.5 0.2 0.2\n"})
    ds, rep = yolo.read(root)
    assert ds.items[0].shapes[0].label == "class_3" and "class_3" in ds.schema
    assert len(rep.problems) == 1 and "class id 3 is beyond the 1 names" in rep.problems[0]


@pytest.mark.parametrize(
    "yaml_text, label, where",
    [
        ("train: images/train\nval: images/train\nnames: [a]\n", "0 0.5 0.5 0.2\n", "a.txt:1"),
        ("train: images/train\nval: images/train\nnames: [a]\n", "0 0.5 0.5 0.2 0.2\n0 0.5 x 0.2 0.2\n", "a.txt:2"),
        ("train: images/train\nval: images/train\nnames: [a]\n", "0 0.5 0.5 0.2 0.2 1.5\n", "a.txt:1"),
        ("train: images/train\nval: images/train\nnames: [a]\nkpt_shape: [2, 3]\n", "0 0.5 0.5 0.2 0.2 0.1 0.1\n", "a.txt:1"),
        ("train: images/train\nval: [images/train\nnames: [a]\n", "", "data.yaml:"),
        ("train: images/train\nval: images/train\nnames: 7\n", "", "data.yaml (names)"),
        ("train: images/train\nval: images/train\nnames: {x: a}\n", "", "data.yaml (names)"),
        ("train: images/train\nval: images/train\nnames: [a]\nkpt_shape: [2, 4]\n", "", "data.yaml (kpt_shape)"),
        ("- just\n- a list\n", "", "data.yaml"),
    ],
)
def test_bad_input_names_file_and_line(tmp_path, yaml_text, label, where):
    root = _ultra(tmp_path, yaml_text, {"train/a.txt": label})
    with pytest.raises(FormatError) as e:
        yolo.read(root)
    assert where in str(e.value)


def test_bad_darknet_obj_data(tmp_path):
    (tmp_path / "obj.data").write_text("classes = 1\nnonsense\n")
    (tmp_path / "obj.names").write_text("a\n")
    with pytest.raises(FormatError, match=r"obj\.data:2"):
        yolo.read(tmp_path)


def test_written_files_pass_the_strict_check_for_every_task(tmp_path):
    person = Label("person", skeleton=Skeleton(["a", "b"]))
    schema = LabelSchema([person, Label("car"), Label("dog")])
    shapes = MIXED + [
        Shape("skeleton", "person", {"points": [[70.0, 10.0, 2], [10.0, 60.0, 2]]}),  # one point outside
        Shape("polygon", "car", {"points": [[-10.0, -10.0], [30.0, -5.0], [20.0, 30.0]], "holes": []}),
    ]
    ds = dataset(tmp_path, shapes, schema=schema, extra_items=[("val/b.jpg", "val")])
    for task in ("detect", "segment", "pose", "obb"):
        out = tmp_path / task
        rep = yolo.write(ds, out, task=task, include_images=True)
        assert ultralytics_check(out, task)["lines"] > 0
        assert rep.dropped["shapes clipped to the image"] >= 2


def test_mask_traced_for_segment_matches_the_pixels(tmp_path):
    m = np.zeros((48, 64), np.uint8)
    m[8:20, 10:30] = 1
    m[12:16, 14:18] = 0  # a hole: YOLO polygons have none
    ds = dataset(tmp_path, [Shape("mask", "dog", {"rle": rle.encode(m)})])
    out, rep, back, _ = roundtrip(tmp_path, ds, "segment")
    assert rep.dropped["polygon holes dropped"] == 1
    g = back.items[0].shapes[0].geometry
    filled = rasterize("polygon", g, 48, 64)
    assert int(filled.sum()) == 12 * 20 and filled[12:16, 14:18].all()
    assert math.isclose(min(p[0] for p in g["points"]), 10.0, abs_tol=1e-4)


def test_sizes_are_upright_like_ultralytics_exif_size(tmp_path):
    root = tmp_path / "exif"
    (root / "images" / "train").mkdir(parents=True)
    (root / "labels" / "train").mkdir(parents=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 40 x 20, shown turned: 20 wide, 40 high
    Image.new("RGB", (40, 20)).save(root / "images" / "train" / "r.jpg", exif=exif.tobytes())
    (root / "labels" / "train" / "r.txt").write_text("0 0.5 0.5 0.5 0.25\n")
    (root / "data.yaml").write_text("train: images/train\nval: images/train\nnames: [a]\n")
    ds, _ = yolo.read(root)
    it = ds.items[0]
    assert (it.width, it.height) == (20, 40)
    assert it.shapes[0].geometry == {"x": near(5.0), "y": near(15.0), "w": near(10.0), "h": near(10.0)}


def test_four_point_polygons_stay_polygons_thanks_to_the_task_hint(tmp_path):
    square = Shape("polygon", "car", {"points": [[2.0, 2.0], [10.0, 2.0], [10.0, 10.0], [2.0, 10.0]], "holes": []})
    out, _, back, _ = roundtrip(tmp_path, dataset(tmp_path, [square]), "segment")
    assert yaml.safe_load((out / "data.yaml").read_text())["task"] == "segment"
    assert back.items[0].shapes[0].kind == "polygon"
    assert formats.detect(out)[0][0] == "yolo_segment"
    text = (out / "data.yaml").read_text().replace("task: segment\n", "")
    (out / "data.yaml").write_text(text)  # without it, 9-number lines read as oriented boxes
    assert yolo.read(out)[0].items[0].shapes[0].kind == "rotated_box"


def test_roboflow_style_names_keep_ultralytics_label_rule(tmp_path):
    ds = Dataset(items=[Item("train/images/x.jpg", 64, 48, [BOXES[0]], subset="train",
                             image=image(tmp_path, "x.jpg", 64, 48))])  # fmt: skip
    ds.ensure_label("car")
    out = tmp_path / "out"
    yolo.write(ds, out, include_images=True)
    assert (out / "images" / "train" / "x.jpg").is_file() and (out / "labels" / "train" / "x.txt").is_file()
    ultralytics_check(out, "detect")
