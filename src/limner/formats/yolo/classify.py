"""The classify task: ``<split>/<class>/image`` folders read as items with a tag, written by
copying each image into the folder of its first tag, and recognised (weakly) by their shape."""

from __future__ import annotations

from pathlib import Path

from limner.core.dataset import Dataset, Item
from limner.core.shapes import Shape
from limner.formats.base import Report, atomic_copy
from limner.formats.yolo.formatting import _PLURAL
from limner.formats.yolo.layout import _is_image, _walk_images

# -- I/O -------------------------------------------------------------------------------------------


def _classify_splits(root: Path) -> list[Path]:
    return [root / s for s in ("train", "val", "test") if (root / s).is_dir()]


def _read_classify(root: Path, report: Report) -> Dataset:
    split_dirs = _classify_splits(root)
    classes = sorted({d.name for s in split_dirs for d in s.iterdir() if d.is_dir()})
    ds = Dataset(info={"yolo": {"task": "classify"}})
    for c in classes:
        ds.ensure_label(c)
    for s in split_dirs:
        for c in sorted(d for d in s.iterdir() if d.is_dir()):
            for p in _walk_images(c):
                ds.items.append(
                    Item(p.relative_to(root).as_posix(), subset=s.name, image=p, shapes=[Shape("tag", c.name)])
                )
        stray = [p.name for p in s.iterdir() if p.is_file() and _is_image(p.name)]
        if stray:
            report.problem(f"{s}: {len(stray)} images outside a class folder were skipped (e.g. {stray[0]})")
    report.items, report.shapes = len(ds.items), len(ds.items)
    return ds


def _write_classify(dataset: Dataset, out: Path, report: Report, include_images: bool) -> Report:
    used: set[str] = set()
    for item in dataset.items:
        tags = [s for s in item.shapes if s.kind == "tag"]
        for s in item.shapes:
            if s.kind != "tag":
                report.drop(f"{_PLURAL[s.kind]} dropped")
        if not tags:
            report.drop("images without a class tag dropped")
            continue
        if len(tags) > 1:
            report.drop("tags beyond the first of an image dropped", len(tags) - 1)
        base = item.name.replace("\\", "/").rsplit("/", 1)[-1]
        rel = f"{item.subset or 'train'}/{tags[0].label}/{base}"
        if rel.lower() in used:
            rel = f"{item.subset or 'train'}/{tags[0].label}/{item.name.replace('/', '_')}"
        used.add(rel.lower())
        if not include_images:
            report.drop("images not copied (include_images=False): their class is lost")
        elif item.image is not None and Path(item.image).is_file():
            atomic_copy(Path(item.image), out / rel)
            report.items += 1
            report.shapes += 1
        else:
            report.missing_images.append(item.name)
    return report


# -- detection -------------------------------------------------------------------------------------


def _classify_score(path: Path) -> int:
    """A weak guess: split folders holding only class folders of images, nothing else at the root."""
    splits = _classify_splits(path)
    if not splits or (path / "labels").exists() or (path / "images").exists():
        return 0
    others = [p for p in path.iterdir() if p.name not in ("train", "val", "test") and not p.name.startswith(".")]
    if any(p.is_dir() or not p.name.endswith((".yaml", ".yml", ".md")) for p in others):
        return 0
    for s in splits:
        entries = list(s.iterdir())
        if not entries or any(not e.is_dir() for e in entries):
            return 0
        for c in entries[:20]:
            inner = list(c.iterdir())
            if not inner or any(e.is_dir() for e in inner) or not any(_is_image(e.name) for e in inner[:50]):
                return 0
    return 20
