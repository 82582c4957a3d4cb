"""expand_sources over real files, folders, zips and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import io
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

from limner.media.sources import Source, expand_sources


def image_bytes(fmt: str = "JPEG", colour: tuple[int, int, int] = (0, 200, 0)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(buf, fmt)
    return buf.getvalue()


def summary(sources: list[Source]) -> list[tuple[str, str | None]]:
    return [(s.name, s.rejected) for s in sources]


def test_folder_is_walked_recursively_in_sorted_order(tmp_path: Path) -> None:
    root = tmp_path / "photos"
    for rel, data in {
        "b.jpg": image_bytes(),
        "a.PNG": image_bytes("PNG"),
        "z/c.jpg": image_bytes(),
        "m/readme.txt": b"notes",
        "m/d.webp": image_bytes("WEBP"),
        ".hidden.jpg": image_bytes(),
        ".git/e.jpg": image_bytes(),
        "m/.DS_Store": b"junk",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)

    sources = list(expand_sources([root], tmp_path / "work"))

    assert summary(sources) == [
        ("a.PNG", None),
        ("b.jpg", None),
        ("m/d.webp", None),
        ("m/readme.txt", "not an image extension"),
        ("z/c.jpg", None),
    ]
    assert [s.path for s in sources] == [root / "a.PNG", root / "b.jpg", root / "m/d.webp", None, root / "z/c.jpg"]
    assert [s.ok for s in sources] == [True, True, True, False, True]


def test_files_missing_paths_and_order_of_arguments(tmp_path: Path) -> None:
    img = tmp_path / "single.jpg"
    img.write_bytes(image_bytes())
    notes = tmp_path / "notes.md"
    notes.write_text("# notes")

    sources = list(expand_sources([str(img), tmp_path / "nowhere", notes, "missing/x.jpg"], tmp_path / "work"))

    assert summary(sources) == [
        ("single.jpg", None),
        (str(tmp_path / "nowhere"), "no such file or folder"),
        ("notes.md", "not an image extension"),
        ("missing/x.jpg", "no such file or folder"),
    ]
    assert sources[0].path == img
    assert not (tmp_path / "work").exists()


def test_zip_members_keep_their_path_inside_the_zip(tmp_path: Path) -> None:
    jpg, png = image_bytes(), image_bytes("PNG")
    archive = tmp_path / "batch.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("set1/a.jpg", jpg)
        zf.writestr("set1/readme.txt", b"hi")
        zf.writestr("set1/b.png", png)
        zf.writestr("__MACOSX/set1/._a.jpg", b"junk")
    work = tmp_path / "work"

    sources = list(expand_sources([archive], work))

    assert summary(sources) == [
        ("set1/readme.txt", "not an image extension"),
        ("set1/a.jpg", None),
        ("set1/b.png", None),
    ]
    assert [s.path.read_bytes() for s in sources if s.ok] == [jpg, png]
    assert all(s.path.is_relative_to(work) for s in sources if s.ok)


def test_a_hostile_zip_is_one_rejected_source_and_the_rest_goes_on(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("fine.jpg", image_bytes())
        zf.writestr("../evil.jpg", image_bytes())
    after = tmp_path / "after.jpg"
    after.write_bytes(image_bytes())

    sources = list(expand_sources([archive, after], tmp_path / "work"))

    assert summary(sources) == [
        ("evil.zip", "evil.zip: member '../evil.jpg' points outside the archive folder; archive refused"),
        ("after.jpg", None),
    ]
    assert [p for p in (tmp_path / "work").rglob("*") if p.is_file()] == []


class Handler(BaseHTTPRequestHandler):
    """Serves a fixed set of routes for the URL tests."""

    image = image_bytes()

    def log_message(self, format: str, *args) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        if self.path in ("/img.jpg", "/photo?id=7"):
            self.reply(200, self.image, "image/jpeg")
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/img.jpg")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/big.jpg":
            self.reply(200, bytes(5000), "image/jpeg")
        elif self.path == "/endless.jpg":  # no Content-Length: the size is only known by reading
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Connection", "close")
            self.end_headers()
            for _ in range(50):
                self.wfile.write(bytes(1000))
        elif self.path == "/slow.jpg":
            time.sleep(1.5)
            self.reply(200, self.image, "image/jpeg")
        elif self.path == "/broken.jpg":
            self.reply(500, b"oops", "text/plain")
        else:
            self.reply(404, b"not here", "text/plain")

    def reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # the client hanging up on /slow.jpg and /endless.jpg is part of the test


@pytest.fixture
def server() -> Iterator[str]:
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_url_downloads_into_the_workdir(server: str, tmp_path: Path) -> None:
    work = tmp_path / "work"
    host = server.removeprefix("http://")

    sources = list(expand_sources([f"{server}/img.jpg", f"{server}/photo?id=7", f"{server}/redirect"], work))

    assert summary(sources) == [(f"{host}/img.jpg", None), (f"{host}/photo", None), (f"{host}/redirect", None)]
    assert [s.path.read_bytes() for s in sources] == [Handler.image] * 3
    assert [s.path.parent for s in sources] == [work] * 3
    assert [s.path.suffix for s in sources] == [".jpg", ".jpg", ".jpg"]


def test_url_failures_are_rejected_sources(server: str, tmp_path: Path) -> None:
    host = server.removeprefix("http://")
    dead = f"http://127.0.0.1:{free_port()}/gone.jpg"
    urls = [
        f"{server}/missing.jpg",
        f"{server}/broken.jpg",
        f"{server}/big.jpg",
        f"{server}/endless.jpg",
        f"{server}/slow.jpg",
        "ftp://example.com/a.jpg",
        dead,
        f"{server}/img.jpg",
    ]

    sources = list(expand_sources(urls, tmp_path / "work", max_download_bytes=4000, timeout=0.5))

    assert summary(sources)[:6] == [
        (f"{host}/missing.jpg", "HTTP 404 Not Found"),
        (f"{host}/broken.jpg", "HTTP 500 Internal Server Error"),
        (f"{host}/big.jpg", "download is 0.005 MB, over the 0.004 MB limit"),
        (f"{host}/endless.jpg", "download is more than 0.004 MB, over the 0.004 MB limit"),
        (f"{host}/slow.jpg", "download timed out after 0.5 s"),
        ("example.com/a.jpg", "unsupported URL scheme 'ftp' (only http and https)"),
    ]
    assert sources[6].name == dead.removeprefix("http://")
    assert sources[6].rejected.startswith("download failed: ")
    assert (sources[7].name, sources[7].rejected) == (f"{host}/img.jpg", None)
    assert [p.name for p in (tmp_path / "work").iterdir()] == [sources[7].path.name]
