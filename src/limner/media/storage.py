"""Where image bytes live: a local folder by default, S3-compatible object storage for teams.

A storage maps *keys* to bytes. Keys are relative POSIX paths chosen by the caller (for example
``"ab/cdef0123….jpg"``); absolute keys and keys with ``.`` or ``..`` segments are refused with
``ValueError`` so no key can reach outside the store. Every write is atomic: readers see the old
bytes or the new ones, never half a file.
"""

from __future__ import annotations

import mimetypes
import os
import secrets
import shutil
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import unquote, urlsplit

from limner.errors import LimnerError

__all__ = ["Storage", "LocalStorage", "S3Storage", "storage_from_url", "check_key"]


def check_key(key: str) -> str:
    """Return ``key`` if it is a safe relative POSIX path, else raise ``ValueError``."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"storage key must be a non-empty string, got {key!r}")
    if key.startswith("/") or "\\" in key or "\x00" in key or (len(key) > 1 and key[1] == ":"):
        raise ValueError(f"storage key must be a relative POSIX path, got {key!r}")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(f"storage key must not contain empty, '.' or '..' segments, got {key!r}")
    return key


class Storage(Protocol):
    """What the rest of Limner needs from a place that keeps image bytes."""

    is_local: bool

    def put_file(self, key: str, src: Path, *, link: bool = False) -> None: ...
    def put_bytes(self, key: str, data: bytes) -> None: ...
    def open(self, key: str) -> BinaryIO: ...
    def path(self, key: str) -> Path: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def size(self, key: str) -> int: ...


class LocalStorage:
    """A folder on the local disk; folders under it are created on demand.

    Missing keys raise ``FileNotFoundError`` from ``open``, ``path`` and ``size``.
    """

    is_local = True

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _target(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def _temp_beside(self, dest: Path) -> Path:
        dest.parent.mkdir(parents=True, exist_ok=True)
        return dest.with_name(f".{dest.name}.{secrets.token_hex(6)}.tmp")

    def put_file(self, key: str, src: Path, *, link: bool = False) -> None:
        """Store a copy of ``src`` under ``key``, replacing any previous bytes atomically.

        ``link=True`` hard-links instead of copying when ``src`` is on the same filesystem (for
        temporary files the caller owns); the default copies, so a later in-place edit of a
        user's original cannot change the stored bytes.
        """
        dest = self._target(key)
        tmp = self._temp_beside(dest)
        try:
            if link:
                try:
                    os.link(src, tmp)
                except OSError:
                    shutil.copyfile(src, tmp)
            else:
                shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing any previous bytes atomically."""
        dest = self._target(key)
        tmp = self._temp_beside(dest)
        try:
            with open(tmp, "xb") as out:
                out.write(data)
            os.replace(tmp, dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def open(self, key: str) -> BinaryIO:
        """Open the stored bytes for reading (a seekable binary file)."""
        return open(self._target(key), "rb")

    def path(self, key: str) -> Path:
        """The local file holding ``key`` (for sendfile); it must exist."""
        target = self._target(key)
        if not target.is_file():
            raise FileNotFoundError(f"no stored file for key {key!r} in {self.root}")
        return target

    def exists(self, key: str) -> bool:
        return self._target(key).is_file()

    def delete(self, key: str) -> None:
        """Remove ``key``; a key that is already gone is fine."""
        self._target(key).unlink(missing_ok=True)

    def size(self, key: str) -> int:
        return self._target(key).stat().st_size


class S3Storage:
    """A bucket (and key prefix) on S3 or any S3-compatible service, through boto3.

    The endpoint, region and credentials come from boto3's usual configuration (for example
    ``AWS_ENDPOINT_URL`` for MinIO) unless ``endpoint_url`` is given. Objects have no local path:
    ``path`` raises ``LimnerError`` and ``open`` returns a non-seekable stream.
    """

    is_local = False

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None, client=None):
        if client is None:
            try:
                import boto3
            except ImportError:
                raise LimnerError("S3 storage needs boto3: pip install 'limner[s3]'") from None
            client = boto3.client("s3", endpoint_url=endpoint_url)
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    def __repr__(self) -> str:
        return f"S3Storage({self.bucket!r}, {self.prefix!r})"

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _head(self, key: str) -> dict | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def put_file(self, key: str, src: Path, *, link: bool = False) -> None:
        """Upload ``src``; an object appears whole or not at all. ``link`` has no effect here."""
        mime = mimetypes.guess_type(key)[0]
        extra = {"ContentType": mime} if mime else None
        self.client.upload_file(str(src), self.bucket, self._key(key), ExtraArgs=extra)

    def put_bytes(self, key: str, data: bytes) -> None:
        mime = mimetypes.guess_type(key)[0] or "application/octet-stream"
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=mime)

    def open(self, key: str) -> BinaryIO:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(f"no stored object for key {key!r} in {self!r}") from None

    def path(self, key: str) -> Path:
        raise LimnerError("S3 objects have no local path; read them with open()")

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise FileNotFoundError(f"no stored object for key {key!r} in {self!r}")
        return int(head["ContentLength"])


def storage_from_url(url_or_path: str | Path) -> LocalStorage | S3Storage:
    """Build the storage named by a folder path, a ``file://`` URL or ``s3://bucket/prefix``."""
    if isinstance(url_or_path, Path) or "://" not in url_or_path:
        return LocalStorage(Path(url_or_path).expanduser())
    parts = urlsplit(url_or_path)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise LimnerError(f"file:// storage URL must be local, got host {parts.netloc!r}")
        return LocalStorage(Path(unquote(parts.path)))
    if parts.scheme == "s3":
        if not parts.netloc:
            raise LimnerError(f"s3:// storage URL needs a bucket: {url_or_path!r}")
        return S3Storage(parts.netloc, unquote(parts.path))
    raise LimnerError(
        f"unsupported storage URL {url_or_path!r}: use a folder path, file:///path or s3://bucket/prefix"
    )
