"""Turning files into assets: decode once, hash, thumbnail, store, insert in batches.

Images are probed and stored on worker threads (Pillow releases the GIL while decoding); the
database sees one insert per batch. Storage is content-addressed by SHA-256, so an interrupted
ingest run again skips what it already added (reported as duplicates) and stores nothing twice.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice

from limner.errors import LimnerError
from limner.jobs.runner import register
from limner.store.assets import existing_checksums, insert_assets
from limner.store.db import Database

__all__ = ["IngestReport", "ingest"]

_EXT = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/bmp": "bmp", "image/tiff": "tif", "image/gif": "gif"}


@dataclass
class IngestReport:
    added: list[dict] = field(default_factory=list)
    duplicates: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "added": self.added,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "counts": {"added": len(self.added), "duplicates": len(self.duplicates), "rejected": len(self.rejected)},
        }


def storage_keys(sha256: str, mime: str) -> tuple[str, str]:
    return f"images/{sha256[:2]}/{sha256}.{_EXT.get(mime, 'bin')}", f"thumbs/{sha256[:2]}/{sha256}.jpg"


def _prepare(source, storage, thumb_size: int, max_bytes: int):
    from limner.media.images import probe_image

    if source.rejected:
        return source.name, None, source.rejected
    try:
        info = probe_image(source.path, source.name, thumb_size=thumb_size, max_bytes=max_bytes)
        key, thumb_key = storage_keys(info.sha256, info.mime)
        if not storage.exists(key):
            storage.put_file(key, source.path)
        if not storage.exists(thumb_key):
            storage.put_bytes(thumb_key, info.thumbnail)
    except LimnerError as e:
        return source.name, None, e.detail
    except OSError as e:
        return source.name, None, f"{source.name}: cannot read the file ({e.strerror or e})"
    return source.name, info, None


def _bounded_map(pool: ThreadPoolExecutor, fn, items: Iterable, window: int) -> Iterator:
    """Like pool.map, in order, but with at most `window` items in flight (streams any number)."""
    pending: deque = deque()
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _batches(it: Iterator, n: int) -> Iterator[list]:
    while chunk := list(islice(it, n)):
        yield chunk


def ingest(
    db: Database,
    storage,
    project_id: int,
    sources: Iterable,
    *,
    actor_id: int | None,
    thumb_size: int = 256,
    max_bytes: int = 200 * 1024 * 1024,
    workers: int = 2,
    batch: int = 200,
    total: int | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> IngestReport:
    """Add images to a project; one bad file is reported and the others go in."""
    report = IngestReport()
    done = 0
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="limner-ingest") as pool:
        results = _bounded_map(pool, lambda src: _prepare(src, storage, thumb_size, max_bytes), sources, 4 * workers + 4)
        for chunk in _batches(results, batch):
            rows, names = [], []
            seen: dict[str, str] = {}
            with db.write() as s:
                known = existing_checksums(s, project_id, [i.sha256 for _, i, _ in chunk if i is not None])
                for name, info, reason in chunk:
                    if info is None:
                        report.rejected.append({"name": name, "reason": reason})
                    elif info.sha256 in known:
                        report.duplicates.append({"name": name, "existing_id": known[info.sha256]})
                    elif info.sha256 in seen:
                        report.duplicates.append({"name": name, "same_as": seen[info.sha256]})
                    else:
                        seen[info.sha256] = name
                        key, thumb_key = storage_keys(info.sha256, info.mime)
                        names.append(name)
                        rows.append(
                            {
                                "name": name,
                                "storage_key": key,
                                "thumb_key": thumb_key,
                                "width": info.width,
                                "height": info.height,
                                "checksum": info.sha256,
                                "size_bytes": info.size_bytes,
                                "mime": info.mime,
                                "orientation": info.orientation,
                                "meta": {},
                                "status": "new",
                                "shape_count": 0,
                            }
                        )
                ids = insert_assets(s, project_id, rows, actor_id)
            report.added.extend({"name": n, "id": i} for n, i in zip(names, ids))
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    return report


def internal_host(url: str) -> bool:
    """Whether the URL's host is this machine or a private network (a manager must not make the
    server fetch from inside its own network)."""
    import ipaddress
    import socket
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    try:
        addrs = {ai[4][0] for ai in socket.getaddrinfo(host, None)}
    except OSError:
        return False  # unresolvable: the download itself reports it
    for a in addrs:
        ip = ipaddress.ip_address(a.split("%")[0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
            return True
    return False


def source_paths_allowed(paths: list[str], is_admin: bool, roots: list) -> str | None:
    """Why these server paths may not be imported by this user, or None when they may.

    Public http(s) URLs are open to managers; server paths and internal addresses to
    administrators, and server paths inside the configured import roots (LIMNER_IMPORT_ROOTS)
    to managers.
    """
    from pathlib import Path

    for p in paths:
        if "://" in p:
            if not p.startswith(("http://", "https://")):
                return f"{p}: only http and https URLs can be imported"
            if not is_admin and internal_host(p):
                return f"{p}: only administrators may import from this machine or private network addresses"
            continue
        if is_admin:
            continue
        real = Path(p).resolve()
        if not any(real == r or r in real.parents for r in roots):
            return f"{p}: only administrators may import server paths outside LIMNER_IMPORT_ROOTS"
    return None


@register("assets.import")
def import_job(ctx) -> dict:
    """Job: add images from server paths, zips and URLs, with progress."""
    import tempfile
    from pathlib import Path

    from limner.media.sources import expand_sources

    svc = ctx.services
    with tempfile.TemporaryDirectory(prefix="limner-import-") as tmp:
        ctx.progress(0.0, "listing files", force=True)
        sources = list(expand_sources(ctx.params["paths"], Path(tmp)))
        total = len(sources)
        report = ingest(
            svc.db,
            svc.storage,
            ctx.project_id,
            sources,
            actor_id=ctx.user_id,
            thumb_size=svc.settings.thumbnail_size,
            max_bytes=svc.settings.max_upload_mb * 1024 * 1024,
            workers=svc.settings.workers,
            total=total,
            progress=lambda done, n: ctx.progress(done / max(n or 1, 1), f"{done} of {n} files"),
        )
    return report.to_dict()
