"""The CVAT formats' entry points: ``read`` (a CVAT XML file, or a folder with annotations.xml or
``<subset>.xml`` files), ``write`` (CVAT for images, or for video), ``detect``, and the registration of
"cvat" and "cvat_video" with :mod:`limner.formats.registry`."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from limner.core.dataset import Dataset
from limner.formats.base import FormatError, Report, no_gc, peek
from limner.formats.cvat.meta import _label_xml
from limner.formats.cvat.reading import _read_file
from limner.formats.cvat.shapes import _Reader
from limner.formats.cvat.writing import _image_chunks, _stream, _video_chunks
from limner.formats.registry import Format, register

# ---------------------------------------------------------------------------------------- reading


def _xml_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if (path / "annotations.xml").is_file():
        return [path / "annotations.xml"]
    return [p for p in sorted(path.glob("*.xml")) if _looks_cvat(p)]


def read(path: Path, **options) -> tuple[Dataset, Report]:
    """Read CVAT for images / for video XML: a file, or a folder with annotations.xml or <subset>.xml."""
    path = Path(path).absolute()
    files = _xml_files(path)
    if not files:
        raise FormatError(path, "no CVAT XML file (annotations.xml or *.xml with <annotations>) here")
    ds, report = Dataset(), Report(format="CVAT")
    info = ds.info.setdefault("cvat", {"version": "1.1"})
    rd = _Reader(ds, report)
    with no_gc():
        for xml in files:
            _read_file(xml, rd, info, options)
    report.items = len(ds.items)
    report.shapes = ds.shape_count
    return ds, report


# ---------------------------------------------------------------------------------------- writing


def write(dataset: Dataset, path: Path, *, include_images: bool = False, video: bool = False, **options) -> Report:
    """Write ``annotations.xml`` (CVAT for images, or for video with ``video=True``) under ``path``
    (or to ``path`` itself when it ends in .xml), streaming one image or track at a time."""
    path = Path(path)
    xml = path if path.suffix.lower() == ".xml" else path / "annotations.xml"
    report = Report(format="CVAT for video" if video else "CVAT for images")
    info = dataset.info.get("cvat", {})
    extras = info.get("attributes", {})
    labels = "".join(_label_xml(lb, extras) for lb in dataset.schema)
    name = escape(str(info.get("name") or "limner"))
    gen = _video_chunks if video else _image_chunks
    _stream(xml, gen(dataset, xml.parent, name, labels, include_images, report))
    report.items = len(dataset.items)
    report.shapes = dataset.shape_count
    return report


# ---------------------------------------------------------------------------------------- detection


def _looks_cvat(p: Path) -> bool:
    head = peek(p)
    return b"<annotations" in head and (b"<version>" in head or b"<meta>" in head)


def detect(path: Path) -> int:
    path = Path(path)
    if path.is_file():
        return 95 if path.suffix.lower() == ".xml" and _looks_cvat(path) else 0
    if path.is_dir():
        if (path / "annotations.xml").is_file() and _looks_cvat(path / "annotations.xml"):
            return 95
        if any(_looks_cvat(p) for p in sorted(path.glob("*.xml"))[:20]):
            return 90
    return 0


register(Format("cvat", "CVAT XML 1.1 for images (also reads CVAT for video)", read, write, detect))
register(Format("cvat_video", "CVAT XML 1.1 for video (tracks)", read, lambda ds, path, **o: write(ds, path, video=True, **o)))
