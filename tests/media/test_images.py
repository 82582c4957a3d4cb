"""probe_image and decode_oriented on real files written with Pillow."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from limner.errors import PayloadTooLarge, ValidationError
from limner.media.images import ALLOWED_FORMATS, decode_oriented, is_image_name, probe_image

GREEN = (0, 200, 0)
GREY = (128, 128, 128)


def marked_photo(size: tuple[int, int] = (400, 200)) -> Image.Image:
    """A grey image with a green block in its top-left quarter (of the stored pixels)."""
    img = Image.new("RGB", size, GREY)
    img.paste(GREEN, (0, 0, size[0] // 4, size[1] // 2))
    return img


def save_jpeg(path: Path, img: Image.Image, orientation: int | None = None) -> Path:
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    img.save(path, "JPEG", quality=95, exif=exif)
    return path


def near(pixel: tuple[int, ...], colour: tuple[int, int, int], tol: int = 40) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(pixel, colour))


def green_corner(img: Image.Image) -> str:
    """Which corner of an image holds the green block."""
    w, h = img.size
    corners = {
        "top-left": (2, 2),
        "top-right": (w - 3, 2),
        "bottom-left": (2, h - 3),
        "bottom-right": (w - 3, h - 3),
    }
    found = [name for name, xy in corners.items() if near(img.convert("RGB").getpixel(xy), GREEN)]
    assert len(found) == 1, found
    return found[0]


def png_header_only(width: int, height: int) -> bytes:
    """A tiny 1-bit PNG that declares ``width`` x ``height`` (cheap decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def test_jpeg_with_orientation_6_reports_upright_size_and_rotated_thumbnail(tmp_path: Path) -> None:
    path = save_jpeg(tmp_path / "IMG_0001.jpg", marked_photo((400, 200)), orientation=6)
    info = probe_image(path, "phone/IMG_0001.jpg", thumb_size=128)

    assert (info.width, info.height) == (200, 400)
    assert info.orientation == 6
    assert (info.format, info.mime) == ("JPEG", "image/jpeg")
    thumb = Image.open(io.BytesIO(info.thumbnail))
    assert (thumb.format, thumb.mode, thumb.size) == ("JPEG", "RGB", (64, 128))
    # Orientation 6 turns the stored image a quarter turn clockwise: its top-left goes top-right.
    assert near(thumb.getpixel((60, 4)), GREEN)
    assert near(thumb.getpixel((4, 4)), GREY)
    assert near(thumb.getpixel((60, 120)), GREY)


@pytest.mark.parametrize("orientation", [1, 2, 3, 4, 5, 6, 7, 8])
def test_every_orientation_matches_pillow_exif_transpose(tmp_path: Path, orientation: int) -> None:
    path = save_jpeg(tmp_path / "o.jpg", marked_photo((400, 200)), orientation=orientation)
    upright = ImageOps.exif_transpose(Image.open(path))

    info = probe_image(path, "o.jpg", thumb_size=100)
    thumb = Image.open(io.BytesIO(info.thumbnail))
    full = decode_oriented(path)

    assert info.orientation == orientation
    assert (info.width, info.height) == upright.size
    assert thumb.size == ((100, 50) if orientation < 5 else (50, 100))
    assert green_corner(thumb) == green_corner(upright)
    assert full.size == upright.size
    assert green_corner(full) == green_corner(upright)


def test_probe_reports_checksum_size_and_default_orientation(tmp_path: Path) -> None:
    path = tmp_path / "plain.jpg"
    marked_photo((1280, 720)).save(path, "JPEG", quality=90)
    info = probe_image(path, "plain.jpg")

    data = path.read_bytes()
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.size_bytes == len(data)
    assert (info.width, info.height, info.orientation) == (1280, 720, 1)
    assert Image.open(io.BytesIO(info.thumbnail)).size == (256, 144)


def test_png_with_transparency_gets_a_white_background(tmp_path: Path) -> None:
    img = Image.new("RGBA", (300, 150), (255, 0, 0, 255))
    img.paste((0, 0, 255, 0), (150, 0, 300, 150))  # right half fully transparent
    path = tmp_path / "mask.png"
    img.save(path)

    info = probe_image(path, "mask.png", thumb_size=60)
    thumb = Image.open(io.BytesIO(info.thumbnail))

    assert (info.format, info.mime, info.width, info.height) == ("PNG", "image/png", 300, 150)
    assert info.orientation == 1
    assert thumb.size == (60, 30)
    assert near(thumb.getpixel((5, 15)), (255, 0, 0))
    assert near(thumb.getpixel((55, 15)), (255, 255, 255))


def test_small_image_is_not_enlarged(tmp_path: Path) -> None:
    path = tmp_path / "icon.png"
    Image.new("L", (40, 20), 90).save(path)
    info = probe_image(path, "icon.png", thumb_size=256)

    thumb = Image.open(io.BytesIO(info.thumbnail))
    assert (thumb.size, thumb.mode) == ((40, 20), "RGB")
    assert near(thumb.getpixel((20, 10)), (90, 90, 90), tol=3)


def test_16_bit_greyscale_thumbnail_uses_the_full_range(tmp_path: Path) -> None:
    ramp = np.tile(np.linspace(1000, 5000, 200, dtype=np.uint16), (100, 1))
    path = tmp_path / "depth.png"
    Image.fromarray(ramp).save(path)
    info = probe_image(path, "depth.png", thumb_size=200)

    thumb = np.asarray(Image.open(io.BytesIO(info.thumbnail)).convert("L"))
    assert (info.width, info.height, info.format) == (200, 100, "PNG")
    assert thumb[50, 2] < 20 and thumb[50, -3] > 235


@pytest.mark.parametrize(
    ("fmt", "suffix", "mime", "options"),
    [
        ("JPEG", ".jpg", "image/jpeg", {}),
        ("PNG", ".png", "image/png", {}),
        ("WEBP", ".webp", "image/webp", {"lossless": True}),
        ("BMP", ".bmp", "image/bmp", {}),
        ("TIFF", ".tif", "image/tiff", {}),
        ("GIF", ".gif", "image/gif", {}),
    ],
)
def test_allowed_formats(tmp_path: Path, fmt: str, suffix: str, mime: str, options: dict) -> None:
    path = tmp_path / f"img{suffix}"
    marked_photo((120, 80)).save(path, fmt, **options)
    info = probe_image(path, path.name, thumb_size=60)

    assert fmt in ALLOWED_FORMATS
    assert (info.format, info.mime, info.width, info.height) == (fmt, mime, 120, 80)
    assert green_corner(Image.open(io.BytesIO(info.thumbnail))) == "top-left"


@pytest.mark.parametrize(
    ("mode", "fmt", "colour", "expected"),
    [
        ("1", "PNG", 1, (255, 255, 255)),
        ("L", "PNG", 90, (90, 90, 90)),
        ("P", "PNG", 3, None),
        ("LA", "PNG", (90, 255), (90, 90, 90)),
        ("CMYK", "JPEG", (0, 255, 255, 0), (255, 0, 0)),
        ("CMYK", "TIFF", (0, 0, 0, 0), (255, 255, 255)),
        ("I", "TIFF", 70000, (0, 0, 0)),
        ("F", "TIFF", 0.25, (0, 0, 0)),
        ("RGBA", "WEBP", (0, 0, 255, 255), (0, 0, 255)),
    ],
)
def test_every_pixel_mode_gives_an_rgb_thumbnail(
    tmp_path: Path, mode: str, fmt: str, colour, expected: tuple[int, int, int] | None
) -> None:
    path = tmp_path / f"m.{fmt.lower()}"
    Image.new(mode, (90, 60), colour).save(path, fmt)
    info = probe_image(path, path.name, thumb_size=30)

    thumb = Image.open(io.BytesIO(info.thumbnail))
    assert (info.format, info.width, info.height) == (fmt, 90, 60)
    assert (thumb.mode, thumb.size) == ("RGB", (30, 20))
    if expected is not None:
        assert near(thumb.getpixel((15, 10)), expected, tol=12)


def test_animated_gif_gives_its_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (50, 40), colour) for colour in ((0, 200, 0), (200, 0, 0))]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)

    info = probe_image(path, "anim.gif")
    thumb = Image.open(io.BytesIO(info.thumbnail))
    assert (info.format, info.width, info.height) == ("GIF", 50, 40)
    assert near(thumb.getpixel((25, 20)), GREEN)


def truncated_jpeg(path: Path) -> None:
    noise = np.random.default_rng(1).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, "JPEG", quality=90)
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])


def text_file(path: Path) -> None:
    path.write_text("these are not the pixels you are looking for\n")


def ppm_file(path: Path) -> None:
    Image.new("RGB", (10, 10)).save(path, "PPM")


def empty_file(path: Path) -> None:
    path.write_bytes(b"")


def jpeg_header_only(path: Path) -> None:
    path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")


def png_without_ihdr(path: Path) -> None:
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)


@pytest.mark.parametrize(
    ("make", "filename", "expected"),
    [
        (text_file, "a.jpg", "photos/a.jpg: not an image (cannot identify image file; supported formats: "
                             "BMP, GIF, JPEG, PNG, TIFF, WEBP)"),
        (ppm_file, "b.jpg", "photos/b.jpg: not an image (cannot identify image file"),
        (empty_file, "c.png", "photos/c.png: empty file, not an image"),
        (truncated_jpeg, "d.jpg", "photos/d.jpg: corrupt or truncated JPEG (image file is truncated"),
        (jpeg_header_only, "e.jpg", "photos/e.jpg: corrupt JPEG (its header cannot be read)"),
        (png_without_ihdr, "f.png", "photos/f.png: corrupt PNG (its header cannot be read)"),
    ],
)
def test_bad_files_are_refused_with_their_name(tmp_path: Path, make, filename: str, expected: str) -> None:
    path = tmp_path / filename
    make(path)
    with pytest.raises(ValidationError) as caught:
        probe_image(path, f"photos/{filename}")

    assert caught.value.status == 422
    assert caught.value.detail.startswith(expected)
    assert caught.value.field == f"photos/{filename}"
    with pytest.raises(ValidationError) as again:
        decode_oriented(path, name=f"photos/{filename}")
    assert again.value.detail == caught.value.detail or filename == "c.png"


def test_file_over_the_byte_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    Image.new("RGB", (64, 64), GREEN).save(path)
    size = path.stat().st_size

    with pytest.raises(PayloadTooLarge) as caught:
        probe_image(path, "uploads/big.png", max_bytes=size - 1)
    assert caught.value.status == 413
    assert caught.value.detail.startswith("uploads/big.png: file is ")
    assert "over the" in caught.value.detail
    assert probe_image(path, "uploads/big.png", max_bytes=size).size_bytes == size


def bomb_sizes() -> list[tuple[str, int, int]]:
    limit = Image.MAX_IMAGE_PIXELS
    width = 10_000
    return [
        ("over Pillow's warning limit", width, limit // width + 1),
        ("over Pillow's error limit", width, 2 * limit // width + 1),
        ("far over", 20_000, 20_000),
    ]


@pytest.mark.parametrize(("case", "width", "height"), bomb_sizes())
def test_decompression_bombs_are_refused_and_the_guard_stays_on(
    tmp_path: Path, case: str, width: int, height: int
) -> None:
    limit_before = Image.MAX_IMAGE_PIXELS
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(width, height))
    pixels = width * height
    warns = pixels <= 2 * limit_before

    with pytest.raises(PayloadTooLarge) as caught:
        if warns:  # Pillow itself only warns here; Limner still refuses
            with pytest.warns(Image.DecompressionBombWarning):
                probe_image(path, "evil/bomb.png")
        else:
            probe_image(path, "evil/bomb.png")

    assert caught.value.status == 413
    assert caught.value.detail.startswith("evil/bomb.png: image is ")
    assert f"{pixels:,} pixels" in caught.value.detail
    assert "decompression bomb" in caught.value.detail
    assert Image.MAX_IMAGE_PIXELS == limit_before
    if not warns:
        with pytest.raises(Image.DecompressionBombError):
            Image.open(path)


def test_decode_oriented_from_bytes_and_mode(tmp_path: Path) -> None:
    path = save_jpeg(tmp_path / "o.jpg", marked_photo((400, 200)), orientation=8)
    img = decode_oriented(path.read_bytes(), mode="RGB")
    grey = decode_oriented(io.BytesIO(path.read_bytes()), mode="L")

    assert (img.size, img.mode) == ((200, 400), "RGB")
    assert (grey.size, grey.mode) == ((200, 400), "L")
    # Orientation 8 turns the stored image a quarter turn counter-clockwise: top-left goes bottom-left.
    assert green_corner(img) == "bottom-left"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a.JPG", True), ("dir/b.jpeg", True), ("c.tiff", True), ("d.webp", True), ("e.txt", False),
     ("jpg", False), ("f.jpg.zip", False), (".png", True)],
)
def test_is_image_name(name: str, expected: bool) -> None:
    assert is_image_name(name) is expected
