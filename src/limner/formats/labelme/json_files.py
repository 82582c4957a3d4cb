"""The "labelme" format's files: the ``<image>.json`` files of a folder (told from other JSON by a
look at their first and last bytes) read with their images found from ``imagePath``, one file
written per item beside its image name (images copied or embedded on request), and detection."""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path, PureWindowsPath

from limner.core.dataset import Dataset, Item
from limner.formats.base import FormatError, Report, atomic_write, load_json, no_gc
from limner.formats.labelme.convert import VERSION, item_to_labelme, labelme_to_item

_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif")


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return [p for p in sorted(path.rglob("*.json")) if _looks_labelme(p)]


def read(path: Path, **options) -> tuple[Dataset, Report]:
    """Read one labelme JSON file or every labelme JSON file under a folder."""
    path = Path(path).absolute()
    root = path.parent if path.is_file() else path
    files = _files(path)
    if not files:
        raise FormatError(path, "no labelme JSON files (objects with 'shapes' and 'imagePath') here")
    ds, report = Dataset(), Report(format="labelme")
    with no_gc():
        for file in files:
            data = load_json(file)
            if not isinstance(data, dict):
                raise FormatError(file, "a labelme file is a JSON object", key="(root)")
            ip = data.get("imagePath")
            if ip is not None and not isinstance(ip, str):
                raise FormatError(file, f"imagePath must be text, got {ip!r}", key="imagePath")
            image = None
            if ip:
                image = Path(os.path.normpath(file.parent / PureWindowsPath(ip).as_posix()))
            else:
                image = next((file.with_suffix(e) for e in _EXTS if file.with_suffix(e).is_file()), file.with_suffix(".jpg"))
            try:
                name = image.relative_to(root).as_posix()
            except ValueError:
                name = file.relative_to(root).with_suffix(image.suffix).as_posix()
            found = image.is_file()
            if not found:
                report.missing_images.append(name)
                if data.get("imageData"):
                    report.drop("embedded images (imageData) not kept")
            ds.items.append(labelme_to_item(data, ds, report, name=name, image=image if found else None, file=file))
            ds.info.setdefault("labelme", {"version": data.get("version") or VERSION})
    report.items = len(ds.items)
    report.shapes = ds.shape_count
    return ds, report


def write(dataset: Dataset, path: Path, *, include_images: bool = False, embed_images: bool = False, **options) -> Report:
    """Write one labelme JSON per item at ``<path>/<item name>.json`` (imagePath beside it)."""
    import orjson

    root = Path(path)
    report = Report(format="labelme")
    subsets = 0
    for item in dataset.items:
        if item.subset and not item.name.startswith(item.subset + "/"):
            subsets += 1
        rel = Path(item.name)
        if item.width is None or item.height is None:
            if item.image is not None and Path(item.image).is_file():
                from PIL import Image

                with Image.open(item.image) as im:
                    item_w, item_h = im.size
                item = Item(item.name, item_w, item_h, item.shapes, item.subset, item.metadata, item.image)
        has_image = item.image is not None and Path(item.image).is_file()
        data = base64.b64encode(Path(item.image).read_bytes()).decode("ascii") if embed_images and has_image else None
        obj = item_to_labelme(item, dataset, report, image_path=rel.name, image_data=data)
        atomic_write(root / rel.with_suffix(".json"), orjson.dumps(obj, option=orjson.OPT_INDENT_2))
        if include_images:
            if has_image:
                dest = root / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                if Path(item.image).resolve() != dest.resolve():
                    shutil.copyfile(item.image, dest)
            else:
                report.missing_images.append(item.name)
    if subsets:
        report.drop("subsets not representable (labelme has no splits)", subsets)
    report.items = len(dataset.items)
    report.shapes = dataset.shape_count
    return report


def _looks_labelme(p: Path) -> bool:
    try:
        size = p.stat().st_size
        with open(p, "rb") as f:
            head = f.read(4096)
            f.seek(max(0, size - 1024))
            tail = f.read(1024)
    except OSError:
        return False
    return (
        head.lstrip().startswith(b"{")
        and b'"shapes"' in head
        and b'"_via_' not in head
        and (b'"imagePath"' in head + tail or b'"imageWidth"' in head + tail)
    )


def detect(path: Path) -> int:
    path = Path(path)
    if path.is_file():
        return 90 if path.suffix.lower() == ".json" and _looks_labelme(path) else 0
    if path.is_dir():
        for i, p in enumerate(path.rglob("*.json")):
            if _looks_labelme(p):
                return 85
            if i >= 20:
                break
    return 0
