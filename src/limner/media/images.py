"""How an uploaded file becomes a checked image: format, size, orientation, checksum, thumbnail.

``probe_image`` reads a file once, hashes those bytes and decodes them once (JPEGs at a reduced
DCT scale), so ingest stays fast. Every refusal names the file: a non-image, a truncated or corrupt
image, a file over the byte limit (413) or an image over Pillow's pixel limit (413, a likely
decompression bomb). Pillow's own guard (``Image.MAX_IMAGE_PIXELS``) is honoured and never changed;
Limner refuses images from the point where Pillow would only warn.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, UnidentifiedImageError

from limner.errors import PayloadTooLarge, ValidationError

__all__ = [
    "ALLOWED_FORMATS",
    "IMAGE_EXTENSIONS",
    "MAX_IMAGE_BYTES",
    "ImageInfo",
    "probe_image",
    "decode_oriented",
    "is_image_name",
]

ALLOWED_FORMATS: tuple[str, ...] = ("BMP", "GIF", "JPEG", "PNG", "TIFF", "WEBP")
"""Pillow format names Limner accepts; a GIF or multi-page TIFF contributes its first frame."""

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".bmp", ".gif", ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".tif", ".tiff", ".webp"}
)
"""File name extensions (lower case) taken as images when scanning folders, archives and URLs."""

MAX_IMAGE_BYTES = 200_000_000
"""Default largest image file accepted, in bytes (200 MB)."""

_MIME = {
    "BMP": "image/bmp",
    "GIF": "image/gif",
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "TIFF": "image/tiff",
    "WEBP": "image/webp",
}

# EXIF orientation value -> the transpose that shows the image upright.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)
_ORIENTATION_TAG = 0x0112
_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")


@dataclass(slots=True, frozen=True)
class ImageInfo:
    """What ingest learns about one image file. Width and height are as displayed (upright)."""

    width: int
    height: int
    format: str
    mime: str
    sha256: str
    size_bytes: int
    orientation: int
    thumbnail: bytes


def is_image_name(name: str) -> bool:
    """True when the file name ends with one of ``IMAGE_EXTENSIONS`` (any case)."""
    dot = name.rfind(".")
    return dot >= 0 and name[dot:].lower() in IMAGE_EXTENSIONS


def probe_image(
    path: Path, name: str, *, thumb_size: int = 256, max_bytes: int = MAX_IMAGE_BYTES
) -> ImageInfo:
    """Check the image file at ``path`` (shown to people as ``name``) and describe it.

    Raises ``PayloadTooLarge`` for a file over ``max_bytes`` or an image over Pillow's pixel
    limit, and ``ValidationError`` for anything that is not a complete image in
    ``ALLOWED_FORMATS``. The thumbnail is an upright RGB JPEG whose longest side is
    ``thumb_size`` (smaller images are not enlarged); transparency is shown on white.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise _too_many_bytes(name, size, max_bytes)
    data = path.read_bytes()
    if len(data) > max_bytes:
        raise _too_many_bytes(name, len(data), max_bytes)
    if not data:
        raise ValidationError(f"{name}: empty file, not an image", field=name)
    sha256 = hashlib.sha256(data).hexdigest()

    img = _open(io.BytesIO(data), name)
    fmt = "JPEG" if img.format == "MPO" else str(img.format)
    width, height = img.size
    img.draft("RGB", _fit(width, height, thumb_size))
    _load(img, name)
    orientation = _orientation(img)
    if orientation in (5, 6, 7, 8):
        width, height = height, width

    return ImageInfo(
        width=width,
        height=height,
        format=fmt,
        mime=_MIME[fmt],
        sha256=sha256,
        size_bytes=len(data),
        orientation=orientation,
        thumbnail=_thumbnail(img, orientation, thumb_size),
    )


def decode_oriented(
    src: bytes | str | Path | BinaryIO, *, name: str | None = None, mode: str | None = None
) -> Image.Image:
    """Decode an image at full resolution, upright (EXIF orientation applied).

    ``src`` is the encoded bytes, a file path or a binary file. ``mode`` (for example ``"RGB"``)
    converts the result. Errors are those of ``probe_image`` and name ``name`` (by default the
    path, or "image").
    """
    if isinstance(src, (str, Path)):
        name = name or str(src)
        src = Path(src).read_bytes()
    name = name or "image"
    fp = io.BytesIO(src) if isinstance(src, (bytes, bytearray, memoryview)) else src
    img = _open(fp, name)
    _load(img, name)
    method = _UPRIGHT.get(_orientation(img))
    out = img.transpose(method) if method is not None else img
    if mode is not None and out.mode != mode:
        out = out.convert(mode)
    return out


def _open(fp: BinaryIO, name: str) -> Image.Image:
    """Identify the image and check its pixel count, without decoding pixels yet."""
    try:
        img = Image.open(fp, formats=ALLOWED_FORMATS)
    except UnidentifiedImageError:
        fp.seek(0)
        claimed = _claimed_format(fp.read(16))
        if claimed:
            raise ValidationError(
                f"{name}: corrupt {claimed} (its header cannot be read)", field=name
            ) from None
        raise ValidationError(
            f"{name}: not an image (cannot identify image file; "
            f"supported formats: {', '.join(ALLOWED_FORMATS)})",
            field=name,
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        found = _BOMB_PIXELS.search(str(exc))
        pixels = int(found.group(1)) if found else None
        raise _too_many_pixels(name, pixels, None) from None
    except MemoryError:
        raise
    except Exception as exc:  # a corrupt header can fail in many ways inside the decoders
        raise ValidationError(f"{name}: corrupt image header ({exc})", field=name) from None
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and img.width * img.height > limit:
        raise _too_many_pixels(name, img.width * img.height, img.size)
    return img


def _claimed_format(head: bytes) -> str | None:
    """The allowed format whose signature starts ``head``, if any."""
    for magic, fmt in _SIGNATURES:
        if head.startswith(magic):
            return fmt
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def _load(img: Image.Image, name: str) -> None:
    """Decode the pixels, so truncated and corrupt files fail here and not later."""
    try:
        img.load()
    except MemoryError:
        raise
    except Exception as exc:  # decoders report damage as OSError, SyntaxError, ValueError, ...
        raise ValidationError(
            f"{name}: corrupt or truncated {img.format or 'image'} ({exc})", field=name
        ) from None


def _orientation(img: Image.Image) -> int:
    """The EXIF orientation (1–8); 1 when absent or unreadable."""
    try:
        value = img.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # damaged EXIF does not make the pixels unusable
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _fit(width: int, height: int, longest: int) -> tuple[int, int]:
    """The size of ``width`` x ``height`` scaled down so its longest side is ``longest``."""
    scale = min(1.0, longest / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _thumbnail(img: Image.Image, orientation: int, longest: int) -> bytes:
    """An upright RGB JPEG (quality 80) of a loaded image, longest side ``longest``."""
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif img.mode == "1":
        img = img.convert("L")
    elif img.mode in ("I", "F") or img.mode.startswith("I;16"):
        img = _stretch_to_l(img)
    elif img.mode in ("LA", "La", "PA", "RGBa"):
        img = img.convert("RGBA")
    img.thumbnail(_fit(img.width, img.height, longest), Image.Resampling.BICUBIC)
    if img.mode == "RGBA":
        flat = Image.new("RGB", img.size, (255, 255, 255))
        flat.paste(img, mask=img.getchannel("A"))
        img = flat
    elif img.mode != "RGB":
        img = img.convert("RGB")
    method = _UPRIGHT.get(orientation)
    if method is not None:
        img = img.transpose(method)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


def _stretch_to_l(img: Image.Image) -> Image.Image:
    """Map a 16-bit, 32-bit or float single-band image onto 0–255 by its own min and max."""
    values = np.asarray(img, dtype=np.float32)
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return Image.new("L", img.size, 0)
    scaled = (values - low) * (255.0 / (high - low))
    return Image.fromarray(scaled.round().astype(np.uint8), "L")


def _too_many_bytes(name: str, size: int, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"{name}: file is {size / 1e6:.4g} MB, over the {limit / 1e6:.4g} MB limit for one image",
        field=name,
    )


def _too_many_pixels(name: str, pixels: int | None, size: tuple[int, int] | None) -> PayloadTooLarge:
    limit = Image.MAX_IMAGE_PIXELS
    dims = f"{size[0]}x{size[1]} = " if size else ""
    count = f"{dims}{pixels:,} pixels" if pixels is not None else "too many pixels"
    return PayloadTooLarge(
        f"{name}: image is {count}, over the limit of {limit:,} pixels "
        "(refused as a possible decompression bomb)",
        field=name,
    )
