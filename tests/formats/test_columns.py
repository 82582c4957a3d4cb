"""COCO read as columns (``limner.core.columns``) and written as YOLO detect from them: the same
files, report, checks and findings as reading shapes and writing those, on a file that holds every
case the columns hand back to the shape code (clipped, dropped, invalid, degenerate, crowd masks,
boxes, several rings, attributes, unknown ids, an image of unknown size), and on real COCO files."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from limner.convert import export_to_folder, read_for
from limner.core.columns import ShapeColumns
from limner.core.dataset import Dataset
from limner.formats import read
from limner.formats.coco.api import read_columns
from limner.quality.checks import check_dataset

from ._shared import ASSETS

PEER = ASSETS / "coco_dataset"


def _ring(x, y, w, h, n=6, rng=None):
    """A convex ring of ``n`` vertices in the box (x, y, w, h), as a flat COCO list."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False) + (rng.random() if rng else 0.0)
    xs = x + w / 2 + np.cos(t) * w / 2
    ys = y + h / 2 + np.sin(t) * h / 2
    return np.column_stack([xs, ys]).ravel().round(3).tolist()


def _messy(root: Path) -> Path:
    """A COCO folder with train and val files: every case, in shuffled order."""
    rng = random.Random(7)
    nrng = np.random.default_rng(7)
    (root / "annotations").mkdir(parents=True)
    for subset, n_images in (("train", 12), ("val", 4)):
        images = [{"id": i + 1, "file_name": f"{subset}_{i}.jpg", "width": 640, "height": 480} for i in range(n_images)]
        images.append({"id": 99, "file_name": f"{subset}_nosize.jpg"})  # no size, no file: unknown size
        images.append({"id": 98, "file_name": f"dup/{subset}_0.jpg", "width": 320, "height": 240})
        cats = [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}, {"id": 7, "name": "bird"}]
        anns = []

        def add(image_id, **kw):
            a = {"id": len(anns) + 1, "image_id": image_id, "category_id": rng.choice([1, 2, 7]), "iscrowd": 0, "area": 1.0,
                 "bbox": [0, 0, 1, 1]}
            a.update(kw)
            anns.append(a)

        for _ in range(300):  # plain polygons inside
            img = rng.randint(1, n_images)
            x, y = rng.uniform(0, 500), rng.uniform(0, 380)
            add(img, segmentation=[_ring(x, y, rng.uniform(2, 130), rng.uniform(2, 90), rng.randint(3, 30), nrng)])
        add(1, segmentation=[_ring(600, 400, 100, 100)])  # partly outside: clipped
        add(2, segmentation=[_ring(-50, 10, 40, 40)])  # wholly outside: dropped
        add(3, segmentation=[[0.0, 0.0, 640.0, 0.0, 640.0, 480.0, 0.0, 480.0]])  # the whole image, to its edges
        add(3, segmentation=[[10.0, 10.0, 10.0, 10.0, 10.0, 10.0]])  # one point three times: degenerate
        add(4, segmentation=[[10.0, 10.0, 50.0, 10.0, 90.0, 10.0]])  # collinear: zero area
        add(4, segmentation=[[10.0, 10.0, 60.0, 60.0, 60.0, 10.0, 10.0, 60.0]])  # bow tie: invalid
        add(5, segmentation=[[20.0, 20.0, 20.0, 80.0, 20.5, 50.0]])  # a sliver, box of width 0.5
        add(5, segmentation=[[30.0, 30.0, 30.0, 90.0, 30.0, 60.0]])  # a vertical line: box of no width
        add(6, segmentation=[_ring(10, 10, 30, 30), _ring(100, 100, 30, 30)])  # two rings
        add(6, segmentation=[], bbox=[5.0, 6.0, 70.0, 40.0])  # a box only
        add(6, segmentation=[_ring(200, 200, 50, 50)], attributes={"occluded": True})  # attributes
        add(7, segmentation=[_ring(300, 200, 50, 50)], score=0.75)  # a confidence
        add(7, segmentation=[[1.0, 2.0, 3.0, 4.0]])  # two points: skipped on reading
        add(7, segmentation=[_ring(50, 50, 20, 20)], category_id=42)  # unknown category
        add(77, segmentation=[_ring(50, 50, 20, 20)])  # unknown image
        add(99, segmentation=[_ring(50, 50, 20, 20)])  # an image of unknown size
        add(98, segmentation=[_ring(300, 200, 50, 50)])  # reaches outside its smaller image
        mask = np.zeros((480, 640), np.uint8)
        mask[100:150, 200:260] = 1
        flat = mask.ravel(order="F")  # uncompressed COCO counts: runs from a run of zeros (pixel 0 is 0)
        counts = np.diff(np.concatenate(([0], np.flatnonzero(np.diff(flat)) + 1, [flat.size]))).tolist()
        add(8, segmentation={"size": [480, 640], "counts": counts}, iscrowd=1)  # crowd mask
        rng.shuffle(anns)
        doc = {"images": images, "annotations": anns, "categories": cats}
        (root / "annotations" / f"instances_{subset}.json").write_text(json.dumps(doc))
    return root


def _both(src: Path, tmp: Path, to: str = "yolo", **prep) -> tuple[Path, dict, Path, dict]:
    """Convert ``src`` to ``to`` through shapes and through columns: (folder, result) of each."""
    ds, rep, fmt = read(src)
    assert isinstance(ds, Dataset)
    a = tmp / "shapes"
    ra = export_to_folder(ds, to, a, **prep)
    cols, rep_c = read_columns(src)
    assert isinstance(cols, ShapeColumns)
    assert rep_c.to_dict() == rep.to_dict()
    b = tmp / "columns"
    rb = export_to_folder(cols, to, b, **prep)
    return a, ra, b, rb


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_messy_coco_to_yolo_through_columns_equals_through_shapes(tmp_path):
    src = _messy(tmp_path / "coco")
    a, ra, b, rb = _both(src, tmp_path)
    assert ra == rb
    fa, fb = _files(a), _files(b)
    assert fa == fb
    # the file holds what the columns hand to the shape code: each case was met
    assert ra["checks"]["counts"] == {"outside_image": 6, "degenerate": 2, "invalid_polygon": 5, "clipped": 4, "dropped_outside": 2}
    assert ra["report"]["dropped"] == {
        "polygons written as their bounding boxes": 618,
        "shapes outside the image dropped": 5,  # the boxes of no width, and a clipped-away sliver
        "attributes not representable": 2,
        "group ids not representable": 2,  # the two rings of one annotation share a group
        "confidences not representable (with_confidence=False)": 1,
        "masks written as their bounding boxes": 1,
        "shapes of images of unknown size dropped": 2,
    }
    lines = sum(t.count(b"\n") for k, t in fa.items() if k.startswith("labels/"))
    assert lines == ra["report"]["shapes"] == 616
    assert fa["labels/train/dup/train_0.txt"].count(b"\n") == 1 and "labels/val/val_3.txt" in fa


def test_columns_hold_the_same_shapes_as_the_shape_reader(tmp_path):
    src = _messy(tmp_path / "coco")
    ds, _, _ = read(src)
    cols, _, _ = read_for(src, None, "yolo")
    # the checks give the same findings on both, before either is clipped
    fa, ca = check_dataset(ds)
    fb, cb = check_dataset(cols)
    assert ca == cb and [f.to_dict() for f in fa] == [f.to_dict() for f in fb]
    assert cols.shape_count == ds.shape_count and cols.label_names() == ds.label_names()
    again = cols.to_dataset()
    assert [it.name for it in again.items] == [it.name for it in ds.items]
    for x, y in zip(again.items, ds.items):
        assert [s.to_dict() for s in x.shapes] == [s.to_dict() for s in y.shapes]
        assert [json.dumps(s.geometry, default=list) for s in x.shapes] == [json.dumps(s.geometry, default=list) for s in y.shapes]


@pytest.mark.parametrize("to", ["voc", "cvat"])
def test_columns_written_as_another_format_are_made_shapes_first(tmp_path, to):
    src = _messy(tmp_path / "coco")
    a, ra, b, rb = _both(src, tmp_path, to)
    assert ra == rb and _files(a) == _files(b)


def test_remap_or_split_reads_shapes(tmp_path):
    src = _messy(tmp_path / "coco")
    cols, _, fmt = read_for(src, None, "yolo")
    assert isinstance(cols, ShapeColumns) and fmt == "coco"
    ds, _, _ = read_for(src, None, "voc")
    assert isinstance(ds, Dataset)
    ds, _, _ = read_for(src, None, "yolo", remap="cat=animal")
    assert isinstance(ds, Dataset)
    ds, _, _ = read_for(src, None, "yolo", split="train=0.5,val=0.5")
    assert isinstance(ds, Dataset)
    cols, _, _ = read_for(src, None, "yolo")
    out = export_to_folder(cols, "yolo", tmp_path / "out", remap="cat=animal")
    ref = export_to_folder(read(src)[0], "yolo", tmp_path / "ref", remap="cat=animal")
    assert out == ref and _files(tmp_path / "out") == _files(tmp_path / "ref")


@pytest.mark.skipif(not PEER.is_dir(), reason="shared/peer-data (datumaro's test assets) is not beside the repo")
@pytest.mark.parametrize("name", ["coco", "coco_instances"])
def test_peer_coco_through_columns_equals_through_shapes(tmp_path, name):
    src = tmp_path / name
    shutil.copytree(PEER / name, src)
    a, ra, b, rb = _both(src, tmp_path)
    assert ra == rb and _files(a) == _files(b)
    assert ra["shapes"] > 0


def test_fixed_lines_write_what_python_formatting_writes():
    from limner.formats.yolo.columns import fixed_lines
    from limner.formats.yolo.formatting import _box_format

    rng = np.random.default_rng(3)
    n = 40_000
    cid = rng.integers(0, 1200, n)
    cid[:3] = [0, 9, 10]
    vals = [rng.random(n) for _ in range(4)]
    # numbers on or near a rounding tie: pixel centres over image sizes, k/128, the ends
    vals[0][:5000] = np.arange(5000) / 128 % 1.0
    vals[1][:5000] = (rng.integers(0, 1280, 5000) + rng.integers(0, 1280, 5000) * 0.001) / 1280
    vals[2][:8] = [0.0, 1.0, 0.5, 5e-7, 4.999999e-7, 0.9999995, 0.0078125, 0.0234375]
    for decimals in (1, 3, 6, 9):
        data, ends, python = fixed_lines(cid, vals, decimals)
        assert not python.any()
        line = _box_format(decimals)
        starts = np.concatenate(([0], ends))
        got = [data[starts[k] : starts[k + 1]].decode() for k in range(n)]
        want = [line(int(cid[k]), *(float(v[k]) for v in vals)) + "\n" for k in range(n)]
        assert got == want, decimals
    assert fixed_lines(cid, vals, 12)[2].all()  # beyond 9 places: Python writes them


def test_a_big_file_read_by_two_processes_gives_what_one_gives(tmp_path, monkeypatch):
    """Small pieces make this file big enough for the helper process; splits fall inside strings
    (captions holding '},{') so pieces that do not parse alone are parsed joined."""
    import limner.formats.base as base
    from limner.formats import helper

    src = _messy(tmp_path / "coco")
    doc = json.loads((src / "annotations" / "instances_train.json").read_text())
    for k, a in enumerate(doc["annotations"]):
        if k % 7 == 0 and a.keys() <= {"id", "image_id", "category_id", "segmentation", "area", "bbox", "iscrowd"}:
            a["note"] = 'a "},{" inside a string'
    (src / "annotations" / "instances_train.json").write_text(json.dumps(doc, indent=1))
    monkeypatch.setattr(base, "_PIECE", 2048)
    monkeypatch.setattr(base, "_PIECES_FROM", 8192)
    monkeypatch.setattr(base, "load_json", base.load_json)
    calls = []
    real = helper.share_pieces

    def counted(n, here, there, **kw):
        calls.append(n)
        yield from real(n, here, there, **kw)

    monkeypatch.setattr(helper, "share_pieces", counted)
    monkeypatch.setenv("LIMNER_HELPER", "1")
    monkeypatch.setattr(helper.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(helper, "_alone", lambda: True)
    a, ra, b, rb = _both(src, tmp_path)
    assert calls and calls[0] > 20  # the helper was asked to share the pieces
    assert ra == rb and _files(a) == _files(b)
    monkeypatch.setenv("LIMNER_HELPER", "0")
    cols, _ = read_columns(src)
    one = export_to_folder(cols, "yolo", tmp_path / "one")
    assert one == rb and _files(tmp_path / "one") == _files(b)


def test_share_pieces_gives_every_piece_once_in_order(monkeypatch):
    import time

    from limner.formats import helper

    monkeypatch.setattr(helper.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(helper, "_alone", lambda: True)
    monkeypatch.setenv("LIMNER_HELPER", "1")

    def here(k):
        time.sleep(0.05)
        if k == 2:  # a piece that needs the next one: both are done here as one
            return ("here", 2, 3), 4
        return ("here", k), k + 1

    def there(k):
        time.sleep(0.05)
        return None if k == 9 else ("there", k)  # 9: left to this process

    got = list(helper.share_pieces(12, here, there))
    # each piece once, in order (a "here" of piece 2 stands for 2 and 3), whoever did it
    covered = [k for g in got for k in (g[1:] if g[0] == "here" else g[1:2])]
    assert covered == list(range(12))
    sources = {g[1]: g[0] for g in got}
    assert sources[0] == "here" and sources[11] == "there" and sources[9] == "here"
    monkeypatch.setenv("LIMNER_HELPER", "0")
    assert [g[0] for g in helper.share_pieces(6, here, there)] == ["here"] * 5


@pytest.mark.parametrize("columns", [False, True])
def test_yolo_written_by_two_processes_equals_by_one(tmp_path, monkeypatch, columns):
    """4,400 images, so the writer hands half to a helper; problems met in both halves come
    out in item order, and the counts add up."""
    from limner.formats import helper

    monkeypatch.setattr(helper.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(helper, "_alone", lambda: True)
    rng = random.Random(5)
    root = tmp_path / "coco"
    (root / "annotations").mkdir(parents=True)
    images, anns = [], []
    for i in range(4400):
        im = {"id": i + 1, "file_name": f"{i:05d}.jpg"}
        if i % 1000 != 7:  # some images of unknown size, in both halves
            im.update(width=640, height=480)
        images.append(im)
        for _ in range(rng.randint(1 if i % 1000 == 7 else 0, 3)):
            x, y = rng.uniform(-20, 600), rng.uniform(0, 440)
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": rng.choice([1, 2]), "iscrowd": 0,
                         "area": 1.0, "bbox": [0, 0, 1, 1], "segmentation": [_ring(x, y, 40, 30, 8)]})
    doc = {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]}
    (root / "annotations" / "instances_train.json").write_text(json.dumps(doc))
    results = {}
    for h in ("0", "1"):
        monkeypatch.setenv("LIMNER_HELPER", h)
        data = read_columns(root)[0] if columns else read(root)[0]
        results[h] = export_to_folder(data, "yolo", tmp_path / f"out{h}")
    assert results["0"] == results["1"]
    assert _files(tmp_path / "out0") == _files(tmp_path / "out1")
    problems = results["1"]["report"]["problems"]
    assert [p.split(":")[0] for p in problems[:5]] == ["train/00007.jpg", "train/01007.jpg", "train/02007.jpg", "train/03007.jpg", "train/04007.jpg"]
    assert results["1"]["report"]["items"] == 4400


def test_a_piece_is_parsed_in_parts_that_join_where_a_split_falls_in_a_string(monkeypatch):
    import orjson

    from limner.formats import base as pieces

    monkeypatch.setattr(pieces, "_PART", 300)
    elements = [{"id": i, "note": 'odd "},{" text' if i % 5 == 0 else "plain", "v": [i, i + 0.5]} for i in range(400)]
    raw = bytearray(orjson.dumps(elements))
    view = memoryview(raw)
    parts = list(pieces.json_parts(view))
    assert len(parts) > 10 and [e for p in parts for e in p] == elements
    assert bytes(raw) == orjson.dumps(elements)  # the brackets put in meanwhile are gone
    bad = bytearray(raw)
    bad[len(bad) // 2] = ord("#")
    with pytest.raises(orjson.JSONDecodeError):
        list(pieces.json_parts(memoryview(bad)))
    assert list(pieces.json_parts(bytes(raw))) == [elements]  # read-only bytes: parsed whole
