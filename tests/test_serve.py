"""`limner serve` and `limner demo` as real processes, used through the SDK as a user would."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from limner.client import Client

from .conftest import free_port  # noqa: E402  (tests are imported as a package by importlib mode)


def _start(args: list[str], tmp_path: Path) -> tuple[subprocess.Popen, str, list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIMNER_")}
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "limner", *args, "--data-dir", str(tmp_path / "data"), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path,
    )
    lines: list[str] = []
    link = ""
    end = time.monotonic() + 90
    while time.monotonic() < end:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"(http://127\.0\.0\.1:\d+/login\?token=\S+)", line)
        if m:
            link = m.group(1)
            break
    assert link, "no login link printed:\n" + "".join(lines)
    url = f"http://127.0.0.1:{port}"
    while time.monotonic() < end:
        try:
            if httpx.get(url + "/api/v1/health", timeout=1).status_code == 200:
                return proc, link, lines
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("server did not answer:\n" + "".join(lines))


def _stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def _token_from_link(link: str) -> tuple[str, str]:
    """Follow the one-time link like a browser, then make an API token with that session."""
    base = link.split("/login")[0]
    with httpx.Client(base_url=base) as browser:
        r = browser.get(link, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/"
        csrf = browser.cookies["limner_csrf"]
        me = browser.get("/api/v1/auth/me").json()
        assert me["is_admin"] is True
        tok = browser.post("/api/v1/tokens", json={"name": "sdk"}, headers={"X-CSRF-Token": csrf}).json()["token"]
        assert browser.get(link, follow_redirects=False).status_code == 401  # used once
    return base, tok


def test_serve_subprocess_through_the_sdk(tmp_path, images):
    proc, link, lines = _start(["serve"], tmp_path)
    try:
        assert link.startswith("http://127.0.0.1:")
        base, token = _token_from_link(link)
        with Client(base, token) as c:
            p = c.create_project("from the sdk")
            c.create_label(p["id"], "bird", kinds=["box"])
            r = c.upload(p["id"], [images])
            assert r["counts"]["added"] == 6
            aid = r["added"][0]["id"]
            c.put_annotation(aid, "admin", [{"kind": "box", "label": "bird", "geometry": {"x": 1, "y": 1, "w": 4, "h": 4}}], base_revision=0)
            assert c.get_annotation(aid, "admin")["shapes"][0]["geometry"]["w"] == 4.0
            assert c.list_assets(p["id"])["total"] == 6
            r = httpx.get(base + "/api/docs")
            assert r.status_code == 200 and "swagger" in r.text.lower()
    finally:
        out = "".join(lines) + _stop(proc)
    assert "Traceback" not in out
    # quiet logs: one access line per request at most, never a line twice in a row
    access = [ln for ln in out.splitlines() if re.search(r"GET /api/v1/projects/\d+/assets 200 [\d.]+ms$", ln)]
    assert len(access) == 1, out
    lines_out = [ln for ln in out.splitlines() if ln.strip()]
    assert all(a != b for a, b in zip(lines_out, lines_out[1:])), "a log line was printed twice"
    assert (tmp_path / "data" / "limner.db").exists() and (tmp_path / "data" / "media").is_dir()


def test_demo_has_every_shape_kind(tmp_path):
    proc, link, lines = _start(["demo"], tmp_path)
    try:
        assert any("Demo project" in ln for ln in lines)
        base, token = _token_from_link(link)
        with Client(base, token) as c:
            (p,) = c.list_projects()
            assets = c.list_assets(p["id"])
            assert assets["total"] == 9
            kinds, done = set(), 0
            for a in assets["items"]:
                done += a["status"] == "done"
                for ann in a["annotations"]:
                    kinds |= {s["kind"] for s in c.get_annotation(a["id"], ann["owner"])["shapes"]}
            assert kinds == {"tag", "box", "rotated_box", "polygon", "polyline", "points", "skeleton", "ellipse", "mask"}
            assert done >= 4
            labels = {lb["name"]: lb for lb in c.list_labels(p["id"])}
            assert labels["outdoor"]["parent"] == "scene" and labels["upper body"]["skeleton"]["edges"]
            img = c.image(assets["items"][0]["id"])
            assert img[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        _stop(proc)
    # a second start finds the demo in place and does not duplicate it
    proc, link, lines = _start(["demo"], tmp_path)
    try:
        assert any("already there" in ln for ln in lines)
    finally:
        _stop(proc)
