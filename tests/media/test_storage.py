"""LocalStorage and storage_from_url, on real folders."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from limner.errors import LimnerError
from limner.media.storage import LocalStorage, S3Storage, storage_from_url


def leftovers(folder: Path) -> list[str]:
    """Temporary files a write left behind anywhere under ``folder``."""
    return sorted(p.name for p in folder.rglob("*.tmp"))


def test_put_bytes_round_trip(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "media")
    store.put_bytes("ab/cdef.jpg", b"\xff\xd8hello")

    assert store.exists("ab/cdef.jpg")
    assert store.size("ab/cdef.jpg") == 7
    with store.open("ab/cdef.jpg") as f:
        assert f.read() == b"\xff\xd8hello"
    assert store.path("ab/cdef.jpg") == tmp_path / "media" / "ab" / "cdef.jpg"
    assert store.path("ab/cdef.jpg").read_bytes() == b"\xff\xd8hello"
    assert leftovers(tmp_path) == []


def test_put_bytes_replaces_previous_bytes(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    store.put_bytes("k/v.bin", b"old")
    store.put_bytes("k/v.bin", b"newer")

    assert store.path("k/v.bin").read_bytes() == b"newer"
    assert sorted(p.name for p in (tmp_path / "k").iterdir()) == ["v.bin"]


def test_put_file_copies_by_default(tmp_path: Path) -> None:
    src = tmp_path / "upload.jpg"
    src.write_bytes(b"original")
    store = LocalStorage(tmp_path / "media")
    store.put_file("12/3456.jpg", src)
    src.write_bytes(b"edited in place")

    assert store.path("12/3456.jpg").read_bytes() == b"original"
    assert os.stat(store.path("12/3456.jpg")).st_ino != os.stat(src).st_ino
    assert leftovers(tmp_path) == []


def test_put_file_link_shares_the_inode(tmp_path: Path) -> None:
    src = tmp_path / "temp-upload.jpg"
    src.write_bytes(b"bytes")
    store = LocalStorage(tmp_path / "media")
    store.put_file("x/y.jpg", src, link=True)

    assert os.stat(store.path("x/y.jpg")).st_ino == os.stat(src).st_ino
    src.unlink()
    assert store.path("x/y.jpg").read_bytes() == b"bytes"
    assert leftovers(tmp_path) == []


def test_put_file_link_replaces_existing_key(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "media")
    store.put_bytes("x/y.jpg", b"first")
    src = tmp_path / "second.jpg"
    src.write_bytes(b"second")
    store.put_file("x/y.jpg", src, link=True)

    assert store.path("x/y.jpg").read_bytes() == b"second"
    assert os.stat(store.path("x/y.jpg")).st_ino == os.stat(src).st_ino


def test_failed_put_file_keeps_old_bytes_and_leaves_nothing(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "media")
    store.put_bytes("x/y.jpg", b"kept")
    with pytest.raises(FileNotFoundError):
        store.put_file("x/y.jpg", tmp_path / "does-not-exist.jpg")

    assert store.path("x/y.jpg").read_bytes() == b"kept"
    assert leftovers(tmp_path) == []


def test_delete_and_missing_keys(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    store.put_bytes("a/b.png", b"png")
    store.delete("a/b.png")
    store.delete("a/b.png")  # already gone is fine
    store.delete("never/was.png")

    assert store.exists("a/b.png") is False
    with pytest.raises(FileNotFoundError):
        store.open("a/b.png")
    with pytest.raises(FileNotFoundError):
        store.size("a/b.png")
    with pytest.raises(FileNotFoundError):
        store.path("a/b.png")


@pytest.mark.parametrize(
    "key",
    ["", "/etc/passwd", "../outside.jpg", "a/../../outside.jpg", "a/..", "a//b.jpg", "./a.jpg",
     "a/./b.jpg", "a/", "C:/x.jpg", "a\\b.jpg", "a\x00b.jpg"],
)
def test_unsafe_keys_are_refused(tmp_path: Path, key: str) -> None:
    store = LocalStorage(tmp_path / "media")
    for call in (
        lambda: store.put_bytes(key, b"x"),
        lambda: store.exists(key),
        lambda: store.open(key),
        lambda: store.delete(key),
        lambda: store.size(key),
        lambda: store.path(key),
    ):
        with pytest.raises(ValueError, match="storage key"):
            call()
    assert list(tmp_path.rglob("*")) == []


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("{tmp}/media", "{tmp}/media"),
        ("file://{tmp}/media", "{tmp}/media"),
        ("file://localhost{tmp}/media", "{tmp}/media"),
        ("file://{tmp}/my%20media", "{tmp}/my media"),
    ],
)
def test_storage_from_url_local(tmp_path: Path, given: str, expected: str) -> None:
    store = storage_from_url(given.format(tmp=tmp_path))

    assert isinstance(store, LocalStorage)
    assert store.root == Path(expected.format(tmp=tmp_path))
    store.put_bytes("a.bin", b"1")
    assert (Path(expected.format(tmp=tmp_path)) / "a.bin").read_bytes() == b"1"


def test_storage_from_path_object(tmp_path: Path) -> None:
    store = storage_from_url(tmp_path)

    assert isinstance(store, LocalStorage) and store.root == tmp_path


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://host/media", "unsupported storage URL 'ftp://host/media'"),
        ("file://otherhost/media", "file:// storage URL must be local, got host 'otherhost'"),
        ("s3:///prefix", "s3:// storage URL needs a bucket"),
    ],
)
def test_storage_from_url_refusals(url: str, message: str) -> None:
    with pytest.raises(LimnerError) as caught:
        storage_from_url(url)

    assert caught.value.detail.startswith(message)


def test_s3_without_boto3_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # as if boto3 were not installed
    with pytest.raises(LimnerError) as caught:
        storage_from_url("s3://bucket/prefix")

    assert caught.value.detail == "S3 storage needs boto3: pip install 'limner[s3]'"


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A local S3-compatible server (moto in server mode) over real HTTP."""
    pytest.importorskip("boto3", reason="S3 storage tests need boto3")
    server_mod = pytest.importorskip("moto.server", reason="S3 storage tests need moto[server]")
    for var, value in {
        "AWS_ACCESS_KEY_ID": "limner",
        "AWS_SECRET_ACCESS_KEY": "limner-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(var, value)
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_s3_storage_round_trip(s3_endpoint: str, tmp_path: Path) -> None:
    store = S3Storage("limner-media", "/team/assets/", endpoint_url=s3_endpoint)
    store.client.create_bucket(Bucket="limner-media")
    src = tmp_path / "upload.jpg"
    src.write_bytes(b"\xff\xd8jpeg bytes")

    store.put_file("ab/cd.jpg", src)
    store.put_bytes("ab/cd.webp", b"thumb")

    assert store.is_local is False
    assert store.exists("ab/cd.jpg") and store.exists("ab/cd.webp")
    assert store.size("ab/cd.jpg") == len(b"\xff\xd8jpeg bytes")
    with store.open("ab/cd.jpg") as body:
        assert body.read() == b"\xff\xd8jpeg bytes"
    listed = store.client.list_objects_v2(Bucket="limner-media")["Contents"]
    assert sorted(o["Key"] for o in listed) == ["team/assets/ab/cd.jpg", "team/assets/ab/cd.webp"]
    head = store.client.head_object(Bucket="limner-media", Key="team/assets/ab/cd.jpg")
    assert head["ContentType"] == "image/jpeg"

    store.delete("ab/cd.jpg")
    store.delete("ab/cd.jpg")  # already gone is fine
    assert store.exists("ab/cd.jpg") is False
    with pytest.raises(FileNotFoundError):
        store.open("ab/cd.jpg")
    with pytest.raises(FileNotFoundError):
        store.size("ab/cd.jpg")
    with pytest.raises(LimnerError):
        store.path("ab/cd.webp")
    with pytest.raises(ValueError, match="storage key"):
        store.put_bytes("../escape.jpg", b"x")


def test_storage_from_s3_url(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    store = storage_from_url("s3://bucket-a/some/prefix")

    assert isinstance(store, S3Storage)
    assert (store.bucket, store.prefix) == ("bucket-a", "some/prefix")
    store.client.create_bucket(Bucket="bucket-a")
    store.put_bytes("a.jpg", b"through the endpoint")
    assert store.size("a.jpg") == len(b"through the endpoint")


def test_public_names_and_lazy_pillow() -> None:
    code = (
        "import sys, limner.media as m\n"
        "from limner.media import LocalStorage, storage_from_url\n"
        "assert 'PIL' not in sys.modules, 'storage must not load Pillow'\n"
        "missing = [n for n in m.__all__ if getattr(m, n, None) is None]\n"
        "assert not missing, missing\n"
        "assert sorted(dir(m)) == sorted(m.__all__)\n"
        "print(len(m.__all__))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "15"
