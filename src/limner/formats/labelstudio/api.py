"""The Label Studio format's entry points: ``read`` (an export file, or the Label Studio JSON files
of a folder), ``write`` (tasks.json and label_config.xml in a folder, or one .json file), ``detect``,
and the registration of "labelstudio" with :mod:`limner.formats.registry`."""

from __future__ import annotations

from pathlib import Path

from limner.core.dataset import Dataset
from limner.formats.base import FormatError, Report, atomic_write, copy_images, load_json, no_gc, peek
from limner.formats.labelstudio.label_config import label_config
from limner.formats.labelstudio.reading import labelstudio_to_dataset
from limner.formats.labelstudio.writing import dataset_to_labelstudio
from limner.formats.registry import Format, register


def read(path: Path, *, all_annotations: bool = False, image_root: Path | None = None, **options) -> tuple[Dataset, Report]:
    """Read a Label Studio JSON export (a file, or every Label Studio JSON file in a folder)."""
    path = Path(path).absolute()
    files = [path] if path.is_file() else [p for p in sorted(path.glob("*.json")) if _looks_ls(p)]
    if not files:
        raise FormatError(path, "no Label Studio JSON export (a list of tasks with data) here")
    ds, report = Dataset(), Report(format="Label Studio")
    for f in files:
        tasks = load_json(f)
        with no_gc():
            labelstudio_to_dataset(tasks, ds, report, file=f, all_annotations=all_annotations,
                                   image_root=Path(image_root).absolute() if image_root else None)  # fmt: skip
    report.items = len(ds.items)
    report.shapes = ds.shape_count
    return ds, report


def write(dataset: Dataset, path: Path, *, include_images: bool = False, url_prefix: str = "", **options) -> Report:
    """Write ``tasks.json`` (and ``label_config.xml``) in ``path``, or the file ``path`` if it ends in .json."""
    import orjson

    path = Path(path)
    report = Report(format="Label Studio")
    target = path if path.suffix.lower() == ".json" else path / "tasks.json"
    atomic_write(target, orjson.dumps(dataset_to_labelstudio(dataset, report, url_prefix=url_prefix), option=orjson.OPT_INDENT_2))
    if path.suffix.lower() != ".json":
        atomic_write(path / "label_config.xml", label_config(dataset))
    if include_images:
        copy_images(dataset.items, lambda item: target.parent / item.name, report)
    report.items = len(dataset.items)
    report.shapes = dataset.shape_count
    return report


# ---------------------------------------------------------------------------------------- detection


def _looks_ls(p: Path) -> int:
    head = peek(p)
    if not head.lstrip().startswith(b"["):
        return 0
    if b'"data"' in head and (b'"annotations"' in head or b'"predictions"' in head or b'"result"' in head):
        return 90
    if b'"result"' in head and (b'"from_name"' in head or b'"annotations"' in head):
        return 90
    return 60 if b'"data"' in head else 0


def detect(path: Path) -> int:
    path = Path(path)
    if path.is_file():
        return _looks_ls(path) if path.suffix.lower() == ".json" else 0
    if path.is_dir():
        return max((_looks_ls(p) - 5 for p in sorted(path.glob("*.json"))[:20] if _looks_ls(p)), default=0)
    return 0


register(Format("labelstudio", "Label Studio JSON export (tasks with annotations and predictions)", read, write, detect))
