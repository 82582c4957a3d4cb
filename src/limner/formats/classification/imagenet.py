"""The "imagenet" format (torchvision's ImageFolder): ``[<split>/]<class>/<image>`` folders read
(classes in sorted order, ``no_label`` for untagged images), written by copying each tagged image
into its class folders, and detected (not when the tree holds another format's layout folders, and
below "yolo_classify" for exactly its tree)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from limner.core.dataset import Dataset, Item
from limner.core.shapes import Shape
from limner.formats.base import FormatError, Report, atomic_copy
from limner.formats.classification.files import _is_image, _subset_name
from limner.formats.classification.tags import _tags, _unused_labels


# -- imagenet (class folders) ------------------------------------------------------------------------


SPLITS = ("train", "val", "valid", "validation", "test", "trainval", "default")
NO_LABEL = "no_label"


def _strip(name: str, *prefixes: str | None) -> PurePosixPath:
    p = PurePosixPath(name.replace("\\", "/").lstrip("/"))
    for pre in prefixes:
        if pre and len(p.parts) > 1 and p.parts[0] == pre:
            p = PurePosixPath(*p.parts[1:])
    return p


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
    report.shapes = ds.shape_count
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
