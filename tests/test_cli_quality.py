"""`limner check` as a user runs it: a real process on a real data folder."""

from __future__ import annotations

import json

from limner.settings import load_settings
from limner.store import Database
from limner.store.annotations import put_annotation
from limner.store.models import Asset
from limner.store.projects import create_label

from .test_cli import run


def _annotate(data_dir: str) -> dict[str, int]:
    """Labels and annotations written through the store: img0 gets a duplicate box and a tiny box,
    img1 a box reaching outside; the other images stay unlabelled. Returns name -> asset id."""
    db = Database(load_settings(data_dir=data_dir).db_url)
    try:
        with db.write() as s:
            create_label(s, 1, {"name": "car", "kinds": ["box"]}, None)
            create_label(s, 1, {"name": "tree", "kinds": ["polygon"]}, None)
            assets = {a.name: a for a in s.query(Asset).order_by(Asset.id)}
            box = {"kind": "box", "label": "car", "geometry": {"x": 2, "y": 2, "w": 20, "h": 20}}
            tiny = {"kind": "box", "label": "car", "geometry": {"x": 30, "y": 30, "w": 2, "h": 2}}
            wide = {"kind": "box", "label": "car", "geometry": {"x": 50, "y": 2, "w": 40, "h": 10}}
            put_annotation(s, assets["img0.jpg"], "maria", 0, [box, box, tiny], None)
            put_annotation(s, assets["img1.jpg"], "maria", 0, [wide], None)
            return {n: a.id for n, a in assets.items()}
    finally:
        db.dispose()


def test_check_prints_counts_findings_and_balance(tmp_path, images):
    d = str(tmp_path / "data")
    run("projects", "create", "P", "--data-dir", d, cwd=tmp_path)
    run("assets", "add", "P", str(images), "--data-dir", d, cwd=tmp_path)
    ids = _annotate(d)

    out = run("check", "P", "--json", "--data-dir", d, cwd=tmp_path)
    report = json.loads(out.stdout)
    assert report["items"] == 6 and report["shapes"] == 4
    # counts 3, 1, 0, 0, 0, 0: median 0 and MAD 0, so the mean absolute deviation (4/6) scales the
    # z-score: 3 / (1.253314 * 0.667) = 3.59 makes img0 an outlier
    assert {k: v for k, v in report["counts"].items() if v} == {
        "unlabelled": 4, "duplicate": 1, "small_area": 1, "outside_image": 1, "count_outlier": 1,
    }
    first = report["findings"][:4]
    assert [(f["item"], f["shape"], f["rule"], f["asset_id"]) for f in first] == [
        ("img0.jpg", None, "count_outlier", ids["img0.jpg"]),
        ("img0.jpg", 1, "duplicate", ids["img0.jpg"]),
        ("img0.jpg", 2, "small_area", ids["img0.jpg"]),
        ("img1.jpg", 0, "outside_image", ids["img1.jpg"]),
    ]
    assert report["balance"]["labels"] == {"car": 4, "tree": 0} and report["balance"]["unused"] == ["tree"]

    table = run("check", "1", "--data-dir", d, cwd=tmp_path).stdout
    assert "checked 6 images, 4 shapes" in table and "8 findings" in table
    assert "unlabelled" in table and "duplicates shapes[0] (car, IoU" in table and "Class balance" in table

    only = json.loads(run("check", "P", "--rule", "duplicate", "-r", "small_area", "--json", "--data-dir", d, cwd=tmp_path).stdout)
    assert only["counts"] == {"duplicate": 1, "small_area": 1}
    assert json.loads(run("check", "P", "--min-area", "2", "--json", "--data-dir", d, cwd=tmp_path).stdout)["counts"]["small_area"] == 0


def test_check_errors_name_the_problem(tmp_path):
    d = str(tmp_path / "data")
    run("projects", "create", "P", "--data-dir", d, cwd=tmp_path)
    bad = run("check", "P", "--rule", "nope", "--data-dir", d, cwd=tmp_path, check=False)
    assert bad.returncode == 1 and "unknown rule nope; rules are outside_image" in bad.stderr
    missing = run("check", "Q", "--data-dir", d, cwd=tmp_path, check=False)
    assert missing.returncode == 1 and "no project 'Q'" in missing.stderr
    empty = json.loads(run("check", "P", "--json", "--data-dir", d, cwd=tmp_path).stdout)
    assert empty["items"] == 0 and empty["total"] == 0 and empty["balance"]["ratio"] is None


def test_consensus_merges_the_project_and_says_what_it_did(tmp_path, images):
    d = str(tmp_path / "data")
    run("projects", "create", "P", "--data-dir", d, cwd=tmp_path)
    run("assets", "add", "P", str(images), "--data-dir", d, cwd=tmp_path)
    db = Database(load_settings(data_dir=d).db_url)
    try:
        with db.write() as s:
            create_label(s, 1, {"name": "car", "kinds": ["box"]}, None)
            assets = {a.name: a for a in s.query(Asset).order_by(Asset.id)}
            box = {"kind": "box", "label": "car", "geometry": {"x": 10, "y": 10, "w": 20, "h": 20}}
            moved = {"kind": "box", "label": "car", "geometry": {"x": 12, "y": 10, "w": 20, "h": 20}}
            stray = {"kind": "box", "label": "car", "geometry": {"x": 60, "y": 60, "w": 5, "h": 5}}
            put_annotation(s, assets["img0.jpg"], "maria", 0, [box], None)
            put_annotation(s, assets["img0.jpg"], "omar", 0, [moved], None)
            put_annotation(s, assets["img0.jpg"], "li", 0, [box, stray], None)
            put_annotation(s, assets["img1.jpg"], "maria", 0, [box], None)
            img0 = assets["img0.jpg"].id
    finally:
        db.dispose()

    out = run("consensus", "P", "--data-dir", d, cwd=tmp_path)
    assert ("consensus of 1 assets written (1 shapes; clusters: 1 kept, 1 below the quorum, 0 label ties); "
            "5 assets with fewer than two people's annotations skipped") in out.stderr.replace("\n", " ")
    db = Database(load_settings(data_dir=d).db_url)
    try:
        with db.read() as s:
            from limner.store.annotations import get_annotation

            merged = get_annotation(s, s.get(Asset, img0), "consensus")
    finally:
        db.dispose()
    # the mean of the three boxes' corners: x0 (10 + 12 + 10) / 3
    assert [sh["geometry"] for sh in merged["shapes"]] == [{"x": 32 / 3, "y": 10.0, "w": 20.0, "h": 20.0}]
    bad = run("consensus", "P", "--quorum", "0", "--data-dir", d, cwd=tmp_path, check=False)
    assert bad.returncode == 1 and "quorum is a share of the owners in (0, 1], got 0.0" in bad.stderr
