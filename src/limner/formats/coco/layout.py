"""COCO's files and folders: the task names, ``<task>_<subset>.json`` names and the files found
under a folder (or one JSON file), where the images of a file may be and finding them (sizes from
the image headers when the JSON lacks them), an item's ``file_name``, the JSON bytes written, and
copying the images to ``images/<subset>/``."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from limner.core.dataset import Dataset, Item
from limner.formats.base import Report, peek

TASKS = ("instances", "stuff", "person_keypoints", "labels", "captions", "image_info", "panoptic")
_OBJECT_TASKS = ("instances", "stuff", "person_keypoints")  # one annotation may be split over these
_READ_TASKS = ("instances", "stuff", "person_keypoints", "labels", "captions", "image_info")
_FILE = re.compile(r"^(" + "|".join(TASKS) + r")_(.+)\.json$")
DEFAULT_SUBSET = "default"


# -- files and layout -----------------------------------------------------------------------------


def parse_name(name: str) -> tuple[str, str] | None:
    """``instances_val.json`` → ("instances", "val"); None for other names."""
    m = _FILE.match(name)
    return (m.group(1), m.group(2)) if m else None


def _looks_coco(head: bytes) -> bool:
    """A COCO file's first KBs: an "images" list (official files put annotations and categories
    after every image, so an image's "file_name" is the other sign)."""
    return b'"images"' in head and (b'"file_name"' in head or b'"annotations"' in head or b'"categories"' in head)


def find_files(path: Path, tasks: tuple[str, ...] = _READ_TASKS) -> list[tuple[str, str | None, Path]]:
    """The COCO files under ``path`` as (task, subset, file), in task order.

    A folder: ``annotations/<task>_<subset>.json``, else JSON files directly inside it that look
    like COCO. A file: itself, its task and subset from its name when it follows the pattern.
    """
    path = Path(path)
    found: list[tuple[str, str | None, Path]] = []
    if path.is_file():
        ts = parse_name(path.name)
        if ts is None:
            found.append(("panoptic" if b'"segments_info"' in peek(path) else "instances", None, path))
        else:
            found.append((ts[0], ts[1], path))
    elif (path / "annotations").is_dir():
        for f in sorted((path / "annotations").iterdir()):
            ts = parse_name(f.name)
            if ts is not None and f.is_file():
                found.append((ts[0], ts[1], f))
    elif path.is_dir():
        for f in sorted(path.glob("*.json")):
            head = peek(f)
            if _looks_coco(head):
                ts = parse_name(f.name)
                task = ts[0] if ts else ("panoptic" if b'"segments_info"' in head else "instances")
                found.append((task, ts[1] if ts else None, f))
    found = [f for f in found if f[0] in tasks]
    found.sort(key=lambda f: (TASKS.index(f[0]), f[1] or ""))
    return found


def image_dirs(path: Path, json_file: Path, subset: str | None) -> list[Path]:
    """Where the images of ``json_file`` may be, most likely first."""
    path = Path(path)
    root = path if path.is_dir() else json_file.parent
    if json_file.parent.name == "annotations":
        root = json_file.parent.parent
    out = []
    if subset:
        out += [root / "images" / subset, root / subset]
    out += [root / "images", root, json_file.parent, json_file.parent / "images"]
    seen: list[Path] = []
    for d in out:
        if d not in seen:
            seen.append(d)
    return seen


def _locate(file_name: str, dirs: list[Path], listings: dict[Path, tuple[Path, set[str]] | None]) -> Path | None:
    for d in dirs:
        if "/" in file_name or "\\" in file_name:
            p = d / file_name
            if p.is_file():
                return p.resolve()
            continue
        if d not in listings:
            try:
                listings[d] = (d.resolve(), set(os.listdir(d)))
            except OSError:
                listings[d] = None
        found = listings[d]
        if found is not None and file_name in found[1]:
            return found[0] / file_name
    return None


def split_subset(subset: str | None) -> str | None:
    return None if subset in (None, DEFAULT_SUBSET) else subset


def file_name_of(item: Item) -> str:
    """The COCO ``file_name`` of an item: its name without the ``<subset>/`` prefix."""
    if item.subset and item.name.startswith(item.subset + "/"):
        return item.name[len(item.subset) + 1 :]
    return item.name


def find_images(dataset: Dataset, path: Path, sources: dict[str | None, tuple[Path, str | None]], report: Report) -> None:
    """Set Item.image where the file exists; read the size from its header when the JSON lacks it.
    ``sources`` maps an item's subset to the JSON file (and raw subset name) it came from."""
    listings: dict[Path, tuple[Path, set[str]] | None] = {}
    dirs_of = {sub: image_dirs(path, f, raw) for sub, (f, raw) in sources.items()}
    for item in dataset.items:
        dirs = dirs_of.get(item.subset)
        if dirs is None:
            continue
        found = _locate(file_name_of(item), dirs, listings)
        if found is None:
            report.missing_images.append(item.name)
            continue
        item.image = found
        if item.width is None or item.height is None:
            from PIL import Image

            try:
                with Image.open(found) as im:
                    item.width, item.height = im.size
            except OSError as e:
                report.problem(f"{found}: cannot read the image size: {e}")


# -- writing ---------------------------------------------------------------------------------------


def dumps(doc: Any) -> bytes:
    import orjson

    return orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY)


def copy_images(dataset: Dataset, path: Path, report: Report) -> None:
    """Copy each item's image to ``images/<subset>/<file_name>``."""
    for item in dataset.items:
        dst = path / "images" / (item.subset or DEFAULT_SUBSET) / file_name_of(item)
        if item.image is None or not Path(item.image).is_file():
            report.missing_images.append(item.name)
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if Path(item.image).resolve() != dst.resolve():
            shutil.copyfile(item.image, dst)
