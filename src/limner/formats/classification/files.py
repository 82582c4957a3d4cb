"""File names the three formats share: the image suffixes they recognise, and the split folder or
list named ``default``, which is Limner's "no subset"."""

from __future__ import annotations

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".ppm", ".pgm")


def _is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTS)


def _subset_name(folder: str) -> str | None:
    return None if folder == "default" else folder
