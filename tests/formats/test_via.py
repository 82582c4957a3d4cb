"""VGG Image Annotator 2: project and export files built as via.js writes them, round trips of
every kind, bad input, detection."""

from __future__ import annotations

import json

import numpy as np
import pytest

from limner import formats
from limner.core import rle as _rle
from limner.core.dataset import Dataset, Item
from limner.core.raster import rotated_box_corners
from limner.core.shapes import Shape
from limner.formats import via
from limner.formats.base import FormatError

from ._shared import ASSETS, assert_valid, close  # noqa: E402







# A project as VIA 2.0.10 saves it (Project -> Save): its demo's attribute set, regions of every shape.
REGION_ATTRIBUTES = {
    "name": {"type": "text", "description": "Name of the object", "default_value": "not_defined"},
    "type": {"type": "dropdown", "description": "Category of object", "options": {"bird": "Bird", "human": "Human"},
             "default_options": {"bird": True}},
    "image_quality": {"type": "checkbox", "description": "Quality of image region",
                      "options": {"blur": "Blurred region", "good": "Good (Clear)", "frontal": "Frontal view"},
                      "default_options": {"good": True, "frontal": True}},
}  # fmt: skip
FILE_ATTRIBUTES = {
    "caption": {"type": "text", "description": "", "default_value": ""},
    "public_domain": {"type": "radio", "description": "", "options": {"yes": "Yes", "no": "No"}, "default_options": {"no": True}},
}
SETTINGS = {
    "ui": {"annotation_editor_height": 25, "annotation_editor_fontsize": 0.8, "leftsidebar_width": 18,
           "image_grid": {"img_height": 80, "rshape_fill": "none", "rshape_fill_opacity": 0.3, "rshape_stroke": "yellow",
                          "rshape_stroke_width": 2, "show_region_shape": True, "show_image_policy": "all"},
           "image": {"region_label": "__via_region_id__", "region_color": "__via_default_region_color__",
                     "region_label_font": "10px Sans", "on_image_annotation_editor_placement": "NEAR_REGION"}},
    "core": {"buffer_size": 18, "filepath": {}, "default_filepath": ""},
    "project": {"name": "swans"},
}  # fmt: skip


def region(sa: dict, **ra) -> dict:
    return {"shape_attributes": sa, "region_attributes": ra}


def project() -> dict:
    regions = [
        region({"name": "rect", "x": 116, "y": 157, "width": 306, "height": 240}, name="Swan", type="bird",
               image_quality={"good": True, "frontal": True}),
        region({"name": "polygon", "all_points_x": [10, 50, 30], "all_points_y": [20, 20, 60]}, name="Lake", type="bird"),
        region({"name": "polyline", "all_points_x": [1, 5, 9], "all_points_y": [2, 6, 2]}, name="Shore"),
        region({"name": "circle", "cx": 200, "cy": 100, "r": 25}, name="Sun"),
        region({"name": "ellipse", "cx": 300, "cy": 120, "rx": 40, "ry": 20, "theta": 0.5}, name="Cloud"),
        region({"name": "point", "cx": 77, "cy": 88}, name="Eye"),
        region({"name": "rect", "x": 1, "y": 1, "width": 5, "height": 5}, name="", type="human"),  # no label yet
    ]
    meta = {
        "swan.jpg123456": {"filename": "swan.jpg", "size": 123456, "regions": regions,
                           "file_attributes": {"caption": "Swan in lake Geneve", "public_domain": "no"}},
        "http://example.org/b.jpg-1": {"filename": "http://example.org/b.jpg", "size": -1, "regions": [],
                                       "file_attributes": {}},
    }  # fmt: skip
    return {"_via_settings": SETTINGS, "_via_img_metadata": meta,
            "_via_attributes": {"region": REGION_ATTRIBUTES, "file": FILE_ATTRIBUTES},
            "_via_data_format_version": "2.0.10", "_via_image_id_list": list(meta)}  # fmt: skip


def test_project_file_every_shape(tmp_path):
    (tmp_path / "swans.json").write_text(json.dumps(project()))
    (tmp_path / "swan.jpg").write_bytes(b"jpeg bytes are not decoded")
    ds, report = via.read(tmp_path)
    assert [i.name for i in ds.items] == ["swan.jpg", "http://example.org/b.jpg"]
    item = ds.items[0]
    assert item.image == tmp_path / "swan.jpg" and item.metadata == {
        "via_size": 123456, "file_attributes": {"caption": "Swan in lake Geneve", "public_domain": "no"}}  # fmt: skip
    got = [(s.kind, s.label, s.geometry) for s in item.shapes]
    assert got[:4] == [
        ("box", "Swan", {"x": 116.0, "y": 157.0, "w": 306.0, "h": 240.0}),
        ("polygon", "Lake", {"points": [[10.0, 20.0], [50.0, 20.0], [30.0, 60.0]], "holes": []}),
        ("polyline", "Shore", {"points": [[1.0, 2.0], [5.0, 6.0], [9.0, 2.0]]}),
        ("ellipse", "Sun", {"cx": 200.0, "cy": 100.0, "rx": 25.0, "ry": 25.0, "angle": 0.0}),
    ]
    assert got[4][:2] == ("ellipse", "Cloud") and close(
        got[4][2], {"cx": 300.0, "cy": 120.0, "rx": 40.0, "ry": 20.0, "angle": 28.64788975654116})  # 0.5 rad  # fmt: skip
    assert got[5] == ("points", "Eye", {"points": [[77.0, 88.0]]})
    assert item.shapes[0].attributes == {"type": "bird", "image_quality": "good,frontal"}
    assert report.dropped == {"regions without a 'name' attribute skipped (pass default_label=...)": 1}
    assert report.missing_images == ["http://example.org/b.jpg"]
    assert ds.info["via"]["label_key"] == "name" and ds.info["via"]["settings"]["project"]["name"] == "swans"
    assert_valid(ds)


def test_label_key_option_and_file_attribute_tags(tmp_path):
    doc = project()
    doc["_via_img_metadata"]["swan.jpg123456"]["file_attributes"]["type"] = {"bird": True, "human": False}
    (tmp_path / "p.json").write_text(json.dumps(doc))
    ds, report = via.read(tmp_path / "p.json", label_key="type")
    item = ds.items[0]
    assert [(s.kind, s.label) for s in item.shapes] == [("box", "bird"), ("polygon", "bird"), ("box", "human"), ("tag", "bird")]
    assert item.shapes[0].attributes == {"name": "Swan", "image_quality": "good,frontal"}
    assert report.dropped == {"regions without a 'type' attribute skipped (pass default_label=...)": 4}


def test_balloon_layout_export_files_with_default_label(tmp_path):
    """The Mask R-CNN balloon layout: <split>/via_region_data.json, bare exports, no region attributes."""
    for split, n in (("train", 2), ("val", 1)):
        meta = {}
        for i in range(n):
            fname = f"{split}{i}.jpg"
            meta[f"{fname}1000{i}"] = {
                "filename": fname, "size": 1000 + i, "file_attributes": {},
                "regions": {"0": {"shape_attributes": {"name": "polygon", "all_points_x": [1, 9, 5], "all_points_y": [1, 1, 8]},
                                  "region_attributes": {}}},
            }  # fmt: skip  (regions keyed "0", "1", ... as VIA 1 and the balloon files store them)
        (tmp_path / split).mkdir()
        (tmp_path / split / "via_region_data.json").write_text(json.dumps(meta))
    assert formats.detect(tmp_path)[0][0] == "via"
    ds, report = via.read(tmp_path, default_label="balloon")
    assert [(i.name, i.subset) for i in ds.items] == [("train/train0.jpg", "train"), ("train/train1.jpg", "train"),
                                                      ("val/val0.jpg", "val")]  # fmt: skip
    assert all([(s.kind, s.label) for s in i.shapes] == [("polygon", "balloon")] for i in ds.items)
    out = tmp_path / "out"
    via.write(ds, out, project=False)
    again = json.loads((out / "val" / "via_region_data.json").read_text())
    assert list(again) == ["val0.jpg1000"] and again["val0.jpg1000"]["regions"][0]["region_attributes"] == {"label": "balloon"}


MASK = np.zeros((40, 60), np.uint8)
MASK[5:20, 10:30] = 1

ROUND_TRIPS = [
    ("box", {"x": 1.5, "y": 2.25, "w": 10.125, "h": 5.0}, {"truncated": True, "color": "red", "doors": 4}),
    ("polygon", {"points": [[0.5, 0.25], [10.0, 1.0], [7.123456789, 9.0]], "holes": []}, {"note": "x"}),
    ("polyline", {"points": [[1.0, 1.0], [5.0, 1.000001], [9.5, 3.0]]}, {}),
    ("points", {"points": [[3.0, 4.0]]}, {}),
    ("ellipse", {"cx": 30.0, "cy": 20.0, "rx": 8.0, "ry": 8.0, "angle": 0.0}, {}),
    ("ellipse", {"cx": 30.0, "cy": 20.0, "rx": 8.0, "ry": 3.0, "angle": -20.0}, {}),
    ("tag", {}, {}),
]


@pytest.mark.parametrize("project_file", [True, False], ids=["project", "export"])
@pytest.mark.parametrize("kind,geometry,attributes", ROUND_TRIPS, ids=[f"{r[0]}{i}" for i, r in enumerate(ROUND_TRIPS)])
def test_round_trip_each_kind(tmp_path, kind, geometry, attributes, project_file):
    ds = Dataset()
    ds.items.append(Item("a.jpg", None, None, [Shape(kind, "thing", geometry, attributes)], metadata={"file_attributes": {"c": "d"}}))
    report = via.write(ds, tmp_path, project=project_file)
    assert report.dropped == {}
    back, _ = via.read(tmp_path)
    (item,) = back.items
    assert item.metadata == {"via_size": -1, "file_attributes": {"c": "d"}}
    (s,) = item.shapes
    assert (s.kind, s.label, s.attributes) == (kind, "thing", attributes)
    assert close(geometry, s.geometry), s.geometry
    assert_valid(back)


def test_multiple_tags_and_subsets_round_trip(tmp_path):
    ds = Dataset()
    ds.items.append(Item("train/a.jpg", None, None, [Shape("tag", "sunny"), Shape("tag", "beach")], "train"))
    ds.items.append(Item("val/b.jpg", None, None, [Shape("box", "car", {"x": 1, "y": 2, "w": 3, "h": 4})], "val"))
    via.write(ds, tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json")) == [
        "train/via_project.json", "val/via_project.json"]  # fmt: skip
    back, _ = via.read(tmp_path)
    assert [(i.name, i.subset, [(s.kind, s.label) for s in i.shapes]) for i in back.items] == [
        ("train/a.jpg", "train", [("tag", "sunny"), ("tag", "beach")]), ("val/b.jpg", "val", [("box", "car")])]  # fmt: skip


@pytest.mark.parametrize(
    "shape,dropped",
    [
        (Shape("rotated_box", "x", {"cx": 5, "cy": 5, "w": 4, "h": 2, "angle": 30}), {"rotated boxes written as polygons": 1}),
        (Shape("mask", "x", {"rle": _rle.encode(MASK)}), {"masks written as polygons": 1}),
        (Shape("skeleton", "x", {"points": [[1, 1, 2], [2, 2, 0]]}), {"skeletons written as points": 1}),
        (Shape("points", "x", {"points": [[1, 1], [2, 2]]}), {"multi-point shapes written as one point region per point": 1}),
        (Shape("box", "x", {"x": 1, "y": 1, "w": 2, "h": 2}, group_id=3, z_order=1, track_id=2, source="model:m", confidence=0.5),
         {"group ids not representable": 1, "z-orders not representable": 1, "track ids not representable": 1,
          "confidences not representable": 1, "sources not representable": 1}),
    ],
)  # fmt: skip
def test_lossy_writes_are_counted(tmp_path, shape, dropped):
    ds = Dataset()
    ds.items.append(Item("a.jpg", 60, 40, [shape]))
    assert via.write(ds, tmp_path).dropped == dropped


def test_rotated_box_and_mask_written_as_polygons_keep_their_outline(tmp_path):
    g = {"cx": 20.0, "cy": 10.0, "w": 8.0, "h": 4.0, "angle": 30.0}
    ds = Dataset()
    ds.items.append(Item("a.jpg", 60, 40, [Shape("rotated_box", "x", g), Shape("mask", "x", {"rle": _rle.encode(MASK)})]))
    via.write(ds, tmp_path / "a.json")
    back, _ = via.read(tmp_path / "a.json")
    rot, mask = back.items[0].shapes
    assert close(rot.geometry["points"], rotated_box_corners(g).tolist())
    # the mask's pixel outline: the 20 x 15 block's four corners
    assert sorted(map(tuple, mask.geometry["points"])) == [(10.0, 5.0), (10.0, 20.0), (30.0, 5.0), (30.0, 20.0)]


# ------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "doc,needle",
    [
        ("[1, 2]", "(root)"),
        ('{"_via_settings": {}, "_via_img_metadata": []}', "(_via_img_metadata)"),
        ('{"a.jpg1": {"size": 1, "regions": []}}', "('a.jpg1')"),
        ('{"a.jpg1": {"filename": "a.jpg", "size": 1, "regions": 5}}', "('a.jpg1'.regions)"),
        ('{"a.jpg1": {"filename": "a.jpg", "size": 1, "regions": [{"region_attributes": {}}]}}', "('a.jpg1'.regions[0])"),
        ('{"a.jpg1": {"filename": "a.jpg", "size": 1, "regions": [{"shape_attributes": {"name": "rect", "x": "1", "y": 1, '
         '"width": 2, "height": 2}, "region_attributes": {"label": "a"}}]}}', "('a.jpg1'.regions[0].shape_attributes.x)"),
        ('{"_via_settings": {}, "_via_img_metadata": {"k": {"filename": "a.jpg", "size": 1, "regions": [{"shape_attributes": '
         '{"name": "polygon", "all_points_x": [1, 2, 3], "all_points_y": [1, 2]}}]}}}',
         "(_via_img_metadata['k'].regions[0].shape_attributes)"),
        ('{"a.jpg1": {"filename": "a.jpg",\n "size": 1,\n "regions": [}', ":3"),
    ],
)  # fmt: skip
def test_bad_input_names_file_and_key(tmp_path, doc, needle):
    f = tmp_path / "via.json"
    f.write_text(doc)
    with pytest.raises(FormatError) as e:
        via.read(f)
    assert str(f) in str(e.value) and needle in str(e.value)


# ------------------------------------------------------------------------------------ detection


@pytest.mark.skipif(not ASSETS.is_dir(), reason="peer data ../shared/peer-data/datumaro is not present")
def test_detect_claims_no_other_peer_folder():
    for d in [p for top in sorted(ASSETS.iterdir()) if top.is_dir() for p in [top, *sorted(top.rglob("*"))] if p.is_dir()]:
        assert via.detect(d) == 0, d
        for f in sorted(d.glob("*.json"))[:5]:
            assert via.detect(f) == 0, f


def test_detect_project_and_export_files(tmp_path):
    (tmp_path / "p.json").write_text(json.dumps(project()))
    assert formats.detect(tmp_path / "p.json")[0] == ("via", 90)
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "via_region_data.json").write_text(json.dumps(project()["_via_img_metadata"]))
    assert formats.detect(tmp_path / "e")[0][0] == "via"


def test_detect_tells_the_sibling_formats_apart(tmp_path):
    ds = Dataset()
    ds.items.append(Item("a.jpg", 60, 40, [Shape("box", "car", {"x": 1, "y": 2, "w": 3, "h": 4})]))
    for name in ("cvat", "labelme", "labelme_xml", "via", "labelstudio"):
        formats.write(ds, tmp_path / name, name)
        assert formats.detect(tmp_path / name)[0][0] == name
        assert (via.detect(tmp_path / name) > 0) == (name == "via")
