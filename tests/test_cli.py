"""The `limner` command as a user runs it: a real process on a real data folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from limner import __version__


def run(*args: str, cwd: Path, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if not k.startswith("LIMNER_")} | (env or {})
    p = subprocess.run([sys.executable, "-m", "limner", *args], cwd=cwd, env=e, capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError(f"limner {' '.join(args)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


def test_version_and_help_create_nothing(tmp_path):
    assert run("--version", cwd=tmp_path).stdout.strip() == f"limner {__version__}"
    for args in (["--help"], ["serve", "--help"], ["assets", "add", "--help"], ["users", "--help"]):
        out = run(*args, cwd=tmp_path).stdout
        assert "Usage" in out
    assert list(tmp_path.iterdir()) == []


def test_db_upgrade_then_current(tmp_path):
    d = tmp_path / "data"
    assert "(migrated)" in run("db", "upgrade", "--data-dir", str(d), cwd=tmp_path).stdout
    assert "(already current)" in run("db", "upgrade", "--data-dir", str(d), cwd=tmp_path).stdout
    assert (d / "limner.db").exists()


def test_users_projects_and_assets_add(tmp_path, images):
    d = str(tmp_path / "data")
    out = run("users", "add", "maria", "--password", "long-enough-pw", "--data-dir", d, cwd=tmp_path).stdout
    assert "created user maria (id 1)" in out
    bad = run("users", "add", "maria", "--password", "long-enough-pw", "--data-dir", d, cwd=tmp_path, check=False)
    assert bad.returncode == 1 and "the username 'maria' is taken" in bad.stderr
    short = run("users", "add", "li", "--password", "short", "--data-dir", d, cwd=tmp_path, check=False)
    assert "at least 8 characters" in short.stderr
    assert "maria" in run("users", "list", "--data-dir", d, cwd=tmp_path).stdout
    assert "created project 1: Birds (owner maria)" in run(
        "projects", "create", "Birds", "--owner", "maria", "--data-dir", d, cwd=tmp_path
    ).stdout
    (images / "notes.txt").write_text("not an image")
    added = run("assets", "add", "Birds", str(images), "--data-dir", d, cwd=tmp_path)
    assert "added 6, skipped 0 already in the project, rejected 1" in added.stdout
    assert "rejected notes.txt: not an image extension" in added.stdout
    again = run("assets", "add", "1", str(images / "img0.jpg"), "--data-dir", d, cwd=tmp_path)
    assert "added 0, skipped 1 already in the project" in again.stdout
    listing = run("projects", "list", "--data-dir", d, cwd=tmp_path).stdout
    assert "Birds" in listing and " 6 " in listing
    role = run("users", "set-role", "maria", "reviewer", "--project", "Birds", "--data-dir", d, cwd=tmp_path, check=False)
    assert role.returncode == 1 and "at least one owner" in role.stderr
    run("users", "add", "ana", "--password", "long-enough-pw", "--data-dir", d, cwd=tmp_path)
    assert "ana is annotator in project 1" in run(
        "users", "set-role", "ana", "annotator", "--project", "1", "--data-dir", d, cwd=tmp_path
    ).stdout
    assert "ana is now an administrator" in run("users", "set-role", "ana", "admin", "--data-dir", d, cwd=tmp_path).stdout


def test_unknown_project_is_named(tmp_path, images):
    d = str(tmp_path / "data")
    p = run("assets", "add", "Nope", str(images), "--data-dir", d, cwd=tmp_path, check=False)
    assert p.returncode == 1 and "no project 'Nope'" in p.stderr


def test_settings_from_environment(tmp_path):
    d = tmp_path / "envdata"
    run("db", "upgrade", cwd=tmp_path, env={"LIMNER_DATA_DIR": str(d)})
    assert (d / "limner.db").exists()
    bad = run("db", "upgrade", cwd=tmp_path, env={"LIMNER_PORT": "eighty"}, check=False)
    assert bad.returncode != 0 and "LIMNER_PORT must be a whole number, got 'eighty'" in bad.stderr


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_bool_settings_parse(value):
    from limner.settings import load_settings

    assert load_settings({"LIMNER_SECURE_COOKIES": value}).secure_cookies is True
