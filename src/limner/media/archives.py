"""Zip archives of images, opened defensively.

Two functions share one check of the archive's directory, done before anything is extracted:

- ``zip_members_report(zip_path)`` lists the members that will be skipped, with the reason
  (``[("readme.txt", "not an image extension"), …]``), reading only the directory;
- ``iter_zip_images(zip_path, dest)`` extracts the image members one at a time and yields
  ``(name inside the zip, extracted file)``.

A caller that wants a full account calls the first, then iterates the second. Directories, hidden
files (including ``.DS_Store`` and ``._*``), ``__MACOSX/`` and ``Thumbs.db`` are skipped silently.

The whole archive is refused with ``ValidationError`` (naming the zip and the member) when any
member is a symbolic link, has an absolute path or a normalised path that climbs out of the
archive folder (``../evil.jpg``), or cannot be read. ``PayloadTooLarge`` stops it when it has more
than ``max_files`` entries, when the image members declare more than ``max_total_bytes`` together,
or when an image member over 16 MiB declares more than ``max_ratio`` times its compressed size.
The same limits are enforced on the bytes actually decompressed, and a member that yields more
than its header declares is refused, so a lying header gains nothing.
"""

from __future__ import annotations

import posixpath
import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from limner.errors import PayloadTooLarge, ValidationError
from limner.media.images import is_image_name

__all__ = [
    "DEFAULT_MAX_FILES",
    "DEFAULT_MAX_TOTAL_BYTES",
    "DEFAULT_MAX_RATIO",
    "extract_all",
    "iter_zip_images",
    "zip_members_report",
]

DEFAULT_MAX_FILES = 100_000
DEFAULT_MAX_TOTAL_BYTES = 20 * 1024**3
DEFAULT_MAX_RATIO = 200

_RATIO_FLOOR = 16 << 20  # smaller members are bounded by the total limit; flat masks compress ~1000x
_CHUNK = 1 << 20
_JUNK_FILES = {"thumbs.db", "desktop.ini"}
_DRIVE = re.compile(r"^[A-Za-z]:")
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError)


def zip_members_report(
    zip_path: Path,
    *,
    name: str | None = None,
    max_files: int = DEFAULT_MAX_FILES,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    max_ratio: float = DEFAULT_MAX_RATIO,
) -> list[tuple[str, str]]:
    """The members ``iter_zip_images`` will skip, as ``(name inside the zip, reason)``.

    Reads only the archive directory and raises exactly what ``iter_zip_images`` raises before
    its first extraction. ``name`` is how the archive is shown in errors (default: file name).
    """
    label = name or Path(zip_path).name
    with _open_zip(zip_path, label) as zf:
        _images, skipped = _scan(zf, label, max_files, max_total_bytes, max_ratio)
    return skipped


def iter_zip_images(
    zip_path: Path,
    dest: Path,
    *,
    name: str | None = None,
    max_files: int = DEFAULT_MAX_FILES,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    max_ratio: float = DEFAULT_MAX_RATIO,
) -> Iterator[tuple[str, Path]]:
    """Extract the image members of a zip into ``dest``, yielding ``(name, path)`` one at a time.

    ``name`` is the member's normalised path inside the zip (duplicates in the archive are
    yielded twice); ``path`` is a fresh file in ``dest`` (created if needed) with a numbered name
    and the member's extension. The caller owns ``dest`` and the files in it. Every check on the
    archive directory runs before the first file is written.
    """
    label = name or Path(zip_path).name
    with _open_zip(zip_path, label) as zf:
        images, _skipped = _scan(zf, label, max_files, max_total_bytes, max_ratio)
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        total = 0
        for index, (member, info) in enumerate(images):
            target = dest / f"{index:06d}{posixpath.splitext(member)[1].lower()}"
            try:
                total = _extract(zf, info, member, target, label, total, max_total_bytes, max_ratio)
            except BaseException:
                target.unlink(missing_ok=True)
                raise
            yield member, target


def extract_all(
    zip_path: Path,
    dest: Path,
    *,
    name: str | None = None,
    max_files: int = DEFAULT_MAX_FILES,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    max_ratio: float = DEFAULT_MAX_RATIO,
) -> list[str]:
    """Extract every member (a whole dataset: annotation files and images) at its own relative
    path under ``dest``, with the same refusals and limits as the image functions, counting all
    members. Returns the extracted names."""
    label = name or Path(zip_path).name
    dest = Path(dest)
    out: list[str] = []
    with _open_zip(zip_path, label) as zf:
        infos = zf.infolist()
        if len(infos) > max_files:
            raise PayloadTooLarge(f"{label}: archive has {len(infos):,} entries, over the limit of {max_files:,}", field=label)
        members = []
        declared = 0
        for info in infos:
            member = _safe_name(info, label)
            if info.is_dir() or _is_junk(member):
                continue
            if _ratio_exceeded(info.file_size, info.compress_size, max_ratio):
                raise _ratio_error(label, member, info.file_size, info.compress_size, max_ratio)
            declared += info.file_size
            if declared > max_total_bytes:
                raise PayloadTooLarge(
                    f"{label}: the archive declares more than {_size(max_total_bytes)} uncompressed", field=label
                )
            members.append((member, info))
        total = 0
        for member, info in members:
            target = dest.joinpath(*member.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                total = _extract(zf, info, member, target, label, total, max_total_bytes, max_ratio)
            except BaseException:
                target.unlink(missing_ok=True)
                raise
            out.append(member)
    return out


def _open_zip(zip_path: Path, label: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValidationError(f"{label}: not a readable zip archive ({exc})", field=label) from None


def _scan(
    zf: zipfile.ZipFile, label: str, max_files: int, max_total_bytes: int, max_ratio: float
) -> tuple[list[tuple[str, zipfile.ZipInfo]], list[tuple[str, str]]]:
    """Check every directory entry; return the image members and the skipped ones."""
    infos = zf.infolist()
    if len(infos) > max_files:
        raise PayloadTooLarge(
            f"{label}: archive has {len(infos):,} entries, over the limit of {max_files:,}",
            field=label,
        )
    images: list[tuple[str, zipfile.ZipInfo]] = []
    skipped: list[tuple[str, str]] = []
    declared = 0
    for info in infos:
        member = _safe_name(info, label)
        if info.is_dir() or _is_junk(member):
            continue
        if not is_image_name(member):
            skipped.append((member, "not an image extension"))
            continue
        if info.flag_bits & 0x1:
            skipped.append((member, "encrypted"))
            continue
        if _ratio_exceeded(info.file_size, info.compress_size, max_ratio):
            raise _ratio_error(label, member, info.file_size, info.compress_size, max_ratio)
        declared += info.file_size
        if declared > max_total_bytes:
            raise PayloadTooLarge(
                f"{label}: images in the archive declare more than {_size(max_total_bytes)} "
                f"uncompressed (limit reached at {member!r})",
                field=label,
            )
        images.append((member, info))
    return images, skipped


def _safe_name(info: zipfile.ZipInfo, label: str) -> str:
    """The member's normalised relative path; refuse links, absolute and escaping paths."""
    raw = info.filename
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ValidationError(
            f"{label}: member {raw!r} is a symbolic link; archive refused", field=label
        )
    unified = raw.replace("\\", "/")
    if unified.startswith("/") or _DRIVE.match(unified):
        raise ValidationError(
            f"{label}: member {raw!r} has an absolute path; archive refused", field=label
        )
    normal = posixpath.normpath(unified) if unified else "."
    if normal == ".." or normal.startswith("../"):
        raise ValidationError(
            f"{label}: member {raw!r} points outside the archive folder; archive refused",
            field=label,
        )
    return normal


def _is_junk(member: str) -> bool:
    parts = member.split("/")
    return (
        member == "."
        or parts[-1].lower() in _JUNK_FILES
        or any(part == "__MACOSX" or part.startswith(".") for part in parts)
    )


def _ratio_exceeded(size: int, compressed: int, max_ratio: float) -> bool:
    return size > _RATIO_FLOOR and size > max_ratio * max(compressed, 1)


def _extract(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    member: str,
    target: Path,
    label: str,
    total: int,
    max_total_bytes: int,
    max_ratio: float,
) -> int:
    """Copy one member to ``target`` counting real bytes; return the new running total."""
    written = 0
    with open(target, "wb") as out:
        try:
            src = zf.open(info)
        except _READ_ERRORS as exc:
            raise _unreadable(label, member, exc) from None
        with src:
            while True:
                try:
                    chunk = src.read(_CHUNK)
                except _READ_ERRORS as exc:
                    raise _unreadable(label, member, exc) from None
                if not chunk:
                    break
                written += len(chunk)
                total += len(chunk)
                if written > info.file_size:
                    raise ValidationError(
                        f"{label}: member {member!r} holds more data than its header declares "
                        f"({info.file_size:,} bytes); archive refused",
                        field=label,
                    )
                if total > max_total_bytes:
                    raise PayloadTooLarge(
                        f"{label}: images in the archive expand to more than "
                        f"{_size(max_total_bytes)} (limit reached at {member!r})",
                        field=label,
                    )
                if _ratio_exceeded(written, info.compress_size, max_ratio):
                    raise _ratio_error(label, member, written, info.compress_size, max_ratio)
                out.write(chunk)
    return total


def _unreadable(label: str, member: str, exc: BaseException) -> ValidationError:
    return ValidationError(f"{label}: cannot read member {member!r} ({exc})", field=label)


def _ratio_error(label: str, member: str, size: int, compressed: int, max_ratio: float) -> PayloadTooLarge:
    ratio = size / max(compressed, 1)
    return PayloadTooLarge(
        f"{label}: member {member!r} expands {ratio:,.0f} times ({_size(compressed)} to "
        f"{_size(size)}), over the limit of {max_ratio:g} times (possible zip bomb)",
        field=label,
    )


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.4g} {unit}"
    return f"{n} bytes"
