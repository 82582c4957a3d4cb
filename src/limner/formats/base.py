"""What every format module shares: its error type, its report, and atomic file writing.

A format is a module of ~300 lines of functions, or a package of such modules for the big ones
(see formats/coco/): pure converters between the format's records and `core.Dataset`, and `read(path, **options) -> (Dataset, Report)` /
`write(dataset, path, **options) -> Report` as the only I/O, registered with
`limner.formats.register`.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from limner.core.collector import no_gc
from limner.errors import ValidationError

__all__ = ["FormatError", "Report", "atomic_copy", "copy_images", "atomic_write", "JsonPieces", "NewFolder", "NewFolders", "image_size", "item_size",
           "load_json", "load_json_pieces", "no_gc", "parse_xml", "peek"]


class FormatError(ValidationError):
    """A file that cannot be read as the format says; the message names the file and the line,
    key or element."""

    def __init__(self, file: str | Path, message: str, *, line: int | None = None, key: str | None = None):
        where = str(file) + (f":{line}" if line is not None else "") + (f" ({key})" if key else "")
        super().__init__(f"{where}: {message}", field=key)
        self.file = str(file)
        self.line = line
        self.key = key


@dataclass
class Report:
    """What a read or a write could not carry over, counted, and the problems met, each named.

    `drop("polygons written as their bounding boxes")` counts a conversion; `summary()` prints
    "YOLO detect: 37 polygons written as their bounding boxes".
    """

    format: str = ""
    dropped: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    missing_images: list[str] = field(default_factory=list)
    items: int = 0
    shapes: int = 0

    def drop(self, what: str, n: int = 1) -> None:
        self.dropped[what] += n

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def unrepresentable(self, shape, *fields: str) -> None:
        """Count the named fields of a shape that hold something the format cannot store
        (attributes, z_order, track_id, source, confidence)."""
        for f in fields:
            if f == "attributes" and shape.attributes:
                self.drop("attributes not representable")
            elif f == "z_order" and shape.z_order:
                self.drop("z-orders not representable")
            elif f == "track_id" and shape.track_id is not None:
                self.drop("track ids not representable")
            elif f == "source" and shape.source and shape.source != "manual":
                self.drop("sources not representable")
            elif f == "confidence" and shape.confidence is not None:
                self.drop("confidences not representable")

    def summary(self) -> list[str]:
        lines = [f"{self.format}: {n} {what}" for what, n in sorted(self.dropped.items())]
        if self.missing_images:
            lines.append(f"{self.format}: {len(self.missing_images)} images not found (e.g. {self.missing_images[0]})")
        lines += self.problems
        return lines

    def merge(self, other: Report) -> None:
        """Add what ``other`` counted and met after what this one did (a part of the same work)."""
        self.dropped.update(other.dropped)
        self.problems += other.problems
        self.missing_images += other.missing_images
        self.items += other.items
        self.shapes += other.shapes

    def to_dict(self) -> dict:
        return {
            "format": self.format,
            "items": self.items,
            "shapes": self.shapes,
            "dropped": dict(self.dropped),
            "problems": self.problems,
            "missing_images": self.missing_images,
            "summary": self.summary(),
        }


_made_dirs: set[str] = set()


def _write_all(fd: int, raw: bytes) -> None:
    """Write all of ``raw`` to the open file ``fd`` (os.write may write less), then close it."""
    try:
        view = memoryview(raw)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write a whole file or nothing: a temporary file beside it, then os.replace.

    Writers of one file per image call this tens of thousands of times, so it costs three system
    calls in the common case: folders already made are remembered, and the temporary name is
    fixed per target (a concurrent writer of the same target is not a case here).
    """
    path = Path(path)
    parent = str(path.parent)
    if parent not in _made_dirs:
        path.parent.mkdir(parents=True, exist_ok=True)
        _made_dirs.add(parent)
    tmp = os.path.join(parent, f".{path.name}.tmp")
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except FileNotFoundError:  # the folder was removed since it was remembered
        _made_dirs.discard(parent)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        _write_all(fd, raw)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class NewFolder:
    """Many files for one folder, written whole or not at all, at one file-system operation each.

    When ``target`` does not exist yet, files go straight into a hidden folder beside it, which
    is renamed to ``target`` when the ``with`` block ends without an error (and removed when it
    ends with one): one rename for the folder instead of a temporary file and a rename per file.
    When ``target`` exists (writing into an earlier export), each file is written by
    :func:`atomic_write` in place.
    """

    def __init__(self, target: Path):
        import uuid

        self.target = Path(target)
        self.fresh = not self.target.exists()
        self.root = self.target.parent / f".{self.target.name}.partial-{uuid.uuid4().hex[:8]}" if self.fresh else self.target
        self._dirs: set[str] = set()

    def write(self, rel: str, data: bytes | str) -> None:
        """Write the file ``rel`` (a POSIX path below the folder)."""
        if not self.fresh:
            atomic_write(self.root / rel, data)
            return
        path = os.path.join(self.root, rel)
        parent = os.path.dirname(path)
        if parent not in self._dirs:
            os.makedirs(parent, exist_ok=True)
            self._dirs.add(parent)
        raw = data.encode("utf-8") if isinstance(data, str) else data
        _write_all(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), raw)

    def __enter__(self) -> NewFolder:
        if self.fresh:
            self.root.mkdir(parents=True)
        return self

    def __exit__(self, kind, error, tb) -> None:
        if not self.fresh:
            return
        if kind is not None:
            import shutil

            shutil.rmtree(self.root, ignore_errors=True)
            return
        try:
            os.rename(self.root, self.target)
        except OSError:  # the target appeared meanwhile: move the files in one by one
            import shutil

            for src in sorted(p for p in self.root.rglob("*") if p.is_file()):
                dst = self.target / src.relative_to(self.root)
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
            shutil.rmtree(self.root, ignore_errors=True)


class NewFolders:
    """:class:`NewFolder` for each top folder of the files written below ``root``, made on the
    first file written there (``Annotations/x.xml`` goes to the NewFolder of ``root/Annotations``)
    and all committed, or all removed, together when the ``with`` block ends."""

    def __init__(self, root: Path):
        import contextlib

        self.root = Path(root)
        self._stack = contextlib.ExitStack()
        self._folders: dict[str, NewFolder] = {}

    def write(self, rel: str, data: bytes | str) -> None:
        top, _, rest = rel.partition("/")
        if not rest:  # a file of the root itself
            atomic_write(self.root / top, data)
            return
        folder = self._folders.get(top)
        if folder is None:
            folder = self._folders[top] = self._stack.enter_context(NewFolder(self.root / top))
        folder.write(rest, data)

    def __enter__(self) -> NewFolders:
        self.root.mkdir(parents=True, exist_ok=True)
        self._stack.__enter__()
        return self

    def __exit__(self, kind, error, tb) -> bool:
        return self._stack.__exit__(kind, error, tb)


def peek(path: Path, n: int = 4096) -> bytes:
    """The first ``n`` bytes of a file, or b"" when it cannot be read (what format detectors look at)."""
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except OSError:
        return b""


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image file as shown upright (EXIF orientations 5-8 swap them), read
    from its header; OSError when it is not a readable image."""
    from PIL import Image

    with Image.open(path) as im:
        w, h = im.size
        if "exif" in im.info:
            try:
                if im.getexif().get(0x0112, 1) in (5, 6, 7, 8):
                    return h, w
            except Exception:  # damaged EXIF: the stored size
                pass
        return w, h


def item_size(item) -> tuple[int, int] | None:
    """(width, height) of an item: as the dataset gives it, else from its image file, else None."""
    if item.width and item.height:
        return item.width, item.height
    if item.image is not None and Path(item.image).is_file():
        return image_size(Path(item.image))
    return None


def atomic_copy(src: Path, dst: Path) -> None:
    """Copy a file whole or not at all (an image into an export)."""
    import shutil

    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", dir=dst.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def copy_images(items, dest_of, report: Report) -> None:
    """Copy each item's image to ``dest_of(item)`` (atomically); an item whose image is not on
    disk is listed in the report's missing images."""
    for item in items:
        if item.image is not None and Path(item.image).is_file():
            dest = Path(dest_of(item))
            if Path(item.image).resolve() != dest.resolve():
                atomic_copy(Path(item.image), dest)
        else:
            report.missing_images.append(item.name)


def load_json(path: Path) -> Any:
    """Parse a JSON file; a syntax error names the file, line and column."""
    data = Path(path).read_bytes()
    try:
        import orjson

        with no_gc():
            return orjson.loads(data)
    except ImportError:
        pass
    except ValueError:
        pass  # fall through to the standard parser for a precise position
    try:
        return json.loads(data)
    except json.JSONDecodeError as e:
        raise FormatError(path, f"not valid JSON: {e.msg} (column {e.colno})", line=e.lineno) from None
    except UnicodeDecodeError as e:
        raise FormatError(path, f"not UTF-8 text: {e.reason} at byte {e.start}") from None


class JsonPieces:
    """The elements of one big JSON array, parsed a few MB at a time as they are iterated (see
    :func:`load_json_pieces`); each piece is released once iterated, so the parser's working
    memory is that of one piece, not of the whole array."""

    __slots__ = ("path", "data", "bounds")

    def __init__(self, path: Path, data: bytes, bounds: list[tuple[int, int]]):
        self.path, self.data, self.bounds = path, data, bounds

    def __bool__(self) -> bool:
        return True

    def __iter__(self):
        import orjson

        bounds = self.bounds
        self.bounds = []  # iterated once
        if not bounds:
            return
        try:
            with self.bracketed(bounds[0][0], bounds[-1][1]) as array:  # the whole array, in parts
                for part in json_parts(array):
                    yield from part
                    del part
        except orjson.JSONDecodeError:
            load_json(self.path)  # raises with the line and column
            raise FormatError(self.path, "not valid JSON") from None
        finally:
            self.data = None

    def _parse(self, bounds: list[tuple[int, int]], k: int) -> tuple[list, int]:
        """The elements of piece ``k`` and the piece after them: a split that fell inside an
        element (or a string) fails to parse, so the next piece is taken too."""
        import orjson

        a, b = bounds[k]
        while True:
            try:
                with self.bracketed(a, b) as piece:
                    return orjson.loads(piece), k + 1
            except orjson.JSONDecodeError:
                k += 1
                if k == len(bounds):
                    load_json(self.path)  # raises with the line and column
                    raise FormatError(self.path, "not valid JSON") from None
                b = bounds[k][1]

    def bracketed(self, a: int, b: int):
        """Bytes ``a:b`` of the file between ``[`` and ``]`` (see :func:`_bracketed`)."""
        return _bracketed(self.data, a, b)

    def pieces(self, work: Callable[[bytes], Any] | None = None):
        """The pieces in order, each as its list of elements or, with ``work``, as what
        ``work(piece bytes)`` returned for it, here or in a helper process that shares the pieces
        with this one (see :func:`limner.formats.helper.share_pieces`). ``work`` returns None
        for a piece that does not parse alone: it is parsed here, joined to the next, as a list."""
        from limner.formats.helper import share_pieces

        bounds = self.bounds
        self.bounds = []

        def here(k: int):
            if work is not None:  # this process does the same work on its pieces
                with self.bracketed(*bounds[k]) as piece:
                    got = work(piece)
                if got is not None:
                    return got, k + 1
            return self._parse(bounds, k)

        def there(k: int):
            with self.bracketed(*bounds[k]) as piece:
                return work(piece)

        try:
            if work is None:
                k = 0
                while k < len(bounds):
                    part, k = here(k)
                    yield part
            else:
                yield from share_pieces(len(bounds), here, there, size=bounds[-1][1] - bounds[0][0] if bounds else 0)
        finally:
            self.data = None


@contextmanager
def _bracketed(data, a: int, b: int):
    """Bytes ``a:b`` of the writable buffer ``data`` between ``[`` and ``]``, as a view without a
    copy: the byte before and the byte after (a comma, a space, the array's own bracket) are the
    brackets meanwhile, and are put back after."""
    before, after = data[a - 1], data[b]
    data[a - 1], data[b] = 0x5B, 0x5D  # [ ]
    view = memoryview(data)[a - 1 : b + 1]
    try:
        yield view
    finally:
        view.release()
        data[a - 1], data[b] = before, after


_PIECE = 4 << 20  # bytes of JSON parsed at once
_PIECES_FROM = 16 << 20  # files smaller than this are parsed whole
_SPLIT = re.compile(rb"\}\s*,\s*\{")
_CLOSE = re.compile(rb"\}\s*\]")
_PART = 256 << 10  # bytes of JSON parsed at once by json_parts


def json_parts(piece):
    """The elements of a JSON array (``[`` elements ``]``) as lists, a few hundred KB of JSON at
    a time when it is a writable view (each part's bytes are bracketed in place meanwhile), so each
    part's objects reuse the memory of the part before; a part that does not parse alone (a split
    inside a string) is joined to the next. JSONDecodeError when the array does not parse."""
    import orjson

    view = piece if isinstance(piece, memoryview) and not piece.readonly else None
    end = len(piece) - 1  # the closing bracket
    if view is None or end <= 2 * _PART:
        yield orjson.loads(piece)
        return
    a = 1
    while a < end:
        m = _SPLIT.search(view, a + _PART, end) if a + _PART < end else None
        while True:
            b = m.start() + 1 if m is not None else end
            try:
                with _bracketed(view, a, b) as elements:
                    part = orjson.loads(elements)
                break
            except orjson.JSONDecodeError:
                if m is None:
                    raise
                m = _SPLIT.search(view, b, end)
        yield part
        del part
        a = m.end() - 1 if m is not None else end


_MARK = "limner:json-pieces"


def load_json_pieces(path: Path, key: str) -> Any:
    """Parse a JSON file whose top-level object has one big array at ``key`` (COCO's
    ``annotations``): the rest of the file at once, the array as a :class:`JsonPieces` read piece
    by piece. A small file, or one laid out otherwise, is parsed whole (:func:`load_json`); so is
    any file whose pieces cannot be found, and a syntax error names the file, line and column."""
    if os.path.getsize(path) < max(_PIECES_FROM, 4 * _PIECE):
        return load_json(path)
    import mmap

    # a private writable mapping: pieces are parsed in place (JsonPieces.bracketed), and only the
    # pages of the bytes set meanwhile are copied; the file itself is never written
    with open(path, "rb") as f:
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    import orjson

    m = re.compile(rb'"' + re.escape(key.encode()) + rb'"\s*:\s*\[\s*\{').search(data)
    if m is None:
        return load_json(path)
    start = m.end() - 1  # the first element's "{"
    # the array's end: the first "}]" after which the rest of the file parses with the array
    # replaced by a marker (a "}]" inside an element or a string leaves the rest unparseable; a
    # later one would swallow what follows the array, so the first that parses is the one)
    def ends():
        for close in _CLOSE.finditer(data, start):
            yield close.start(), close.end()

    doc, end = None, 0
    for last, after in ends():
        try:
            with no_gc():
                rest = orjson.loads(data[: m.start()] + f'"{key}":"{_MARK}"'.encode() + data[after:])
        except orjson.JSONDecodeError:
            continue
        if type(rest) is dict and rest.get(key) == _MARK:
            doc, end = rest, last + 1  # after the last element's "}"
            break
    if doc is None:
        return load_json(path)
    bounds = []
    a = start
    while True:
        s = _SPLIT.search(data, a + _PIECE, end) if a + _PIECE < end else None
        if s is None:
            bounds.append((a, end))
            break
        bounds.append((a, s.start() + 1))
        a = s.end() - 1
    doc[key] = JsonPieces(Path(path), data, bounds)
    return doc


def parse_xml(path: Path):
    """Parse an XML file safely; errors name the line.

    Entity expansion and external entities need a document type declaration, so a file with none
    is parsed by the standard (C) parser, and one with a DOCTYPE or ENTITY goes through defusedxml,
    which refuses them.
    """
    import xml.etree.ElementTree as ET
    from xml.etree.ElementTree import ParseError

    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException

    data = Path(path).read_bytes()
    try:
        if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
            return ET.ElementTree(DET.fromstring(data))
        return ET.ElementTree(ET.fromstring(data))
    except ParseError as e:
        line = e.position[0] if getattr(e, "position", None) else None
        raise FormatError(path, f"not well-formed XML: {e}", line=line) from None
    except DefusedXmlException as e:
        raise FormatError(path, f"refused XML: {type(e).__name__} (entities and DTDs are not allowed)") from None
    except LookupError as e:  # an XML declaration naming an encoding Python does not know
        raise FormatError(path, f"not readable XML: {e}") from None
