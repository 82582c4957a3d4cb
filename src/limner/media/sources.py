"""Turn what a user hands in — files, folders, zip archives, URLs — into single image files.

``expand_sources`` never stops for one bad input: a missing path, a non-image file, a hostile or
oversized archive or a failed download becomes a ``Source`` with a ``rejected`` reason, and the
caller lists those next to what it imported.
"""

from __future__ import annotations

import mimetypes
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit


import limner
from limner.errors import LimnerError
from limner.media.archives import iter_zip_images, zip_members_report
from limner.media.images import MAX_IMAGE_BYTES, is_image_name

if TYPE_CHECKING:
    import httpx

__all__ = ["Source", "expand_sources"]

NOT_AN_IMAGE = "not an image extension"


@dataclass(slots=True, frozen=True)
class Source:
    """One candidate image.

    ``name`` is the display name: a file's own name, a path relative to the folder given, the
    path inside a zip, or ``host/path`` of a URL. ``path`` is the local file to read (``None``
    when rejected). ``rejected`` says why the candidate was not taken.
    """

    name: str
    path: Path | None
    rejected: str | None = None

    @property
    def ok(self) -> bool:
        return self.rejected is None


def expand_sources(
    paths: Iterable[str | Path],
    workdir: Path,
    *,
    max_download_bytes: int = MAX_IMAGE_BYTES,
    timeout: float = 30.0,
) -> Iterator[Source]:
    """Yield a ``Source`` for every image found in ``paths``, in order.

    - a file with an image extension is taken as is;
    - a folder is walked recursively in sorted order; hidden files and folders are skipped, other
      files are rejected as "not an image extension";
    - a ``.zip`` file yields its skipped members first, then its images, extracted into a new
      folder in ``workdir``; if the archive is refused, the rejection names the zip;
    - an ``http://`` or ``https://`` URL is downloaded into ``workdir``, at most
      ``max_download_bytes`` and ``timeout`` seconds (per operation and in total).

    Files created in ``workdir`` (created if needed) belong to the caller.
    """
    workdir = Path(workdir)
    client: httpx.Client | None = None
    try:
        for item in paths:
            if isinstance(item, str) and "://" in item:
                if client is None:
                    import httpx  # only when there is a URL to fetch

                    client = httpx.Client(
                        timeout=timeout,
                        follow_redirects=True,
                        headers={"User-Agent": f"limner/{limner.__version__}"},
                    )
                yield _download(client, item, workdir, max_download_bytes, timeout)
            else:
                yield from _local(Path(item), str(item), workdir)
    finally:
        if client is not None:
            client.close()


def _local(path: Path, given: str, workdir: Path) -> Iterator[Source]:
    if path.is_dir():
        yield from _folder(path)
    elif not path.is_file():
        yield Source(given, None, "no such file or folder")
    elif path.suffix.lower() == ".zip":
        yield from _zip(path, workdir)
    elif is_image_name(path.name):
        yield Source(path.name, path)
    else:
        yield Source(path.name, None, NOT_AN_IMAGE)


def _folder(root: Path) -> Iterator[Source]:
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = Path(folder).relative_to(root).as_posix()
        prefix = "" if rel == "." else rel + "/"
        found.extend(prefix + f for f in files if not f.startswith("."))
    for name in sorted(found):
        if is_image_name(name):
            yield Source(name, root / name)
        else:
            yield Source(name, None, NOT_AN_IMAGE)


def _zip(path: Path, workdir: Path) -> Iterator[Source]:
    try:
        for member, reason in zip_members_report(path):
            yield Source(member, None, reason)
        workdir.mkdir(parents=True, exist_ok=True)
        dest = Path(tempfile.mkdtemp(prefix="zip-", dir=workdir))
        for member, extracted in iter_zip_images(path, dest):
            yield Source(member, extracted)
    except LimnerError as exc:
        yield Source(path.name, None, exc.detail)


def _download(client: httpx.Client, url: str, workdir: Path, max_bytes: int, timeout: float) -> Source:
    import httpx

    parts = urlsplit(url)
    name = unquote(parts.netloc + parts.path.rstrip("/")) or url
    if parts.scheme.lower() not in ("http", "https"):
        return Source(name, None, f"unsupported URL scheme {parts.scheme!r} (only http and https)")
    workdir.mkdir(parents=True, exist_ok=True)
    tmp: Path | None = None
    deadline = time.monotonic() + timeout
    try:
        with client.stream("GET", url) as response:
            if not response.is_success:
                return Source(name, None, f"HTTP {response.status_code} {response.reason_phrase}".strip())
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                return Source(name, None, _too_large(int(declared), max_bytes))
            fd, tmp_name = tempfile.mkstemp(prefix="url-", suffix=_suffix(parts.path, response), dir=workdir)
            tmp = Path(tmp_name)
            received = 0
            stopped = None
            with os.fdopen(fd, "wb") as out:
                for chunk in response.iter_bytes():
                    received += len(chunk)
                    if received > max_bytes:
                        stopped = _too_large(received, max_bytes, more=True)
                    elif time.monotonic() > deadline:
                        stopped = f"download took longer than {timeout:g} s"
                    if stopped:
                        break
                    out.write(chunk)
            if stopped is None:
                return Source(name, tmp)
            reason = stopped
    except httpx.TimeoutException:
        reason = f"download timed out after {timeout:g} s"
    except httpx.HTTPError as exc:
        reason = f"download failed: {exc or type(exc).__name__}"
    if tmp is not None:
        tmp.unlink(missing_ok=True)
    return Source(name, None, reason)


def _suffix(url_path: str, response: httpx.Response) -> str:
    """The image extension for a downloaded file, from the URL or else the content type."""
    if is_image_name(url_path):
        return Path(unquote(url_path)).suffix.lower()
    content_type = response.headers.get("content-type", "").split(";")[0].strip()
    return mimetypes.guess_extension(content_type) or ""


def _too_large(size: int, limit: int, *, more: bool = False) -> str:
    amount = f"more than {limit / 1e6:.4g} MB" if more else f"{size / 1e6:.4g} MB"
    return f"download is {amount}, over the {limit / 1e6:.4g} MB limit"
