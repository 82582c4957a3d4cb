"""The quality routes over HTTP: project checks and the consensus of an asset's annotations."""

from __future__ import annotations

import httpx
import pytest


def call(client, method: str, path: str, **kw) -> httpx.Response:
    """A request whose error answers come back as responses (Client.request raises on them)."""
    return client._http.request(method, "/api/v1" + path, **kw)


def _person(x, y, w=40, h=60):
    return {"kind": "box", "label": "person", "geometry": {"x": x, "y": y, "w": w, "h": h}}


def _car(x, plate):
    return {"kind": "box", "label": "car", "geometry": {"x": x, "y": 5, "w": 30, "h": 20}, "attributes": {"plate": plate}}


def _annotate_three(admin, asset_id):
    # the person: three nearly equal boxes; the car: plates A, A, B; a stray box only ann3 drew
    admin.put_annotation(asset_id, "ann1", [_person(2, 2), _car(10, "A")], base_revision=0)
    admin.put_annotation(asset_id, "ann2", [_car(11, "A"), _person(4, 2)], base_revision=0)
    admin.put_annotation(asset_id, "ann3", [_person(3, 5), _car(12, "B"), _person(55, 0, 5, 5)], base_revision=0)


def test_consensus_writes_the_consensus_annotation_with_its_report(admin, project):
    aid = project["assets"][0]["id"]
    _annotate_three(admin, aid)
    r = call(admin, "POST", f"/assets/{aid}/consensus", json={"owners": ["ann1", "ann2", "ann3"]})
    assert r.status_code == 200, r.text
    body = r.json()
    ann, rep = body["annotation"], body["report"]
    assert (ann["owner"], ann["revision"], ann["shape_count"]) == ("consensus", 1, 2)
    person, car = ann["shapes"]  # in ann1's order
    # person: corners x0 (2+4+3)/3 = 3, y0 (2+2+5)/3 = 3, x1 (42+44+43)/3 = 43, y1 (62+62+65)/3 = 63
    assert person["label"] == "person" and person["source"] == "consensus" and person["confidence"] == 1.0
    assert person["geometry"] == pytest.approx({"x": 3, "y": 3, "w": 40, "h": 60})
    assert car["attributes"]["plate"] == "A" and car["geometry"]["x"] == pytest.approx(11)
    assert (rep["clusters"], rep["kept"], rep["dropped_below_quorum"], rep["votes_needed"]) == (3, 2, 1, 2)
    assert rep["annotators"] == ["ann1", "ann2", "ann3"]
    stored = admin.get_annotation(aid, "consensus")
    assert [s["geometry"] for s in stored["shapes"]] == [s["geometry"] for s in ann["shapes"]]

    # again, with a stricter quorum: written on top of the current revision
    again = call(admin, "POST", f"/assets/{aid}/consensus", json={"owners": ["ann1", "ann2", "ann3"], "quorum": 1.0})
    assert again.status_code == 200 and again.json()["annotation"]["revision"] == 2
    # without owners: every person's annotation, never an earlier consensus
    default = call(admin, "POST", f"/assets/{aid}/consensus", json={})
    assert default.status_code == 200 and default.json()["report"]["annotators"] == ["ann1", "ann2", "ann3"]


def test_project_consensus_merges_every_asset_two_people_annotated(admin, project):
    pid = project["id"]
    a0, a1, a2 = (a["id"] for a in project["assets"][:3])
    _annotate_three(admin, a0)
    admin.put_annotation(a1, "ann1", [_person(2, 2)], base_revision=0)  # one person only: skipped
    admin.put_annotation(a1, "model:det", [_person(2, 2)], base_revision=0)  # a model is not a person
    admin.put_annotation(a2, "ann1", [_polygon(0)], base_revision=0)
    admin.put_annotation(a2, "ann2", [_polygon(1), _car(40, "Z")], base_revision=0)
    expected = {a: call(admin, "POST", f"/assets/{a}/consensus/preview", json={}).json() for a in (a0, a2)}

    r = call(admin, "POST", f"/projects/{pid}/consensus", json={})
    assert r.status_code == 202, r.text
    job = admin.wait_job(r.json()["id"])
    assert job["status"] == "done", job
    res = job["result"]
    assert (res["assets"], res["merged"], res["skipped"]) == (6, 2, 4)  # of the project's six images
    # a0: person and car (ann3's stray box is below the quorum of 2 of 3); a2: the polygon, and the
    # car only ann2 drew, as 1 vote of 2 meets a quorum of 0.5
    assert (res["shapes"], res["kept"], res["below_quorum"]) == (4, 4, 1)
    for a in (a0, a2):  # the very shapes the per-asset merge gives
        stored = admin.get_annotation(a, "consensus")
        assert stored["revision"] == 1
        assert [(s["kind"], s["label"], s["geometry"], s["attributes"]) for s in stored["shapes"]] == [
            (s["kind"], s["label"], s["geometry"], s["attributes"]) for s in expected[a]["annotation"]["shapes"]]
    assert "consensus" not in {x["owner"] for x in admin.list_annotations(a1)}

    # again, stricter and for one asset: written on top of the earlier consensus, never from it
    r = call(admin, "POST", f"/projects/{pid}/consensus", json={"quorum": 1.0, "asset_ids": [a0]})
    res = admin.wait_job(r.json()["id"])["result"]
    assert (res["assets"], res["merged"], res["shapes"], res["quorum"]) == (1, 1, 2, 1.0)  # all three drew both
    again = admin.get_annotation(a0, "consensus")
    assert (again["revision"], again["shape_count"]) == (2, 2)
    assert admin.get_annotation(a2, "consensus")["revision"] == 1

    bad = call(admin, "POST", f"/projects/{pid}/consensus", json={"asset_ids": [a0, 999_999]})
    assert (bad.status_code, bad.json()["field"]) == (422, "asset_ids") and "999999" in bad.json()["detail"]
    assert call(admin, "POST", f"/projects/{pid}/consensus", json={"iou": 0}).status_code == 422


def _polygon(dx: float) -> dict:
    pts = [[10 + dx, 10], [60 + dx, 12], [55 + dx, 50], [12 + dx, 45]]
    return {"kind": "polygon", "label": "road", "geometry": {"points": pts, "holes": []}}


@pytest.mark.parametrize(
    "body, status, field, words",
    [
        ({"owners": ["ann1", "nobody"]}, 404, "owners", "no annotation by 'nobody'"),
        ({"owners": ["ann1"]}, 422, "owners", "at least 2 owners"),
        ({"owners": ["ann1", "ann1"]}, 422, "owners", "repeated: ann1"),
        ({"owners": ["ann1", "ann2"], "quorum": 0}, 422, "quorum", "greater than 0"),
        ({"owners": ["ann1", "ann2"], "iou": 1.5}, 422, "iou", "less than or equal to 1"),
    ],
)
def test_consensus_refuses_bad_requests(admin, project, body, status, field, words):
    aid = project["assets"][1]["id"]
    _annotate_three(admin, aid)
    r = call(admin, "POST", f"/assets/{aid}/consensus", json=body)
    assert r.status_code == status, r.text
    assert r.json()["field"] == field and words in r.json()["detail"]


def test_consensus_of_a_missing_asset_is_404(admin):
    r = call(admin, "POST", "/assets/999999/consensus", json={})
    assert r.status_code == 404 and set(r.json()) == {"detail", "field"}


def test_project_checks_count_list_and_link_to_assets(admin, project):
    pid = project["id"]
    first = project["assets"][0]["id"]
    # the images are 64 pixels wide and about 50 high
    boxes = [_person(2, 2, 20, 20), _person(2, 2, 20, 20), _person(300, 2, 20, 20)]
    admin.put_annotation(first, "admin", boxes, base_revision=0)
    r = call(admin, "GET", f"/projects/{pid}/checks")
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["items"] == 6 and rep["shapes"] == 3
    assert rep["counts"]["unlabelled"] == 5 and rep["counts"]["duplicate"] == 1 and rep["counts"]["outside_image"] == 1
    mine = [f for f in rep["findings"] if f["asset_id"] == first]
    assert {(f["shape"], f["rule"]) for f in mine} >= {(1, "duplicate"), (2, "outside_image")}
    names = {a["id"]: a["name"] for a in project["assets"]}
    assert all(names[f["asset_id"]] == f["item"] for f in rep["findings"])
    assert rep["balance"]["labels"]["person"] == 3 and "car" in rep["balance"]["unused"]

    r = call(admin, "GET", f"/projects/{pid}/checks", params={"rule": ["unlabelled", "duplicate"], "limit": 2})
    rep = r.json()
    assert rep["counts"] == {"unlabelled": 5, "duplicate": 1} and len(rep["findings"]) == 2 and rep["truncated"]
    r = call(admin, "GET", f"/projects/{pid}/checks", params={"rule": "small_area", "min_area": 500})
    assert r.json()["counts"] == {"small_area": 3}  # 20 x 20 = 400 each
    r = call(admin, "GET", f"/projects/{pid}/checks", params={"rule": "nope"})
    assert r.status_code == 422 and r.json()["field"] == "rules" and "unknown rule nope" in r.json()["detail"]
    assert call(admin, "GET", "/projects/999999/checks").status_code == 404
