"""The "imagenet_txt" format (datumaro's ImageNet text lists): ``<subset>.txt`` lines of an image
(quoted when its name has spaces) and label ids, with the labels of synsets.txt (``class-<id>``
without one) and the images in images/; read, written and detected."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from limner.core.dataset import Dataset, Item
from limner.core.shapes import Shape
from limner.formats.base import FormatError, Report, atomic_copy, atomic_write
from limner.formats.classification.files import _is_image, _subset_name
from limner.formats.classification.tags import _tags


# -- imagenet_txt --------------------------------------------------------------------------------------


def _txt_line(line: str, path: Path, n: int) -> tuple[str, list[str]]:
    s = line.strip()
    if '"' in s:
        parts = s.split('"')
        if len(parts) != 3:
            raise FormatError(path, "unbalanced quotes in a file name", line=n)
        rest = parts[2]
        if rest and not rest[0].isspace():  # datumaro's "name".jpg 1
            first, _, rest = rest.partition(" ")
            return parts[1] + first, rest.split()
        return parts[1], rest.split()
    parts = s.split()
    return parts[0], parts[1:]


def _labels_file(root: Path, name: str | None) -> Path | None:
    if name:
        p = root / name
        if not p.is_file():
            raise FormatError(p, "labels file not found")
        return p
    if (root / "synsets.txt").is_file():
        return root / "synsets.txt"
    found = sorted(root.glob("synsets*.txt"))
    return found[0] if len(found) == 1 else None


def imagenet_txt_to_dataset(
    lists: Iterable[tuple[str | None, Path, list[tuple[int, str, list[str]]]]],
    *,
    labels: list[str] | None,
    images_dir: Path,
    report: Report,
) -> Dataset:
    """``lists``: (subset, file, [(line, image, ids)]) -> Dataset. Without ``labels``, ids become
    ``class-<id>``."""
    ds = Dataset()
    names = list(labels or [])
    for n in names:
        ds.ensure_label(n, "tag")
    generated = labels is None
    for subset, file, rows in lists:
        for line, image, ids in rows:
            shapes = []
            for t in ids:
                try:
                    k = int(t)
                except ValueError:
                    raise FormatError(file, f"label ids must be integers, got {t!r}", line=line) from None
                if k < 0:
                    raise FormatError(file, f"label ids must not be negative, got {k}", line=line)
                if k >= len(names):
                    if not generated:
                        raise FormatError(file, f"label id {k} is not in the labels file ({len(names)} labels)", line=line)
                    while len(names) <= k:
                        names.append(f"class-{len(names)}")
                        ds.ensure_label(names[-1], "tag")
                shapes.append(Shape("tag", names[k]))
            p = images_dir / image
            if not p.is_file():
                report.missing_images.append(image)
            ds.items.append(Item(image, subset=subset, image=p if p.is_file() else None, shapes=shapes))
    for lb in ds.schema:
        lb.kinds = ["tag"]
    if generated and names:
        report.problem(f"no labels file (synsets.txt): labels named class-0 .. class-{len(names) - 1}")
    report.items = len(ds.items)
    report.shapes = ds.shape_count
    return ds


def _txt_lists(root: Path, labels_file: Path | None) -> list[Path]:
    return [
        p for p in sorted(root.glob("*.txt"))
        if p != labels_file and not p.name.startswith("synsets") and p.is_file()
    ]  # fmt: skip


def read_imagenet_txt(
    path: Path, *, labels_file: str | None = None, image_dir: str = "images", **options
) -> tuple[Dataset, Report]:
    """Read ``<subset>.txt`` lists with synsets.txt and images/ (a list file may be given)."""
    root = Path(path).resolve()
    report = Report(format="ImageNet txt")
    if root.is_file():
        root, files = root.parent, [root]
        lf = _labels_file(root, labels_file)
    else:
        lf = _labels_file(root, labels_file)
        files = _txt_lists(root, lf)
    if not files:
        raise FormatError(root, "no <subset>.txt list here")
    labels = [s.strip() for s in lf.read_text(encoding="utf-8").splitlines() if s.strip()] if lf else None

    def lists():
        for f in files:
            rows = []
            for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
                if line.strip() and not line.lstrip().startswith("#"):
                    image, ids = _txt_line(line, f, n)
                    rows.append((n, image, ids))
            yield _subset_name(f.stem), f, rows

    ds = imagenet_txt_to_dataset(lists(), labels=labels, images_dir=root / image_dir, report=report)
    return ds, report


def _quote_name(name: str) -> str:
    if not any(c.isspace() for c in name) and '"' not in name:
        return name
    if '"' in name:
        raise ValueError(name)
    stem, dot, ext = name.rpartition(".")
    if dot and "/" not in ext and not any(c.isspace() for c in ext):
        return f'"{stem}".{ext}'
    return f'"{name}"'


def dataset_to_imagenet_txt(dataset: Dataset, *, report: Report) -> tuple[list[str], dict[str, list[str]]]:
    """(labels, {subset file stem: lines})."""
    names = dataset.label_names()
    ids = {n: i for i, n in enumerate(names)}
    lists: dict[str, list[str]] = {}
    for item in dataset.items:
        tags = _tags(item, report)
        report.items += 1
        report.shapes += len(item.shapes)
        name = item.name.replace("\\", "/").lstrip("/")
        try:
            shown = _quote_name(name)
        except ValueError:
            report.problem(f"{item.name}: a file name with a double quote cannot be listed; left out")
            continue
        lists.setdefault(item.subset or "default", []).append(" ".join([shown, *(str(ids[t]) for t in tags)]) + "\n")
    return names, lists


def write_imagenet_txt(dataset: Dataset, path: Path, *, include_images: bool = False, **options) -> Report:
    out = Path(path)
    report = Report(format="ImageNet txt")
    names, lists = dataset_to_imagenet_txt(dataset, report=report)
    for n in names:
        if "\n" in n:
            raise FormatError(out / "synsets.txt", f"label {n!r} holds a line break")
    for subset, rows in lists.items():
        atomic_write(out / f"{subset}.txt", "".join(rows))
    atomic_write(out / "synsets.txt", "".join(f"{n}\n" for n in names))
    if include_images:
        for item in dataset.items:
            if item.image is not None and Path(item.image).is_file():
                atomic_copy(Path(item.image), out / "images" / item.name.replace("\\", "/").lstrip("/"))
            else:
                report.missing_images.append(item.name)
    return report


def detect_imagenet_txt(path: Path) -> int:
    """60 for a list whose first line is "<image> <id> ..." beside synsets*.txt or images/, 35
    for such a list alone."""
    root = Path(path)
    try:
        if root.is_file():
            files, root = [root], root.parent
        elif root.is_dir():
            files = _txt_lists(root, None)
        else:
            return 0
        for f in files[:5]:
            with open(f, encoding="utf-8", errors="replace") as fh:
                head = fh.readline()
            if not head.strip():
                continue
            try:
                image, ids = _txt_line(head, f, 1)
            except FormatError:
                continue
            if _is_image(image) and ids and all(t.isdigit() for t in ids):
                return 60 if (any(root.glob("synsets*.txt")) or (root / "images").is_dir()) else 35
    except OSError:
        return 0
    return 0
