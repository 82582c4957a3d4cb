"""Tests for limner.formats.tfrecord: CRC-32C, the TFRecord container, tf.train.Example by hand,
datumaro's TFRecords (written by TensorFlow), round trips, bad input and detection.

The protobuf package is not installed here, so the independent check is against the bytes
TensorFlow wrote: each feature-map entry we encode must equal, byte for byte, the entry TensorFlow
wrote for the same key and values, and what we write from datumaro's dataset must hold the same
fields as their records.

Numbers from the peer files, by hand (``xxd train.tfrecord``): record 0 is 1.jpg, 16 x 16,
xmin [0, 0, 0.125], xmax [0.25, 0.25, 0.375], ymin [0.25, 0.25, 0.25], ymax [0.75, 0.5, 0.5],
class/text [label_2, label_3, ""], class/label [3, 4, 0] -> boxes (0, 4, 4, 8) label_2,
(0, 4, 4, 4) label_3 and an object without a class. val: 2.jpg, 8 x 8, xmin 0.125 xmax 0.625
ymin 0.25 ymax 0.5 label_3 -> (1, 2, 4, 2). test: 3.jpg, width 4 height 5, no objects.
"""

from __future__ import annotations

import hashlib
import os
import struct
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
from limner.formats import tfrecord as tf
from limner.formats.base import FormatError

ASSETS = Path(__file__).resolve().parents[3] / "shared" / "peer-data" / "datumaro" / "tests" / "assets"
PEER = ASSETS / "tf_detection_api_dataset"
needs_peer = pytest.mark.skipif(not PEER.is_dir(), reason="shared/peer-data (datumaro's test assets) is not beside the repo")


def box(x, y, w, h):
    return {"x": float(x), "y": float(y), "w": float(w), "h": float(h)}


def entries(data: bytes) -> dict[str, bytes]:
    """The raw bytes of each feature-map entry of a serialized Example, by key."""
    out = {}
    for _, _, a, b in tf._fields(data, 0, len(data)):
        for _, _, c, d in tf._fields(data, a, b):
            key = next(data[e:g].decode() for f, _, e, g in tf._fields(data, c, d) if f == 1)
            out[key] = data[c:d]
    return out


# -- CRC-32C and the container ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"", 0x00000000),
        (b"123456789", 0xE3069283),  # the CRC catalogue's check value
        (bytes(32), 0x8A9136AA),  # RFC 3720 B.4
        (b"\xff" * 32, 0x62A8AB43),
        (bytes(range(32)), 0x46DD794E),
        (bytes(range(31, -1, -1)), 0x113FDB5C),
    ],
)
def test_crc32c_known_values(data, expected):
    assert tf.crc32c(data) == expected


@pytest.mark.parametrize("n", [2047, 2048, 2049, 4099, 65536 + 7, 1_000_003])
def test_crc32c_fast_path_matches_the_byte_loop(n):
    data = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8).tobytes()
    assert tf.crc32c(data) == tf._crc_loop(0xFFFFFFFF, data) ^ 0xFFFFFFFF


def test_crc32c_many_matches_one_by_one():
    rng = np.random.default_rng(1)
    datas = [rng.integers(0, 256, n, dtype=np.uint8).tobytes() for n in rng.choice([0, 1, 3, 4, 5, 8, 99, 540, 2048, 2049, 9000], 300)]
    assert tf.crc32c_many(datas) == [tf.crc32c(d) for d in datas]


def test_a_damaged_length_is_caught_before_reading(tmp_path):
    tf.write_records(tmp_path / "x.tfrecord", [b"abc"])
    raw = bytearray((tmp_path / "x.tfrecord").read_bytes())
    raw[7] = 0x7F  # the length now announces ~2^62 bytes
    (tmp_path / "x.tfrecord").write_bytes(bytes(raw))
    with pytest.raises(FormatError, match=r"x\.tfrecord \(record 0\): CRC-32C of the record length does not match"):
        list(tf.read_records(tmp_path / "x.tfrecord"))


def test_records_round_trip_and_framing(tmp_path):
    recs = [b"", b"a", os.urandom(5000)]
    assert tf.write_records(tmp_path / "x.tfrecord", recs) == 3
    raw = (tmp_path / "x.tfrecord").read_bytes()
    assert struct.unpack_from("<Q", raw, 0)[0] == 0 and len(raw) == sum(16 + len(r) for r in recs)
    assert list(tf.read_records(tmp_path / "x.tfrecord")) == recs


# -- Example encoding -----------------------------------------------------------------------------


@needs_peer
@pytest.mark.parametrize("file", ["train.tfrecord", "val.tfrecord", "test.tfrecord"])
def test_our_encoding_is_tensorflows_entry_for_entry(file):
    """Every CRC of TensorFlow's file checks, and re-encoding the decoded features gives the
    very bytes TensorFlow wrote for each entry."""
    for data in tf.read_records(PEER / file):
        feats = tf.decode_example(data)
        ours = tf.encode_example(feats)
        assert entries(ours) == entries(data)
        assert len(ours) == len(data)


def test_example_round_trip_with_negative_ints_and_empty_lists():
    feats = {"a": ("int64", [0, -1, 2**40, -(2**63)]), "b": ("float", [0.5, -2.0]), "c": ("bytes", [b"", b"\x00\xff"]),
             "d": ("float", []), "e": ("int64", []), "f": ("bytes", [])}  # fmt: skip
    assert tf.decode_example(tf.encode_example(feats)) == feats


def test_unpacked_repeated_values_are_read():
    # Int64List{value: 5, value: -3} and FloatList{value: 1.5} written unpacked (proto2 style)
    ints = b"\x08\x05" + b"\x08" + tf._varint(-3)
    floats = b"\x0d" + struct.pack("<f", 1.5)
    feat_i = tf._ld(0x1A, ints)
    feat_f = tf._ld(0x12, floats)
    entry = lambda k, f: tf._ld(0x0A, tf._ld(0x0A, k) + tf._ld(0x12, f))  # noqa: E731
    data = tf._ld(0x0A, entry(b"i", feat_i) + entry(b"f", feat_f))
    assert tf.decode_example(data) == {"i": ("int64", [5, -3]), "f": ("float", [1.5])}


# -- label_map.pbtxt ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("item {\n  id: 1\n  name: 'cat'\n}\n", [(1, "cat", None)]),
        ('item: { name: "dog" id: 2 display_name: "Dog" }', [(2, "dog", "Dog")]),
        ("# comment\nitem {\n id: 3\n name: 'it\\'s'\n keypoints { id: 0 label: 'nose' }\n}\n", [(3, "it's", None)]),
        ("item { id: 1 name: 'a' }\nitem { id: 5, name: 'b b' }", [(1, "a", None), (5, "b b", None)]),
    ],
)
def test_label_map_parsing(text, expected):
    got = [(i["id"], i["name"], i.get("display_name")) for i in tf.parse_label_map(text)]
    assert got == expected


def test_label_map_written_is_read_back():
    text = tf.format_label_map({"cat": 1, "it's": 7, "a\\b": 3}, {"cat": "Cat"})
    assert [(i["id"], i["name"], i.get("display_name")) for i in tf.parse_label_map(text)] == [
        (1, "cat", "Cat"), (3, "a\\b", None), (7, "it's", None),
    ]  # fmt: skip


# -- conformance ----------------------------------------------------------------------------------


@needs_peer
def test_reads_datumaros_tfrecords():
    ds, report = tf.read(PEER)
    assert [(it.name, it.subset, it.width, it.height, it.image) for it in ds.items] == [
        ("3.jpg", "test", 4, 5, None), ("1.jpg", "train", 16, 16, None), ("2.jpg", "val", 8, 8, None),
    ]  # fmt: skip
    assert [lb.name for lb in ds.schema] == [f"label_{i}" for i in range(10)]
    got = [[(s.kind, s.label, s.geometry, s.group_id) for s in it.shapes] for it in ds.items]
    assert got == [
        [],
        [("box", "label_2", box(0, 4, 4, 8), None), ("box", "label_3", box(0, 4, 4, 4), None)],
        [("box", "label_3", box(1, 2, 4, 2), None)],
    ]
    assert dict(report.dropped) == {"objects without a class dropped": 1}
    assert report.missing_images == [] and report.items == 3 and report.shapes == 3
    assert ds.items[1].metadata == {"tf_detection_api": {"source_id": "1"}}
    assert ds.info["tf_detection_api"]["label_ids"]["label_9"] == 10


@needs_peer
def test_images_are_written_out_only_with_images_dir(tmp_path):
    ds, _ = tf.read(PEER, images_dir=tmp_path / "img")
    assert [it.image for it in ds.items] == [(tmp_path / "img" / n).resolve() for n in ("3.jpg", "1.jpg", "2.jpg")]
    with Image.open(ds.items[1].image) as im:
        assert im.format == "JPEG"
    assert [it.width for it in ds.items] == [4, 16, 8]  # the record's size is kept either way


@needs_peer
def test_what_we_write_from_their_dataset_holds_their_fields(tmp_path):
    ds, _ = tf.read(PEER, images_dir=tmp_path / "img")
    report = tf.write(ds, tmp_path / "out")
    assert report.missing_images == [] and dict(report.dropped) == {}
    for file in ("train.tfrecord", "val.tfrecord", "test.tfrecord"):
        theirs = [tf.decode_example(r) for r in tf.read_records(PEER / file)]
        ours = [tf.decode_example(r) for r in tf.read_records(tmp_path / "out" / file)]
        assert len(theirs) == len(ours) == 1
        t, o = theirs[0], ours[0]
        keep = [i for i, c in enumerate(t.get("image/object/class/label", ("int64", []))[1]) if c > 0]
        for key in ("image/filename", "image/source_id", "image/height", "image/width", "image/encoded", "image/format"):
            assert o[key] == t[key], key
        for key in ("image/object/bbox/xmin", "image/object/bbox/xmax", "image/object/bbox/ymin",
                    "image/object/bbox/ymax", "image/object/class/text", "image/object/class/label"):  # fmt: skip
            if key in t:
                assert o[key] == (t[key][0], [t[key][1][i] for i in keep]), key
        assert o["image/key/sha256"][1] == [hashlib.sha256(t["image/encoded"][1][0]).hexdigest().encode()]
    assert (tmp_path / "out" / "label_map.pbtxt").read_text() == "\n".join(
        f"item {{\n  id: {i + 1}\n  name: 'label_{i}'\n}}\n" for i in range(10)
    )


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


def sample(tmp_path: Path) -> Dataset:
    schema = LabelSchema([Label("car", "#ff0000"), Label("person", "#00ff00"), Label("sky", "#0000ff")])
    person = {"rle": rle.encode(_block((4, 20), (20, 30)))}
    polygon = {"points": [[2.0, 15.0], [14.0, 15.0], [14.0, 27.0]], "holes": []}
    a = Item("a.png", W, H, subset="train", image=_img(tmp_path, "a.png"), shapes=[
        Shape("box", "car", box(1.5, 2.25, 10, 8.125), {"difficult": 1, "view": "front", "weight": 0.5}),
        Shape("box", "person", box(20, 4, 10, 16), {"difficult": 0, "view": "side", "weight": 2.0}, group_id=7),
        Shape("mask", "person", person, group_id=7),
        Shape("polygon", "car", polygon, {"difficult": 0, "view": "back", "weight": 1.0}),
        Shape("tag", "sky", confidence=0.75),
    ])  # fmt: skip
    b = Item("sub/b.png", W, H, subset="val", image=_img(tmp_path, "sub/b.png"), shapes=[
        Shape("box", "car", box(0, 0, 40, 30)), Shape("tag", "sky"), Shape("tag", "person"),
    ])  # fmt: skip
    c = Item("c.png", W, H, shapes=[])
    return Dataset(schema, [a, b, c])


def test_round_trip_boxes_masks_attributes_tags_subsets(tmp_path):
    ds = sample(tmp_path)
    out = tmp_path / "tf"
    report = tf.write(ds, out)
    assert sorted(p.name for p in out.iterdir()) == ["default.tfrecord", "label_map.pbtxt", "train.tfrecord", "val.tfrecord"]
    assert dict(report.dropped) == {"polygons written as pixel masks": 1}
    assert report.missing_images == ["c.png"] and report.items == 3
    back, rep2 = tf.read(out, images_dir=tmp_path / "img")
    assert rep2.missing_images == ["c.png"] and rep2.problems == []
    assert [(it.name, it.subset, it.width, it.height) for it in back.items] == [
        ("c.png", None, W, H), ("a.png", "train", W, H), ("sub/b.png", "val", W, H),
    ]  # fmt: skip
    assert (tmp_path / "img" / "sub" / "b.png").read_bytes() == (tmp_path / "src" / "sub" / "b.png").read_bytes()
    a = back.items[1].shapes
    assert [(s.kind, s.label, s.group_id) for s in a] == [
        ("box", "car", None), ("box", "person", 1), ("mask", "person", 1), ("box", "car", 2), ("mask", "car", 2),
        ("tag", "sky", None),
    ]  # fmt: skip
    assert a[0].geometry == box(1.5, 2.25, 10, 8.125)
    assert a[0].attributes == {"difficult": 1, "view": "front", "weight": 0.5}
    assert a[3].attributes == {"difficult": 0, "view": "back", "weight": 1.0}
    assert np.array_equal(rle.decode(a[2].geometry["rle"]), _block((4, 20), (20, 30)))
    poly = sample(tmp_path).items[0].shapes[3]
    assert np.array_equal(rle.decode(a[4].geometry["rle"]), rasterize("polygon", poly.geometry, H, W))
    assert a[3].geometry == box(2, 15, 12, 12)  # the polygon's bounding box
    assert a[5].confidence == 0.75
    b = back.items[2].shapes
    assert [(s.kind, s.label, s.geometry, s.confidence) for s in b] == [
        ("box", "car", box(0, 0, 40, 30), None), ("tag", "sky", {}, None), ("tag", "person", {}, None),
    ]  # fmt: skip
    assert [lb.name for lb in back.schema] == ["car", "person", "sky"]
    for it in back.items:
        for i, s in enumerate(it.shapes):
            validate_shape(s.to_dict(), index=i, schema=back.schema, height=it.height, width=it.width)


@pytest.mark.parametrize(
    "shapes, dropped",
    [
        ([Shape("polyline", "car", {"points": [[0, 0], [5, 5]]})], {"polylines dropped": 1}),
        ([Shape("box", "car", box(1, 1, 2, 2), z_order=2, track_id=4, source="yolo", confidence=0.5)],
         {"z-orders not representable": 1, "track ids not representable": 1, "sources not representable": 1,
          "confidences not representable": 1}),
        ([Shape("box", "car", box(1, 1, 2, 2), {"a": 1}), Shape("box", "car", box(3, 3, 2, 2))],
         {"attributes not representable (not set on every object of an image)": 1}),
        ([Shape("box", "car", box(1, 1, 2, 2), {"occluded": True})], {"checkbox attributes written as 0/1": 1}),
        ([Shape("box", "car", box(1, 1, 2, 2), group_id=1), Shape("box", "car", box(3, 3, 2, 2), group_id=1)],
         {"group ids not representable (more than a box and a mask in a group)": 1}),
        ([Shape("tag", "car", confidence=0.5), Shape("tag", "sky")],
         {"confidences of tags not representable (not set on every tag of an image)": 1}),
    ],
)
def test_what_cannot_be_written_is_counted(tmp_path, shapes, dropped):
    ds = Dataset(items=[Item("x.jpg", W, H, shapes)])
    report = tf.write(ds, tmp_path / "o", include_images=False)
    assert dict(report.dropped) == dropped and report.missing_images == []


def test_label_ids_with_gaps_survive(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "label_map.pbtxt").write_text("item { id: 3 name: 'cat' }\nitem { id: 17 name: 'dog' }\n")
    feats = {"image/filename": ("bytes", [b"x.jpg"]), "image/height": ("int64", [10]), "image/width": ("int64", [10]),
             "image/object/bbox/xmin": ("float", [0.0]), "image/object/bbox/xmax": ("float", [0.5]),
             "image/object/bbox/ymin": ("float", [0.0]), "image/object/bbox/ymax": ("float", [0.5]),
             "image/object/class/label": ("int64", [17])}  # fmt: skip
    tf.write_records(tmp_path / "in" / "train.tfrecord", [tf.encode_example(feats)])
    ds, _ = tf.read(tmp_path / "in")
    assert [(s.label, s.geometry) for s in ds.items[0].shapes] == [("dog", box(0, 0, 5, 5))]
    tf.write(ds, tmp_path / "out", include_images=False)
    ours = tf.decode_example(next(tf.read_records(tmp_path / "out" / "train.tfrecord")))
    assert ours["image/object/class/label"] == ("int64", [17])
    assert [(i["id"], i["name"]) for i in tf.parse_label_map((tmp_path / "out" / "label_map.pbtxt").read_text())] == [
        (3, "cat"), (17, "dog"),
    ]  # fmt: skip


def test_images_of_unknown_size_lose_their_objects(tmp_path):
    ds = Dataset(items=[Item("x.jpg", shapes=[Shape("box", "car", box(1, 1, 2, 2)), Shape("tag", "car")])])
    report = tf.write(ds, tmp_path / "o")
    assert dict(report.dropped) == {"shapes of images of unknown size dropped": 1}
    assert report.missing_images == ["x.jpg"]
    back, _ = tf.read(tmp_path / "o")
    assert [(s.kind, s.label) for s in back.items[0].shapes] == [("tag", "car")]


def test_objects_need_the_image_size(tmp_path):
    feats = {"image/filename": ("bytes", [b"x.png"]), "image/object/bbox/xmin": ("float", [0.0]),
             "image/object/bbox/xmax": ("float", [0.5]), "image/object/bbox/ymin": ("float", [0.0]),
             "image/object/bbox/ymax": ("float", [0.5]), "image/object/class/text": ("bytes", [b"cat"])}  # fmt: skip
    tf.write_records(tmp_path / "train.tfrecord", [tf.encode_example(feats)])
    ds, report = tf.read(tmp_path)
    assert ds.items[0].shapes == [] and dict(report.dropped) == {"objects of images of unknown size dropped": 1}
    Image.new("RGB", (8, 6)).save(tmp_path / "x.png")
    ds, report = tf.read(tmp_path, images_dir=tmp_path)  # no bytes in the record; the file gives the size
    assert [(s.label, s.geometry) for s in ds.items[0].shapes] == [("cat", box(0, 0, 4, 3))]
    assert (ds.items[0].width, ds.items[0].height) == (8, 6) and report.missing_images == []


def test_unknown_image_features_are_kept(tmp_path):
    feats = {"image/filename": ("bytes", [b"x.jpg"]), "image/height": ("int64", [10]), "image/width": ("int64", [10]),
             "image/colorspace": ("bytes", [b"RGB"]), "image/channels": ("int64", [3]),
             "image/blob": ("bytes", [b"\xff\xfe"])}  # fmt: skip
    tf.write_records(tmp_path / "train.tfrecord", [tf.encode_example(feats)])
    ds, report = tf.read(tmp_path)
    assert ds.items[0].metadata == {"tf_detection_api": {"features": {"image/colorspace": ["bytes", ["RGB"]],
                                                                      "image/channels": ["int64", [3]]}}}  # fmt: skip
    assert dict(report.dropped) == {"binary image features dropped": 1}
    tf.write(ds, tmp_path / "out", include_images=False)
    ours = tf.decode_example(next(tf.read_records(tmp_path / "out" / "train.tfrecord")))
    assert ours["image/colorspace"] == ("bytes", [b"RGB"]) and ours["image/channels"] == ("int64", [3])


# -- bad input ------------------------------------------------------------------------------------


def _good(tmp_path: Path) -> bytes:
    feats = {"image/filename": ("bytes", [b"x.jpg"]), "image/height": ("int64", [4]), "image/width": ("int64", [4])}
    tf.write_records(tmp_path / "good.tfrecord", [tf.encode_example(feats)] * 3)
    return (tmp_path / "good.tfrecord").read_bytes()


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda d, n: d[: n + 5], "train.tfrecord (record 1): the file ends inside a record header"),
        (lambda d, n: d[: n + 20], "train.tfrecord (record 1): the file ends inside the record"),
        (lambda d, n: _flip(d, n + 2), "train.tfrecord (record 1): CRC-32C of the record length does not match"),
        (lambda d, n: _flip(d, n + 14), "train.tfrecord (record 1): CRC-32C of the record data does not match"),
        (lambda d, n: d + tf._frame(b"\x0a\x05\x0a\x03\x0a"), "train.tfrecord (record 3): not a tf.train.Example"),
        (lambda d, n: d + tf._frame(b"\x0f"), "train.tfrecord (record 3): not a tf.train.Example: unsupported wire type 7"),
    ],
)
def test_damaged_files_name_the_file_and_record(tmp_path, damage, message):
    data = _good(tmp_path)
    n = len(data) // 3
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "train.tfrecord").write_bytes(damage(data, n))
    with pytest.raises(FormatError) as e:
        tf.read(folder)
    assert message in str(e.value)


@pytest.mark.parametrize(
    "text, message",
    [
        ("item {\n  id: 1\n  name: 'cat'\n", "label_map.pbtxt:1: an item is not closed"),
        ("item {\n  id: one\n  name: 'cat'\n}\n", "label_map.pbtxt:2: id must be an integer, got 'one'"),
        ("item {\n  id: 1\n}\n", "label_map.pbtxt:1: an item needs an id and a name"),
        ("\n\nitem {\n  id: 1\n  name: 'cat\n}\n", "label_map.pbtxt:5: unexpected character"),
        ("}\n", "label_map.pbtxt:1: expected a field name"),
    ],
)
def test_bad_label_maps_name_the_line(tmp_path, text, message):
    _good(tmp_path)
    (tmp_path / "label_map.pbtxt").write_text(text)
    with pytest.raises(FormatError) as e:
        tf.read(tmp_path)
    assert message in str(e.value)


def test_inconsistent_box_lists_name_the_record(tmp_path):
    feats = {"image/object/bbox/xmin": ("float", [0.0, 0.1]), "image/object/bbox/xmax": ("float", [0.5]),
             "image/object/bbox/ymin": ("float", [0.0]), "image/object/bbox/ymax": ("float", [0.5])}  # fmt: skip
    tf.write_records(tmp_path / "val.tfrecord", [tf.encode_example({}), tf.encode_example(feats)])
    with pytest.raises(FormatError, match=r"val\.tfrecord \(record 1\): bbox lists differ in length \(2, 1, 1, 1\)"):
        tf.read(tmp_path)


def test_a_folder_without_records_is_refused(tmp_path):
    with pytest.raises(FormatError, match="no .tfrecord files here"):
        tf.read(tmp_path)


# -- detection ------------------------------------------------------------------------------------


@needs_peer
def test_detection_ranks_tf_detection_api_first_on_its_peer_data():
    for p in (PEER, PEER / "train.tfrecord"):
        found = formats.detect(p)
        assert found and found[0] == ("tf_detection_api", 90)


@needs_peer
def test_detection_does_not_claim_other_formats_folders():
    claimed = []
    for d in sorted(ASSETS.iterdir()):
        if d.is_dir() and d != PEER:
            for p in [d, *sorted(c for c in d.iterdir() if c.is_dir())]:
                if tf.detect(p):
                    claimed.append(p.relative_to(ASSETS).as_posix())
    assert claimed == []


def test_detection_of_written_output_and_of_non_tfrecords(tmp_path):
    tf.write(Dataset(items=[Item("x.jpg", 4, 4)]), tmp_path / "o", include_images=False)
    assert tf.detect(tmp_path / "o") == 90
    (tmp_path / "fake.tfrecord").write_bytes(b"not a tfrecord at all, just text")
    assert tf.detect(tmp_path / "fake.tfrecord") == 0
