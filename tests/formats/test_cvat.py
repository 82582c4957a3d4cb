"""CVAT XML 1.1: datumaro's real files, round trips of every kind, bad input, detection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from limner import formats
from limner.core import rle as _rle
from limner.core.dataset import Dataset, Item
from limner.core.raster import rotated_box_corners
from limner.core.schema import Attribute, Label, Skeleton
from limner.core.shapes import Shape
from limner.formats import cvat
from limner.formats.base import FormatError

from ._shared import ASSETS, assert_valid, close  # noqa: E402

CVAT = ASSETS / "cvat_dataset"
needs_peer = pytest.mark.skipif(not CVAT.is_dir(), reason="peer data ../shared/peer-data/datumaro is not present")


def kinds(ds: Dataset) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in ds.items:
        for s in item.shapes:
            out[s.kind] = out.get(s.kind, 0) + 1
    return out




# ------------------------------------------------------------------------------------ conformance


@needs_peer
def test_task_export_written_by_datumaro():
    ds, report = cvat.read(CVAT / "for_images" / "export_task")
    assert [(i.name, i.subset, i.width, i.height) for i in ds.items] == [
        ("img0.jpg", "train", 8, 8),
        ("img1.jpg", "train", 10, 10),
    ]
    assert all(i.image is not None and i.image.is_file() for i in ds.items)
    assert [lb.name for lb in ds.schema] == ["label1", "label2"]
    # the polyline and the polygon have label="" in the file: skipped and counted
    assert kinds(ds) == {"box": 1, "points": 1}
    assert report.dropped["shapes without a label skipped"] == 2
    box = ds.items[0].shapes[0]
    assert box.geometry == {"x": 0.0, "y": 2.0, "w": 4.0, "h": 2.0}  # xtl=0 ytl=2 xbr=4 ybr=4
    assert box.attributes == {"a1": True, "a2": "v3", "a3": "0003", "a4": 2.4, "occluded": True}
    assert box.z_order == 1
    assert ds.items[1].shapes[0].geometry == {"points": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]}
    a = {x.name: x for x in ds.schema.get("label1").attributes}
    assert (a["a1"].kind, a["a1"].default) == ("checkbox", False)
    assert (a["a2"].kind, a["a2"].options, a["a2"].default) == ("select", ["v1", "v2", "v3"], "v1")
    assert (a["a3"].kind, a["a3"].default) == ("text", "0000")
    assert a["a4"].kind == "number"
    assert ds.info["cvat"]["attributes"]["label1"]["a2"] == {"input_type": "radio"}
    assert_valid(ds)


@needs_peer
def test_project_export_with_subsets():
    ds, report = cvat.read(CVAT / "for_images" / "export_project")
    assert [i.name for i in ds.items] == [f"{s}/img{n}.jpg" for s in ("Test", "Train", "Validation") for n in (0, 1)]
    assert [i.subset for i in ds.items] == ["Test"] * 2 + ["Train"] * 2 + ["Validation"] * 2
    assert all(i.image == CVAT / "for_images" / "export_project" / "images" / i.name for i in ds.items)
    assert kinds(ds) == {"box": 3, "polyline": 3, "polygon": 3, "points": 3}
    assert ds.items[2].shapes[1].geometry == {"points": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]}
    assert ds.items[3].shapes[0].geometry == {"points": [[1.0, 2.0], [3.0, 4.0], [6.0, 5.0]], "holes": []}
    assert [i.metadata for i in ds.items[:2]] == [{"frame": 0, "task_id": "39"}, {"frame": 1, "task_id": "39"}]
    assert report.problems == [] and report.missing_images == []
    assert_valid(ds)


@needs_peer
def test_video_export_tracks():
    ds, report = cvat.read(CVAT / "for_video")
    # size 4, start 10, frame_filter step=3: frames 10, 13, 16, 19 (19 has no image in the folder)
    assert [(i.name, i.width, i.height) for i in ds.items] == [
        (f"frame_{f:06d}.png", 25, 20) for f in (10, 13, 16, 19)
    ]
    assert report.missing_images == ["frame_000019.png"]
    assert [lb.name for lb in ds.schema] == ["klhg", "z U k", "II"]
    f10, f13, f16, f19 = ([(s.kind, s.label, s.track_id) for s in i.shapes] for i in ds.items)
    # outside="1" shapes are where a track has ended: not shapes
    assert f10 == [("box", "II", 0), ("points", "klhg", 1)]
    assert f13 == [("polyline", "II", 2)] and f16 == [] and f19 == []
    box, pts = ds.items[0].shapes
    assert box.geometry == {"x": 3.0, "y": 4.0, "w": 7.0, "h": 1.0} and box.attributes == {"occluded": True}
    assert pts.geometry["points"][0] == [21.95, 8.0] and pts.attributes == {"hgl": "hgkf"}
    hgl = ds.schema.get("klhg").attributes[0]
    assert (hgl.kind, hgl.options, hgl.default) == ("select", ["jk", "hgkf"], "jk")
    assert ds.info["cvat"]["attributes"]["klhg"]["hgl"] == {"mutable": True}
    assert_valid(ds)


@needs_peer
def test_big_files_stream_the_same(monkeypatch):
    import defusedxml.ElementTree as DET

    small = [cvat.read(CVAT / d)[0] for d in ("for_images/export_project", "for_video")]
    streamed = []
    iterparse = DET.iterparse
    monkeypatch.setattr(DET, "iterparse", lambda *a, **k: streamed.append(a[0]) or iterparse(*a, **k))
    monkeypatch.setattr(cvat.reading, "STREAM_ABOVE", 0)
    big = [cvat.read(CVAT / d)[0] for d in ("for_images/export_project", "for_video")]
    assert len(streamed) >= 2  # every file of both exports went through iterparse
    for a, b in zip(small, big):
        assert [(i.name, [s.to_dict() for s in i.shapes]) for i in a.items] == [
            (i.name, [s.to_dict() for s in i.shapes]) for i in b.items
        ]


SPEC_EXAMPLE = """<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta><task><id>4</id><name>segmentation</name><size>1</size><mode>annotation</mode>
    <labels>
      <label><name>car</name><attributes></attributes></label>
      <label><name>s1</name><type>skeleton</type><attributes></attributes>
        <svg>&lt;line x1="36.8" y1="47.7" x2="86.8" y2="10.7" stroke="black" data-type="edge" data-node-from="2" stroke-width="0.5" data-node-to="3"&gt;&lt;/line&gt;&lt;line x1="25.1" y1="22.6" x2="36.8" y2="47.7" stroke="black" data-type="edge" data-node-from="1" stroke-width="0.5" data-node-to="2"&gt;&lt;/line&gt;&lt;circle r="1.5" cx="25.1" cy="22.6" data-type="element node" data-element-id="1" data-node-id="1" data-label-name="1"&gt;&lt;/circle&gt;&lt;circle r="1.5" cx="36.8" cy="47.7" data-type="element node" data-element-id="2" data-node-id="2" data-label-name="2"&gt;&lt;/circle&gt;&lt;circle r="1.5" cx="86.8" cy="10.7" data-type="element node" data-element-id="3" data-node-id="3" data-label-name="3"&gt;&lt;/circle&gt;</svg>
      </label>
      <label><name>1</name><type>points</type><attributes></attributes><parent>s1</parent></label>
      <label><name>2</name><type>points</type><attributes></attributes><parent>s1</parent></label>
      <label><name>3</name><type>points</type><attributes></attributes><parent>s1</parent></label>
    </labels></task></meta>
  <image id="0" name="filename000.jpg" width="1600" height="1200">
    <tag label="car" source="manual"></tag>
    <skeleton label="s1" source="manual" z_order="0">
      <points label="1" occluded="0" source="manual" outside="0" points="54.47,94.81"></points>
      <points label="2" occluded="1" source="manual" outside="0" points="68.02,162.34"></points>
      <points label="3" occluded="0" source="manual" outside="1" points="125.87,62.85"></points>
    </skeleton>
    <mask label="car" source="manual" occluded="0" rle="3, 5, 7, 7, 5, 9, 3, 11, 2, 11, 2, 12, 1, 12, 1, 26, 1, 12, 1, 12, 2, 11, 3, 9, 5, 7, 7, 5, 3" left="707" top="888" width="13" height="15" z_order="0">
    </mask>
    <box label="car" source="auto" occluded="0" xtl="10" ytl="20" xbr="30" ybr="60" rotation="90" z_order="3" group_id="2"></box>
    <ellipse label="car" source="semi-auto" occluded="0" cx="100" cy="50" rx="20" ry="10" rotation="15" z_order="0"></ellipse>
  </image>
</annotations>
"""


def test_spec_example_mask_skeleton_rotation(tmp_path):
    """The docs.cvat.ai XML example: CVAT's window RLE, a skeleton with svg edges, a turned box."""
    (tmp_path / "annotations.xml").write_text(SPEC_EXAMPLE)
    ds, _ = cvat.read(tmp_path)
    tag, skel, mask, box, ell = ds.items[0].shapes
    assert (tag.kind, tag.label) == ("tag", "car")
    s1 = ds.schema.get("s1")
    assert "1" not in ds.schema  # sublabels are skeleton points, not labels
    assert s1.skeleton.points == ["1", "2", "3"] and s1.skeleton.edges == [(1, 2), (0, 1)]
    assert skel.geometry == {"points": [[54.47, 94.81, 2], [68.02, 162.34, 1], [125.87, 62.85, 0]]}
    # rle: 3 zeros then 5 ones in the first 13-pixel row of the window at (707, 888), ...
    counts = [3, 5, 7, 7, 5, 9, 3, 11, 2, 11, 2, 12, 1, 12, 1, 26, 1, 12, 1, 12, 2, 11, 3, 9, 5, 7, 7, 5, 3]
    m = _rle.decode(mask.geometry["rle"])
    assert m.shape == (1200, 1600)
    assert int(m.sum()) == sum(counts[1::2]) == 149
    assert m[888, 707:723].tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    # runs end at 3, 8, 15, 22, 27, 36, 39, 50, 52, 63, 65, 77, 78, 90, 91, 117, 118: the 26 ones
    # from index 91 fill rows 7 and 8 (91..116), then one 0 opens row 9
    assert m[888 + 7 : 888 + 9, 707:720].all() and m[888 + 6, 719] == 0  # index 90: the last of row 6
    assert m[888 + 9, 707] == 0 and m[888 + 9, 708] == 1
    assert mask_utils.toBbox({"size": [1200, 1600], "counts": mask.geometry["rle"]["counts"].encode()}).tolist() == [
        707.0, 888.0, 13.0, 15.0,
    ]  # fmt: skip
    # box turned 90 degrees about its centre (20, 40): its top-left corner (10, 20) goes to (40, 30)
    assert box.kind == "rotated_box"
    assert box.geometry == {"cx": 20.0, "cy": 40.0, "w": 20.0, "h": 40.0, "angle": 90.0}
    assert np.allclose(rotated_box_corners(box.geometry)[0], [40.0, 30.0])
    assert (box.source, box.z_order, box.group_id) == ("auto", 3, 2)
    assert ell.geometry == {"cx": 100.0, "cy": 50.0, "rx": 20.0, "ry": 10.0, "angle": 15.0}
    assert ell.source == "semi-auto"
    assert_valid(ds)
    # and CVAT's RLE written back is the same run list
    assert cvat.rle_to_cvat_mask(mask.geometry["rle"]) == (counts, 707, 888, 13, 15)


def _window_by_decoding(m: np.ndarray):
    rows, cols = np.flatnonzero(m.any(axis=1)), np.flatnonzero(m.any(axis=0))
    if not len(rows):
        return None
    top, bottom, left, right = int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])
    win = m[top : bottom + 1, left : right + 1].ravel()
    runs, last, n = [], 0, 0
    for v in win.tolist():
        if v != last:
            runs.append(n)
            last, n = v, 0
        n += 1
    runs.append(n)
    return runs, left, top, right - left + 1, bottom - top + 1


def test_mask_windows_match_a_full_decode_at_every_edge():
    from limner.core.rle import encode

    rng = np.random.default_rng(7)
    cases = [np.zeros((9, 11), np.uint8), np.ones((9, 11), np.uint8)]
    for _ in range(300):
        m = np.zeros((int(rng.integers(1, 12)), int(rng.integers(1, 12))), np.uint8)
        y0, x0 = rng.integers(0, m.shape[0]), rng.integers(0, m.shape[1])
        m[y0 : y0 + rng.integers(1, 6), x0 : x0 + rng.integers(1, 6)] = 1
        m[rng.random(m.shape) < 0.1] ^= 1  # speckle, holes and pixels on the borders
        cases.append(m)
    one = np.zeros((5, 7), np.uint8)
    one[4, 6] = 1  # the very last pixel
    cases.append(one)
    for m in cases:
        assert cvat.rle_to_cvat_mask(encode(m)) == _window_by_decoding(m), m


# ------------------------------------------------------------------------------------ round trips


def _schema() -> list[Label]:
    return [
        Label("car", color="#ff0000", kinds=["box", "rotated_box"], attributes=[
            Attribute("color", "select", options=["red", "blue"], default="red"),
            Attribute("parked", "checkbox", default=False),
            Attribute("doors", "number", minimum=0, maximum=6),
            Attribute("note", "text"),
        ]),
        Label("road", color="#00ff00"),
        Label("person", color="#0000ff", kinds=["skeleton"],
              skeleton=Skeleton(["head", "left hand", "right hand"], [(0, 1), (0, 2)])),
    ]  # fmt: skip


MASK = np.zeros((40, 60), np.uint8)
MASK[5:20, 10:30] = 1
MASK[8:12, 15:20] = 0  # a hole
MASK[30:35, 0:3] = 1  # a second part touching the left edge

ROUND_TRIPS = [
    ("box", "car", {"x": 1.5, "y": 2.25, "w": 10.125, "h": 5.0}, {"color": "blue", "parked": True, "doors": 4, "note": "a, b"}),
    ("rotated_box", "car", {"cx": 20.0, "cy": 15.0, "w": 12.0, "h": 4.0, "angle": 33.3}, {"color": "red"}),
    ("polygon", "road", {"points": [[0.5, 0.25], [10.0, 1.0], [7.123456789, 9.0]], "holes": []}, {}),
    ("polyline", "road", {"points": [[1.0, 1.0], [5.0, 1.000001], [9.5, 3.0]]}, {}),
    ("points", "road", {"points": [[3.0, 4.0], [5.5, 6.5]]}, {}),
    ("ellipse", "road", {"cx": 30.0, "cy": 20.0, "rx": 8.0, "ry": 3.5, "angle": -12.5}, {}),
    ("mask", "road", {"rle": _rle.encode(MASK)}, {}),
    ("skeleton", "person", {"points": [[10.0, 5.0, 2], [8.0, 9.0, 1], [0.0, 0.0, 0]]}, {}),
    ("tag", "road", {}, {}),
]




@pytest.mark.parametrize("kind,label,geometry,attributes", ROUND_TRIPS, ids=[r[0] for r in ROUND_TRIPS])
def test_round_trip_each_kind(tmp_path, kind, label, geometry, attributes):
    ds = Dataset()
    for lb in _schema():
        ds.schema.add(lb)
    shape = Shape(kind, label, geometry, attributes, z_order=3, group_id=7, source="auto")
    ds.items.append(Item("a.jpg", 60, 40, [shape]))
    report = cvat.write(ds, tmp_path)
    assert report.dropped == {}
    back, _ = cvat.read(tmp_path)
    (s,) = back.items[0].shapes
    assert (s.kind, s.label, s.group_id, s.source) == (kind, label, 7, "auto")
    assert s.z_order == (0 if kind == "tag" else 3)  # CVAT tags have no z_order
    assert close(geometry, s.geometry), s.geometry
    assert s.attributes == attributes
    assert_valid(back)


def test_round_trip_schema_and_subsets(tmp_path):
    src = tmp_path / "src"
    ds = Dataset(info={"cvat": {"name": "my task"}})
    for lb in _schema():
        ds.schema.add(lb)
    for subset in ("train", "val"):
        img = src / subset / "x.png"
        img.parent.mkdir(parents=True)
        img.write_bytes(b"not decoded")
        ds.items.append(Item(f"{subset}/x.png", 60, 40, [Shape("box", "car", {"x": 1, "y": 2, "w": 3, "h": 4})], subset,
                             image=img))  # fmt: skip
    cvat.write(ds, tmp_path / "out", include_images=True)
    assert (tmp_path / "out" / "images" / "train" / "x.png").read_bytes() == b"not decoded"
    back, report = cvat.read(tmp_path / "out")
    assert report.missing_images == []
    assert [(i.name, i.subset) for i in back.items] == [("train/x.png", "train"), ("val/x.png", "val")]
    assert back.info["cvat"]["name"] == "my task"
    for a, b in zip(ds.schema, back.schema):
        assert (a.name, a.color, sorted(a.kinds)) == (b.name, b.color, sorted(b.kinds))
        assert [x.to_dict() for x in a.attributes] == [x.to_dict() for x in b.attributes]
        assert (a.skeleton.to_dict() if a.skeleton else None) == (b.skeleton.to_dict() if b.skeleton else None)


def test_round_trip_video_tracks(tmp_path):
    ds = Dataset()
    for lb in _schema():
        ds.schema.add(lb)
    ds.items = [Item(f"frame_{f:06d}.png", 60, 40, [], None, {"frame": f}) for f in (0, 5, 10, 15)]
    ds.items[0].shapes.append(Shape("box", "car", {"x": 1, "y": 2, "w": 3, "h": 4}, {"doors": 2}, track_id=7, group_id=1))
    ds.items[1].shapes.append(Shape("box", "car", {"x": 2, "y": 2, "w": 3, "h": 4}, {"doors": 2}, track_id=7, group_id=1))
    ds.items[3].shapes.append(Shape("box", "car", {"x": 5, "y": 2, "w": 3, "h": 4}, {"doors": 3}, track_id=7, group_id=1))
    ds.items[1].shapes.append(Shape("skeleton", "person", {"points": [[1, 2, 2], [3, 4, 1], [5, 6, 2]]}, track_id=3))
    ds.items[2].shapes.append(Shape("mask", "road", {"rle": _rle.encode(MASK)}, track_id=4))
    report = formats.write(ds, tmp_path, "cvat_video")
    assert report.dropped == {}
    xml = (tmp_path / "annotations.xml").read_text()
    assert "<mode>interpolation</mode>" in xml and "<frame_filter>step=5</frame_filter>" in xml
    # track 7 leaves the picture at frame 10 and comes back at 15
    assert '<box frame="10" keyframe="1" outside="1"' in xml
    back, _ = cvat.read(tmp_path)
    got = [[(s.kind, s.track_id, s.group_id, s.attributes, s.geometry) for s in i.shapes] for i in back.items]
    want = [[(s.kind, s.track_id, s.group_id, s.attributes, s.geometry) for s in i.shapes] for i in ds.items]
    assert [[g[:4] for g in x] for x in got] == [[w[:4] for w in x] for x in want]
    assert all(close(w[4], g[4]) for x, y in zip(want, got) for w, g in zip(x, y))
    assert [i.name for i in back.items] == [i.name for i in ds.items]


@pytest.mark.parametrize(
    "shape,fmt,dropped",
    [
        (Shape("box", "car", {"x": 1, "y": 2, "w": 3, "h": 4}, confidence=0.9), "cvat", "confidences not representable"),
        (Shape("polygon", "road", {"points": [[0, 0], [9, 0], [9, 9]], "holes": [[[1, 1], [2, 1], [2, 2]]]}), "cvat",
         "polygon holes dropped"),
        (Shape("box", "car", {"x": 1, "y": 2, "w": 3, "h": 4}, track_id=3), "cvat",
         "track ids not representable in CVAT for images (write cvat_video)"),
        (Shape("tag", "road"), "cvat_video", "tags not representable in CVAT for video"),
        (Shape("box", "car", {"x": 1, "y": 2, "w": 3, "h": 4}), "cvat_video", "untracked shapes written as one-frame tracks"),
    ],
)  # fmt: skip
def test_lossy_writes_are_counted(tmp_path, shape, fmt, dropped):
    ds = Dataset()
    for lb in _schema():
        ds.schema.add(lb)
    ds.items.append(Item("frame_000000.png", 60, 40, [shape], metadata={"frame": 0}))
    report = formats.write(ds, tmp_path, fmt)
    assert report.dropped == {dropped: 1}
    assert any(line.endswith(f"1 {dropped}") for line in report.summary())


# ------------------------------------------------------------------------------------ bad input


HEAD = '<?xml version="1.0"?><annotations><version>1.1</version><meta><task><labels/></task></meta>'


@pytest.mark.parametrize(
    "body,needle",
    [
        (HEAD + '<image id="0" name="a.jpg" width="4" height="4"><box label="x" ytl="1" xbr="2" ybr="3"/></image>',
         "(image 'a.jpg' > box[0])"),
        (HEAD + '<image id="0" name="a.jpg" width="4" height="4"><polygon label="x" points="1,2;3"/></image>',
         "(image 'a.jpg' > polygon[0])"),
        (HEAD + '<image id="0" name="a.jpg" width="4" height="4">'
                '<mask label="x" rle="1, 2" left="0" top="0" width="2" height="2"/></image>',
         "rle covers 3 pixels"),
        (HEAD + '<image id="0" width="4" height="4"/></annotations>', "(image[0])"),
        (HEAD + '<image id="zero" name="a.jpg"/></annotations>', "(image 'a.jpg')"),
        (HEAD + '<track id="1" label="x"><box frame="x" xtl="0" ytl="0" xbr="1" ybr="1"/></track>', "(track 1 > box[0])"),
        ('<annotation><filename>a.jpg</filename></annotation>', "CVAT XML has <annotations>"),
        (HEAD + '<image id="0" name="a.jpg"><box label="x"</image></annotations>', ":1"),
        ('<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaa">]>\n<annotations>&a;</annotations>', "refused XML"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("stream", [False, True], ids=["tree", "iterparse"])
def test_bad_input_names_file_and_place(tmp_path, monkeypatch, body, needle, stream):
    if stream:
        monkeypatch.setattr(cvat.reading, "STREAM_ABOVE", 0)
    if body.startswith(HEAD) and not body.endswith("</annotations>"):
        body += "</annotations>"
    f = tmp_path / "annotations.xml"
    f.write_text(body)
    with pytest.raises(FormatError) as e:
        cvat.read(tmp_path)
    assert str(f) in str(e.value) and needle in str(e.value)


def test_unknown_labels_are_reported_not_fatal(tmp_path):
    (tmp_path / "a.xml").write_text(HEAD + '<image id="0" name="a.jpg" width="4" height="4">'
                                    '<box label="ghost" xtl="0" ytl="0" xbr="1" ybr="1"/></image></annotations>')  # fmt: skip
    ds, report = cvat.read(tmp_path)
    assert [lb.name for lb in ds.schema] == ["ghost"] and ds.items[0].subset == "a"
    assert report.problems == [f"{tmp_path / 'a.xml'}: label 'ghost' is not declared in <meta>; added"]
    assert report.missing_images == ["a.jpg"]


# ------------------------------------------------------------------------------------ detection


def _all_asset_dirs() -> list[Path]:
    return [p for d in sorted(ASSETS.iterdir()) if d.is_dir() for p in [d, *sorted(d.rglob("*"))] if p.is_dir()]


@needs_peer
@pytest.mark.parametrize("sub", ["for_images/export_task", "for_images/export_project", "for_video"])
def test_detect_ranks_cvat_first(sub):
    assert formats.detect(CVAT / sub)[0][0] == "cvat"
    assert formats.detect(next((CVAT / sub).glob("*.xml")))[0][0] == "cvat"


@needs_peer
def test_detect_claims_no_other_peer_folder():
    for d in _all_asset_dirs():
        if "cvat_dataset" not in d.parts:
            assert cvat.detect(d) == 0, d
            for f in sorted(d.glob("*.xml"))[:5]:
                assert cvat.detect(f) == 0, f


def test_detect_tells_the_sibling_formats_apart(tmp_path):
    ds = Dataset()
    ds.items.append(Item("a.jpg", 60, 40, [Shape("box", "car", {"x": 1, "y": 2, "w": 3, "h": 4})]))
    for name in ("cvat", "labelme", "via", "labelstudio"):
        formats.write(ds, tmp_path / name, name)
        assert formats.detect(tmp_path / name)[0][0] == name
        assert (cvat.detect(tmp_path / name) > 0) == (name == "cvat")


def test_subset_names_survive_without_images(tmp_path):
    ds = Dataset()
    ds.items = [Item(f"{s}/x.png", 8, 8, [], s) for s in ("train", "val")]
    cvat.write(ds, tmp_path)
    back, report = cvat.read(tmp_path)
    assert [(i.name, i.subset, i.image) for i in back.items] == [("train/x.png", "train", None), ("val/x.png", "val", None)]
    assert report.missing_images == ["train/x.png", "val/x.png"]


def test_points_arrays_are_written_as_lists_are():
    from limner.core.points import Points

    rng = np.random.default_rng(1)
    for k in range(700):
        n = int(rng.integers(1, 8))
        a = [
            rng.uniform(-1e6, 1e6, (n, 2)), rng.integers(-100, 100, (n, 2)).astype(float),
            rng.uniform(0, 1e-4, (n, 2)).round(8), np.full((n, 2), -0.0), rng.uniform(0, 1e3, (n, 2)).round(2),
            np.full((n, 2), 123456789012345.0), rng.uniform(1e15, 1e17, (n, 2)),
        ][k % 7]  # fmt: skip
        fast, plain = cvat._pts_str(Points(a)), cvat._pts_str(a.tolist())
        back = [[float(v) for v in pair.split(",")] for pair in fast.split(";")]
        assert back == (a + 0.0).tolist()  # every number read back exactly
        if k % 7 != 2:  # very small numbers: positional (0.00008) where repr writes 8e-05
            assert fast == plain
    assert cvat._pts_str(Points(np.array([[np.nan, 1.0], [2.0, np.inf]]))) == "nan,1;2,inf"
