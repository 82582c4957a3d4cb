"""The "classification_csv" format: ``labels.csv`` rows of file, label (several joined by ";") and
optionally subset, with an optional header found by its column names; read, written (one row per
image) and detected."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from limner.core.dataset import Dataset, Item
from limner.core.shapes import Shape
from limner.formats.base import FormatError, Report, atomic_copy, atomic_write
from limner.formats.classification.files import _is_image
from limner.formats.classification.tags import _tags, _unused_labels


# -- classification_csv --------------------------------------------------------------------------------


_FILE_COLS = ("file", "filename", "file_name", "image", "image_name", "image_id", "img", "path", "filepath", "name", "id")
_LABEL_COLS = ("label", "labels", "class", "classes", "class_name", "category", "categories", "tag", "tags", "target")
_SUBSET_COLS = ("subset", "split")


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
    report.shapes = ds.shape_count
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
