"""The registry of formats, their discovery and format detection."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from limner.core.dataset import Dataset
from limner.errors import ValidationError
from limner.formats.base import Report

__all__ = ["FORMATS", "Format", "detect", "get", "names", "read", "register", "resolve", "write"]

_NOT_FORMATS = {"base", "registry", "helper"}

# the built-in formats by the module that registers them, so naming a format imports that
# module alone (a test holds this table to what importing every module registers)
BUILT_IN = {
    "classification": ("imagenet", "imagenet_txt", "classification_csv"),
    "coco": ("coco",),
    "coco_panoptic": ("coco_panoptic",),
    "cvat": ("cvat", "cvat_video"),
    "labelme": ("labelme", "labelme_xml"),
    "labelstudio": ("labelstudio",),
    "voc": ("voc", "voc_detection", "voc_segmentation"),
    "semantic": ("semantic_indexed", "semantic_rgb", "cityscapes", "camvid"),
    "tfrecord": ("tf_detection_api",),
    "via": ("via",),
    "yolo": ("yolo", "yolo_segment", "yolo_pose", "yolo_obb", "yolo_classify"),
}
_MODULE_OF = {name: module for module, names in BUILT_IN.items() for name in names}


@dataclass(frozen=True)
class Format:
    """A format: its name (as used by `--from`/`--to`), what it is, and its functions.

    `detect(path) -> int` scores 0 (not this format) to 100 (certainly this one) from a quick
    look at names and the first bytes; `read(path, **options) -> (Dataset, Report)`;
    `write(dataset, path, **options) -> Report`.
    """

    name: str
    description: str
    read: Callable[..., tuple[Dataset, Report]] | None = None
    write: Callable[..., Report] | None = None
    detect: Callable[[Path], int] | None = None


FORMATS: dict[str, Format] = {}
_loaded = False


def register(fmt: Format) -> Format:
    FORMATS[fmt.name] = fmt
    return fmt


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    import limner.formats as pkg

    for m in pkgutil.iter_modules(pkg.__path__):
        if not m.name.startswith("_") and m.name not in _NOT_FORMATS:
            importlib.import_module(f"limner.formats.{m.name}")
    from importlib.metadata import entry_points

    for ep in entry_points(group="limner.formats"):
        ep.load()


def names() -> list[str]:
    _load()
    return sorted(FORMATS)


def get(name: str) -> Format:
    if name not in FORMATS and name in _MODULE_OF:
        importlib.import_module(f"limner.formats.{_MODULE_OF[name]}")
    if name not in FORMATS:
        _load()
    if name not in FORMATS:
        raise ValidationError(f"unknown format {name!r}; formats are {', '.join(sorted(FORMATS))}", field="format")
    return FORMATS[name]


def detect(path: Path) -> list[tuple[str, int]]:
    """Formats that recognise `path`, best first."""
    _load()
    scores = []
    for f in FORMATS.values():
        if f.detect is not None and f.read is not None:
            s = f.detect(Path(path))
            if s > 0:
                scores.append((f.name, s))
    return sorted(scores, key=lambda x: (-x[1], x[0]))


def read(path: Path, format: str | None = None, **options) -> tuple[Dataset, Report, str]:
    """Read a dataset; returns (dataset, report, the format used)."""
    path = Path(path)
    format = resolve(path, format)
    ds, report = get(format).read(path, **options)
    return ds, report, format


def resolve(path: Path, format: str | None = None) -> str:
    """The format to read ``path`` with: ``format`` when given (it must be readable), else the
    best the detectors find; a clear error when there is none."""
    path = Path(path)
    if not path.exists():
        raise ValidationError(f"{path}: no such file or folder", field="path")
    if format is None:
        found = detect(path)
        if not found:
            raise ValidationError(
                f"{path}: no known format recognises this; name the format (--from, or format in the API)", field="path"
            )
        format = found[0][0]
    if get(format).read is None:
        raise ValidationError(f"format {format!r} can only be written", field="format")
    return format


def write(dataset: Dataset, path: Path, format: str, **options) -> Report:
    fmt = get(format)
    if fmt.write is None:
        raise ValidationError(f"format {format!r} can only be read", field="format")
    return fmt.write(dataset, Path(path), **options)
