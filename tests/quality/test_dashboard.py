"""Tests for limner.quality.dashboard.project_quality on a real (SQLite) database written through
the store: agreement per pair and per label, ground-truth scores, throughput, review, comments and
progress, with values worked out by hand."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from limner.quality.dashboard import project_quality
from limner.store import Database, upgrade
from limner.store.annotations import put_annotation
from limner.store.comments import create_comment
from limner.store.models import Asset, LabelRow, Project
from limner.store.projects import create_label, create_project
from limner.store.review import review_annotation, set_ground_truth, submit_annotation
from limner.store.users import create_user


def box(x, label="car"):
    return {"kind": "box", "label": label, "geometry": {"x": x, "y": 0, "w": 10, "h": 10}}


@pytest.fixture
def db(tmp_path):
    d = Database(f"sqlite:///{tmp_path / 'q.db'}")
    upgrade(d)
    yield d
    d.dispose()


def _asset(s, pid, i) -> Asset:
    a = Asset(project_id=pid, name=f"a{i}.png", storage_key=f"k{i}", thumb_key=f"t{i}", width=100, height=50,
              checksum=f"{i:064d}", size_bytes=1, mime="image/png")
    s.add(a)
    s.flush()
    return a


def test_dashboard_figures(db):
    with db.write() as s:
        boss = create_user(s, "boss", "password-123")
        ann = {n: create_user(s, n, "password-123") for n in ("ann", "bob", "eve")}
        p = create_project(s, boss, "q")
        for name in ("car", "bus"):
            create_label(s, p.id, {"name": name, "kinds": ["box"]}, boss.id)
        a1, a2, gt = (_asset(s, p.id, i) for i in range(3))
        # a1: ann and bob agree on the car, bob adds a bus -> one match, one unmatched: F1 2/3
        put_annotation(s, a1, "ann", 0, [box(5)], ann["ann"].id)
        put_annotation(s, a1, "bob", 0, [box(6), box(60, "bus")], ann["bob"].id)
        # a2: eve draws but never submits: a draft takes no part
        put_annotation(s, a2, "eve", 0, [box(5)], ann["eve"].id)
        for n in ("ann", "bob"):
            submit_annotation(s, a1, n, ann[n].id)
        review_annotation(s, a1, "bob", "reject", "the bus is not there", boss.id)
        review_annotation(s, a1, "ann", "accept", "", boss.id)
        # ground truth: one car; ann finds it and adds a stray: accuracy 1 / 2
        put_annotation(s, gt, "reference", 0, [box(20)], boss.id)
        set_ground_truth(s, gt, "reference", boss.id)
        put_annotation(s, gt, "ann", 0, [box(21), box(70)], ann["ann"].id)
        submit_annotation(s, gt, "ann", ann["ann"].id)
        create_comment(s, a1, boss, "which bus?")
        pid = p.id
    with db.read() as s:
        q = project_quality(s, s.get(Project, pid))
    assert q["assets"] == {"total": 3, "by_status": q["assets"]["by_status"], "ground_truth": 1}
    ag = q["agreement"]
    assert ag["assets"] == 1  # a1; on the ground-truth asset the reference is a draft: ann's work has no partner
    pair = next(x for x in ag["pairs"] if (x["a"], x["b"]) == ("ann", "bob"))
    assert (pair["matched"], pair["unmatched_a"], pair["unmatched_b"]) == (1, 0, 1)
    assert pair["f1"] == pytest.approx(2 / 3, abs=1e-4) and pair["mean_iou"] == pytest.approx(90 / 110, abs=1e-4)
    labels = {x["label"]: x for x in ag["labels"]}
    assert labels["car"]["f1"] == 1.0 and labels["bus"]["f1"] == 0.0 and labels["bus"]["mean_iou"] is None
    people = {x["user"]: x for x in q["annotators"]}
    assert people["ann"]["ground_truth"]["accuracy"] == 0.5 and people["ann"]["needs_retraining"] is True
    assert people["bob"]["ground_truth"] is None and people["bob"]["needs_retraining"] is False
    assert people["ann"]["states"] == {"draft": 0, "submitted": 1, "accepted": 1, "rejected": 0}
    assert people["bob"]["states"]["rejected"] == 1 and people["eve"]["states"]["draft"] == 1
    assert (people["ann"]["submissions"], people["ann"]["shapes_submitted"]) == (2, 3)
    hours = people["ann"]["active_hours"]
    assert hours in (1, 2)  # 2 only if the test runs across the turn of an hour
    assert people["ann"]["assets_per_hour"] == 2 / hours and people["ann"]["shapes_per_hour"] == 3 / hours
    assert people["eve"]["assets_per_hour"] == 0.0  # active (she saved) but submitted nothing
    (rev,) = q["reviewers"]
    assert (rev["user"], rev["reviews"], rev["accepted"], rev["rejected"]) == ("boss", 2, 1, 1)
    assert q["comments"]["open"] == 1 and q["comments"]["assets"][0]["name"] == "a0.png"  # the asset called a1 in the test
    (day,) = q["progress"]
    assert (day["submitted"], day["accepted"], day["rejected"], day["comments"]) == (3, 1, 1, 1)


def test_agreement_is_computed_again_only_after_a_change(db):
    with db.write() as s:
        boss = create_user(s, "boss", "password-123")
        p = create_project(s, boss, "q")
        create_label(s, p.id, {"name": "car", "kinds": ["box"]}, boss.id)
        a = _asset(s, p.id, 0)
        for n in ("ann", "bob"):
            put_annotation(s, a, n, 0, [box(5), box(40)] if n == "bob" else [box(5)], boss.id)
            submit_annotation(s, a, n, boss.id)
        pid = p.id
    with db.read() as s:
        first = project_quality(s, s.get(Project, pid))
        again = project_quality(s, s.get(Project, pid))
    assert first["agreement"]["pairs"][0]["f1"] == again["agreement"]["pairs"][0]["f1"] == pytest.approx(2 / 3, abs=1e-4)
    with db.write() as s:
        put_annotation(s, s.get(Asset, a.id), "bob", 1, [box(5)], boss.id)  # bob drops his second box
    with db.read() as s:
        after = project_quality(s, s.get(Project, pid))
    assert after["agreement"]["pairs"][0]["f1"] == 1.0
    with db.write() as s:  # a label renamed shows under its new name
        s.scalar(select(LabelRow).where(LabelRow.project_id == pid)).name = "auto"
    with db.read() as s:
        renamed = project_quality(s, s.get(Project, pid))
    assert [x["label"] for x in renamed["agreement"]["labels"]] == ["auto"]
