"""Tests for limner.formats.classification: ImageNet class folders (flat and with splits),
datumaro's ImageNet text lists, the classification CSV — peer folders, round trips, the written
files read back by independent means (Python's csv module; a torchvision-style folder walk), bad
input and detection.

The peer folders, by hand: imagenet_dataset holds label_0/label_0_1.jpg, label_1/label_1_1.jpg,
label_1/label_1_1/label_1_1.jpg and label_0_2.jpg at the root. torchvision's ImageFolder takes the
two class folders and walks them, nested folder too: 3 images; the root image is in no class and
is skipped (datumaro reads one level only and gets 2). imagenet_subsets_dataset has the same under
train/, val/ and test/. imagenet_txt_dataset/basic/train.txt: "1.jpg 0", "2.jpg 5", "3.jpg 3",
"4.jpg 5" with synsets.txt label_0 .. label_9 and images/1.jpg, images/2.jpg only.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from PIL import Image

from limner import formats
from limner.core.dataset import Dataset, Item
from limner.core.schema import Label, LabelSchema
from limner.core.shapes import Shape
from limner.formats import classification as cls
from limner.formats.base import FormatError

ASSETS = Path(__file__).resolve().parents[3] / "shared" / "peer-data" / "datumaro" / "tests" / "assets"
needs_peer = pytest.mark.skipif(not ASSETS.is_dir(), reason="shared/peer-data (datumaro's test assets) is not beside the repo")
OURS = ("imagenet", "imagenet_txt", "classification_csv")


def tags(ds: Dataset) -> list:
    return [(it.name, it.subset, [s.label for s in it.shapes]) for it in ds.items]


# -- conformance ----------------------------------------------------------------------------------


@needs_peer
def test_reads_imagenet_folders():
    ds, report = cls.read_imagenet(ASSETS / "imagenet_dataset")
    assert tags(ds) == [
        ("label_0/label_0_1.jpg", None, ["label_0"]),
        ("label_1/label_1_1.jpg", None, ["label_1"]),
        ("label_1/label_1_1/label_1_1.jpg", None, ["label_1"]),
    ]
    assert [lb.name for lb in ds.schema] == ["label_0", "label_1"] and ds.schema.get("label_0").kinds == ["tag"]
    assert all(it.image.is_file() and it.width is None for it in ds.items)
    assert report.problems == [f"{(ASSETS / 'imagenet_dataset').resolve()}: 1 images outside a class folder were skipped (e.g. label_0_2.jpg)"]


@needs_peer
def test_reads_imagenet_split_folders():
    ds, report = cls.read_imagenet(ASSETS / "imagenet_subsets_dataset")
    assert [(it.subset, it.name) for it in ds.items][::3] == [
        ("test", "test/label_0/label_0_1.jpg"), ("train", "train/label_0/label_0_1.jpg"), ("val", "val/label_0/label_0_1.jpg"),
    ]  # fmt: skip
    assert len(ds.items) == 9 and [lb.name for lb in ds.schema] == ["label_0", "label_1"]
    assert len(report.problems) == 3


@needs_peer
@pytest.mark.parametrize(
    "folder, expected, labels, missing, problems",
    [
        ("basic", [("1.jpg", "train", ["label_0"]), ("2.jpg", "train", ["label_5"]), ("3.jpg", "train", ["label_3"]),
                   ("4.jpg", "train", ["label_5"])], [f"label_{i}" for i in range(10)], ["3.jpg", "4.jpg"], []),
        ("custom_labels", [("1.jpg", "train", ["alt_label_0"])], [f"alt_label_{i}" for i in range(10)], ["1.jpg"], []),
        ("no_labels", [("1.jpg", "train", ["class-4"])], [f"class-{i}" for i in range(5)], ["1.jpg"],
         ["no labels file (synsets.txt): labels named class-0 .. class-4"]),
    ],
)
def test_reads_imagenet_txt(folder, expected, labels, missing, problems):
    ds, report = cls.read_imagenet_txt(ASSETS / "imagenet_txt_dataset" / folder)
    assert tags(ds) == expected
    assert [lb.name for lb in ds.schema] == labels
    assert report.missing_images == missing and report.problems == problems


# -- round trips ----------------------------------------------------------------------------------


def _img(root: Path, name: str, color=(10, 20, 30)) -> Path:
    p = root / name
    p.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 3), color).save(p)
    return p


def sample(tmp_path: Path, subsets: bool) -> Dataset:
    src = tmp_path / "src"
    schema = LabelSchema([Label("cat", kinds=["tag"]), Label("dog", kinds=["tag"]), Label("bird, small", kinds=["tag"])])
    s = (lambda n: n) if subsets else (lambda n: None)
    return Dataset(schema, [
        Item("train/cat/1.jpg", subset=s("train"), image=_img(src, "1.jpg"), shapes=[Shape("tag", "cat")]),
        Item("train/dog/2.jpg", subset=s("train"), image=_img(src, "2.jpg", (1, 2, 3)), shapes=[Shape("tag", "dog")]),
        Item("val/bird, small/x y.png", subset=s("val"), image=_img(src, "x y.png"), shapes=[Shape("tag", "bird, small")]),
    ])  # fmt: skip


def test_imagenet_round_trip_with_splits(tmp_path):
    ds = sample(tmp_path, subsets=True)
    report = cls.write_imagenet(ds, tmp_path / "out")
    assert dict(report.dropped) == {} and report.missing_images == []
    back, rep2 = cls.read_imagenet(tmp_path / "out")
    assert tags(back) == [(it.name, it.subset, [s.label for s in it.shapes]) for it in ds.items]
    assert rep2.problems == []
    # train/ and val/ of class folders only is also exactly YOLO's classify layout: that format
    # ranks first there, and its reader makes the same dataset
    assert cls.detect_imagenet(tmp_path / "out") == 15
    assert [n for n, _ in formats.detect(tmp_path / "out")] == ["yolo_classify", "imagenet"]
    yolo, _, _ = formats.read(tmp_path / "out", "yolo_classify")
    assert sorted(tags(yolo)) == sorted(tags(back))
    assert (tmp_path / "out" / "train" / "dog" / "2.jpg").read_bytes() == (tmp_path / "src" / "2.jpg").read_bytes()


def test_imagenet_flat_layout_matches_a_torchvision_style_walk(tmp_path):
    ds = Dataset(items=[
        Item("a.jpg", image=_img(tmp_path / "src", "a.jpg"), shapes=[Shape("tag", "zebra")]),
        Item("deep/b.jpg", image=_img(tmp_path / "src", "deep/b.jpg"), shapes=[Shape("tag", "ant"), Shape("tag", "zebra")]),
        Item("c.jpg", image=_img(tmp_path / "src", "c.jpg"), shapes=[Shape("box", "ant", {"x": 0, "y": 0, "w": 1, "h": 1})]),
        Item("d.jpg", image=tmp_path / "nowhere.jpg", shapes=[Shape("tag", "ant", attributes={"k": 1}, confidence=0.5)]),
    ])  # fmt: skip
    report = cls.write_imagenet(ds, tmp_path / "out")
    assert dict(report.dropped) == {
        "images with several tags copied into each class folder": 1, "boxes not representable": 1,
        "images without a tag left out": 1, "attributes of tags not representable": 1, "confidences not representable": 1,
    }  # fmt: skip
    assert report.missing_images == ["d.jpg"]
    # torchvision's ImageFolder: classes = sorted folder names, samples = sorted walk of each
    root = tmp_path / "out"
    classes = sorted(e.name for e in os.scandir(root) if e.is_dir())
    samples = [(Path(dp, f).relative_to(root).as_posix(), classes.index(c)) for c in classes
               for dp, _, files in sorted(os.walk(root / c)) for f in sorted(files)]  # fmt: skip
    assert classes == ["ant", "zebra"]
    assert samples == [("ant/deep/b.jpg", 0), ("zebra/a.jpg", 1), ("zebra/deep/b.jpg", 1)]
    back, _ = cls.read_imagenet(root)
    assert tags(back) == [("ant/deep/b.jpg", None, ["ant"]), ("zebra/a.jpg", None, ["zebra"]), ("zebra/deep/b.jpg", None, ["zebra"])]


def test_imagenet_without_include_images_writes_nothing(tmp_path):
    report = cls.write_imagenet(sample(tmp_path, False), tmp_path / "out", include_images=False)
    assert report.problems == ["imagenet keeps its labels as image folders: nothing written without include_images"]
    assert list((tmp_path / "out").iterdir()) == []


def test_imagenet_txt_round_trip(tmp_path):
    ds = sample(tmp_path, subsets=True)
    ds.items[0].shapes.append(Shape("tag", "dog"))
    ds.items.append(Item("none.jpg", subset="val"))
    report = cls.write_imagenet_txt(ds, tmp_path / "out", include_images=True)
    assert report.missing_images == ["none.jpg"]
    assert (tmp_path / "out" / "synsets.txt").read_text() == "cat\ndog\nbird, small\n"
    assert (tmp_path / "out" / "train.txt").read_text() == "train/cat/1.jpg 0 1\ntrain/dog/2.jpg 1\n"
    assert (tmp_path / "out" / "val.txt").read_text() == '"val/bird, small/x y".png 2\nnone.jpg\n'
    assert formats.detect(tmp_path / "out")[0] == ("imagenet_txt", 60)
    back, rep2 = cls.read_imagenet_txt(tmp_path / "out")
    assert tags(back) == tags(ds)
    assert rep2.missing_images == ["none.jpg"]
    assert back.items[2].image.read_bytes() == (tmp_path / "src" / "x y.png").read_bytes()


def test_csv_round_trip_read_by_pythons_csv(tmp_path):
    ds = sample(tmp_path, subsets=True)
    ds.items[0].shapes.append(Shape("tag", "dog"))
    ds.items.append(Item("none.jpg", subset="val"))
    report = cls.write_csv(ds, tmp_path / "out", include_images=True)
    assert report.missing_images == ["none.jpg"]
    with open(tmp_path / "out" / "labels.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows == [
        {"file": "train/cat/1.jpg", "label": "cat;dog", "subset": "train"},
        {"file": "train/dog/2.jpg", "label": "dog", "subset": "train"},
        {"file": "val/bird, small/x y.png", "label": "bird, small", "subset": "val"},
        {"file": "none.jpg", "label": "", "subset": "val"},
    ]
    assert formats.detect(tmp_path / "out")[0] == ("classification_csv", 75)
    assert formats.detect(tmp_path / "out" / "labels.csv")[0] == ("classification_csv", 80)
    back, rep2 = cls.read_csv(tmp_path / "out")
    assert tags(back) == tags(ds) and rep2.missing_images == ["none.jpg"]
    assert back.items[1].image.read_bytes() == (tmp_path / "src" / "2.jpg").read_bytes()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("file,label\na.jpg,cat\nb.jpg,dog\n", [("a.jpg", None, ["cat"]), ("b.jpg", None, ["dog"])]),
        ("a.jpg,cat\nb.jpg,dog\n", [("a.jpg", None, ["cat"]), ("b.jpg", None, ["dog"])]),
        ("\ufeffimage,class\na.jpg,cat\na.jpg,dog\na.jpg,cat\n", [("a.jpg", None, ["cat", "dog"])]),
        ("filename,labels\na.jpg, cat ; dog \nb.jpg,\n", [("a.jpg", None, ["cat", "dog"]), ("b.jpg", None, [])]),
        ('path,label,split\n"x, y.jpg","a ""quoted"" label",val\n\nz.jpg,b,\n',
         [("x, y.jpg", "val", ['a "quoted" label']), ("z.jpg", None, ["b"])]),
        ("split,tags,image_name,score\ntrain,cat,a.jpg,0.9\n", [("a.jpg", "train", ["cat"])]),
        ('file,label\n"multi\nline.jpg",cat\n', [("multi\nline.jpg", None, ["cat"])]),
    ],
)
def test_csv_variants(tmp_path, text, expected):
    (tmp_path / "labels.csv").write_text(text, encoding="utf-8")
    ds, report = cls.read_csv(tmp_path / "labels.csv")
    assert tags(ds) == expected


def test_csv_labels_with_semicolons_are_reported(tmp_path):
    ds = Dataset(items=[Item("a.jpg", shapes=[Shape("tag", "x;y"), Shape("tag", "z")])])
    report = cls.write_csv(ds, tmp_path / "o.csv")
    assert report.problems == ["label 'x;y' holds ';', the CSV's label separator; its tags were left out"]
    assert (tmp_path / "o.csv").read_text() == "file,label\na.jpg,z\n"


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, message",
    [
        ("file,label\na.jpg,cat\nb.jpg\n", "labels.csv:3: expected 2 fields (file, label), got 1"),
        ("file,label,subset\na.jpg,cat\n", "labels.csv:2: expected 3 fields (file, label, subset), got 2"),
        ("file,label\na.jpg,cat\n,dog\n", "labels.csv:3: the file field is empty"),
        ('file,label\na.jpg,cat\n"b.jpg,dog\n', "labels.csv:3: not valid CSV: unexpected end of data"),
        ('file,label\na.jpg,"cat"x\n', "labels.csv:2: not valid CSV"),
        ("file,label,subset\na.jpg,cat,train\na.jpg,dog,val\n", "labels.csv:3: 'a.jpg' is in subset 'train' on an earlier line"),
    ],
)
def test_bad_csv_names_the_line(tmp_path, text, message):
    (tmp_path / "labels.csv").write_text(text, encoding="utf-8")
    with pytest.raises(FormatError) as e:
        cls.read_csv(tmp_path)
    assert message in str(e.value)


def test_csv_not_utf8(tmp_path):
    (tmp_path / "labels.csv").write_bytes(b"file,label\na.jpg,caf\xe9\n")
    with pytest.raises(FormatError, match=r"labels\.csv: not UTF-8 text"):
        cls.read_csv(tmp_path)


@pytest.mark.parametrize(
    "lines, synsets, message",
    [
        ("a.jpg 0\nb.jpg one\n", "cat\n", "train.txt:2: label ids must be integers, got 'one'"),
        ("a.jpg 0\n\nb.jpg 3\n", "cat\ndog\n", "train.txt:3: label id 3 is not in the labels file (2 labels)"),
        ('"a b.jpg 0\n', "cat\n", "train.txt:1: unbalanced quotes"),
        ("a.jpg -1\n", None, "train.txt:1: label ids must not be negative"),
    ],
)
def test_bad_imagenet_txt_names_the_line(tmp_path, lines, synsets, message):
    (tmp_path / "train.txt").write_text(lines)
    if synsets is not None:
        (tmp_path / "synsets.txt").write_text(synsets)
    with pytest.raises(FormatError) as e:
        cls.read_imagenet_txt(tmp_path)
    assert message in str(e.value)


def test_imagenet_needs_a_folder(tmp_path):
    (tmp_path / "f.jpg").write_bytes(b"")
    with pytest.raises(FormatError, match="expected a folder of class folders"):
        cls.read_imagenet(tmp_path / "f.jpg")


# -- detection ------------------------------------------------------------------------------------


@needs_peer
@pytest.mark.parametrize(
    "folder, fmt",
    [
        ("imagenet_dataset", "imagenet"),
        ("imagenet_subsets_dataset", "imagenet"),
        ("imagenet_txt_dataset/basic", "imagenet_txt"),
        ("imagenet_txt_dataset/custom_labels", "imagenet_txt"),
        ("imagenet_txt_dataset/no_labels", "imagenet_txt"),
    ],
)
def test_detection_ranks_ours_first_on_the_peer_data(folder, fmt):
    found = formats.detect(ASSETS / folder)
    assert found and found[0][0] == fmt


# vgg_face2_dataset/train holds n000001/ and n000002/ of face images: an identity-per-folder tree is
# exactly an ImageNet layout (and reads correctly as one); its dataset root is not claimed.
NOT_A_ROOT = {"vgg_face2_dataset/train"}


@needs_peer
def test_detection_does_not_claim_other_formats_folders():
    own = {"imagenet_dataset", "imagenet_subsets_dataset", "imagenet_txt_dataset"}
    claimed = []
    for d in sorted(ASSETS.iterdir()):
        if d.is_dir() and d.name not in own:
            for p in [d, *sorted(c for c in d.iterdir() if c.is_dir())]:
                rel = p.relative_to(ASSETS).as_posix()
                for f in (cls.detect_imagenet, cls.detect_imagenet_txt, cls.detect_csv):
                    if f(p) and rel not in NOT_A_ROOT:
                        claimed.append((rel, f.__name__))
    assert claimed == []


def test_detection_edge_cases(tmp_path):
    one = tmp_path / "one"
    _img(one, "only/a.jpg")
    assert cls.detect_imagenet(one) == 0  # a single class folder is no classification set
    _img(one, "other/b.jpg")
    assert cls.detect_imagenet(one) == 50
    (one / "notes.txt").write_text("x")
    assert cls.detect_imagenet(one) == 0
    yolo = tmp_path / "yolo"
    _img(yolo, "images/a.jpg")
    _img(yolo, "labels2/b.jpg")
    assert cls.detect_imagenet(yolo) == 0
    (tmp_path / "other.csv").write_text("NAME_ID,X,Y\nn1/0001,1,2\n")
    assert cls.detect_csv(tmp_path / "other.csv") == 0
    (tmp_path / "l.txt").write_text("/train/a.png /trainannot/a.png\n")
    assert cls.detect_imagenet_txt(tmp_path / "l.txt") == 0
