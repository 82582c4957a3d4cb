""""semantic_indexed" and "semantic_rgb" (datumaro's ``common_semantic_segmentation``): the
label map of dataset_meta.json, ``images/`` and ``masks/`` folders (one set per subset folder when
there are subsets), read, written as palette or RGB PNGs, and recognised."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from limner.core.dataset import Dataset
from limner.formats.base import FormatError, Report, atomic_copy, atomic_write, load_json
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
from limner.formats.semantic.labels import _PALETTE

META = "dataset_meta.json"


# -- semantic_indexed / semantic_rgb ---------------------------------------------------------------


def _read_meta(path: Path) -> tuple[list[tuple[str | None, tuple | None]], int]:
    doc = load_json(path)
    lm = doc.get("label_map") if isinstance(doc, dict) else None
    if not isinstance(lm, dict) or not lm:
        raise FormatError(path, "expected a label_map object {\"0\": \"background\", ...}", key="label_map")
    try:
        pairs = sorted((int(k), str(v)) for k, v in lm.items())
    except ValueError:
        raise FormatError(path, "label_map keys must be integers", key="label_map") from None
    colors = doc.get("segmentation_colors") or []
    n = pairs[-1][0] + 1
    if pairs[0][0] < 0 or n > 65536:
        raise FormatError(path, "label_map keys must be from 0 to 65535", key="label_map")
    out: list[tuple[str | None, tuple | None]] = [(None, None)] * n
    for k, name in pairs:
        c = colors[k] if k < len(colors) else None
        if c is not None and (not isinstance(c, list) or len(c) != 3 or not all(isinstance(v, int) for v in c)):
            raise FormatError(path, f"colour {k} must be [r, g, b], got {c!r}", key=f"segmentation_colors[{k}]")
        out[k] = (name, tuple(c) if c else None)
    bg = doc.get("background_label", "0")
    return out, int(bg) if str(bg).lstrip("-").isdigit() else 0


def _semantic_roots(root: Path) -> list[tuple[Path, str | None]]:
    if (root / META).is_file() and (root / "masks").is_dir():
        return [(root, None)]
    return [
        (d, _subset_name(d.name))
        for d in sorted(p for p in root.iterdir() if p.is_dir())
        if (d / META).is_file() and (d / "masks").is_dir()
    ]


def read_semantic(path: Path, **options) -> tuple[Dataset, Report]:
    """Read a folder with dataset_meta.json, images/ and masks/ (or one such folder per subset)."""
    root = Path(path).resolve()
    report = Report(format="Semantic masks")
    parts = _semantic_roots(root)
    if not parts:
        raise FormatError(root, f"no {META} with a masks/ folder here")
    labels, background = _read_meta(parts[0][0] / META)
    records = []
    for folder, subset in parts:
        if folder != parts[0][0]:
            other, _ = _read_meta(folder / META)
            if other != labels:
                raise FormatError(folder / META, f"the label map differs from {parts[0][0] / META}'s")
        colors = {c: i for i, (n, c) in enumerate(labels) if c is not None and n is not None}
        images = _images(folder / "images")
        masks = _images(folder / "masks")
        for key in sorted(masks):
            img = images.get(key)
            if img is None:
                report.missing_images.append(f"{key}.png")
            arr = _load_png(masks[key], colors, -1)
            records.append({
                "name": img.relative_to(folder / "images").as_posix() if img else f"{key}.png",
                "subset": subset, "image": img, "file": masks[key], "classes": arr,
            })  # fmt: skip
        for key in sorted(set(images) - set(masks)):
            records.append({"name": images[key].relative_to(folder / "images").as_posix(), "subset": subset,
                            "image": images[key], "classes": None})  # fmt: skip
    void = frozenset({255}) if len(labels) <= 255 or labels[255][0] is None else frozenset()
    ds = masks_to_dataset(records, labels=labels, report=report, background=background, ignore=void)
    return ds, report


def write_semantic(
    dataset: Dataset, path: Path, *, mode: str = "indexed", include_images: bool = False, **options
) -> Report:
    """Write dataset_meta.json, masks/ (and images/ with include_images) per subset folder.
    ``mode``: "indexed" (palette PNGs) or "rgb" (colour PNGs)."""
    out = Path(path)
    report = Report(format="Semantic masks (RGB)" if mode == "rgb" else "Semantic masks (indexed)")
    names = dataset.label_names()
    index_of = _indices(names, report)
    colors = _colors(dataset, index_of, report)
    by_index = {i: n for n, i in index_of.items()}
    by_index.setdefault(0, "background")
    meta = {
        "label_map": {str(i): by_index[i] for i in sorted(by_index)},
        "segmentation_colors": [list(colors[i]) if i < len(colors) else list(_PALETTE[i]) for i in range(max(by_index) + 1)],
        "background_label": "0",
    }
    split = any(it.subset for it in dataset.items)
    folders = set()
    palette = [colors[i] if i < len(colors) else _PALETTE[i] for i in range(256)]
    for item, cls, _ in dataset_to_masks(dataset, report=report, index_of=index_of):
        folder = out / (item.subset or "default") if split else out
        folders.add(folder)
        rel = _rel_name(item)
        if cls is not None:
            data = _png(_colorize(cls, palette), "RGB") if mode == "rgb" else _png(cls, "P", palette)
            atomic_write(folder / "masks" / PurePosixPath(rel).with_suffix(".png"), data)
        if include_images:
            if item.image is not None and Path(item.image).is_file():
                atomic_copy(Path(item.image), folder / "images" / rel)
            else:
                report.missing_images.append(item.name)
    import json

    for folder in folders or {out}:
        atomic_write(folder / META, json.dumps(meta, indent=2))
    return report


def _first_png(folder: Path) -> Path | None:
    try:
        for dirpath, dirs, files in os.walk(folder):
            dirs.sort()
            for f in sorted(files):
                if f.lower().endswith(".png"):
                    return Path(dirpath, f)
    except OSError:
        pass
    return None


def _png_mode(path: Path | None) -> str | None:
    if path is None:
        return None
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.mode
    except OSError:
        return None


def detect_semantic(path: Path, mode: str | None = None) -> int:
    """80 for dataset_meta.json with masks/ (or subset folders of them), 81 for the variant whose
    PNG kind (palette/grey or RGB) the first mask shows."""
    root = Path(path)
    if not root.is_dir():
        return 0
    try:
        parts = _semantic_roots(root)
    except OSError:
        return 0
    if not parts:
        return 0
    m = _png_mode(_first_png(parts[0][0] / "masks"))
    if mode is None or m is None:
        return 80
    is_rgb = m in ("RGB", "RGBA")
    return 81 if is_rgb == (mode == "rgb") else 80
