"""Tests for limner.formats.voc: datumaro's three VOC folders, round trips (XML boxes with attributes,
parts and actions, segmentation PNGs, subsets, class lists), the written files read back by the
standard library's XML parser and by PIL, bad input and detection.

VOC boxes are 1-based and include both end pixels, so ``xmin=1 xmax=3`` is Limner's ``x=0 w=3``.
Numbers from the peer files, by hand (voc_dataset1/Annotations/2007_000001.xml, a 20 x 10 image):
cat 1,2,3,4 -> x=0 y=1 w=3 h=3; person 4,5,6,7 -> x=3 y=4 w=3 h=3; its head part 5.5,6,7.5,8 ->
x=4.5 y=5 w=3 h=3. SegmentationClass is an RGB PNG painted (0, 128, 0) everywhere = VOC index 2,
bicycle; SegmentationObject is (128, 0, 0) everywhere = instance 1, i.e. the first object (cat).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from limner import formats
from limner.core import rle
from limner.core.dataset import Dataset, Item
from limner.core.geometry import rasterize
from limner.core.schema import Label, LabelSchema
from limner.core.shapes import Shape
from limner.formats import voc
from limner.formats.base import FormatError

ASSETS = Path(__file__).resolve().parents[3] / "shared" / "peer-data" / "datumaro" / "tests" / "assets"
PEER = ASSETS / "voc_dataset"
needs_peer = pytest.mark.skipif(not PEER.is_dir(), reason="shared/peer-data (datumaro's test assets) is not beside the repo")
ACTIONS = ["other", "jumping", "phoning", "playinginstrument", "reading", "ridingbike", "ridinghorse", "running",
           "takingphoto", "usingcomputer", "walking"]  # fmt: skip


def box(x, y, w, h):
    return {"x": float(x), "y": float(y), "w": float(w), "h": float(h)}


def test_palette_is_vocs():
    p = voc.voc_palette()
    assert p[:5] == [(0, 0, 0), (128, 0, 0), (0, 128, 0), (128, 128, 0), (0, 0, 128)]
    assert p[8] == (64, 0, 0) and p[15] == (192, 128, 128) and p[255] == (224, 224, 192)
    assert len(set(p)) == 256


# -- conformance ---------------------------------------------------------------------------------


@needs_peer
def test_reads_voc_dataset1_boxes_parts_actions_masks_and_class_lists():
    ds, report = voc.read(PEER / "voc_dataset1")
    assert report.problems == [] and report.missing_images == []
    assert [(it.name, it.subset, it.width, it.height) for it in ds.items] == [
        ("2007_000001.jpg", "train", 20, 10), ("2007_000002.jpg", "test", 20, 10),
    ]  # fmt: skip
    assert ds.items[1].shapes == [] and ds.items[0].metadata == {"voc": {"folder": "VOC2007"}}
    shapes = ds.items[0].shapes
    kinds = [(s.kind, s.label) for s in shapes if s.kind != "tag"]
    assert kinds == [("box", "cat"), ("box", "person"), ("box", "head"), ("mask", "bicycle")]
    cat, person, head, mask = shapes[:4]
    assert cat.geometry == box(0, 1, 3, 3) and cat.attributes == {"truncated": True}  # pose Unspecified, difficult 0
    assert person.geometry == box(3, 4, 3, 3) and head.geometry == box(4.5, 5, 3, 3)
    assert person.attributes == {a: i % 2 == 0 for i, a in enumerate(ACTIONS)}  # other=1, jumping=0, ...
    assert person.group_id == head.group_id == 2 and cat.group_id == mask.group_id == 1
    assert rle.decode(mask.geometry["rle"]).all() and mask.geometry["rle"]["size"] == [10, 20]
    # class lists: 1 for these classes; person is 1 too but has its object
    assert sorted(s.label for s in shapes if s.kind == "tag") == [
        "aeroplane", "bird", "bottle", "car", "chair", "diningtable", "horse", "ignored", "sheep", "train",
    ]  # fmt: skip
    assert ds.schema.get("head").parent == "person" and ds.schema.get("cat").color == "#400000"
    assert [a.name for a in ds.schema.get("person").attributes] == ACTIONS
    assert ds.info["voc"]["actions"] == {"person": ACTIONS}
    assert report.shapes == 14 and report.items == 2


@needs_peer
def test_reads_voc_dataset2_labelmap_and_objectless_file():
    ds, report = voc.read(PEER / "voc_dataset2")
    assert [(it.name, it.subset, it.width) for it in ds.items] == [
        ("@.jpg", "trainval", None), ("a.jpg", "trainval", None), ("b.jpg", "trainval", None),
        ("c.jpg", "trainval", None), ("d.jpg", "trainval", None),
    ]  # fmt: skip
    assert report.missing_images == ["@.jpg", "a.jpg", "b.jpg", "c.jpg", "d.jpg"]
    got = [[(s.label, s.geometry, s.attributes) for s in it.shapes] for it in ds.items]
    assert got == [
        [],
        [("background", box(0, 1, 4, 5), {"occluded": True})],
        [("aeroplane", box(1, 1, 6, 5), {"occluded": True})],
        [("bicycle", box(2, 0, 9, 6), {})],
        [("bird", box(3, 3, 5, 5), {})],
    ]
    names = [lb.name for lb in ds.schema]
    assert len(names) == 22 and names[:3] == ["background", "aeroplane", "bicycle"] and names[-1] == "ignored"
    assert ds.schema.get("ignored").color == "#e0e0c0" and ds.schema.get("aeroplane").color == "#800000"
    assert ds.items[1].metadata["voc"]["source"] == {"database": "Unknown", "annotation": "Unknown", "image": "Unknown"}


@needs_peer
def test_reads_voc_dataset3_list_with_comments():
    ds, report = voc.read(PEER / "voc_dataset3")
    assert [(it.name, it.subset, [(s.label, s.geometry) for s in it.shapes]) for it in ds.items] == [
        ("2007_000001.jpg", "train", [("cat", box(0, 1, 3, 3))])
    ]
    assert [lb.name for lb in ds.schema] == ["cat"] and report.problems == []


@needs_peer
@pytest.mark.parametrize("folder", ["voc_dataset1", "voc_dataset2", "voc_dataset3"])
def test_detection_ranks_voc_first_on_its_peer_data(folder):
    found = formats.detect(PEER / folder)
    assert found and found[0][0] == "voc"


@needs_peer
def test_detection_does_not_claim_other_formats_folders():
    claimed = []
    for d in sorted(ASSETS.iterdir()):
        if d.is_dir() and d.name != "voc_dataset":
            for p in [d, *sorted(c for c in d.iterdir() if c.is_dir())]:
                if voc.detect(p):
                    claimed.append(p.relative_to(ASSETS).as_posix())
    assert claimed == []


# -- round trips ---------------------------------------------------------------------------------

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


PERSON_PIXELS = _block((4, 20), (20, 30))
POLYGON = {"points": [[2.0, 15.0], [14.0, 15.0], [14.0, 27.0]], "holes": []}


def sample(tmp_path) -> Dataset:
    schema = LabelSchema([Label("car"), Label("person"), Label("head", parent="person"), Label("dog")])
    a = Item("a.jpg", W, H, subset="train", image=_img(tmp_path, "a.jpg"), shapes=[
        Shape("box", "car", box(1, 2, 10, 5), {"pose": "Left", "truncated": True, "difficult": True, "occluded": True,
                                                "color": "red", "count": 3, "ok": False}),
        Shape("box", "person", box(19, 3, 12, 18), {"jumping": True, "reading": False}, group_id=5),
        Shape("box", "head", box(22, 3, 4, 4), group_id=5),
        Shape("mask", "person", {"rle": rle.encode(PERSON_PIXELS)}, group_id=5),
        Shape("polygon", "car", POLYGON),
        Shape("tag", "dog"),
    ])  # fmt: skip
    b = Item("sub/b.png", W, H, subset="val", image=_img(tmp_path, "b.png"))
    return Dataset(schema=schema, items=[a, b], info={"voc": {"actions": {"person": ["jumping", "reading"]}}})


def test_roundtrip_voc(tmp_path):
    ds = sample(tmp_path)
    out = tmp_path / "voc"
    rep = voc.write(ds, out, include_images=True)
    assert dict(rep.dropped) == {"polygons written as pixel masks": 1}
    back, rrep = voc.read(out)
    assert rrep.problems == [] and rrep.missing_images == []
    assert [(it.name, it.subset, it.width, it.height) for it in back.items] == [("a.jpg", "train", W, H), ("sub/b.png", "val", W, H)]
    assert [lb.name for lb in back.schema] == ["car", "person", "dog", "head"] and back.schema.get("head").parent == "person"
    got = back.items[0].shapes
    assert [(s.kind, s.label) for s in got] == [("box", "car"), ("box", "person"), ("box", "head"), ("box", "car"),
                                                ("mask", "person"), ("mask", "car"), ("tag", "dog")]  # fmt: skip
    car, person, head, poly_box, person_mask, poly_mask, _ = got
    assert car.geometry == box(1, 2, 10, 5) and car.group_id is None
    assert car.attributes == {"pose": "Left", "truncated": True, "difficult": True, "occluded": True,
                              "color": "red", "count": 3, "ok": False}  # fmt: skip
    assert person.geometry == box(19, 3, 12, 18) and person.attributes == {"jumping": True, "reading": False}
    assert head.geometry == box(22, 3, 4, 4)
    assert person.group_id == head.group_id == person_mask.group_id
    assert poly_box.geometry == box(2, 15, 12, 12) and poly_box.group_id == poly_mask.group_id != person.group_id
    # masks decode back to the pixels drawn
    assert np.array_equal(rle.decode(person_mask.geometry["rle"]), PERSON_PIXELS)
    assert np.array_equal(rle.decode(poly_mask.geometry["rle"]), rasterize("polygon", POLYGON, H, W))
    assert back.items[1].shapes == []
    assert (out / "JPEGImages" / "sub" / "b.png").is_file()
    assert (out / "ImageSets" / "Main" / "train.txt").read_text() == "a\n"
    assert (out / "ImageSets" / "Main" / "val.txt").read_text() == "sub/b\n"
    assert (out / "ImageSets" / "Main" / "dog_train.txt").read_text() == "a  1\n"
    assert (out / "ImageSets" / "Main" / "car_train.txt").read_text() == "a  1\n"
    assert (out / "ImageSets" / "Segmentation" / "train.txt").read_text() == "a\n"
    assert not (out / "ImageSets" / "Segmentation" / "val.txt").exists()  # b has nothing to paint
    assert (out / "labelmap.txt").read_text().splitlines() == [
        "# label:color_rgb:parts:actions", "background:0,0,0::", "car:128,0,0::", "person:0,128,0:head:jumping,reading",
        "head:128,128,0::", "dog:0,0,128::",
    ]  # fmt: skip


def test_written_xml_read_by_the_standard_library(tmp_path):
    out = tmp_path / "voc"
    voc.write(sample(tmp_path), out)
    root = ET.parse(out / "Annotations" / "a.xml").getroot()
    assert root.findtext("filename") == "a.jpg" and root.findtext("segmented") == "1"
    assert [root.findtext(f"size/{k}") for k in ("width", "height", "depth")] == ["40", "30", "3"]
    objs = root.findall("object")
    assert [o.findtext("name") for o in objs] == ["car", "person", "car"]

    def bnd(el):
        return [int(el.findtext(f"bndbox/{k}")) for k in ("xmin", "ymin", "xmax", "ymax")]

    assert bnd(objs[0]) == [2, 3, 11, 7]  # x=1 w=10 -> pixels 2..11 counted from 1
    assert [objs[0].findtext(k) for k in ("pose", "truncated", "difficult", "occluded")] == ["Left", "1", "1", "1"]
    extra = {a.findtext("name"): a.findtext("value") for a in objs[0].findall("attributes/attribute")}
    assert extra == {"color": "red", "count": "3", "ok": "false"}
    assert bnd(objs[1]) == [20, 4, 31, 21] and objs[1].findtext("part/name") == "head"
    assert bnd(objs[1].find("part")) == [23, 4, 26, 7]
    assert [(a.tag, a.text) for a in objs[1].find("actions")] == [("jumping", "1"), ("reading", "0")]
    assert [objs[1].findtext(k) for k in ("pose", "truncated", "difficult")] == ["Unspecified", "0", "0"]
    assert objs[1].find("occluded") is None
    assert bnd(objs[2]) == [3, 16, 14, 27]


def test_written_pngs_are_indexed_with_the_voc_palette(tmp_path):
    out = tmp_path / "voc"
    voc.write(sample(tmp_path), out)
    palette = [c for rgb in voc.voc_palette() for c in rgb]
    for kind in ("SegmentationClass", "SegmentationObject"):
        with Image.open(out / kind / "a.png") as im:
            assert im.mode == "P" and im.size == (W, H)
            assert im.getpalette()[: len(palette)] == palette
            arr = np.asarray(im)
        if kind == "SegmentationClass":  # car 1, person 2 (labels in schema order)
            assert np.array_equal(arr == 2, PERSON_PIXELS.astype(bool))
            assert np.array_equal(arr == 1, rasterize("polygon", POLYGON, H, W).astype(bool))
            assert set(np.unique(arr).tolist()) == {0, 1, 2}
        else:  # instance = the object's place in the XML: person 2nd, the polygon's car 3rd
            assert np.array_equal(arr == 2, PERSON_PIXELS.astype(bool))
            assert np.array_equal(arr == 3, rasterize("polygon", POLYGON, H, W).astype(bool))
            assert set(np.unique(arr).tolist()) == {0, 2, 3}


def test_voc_class_names_keep_vocs_own_indices(tmp_path):
    m = _block((0, 5), (0, 5))
    ds = Dataset(items=[Item("x.jpg", W, H, [Shape("mask", "cat", {"rle": rle.encode(m)}),
                                             Shape("box", "dog", box(10, 10, 5, 5))])])  # fmt: skip
    ds.ensure_label("cat")
    ds.ensure_label("dog")
    out = tmp_path / "voc"
    voc.write(ds, out)
    with Image.open(out / "SegmentationClass" / "x.png") as im:
        assert np.asarray(im)[0, 0] == 8 and im.convert("RGB").getpixel((0, 0)) == (64, 0, 0)
    assert "cat:64,0,0::" in (out / "labelmap.txt").read_text().splitlines()
    back, _ = voc.read(out)
    assert [(s.kind, s.label) for s in back.items[0].shapes] == [("box", "cat"), ("box", "dog"), ("mask", "cat")]
    assert back.items[0].subset == "default"


@pytest.mark.parametrize(
    "geometry, rounded, expected, dropped",
    [
        (box(0, 0, 3, 2), True, ["1", "1", "3", "2"], {}),
        (box(0.4, 0.6, 3.2, 2.0), True, ["1", "2", "4", "3"], {"box coordinates rounded to whole pixels": 1}),
        (box(0.5, 1.25, 3.0, 2.0), False, ["1.5", "2.25", "3.5", "3.25"], {}),
        (box(-5, 25, 10, 10), True, ["1", "26", "5", "30"], {"shapes clipped to the image": 1}),
    ],
)
def test_one_based_inclusive_box_convention(tmp_path, geometry, rounded, expected, dropped):
    ds = Dataset(items=[Item("x.jpg", W, H, [Shape("box", "car", geometry)])])
    out = tmp_path / "voc"
    rep = voc.write(ds, out, task="voc_detection", round_coordinates=rounded)
    assert dict(rep.dropped) == dropped
    el = ET.parse(out / "Annotations" / "x.xml").getroot().find("object/bndbox")
    assert [el.findtext(k) for k in ("xmin", "ymin", "xmax", "ymax")] == expected
    back, _ = voc.read(out)
    if not dropped:
        assert back.items[0].shapes[0].geometry == geometry


def test_voc_detection_writes_xml_only(tmp_path):
    out = tmp_path / "det"
    rep = voc.write(sample(tmp_path), out, task="voc_detection")
    assert dict(rep.dropped) == {"polygons written as their bounding boxes": 1,
                                 "masks dropped (a box of their group was written)": 1}  # fmt: skip
    assert not (out / "SegmentationClass").exists() and not (out / "ImageSets" / "Segmentation").exists()
    root = ET.parse(out / "Annotations" / "a.xml").getroot()
    assert root.findtext("segmented") == "0" and len(root.findall("object")) == 3
    back, _ = voc.read(out)
    assert [s.kind for s in back.items[0].shapes] == ["box", "box", "box", "box", "tag"]


def test_voc_segmentation_writes_pngs_only(tmp_path):
    out = tmp_path / "seg"
    rep = voc.write(sample(tmp_path), out, task="voc_segmentation")
    assert dict(rep.dropped) == {"boxes dropped (voc_segmentation keeps masks only)": 2,
                                 "parts dropped (voc_segmentation keeps masks only)": 1,
                                 "attributes not representable": 1, "polygons written as pixel masks": 1,
                                 "tags dropped": 1}  # fmt: skip
    assert not (out / "Annotations").exists() and not (out / "ImageSets" / "Main").exists()
    assert (out / "ImageSets" / "Segmentation" / "train.txt").read_text() == "a\n"
    assert voc.detect(out) == 75
    back, _ = voc.read(out)
    got = back.items[0].shapes
    assert [(s.kind, s.label, s.group_id) for s in got] == [("mask", "person", 1), ("mask", "car", 2)]
    assert np.array_equal(rle.decode(got[0].geometry["rle"]), PERSON_PIXELS)


def test_semantic_pixels_outside_instances_become_class_masks(tmp_path):
    root = tmp_path / "v"
    (root / "SegmentationClass").mkdir(parents=True)
    (root / "SegmentationObject").mkdir(parents=True)
    (root / "ImageSets" / "Segmentation").mkdir(parents=True)
    (root / "ImageSets" / "Segmentation" / "train.txt").write_text("x\n")
    cls = np.zeros((4, 6), np.uint8)
    cls[:, :2] = 15  # person
    cls[:, 4:] = 8  # cat, no instance
    cls[0, :] = 255  # void border
    obj = np.zeros((4, 6), np.uint8)
    obj[1:, :2] = 1
    for name, arr in (("SegmentationClass", cls), ("SegmentationObject", obj)):
        im = Image.fromarray(arr, mode="L")
        im.putpalette([c for rgb in voc.voc_palette() for c in rgb])
        im.save(root / name / "x.png")
    ds, rep = voc.read(root)
    it = ds.items[0]
    assert (it.name, it.subset, it.width, it.height) == ("x.jpg", "train", 6, 4) and rep.missing_images == ["x.jpg"]
    assert [(s.label, s.group_id, int(rle.decode(s.geometry["rle"]).sum())) for s in it.shapes] == [
        ("person", 1, 6), ("cat", None, 6),
    ]  # fmt: skip


def test_overlapping_masks_are_counted(tmp_path):
    ds = Dataset(items=[Item("x.jpg", W, H, [
        Shape("mask", "a", {"rle": rle.encode(_block((0, 10), (0, 10)))}),
        Shape("mask", "b", {"rle": rle.encode(_block((5, 15), (5, 15)))}, z_order=1),
        Shape("polyline", "a", {"points": [[0.0, 0.0], [3.0, 3.0]]}),
        Shape("box", "a", box(1, 1, 2, 2), track_id=3, source="model", confidence=0.5),
    ])])  # fmt: skip
    rep = voc.write(ds, tmp_path / "o")
    assert dict(rep.dropped) == {"masks partly hidden by overlapping masks": 1, "polylines dropped": 1,
                                 "z-orders not representable": 1, "track ids not representable": 1,
                                 "sources not representable": 1, "confidences not representable": 1}  # fmt: skip


# -- bad input -----------------------------------------------------------------------------------


def _voc(tmp_path, xml: str, labelmap: str | None = None) -> Path:
    root = tmp_path / "bad"
    (root / "Annotations").mkdir(parents=True)
    (root / "ImageSets" / "Main").mkdir(parents=True)
    (root / "Annotations" / "a.xml").write_text(xml)
    if labelmap is not None:
        (root / "labelmap.txt").write_text(labelmap)
    return root


GOOD_OBJECT = "<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object>"


@pytest.mark.parametrize(
    "xml, labelmap, where",
    [
        ("<annotation>\n<filename>a.jpg</filename>\n<object>\n</annotation>\n", None, "a.xml:4"),
        ("<annotation><object><name>cat</name><bndbox><xmin>one</xmin></bndbox></object></annotation>", None,
         "a.xml (object[0]/bndbox/xmin)"),
        (f"<annotation>{GOOD_OBJECT}<object><bndbox/></object></annotation>", None, "a.xml (object[1]/name)"),
        ("<annotation><size><width>wide</width></size></annotation>", None, "a.xml (size)"),
        ("<doc/>", None, "a.xml: expected an <annotation> root"),
        ('<!DOCTYPE a [<!ENTITY e "x">]><annotation>&e;</annotation>', None, "a.xml: refused XML"),
        (f"<annotation>{GOOD_OBJECT}</annotation>", "# c\ncat:1,2::\n", "labelmap.txt:2"),
        (f"<annotation>{GOOD_OBJECT}</annotation>", "cat:1,2,300::\n", "labelmap.txt:1"),
    ],
)
def test_bad_input_names_file_and_place(tmp_path, xml, labelmap, where):
    with pytest.raises(FormatError) as e:
        voc.read(_voc(tmp_path, xml, labelmap))
    assert where in str(e.value)


def test_mask_of_the_wrong_size_is_an_error(tmp_path):
    root = _voc(tmp_path, "<annotation><size><width>8</width><height>8</height></size></annotation>")
    (root / "SegmentationClass").mkdir()
    Image.new("P", (4, 4)).save(root / "SegmentationClass" / "a.png")
    with pytest.raises(FormatError, match=r"a\.png: mask is 4x4, the annotation says 8x8"):
        voc.read(root)


def test_names_and_values_are_escaped(tmp_path):
    ds = Dataset(items=[Item("x & y.jpg", W, H, [
        Shape("box", "R&D <team>", box(1, 1, 5, 5), {"my attr": "a < b & \"c\"", "n": 2.5}),
    ])], info={"voc": {"actions": {"R&D <team>": ["my attr"]}}})  # fmt: skip
    out = tmp_path / "voc"
    voc.write(ds, out)
    root = ET.parse(out / "Annotations" / "x & y.xml").getroot()
    assert root.findtext("filename") == "x & y.jpg" and root.findtext("object/name") == "R&D <team>"
    back, _ = voc.read(out)
    s = back.items[0].shapes[0]
    assert (s.label, s.geometry, s.attributes) == ("R&D <team>", box(1, 1, 5, 5), {"my attr": 'a < b & "c"', "n": 2.5})
