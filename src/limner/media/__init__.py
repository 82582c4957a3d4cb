"""Where image bytes live and how an uploaded file becomes a checked image.

Pure of any database or HTTP server: storage backends (a local folder, S3), image probing
(format, upright size, checksum, thumbnail, size limits) and the expansion of what a user hands
in — files, folders, zip archives, URLs — into single image files.

Names are imported from their submodule on first use, so ``from limner.media import
LocalStorage`` does not load Pillow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "ALLOWED_FORMATS",
    "IMAGE_EXTENSIONS",
    "MAX_IMAGE_BYTES",
    "ImageInfo",
    "LocalStorage",
    "S3Storage",
    "Source",
    "Storage",
    "decode_oriented",
    "expand_sources",
    "is_image_name",
    "iter_zip_images",
    "probe_image",
    "storage_from_url",
    "zip_members_report",
]

_HOME = {
    "ALLOWED_FORMATS": "images",
    "IMAGE_EXTENSIONS": "images",
    "MAX_IMAGE_BYTES": "images",
    "ImageInfo": "images",
    "decode_oriented": "images",
    "is_image_name": "images",
    "probe_image": "images",
    "LocalStorage": "storage",
    "S3Storage": "storage",
    "Storage": "storage",
    "storage_from_url": "storage",
    "iter_zip_images": "archives",
    "zip_members_report": "archives",
    "Source": "sources",
    "expand_sources": "sources",
}

if TYPE_CHECKING:
    from limner.media.archives import iter_zip_images, zip_members_report
    from limner.media.images import (
        ALLOWED_FORMATS,
        IMAGE_EXTENSIONS,
        MAX_IMAGE_BYTES,
        ImageInfo,
        decode_oriented,
        is_image_name,
        probe_image,
    )
    from limner.media.sources import Source, expand_sources
    from limner.media.storage import LocalStorage, S3Storage, Storage, storage_from_url


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'limner.media' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"limner.media.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
