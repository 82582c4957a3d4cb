"""The review workflow over HTTP: overlap, per-annotator queues, privacy until review, submission,
verdicts per asset and per shape, rework with reasons, ground truth mixed into queues, task stages,
open comment counts, and the audit trail of it all."""

from __future__ import annotations

import uuid

import httpx
import pytest


def call(client, method: str, path: str, **kw) -> httpx.Response:
    """A request whose error answers come back as responses (Client.request raises on them)."""
    return client._http.request(method, "/api/v1" + path, **kw)


def ok(client, method: str, path: str, **kw) -> dict:
    r = call(client, method, path, **kw)
    assert r.status_code < 300, r.text
    return r.json() if r.content else {}


def box(x, label="car"):
    return {"kind": "box", "label": label, "geometry": {"x": x, "y": 4, "w": 20, "h": 10}}


@pytest.fixture
def team(live, admin, images):
    """A project of six assets with three annotators and a reviewer; overlap 2."""
    p = admin.create_project(f"review-{uuid.uuid4().hex[:6]}")
    admin.create_label(p["id"], "car", kinds=["box"])
    admin.create_label(p["id"], "bus", kinds=["box"])
    admin.upload(p["id"], [images])
    assets = [a["id"] for a in admin.list_assets(p["id"])["items"]]
    people = {}
    for role, n in (("annotator", 3), ("reviewer", 1)):
        for i in range(n):
            u, c = live.new_user(role)
            admin.add_member(p["id"], u["username"], role)
            people[f"{role}{i}"] = (u["username"], c)
    ok(admin, "PATCH", f"/projects/{p['id']}/quality/settings", json={"overlap": 2})
    yield p["id"], assets, people
    for _, c in people.values():
        c.close()


def test_quality_settings_are_validated_and_kept(admin, team):
    pid, _, people = team
    assert ok(admin, "GET", f"/projects/{pid}/quality/settings") == {"overlap": 2, "ground_truth_rate": 0.0, "retrain_threshold": 0.8}
    r = call(admin, "PATCH", f"/projects/{pid}/quality/settings", json={"overlap": 0})
    assert r.status_code == 422 and r.json()["field"] == "overlap" and "between 1 and 50" in r.json()["detail"]
    r = call(admin, "PATCH", f"/projects/{pid}/quality/settings", json={"ground_truth_rate": 1.5})
    assert r.status_code == 422 and r.json()["field"] == "ground_truth_rate"
    _, ann = people["annotator0"]
    assert call(ann, "PATCH", f"/projects/{pid}/quality/settings", json={"overlap": 3}).status_code == 403
    assert ok(admin, "PATCH", f"/projects/{pid}/quality/settings", json={"retrain_threshold": 0.5})["retrain_threshold"] == 0.5


def test_overlap_queue_privacy_submission_and_review(admin, team):
    pid, assets, people = team
    (n0, a0), (n1, a1), (n2, a2) = people["annotator0"], people["annotator1"], people["annotator2"]
    rname, rev = people["reviewer0"]
    first = assets[0]
    q0 = ok(a0, "GET", f"/projects/{pid}/queue?limit=3")
    assert q0["total"] == 6 and [it["id"] for it in q0["items"]] == assets[:3]
    assert "ground_truth_owner" not in q0["items"][0]

    # two annotators work on the first asset; neither sees the other's work
    a0.put_annotation(first, n0, [box(5), box(40)], base_revision=0)
    a1.put_annotation(first, n1, [box(6, "bus")], base_revision=0)
    assert [x["owner"] for x in a0.list_annotations(first)] == [n0]
    hidden = a0.get_annotation(first, n1)
    assert (hidden["revision"], hidden["shapes"], hidden["owner"]) == (0, [], n1)
    listed = {it["id"]: it for it in a0.list_assets(pid)["items"]}
    assert [x["owner"] for x in listed[first]["annotations"]] == [n0] and listed[first]["shape_count"] == 2
    assert listed[first]["status"] == "in_progress"
    # the reviewer and the manager see both
    assert {x["owner"] for x in rev.list_annotations(first)} == {n0, n1}
    assert rev.get_annotation(first, n1)["shape_count"] == 1

    # submitting: the first submission leaves the asset in progress, the second (overlap 2) sends it to review
    r = call(a0, "POST", f"/assets/{first}/annotations/{n1}/submit")
    assert r.status_code == 403
    r = call(a2, "POST", f"/assets/{first}/annotations/{n2}/submit")
    assert r.status_code == 404 and "save it first" in r.json()["detail"]
    assert ok(a0, "POST", f"/assets/{first}/annotations/{n0}/submit")["state"] == "submitted"
    assert call(a0, "POST", f"/assets/{first}/annotations/{n0}/submit").status_code == 409
    assert admin.get_asset(first)["status"] == "in_progress"
    # a0 is done with it: it leaves their queue; a2 still gets it (1 of 2 completed)
    assert first not in [it["id"] for it in ok(a0, "GET", f"/projects/{pid}/queue?limit=10")["items"]]
    assert first in [it["id"] for it in ok(a2, "GET", f"/projects/{pid}/queue?limit=10")["items"]]
    assert a0.get_asset(first)["status"] == "review"  # their own view: their part is in review
    ok(a1, "POST", f"/assets/{first}/annotations/{n1}/submit")
    assert admin.get_asset(first)["status"] == "review"
    # two completed of two: nobody else is offered it
    assert first not in [it["id"] for it in ok(a2, "GET", f"/projects/{pid}/queue?limit=10")["items"]]

    # review: a draft or a missing reason are refused; a per-shape verdict names a real shape
    r = call(rev, "POST", f"/assets/{first}/annotations/{n0}/review", json={"verdict": "reject"})
    assert r.status_code == 422 and r.json()["field"] == "body.reason"
    r = call(rev, "PUT", f"/assets/{first}/annotations/{n0}/shapes/7/review", json={"verdict": "reject", "reason": "x"})
    assert r.status_code == 422 and "has 2 shapes" in r.json()["detail"]
    r = call(a1, "POST", f"/assets/{first}/annotations/{n0}/review", json={"verdict": "accept"})
    assert r.status_code == 403
    ok(rev, "PUT", f"/assets/{first}/annotations/{n0}/shapes/1/review", json={"verdict": "reject", "reason": "not a car"})
    body = ok(rev, "POST", f"/assets/{first}/annotations/{n0}/review", json={
        "verdict": "reject", "reason": "the second box is a shadow",
        "shapes": [{"index": 0, "verdict": "accept"}],
    })
    assert body["state"] == "rejected" and body["verdict"]["reason"] == "the second box is a shadow"
    assert [(v["index"], v["verdict"], v["reason"]) for v in body["shape_verdicts"]] == [(0, "accept", ""), (1, "reject", "not a car")]
    assert admin.get_asset(first)["status"] == "in_progress"

    # the annotator reads the reasons, reworks and submits again; their queue puts the rework first
    q = ok(a0, "GET", f"/projects/{pid}/queue?limit=2")
    assert q["items"][0]["id"] == first
    mine = ok(a0, "GET", f"/assets/{first}/review")
    assert [a["owner"] for a in mine["annotations"]] == [n0]
    assert mine["annotations"][0]["verdict"]["reason"] == "the second box is a shadow"
    assert mine["annotations"][0]["shape_verdicts"][1]["reason"] == "not a car"
    a0.put_annotation(first, n0, [box(5)], base_revision=1)
    ok(a0, "POST", f"/assets/{first}/annotations/{n0}/submit")
    assert admin.get_asset(first)["status"] == "review"

    # accepting the asset accepts every submitted annotation and makes it done
    state = ok(rev, "POST", f"/assets/{first}/review", json={"verdict": "accept", "reason": "good"})
    assert state["status"] == "done"
    assert {a["owner"]: a["state"] for a in state["annotations"]} == {n0: "accepted", n1: "accepted"}
    history = {a["owner"]: a["history"] for a in state["annotations"]}[n0]
    assert [(h["verdict"], h["revision"]) for h in history] == [("accept", 2), ("reject", 1)]
    assert call(rev, "POST", f"/assets/{first}/review", json={"verdict": "accept"}).status_code == 409

    # every step is in the audit log
    events = admin.request("GET", f"/projects/{pid}/audit", params={"limit": 200}).json()["items"]
    actions = [(e["action"], e["object_type"]) for e in events]
    for want in [("submit", "annotation"), ("reject", "annotation"), ("accept", "annotation"), ("reject", "shape")]:
        assert want in actions, want


def test_task_overlap_and_stages_follow_the_review(admin, team):
    pid, assets, people = team
    (n0, a0) = people["annotator0"]
    _, rev = people["reviewer0"]
    t = ok(admin, "POST", f"/projects/{pid}/tasks", json={"name": "solo", "asset_ids": assets[4:6], "assignees": [n0], "overlap": 1})
    assert t["overlap"] == 1
    r = call(admin, "PATCH", f"/tasks/{t['id']}", json={"overlap": 0})
    assert r.status_code == 422 and r.json()["field"] == "overlap"
    # the assigned task comes first in the queue
    q = ok(a0, "GET", f"/projects/{pid}/queue?limit=2")
    assert [it["id"] for it in q["items"]] == assets[4:6]
    for aid in assets[4:6]:
        a0.put_annotation(aid, n0, [box(3)], base_revision=0)
        ok(a0, "POST", f"/assets/{aid}/annotations/{n0}/submit")
    assert ok(admin, "GET", f"/tasks/{t['id']}")["stage"] == "review"
    # rejecting one sends the task back to annotate (rework), accepting both finishes it
    ok(rev, "POST", f"/assets/{assets[4]}/review", json={"verdict": "reject", "reason": "too loose"})
    assert ok(admin, "GET", f"/tasks/{t['id']}")["stage"] == "annotate"
    ok(a0, "POST", f"/assets/{assets[4]}/annotations/{n0}/submit")
    ok(rev, "POST", f"/assets/{assets[4]}/review", json={"verdict": "accept"})
    ok(rev, "POST", f"/assets/{assets[5]}/review", json={"verdict": "accept"})
    assert ok(admin, "GET", f"/tasks/{t['id']}")["stage"] == "done"
    # null overlap follows the project's again
    assert ok(admin, "PATCH", f"/tasks/{t['id']}", json={"overlap": None})["overlap"] is None


def test_ground_truth_is_mixed_in_and_indistinguishable(admin, team):
    pid, assets, people = team
    n0, a0 = people["annotator0"]
    gt_asset = assets[3]
    admin.put_annotation(gt_asset, "reference", [box(10)], base_revision=0)
    r = call(admin, "PUT", f"/assets/{gt_asset}/ground-truth", json={"owner": "nobody"})
    assert r.status_code == 422 and r.json()["field"] == "owner"
    ok(admin, "PUT", f"/assets/{gt_asset}/ground-truth", json={"owner": "reference"})
    assert ok(admin, "GET", f"/projects/{pid}/ground-truth")["items"] == [
        {"asset_id": gt_asset, "name": admin.get_asset(gt_asset)["name"], "owner": "reference"}
    ]
    assert call(a0, "GET", f"/projects/{pid}/ground-truth").status_code == 403
    # rate 0: never offered; rate 0.5: every second asset is ground truth
    assert gt_asset not in [it["id"] for it in ok(a0, "GET", f"/projects/{pid}/queue?limit=10")["items"]]
    ok(admin, "PATCH", f"/projects/{pid}/quality/settings", json={"ground_truth_rate": 0.5})
    q = ok(a0, "GET", f"/projects/{pid}/queue?limit=4")
    ids = [it["id"] for it in q["items"]]
    assert ids[1] == gt_asset and gt_asset not in ids[:1] + ids[2:]
    regular = q["items"][0]
    honeypot = q["items"][1]
    assert honeypot.keys() == regular.keys()
    assert (honeypot["status"], honeypot["shape_count"]) == ("new", 0)  # the reference's shapes are not counted
    # the reference stays hidden, on every route
    assert a0.list_annotations(gt_asset) == []
    assert a0.get_annotation(gt_asset, "reference")["shapes"] == []
    assert a0.get_asset(gt_asset)["shape_count"] == 0
    assert "ground_truth_owner" not in a0.get_asset(gt_asset)
    # the annotator's work is scored against it on the dashboard
    a0.put_annotation(gt_asset, n0, [box(10), box(60)], base_revision=0)
    before = admin.get_asset(gt_asset)["status"]
    ok(a0, "POST", f"/assets/{gt_asset}/annotations/{n0}/submit")
    assert admin.get_asset(gt_asset)["status"] == before  # a ground-truth asset's status stays the manager's
    assert a0.get_asset(gt_asset)["status"] == "review"  # while the annotator sees their part in review
    dash = ok(admin, "GET", f"/projects/{pid}/quality")
    me = next(x for x in dash["annotators"] if x["user"] == n0)
    # one valid, one extra: accuracy 1 / 2, below the 0.8 threshold
    assert me["ground_truth"]["valid"] == 1 and me["ground_truth"]["extra"] == 1
    assert me["ground_truth"]["accuracy"] == 0.5 and me["needs_retraining"] is True
    ok(admin, "DELETE", f"/assets/{gt_asset}/ground-truth")
    assert ok(admin, "GET", f"/projects/{pid}/ground-truth")["items"] == []


def test_open_comments_are_counted_in_the_asset_list(admin, team):
    pid, assets, _ = team
    c1 = admin.add_comment(assets[0], "open one")
    admin.add_comment(assets[0], "a reply does not count", parent_id=c1["id"])
    admin.add_comment(assets[0], "another open")
    c3 = admin.add_comment(assets[1], "resolved later")
    admin.update_comment(c3["id"], resolved=True)
    items = {it["id"]: it for it in admin.list_assets(pid)["items"]}
    assert [items[a]["open_comments"] for a in assets[:3]] == [2, 0, 0]
    assert admin.get_asset(assets[0])["open_comments"] == 2


def test_consensus_preview_writes_nothing(admin, team):
    pid, assets, _ = team
    aid = assets[2]
    admin.put_annotation(aid, "p1", [box(5)], base_revision=0)
    admin.put_annotation(aid, "p2", [box(7)], base_revision=0)
    body = ok(admin, "POST", f"/assets/{aid}/consensus/preview", json={})
    assert body["annotation"]["revision"] is None and body["annotation"]["shapes"][0]["geometry"]["x"] == pytest.approx(6)
    assert "consensus" not in [a["owner"] for a in admin.list_annotations(aid)]
