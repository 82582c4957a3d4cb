"""Image classification: ImageNet-style class folders, datumaro's ImageNet text lists, and a CSV.

"imagenet" (torchvision's ``ImageFolder``)::

    <root>/<class>/<image>                one folder per class, images inside (sub-folders too)
    <root>/<split>/<class>/<image>        with splits: every top folder named like a split
                                          (train, val, valid, validation, test, trainval, default)

  Reading: each image becomes an item with one tag, its class folder's name; classes are the
  folder names in sorted order (torchvision's class indices); images nested deeper in a class
  folder count for it (as torchvision walks them; datumaro reads one level only); a ``no_label``
  folder (datumaro's) holds images without a tag; images outside a class folder are skipped and
  reported. Item names are paths from the root (``train/cat/1.jpg``).
  Writing copies each image into its class folder (``include_images`` defaults to True: the
  folders are the labels; with False nothing but the report is written). The file keeps the
  item's path minus a leading subset and class folder. An image with several tags is copied
  into each class folder (counted), one without a tag is left out (counted); other shapes, tag
  attributes and confidences, and labels without images are dropped and counted.

"imagenet_txt" (datumaro)::

    <subset>.txt        "<image> <label id> [<label id> ...]" per image; a name with spaces is
                        quoted ("my image".jpg or "my image.jpg")
    synsets.txt         one label per line, the line number (from 0) is the id; another file name
                        with ``labels_file=``, else the one ``synsets*.txt`` there is
    images/<image>      the images

  Without a labels file, ids become labels ``class-<id>`` (reported). An id that is not a number
  or not in the labels file is a FormatError naming the line. Writing lists every item (several
  ids for several tags, none for none); images are copied with ``include_images=True``.

"classification_csv"::

    labels.csv          file,label[,subset] — a header row is optional (recognised by its column
                        names: file/filename/image/path..., label/labels/class/category/tags...,
                        subset/split); fields may be quoted (RFC 4180)
    <file>              the images, relative to the CSV's folder

  Several labels per image: either several rows for one file, or one field with the labels
  separated by ";" (both are read; a label name therefore cannot hold ";"). An empty label field
  gives an image without a tag. Writing: one row per image, its labels joined by ";" (so every
  image is listed, tagged or not), header ``file,label`` (``,subset`` when the dataset has
  subsets); labels holding ";" are reported and left out. Errors name the CSV line.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from limner.core.dataset import Dataset, Item
from limner.core.shapes import Shape
from limner.formats.base import FormatError, Report, atomic_copy, atomic_write
from limner.formats.registry import Format, register

__all__ = [
    "csv_to_dataset",
    "dataset_to_csv",
    "dataset_to_imagenet_txt",
    "detect_csv",
    "detect_imagenet",
    "detect_imagenet_txt",
    "imagenet_txt_to_dataset",
    "read_csv",
    "read_imagenet",
    "read_imagenet_txt",
    "write_csv",
    "write_imagenet",
    "write_imagenet_txt",
]

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".ppm", ".pgm")
SPLITS = ("train", "val", "valid", "validation", "test", "trainval", "default")
NO_LABEL = "no_label"
_PLURAL = {"box": "boxes", "rotated_box": "rotated boxes", "polygon": "polygons", "ellipse": "ellipses",
           "mask": "masks", "polyline": "polylines", "points": "points", "skeleton": "skeletons", "tag": "tags"}  # fmt: skip
_FILE_COLS = ("file", "filename", "file_name", "image", "image_name", "image_id", "img", "path", "filepath", "name", "id")
_LABEL_COLS = ("label", "labels", "class", "classes", "class_name", "category", "categories", "tag", "tags", "target")
_SUBSET_COLS = ("subset", "split")


def _is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTS)


def _tags(item: Item, report: Report) -> list[str]:
    """The item's tag labels (once each); counts what a classification format cannot hold."""
    out: list[str] = []
    for s in item.shapes:
        if s.kind != "tag":
            report.drop(f"{_PLURAL[s.kind]} not representable")
            continue
        if s.attributes:
            report.drop("attributes of tags not representable")
        report.unrepresentable(s, "confidence", "source")
        if s.label not in out:
            out.append(s.label)
    return out


def _labels_of(dataset: Dataset) -> list[str]:
    names = [lb.name for lb in dataset.schema]
    seen = set(names)
    for it in dataset.items:
        for s in it.shapes:
            if s.label not in seen:
                seen.add(s.label)
                names.append(s.label)
    return names


def _unused_labels(dataset: Dataset, report: Report) -> None:
    used = {s.label for it in dataset.items for s in it.shapes if s.kind == "tag"}
    n = sum(1 for lb in dataset.schema if lb.name not in used)
    if n:
        report.drop("labels without tagged images not representable", n)


def _subset_name(folder: str) -> str | None:
    return None if folder == "default" else folder


def _strip(name: str, *prefixes: str | None) -> PurePosixPath:
    p = PurePosixPath(name.replace("\\", "/").lstrip("/"))
    for pre in prefixes:
        if pre and len(p.parts) > 1 and p.parts[0] == pre:
            p = PurePosixPath(*p.parts[1:])
    return p


# -- imagenet (class folders) ------------------------------------------------------------------------


def _split_dirs(root: Path) -> list[Path] | None:
    """The split folders when every folder at the root is named like a split and one holds
    folders; None for the flat layout."""
    dirs = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if dirs and all(d.name.lower() in SPLITS for d in dirs) and any(
        c.is_dir() for d in dirs for c in d.iterdir()
    ):
        return sorted(dirs)
    return None


def _walk_images(folder: Path) -> Iterable[Path]:
    for dirpath, dirs, files in os.walk(folder, followlinks=True):
        dirs.sort()
        for f in sorted(files):
            if _is_image(f):
                yield Path(dirpath, f)


def read_imagenet(path: Path, **options) -> tuple[Dataset, Report]:
    """Read class folders (optionally under split folders)."""
    root = Path(path).resolve()
    if not root.is_dir():
        raise FormatError(root, "expected a folder of class folders")
    report = Report(format="ImageNet folders")
    splits = _split_dirs(root)
    parts = [(d, _subset_name(d.name)) for d in splits] if splits else [(root, None)]
    classes = sorted({c.name for d, _ in parts for c in d.iterdir() if c.is_dir() and c.name != NO_LABEL})
    ds = Dataset()
    for c in classes:
        ds.ensure_label(c, "tag")
    for d, subset in parts:
        for c in sorted(p for p in d.iterdir() if p.is_dir()):
            for img in _walk_images(c):
                shapes = [] if c.name == NO_LABEL else [Shape("tag", c.name)]
                ds.items.append(Item(img.relative_to(root).as_posix(), subset=subset, image=img, shapes=shapes))
        stray = [p.name for p in d.iterdir() if p.is_file() and _is_image(p.name)]
        if stray:
            report.problem(f"{d}: {len(stray)} images outside a class folder were skipped (e.g. {sorted(stray)[0]})")
    for lb in ds.schema:
        lb.kinds = ["tag"]
    report.items = len(ds.items)
    report.shapes = sum(len(it.shapes) for it in ds.items)
    return ds, report


def write_imagenet(dataset: Dataset, path: Path, *, include_images: bool | None = None, **options) -> Report:
    """Copy each tagged image into ``[<subset>/]<class>/``; subset folders when any item has a
    subset ("default" for those without)."""
    out = Path(path)
    report = Report(format="ImageNet folders")
    copy = True if include_images is None else include_images
    split = any(it.subset for it in dataset.items)
    if not copy:
        report.problem("imagenet keeps its labels as image folders: nothing written without include_images")
    out.mkdir(parents=True, exist_ok=True)
    for item in dataset.items:
        tags = _tags(item, report)
        report.items += 1
        report.shapes += len(item.shapes)
        if not tags:
            report.drop("images without a tag left out")
            continue
        if len(tags) > 1:
            report.drop("images with several tags copied into each class folder")
        if not copy:
            continue
        if item.image is None or not Path(item.image).is_file():
            report.missing_images.append(item.name)
            continue
        base = out / (item.subset or "default") if split else out
        for t in tags:
            if "/" in t or "\\" in t or t in (".", "..", NO_LABEL):
                report.problem(f"label {t!r} cannot be a folder name; its images were left out")
                continue
            rel = _strip(item.name, item.subset or "default", t)
            atomic_copy(Path(item.image), base / t / rel.as_posix())
    _unused_labels(dataset, report)
    return report


def _image_dir_score(d: Path) -> int:
    """1 when the folder holds images (among its first entries) and no annotation-like files,
    0 when it holds other files, -1 when it holds only folders."""
    seen_image = False
    with os.scandir(d) as it:
        for i, e in enumerate(it):
            if i >= 50:
                break
            if e.is_file():
                if _is_image(e.name):
                    seen_image = True
                elif not e.name.startswith("."):
                    return 0
    return 1 if seen_image else -1


# folder names of other formats' layouts: a tree holding one is not a set of class folders
_LAYOUT_DIRS = {"images", "labels", "annotations", "masks", "jpegimages", "imagesets", "segmentationclass",
                "segmentationobject", "gtfine", "leftimg8bit", "query", "bounding_box_train", "bounding_box_test",
                "gt_bbox", "gt_query", "scribbles", "img1", "det", "gt", "velodyne_points", "image_00", "image_2",
                "label_2", "calib"}  # fmt: skip


def _classes(d: Path, *, allow_images: bool) -> set[str] | None:
    """The class folders of ``d`` (folders holding images), or None when ``d`` holds anything
    else: files other than images (when allowed), folders with other files, folders named like
    another format's layout."""
    classes = set()
    with os.scandir(d) as it:
        entries = sorted(it, key=lambda e: e.name)
    for e in entries[:200]:
        if e.name.startswith("."):
            continue
        if e.is_dir():
            if e.name.lower() in _LAYOUT_DIRS:
                return None
            s = _image_dir_score(Path(e.path))
            if s == 0:
                return None
            if s == 1:
                classes.add(e.name)
        elif not (allow_images and _is_image(e.name)):
            return None
    return classes


def detect_imagenet(path: Path) -> int:
    """55 for split folders of class folders of images (15 when the tree is exactly what
    "yolo_classify" reads, which then ranks first), 50 for class folders of images with nothing but
    images beside them; at least two classes, and no folder named like another format's layout
    (images/, labels/, Annotations/, query/ ...)."""
    root = Path(path)
    try:
        if not root.is_dir():
            return 0
        dirs = [p for p in root.iterdir() if not p.name.startswith(".")]
        if dirs and all(p.is_dir() and p.name.lower() in SPLITS for p in dirs):
            found = [_classes(d, allow_images=True) for d in dirs]
            if any(c is None or not c for c in found):
                return 0
            if len(set().union(*found)) < 2:
                return 0
            return 15 if _yolo_classify_layout(dirs) else 55
        return 50 if (found := _classes(root, allow_images=True)) is not None and len(found) >= 2 else 0
    except OSError:
        return 0


def _yolo_classify_layout(dirs: list[Path]) -> bool:
    """Whether the split folders are exactly what "yolo_classify" claims (train/val/test holding
    only class folders of images, nothing nested): the same tree, read the same way; that format
    then ranks first (it scores 20)."""
    for d in dirs:
        if d.name not in ("train", "val", "test"):
            return False
        for c in d.iterdir():
            if not c.is_dir() or any(e.is_dir() for e in c.iterdir()):
                return False
    return True


# -- imagenet_txt --------------------------------------------------------------------------------------


def _txt_line(line: str, path: Path, n: int) -> tuple[str, list[str]]:
    s = line.strip()
    if '"' in s:
        parts = s.split('"')
        if len(parts) != 3:
            raise FormatError(path, "unbalanced quotes in a file name", line=n)
        rest = parts[2]
        if rest and not rest[0].isspace():  # datumaro's "name".jpg 1
            first, _, rest = rest.partition(" ")
            return parts[1] + first, rest.split()
        return parts[1], rest.split()
    parts = s.split()
    return parts[0], parts[1:]


def _labels_file(root: Path, name: str | None) -> Path | None:
    if name:
        p = root / name
        if not p.is_file():
            raise FormatError(p, "labels file not found")
        return p
    if (root / "synsets.txt").is_file():
        return root / "synsets.txt"
    found = sorted(root.glob("synsets*.txt"))
    return found[0] if len(found) == 1 else None


def imagenet_txt_to_dataset(
    lists: Iterable[tuple[str | None, Path, list[tuple[int, str, list[str]]]]],
    *,
    labels: list[str] | None,
    images_dir: Path,
    report: Report,
) -> Dataset:
    """``lists``: (subset, file, [(line, image, ids)]) -> Dataset. Without ``labels``, ids become
    ``class-<id>``."""
    ds = Dataset()
    names = list(labels or [])
    for n in names:
        ds.ensure_label(n, "tag")
    generated = labels is None
    for subset, file, rows in lists:
        for line, image, ids in rows:
            shapes = []
            for t in ids:
                try:
                    k = int(t)
                except ValueError:
                    raise FormatError(file, f"label ids must be integers, got {t!r}", line=line) from None
                if k < 0:
                    raise FormatError(file, f"label ids must not be negative, got {k}", line=line)
                if k >= len(names):
                    if not generated:
                        raise FormatError(file, f"label id {k} is not in the labels file ({len(names)} labels)", line=line)
                    while len(names) <= k:
                        names.append(f"class-{len(names)}")
                        ds.ensure_label(names[-1], "tag")
                shapes.append(Shape("tag", names[k]))
            p = images_dir / image
            if not p.is_file():
                report.missing_images.append(image)
            ds.items.append(Item(image, subset=subset, image=p if p.is_file() else None, shapes=shapes))
    for lb in ds.schema:
        lb.kinds = ["tag"]
    if generated and names:
        report.problem(f"no labels file (synsets.txt): labels named class-0 .. class-{len(names) - 1}")
    report.items = len(ds.items)
    report.shapes = sum(len(it.shapes) for it in ds.items)
    return ds


def _txt_lists(root: Path, labels_file: Path | None) -> list[Path]:
    return [
        p for p in sorted(root.glob("*.txt"))
        if p != labels_file and not p.name.startswith("synsets") and p.is_file()
    ]  # fmt: skip


def read_imagenet_txt(
    path: Path, *, labels_file: str | None = None, image_dir: str = "images", **options
) -> tuple[Dataset, Report]:
    """Read ``<subset>.txt`` lists with synsets.txt and images/ (a list file may be given)."""
    root = Path(path).resolve()
    report = Report(format="ImageNet txt")
    if root.is_file():
        root, files = root.parent, [root]
        lf = _labels_file(root, labels_file)
    else:
        lf = _labels_file(root, labels_file)
        files = _txt_lists(root, lf)
    if not files:
        raise FormatError(root, "no <subset>.txt list here")
    labels = [s.strip() for s in lf.read_text(encoding="utf-8").splitlines() if s.strip()] if lf else None

    def lists():
        for f in files:
            rows = []
            for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
                if line.strip() and not line.lstrip().startswith("#"):
                    image, ids = _txt_line(line, f, n)
                    rows.append((n, image, ids))
            yield _subset_name(f.stem), f, rows

    ds = imagenet_txt_to_dataset(lists(), labels=labels, images_dir=root / image_dir, report=report)
    return ds, report


def _quote_name(name: str) -> str:
    if not any(c.isspace() for c in name) and '"' not in name:
        return name
    if '"' in name:
        raise ValueError(name)
    stem, dot, ext = name.rpartition(".")
    if dot and "/" not in ext and not any(c.isspace() for c in ext):
        return f'"{stem}".{ext}'
    return f'"{name}"'


def dataset_to_imagenet_txt(dataset: Dataset, *, report: Report) -> tuple[list[str], dict[str, list[str]]]:
    """(labels, {subset file stem: lines})."""
    names = _labels_of(dataset)
    ids = {n: i for i, n in enumerate(names)}
    lists: dict[str, list[str]] = {}
    for item in dataset.items:
        tags = _tags(item, report)
        report.items += 1
        report.shapes += len(item.shapes)
        name = item.name.replace("\\", "/").lstrip("/")
        try:
            shown = _quote_name(name)
        except ValueError:
            report.problem(f"{item.name}: a file name with a double quote cannot be listed; left out")
            continue
        lists.setdefault(item.subset or "default", []).append(" ".join([shown, *(str(ids[t]) for t in tags)]) + "\n")
    return names, lists


def write_imagenet_txt(dataset: Dataset, path: Path, *, include_images: bool = False, **options) -> Report:
    out = Path(path)
    report = Report(format="ImageNet txt")
    names, lists = dataset_to_imagenet_txt(dataset, report=report)
    for n in names:
        if "\n" in n:
            raise FormatError(out / "synsets.txt", f"label {n!r} holds a line break")
    for subset, rows in lists.items():
        atomic_write(out / f"{subset}.txt", "".join(rows))
    atomic_write(out / "synsets.txt", "".join(f"{n}\n" for n in names))
    if include_images:
        for item in dataset.items:
            if item.image is not None and Path(item.image).is_file():
                atomic_copy(Path(item.image), out / "images" / item.name.replace("\\", "/").lstrip("/"))
            else:
                report.missing_images.append(item.name)
    return report


def detect_imagenet_txt(path: Path) -> int:
    """60 for a list whose first line is "<image> <id> ..." beside synsets*.txt or images/, 35
    for such a list alone."""
    root = Path(path)
    try:
        if root.is_file():
            files, root = [root], root.parent
        elif root.is_dir():
            files = _txt_lists(root, None)
        else:
            return 0
        for f in files[:5]:
            with open(f, encoding="utf-8", errors="replace") as fh:
                head = fh.readline()
            if not head.strip():
                continue
            try:
                image, ids = _txt_line(head, f, 1)
            except FormatError:
                continue
            if _is_image(image) and ids and all(t.isdigit() for t in ids):
                return 60 if (any(root.glob("synsets*.txt")) or (root / "images").is_dir()) else 35
    except OSError:
        return 0
    return 0


# -- classification_csv --------------------------------------------------------------------------------


def _columns(row: list[str]) -> dict[str, int] | None:
    """Column positions from a header row, or None when the row is data."""
    low = [c.strip().lower() for c in row]
    file_col = next((i for i, c in enumerate(low) if c in _FILE_COLS), None)
    label_col = next((i for i, c in enumerate(low) if c in _LABEL_COLS), None)
    if file_col is None or label_col is None:
        return None
    cols = {"file": file_col, "label": label_col}
    sub = next((i for i, c in enumerate(low) if c in _SUBSET_COLS), None)
    if sub is not None:
        cols["subset"] = sub
    return cols


def csv_to_dataset(rows: Iterable[tuple[int, list[str]]], *, file: Path, root: Path, report: Report) -> Dataset:
    """``rows``: (line, fields) -> Dataset; the first row may be a header."""
    ds = Dataset()
    items: dict[str, Item] = {}
    cols = None
    first = True
    for line, row in rows:
        if first:
            first = False
            cols = _columns(row)
            if cols is not None:
                continue
            cols = {"file": 0, "label": 1}
        if not any(c.strip() for c in row):
            continue
        need = max(cols.values()) + 1
        if len(row) < need:
            names = "file, label, subset" if "subset" in cols else "file, label"
            raise FormatError(file, f"expected {need} fields ({names}), got {len(row)}", line=line)
        name = row[cols["file"]].strip().replace("\\", "/")
        if not name:
            raise FormatError(file, "the file field is empty", line=line)
        subset = row[cols["subset"]].strip() or None if "subset" in cols else None
        item = items.get(name)
        if item is None:
            p = Path(name) if Path(name).is_absolute() else root / name
            img = p if p.is_file() else None
            if img is None:
                report.missing_images.append(name)
            item = items[name] = Item(name, subset=subset, image=img)
            ds.items.append(item)
        elif subset and item.subset and subset != item.subset:
            raise FormatError(file, f"{name!r} is in subset {item.subset!r} on an earlier line, {subset!r} here", line=line)
        have = {s.label for s in item.shapes}
        for label in row[cols["label"]].split(";"):
            label = label.strip()
            if label and label not in have:
                have.add(label)
                ds.ensure_label(label, "tag")
                item.shapes.append(Shape("tag", label))
    for lb in ds.schema:
        lb.kinds = ["tag"]
    report.items = len(ds.items)
    report.shapes = sum(len(it.shapes) for it in ds.items)
    return ds


def _csv_file(root: Path) -> Path | None:
    if root.is_file():
        return root
    if (root / "labels.csv").is_file():
        return root / "labels.csv"
    found = sorted(p for p in root.glob("*.csv") if p.is_file())
    return found[0] if len(found) == 1 else None


def read_csv(path: Path, **options) -> tuple[Dataset, Report]:
    """Read a ``file,label`` CSV (the file, or a folder holding labels.csv or one .csv)."""
    root = Path(path)
    report = Report(format="Classification CSV")
    f = _csv_file(root)
    if f is None:
        raise FormatError(root, "no labels.csv (or single .csv file) here")
    try:
        text = f.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise FormatError(f, f"not UTF-8 text: {e.reason} at byte {e.start}") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)

    def rows():
        try:
            for row in reader:
                yield reader.line_num, row
        except csv.Error as e:
            raise FormatError(f, f"not valid CSV: {e}", line=reader.line_num) from None

    return csv_to_dataset(rows(), file=f, root=f.parent.resolve(), report=report), report


def dataset_to_csv(dataset: Dataset, *, report: Report) -> str:
    split = any(it.subset for it in dataset.items)
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["file", "label", "subset"] if split else ["file", "label"])
    for item in dataset.items:
        tags = _tags(item, report)
        report.items += 1
        report.shapes += len(item.shapes)
        ok = []
        for t in tags:
            if ";" in t:
                report.problem(f"label {t!r} holds ';', the CSV's label separator; its tags were left out")
                continue
            ok.append(t)
        row = [item.name.replace("\\", "/"), ";".join(ok)]
        w.writerow(row + [item.subset or ""] if split else row)
    return buf.getvalue()


def write_csv(dataset: Dataset, path: Path, *, include_images: bool = False, **options) -> Report:
    """Write ``path``/labels.csv (or ``path`` itself when it ends in .csv) and, with
    include_images, the images beside it at their item names."""
    out = Path(path)
    report = Report(format="Classification CSV")
    target = out if out.suffix.lower() == ".csv" else out / "labels.csv"
    atomic_write(target, dataset_to_csv(dataset, report=report))
    _unused_labels(dataset, report)
    if include_images:
        for item in dataset.items:
            if item.image is not None and Path(item.image).is_file():
                atomic_copy(Path(item.image), target.parent / item.name.replace("\\", "/").lstrip("/"))
            else:
                report.missing_images.append(item.name)
    return report


def detect_csv(path: Path) -> int:
    """80 for a CSV whose header names a file and a label column, 60 for one whose first row is
    an image file name and a label (a folder holding it: 5 less)."""
    root = Path(path)
    try:
        if root.is_dir():
            f = _csv_file(root)
            penalty = 5
        else:
            f = root if root.suffix.lower() == ".csv" else None
            penalty = 0
        if f is None:
            return 0
        with open(f, encoding="utf-8-sig", errors="replace", newline="") as fh:
            head = fh.read(1024)
        rows = list(csv.reader(io.StringIO(head)))
        if not rows:
            return 0
        cols = _columns(rows[0])
        if cols is not None and len(rows[0]) <= 4:
            return 80 - penalty
        if 2 <= len(rows[0]) <= 3 and _is_image(rows[0][0].strip()) and rows[0][1].strip():
            return 60 - penalty
    except OSError:
        return 0
    return 0


register(Format("imagenet", "ImageNet class folders ([<split>/]<class>/<image>, torchvision ImageFolder)",
                read_imagenet, write_imagenet, detect_imagenet))  # fmt: skip
register(Format("imagenet_txt", "ImageNet text lists (<subset>.txt of 'image label_id', synsets.txt, images/)",
                read_imagenet_txt, write_imagenet_txt, detect_imagenet_txt))  # fmt: skip
register(Format("classification_csv", "Classification CSV (file,label rows; ';' between several labels)",
                read_csv, write_csv, detect_csv))  # fmt: skip
