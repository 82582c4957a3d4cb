"""The folder layouts: image suffixes, Ultralytics' image-to-label path rule, image sizes from
the headers, the images of each split (folders or .txt lists) of the Ultralytics, darknet
(``obj.data``) and loose (``images/``, ``Images/`` + ``Annotations/``) layouts with the label path of
an image, the class names file, and copying a file in."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from limner.formats.base import FormatError
from limner.formats.yolo.data_yaml import _load_yaml, _yaml_in

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".dng", ".mpo", ".pfm", ".heic", ".avif", ".jp2"}
)
_SPLITS = ("train", "val", "test", "minival")


def _is_image(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES


def _label_path(image: str) -> str:
    """Ultralytics' img2label_paths: the last /images/ becomes /labels/, the suffix .txt."""
    sa, sb = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    return sb.join(image.rsplit(sa, 1)).rsplit(".", 1)[0] + ".txt"


# -- I/O -------------------------------------------------------------------------------------------


def _walk_images(folder: Path) -> list[Path]:
    out = []
    for dirpath, dirs, files in os.walk(folder):
        dirs.sort()
        out.extend(Path(dirpath, f) for f in sorted(files) if _is_image(f))
    return out


def _list_file(txt: Path, root: Path) -> list[Path]:
    out = []
    for line in txt.read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        p = Path(s)
        if s.startswith("./"):
            p = txt.parent / s[2:]
        elif not p.is_absolute():
            cands = [txt.parent / s, root / s]
            if "/" in s:
                cands.append(root / s.split("/", 1)[1])  # darknet's data/...
            p = next((c for c in cands if c.exists()), cands[-1])
        out.append(p)
    return out


def _splits(path: Path) -> tuple[str, Path, dict, list[tuple[str | None, list[Path]]], Callable[[str], str]]:
    """(layout, root, yaml doc or {}, [(subset, images)], label_of)."""
    if path.is_file():
        yml, root = path, path.parent
    else:
        yml, root = _yaml_in(path), path
    if yml is not None:
        doc = _load_yaml(yml)
        base = yml.parent
        if isinstance(doc.get("path"), str) and doc["path"]:
            p = Path(doc["path"])
            p = p if p.is_absolute() else base / p
            root = p if p.is_dir() else base
        else:
            root = base
        keys = [k for k in _SPLITS if doc.get(k)]
        keys += [k for k, v in doc.items() if k not in keys and isinstance(v, str) and v.startswith("images/")]
        splits = []
        for k in keys:
            imgs: list[Path] = []
            for e in doc[k] if isinstance(doc[k], list) else [doc[k]]:
                p = root / str(e)
                if not p.exists() and str(e).startswith("../"):
                    p = root / str(e)[3:]
                if p.is_dir():
                    imgs += _walk_images(p)
                elif p.is_file():
                    imgs += _list_file(p, root)
            splits.append((k, imgs))
        return "ultralytics", root, doc, splits, _label_path
    root = path
    if (root / "obj.data").is_file():
        doc = {}
        for n, line in enumerate((root / "obj.data").read_text(encoding="utf-8").splitlines(), 1):
            if line.strip() and not line.lstrip().startswith("#"):
                if "=" not in line:
                    raise FormatError(root / "obj.data", f"expected key = value, got {line.strip()!r}", line=n)
                k, v = line.split("=", 1)
                doc[k.strip()] = v.strip()
        splits = []
        for k, subset in (("train", "train"), ("valid", "val"), ("test", "test")):
            if doc.get(k):
                txt = root / doc[k]
                if not txt.is_file() and "/" in doc[k]:
                    txt = root / doc[k].split("/", 1)[1]
                if txt.is_file():
                    splits.append((subset, _list_file(txt, root)))
        return "darknet", root, doc, splits, _label_path
    if (root / "Images").is_dir() and (root / "Annotations").is_dir():
        imgs_root, lab_root = str(root / "Images"), str(root / "Annotations")

        def label_of(img: str) -> str:
            return os.path.splitext(lab_root + img[len(imgs_root) :])[0] + ".txt"

        return "loose", root, {}, [(None, _walk_images(root / "Images"))], label_of
    if (root / "images").is_dir():
        splits = [(None, [p for p in sorted((root / "images").iterdir()) if p.is_file() and _is_image(p.name)])]
        splits += [(d.name, _walk_images(d)) for d in sorted((root / "images").iterdir()) if d.is_dir()]
        return "loose", root, {}, [s for s in splits if s[1] or s[0]], _label_path
    return "loose", root, {}, [(None, [p for p in sorted(root.iterdir()) if p.is_file() and _is_image(p.name)])], _label_path


def _names_file(root: Path) -> Path | None:
    for n in ("obj.names", "classes.txt", "classes.names"):
        if (root / n).is_file():
            return root / n
    return None
