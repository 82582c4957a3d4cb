"""Review and comments in the workspace, in real Chromium against the real server: pinned
comments with an open count, the versions of an asset with their disagreements, a consensus, a
rejection that comes back to the annotator with its reason, and an annotator's submit."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from PIL import Image

from ._browser import logged_in, next_frames, to_page

PASSWORD = "review-pass-1"


@pytest.fixture(scope="module")
def team(live, browser, tmp_path_factory):
    boss, client = live.new_user("lead", password=PASSWORD)
    folder = tmp_path_factory.mktemp("review")
    for i in range(2):
        Image.new("RGB", (300, 200), (70 + 40 * i, 90, 110)).save(folder / f"r{i}.png")
    p = client.create_project(f"Review {uuid.uuid4().hex[:4]}")
    client.create_label(p["id"], "car", color="#e6194b", kinds=["box"])
    client.upload(p["id"], [folder])
    assets = client.list_assets(p["id"])["items"]
    people = {}
    for name in ("ann_a", "ann_b"):
        u, c = live.new_user(name, password=PASSWORD)
        client.add_member(p["id"], u["username"], "annotator")
        people[name] = SimpleNamespace(user=u, client=c)
    yield SimpleNamespace(boss=boss, client=client, project=p, assets=assets, people=people)
    client.close()
    for v in people.values():
        v.client.close()


def _open(page, live, team, i=0):
    page.goto(f"{live.url}/#/assets/{team.assets[i]['id']}?project={team.project['id']}&i={i}")
    page.wait_for_selector("#editor-canvas[data-loaded='1']")
    next_frames(page)


def test_a_pinned_comment_counts_as_open_until_resolved(browser, live, team):
    with logged_in(browser, live, team.boss["username"], PASSWORD) as page:
        _open(page, live, team, 1)
        assert page.is_hidden("#comment-badge")
        page.keyboard.press("c")
        page.mouse.click(*to_page(page, 120, 80))
        page.fill("#comment-text", "the bumper is cut off here")
        page.click("#comment-post")
        page.wait_for_selector("#comment-list .comment")
        assert page.inner_text("#comment-badge") == "1 open comment"
        got = team.client.list_comments(team.assets[1]["id"])
        assert len(got) == 1 and got[0]["body"] == "the bumper is cut off here"
        (x, y), = got[0]["region"]["geometry"]["points"]
        assert got[0]["region"]["kind"] == "points" and abs(x - 120) <= 1 and abs(y - 80) <= 1
        page.click("#comment-list .comment [data-act=resolve]")
        page.wait_for_selector("#comment-badge", state="hidden")
        assert team.client.list_comments(team.assets[1]["id"])[0]["resolved"] is True


def test_review_shows_versions_builds_consensus_and_sends_work_back(browser, live, team):
    aid = team.assets[0]["id"]
    a, b = team.people["ann_a"], team.people["ann_b"]
    box = lambda x: {"kind": "box", "label": "car", "geometry": {"x": x, "y": 40, "w": 60, "h": 50}}  # noqa: E731
    a.client.put_annotation(aid, a.user["username"], [box(20), box(150)], base_revision=0)
    b.client.put_annotation(aid, b.user["username"], [box(22)], base_revision=0)  # misses the second car
    for p in (a, b):
        p.client.request("POST", f"/assets/{aid}/annotations/{p.user['username']}/submit")

    with logged_in(browser, live, team.boss["username"], PASSWORD) as lead:
        _open(lead, live, team, 0)
        lead.wait_for_selector("#version-list .version")
        owners = lead.eval_on_selector_all("#version-list .version", "els => els.map(e => e.dataset.owner)")
        assert set(owners) == {a.user["username"], b.user["username"]}
        assert "1 disagreeing shapes" in lead.inner_text("#review-panel")  # the car only ann_a drew
        lead.check("#colour-by-owner")
        lead.click("#consensus-button")
        lead.wait_for_function("() => document.querySelector(\"#others-list .owner-group[data-owner='consensus']\")")
        consensus = team.client.get_annotation(aid, "consensus")["shapes"]
        # the car both drew, averaged; the one only ann_a drew reaches the default quorum of half
        assert sorted(round(c["geometry"]["x"]) for c in consensus) == [21, 150]
        lead.on("dialog", lambda d: d.accept("draw the second car tighter"))
        lead.click(f"#version-list .version[data-owner='{a.user['username']}'] [data-act=reject]")
        lead.wait_for_selector(f"#version-list .version[data-owner='{a.user['username']}'][data-state=rejected]")

    with logged_in(browser, live, a.user["username"], PASSWORD) as ann:
        _open(ann, live, team, 0)
        ann.wait_for_selector("#rework-banner")
        assert "draw the second car tighter" in ann.inner_text("#rework-banner")
        ann.click("#asset-done")  # submit again after rework, and go on to the next image
        ann.wait_for_function(f"() => location.hash.startsWith('#/assets/{team.assets[1]['id']}')")
        state = {v["owner"]: v["state"] for v in a.client.request("GET", f"/assets/{aid}/review").json()["annotations"]}
        assert state[a.user["username"]] == "submitted"
