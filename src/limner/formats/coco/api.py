"""The COCO format's entry points: ``read`` (a COCO folder or one JSON file, its images found),
``write`` (``annotations/<task>_<subset>.json``, files of an earlier write removed, the images on
request), ``detect``, and the format's registration with :mod:`limner.formats.registry`."""

from __future__ import annotations

import os
from pathlib import Path

from limner.core.columns import RingSink, ShapeColumns
from limner.core.dataset import Dataset
from limner.errors import ValidationError
from limner.formats.base import FormatError, Report, atomic_write, load_json_pieces, no_gc
from limner.formats.coco.layout import (
    _READ_TASKS,
    TASKS,
    _looks_coco,
    copy_images,
    dumps,
    find_files,
    find_images,
    parse_name,
    peek,
    split_subset,
)
from limner.formats.coco.reading import coco_to_dataset
from limner.formats.coco.writing import CocoParts
from limner.formats.registry import Format, register

# -- reading: coco ---------------------------------------------------------------------------------


def read(path: Path, *, tasks: tuple[str, ...] | None = None, **options) -> tuple[Dataset, Report]:
    """Read a COCO folder (``annotations/<task>_<subset>.json``) or one COCO JSON file.

    ``tasks`` limits the files read (default: every task but panoptic)."""
    return _read(path, tasks, None)


def read_columns(path: Path, *, tasks: tuple[str, ...] | None = None, progress=None) -> tuple[ShapeColumns, Report]:
    """:func:`read` with the plain one-ring polygons kept as columns (see :mod:`limner.core.columns`):
    the same items, labels, shapes and report, for a writer that works on columns.
    ``progress(fraction)`` hears how much of a big annotations array is read."""
    sink = RingSink()
    sink.progress = progress
    ds, report = _read(path, tasks, sink)
    return ShapeColumns(ds, sink), report


def _read(path: Path, tasks, rings) -> tuple[Dataset, Report]:
    path = Path(path)
    report = Report("COCO")
    files = find_files(path, tuple(tasks) if tasks else TASKS)
    if not [f for f in files if f[0] != "panoptic"]:
        raise FormatError(path, "no COCO annotation files found (expected annotations/<task>_<subset>.json)")
    sources: dict[str | None, tuple[Path, str | None]] = {}
    with no_gc():
        parsed = []
        for task, subset, f in files:
            sources.setdefault(split_subset(subset), (f, subset))
            parsed.append((task, subset, load_json_pieces(f, "annotations"), str(f)))
        ds = coco_to_dataset(parsed, report=report, consume=True, rings=rings)
        del parsed
    find_images(ds, path, sources, report)
    return ds, report


# -- writing ---------------------------------------------------------------------------------------


def write(dataset: Dataset, path: Path, *, include_images: bool = False, **options) -> Report:
    """Write ``annotations/<task>_<subset>.json`` under the folder ``path`` (and the images)."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        raise ValidationError(f"{path}: COCO is written as a folder (annotations/<task>_<subset>.json); give a folder", field="path")
    report = Report("COCO")
    with no_gc():
        docs = _write_documents(dataset, path / "annotations", report)
    for subset in {s for _, s in docs}:  # files of an earlier write would be read with these
        for task in _READ_TASKS:
            old = path / "annotations" / f"{task}_{subset}.json"
            if (task, subset) not in docs and old.is_file():
                old.unlink()
                report.problem(f"{old}: removed, it was not part of this dataset")
    if include_images:
        copy_images(dataset, path, report)
    return report


def _write_documents(dataset: Dataset, folder: Path, report: Report, chunk: int = 20_000) -> set[tuple[str, str]]:
    """Write the COCO documents of ``dataset`` into ``folder``; answers their (task, subset).

    Each instances document is streamed: its head and images, then its annotations a chunk at a
    time, and its categories once all subsets are done; the same bytes as the whole document dumped
    at once, without holding every annotation's dict and the document's text (an export of 200,000
    polygons peaked at 0.61 GB instead of 1.03). The files are written beside their places and
    moved there once all are whole: after an error, no partial file is left and the files of an
    earlier write are as they were."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = CocoParts(dataset, report)
    partial: dict[str, Path] = {}
    others: dict[tuple[str, str], dict] = {}
    try:
        for sub in parts.subsets():
            tmp = partial[sub.name] = folder / f".instances_{sub.name}.json.partial"
            with open(tmp, "wb") as out:
                out.write(dumps({**sub.head, "images": sub.images})[:-1])
                out.write(b',"annotations":[')
                sep = b""
                for anns in sub.annotations(chunk):
                    if anns:
                        out.write(sep + dumps(anns)[1:-1])
                        sep = b","
                out.write(b"]")
            others.update(sub.others())
        cats = parts.categories()
        tail = b',"categories":' + dumps(cats) + b"}"
        for tmp in partial.values():
            with open(tmp, "ab") as out:
                out.write(tail)
    except BaseException:
        for tmp in partial.values():
            tmp.unlink(missing_ok=True)
        raise
    for name, tmp in partial.items():
        os.replace(tmp, folder / f"instances_{name}.json")
    for (task, subset), doc in others.items():
        doc["categories"] = cats if task != "captions" else []
        atomic_write(folder / f"{task}_{subset}.json", dumps(doc))
    return {("instances", name) for name in partial} | set(others)


# -- detection -------------------------------------------------------------------------------------


def detect(path: Path) -> int:
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() != ".json":
            return 0
        head = peek(path)
        return 70 if _looks_coco(head) and b'"segments_info"' not in head else 0
    if not path.is_dir():
        return 0
    ann = path / "annotations"
    if ann.is_dir():
        tasks = {t[0] for t in (parse_name(f) for f in os.listdir(ann)) if t}
        return 90 if tasks & set(_READ_TASKS) else 0
    for f in sorted(path.glob("*.json"))[:5]:
        head = peek(f)
        if _looks_coco(head) and b'"segments_info"' not in head:
            return 50
    return 0


register(
    Format(
        name="coco",
        description="COCO instances, person keypoints, image labels, captions (annotations/<task>_<subset>.json)",
        read=read,
        write=write,
        detect=detect,
    )
)
