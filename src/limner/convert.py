"""Dataset preparation shared by `limner convert`, `limner export` and export jobs: label remapping,
splits, geometry checks, writing a format and zipping. Needs no database, so the standalone
converter starts without one."""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

from limner.core.collector import no_gc
from limner.core.columns import ShapeColumns
from limner.core.dataset import Dataset
from limner.core.splits import assign_splits, parse_ratios, remap_labels
from limner.errors import ValidationError
from limner.formats import get, resolve
from limner.formats import write as write_dataset
from limner.formats.base import Report
from limner.quality.checks import check_dataset

__all__ = ["export_to_folder", "parse_remap", "prepare", "read_for", "zip_folder"]

# (source format, target format): conversions that read the source as columns
# (:mod:`limner.core.columns`) because the target has a writer of columns
_COLUMNS = {("coco", "yolo")}


def read_for(src: Path, from_: str | None, to: str, *, remap=None, split=None, progress=None) -> tuple[Dataset | ShapeColumns, Report, str]:
    """Read ``src`` (its format found, or ``from_``) to be written as ``to``: a Dataset, or
    :class:`~limner.core.columns.ShapeColumns` when the pair has a writer of columns and nothing
    is remapped or split, so the same output comes several times faster. Returns (data, report,
    the source format). ``progress(fraction)`` hears how far reading the columns is."""
    fmt = resolve(src, from_)
    if (fmt, to) in _COLUMNS and not remap and not split:
        from limner.formats.coco.api import read_columns

        cols, report = read_columns(src, progress=progress)
        return cols, report, fmt
    ds, report = get(fmt).read(Path(src))
    return ds, report, fmt


def parse_remap(text: str | dict | None) -> dict[str, str | None]:
    """'cat=animal,dog=animal,junk=' -> {'cat': 'animal', 'dog': 'animal', 'junk': None}."""
    if not text:
        return {}
    if isinstance(text, dict):
        return {k: (v or None) for k, v in text.items()}
    out = {}
    for part in text.split(","):
        old, sep, new = part.partition("=")
        if not sep or not old.strip():
            raise ValidationError(f"label remap entries look like old=new (or old= to drop), got {part!r}", field="remap")
        out[old.strip()] = new.strip() or None
    return out


def prepare(
    dataset: Dataset | ShapeColumns,
    *,
    remap: dict | str | None = None,
    split: str | dict | None = None,
    seed: int = 0,
    stratify: bool = True,
    clip: bool = True,
) -> dict:
    """Remap labels, assign splits and check (and clip) geometry; returns what was done."""
    notes: dict = {}
    if isinstance(dataset, ShapeColumns) and (remap or split):
        raise ValueError("remap and split work on a Dataset: read with them (read_for) or call to_dataset()")
    mapping = parse_remap(remap)
    if mapping:
        notes["remap"] = dict(remap_labels(dataset, mapping))
    if split:
        ratios = parse_ratios(split) if isinstance(split, str) else {k: float(v) for k, v in split.items()}
        notes["splits"] = dict(assign_splits(dataset, ratios, seed=seed, stratify=stratify))
    findings, counts = check_dataset(dataset, clip=clip)
    notes["checks"] = {"counts": dict(counts), "findings": [f.to_dict() for f in findings[:200]]}
    return notes


def export_to_folder(dataset: Dataset | ShapeColumns, fmt: str, out: Path, *, include_images: bool = False, progress=None, **prep) -> dict:
    """Prepare (remap, split, check and clip) and write ``dataset`` as ``fmt`` into ``out``. A
    :class:`~limner.core.columns.ShapeColumns` is written as columns where ``fmt`` has such a
    writer, else made a Dataset first. ``progress(fraction)`` hears how far the writer is, for
    writers that tell (YOLO)."""
    # the checks and the writer make hundreds of thousands of short-lived, acyclic objects beside a
    # dataset of millions: a collection would walk all of them, so the collector rests meanwhile
    with no_gc():
        if isinstance(dataset, ShapeColumns) and (prep.get("remap") or prep.get("split")):
            dataset = dataset.to_dataset()
        notes = prepare(dataset, **prep)
        if isinstance(dataset, ShapeColumns) and fmt not in {to for _, to in _COLUMNS}:
            dataset = dataset.to_dataset()
        options = {"progress": progress} if progress is not None else {}
        report = write_dataset(dataset, out, fmt, include_images=include_images, **options)
    return {"format": fmt, "items": len(dataset.items), "shapes": dataset.shape_count, "report": report.to_dict(), **notes}


def zip_folder(folder: Path, zip_path: Path) -> int:
    """Zip a folder (atomically: a temporary file, then rename); returns the zip's size."""
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".zip", dir=zip_path.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for p in sorted(folder.rglob("*")):
                if p.is_file():
                    store = p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp")
                    zf.write(p, p.relative_to(folder).as_posix(), compress_type=zipfile.ZIP_STORED if store else None)
        os.replace(tmp, zip_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return zip_path.stat().st_size
