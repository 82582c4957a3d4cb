"""`limner convert`, `limner export` and `limner import` as a user runs them."""

from __future__ import annotations

from pathlib import Path

from .test_cli import run  # noqa: E402

PEER = Path(__file__).resolve().parents[2] / "shared/peer-data/datumaro/tests/assets"


def test_convert_finds_the_source_format_and_says_what_it_dropped(tmp_path):
    out = tmp_path / "yolo"
    p = run("convert", str(PEER / "coco_dataset/coco_instances"), str(out), "--to", "yolo", cwd=tmp_path)
    assert "as coco: 2 images" in p.stderr
    assert "polygons written as their bounding boxes" in p.stderr
    assert (out / "data.yaml").exists() and len(list((out / "labels").rglob("*.txt"))) == 2


def test_convert_errors_name_the_problem(tmp_path):
    bad = run("convert", str(tmp_path / "missing"), str(tmp_path / "o"), "--to", "yolo", cwd=tmp_path, check=False)
    assert bad.returncode == 1 and "no such file or folder" in bad.stderr
    unknown = run("convert", str(PEER / "coco_dataset/coco_instances"), str(tmp_path / "o"), "--to", "nope", cwd=tmp_path, check=False)
    assert unknown.returncode == 1 and "unknown format 'nope'" in unknown.stderr
    assert "coco" in run("formats", cwd=tmp_path).stdout


def test_import_then_export_round_trip(tmp_path, images):
    d = str(tmp_path / "data")
    run("projects", "create", "P", "--data-dir", d, cwd=tmp_path)
    src = PEER / "coco_dataset/coco_instances"
    p = run("import", "P", str(src), "--data-dir", d, cwd=tmp_path)
    assert "imported 3 shapes on 2 images" in p.stdout and "2 images added" in p.stdout
    out = tmp_path / "cvat"
    e = run("export", "P", str(out), "--format", "cvat", "--data-dir", d, cwd=tmp_path)
    assert "exported 2 images, 3 shapes" in e.stderr
    xml = next(out.rglob("*.xml")).read_text()
    assert xml.count("<image ") == 2
