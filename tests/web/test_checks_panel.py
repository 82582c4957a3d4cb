"""The checks panel on the project page, in real Chromium: counts per rule, findings that name the
image and shape, a filter by rule, and a link that opens the workspace on the shape."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from PIL import Image

from ._browser import logged_in

PASSWORD = "checks-pass-1"


@pytest.fixture(scope="module")
def proj(live, browser, tmp_path_factory):
    user, client = live.new_user("checks", password=PASSWORD)
    folder = tmp_path_factory.mktemp("checks")
    for i in range(3):
        Image.new("RGB", (200, 150), (60 + 50 * i, 100, 90)).save(folder / f"c{i}.png")
    p = client.create_project(f"Checks {uuid.uuid4().hex[:4]}")
    client.create_label(p["id"], "road", color="#3cb44b", kinds=["polygon", "box"])
    client.create_label(p["id"], "sign", color="#e6194b", kinds=["box"])
    client.upload(p["id"], [folder])
    assets = client.list_assets(p["id"])["items"]
    bowtie = {"kind": "polygon", "label": "road", "geometry": {"points": [[10, 10], [60, 60], [60, 10], [10, 60]]}}
    box = {"kind": "box", "label": "road", "geometry": {"x": 100, "y": 20, "w": 40, "h": 30}}
    client.put_annotation(assets[0]["id"], user["username"], [box, bowtie], base_revision=0)
    client.put_annotation(assets[1]["id"], user["username"], [box, dict(box)], base_revision=0)  # a duplicate
    yield SimpleNamespace(user=user, client=client, project=p, assets=assets)
    client.close()


def test_checks_panel_lists_findings_and_opens_the_shape(browser, live, proj):
    with logged_in(browser, live, proj.user["username"], PASSWORD) as page:
        page.goto(f"{live.url}/#/projects/{proj.project['id']}")
        page.click("#checks-run")
        page.wait_for_selector("#check-findings .finding")
        chips = dict(page.eval_on_selector_all("#checks-summary .rule-chip", "els => els.map(e => [e.dataset.rule, e.textContent])"))
        assert {"unlabelled", "invalid_polygon", "duplicate"} <= set(chips), chips
        api = proj.client.request("GET", f"/projects/{proj.project['id']}/checks").json()
        assert chips["duplicate"].endswith(str(api["counts"]["duplicate"]))
        assert page.locator("#check-findings .finding").count() == api["total"]
        assert page.locator("#check-balance tr[data-label=road] td.num").inner_text() == "4"
        assert page.locator("#check-balance tr[data-label=sign] td.num").inner_text() == "0"
        page.click("#checks-summary .rule-chip[data-rule=invalid_polygon]")
        page.wait_for_function("() => [...document.querySelectorAll('#check-findings .finding')].every(f => f.dataset.rule === 'invalid_polygon')")
        finding = page.locator("#check-findings .finding[data-rule=invalid_polygon]").first
        assert "c0.png" in finding.inner_text() and "shape 2" in finding.inner_text()
        finding.locator("a").click()
        page.wait_for_selector("#editor-canvas[data-loaded='1']")
        page.wait_for_selector("#object-list .object-row.selected[data-kind=polygon]")
