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
