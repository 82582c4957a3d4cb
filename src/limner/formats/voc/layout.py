"""The VOC folder's index files and listing: labelmap.txt (datumaro's ``name:r,g,b:parts:actions``
lines), the ImageSets/*/ lists (each item's subset, and the class lists' image-level presence) and
the scan of a subfolder's files by id."""

from __future__ import annotations

import os
from pathlib import Path

from limner.formats.base import FormatError

_SUBSET_DIRS = ("Main", "Segmentation", "Action", "Layout")


def _read_labelmap(path: Path) -> list[tuple[str, tuple | None, list[str], list[str]]]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        parts = s.split(":")
        if len(parts) != 4 or not parts[0]:
            raise FormatError(path, f"expected name:r,g,b:parts:actions, got {s!r}", line=n)
        color = None
        if parts[1]:
            try:
                color = tuple(int(c) for c in parts[1].split(","))
            except ValueError:
                color = ()
            if len(color) != 3 or not all(0 <= c <= 255 for c in color):
                raise FormatError(path, f"colour must be r,g,b from 0 to 255, got {parts[1]!r}", line=n)
        split = lambda t: [p.strip() for p in t.split(",") if p.strip()]  # noqa: E731
        out.append((parts[0], color, split(parts[2]), split(parts[3])))
    return out


def _scan(folder: Path, suffix: str) -> dict[str, Path]:
    out = {}
    if folder.is_dir():
        for dirpath, dirs, files in os.walk(folder):
            dirs.sort()
            for f in sorted(files):
                if f.lower().endswith(suffix) if suffix else not f.startswith("."):
                    p = Path(dirpath, f)
                    out.setdefault(p.relative_to(folder).with_suffix("").as_posix(), p)
    return out


def _image_lists(root: Path, labels: set[str]) -> tuple[dict[str, str], dict[str, set[str]], list[str]]:
    """(item id -> subset, item id -> labels present, ids in list order) from ImageSets."""
    lists: dict[str, list[str]] = {}
    present: dict[str, set[str]] = {}
    order: list[str] = []
    for d in _SUBSET_DIRS:
        folder = root / "ImageSets" / d
        if not folder.is_dir():
            continue
        files = sorted(p for p in folder.iterdir() if p.suffix == ".txt" and p.is_file())
        stems = {p.stem for p in files}
        for p in files:
            rows = []
            for line in p.read_text(encoding="utf-8").splitlines():
                s = line.strip()
                if s and not s.startswith("#"):
                    rows.append(s.split())
            label, _, subset = p.stem.rpartition("_")
            is_class = bool(label) and (subset in stems or label in labels or (rows and len(rows[0]) == 2))
            if is_class and rows and len(rows[0]) == 2 and d == "Main":
                for row in rows:
                    if len(row) >= 2 and row[1] == "1":
                        present.setdefault(row[0], set()).add(label)
                continue
            if is_class or any(len(row) != 1 for row in rows):
                continue
            ids = lists.setdefault(p.stem, [])
            for row in rows:
                ids.append(row[0])
                order.append(row[0])
    subset_of: dict[str, str] = {}
    for name, ids in sorted(lists.items(), key=lambda kv: (-len(set(kv[1])), kv[0])):
        for i in ids:
            subset_of[i] = name  # smaller lists come later and win
    return subset_of, present, list(dict.fromkeys(order))
