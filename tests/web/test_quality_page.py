"""The quality dashboard page in real Chromium against a real server: agreement heat map and label
table, ground-truth scores against the retraining threshold, throughput, open comments and the
progress plot, reached from the project page's link; and the pure plot helpers in the page."""

from __future__ import annotations

import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from ._browser import logged_in

PASSWORD = "quality-password-1"
SHOTS = Path("/tmp/limner-shots")


def box(x, label="car", w=20):
    return {"kind": "box", "label": label, "geometry": {"x": x, "y": 4, "w": w, "h": 10}}


@pytest.fixture(scope="module")
def dash(live, browser, tmp_path_factory):
    """A manager's project with overlap 2: two annotators agree on one asset (F1 1.0 between
    them), one of them scores 0.5 on a ground-truth asset (below the 0.8 threshold), a reviewer
    accepted, and one comment is open."""
    manager, client = live.new_user("qmgr", password=PASSWORD)
    folder: Path = tmp_path_factory.mktemp("quality-page")
    for i in range(3):
        Image.new("RGB", (80, 40), (40 * i, 90, 200 - 30 * i)).save(folder / f"q{i}.png")
    p = client.create_project(f"Quality {uuid.uuid4().hex[:4]}")
    client.create_label(p["id"], "car", kinds=["box"])
    client.upload(p["id"], [folder])
    a = [x["id"] for x in client.list_assets(p["id"])["items"]]
    client.request("PATCH", f"/projects/{p['id']}/quality/settings", json={"overlap": 2, "ground_truth_rate": 0.2})
    people = []
    for role in ("annotator", "annotator", "reviewer"):
        u, c = live.new_user("q" + role)
        client.add_member(p["id"], u["username"], role)
        people.append((u["username"], c))
    (n1, c1), (n2, c2), (_, rev) = people
    for name, c in ((n1, c1), (n2, c2)):
        c.put_annotation(a[0], name, [box(5), box(40)], base_revision=0)
        c.request("POST", f"/assets/{a[0]}/annotations/{name}/submit")
    rev.request("POST", f"/assets/{a[0]}/review", json={"verdict": "accept", "reason": "fine"})
    client.put_annotation(a[1], "reference", [box(10)], base_revision=0)
    client.request("PUT", f"/assets/{a[1]}/ground-truth", json={"owner": "reference"})
    c1.put_annotation(a[1], n1, [box(10), box(50)], base_revision=0)
    c1.request("POST", f"/assets/{a[1]}/annotations/{n1}/submit")
    client.add_comment(a[2], "is this a car?")
    yield SimpleNamespace(project=p, assets=a, n1=n1, n2=n2, manager=manager)
    for _, c in people:
        c.close()
    client.close()


@pytest.fixture
def page(browser, live, dash):
    with logged_in(browser, live, dash.manager["username"], PASSWORD, width=1280, height=900) as pg:
        yield pg


def test_dashboard_is_reached_from_the_project_page_and_shows_the_figures(page, live, dash):
    pid = dash.project["id"]
    page.goto(f"{live.url}/#/projects/{pid}")
    page.locator("#quality-link").click()
    page.wait_for_function("p => location.hash === p", arg=f"#/projects/{pid}/quality")
    page.wait_for_selector("#quality-body[aria-busy=false]")
    assert not page.locator("#quality-error").count()
    assert "3 assets" in page.inner_text("#quality-summary").replace("\n", " ")

    # agreement: the pair's cell in both halves of the heat map, and the label table
    a, b = sorted([dash.n1, dash.n2])
    cell = page.locator(f"#quality-pairs g.cell[data-a='{a}'][data-b='{b}']")
    assert cell.get_attribute("data-value") == "1"
    assert page.locator(f"#quality-pairs g.cell[data-a='{b}'][data-b='{a}']").get_attribute("data-value") == "1"
    assert page.locator("#quality-labels tbody tr[data-label=car] td").all_inner_texts()[:4] == ["car", "2", "1.00", "1.00"]

    # ground truth: one valid box and one extra, accuracy 0.5 under the 0.8 threshold
    bar = page.locator(f"#quality-gt g.bar[data-label='{dash.n1}']")
    assert bar.get_attribute("data-flagged") == "true"
    assert page.locator("#quality-gt line.threshold").count() == 1
    row = page.locator(f"#quality-gt-table tr[data-user='{dash.n1}']")
    assert row.get_attribute("data-retrain") == "true" and "needs retraining" in row.inner_text()
    assert row.locator("td").nth(2).inner_text() == "0.50"

    # throughput and review, comments, progress
    assert page.locator(f"#quality-annotators tr[data-user='{dash.n1}'] td").nth(1).inner_text() == "2"
    assert page.locator("#quality-reviewers tbody tr").count() == 1
    assert page.inner_text("#quality-open-comments").startswith("1 open")
    assert page.locator("#quality-commented a").get_attribute("href") == f"#/assets/{dash.assets[2]}"
    assert page.locator("#quality-progress polyline").count() == 3
    assert page.locator("#quality-progress polyline[data-series='submitted (total)']").count() == 1
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "quality.png"), full_page=True)


def test_plot_helpers_in_the_page(page, live, dash):
    page.goto(f"{live.url}/#/projects")
    got = page.evaluate(
        """async () => {
            const m = await import('/js/render/plot.js');
            const s = m.scale(0, 10, 100, 0);
            const bars = m.barChart([{label: 'a', value: 0.9}, {label: 'b', value: 0.3}, {label: 'c', value: null}], {threshold: 0.5});
            const hm = m.heatmap(['x', 'y'], () => 0.25);
            return {
                s: [s(0), s(5), s(10)],
                flat: m.scale(3, 3, 0, 10)(3),
                ticks: m.ticks(7), ticksBig: m.ticks(2300), ticksNone: m.ticks(0),
                ramp: [m.ramp(0), m.ramp(1), m.ramp(null)],
                flagged: [...bars.querySelectorAll('g.bar')].map(g => g.dataset.flagged),
                cells: hm.querySelectorAll('g.cell').length,
                values: [...hm.querySelectorAll('g.cell')].map(g => g.dataset.value),
            };
        }"""
    )
    assert got["s"] == [100, 50, 0] and got["flat"] == 5
    assert got["ticks"] == [0, 2, 4, 6] and got["ticksBig"] == [0, 1000, 2000] and got["ticksNone"] == [0]
    assert got["ramp"] == ["hsl(0, 65%, 78%)", "hsl(120, 65%, 60%)", "#e6e9ee"]
    assert got["flagged"] == ["false", "true", "false"]
    assert got["cells"] == 4 and got["values"] == ["", "0.25", "0.25", ""]


def test_consensus_of_the_project_runs_as_a_job_from_the_page(page, live, dash):
    pid = dash.project["id"]
    page.goto(f"{live.url}/#/projects/{pid}/quality")
    page.wait_for_selector("#quality-body[aria-busy=false]")
    page.fill("#consensus-quorum", "1")
    page.locator("#project-consensus-button").click()
    page.wait_for_selector("#consensus-status[data-merged]")
    text = page.inner_text("#consensus-status")
    # the first asset: both annotators drew both boxes; the second: the reference and one annotator
    # agree on one box, the annotator's extra box is below a quorum of 1; the third has no work
    assert page.get_attribute("#consensus-status", "data-merged") == "2"
    assert text.startswith("2 assets merged, 3 shapes written; 1 clusters below the quorum") and "1 assets without" in text
    assert page.locator("#consensus-progress .progress-fill").get_attribute("style").replace(" ", "") == "width:100%;"
    with live.services.db.read() as s:
        from limner.store.annotations import get_annotation
        from limner.store.models import Asset

        merged = get_annotation(s, s.get(Asset, dash.assets[0]), "consensus")
    assert [sh["geometry"]["x"] for sh in merged["shapes"]] == [5.0, 40.0]
    assert not page.locator("#project-consensus-button[disabled]").count()
