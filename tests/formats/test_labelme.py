"""LabelMe: labelme JSON (wkentaro) files as labelme writes them, LabelMe XML from datumaro's
assets, round trips of every kind, bad input, detection."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from limner import formats
from limner.core import rle as _rle
from limner.core.dataset import Dataset, Item
from limner.core.raster import rotated_box_corners
from limner.core.shapes import Shape
from limner.formats import labelme
from limner.formats.base import FormatError

from ._shared import ASSETS, assert_valid, close  # noqa: E402

LABELME_XML = ASSETS / "labelme_dataset"
needs_peer = pytest.mark.skipif(not LABELME_XML.is_dir(), reason="peer data ../shared/peer-data/datumaro is not present")






def png_b64(a: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(a.astype(np.uint8)).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def labelme_shape(label, points, shape_type, **kw) -> dict:
    """A shape exactly as labelme 5 saves it."""
    return {"label": label, "points": points, "group_id": kw.get("group_id"), "description": kw.get("description", ""),
            "shape_type": shape_type, "flags": kw.get("flags", {}), "mask": kw.get("mask")}  # fmt: skip


# ------------------------------------------------------------------------------------ labelme JSON


def test_reads_files_as_labelme_writes_them(tmp_path):
    Image.new("RGB", (40, 30)).save(tmp_path / "cat.png")
    patch = np.zeros((4, 5), np.uint8)
    patch[1:3, 1:4] = 1  # 6 pixels
    doc = {
        "version": "5.4.1",
        "flags": {"indoor": True, "blurry": False},
        "shapes": [
            labelme_shape("cat", [[30.0, 20.0], [10.0, 5.0]], "rectangle", group_id=1, flags={"truncated": True}),
            labelme_shape("cat", [[2, 2], [12, 2], [7, 9]], "polygon", description="ear"),
            labelme_shape("ball", [[20.0, 15.0], [23.0, 19.0]], "circle"),
            labelme_shape("lane", [[0, 0], [5, 5]], "line"),
            labelme_shape("lane", [[0, 0], [5, 5], [9, 1]], "linestrip"),
            labelme_shape("eye", [[3.5, 4.5]], "point"),
            labelme_shape("eye", [[1, 1], [2, 2]], "points"),
            labelme_shape("car", [[10, 10], [20, 10], [20, 15], [10, 15]], "oriented_rectangle"),
            labelme_shape("blob", [[7.0, 8.0], [11.0, 11.0]], "mask", mask=png_b64(patch)),
        ],
        "imagePath": "cat.png",
        "imageData": None,
        "imageHeight": 30,
        "imageWidth": 40,
    }
    (tmp_path / "cat.json").write_text(json.dumps(doc, indent=2))
    ds, report = labelme.read(tmp_path)
    (item,) = ds.items
    assert (item.name, item.width, item.height, item.image) == ("cat.png", 40, 30, tmp_path / "cat.png")
    assert item.metadata == {"flags": {"indoor": True, "blurry": False}}
    got = [(s.kind, s.label, s.geometry) for s in item.shapes if s.kind != "mask"]
    assert got == [
        ("box", "cat", {"x": 10.0, "y": 5.0, "w": 20.0, "h": 15.0}),  # corners in either order
        ("polygon", "cat", {"points": [[2.0, 2.0], [12.0, 2.0], [7.0, 9.0]], "holes": []}),
        ("ellipse", "ball", {"cx": 20.0, "cy": 15.0, "rx": 5.0, "ry": 5.0, "angle": 0.0}),  # 3-4-5 radius
        ("polyline", "lane", {"points": [[0.0, 0.0], [5.0, 5.0]]}),
        ("polyline", "lane", {"points": [[0.0, 0.0], [5.0, 5.0], [9.0, 1.0]]}),
        ("points", "eye", {"points": [[3.5, 4.5]]}),
        ("points", "eye", {"points": [[1.0, 1.0], [2.0, 2.0]]}),
        ("rotated_box", "car", {"cx": 15.0, "cy": 12.5, "w": 10.0, "h": 5.0, "angle": 0.0}),
        ("tag", "indoor", {}),
    ]
    box, poly = item.shapes[0], item.shapes[1]
    assert (box.group_id, box.attributes) == (1, {"truncated": True})
    assert poly.attributes == {"description": "ear"}
    mask = next(s for s in item.shapes if s.kind == "mask")
    m = _rle.decode(mask.geometry["rle"])
    assert m.shape == (30, 40) and int(m.sum()) == 6
    assert np.argwhere(m).tolist() == [[9, 8], [9, 9], [9, 10], [10, 8], [10, 9], [10, 10]]  # patch at (7, 8)
    assert report.dropped == {} and report.missing_images == []
    assert [a.kind for a in ds.schema.get("cat").attributes] == ["checkbox", "text"]
    assert_valid(ds)


def test_oriented_rectangle_angle_and_image_size_from_header(tmp_path):
    Image.new("RGB", (64, 48)).save(tmp_path / "a.jpg")
    # a 10 x 4 rectangle turned 90 degrees clockwise about (20, 20): p0 -> p1 points down the y axis
    pts = [[22.0, 15.0], [22.0, 25.0], [18.0, 25.0], [18.0, 15.0]]
    doc = {"version": "5.5.0", "flags": {}, "shapes": [labelme_shape("car", pts, "oriented_rectangle")],
           "imagePath": "a.jpg", "imageData": None, "imageHeight": None, "imageWidth": None}  # fmt: skip
    (tmp_path / "a.json").write_text(json.dumps(doc))
    ds, _ = labelme.read(tmp_path / "a.json")
    (s,) = ds.items[0].shapes
    assert (ds.items[0].width, ds.items[0].height) == (64, 48)
    assert close(s.geometry, {"cx": 20.0, "cy": 20.0, "w": 10.0, "h": 4.0, "angle": 90.0})
    assert np.allclose(rotated_box_corners(s.geometry), pts)


MASK = np.zeros((40, 60), np.uint8)
MASK[5:20, 10:30] = 1
MASK[8:12, 15:20] = 0

ROUND_TRIPS = [
    ("box", {"x": 1.5, "y": 2.25, "w": 10.125, "h": 5.0}, {"truncated": True, "color": "red", "doors": 4}),
    ("rotated_box", {"cx": 20.0, "cy": 15.0, "w": 12.0, "h": 4.0, "angle": 33.3}, {}),
    ("polygon", {"points": [[0.5, 0.25], [10.0, 1.0], [7.123456789, 9.0]], "holes": []}, {"description": "left"}),
    ("polyline", {"points": [[1.0, 1.0], [5.0, 1.000001]]}, {}),
    ("polyline", {"points": [[1.0, 1.0], [5.0, 1.000001], [9.5, 3.0]]}, {}),
    ("points", {"points": [[3.0, 4.0]]}, {}),
    ("points", {"points": [[3.0, 4.0], [5.5, 6.5]]}, {}),
    ("ellipse", {"cx": 30.0, "cy": 20.0, "rx": 8.0, "ry": 8.0, "angle": 0.0}, {}),
    ("mask", {"rle": _rle.encode(MASK)}, {}),
    ("tag", {}, {}),
]


@pytest.mark.parametrize("kind,geometry,attributes", ROUND_TRIPS, ids=[f"{r[0]}{i}" for i, r in enumerate(ROUND_TRIPS)])
def test_round_trip_each_kind(tmp_path, kind, geometry, attributes):
    ds = Dataset()
    extra = {} if kind == "tag" else {"z_order": 2, "group_id": 5, "track_id": 9, "source": "model:yolo", "confidence": 0.25}
    ds.items.append(Item("sub/a.jpg", 60, 40, [Shape(kind, "thing", geometry, attributes, **extra)]))
    report = labelme.write(ds, tmp_path)
    assert report.dropped == {}
    assert (tmp_path / "sub" / "a.json").is_file()
    back, _ = labelme.read(tmp_path)
    (item,) = back.items
    assert item.name == "sub/a.jpg"
    (s,) = item.shapes
    assert (s.kind, s.label, s.attributes) == (kind, "thing", attributes)
    assert close(geometry, s.geometry), s.geometry
    if extra:
        assert (s.z_order, s.group_id, s.track_id, s.source, s.confidence) == (2, 5, 9, "model:yolo", 0.25)
    assert_valid(back)


def test_flags_round_trip_keeps_false_flags(tmp_path):
    ds = Dataset()
    ds.items.append(Item("a.jpg", 10, 10, [Shape("tag", "indoor")], metadata={"flags": {"indoor": False, "night": False}}))
    labelme.write(ds, tmp_path)
    assert json.loads((tmp_path / "a.json").read_text())["flags"] == {"indoor": True, "night": False}
    back, _ = labelme.read(tmp_path)
    assert [(s.kind, s.label) for s in back.items[0].shapes] == [("tag", "indoor")]


@pytest.mark.parametrize(
    "shape,dropped",
    [
        (Shape("ellipse", "x", {"cx": 5, "cy": 5, "rx": 4, "ry": 2, "angle": 10}), "ellipses written as polygons"),
        (Shape("skeleton", "x", {"points": [[1, 1, 2], [2, 2, 0]]}), "skeletons written as points"),
        (Shape("polygon", "x", {"points": [[0, 0], [9, 0], [9, 9]], "holes": [[[1, 1], [2, 1], [2, 2]]]}),
         "polygon holes dropped"),
        (Shape("tag", "x", {}, {"k": "v"}), "tag attributes not representable"),
    ],
)  # fmt: skip
def test_lossy_writes_are_counted(tmp_path, shape, dropped):
    ds = Dataset()
    ds.items.append(Item("a.jpg", 20, 20, [shape]))
    assert labelme.write(ds, tmp_path).dropped == {dropped: 1}


def test_include_images_and_embedded_data(tmp_path):
    img = tmp_path / "src" / "p.png"
    img.parent.mkdir()
    Image.new("RGB", (8, 6), "red").save(img)
    ds = Dataset()
    ds.items.append(Item("train/p.png", None, None, [], "val", image=img))
    report = labelme.write(ds, tmp_path / "out", include_images=True, embed_images=True)
    doc = json.loads((tmp_path / "out" / "train" / "p.json").read_text())
    assert (doc["imageWidth"], doc["imageHeight"], doc["imagePath"]) == (8, 6, "p.png")
    assert base64.b64decode(doc["imageData"]) == img.read_bytes()
    assert (tmp_path / "out" / "train" / "p.png").read_bytes() == img.read_bytes()
    assert report.dropped == {"subsets not representable (labelme has no splits)": 1}


# ------------------------------------------------------------------------------------ LabelMe XML


@needs_peer
def test_labelme_xml_from_datumaro_assets():
    ds, report = formats.read(LABELME_XML)[:2]
    (item,) = ds.items
    assert (item.name, item.width, item.height) == ("subset1/img1.png", 102, 77)
    assert item.image == LABELME_XML / "Images" / "subset1" / "img1.png"
    assert [lb.name for lb in ds.schema] == ["window", "license plate", "o1", "q1", "b1", "m1", "hg"]
    assert [(s.kind, s.label, s.group_id) for s in item.shapes] == [
        ("polygon", "window", None), ("mask", "license plate", None), ("polygon", "o1", 1), ("polygon", "q1", 1),
        ("box", "b1", 1), ("mask", "m1", 2), ("polygon", "hg", 2),
    ]  # fmt: skip
    window, plate, o1, _, b1, m1, hg = item.shapes
    assert window.geometry == {"points": [[43.0, 34.0], [45.0, 34.0], [45.0, 37.0], [43.0, 37.0]], "holes": []}
    assert b1.geometry == {"x": 13.0, "y": 19.0, "w": 10.0, "h": 11.0}  # type bounding_box: 13..23 x 19..30
    assert o1.attributes == {"a1": True, "occluded": True, "username": "anonymous"}
    assert hg.attributes == {"gfd lkj lkj hi": True, "username": "anonymous"}
    assert window.attributes == {"username": "admin"}
    # the masks are full-size RGBA PNGs; a pixel is inside when any channel is non-zero (as datumaro)
    for shape, png, box in ((plate, "img1_mask_1.png", (58, 67, 62, 68)), (m1, "img1_mask_5.png", (55, 14, 69, 23))):
        expect = (np.asarray(Image.open(LABELME_XML / "Masks" / "subset1" / png)) != 0).any(axis=2)
        got = _rle.decode(shape.geometry["rle"]).astype(bool)
        assert (got == expect).all()
        ys, xs = np.nonzero(got)
        assert (xs.min(), ys.min(), xs.max(), ys.max()) == box
    assert report.dropped == {} and report.missing_images == []
    assert_valid(ds)


def test_labelme_xml_round_trip(tmp_path):
    ds = Dataset()
    shapes = [
        Shape("box", "car", {"x": 1.0, "y": 2.0, "w": 3.0, "h": 4.0}, {"occluded": True, "color": "a, b=c", "n": 3},
              group_id=4),  # fmt: skip
        Shape("polygon", "wheel", {"points": [[1.5, 2.0], [5.0, 2.0], [3.0, 7.25]], "holes": []}, {"spare": True},
              group_id=4),  # fmt: skip
        Shape("mask", "road", {"rle": _rle.encode(MASK)}, {"username": "ann"}),
    ]
    ds.items.append(Item("train/a.jpg", 60, 40, shapes, "train"))
    report = formats.write(ds, tmp_path, "labelme_xml")
    assert report.dropped == {}
    assert (tmp_path / "train" / "a.xml").is_file() and (tmp_path / "train" / "Masks" / "a_mask_2.png").is_file()
    assert formats.detect(tmp_path)[0][0] == "labelme_xml"
    back, _ = labelme.read_xml(tmp_path)
    (item,) = back.items
    assert (item.name, item.subset, item.width, item.height) == ("train/a.jpg", "train", 60, 40)
    for a, b in zip(shapes, item.shapes):
        assert (a.kind, a.label, a.attributes) == (b.kind, b.label, b.attributes)
        assert close(a.geometry, b.geometry)
    # LabelMe XML keeps groups as object parts: the group survives, renumbered from 1
    assert [s.group_id for s in item.shapes] == [1, 1, None]


# ------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "content,needle",
    [
        ('{"shapes": [\n  {"label": "a",\n  "points": [[1, 2]] oops}]}', ":3"),
        ('{"shapes": {}, "imagePath": "a.jpg"}', "(shapes)"),
        ('{"shapes": [{"points": [[1, 2]], "shape_type": "point"}], "imagePath": "a.jpg"}', "(shapes[0].label)"),
        ('{"shapes": [{"label": "a", "points": [[1, "x"]], "shape_type": "point"}], "imagePath": "a.jpg"}',
         "(shapes[0].points)"),
        ('{"shapes": [{"label": "a", "points": [[1, 2], [3, 4]], "shape_type": "mask", "mask": "!!"}], '
         '"imagePath": "a.jpg", "imageHeight": 5, "imageWidth": 5}', "(shapes[0].mask)"),
        ('{"shapes": [{"label": "a", "points": [[1, 2]], "shape_type": "point", "group_id": "g"}], "imagePath": "a.jpg"}',
         "(shapes[0].group_id)"),
        ('{"shapes": [], "imagePath": 7}', "(imagePath)"),
        ('{"shapes": [], "imagePath": "a.jpg", "flags": [1]}', "(flags)"),
    ],
)  # fmt: skip
def test_bad_input_names_file_and_key(tmp_path, content, needle):
    f = tmp_path / "a.json"
    f.write_text(content)
    with pytest.raises(FormatError) as e:
        labelme.read(f)
    assert str(f) in str(e.value) and needle in str(e.value)


def test_bad_labelme_xml_names_file_and_key(tmp_path):
    f = tmp_path / "a.xml"
    f.write_text("<annotation><filename>a.jpg</filename><imagesize><nrows>4</nrows><ncols>4</ncols></imagesize>"
                 "<object><name>x</name><id>0</id><polygon><pt><x>1</x><y>q</y></pt></polygon></object></annotation>")  # fmt: skip
    with pytest.raises(FormatError) as e:
        labelme.read_xml(tmp_path)
    assert str(f) in str(e.value) and "(object[0]/polygon)" in str(e.value)


def test_unknown_shape_types_are_counted(tmp_path):
    doc = {"shapes": [labelme_shape("a", [[1, 2]], "cuboid"), labelme_shape("a", [[1, 2]], "polygon")],
           "imagePath": "a.jpg", "imageHeight": 5, "imageWidth": 5}  # fmt: skip
    (tmp_path / "a.json").write_text(json.dumps(doc))
    ds, report = labelme.read(tmp_path)
    assert ds.items[0].shapes == []
    assert report.dropped == {"cuboid shapes skipped (unknown shape_type)": 1, "polygon shapes with 1 points skipped": 1}
    assert report.missing_images == ["a.jpg"]


# ------------------------------------------------------------------------------------ detection


@needs_peer
def test_detect_claims_no_other_peer_folder():
    for d in [p for top in sorted(ASSETS.iterdir()) if top.is_dir() for p in [top, *sorted(top.rglob("*"))] if p.is_dir()]:
        assert labelme.detect(d) == 0, d
        for f in sorted(d.glob("*.json"))[:5]:
            assert labelme.detect(f) == 0, f
        if "labelme_dataset" not in d.parts:
            assert labelme.detect_xml(d) == 0, d
    assert formats.detect(LABELME_XML)[0][0] == "labelme_xml"


def test_detect_tells_the_sibling_formats_apart(tmp_path):
    ds = Dataset()
    ds.items.append(Item("a.jpg", 60, 40, [Shape("box", "car", {"x": 1, "y": 2, "w": 3, "h": 4})]))
    for name in ("cvat", "labelme", "labelme_xml", "via", "labelstudio"):
        formats.write(ds, tmp_path / name, name)
        assert formats.detect(tmp_path / name)[0][0] == name
        assert (labelme.detect(tmp_path / name) > 0) == (name == "labelme")
        assert (labelme.detect_xml(tmp_path / name) > 0) == (name == "labelme_xml")
