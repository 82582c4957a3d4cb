"""iter_zip_images and zip_members_report on real (and hostile) zip files."""

from __future__ import annotations

import io
import stat
import struct
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from limner.errors import LimnerError, PayloadTooLarge, ValidationError
from limner.media.archives import iter_zip_images, zip_members_report


def image_bytes(fmt: str = "JPEG", colour: tuple[int, int, int] = (0, 200, 0)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(buf, fmt)
    return buf.getvalue()


def make_zip(path: Path, members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return path


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_images_are_extracted_and_everything_else_is_accounted_for(tmp_path: Path) -> None:
    jpg, png = image_bytes("JPEG"), image_bytes("PNG")
    archive = make_zip(
        tmp_path / "shoot.zip",
        {
            "shoot/": b"",
            "shoot/a.jpg": jpg,
            "shoot/README.txt": b"hello",
            "shoot/sub/B.PNG": png,
            "shoot/.hidden.jpg": jpg,
            "shoot/.DS_Store": b"junk",
            "__MACOSX/shoot/._a.jpg": b"junk",
            "shoot/._a.jpg": b"junk",
            "shoot/Thumbs.db": b"junk",
            "shoot/labels.json": b"{}",
            "shoot/x/../c.jpg": jpg,
        },
    )
    dest = tmp_path / "out"

    skipped = zip_members_report(archive)
    extracted = list(iter_zip_images(archive, dest))

    assert skipped == [
        ("shoot/README.txt", "not an image extension"),
        ("shoot/labels.json", "not an image extension"),
    ]
    assert [name for name, _ in extracted] == ["shoot/a.jpg", "shoot/sub/B.PNG", "shoot/c.jpg"]
    assert [path.read_bytes() for _, path in extracted] == [jpg, png, jpg]
    assert [path.parent for _, path in extracted] == [dest] * 3
    assert [path.suffix for _, path in extracted] == [".jpg", ".png", ".jpg"]
    assert files_in(dest) == sorted(path for _, path in extracted)


def test_duplicate_member_names_are_both_yielded(tmp_path: Path) -> None:
    archive = tmp_path / "dup.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.jpg", image_bytes(colour=(1, 2, 3)))
        with pytest.warns(UserWarning, match="Duplicate name"):
            zf.writestr("a.jpg", image_bytes(colour=(200, 2, 3)))

    extracted = list(iter_zip_images(archive, tmp_path / "out"))

    assert [name for name, _ in extracted] == ["a.jpg", "a.jpg"]
    assert extracted[0][1] != extracted[1][1]
    assert extracted[0][1].read_bytes() != extracted[1][1].read_bytes()


def symlink_member() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("link.jpg")
    info.create_system = 3  # Unix
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        ("../evil.jpg", "uploads.zip: member '../evil.jpg' points outside the archive folder; archive refused"),
        ("a/../../evil.jpg", "uploads.zip: member 'a/../../evil.jpg' points outside the archive folder"),
        ("..\\evil.jpg", "uploads.zip: member '..\\\\evil.jpg' points outside the archive folder"),
        ("..", "uploads.zip: member '..' points outside the archive folder"),
        ("/etc/evil.jpg", "uploads.zip: member '/etc/evil.jpg' has an absolute path; archive refused"),
        ("C:/evil.jpg", "uploads.zip: member 'C:/evil.jpg' has an absolute path"),
        (symlink_member(), "uploads.zip: member 'link.jpg' is a symbolic link; archive refused"),
        ("../notes.txt", "uploads.zip: member '../notes.txt' points outside the archive folder"),
    ],
)
def test_hostile_members_refuse_the_whole_archive(tmp_path: Path, member, expected: str) -> None:
    archive = tmp_path / "uploads.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("good.jpg", image_bytes())  # comes first, and still is not extracted
        zf.writestr(member, b"../../etc/passwd" if isinstance(member, zipfile.ZipInfo) else image_bytes())
    dest = tmp_path / "out"

    for call in (lambda: list(iter_zip_images(archive, dest)), lambda: zip_members_report(archive)):
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.status == 422
        assert caught.value.detail.startswith(expected)
    assert files_in(dest) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["uploads.zip"]


def write_zero_member(path: Path, member: str, megabytes: int) -> Path:
    """A zip holding ``megabytes`` MiB of zeros, compressed while streaming."""
    zeros = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open(member, "w", force_zip64=True) as out:
            for _ in range(megabytes):
                out.write(zeros)
    return path


def test_zip_bomb_is_refused_before_extraction(tmp_path: Path) -> None:
    archive = write_zero_member(tmp_path / "bomb.zip", "huge.bmp", 300)
    dest = tmp_path / "out"

    assert archive.stat().st_size < 3_000_000
    with pytest.raises(PayloadTooLarge) as caught:
        list(iter_zip_images(archive, dest))
    assert caught.value.status == 413
    assert caught.value.detail.startswith("bomb.zip: member 'huge.bmp' expands ")
    assert "300 MiB" in caught.value.detail
    assert "over the limit of 200 times (possible zip bomb)" in caught.value.detail
    assert files_in(dest) == []


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        ({"max_files": 2}, "many.zip: archive has 3 entries, over the limit of 2"),
        ({"max_total_bytes": 2_500_000}, "many.zip: images in the archive declare more than 2.384 MiB"),
    ],
)
def test_limits_are_parameters(tmp_path: Path, limits: dict, expected: str) -> None:
    flat = Image.new("RGB", (1000, 500), (10, 20, 30))
    members = {}
    for name in ("a.tif", "b.tif"):
        buf = io.BytesIO()
        flat.save(buf, "TIFF")  # uncompressed: 1.5 MB each, deflates about 1000 times
        members[name] = buf.getvalue()
    members["c.txt"] = b"note"
    archive = make_zip(tmp_path / "many.zip", members)

    with pytest.raises(PayloadTooLarge) as caught:
        list(iter_zip_images(archive, tmp_path / "out", **limits))
    assert caught.value.detail.startswith(expected)
    assert files_in(tmp_path / "out") == []
    # Under the default limits the same flat images are fine: small members are not ratio-checked.
    assert [n for n, _ in iter_zip_images(archive, tmp_path / "ok")] == ["a.tif", "b.tif"]


@pytest.mark.parametrize(("max_ratio", "refused"), [(200, True), (5000, False)])
def test_ratio_limit_is_a_parameter(tmp_path: Path, max_ratio: int, refused: bool) -> None:
    archive = write_zero_member(tmp_path / "zeros.zip", "plane.bmp", 20)
    dest = tmp_path / "out"

    if refused:
        with pytest.raises(PayloadTooLarge) as caught:
            list(iter_zip_images(archive, dest, max_ratio=max_ratio))
        assert caught.value.detail.startswith("zeros.zip: member 'plane.bmp' expands ")
        assert files_in(dest) == []
    else:
        [(name, path)] = iter_zip_images(archive, dest, max_ratio=max_ratio)
        assert (name, path.stat().st_size) == ("plane.bmp", 20 << 20)


def patch_declared_size(path: Path, size: int) -> None:
    """Rewrite the uncompressed size in the local and central headers of a one-member zip."""
    data = bytearray(path.read_bytes())
    assert data[:4] == b"PK\x03\x04"
    struct.pack_into("<I", data, 22, size)
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, size)
    path.write_bytes(bytes(data))


def test_a_header_that_understates_the_size_gains_nothing(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "liar.zip", {"liar.bmp": bytes(8 << 20)})
    patch_declared_size(archive, 1000)
    assert zipfile.ZipFile(archive).getinfo("liar.bmp").file_size == 1000
    dest = tmp_path / "out"

    with pytest.raises(LimnerError) as caught:
        list(iter_zip_images(archive, dest))
    assert caught.value.detail.startswith("liar.zip: ")
    assert "'liar.bmp'" in caught.value.detail
    assert files_in(dest) == []


def test_corrupt_member_data_is_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "broken.zip", {"a.png": image_bytes("PNG")}, compression=zipfile.ZIP_STORED)
    data = bytearray(archive.read_bytes())
    start = data.index(b"IDAT")
    data[start + 8] ^= 0xFF
    archive.write_bytes(bytes(data))

    with pytest.raises(ValidationError) as caught:
        list(iter_zip_images(archive, tmp_path / "out"))
    assert caught.value.detail.startswith("broken.zip: cannot read member 'a.png' (Bad CRC-32")
    assert files_in(tmp_path / "out") == []


def test_a_file_that_is_not_a_zip(tmp_path: Path) -> None:
    fake = tmp_path / "photos.zip"
    fake.write_bytes(b"not a zip at all")

    with pytest.raises(ValidationError) as caught:
        list(iter_zip_images(fake, tmp_path / "out", name="uploads/photos.zip"))
    assert caught.value.detail == "uploads/photos.zip: not a readable zip archive (File is not a zip file)"


def test_extract_all_keeps_layout_and_refuses_traversal(tmp_path):
    import zipfile as _zf

    from limner.media.archives import extract_all

    good = tmp_path / "ds.zip"
    with _zf.ZipFile(good, "w") as zf:
        zf.writestr("annotations/instances_train.json", "{}")
        zf.writestr("images/train/a.jpg", b"x")
        zf.writestr("__MACOSX/._a.jpg", b"junk")
    names = extract_all(good, tmp_path / "out")
    assert sorted(names) == ["annotations/instances_train.json", "images/train/a.jpg"]
    assert (tmp_path / "out/annotations/instances_train.json").read_text() == "{}"
    evil = tmp_path / "evil.zip"
    with _zf.ZipFile(evil, "w") as zf:
        zf.writestr("ok.json", "{}")
        zf.writestr("../../etc/evil.json", "{}")
    with pytest.raises(ValidationError) as e:
        extract_all(evil, tmp_path / "out2")
    assert "points outside the archive folder" in e.value.detail
    assert not (tmp_path / "out2").exists() or list((tmp_path / "out2").rglob("*")) == []
