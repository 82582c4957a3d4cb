"""CamVid (SegNet's layout): ``<split>.txt`` lists of image and mask paths, ``<split>annot/``
RGB masks in the colours of label_colors.txt (CamVid's 32 classes without it), read, written and
recognised."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

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
from limner.formats.semantic.labels import _BACKGROUND_NAMES, _PALETTE, CAMVID_LABELS, _norm, _read_label_colors

# -- camvid ----------------------------------------------------------------------------------------


def _camvid_line(line: str, path: Path, n: int) -> tuple[str, str | None]:
    s = line.strip()
    if '"' in s:
        parts = s.split('"')
        if len(parts) != 5:
            raise FormatError(path, "unbalanced quotes in a file name", line=n)
        return parts[1], parts[3] or None
    parts = s.split()
    if len(parts) > 2:
        raise FormatError(path, f"expected '<image> <mask>', got {s!r} (quote names with spaces)", line=n)
    return parts[0], parts[1] if len(parts) > 1 else None


def _camvid_lists(root: Path) -> list[Path]:
    out = []
    for p in sorted(root.glob("*.txt")):
        if p.name == "label_colors.txt":
            continue
        out.append(p)
    return out


def read_camvid(path: Path, **options) -> tuple[Dataset, Report]:
    """Read a CamVid folder: ``<split>.txt`` lists (or, without them, ``<split>annot/`` folders)."""
    root = Path(path).resolve()
    report = Report(format="CamVid")
    lc = root / "label_colors.txt"
    labels = _read_label_colors(lc) if lc.is_file() else list(CAMVID_LABELS)
    background = next((i for i, (_, c) in enumerate(labels) if c == (0, 0, 0)), None)
    if background is None and labels and labels[0][0].lower() in _BACKGROUND_NAMES:
        background = 0
    colors = {tuple(c): i for i, (_, c) in enumerate(labels) if c is not None}
    pairs: list[tuple[str, str | None, str | None]] = []  # image rel, mask rel, subset
    lists = _camvid_lists(root)
    for lst in lists:
        for n, line in enumerate(lst.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip() and not line.strip().startswith("#"):
                img, mask = _camvid_line(line, lst, n)
                pairs.append((img.lstrip("/"), mask.lstrip("/") if mask else None, _subset_name(lst.stem)))
    if not lists:
        for d in sorted(p for p in root.iterdir() if p.is_dir() and p.name.endswith("annot")):
            split = d.name[: -len("annot")]
            imgs = _images(root / split)
            for key, m in _images(d).items():
                img = imgs.get(key)
                rel = img.relative_to(root).as_posix() if img else f"{split}/{m.name}"
                pairs.append((rel, m.relative_to(root).as_posix(), _subset_name(split)))
    records = []
    for img_rel, mask_rel, subset in pairs:
        img = root / img_rel
        if not img.is_file():
            report.missing_images.append(img_rel)
        rec = {"name": img_rel, "subset": subset, "image": img if img.is_file() else None, "classes": None}
        if mask_rel:
            mp = root / mask_rel
            if not mp.is_file():
                report.problem(f"{mask_rel}: mask not found")
            else:
                rec["classes"] = _load_png(mp, colors, -1)
                rec["file"] = mp
        records.append(rec)
    ds = masks_to_dataset(records, labels=labels, report=report, background=background, keep_all_labels=lc.is_file())
    return ds, report


def write_camvid(dataset: Dataset, path: Path, *, include_images: bool = False, **options) -> Report:
    """Write label_colors.txt, ``<split>.txt`` lists, ``<split>annot/`` RGB masks (and, with
    ``include_images``, the images into ``<split>/``). Items without a subset go to "default"."""
    out = Path(path)
    report = Report(format="CamVid")
    names = dataset.label_names()
    camvid = {_norm(n): (i, c) for i, (n, c) in enumerate(CAMVID_LABELS)}
    if names and all(_norm(n) in camvid for n in names):
        ids = {n: camvid[_norm(n)][0] for n in names}
        table = [(n, c) for n, c in CAMVID_LABELS]
        colors = [c for _, c in CAMVID_LABELS]
    else:
        ids = _indices(names, report)
        colors = _colors(dataset, ids, report)
        by_id = {i: n for n, i in ids.items()}
        by_id.setdefault(0, "Void")
        table = [(by_id[i], colors[i] if i < len(colors) else _PALETTE[i]) for i in sorted(by_id)]
        colors = [c for _, c in table]
    lists: dict[str, list[str]] = {}
    for item, cls, _ in dataset_to_masks(dataset, report=report, index_of=ids):
        split = item.subset or "default"
        rel = PurePosixPath(_rel_name(item))
        mask_rel = f"{split}annot/{rel.with_suffix('.png').as_posix()}"
        if cls is not None:
            atomic_write(out / mask_rel, _png(_colorize(cls, colors), "RGB"))
        img_rel, m = f"/{split}/{rel.as_posix()}", f"/{mask_rel}" if cls is not None else ""
        if " " in img_rel or " " in m:
            img_rel, m = f'"{img_rel}"', f'"{m}"'
        lists.setdefault(split, []).append(f"{img_rel} {m}".rstrip() + "\n")
        if include_images:
            if item.image is not None and Path(item.image).is_file():
                atomic_copy(Path(item.image), out / split / rel.as_posix())
            else:
                report.missing_images.append(item.name)
    for split, rows in lists.items():
        atomic_write(out / f"{split}.txt", "".join(rows))
    atomic_write(out / "label_colors.txt", "".join(f"{c[0]} {c[1]} {c[2]} {n}\n" for n, c in table))
    return report


def detect_camvid(path: Path) -> int:
    """85 for a ``<split>.txt`` whose first line names an image and a mask in an ``*annot``
    folder that exists; 70 for label_colors.txt beside ``*annot`` folders."""
    root = Path(path)
    if not root.is_dir():
        return 0
    try:
        for lst in _camvid_lists(root)[:5]:
            with open(lst, encoding="utf-8", errors="replace") as f:
                head = f.readline()
            try:
                _, mask = _camvid_line(head, lst, 1) if head.strip() else ("", None)
            except FormatError:
                continue
            if mask:
                folder = PurePosixPath(mask.lstrip("/")).parts[0]
                if folder.endswith("annot") and (root / folder).is_dir():
                    return 85
        if (root / "label_colors.txt").is_file() and any(p.is_dir() and p.name.endswith("annot") for p in root.iterdir()):
            return 70
    except OSError:
        return 0
    return 0
