"""Cityscapes: ``gtFine/<split>/<city>/`` PNGs (instanceIds, labelIds, labelTrainIds, color) with
``leftImg8bit/`` images, read with the standard label table (or label_colors.txt), written with
instance ids for groups and Cityscapes' instance classes, and recognised."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import numpy as np

from limner.core.dataset import Dataset
from limner.formats.base import FormatError, Report, atomic_copy, atomic_write
from limner.formats.semantic.class_maps import (
    _colorize,
    _colors,
    _images,
    _indices,
    _load_png,
    _png,
    _rel_name,
    _subset_name,
    dataset_to_masks,
    masks_to_dataset,
)
from limner.formats.semantic.labels import _PALETTE, CITYSCAPES_LABELS, _norm, _read_label_colors

# -- cityscapes ------------------------------------------------------------------------------------

_CS_KINDS = ("instanceIds", "labelIds", "labelTrainIds", "color")


def _cs_table(root: Path) -> tuple[list, dict[int, int] | None, bool]:
    """(labels by id, trainId -> id or None, official?)."""
    lc = root / "label_colors.txt"
    if lc.is_file():
        return _read_label_colors(lc), None, False
    labels = [(n, c) for n, _, _, _, c in CITYSCAPES_LABELS]
    train = {t: i for _, i, t, _, _ in CITYSCAPES_LABELS if t != 255}
    return labels, train, True


def read_cityscapes(path: Path, **options) -> tuple[Dataset, Report]:
    """Read a Cityscapes folder holding gtFine/ (and leftImg8bit/)."""
    root = Path(path).resolve()
    report = Report(format="Cityscapes")
    gt = root / "gtFine"
    if not gt.is_dir():
        raise FormatError(root, "no gtFine/ folder here")
    labels, train, official = _cs_table(root)
    colors: dict[tuple, int] = {}
    for i, (_, c) in enumerate(labels):
        if c is not None:
            colors.setdefault(tuple(c), i)
    img_root = root / "leftImg8bit"
    records = []
    splits = sorted({p.name for d in (gt, img_root) if d.is_dir() for p in d.iterdir() if p.is_dir()})
    for split in splits:
        anns: dict[str, dict[str, Path]] = {}
        for dirpath, dirs, files in os.walk(gt / split):
            dirs.sort()
            for f in sorted(files):
                stem, sep, kind = f.rpartition("_gtFine_")
                kind = kind[:-4] if kind.endswith(".png") else None
                if sep and kind in _CS_KINDS:
                    rel = Path(dirpath, stem).relative_to(gt / split).as_posix()
                    anns.setdefault(rel, {})[kind] = Path(dirpath, f)
        images = {}
        for key, p in _images(img_root / split).items():
            images[key[: -len("_leftImg8bit")] if key.endswith("_leftImg8bit") else key] = p
        for key in sorted(set(anns) | set(images)):
            img = images.get(key)
            name = f"{split}/{img.relative_to(img_root / split).as_posix()}" if img else f"{split}/{key}_leftImg8bit.png"
            if img is None:
                report.missing_images.append(name)
            rec = {"name": name, "subset": _subset_name(split), "image": img,
                   "classes": None, "instances": None}  # fmt: skip
            files = anns.get(key, {})
            if "instanceIds" in files:
                rec["file"] = files["instanceIds"]
                rec["instances"] = _load_png(files["instanceIds"], colors, 0)
            elif "labelIds" in files:
                rec["file"] = files["labelIds"]
                rec["classes"] = _load_png(files["labelIds"], colors, 0)
            elif "labelTrainIds" in files and train is not None:
                rec["file"] = files["labelTrainIds"]
                arr = _load_png(files["labelTrainIds"], None)
                lut = np.zeros(max(256, int(arr.max()) + 1), np.int32)
                for t, i in train.items():
                    lut[t] = i
                rec["classes"] = lut[arr]
            elif "color" in files:
                rec["file"] = files["color"]
                rec["classes"] = _load_png(files["color"], colors, 0)
            records.append(rec)
    ds = masks_to_dataset(records, labels=labels, report=report, keep_all_labels=not official)
    ds.info["cityscapes"] = {"table": "cityscapes" if official else "label_colors.txt"}
    return ds, report


def _cs_ids(names: list[str], report: Report) -> tuple[dict[str, int], list[tuple[str, tuple]], bool]:
    table = {_norm(n): (i, c) for n, i, _, _, c in CITYSCAPES_LABELS}
    if names and all(_norm(n) in table for n in names):
        ids = {n: table[_norm(n)][0] for n in names}
        return ids, [(n, c) for n, _, _, _, c in CITYSCAPES_LABELS], True
    ids = _indices(names, report)
    return ids, [], False


def write_cityscapes(dataset: Dataset, path: Path, *, include_images: bool = False, **options) -> Report:
    """Write gtFine/<split>/<city>/ PNGs (labelIds, instanceIds, color; labelTrainIds with the
    official table) and, with ``include_images``, leftImg8bit/. Items without a folder in their
    name go to the city "default"; items without a subset to the split "default"."""
    out = Path(path)
    report = Report(format="Cityscapes")
    names = dataset.label_names()
    ids, _, official = _cs_ids(names, report)
    if official:
        colors = [c for *_, c in CITYSCAPES_LABELS]
        has_inst = {i for _, i, _, h, _ in CITYSCAPES_LABELS if h}
        train_lut = np.full(256, 255, np.uint8)
        for _, i, t, _, _ in CITYSCAPES_LABELS:
            train_lut[i] = t
    else:
        colors = _colors(dataset, ids, report)
        has_inst = set()
        train_lut = None
        if max(ids.values(), default=0) > 65:
            report.problem("class ids above 65 cannot hold instance ids in a 16-bit instanceIds PNG; written as class ids")
    for item in dataset.items:
        counter: dict[int, int] = {}
        number: dict[tuple, int] = {}

        def instance_of(s, counter=counter, number=number):
            k = ids[s.label]
            if not (s.group_id is not None or k in has_inst) or k > 65:
                return None
            key = (s.label, s.group_id) if s.group_id is not None else ("shape", id(s))
            if key not in number:
                counter[k] = counter.get(k, 0) + 1
                if counter[k] > 999:
                    report.drop("instances beyond 999 per class written as class pixels")
                    return None
                number[key] = k * 1000 + counter[k]
            return number[key]

        one = Dataset(dataset.schema, [item])
        for _, cls, inst in dataset_to_masks(one, report=report, index_of=ids, instance_of=instance_of):
            split = item.subset or "default"
            rel = PurePosixPath(_rel_name(item))
            city = rel.parent.as_posix() if rel.parent.as_posix() != "." else "default"
            stem = rel.stem[: -len("_leftImg8bit")] if rel.stem.endswith("_leftImg8bit") else rel.stem
            base = out / "gtFine" / split / city / f"{stem}_gtFine_"
            if cls is not None:
                atomic_write(Path(f"{base}labelIds.png"), _png(cls, "L"))
                atomic_write(Path(f"{base}instanceIds.png"), _png(inst, "I;16"))
                atomic_write(Path(f"{base}color.png"), _png(_colorize(cls, colors), "RGB"))
                if train_lut is not None:
                    atomic_write(Path(f"{base}labelTrainIds.png"), _png(train_lut[cls], "L"))
            if include_images:
                if item.image is not None and Path(item.image).is_file():
                    ext = Path(item.image).suffix.lower() or ".png"
                    atomic_copy(Path(item.image), out / "leftImg8bit" / split / city / f"{stem}_leftImg8bit{ext}")
                else:
                    report.missing_images.append(item.name)
    if not official:
        by_id = {i: n for n, i in ids.items()}
        by_id.setdefault(0, "background")
        lines = [f"{' '.join(map(str, colors[i] if i < len(colors) else _PALETTE[i]))} {by_id[i]}\n" for i in sorted(by_id)]
        atomic_write(out / "label_colors.txt", "".join(lines))
    return report


def detect_cityscapes(path: Path) -> int:
    """90 for gtFine/<split>/<city>/*_gtFine_*.png."""
    gt = Path(path) / "gtFine"
    try:
        if not gt.is_dir():
            return 0
        for split in sorted(gt.iterdir())[:10]:
            if split.is_dir():
                for city in sorted(split.iterdir())[:10]:
                    if city.is_dir():
                        with os.scandir(city) as it:
                            for e in it:
                                if "_gtFine_" in e.name and e.name.endswith(".png"):
                                    return 90
    except OSError:
        return 0
    return 0
