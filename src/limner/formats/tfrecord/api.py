"""The TF Object Detection API format's entry points: ``read`` (a folder of ``<subset>.tfrecord``
files with their label map, or one TFRecord file; images written out on request), ``write`` (one
TFRecord file per subset and label_map.pbtxt), ``detect``, and the format's registration with
:mod:`limner.formats.registry`."""

from __future__ import annotations

import re
import struct
from pathlib import Path, PurePosixPath

from limner.core.dataset import Dataset, Item
from limner.formats.base import FormatError, Report, atomic_write, no_gc
from limner.formats.registry import Format, register
from limner.formats.tfrecord.convert import _image_size, _label_ids, _text, dataset_to_tf, tf_to_dataset
from limner.formats.tfrecord.example import decode_example
from limner.formats.tfrecord.label_map import LABEL_MAP, format_label_map, parse_label_map
from limner.formats.tfrecord.records import masked_crc32c, read_records, write_records

_RECORD_NAME = re.compile(r"^(?P<subset>.+?)\.(?:tfrecord|record)(?:-\d+-of-\d+)?$", re.I)


# -- reading ------------------------------------------------------------------------------------------


def _record_files(root: Path) -> list[tuple[Path, str]]:
    if root.is_file():
        m = _RECORD_NAME.match(root.name)
        return [(root, m.group("subset") if m else root.stem)]
    out = []
    for p in sorted(root.iterdir()):
        m = _RECORD_NAME.match(p.name)
        if m and p.is_file():
            out.append((p, m.group("subset")))
    return out


def _safe_relative(name: str) -> str:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or not p.parts:
        return p.name or "image"
    return p.as_posix()


def read(path: Path, *, images_dir: Path | None = None, **options) -> tuple[Dataset, Report]:
    """Read a folder of ``<subset>.tfrecord`` files (with label_map.pbtxt), or one TFRecord file.
    ``images_dir``: where to write the images the records hold (``Item.image`` then points there);
    without it the images stay in the records and ``Item.image`` is None."""
    root = Path(path)
    report = Report(format="TF Object Detection API")
    folder = root.parent if root.is_file() else root
    lm_path = folder / LABEL_MAP
    if not lm_path.is_file():
        lm_path = next((p for p in sorted(folder.glob("*.pbtxt")) if "label" in p.name), lm_path)
    label_map = parse_label_map(lm_path.read_text(encoding="utf-8"), lm_path) if lm_path.is_file() else None
    files = _record_files(root)
    if not files:
        raise FormatError(root, "no .tfrecord files here")
    out_dir = Path(images_dir).resolve() if images_dir is not None else None

    def records():
        for file, subset in files:
            for i, data in enumerate(read_records(file)):
                try:
                    feats = decode_example(data)
                except ValueError as e:
                    raise FormatError(file, f"not a tf.train.Example: {e}", key=f"record {i}") from None
                image = None
                if out_dir is not None:
                    fn = feats.get("image/filename", ("bytes", []))[1]
                    enc = feats.get("image/encoded", ("bytes", []))[1]
                    rel = _safe_relative(_text(fn[0])) if fn and fn[0] else None
                    if rel and enc and enc[0]:
                        image = out_dir / rel
                        atomic_write(image, enc[0])
                    elif rel and (out_dir / rel).is_file():
                        image = out_dir / rel
                yield {"features": feats, "subset": None if subset == "default" else subset, "index": i,
                       "file": file, "image": image}  # fmt: skip

    with no_gc():
        return tf_to_dataset(records(), label_map=label_map, report=report)


# -- writing ------------------------------------------------------------------------------------------


def write(dataset: Dataset, path: Path, *, include_images: bool = True, **options) -> Report:
    """Write ``<subset>.tfrecord`` files and label_map.pbtxt into the folder ``path``.
    ``include_images`` (default True: TF OD API trains from the bytes in the records) embeds each
    item's image file."""
    out = Path(path)
    report = Report(format="TF Object Detection API")
    label_ids = _label_ids(dataset)

    def image_bytes(item: Item) -> bytes | None:
        if not include_images:
            return None
        if item.image is not None and Path(item.image).is_file():
            return Path(item.image).read_bytes()
        report.missing_images.append(item.name)
        return None

    def size_of(item: Item):
        if item.image is not None and Path(item.image).is_file():
            return _image_size(Path(item.image))
        return None

    subsets: dict[str, list[Item]] = {}
    for it in dataset.items:
        subsets.setdefault(it.subset or "default", []).append(it)
    for subset, items in subsets.items():
        part = Dataset(dataset.schema, items, dataset.info)
        examples = dataset_to_tf(part, report=report, label_ids=label_ids, image_bytes=image_bytes, size_of=size_of)
        write_records(out / f"{subset}.tfrecord", (data for _, data in examples))
    display = (dataset.info.get("tf_detection_api") or {}).get("display_names") or {}
    atomic_write(out / LABEL_MAP, format_label_map(label_ids, display))
    return report


# -- detection ----------------------------------------------------------------------------------------


def _looks_tfrecord(path: Path) -> int:
    try:
        with open(path, "rb") as f:
            head = f.read(1024)
    except OSError:
        return 0
    if len(head) < 12:
        return 0
    if masked_crc32c(head[:8]) != struct.unpack_from("<I", head, 8)[0]:
        return 0
    return 90 if b"image/" in head else 40


def detect(path: Path) -> int:
    """90 for TFRecord files (their first record's length CRC checks) with ``image/`` keys in the
    first KB, or a folder of them; 40 for other TFRecord files."""
    root = Path(path)
    try:
        files = _record_files(root) if root.is_dir() or _RECORD_NAME.match(root.name) else []
    except OSError:
        return 0
    if not files:
        return 0
    return _looks_tfrecord(files[0][0])


register(Format("tf_detection_api", "TensorFlow Object Detection API (TFRecord of tf.train.Example)", read, write, detect))
