"""`limner models add|list|remove|test` as a user runs them: a real process on a real data folder."""

from __future__ import annotations

import json

import numpy as np

from .assist._onnx_models import yolo
from .test_cli import run


def test_add_list_test_remove(tmp_path):
    d = str(tmp_path / "data")
    run("projects", "create", "P", "--data-dir", d, cwd=tmp_path)
    cand = np.zeros((6, 20), np.float32)
    cand[:, 0] = [320, 240, 100, 100, 0.8, 0.1]
    path = yolo(tmp_path / "det.onnx", cand, names={0: "car", 1: "bus"})
    out = run("models", "add", "det", "--kind", "detector", "--type", "onnx_yolo", "--project", "P", "--set", f"path={path}",
              "--set", "confidence=0.5", "--data-dir", d, cwd=tmp_path).stdout  # fmt: skip
    assert "added model 1: det (detector, onnx_yolo) in project 1" in out
    out = run("models", "add", "wand", "--kind", "interactor", "--type", "builtin", "--config", '{"tool": "magic_wand"}',
              "--data-dir", d, cwd=tmp_path).stdout  # fmt: skip
    assert "site-wide" in out
    listed = run("models", "list", "--project", "P", "--data-dir", d, cwd=tmp_path).stdout
    assert "det" in listed and "wand" in listed and "site-wide" in listed and "project 1" in listed
    assert "det" not in run("models", "list", "--data-dir", d, cwd=tmp_path).stdout
    report = json.loads(run("models", "test", "det", "--project", "P", "--json", "--data-dir", d, cwd=tmp_path).stdout)
    assert report["output"]["labels"] == {"car": 1} and report["image"] == {"width": 640, "height": 480}
    shown = run("models", "test", "wand", "--data-dir", d, cwd=tmp_path).stdout
    assert "Timings" in shown and "precompute" in shown and "mask_pixels" in shown
    assert "removed model 1: det" in run("models", "remove", "det", "--project", "P", "--data-dir", d, cwd=tmp_path).stdout
    assert "det" not in run("models", "list", "--project", "P", "--data-dir", d, cwd=tmp_path).stdout


def test_errors_name_the_problem(tmp_path):
    d = str(tmp_path / "data")
    bad = run("models", "add", "x", "--kind", "detector", "--type", "onnx_yolo", "--set", "path=/nowhere/m.onnx",
              "--data-dir", d, cwd=tmp_path, check=False)  # fmt: skip
    assert bad.returncode == 1 and "no ONNX model file at /nowhere/m.onnx" in bad.stderr
    bad = run("models", "add", "x", "--kind", "tracker", "--type", "builtin", "--data-dir", d, cwd=tmp_path, check=False)
    assert bad.returncode == 1 and "not a 'tracker'" in bad.stderr
    bad = run("models", "remove", "ghost", "--data-dir", d, cwd=tmp_path, check=False)
    assert bad.returncode == 1 and "no model 'ghost'" in bad.stderr


def test_a_kept_scribble_classifier_is_tested_and_removed_with_its_file(tmp_path):
    """A classifier kept in the server's media store: `models test` reads it from there, and
    `models remove` deletes its stored file with the row."""
    from limner import assist
    from limner.assist_calls import KEPT, store_classifier
    from limner.settings import load_settings
    from limner.media.storage import storage_from_url
    from limner.store import assistants
    from limner.store.db import Database

    d = tmp_path / "data"
    run("projects", "create", "P", "--data-dir", str(d), cwd=tmp_path)
    img = np.full((120, 160, 3), (40, 120, 40), np.uint8)
    img[30:90, 40:110] = (230, 200, 40)
    tool = assist.get("interactor", "scribble")
    fg = assist.Scribble([(50, 60), (100, 60)], True, 3)
    bg = assist.Scribble([(5, 5), (150, 5), (150, 110), (5, 110)], False, 3)
    tool.predict(img, assist.Prompt(scribbles=[fg, bg]), tool.precompute(img))
    settings = load_settings({}, data_dir=str(d))
    storage = storage_from_url(settings.media_location)
    key = store_classifier(storage, 1, tool.last_model.dumps())
    db = Database(settings.db_url)
    try:
        with db.write() as s:
            assistants.keep_model(s, 1, "yellow", KEPT, {"key": key, "options": {}}, None)
    finally:
        db.dispose()
    report = json.loads(run("models", "test", "yellow", "--project", "P", "--json", "--data-dir", str(d), cwd=tmp_path).stdout)
    assert report["type"] == KEPT and report["image"] == {"width": 640, "height": 480}
    assert storage.exists(key)
    out = run("models", "remove", "yellow", "--project", "P", "--data-dir", str(d), cwd=tmp_path).stdout
    assert "removed model 1: yellow" in out
    assert not storage.exists(key)
