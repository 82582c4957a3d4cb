"""Tests for limner.formats.semantic: semantic_indexed / semantic_rgb, Cityscapes and CamVid — the
peer folders datumaro ships, round trips of every area kind, the PNGs read back by PIL, bad input
and detection.

Numbers from the peer files, by hand (every mask is 5 x 1 pixels, read with PIL):
cityscapes_dataset/dataset/gtFine/*/defaultcity/*_instanceIds.png are grey PNGs of class ids:
  test/..._000031 [3, 3, 27, 27, 27]  -> out of roi (3) x2, truck (27) x3
  test/..._000032 [31, 31, 12, 3, 3]  -> train (31), wall (12), out of roi
  train/..._000045 [3, 3, 24, 3, 3]   -> out of roi, person (24)
  val/..._000019 [3, 1, 1, 3, 3]      -> out of roi, ego vehicle (1)
cityscapes_dataset/train_dataset: 16-bit instanceIds, classId * 1000 + n:
  test/..._000031 [3, 3, 27001, 27002, 27002] -> two truck instances; val [3, 1024, 1024, 3, 3] ->
  ego vehicle instance 24.
camvid_dataset/*annot/*.png are RGB in CamVid's colours: test/0001TP_008550 = [Animal (64,128,64)
x2, Road (128,64,128), Sky (128,128,128) x2]; train/0001TP_006690 = [Bicyclist (0,128,192) x2,
Road, Bicyclist x2].
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from limner import formats
from limner.core import rle
from limner.core.dataset import Dataset, Item
from limner.core.geometry import rasterize
from limner.core.schema import Label, LabelSchema
from limner.core.shapes import Shape, validate_shape
from limner.formats import semantic
from limner.formats.base import FormatError

ASSETS = Path(__file__).resolve().parents[3] / "shared" / "peer-data" / "datumaro" / "tests" / "assets"
CITY = ASSETS / "cityscapes_dataset"
CAMVID = ASSETS / "camvid_dataset"
needs_peer = pytest.mark.skipif(not CITY.is_dir(), reason="shared/peer-data (datumaro's test assets) is not beside the repo")
OURS = {"semantic_indexed", "semantic_rgb", "cityscapes", "camvid"}


def pixels(shape) -> list[int]:
    return rle.decode(shape.geometry["rle"]).ravel().tolist()


def summary(ds: Dataset) -> list:
    return [(it.name, it.subset, [(s.label, s.group_id, pixels(s)) for s in it.shapes]) for it in ds.items]


# -- the tables -------------------------------------------------------------------------------------


def test_cityscapes_table_is_the_standard_one():
    t = semantic.CITYSCAPES_LABELS
    assert [i for _, i, *_ in t] == list(range(34))
    train = sorted((tid, name) for name, _, tid, _, _ in t if tid != 255)
    assert [tid for tid, _ in train] == list(range(19)) and train[0] == (0, "road") and train[-1] == (18, "bicycle")
    assert {n for n, _, _, inst, _ in t if inst} == {
        "person", "rider", "car", "truck", "bus", "caravan", "trailer", "train", "motorcycle", "bicycle",
    }  # fmt: skip
    assert dict((n, c) for n, *_, c in t)["car"] == (0, 0, 142)


def test_camvid_table_has_32_distinct_colours():
    colors = [c for _, c in semantic.CAMVID_LABELS]
    assert len(colors) == 32 == len(set(colors)) and semantic.CAMVID_LABELS[0] == ("Void", (0, 0, 0))


# -- conformance ----------------------------------------------------------------------------------


@needs_peer
def test_reads_cityscapes_class_ids():
    ds, report = semantic.read_cityscapes(CITY / "dataset")
    assert report.problems == [] and report.missing_images == [] and report.items == 4 and report.shapes == 9
    assert summary(ds) == [
        ("test/defaultcity/defaultcity_000001_000031_leftImg8bit.png", "test",
         [("out of roi", None, [1, 1, 0, 0, 0]), ("truck", None, [0, 0, 1, 1, 1])]),
        ("test/defaultcity/defaultcity_000001_000032_leftImg8bit.png", "test",
         [("out of roi", None, [0, 0, 0, 1, 1]), ("wall", None, [0, 0, 1, 0, 0]), ("train", None, [1, 1, 0, 0, 0])]),
        ("train/defaultcity/defaultcity_000002_000045_leftImg8bit.png", "train",
         [("out of roi", None, [1, 1, 0, 1, 1]), ("person", None, [0, 0, 1, 0, 0])]),
        ("val/defaultcity/defaultcity_000001_000019_leftImg8bit.png", "val",
         [("ego vehicle", None, [0, 1, 1, 0, 0]), ("out of roi", None, [1, 0, 0, 1, 1])]),
    ]  # fmt: skip
    assert [lb.name for lb in ds.schema] == ["ego vehicle", "out of roi", "wall", "person", "truck", "train"]
    assert ds.schema.get("truck").color == "#000046" and all(it.image.is_file() for it in ds.items)
    assert [(it.width, it.height) for it in ds.items] == [(5, 1)] * 4


@needs_peer
def test_reads_cityscapes_instance_ids():
    ds, report = semantic.read_cityscapes(CITY / "train_dataset")
    assert report.problems == []
    got = summary(ds)
    assert got[0][2] == [("out of roi", None, [1, 1, 0, 0, 0]), ("truck", 1, [0, 0, 1, 0, 0]), ("truck", 2, [0, 0, 0, 1, 1])]
    assert got[3][2] == [("out of roi", None, [1, 0, 0, 1, 1]), ("ego vehicle", 1, [0, 1, 1, 0, 0])]


@needs_peer
def test_reads_camvid():
    ds, report = semantic.read_camvid(CAMVID)
    assert report.problems == [] and report.missing_images == []
    assert summary(ds) == [
        ("test/0001TP_008550.png", "test", [("Animal", None, [1, 1, 0, 0, 0]), ("Road", None, [0, 0, 1, 0, 0]),
                                            ("Sky", None, [0, 0, 0, 1, 1])]),
        ("test/0001TP_008580.png", "test", [("Archway", None, [1, 1, 0, 0, 0]), ("Bridge", None, [0, 0, 1, 0, 0]),
                                            ("Tree", None, [0, 0, 0, 1, 1])]),
        ("train/0001TP_006690.png", "train", [("Bicyclist", None, [1, 1, 0, 1, 1]), ("Road", None, [0, 0, 1, 0, 0])]),
        ("val/0016E5_07959.png", "val", [("Animal", None, [1, 1, 1, 0, 0]), ("Child", None, [0, 0, 0, 1, 1])]),
    ]  # fmt: skip
    assert ds.schema.get("Road").color == "#804080"


# -- round trips ----------------------------------------------------------------------------------

W, H = 40, 30


def _img(tmp_path: Path, name: str) -> Path:
    p = tmp_path / "src" / name
    p.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (W, H), (10, 20, 30)).save(p)
    return p


def _block(rows, cols) -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    m[rows[0] : rows[1], cols[0] : cols[1]] = 1
    return m


def sample(tmp_path: Path, names: dict[str, str], image_names: tuple[str, str]) -> Dataset:
    """Every area kind: a road polygon under the rest, a person mask, two cars (one a group of a
    box and an ellipse), a rotated box; plus a polyline and a tag that cannot be painted."""
    road, person, car, sky = (names[k] for k in ("road", "person", "car", "sky"))
    schema = LabelSchema([Label(road, "#804080"), Label(person, "#dc143c"), Label(car, "#00008e"), Label(sky, "#4682b4")])
    a = Item(image_names[0], W, H, subset="train", image=_img(tmp_path, "a.png"), shapes=[
        Shape("polygon", road, {"points": [[0, 18], [40, 18], [40, 30], [0, 30]], "holes": []}),
        Shape("mask", person, {"rle": rle.encode(_block((2, 20), (2, 8)))}, z_order=1),
        Shape("box", car, {"x": 20, "y": 10, "w": 10, "h": 12}, group_id=5, z_order=1),
        Shape("ellipse", car, {"cx": 25, "cy": 16, "rx": 4, "ry": 3, "angle": 0}, group_id=5, z_order=2),
        Shape("rotated_box", car, {"cx": 34, "cy": 6, "w": 6, "h": 4, "angle": 30}),
        Shape("polyline", sky, {"points": [[0, 0], [10, 0]]}),
        Shape("tag", sky),
    ])  # fmt: skip
    b = Item(image_names[1], W, H, subset="val", image=_img(tmp_path, "b.png"), shapes=[
        Shape("box", sky, {"x": 0, "y": 0, "w": 40, "h": 10}),
    ])  # fmt: skip
    return Dataset(schema, [a, b])


def expected_class_pixels(item: Item) -> dict[str, np.ndarray]:
    """What painting in z-order leaves of each label."""
    cls = np.full((H, W), "", dtype=object)
    for s in sorted((s for s in item.shapes if s.kind not in ("polyline", "tag")), key=lambda s: s.z_order):
        cls[rasterize(s.kind, s.geometry, H, W).astype(bool)] = s.label
    return {lb: cls == lb for lb in set(cls.ravel().tolist()) - {""}}


PLAIN = {"road": "road", "person": "person", "car": "car", "sky": "sky"}
CS = {"road": "road", "person": "person", "car": "car", "sky": "sky"}
CAM = {"road": "Road", "person": "Pedestrian", "car": "Car", "sky": "Sky"}


@pytest.mark.parametrize(
    "fmt, names, image_names, back_names",
    [
        ("semantic_indexed", PLAIN, ("a.png", "b.png"), ["a.png", "b.png"]),
        ("semantic_rgb", PLAIN, ("a.png", "sub/b.png"), ["a.png", "sub/b.png"]),
        ("cityscapes", CS, ("train/aachen/aachen_000000_000019_leftImg8bit.png", "b.png"),
         ["train/aachen/aachen_000000_000019_leftImg8bit.png", "val/default/b_leftImg8bit.png"]),
        ("camvid", CAM, ("train/a.png", "b.png"), ["train/a.png", "val/b.png"]),
        ("camvid", {"road": "lane", "person": "walker", "car": "auto", "sky": "air"}, ("train/a.png", "b.png"),
         ["train/a.png", "val/b.png"]),
    ],
)
def test_round_trip(tmp_path, fmt, names, image_names, back_names):
    ds = sample(tmp_path, names, image_names)
    out = tmp_path / fmt
    report = formats.write(ds, out, fmt, include_images=True)
    assert dict(report.dropped) == {
        "polylines not representable": 1, "tags not representable": 1,
        "shapes partly hidden by overlapping shapes": 2,  # person and car over road; the car's ellipse over its box is not
    }  # fmt: skip
    assert report.problems == [] and report.missing_images == []
    assert formats.detect(out)[0][0] == fmt
    back, rep2, _ = formats.read(out, fmt)
    assert rep2.problems == [] and rep2.missing_images == []
    assert [(it.name, it.subset, it.width, it.height) for it in back.items] == [
        (back_names[0], "train", W, H), (back_names[1], "val", W, H),
    ]  # fmt: skip
    for orig, got in zip(ds.items, back.items):
        assert got.image.read_bytes() == orig.image.read_bytes()
        want = expected_class_pixels(orig)
        have: dict[str, np.ndarray] = {}
        for s in got.shapes:
            assert s.kind == "mask"
            have[s.label] = have.get(s.label, np.zeros((H, W), bool)) | rle.decode(s.geometry["rle"]).astype(bool)
        assert sorted(have) == sorted(want)
        for lb in want:
            assert np.array_equal(have[lb], want[lb]), lb
        for i, s in enumerate(got.shapes):
            validate_shape(s.to_dict(), index=i, schema=back.schema, height=H, width=W)
    colors = {lb.name: lb.color for lb in back.schema}
    if names is CAM:  # CamVid's own classes are written in CamVid's colours, all 32 listed
        assert len(colors) == 31 and colors["Road"] == "#804080" and colors["Car"] == "#400080"
    else:
        assert colors == {lb.name: lb.color for lb in ds.schema}


def test_cityscapes_instances_and_independent_png_reading(tmp_path):
    ds = sample(tmp_path, CS, ("train/aachen/a_leftImg8bit.png", "b.png"))
    semantic.write_cityscapes(ds, tmp_path / "cs")
    base = tmp_path / "cs" / "gtFine" / "train" / "aachen" / "a_gtFine_"
    with Image.open(f"{base}instanceIds.png") as im:
        assert im.mode in ("I;16", "I")
        inst = np.asarray(im).astype(int)
    with Image.open(f"{base}labelIds.png") as im:
        assert im.mode == "L"
        ids = np.asarray(im)
    with Image.open(f"{base}labelTrainIds.png") as im:
        train = np.asarray(im)
    with Image.open(f"{base}color.png") as im:
        assert im.mode == "RGB"
        color = np.asarray(im)
    assert sorted(np.unique(ids).tolist()) == [0, 7, 24, 26]  # unlabeled, road, person, car
    # person (a class with instances) -> 24001; the car group (box + ellipse) and the rotated box
    # are two car instances; road keeps its class id
    assert sorted(np.unique(inst).tolist()) == [0, 7, 24001, 26001, 26002]
    assert sorted(np.unique(train).tolist()) == [0, 11, 13, 255]
    assert tuple(color[25, 5]) == (128, 64, 128) and tuple(color[15, 25]) == (0, 0, 142)
    back, _ = semantic.read_cityscapes(tmp_path / "cs")
    assert [(s.label, s.group_id) for s in back.items[0].shapes] == [("road", None), ("person", 1), ("car", 2), ("car", 3)]
    assert not (tmp_path / "cs" / "label_colors.txt").exists()


def test_cityscapes_custom_labels_use_label_colors_and_group_ids(tmp_path):
    ds = Dataset(LabelSchema([Label("weed", "#00ff00"), Label("crop", "#ffff00")]), [
        Item("f/x.png", 6, 2, [
            Shape("box", "weed", {"x": 0, "y": 0, "w": 2, "h": 2}, group_id=3),
            Shape("box", "weed", {"x": 2, "y": 0, "w": 2, "h": 2}, group_id=3),
            Shape("box", "crop", {"x": 4, "y": 0, "w": 2, "h": 2}),
        ])])  # fmt: skip
    semantic.write_cityscapes(ds, tmp_path / "cs")
    assert (tmp_path / "cs" / "label_colors.txt").read_text() == "0 0 0 background\n0 255 0 weed\n255 255 0 crop\n"
    with Image.open(tmp_path / "cs" / "gtFine" / "default" / "f" / "x_gtFine_instanceIds.png") as im:
        assert np.asarray(im).astype(int).tolist() == [[1001, 1001, 1001, 1001, 2, 2]] * 2
    assert not (tmp_path / "cs" / "gtFine" / "default" / "f" / "x_gtFine_labelTrainIds.png").exists()
    back, _ = semantic.read_cityscapes(tmp_path / "cs")
    assert [lb.name for lb in back.schema] == ["weed", "crop"]
    assert [(s.label, s.group_id, rle.decode(s.geometry["rle"]).sum()) for s in back.items[0].shapes] == [
        ("crop", None, 4), ("weed", 1, 8),
    ]  # fmt: skip
    assert back.items[0].name == "default/f/x_leftImg8bit.png" and back.items[0].subset is None


def test_semantic_png_kinds_and_meta(tmp_path):
    ds = sample(tmp_path, PLAIN, ("a.png", "b.png"))
    semantic.write_semantic(ds, tmp_path / "i", mode="indexed")
    semantic.write_semantic(ds, tmp_path / "r", mode="rgb")
    meta = json.loads((tmp_path / "i" / "train" / "dataset_meta.json").read_text())
    assert meta == {
        "label_map": {"0": "background", "1": "road", "2": "person", "3": "car", "4": "sky"},
        "segmentation_colors": [[0, 0, 0], [128, 64, 128], [220, 20, 60], [0, 0, 142], [70, 130, 180]],
        "background_label": "0",
    }
    with Image.open(tmp_path / "i" / "train" / "masks" / "a.png") as im:
        assert im.mode == "P" and im.getpalette()[3:6] == [128, 64, 128]
        idx = np.asarray(im)
    with Image.open(tmp_path / "r" / "train" / "masks" / "a.png") as im:
        assert im.mode == "RGB"
        rgb = np.asarray(im)
    assert idx[25, 5] == 1 and tuple(rgb[25, 5]) == (128, 64, 128)
    assert idx[5, 5] == 2 and tuple(rgb[5, 5]) == (220, 20, 60)
    assert idx[0, 39] == 0 and tuple(rgb[0, 39]) == (0, 0, 0)


def test_colours_that_collide_fall_back_to_vocs_palette(tmp_path):
    ds = Dataset(LabelSchema([Label("a", "#ff0000"), Label("b", "#ff0000")]),
                 [Item("x.png", 2, 1, [Shape("box", "a", {"x": 0, "y": 0, "w": 1, "h": 1}),
                                       Shape("box", "b", {"x": 1, "y": 0, "w": 1, "h": 1})])])  # fmt: skip
    report = semantic.write_semantic(ds, tmp_path / "o", mode="rgb")
    assert report.problems == ["label colours are not distinct; masks use VOC's palette"]
    with Image.open(tmp_path / "o" / "masks" / "x.png") as im:
        assert np.asarray(im).tolist() == [[[128, 0, 0], [0, 128, 0]]]
    back, _ = semantic.read_semantic(tmp_path / "o")
    assert [(s.label, pixels(s)) for s in back.items[0].shapes] == [("a", [1, 0]), ("b", [0, 1])]


def test_camvid_lists_and_label_colors(tmp_path):
    ds = sample(tmp_path, CAM, ("train/a.png", "b.png"))
    semantic.write_camvid(ds, tmp_path / "cv")
    assert (tmp_path / "cv" / "train.txt").read_text() == "/train/a.png /trainannot/a.png\n"
    assert (tmp_path / "cv" / "val.txt").read_text() == "/val/b.png /valannot/b.png\n"
    lines = (tmp_path / "cv" / "label_colors.txt").read_text().splitlines()
    assert len(lines) == 32 and lines[0] == "0 0 0 Void" and lines[18] == "128 64 128 Road"


def test_camvid_grey_masks_are_indices(tmp_path):
    (tmp_path / "trainannot").mkdir()
    (tmp_path / "train").mkdir()
    Image.fromarray(np.array([[0, 1, 2]], np.uint8), mode="L").save(tmp_path / "trainannot" / "x.png")
    Image.new("RGB", (3, 1)).save(tmp_path / "train" / "x.png")
    (tmp_path / "label_colors.txt").write_text("0 0 0 Void\n128 128 128 Sky\n128 0 0 Building\n")
    assert semantic.detect_camvid(tmp_path) == 70
    ds, report = semantic.read_camvid(tmp_path)
    assert summary(ds) == [("train/x.png", "train", [("Sky", None, [0, 1, 0]), ("Building", None, [0, 0, 1])])]


@pytest.mark.parametrize(
    "item, dropped, problems",
    [
        (Item("x.png", shapes=[Shape("box", "a", {"x": 0, "y": 0, "w": 1, "h": 1})]),
         {"shapes of images of unknown size dropped": 1}, ["x.png: size unknown (no width/height, no image, no mask); no mask written"]),
        (Item("x.png", 4, 4, [Shape("box", "a", {"x": 0, "y": 0, "w": 1, "h": 1}, {"k": 1}, track_id=2, source="sam", confidence=0.4)]),
         {"attributes not representable": 1, "track ids not representable": 1, "sources not representable": 1,
          "confidences not representable": 1}, []),
        (Item("x.png", 4, 4, [Shape("points", "a", {"points": [[1, 1]]}), Shape("box", "background", {"x": 0, "y": 0, "w": 1, "h": 1})]),
         {"points not representable": 1, "shapes of the background label painted as background": 1}, []),
        (Item("x.png", 4, 4, [Shape("mask", "a", {"rle": rle.encode(np.ones((2, 2)))})]), {},
         ["x.png: a mask of [2, 2] on an image of 4x4 was left out"]),
    ],
)
def test_what_cannot_be_painted_is_reported(tmp_path, item, dropped, problems):
    report = semantic.write_semantic(Dataset(items=[item]), tmp_path / "o")
    assert dict(report.dropped) == dropped and report.problems == problems


# -- bad input ------------------------------------------------------------------------------------


def _semantic_folder(tmp_path: Path, meta: str) -> Path:
    (tmp_path / "masks").mkdir(parents=True)
    Image.fromarray(np.zeros((2, 2), np.uint8), mode="L").save(tmp_path / "masks" / "x.png")
    (tmp_path / "dataset_meta.json").write_text(meta)
    return tmp_path


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda t: _semantic_folder(t, '{"label_map": {"0": "bg",\n "1": }}'), "dataset_meta.json:2: not valid JSON"),
        (lambda t: _semantic_folder(t, '{"labels": []}'), "dataset_meta.json (label_map): expected a label_map object"),
        (lambda t: _semantic_folder(t, '{"label_map": {"zero": "bg"}}'), "dataset_meta.json (label_map): label_map keys must be integers"),
        (lambda t: _semantic_folder(t, '{"label_map": {"0": "bg"}, "segmentation_colors": [[0, 0]]}'),
         "dataset_meta.json (segmentation_colors[0]): colour 0 must be [r, g, b]"),
    ],
)
def test_bad_semantic_meta(tmp_path, setup, message):
    root = setup(tmp_path)
    with pytest.raises(FormatError) as e:
        semantic.read_semantic(root)
    assert message in str(e.value)


def test_unreadable_mask_names_the_file(tmp_path):
    root = _semantic_folder(tmp_path, '{"label_map": {"0": "bg", "1": "a"}}')
    (root / "masks" / "y.png").write_bytes(b"not a png")
    with pytest.raises(FormatError, match=r"masks/y\.png: not a readable image"):
        semantic.read_semantic(root)


def test_unknown_values_are_reported_not_fatal(tmp_path):
    root = _semantic_folder(tmp_path, '{"label_map": {"0": "bg", "1": "a"}}')
    Image.fromarray(np.array([[1, 7]], np.uint8), mode="L").save(root / "masks" / "x.png")
    ds, report = semantic.read_semantic(root)
    assert [(s.label, pixels(s)) for s in ds.items[0].shapes] == [("a", [1, 0])]
    assert report.problems == [f"{root / 'masks' / 'x.png'}: pixel values [7] have no label; left out"]


@pytest.mark.parametrize(
    "files, message",
    [
        ({"label_colors.txt": "0 0 0 Void\n1 2 oops\n"}, "label_colors.txt:2: expected 'r g b name'"),
        ({"label_colors.txt": "0 0 0 Void\n300 0 0 Sky\n"}, "label_colors.txt:2: colour values must be 0-255"),
        ({"label_colors.txt": "0 0 0 Void\n1 1 1 Void\n"}, "label_colors.txt: label 'Void' is listed twice"),
        ({"train.txt": '/train/a.png /trainannot/a.png\n"/train/b c.png /trainannot/b.png\n'}, "train.txt:2: unbalanced quotes"),
        ({"train.txt": "/train/a.png /trainannot/a.png extra\n"}, "train.txt:1: expected '<image> <mask>'"),
    ],
)
def test_bad_camvid_files_name_the_line(tmp_path, files, message):
    (tmp_path / "trainannot").mkdir()
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(FormatError) as e:
        semantic.read_camvid(tmp_path)
    assert message in str(e.value)


def test_cityscapes_without_gtfine_is_refused(tmp_path):
    with pytest.raises(FormatError, match="no gtFine/ folder here"):
        semantic.read_cityscapes(tmp_path)


# -- detection ------------------------------------------------------------------------------------


@needs_peer
@pytest.mark.parametrize(
    "path, fmt", [(CITY / "dataset", "cityscapes"), (CITY / "train_dataset", "cityscapes"), (CAMVID, "camvid")]
)
def test_detection_ranks_ours_first_on_the_peer_data(path, fmt):
    found = formats.detect(path)
    assert found and found[0][0] == fmt


@needs_peer
def test_detection_does_not_claim_other_formats_folders():
    own = {"cityscapes_dataset", "camvid_dataset"}
    claimed = []
    for d in sorted(ASSETS.iterdir()):
        if d.is_dir() and d.name not in own:
            for p in [d, *sorted(c for c in d.iterdir() if c.is_dir())]:
                for f in (semantic.detect_cityscapes, semantic.detect_camvid, semantic.detect_semantic):
                    if f(p):
                        claimed.append((p.relative_to(ASSETS).as_posix(), f.__name__))
    assert claimed == []


@needs_peer
def test_peer_mapillary_vistas_is_not_taken_for_ours():
    for p in [ASSETS / "mapillary_vistas_dataset", *(ASSETS / "mapillary_vistas_dataset").iterdir()]:
        assert not {name for name, _ in formats.detect(p)} & OURS
