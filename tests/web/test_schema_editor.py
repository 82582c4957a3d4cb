"""The label-schema editor (panels/schema.js, panels/skeleton.js) in real Chromium against a real
server: labels made through the form are checked through the API, server errors show at their
field, and the pure helpers are tested by importing the modules in the page."""

from __future__ import annotations

import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from ._browser import logged_in, login

SHOTS = Path("/tmp/limner-shots")
PASSWORD = "schema-password-1"
# the template canvas (panels/skeleton.js): W x H CSS pixels, positions measured inside PAD
W, H, PAD = 360, 260, 18


@pytest.fixture(scope="module")
def people(live, browser):
    owner, oc = live.new_user("schema", password=PASSWORD)
    viewer, vc = live.new_user("reader", password=PASSWORD)
    vc.close()
    yield SimpleNamespace(owner=owner, client=oc, viewer=viewer)
    oc.close()


@pytest.fixture
def project(people):
    """A fresh project of the owner's with one label, "vehicle", and the viewer as a member."""
    p = people.client.create_project(f"Schema {uuid.uuid4().hex[:6]}")
    people.client.create_label(p["id"], "vehicle", color="#808000", kinds=["box"])
    people.client.add_member(p["id"], people.viewer["username"], "viewer")
    return p


@pytest.fixture
def page(browser, live, people):
    with logged_in(browser, live, people.owner["username"], PASSWORD, width=1280, height=900) as pg:
        yield pg


def _open_editor(page, live, project, which="new"):
    page.goto(f"{live.url}/#/projects/{project['id']}?schema={which}")
    page.wait_for_selector("#schema-editor[open] #label-name")


def _labels(people, project) -> dict:
    return {lb["name"]: lb for lb in people.client.list_labels(project["id"])}


def _add_attribute(page, name, kind):
    page.click("#attr-add")
    row = page.locator("#label-attributes .sa-row").last
    row.locator(".sa-name").fill(name)
    row.locator(".sa-type").select_option(kind)
    return row


# -- creating and editing labels ---------------------------------------------------------------


def test_label_with_attributes_is_stored_exactly(page, live, people, project):
    _open_editor(page, live, project)
    page.fill("#label-name", "car")
    page.click(".palette-swatch[data-color='#4363d8']")
    page.check(".kind-chip[data-kind=box] input")
    page.check(".kind-chip[data-kind=polygon] input")
    page.select_option("#label-parent", "vehicle")
    _add_attribute(page, "occluded", "checkbox").locator(".sa-default").select_option("false")
    colour = _add_attribute(page, "colour", "select")
    colour.locator(".sa-values").fill("red\nblue\n\n white \n")
    colour.locator(".sa-default").select_option("blue")
    colour.locator(".sa-required input").check()
    doors = _add_attribute(page, "doors", "number")
    doors.locator(".sa-min").fill("1")
    doors.locator(".sa-max").fill("6")
    doors.locator(".sa-default").fill("4")
    plate = _add_attribute(page, "plate", "text")
    plate.locator(".sa-required input").check()
    note = _add_attribute(page, "note", "text")
    note.locator(".sa-remove").click()  # a row removed before saving is not sent
    page.click("#label-save")
    page.wait_for_function("document.getElementById('label-status').textContent === 'Added.'")

    car = _labels(people, project)["car"]
    assert {k: v for k, v in car.items() if k != "id"} == {
        "name": "car",
        "color": "#4363d8",
        "kinds": ["box", "polygon"],
        "parent": "vehicle",
        "skeleton": None,
        "attributes": [
            {"name": "occluded", "kind": "checkbox", "options": [], "default": False, "required": False,
             "minimum": None, "maximum": None},
            {"name": "colour", "kind": "select", "options": ["red", "blue", "white"], "default": "blue",
             "required": True, "minimum": None, "maximum": None},
            {"name": "doors", "kind": "number", "options": [], "default": 4, "required": False,
             "minimum": 1, "maximum": 6},
            {"name": "plate", "kind": "text", "options": [], "default": None, "required": True,
             "minimum": None, "maximum": None},
        ],
    }
    # the side panel and the grid's label filter follow at once
    page.locator("#labels-panel .label-row[data-label=car]").wait_for()
    assert page.locator("#filter-label option[value=car]").count() == 1
    assert page.locator("#schema-list .schema-row.current").get_attribute("data-label") == "car"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "schema-editor.png"))

    # edit: rename, drop an attribute, change the parent; the form shows what is stored
    page.fill("#label-name", "automobile")
    page.locator("#label-attributes .sa-row").nth(3).locator(".sa-remove").click()
    page.select_option("#label-parent", "")
    page.click("#label-save")
    page.wait_for_function("document.getElementById('label-status').textContent === 'Saved.'")
    stored = _labels(people, project)
    assert "car" not in stored and stored["automobile"]["id"] == car["id"]
    assert [a["name"] for a in stored["automobile"]["attributes"]] == ["occluded", "colour", "doors"]
    assert stored["automobile"]["parent"] is None

    # a fresh page shows the stored label in the form
    _open_editor(page, live, project, "automobile")
    assert page.input_value("#label-name") == "automobile"
    rows = page.locator("#label-attributes .sa-row")
    assert rows.count() == 3
    assert rows.nth(1).locator(".sa-values").input_value() == "red\nblue\nwhite"
    assert rows.nth(1).locator(".sa-default").input_value() == "blue"
    assert rows.nth(2).locator(".sa-max").input_value() == "6"
    assert page.is_checked(".kind-chip[data-kind=polygon] input")
    assert not page.is_checked(".kind-chip[data-kind=mask] input")


def _canvas_box(page):
    canvas = page.locator("#skeleton-canvas")
    canvas.scroll_into_view_if_needed()
    return canvas.bounding_box()


def _canvas_click(page, x, y):
    box = _canvas_box(page)
    page.mouse.click(box["x"] + x, box["y"] + y)


def test_skeleton_label_from_placed_points(page, live, people, project):
    _open_editor(page, live, project)
    page.fill("#label-name", "person")
    assert page.locator(".skeleton-field").is_visible()  # no kind ticked: every kind, skeletons too
    page.check(".kind-chip[data-kind=mask] input")
    assert not page.locator(".skeleton-field").is_visible()
    page.uncheck(".kind-chip[data-kind=mask] input")
    page.check(".kind-chip[data-kind=skeleton] input")
    placed = {"head": (90, 40), "neck": (90, 110), "hip": (200, 220)}
    for name, (x, y) in placed.items():
        _canvas_click(page, x, y)  # a new point; its name box has the focus with the name selected
        page.keyboard.type(name)
    assert page.get_attribute("#skeleton-canvas", "data-points") == "3"
    _canvas_click(page, *placed["head"])
    _canvas_click(page, *placed["neck"])  # head — neck
    _canvas_click(page, *placed["neck"])
    _canvas_click(page, *placed["hip"])  # neck — hip
    # an accidental third edge, then removed with the keyboard (the new edge is selected)
    _canvas_click(page, *placed["head"])
    _canvas_click(page, *placed["hip"])
    assert page.get_attribute("#skeleton-canvas", "data-edges") == "3"
    page.keyboard.press("Delete")
    assert page.get_attribute("#skeleton-canvas", "data-edges") == "2"
    assert page.locator("#skeleton-edges .sk-edge").all_inner_texts()[0].startswith("head — neck")
    # drag the hip somewhere else
    box = _canvas_box(page)
    page.mouse.move(box["x"] + 200, box["y"] + 220)
    page.mouse.down()
    page.mouse.move(box["x"] + 230, box["y"] + 180, steps=5)
    page.mouse.up()
    placed["hip"] = (230, 180)
    assert page.get_attribute("#skeleton-canvas", "data-edges") == "2"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "schema-skeleton.png"))
    page.click("#label-save")
    page.wait_for_function("document.getElementById('label-status').textContent === 'Added.'")

    sk = _labels(people, project)["person"]["skeleton"]
    assert sk["points"] == ["head", "neck", "hip"]
    assert sk["edges"] == [[0, 1], [1, 2]]
    for (x, y), (px, py) in zip(placed.values(), sk["positions"]):
        assert abs(px - (x - PAD) / (W - 2 * PAD)) < 0.01 and abs(py - (y - PAD) / (H - 2 * PAD)) < 0.01
    assert _labels(people, project)["person"]["kinds"] == ["skeleton"]

    # deleting a point takes its edges; the indices of the rest close up
    page.click("#skeleton-points .sk-point[data-index='0'] button")
    page.click("#label-save")
    page.wait_for_function("document.getElementById('label-status').textContent === 'Saved.'")
    sk = _labels(people, project)["person"]["skeleton"]
    assert sk["points"] == ["neck", "hip"] and sk["edges"] == [[0, 1]] and len(sk["positions"]) == 2


def test_a_skeleton_stored_without_positions_opens_and_gains_them(page, live, people, project):
    people.client.create_label(project["id"], "hand", kinds=["skeleton"],
                               skeleton={"points": ["wrist", "thumb", "index"], "edges": [[0, 1], [0, 2]]})
    _open_editor(page, live, project, "hand")
    assert page.get_attribute("#skeleton-canvas", "data-points") == "3"
    assert page.locator("#skeleton-points input").evaluate_all("els => els.map(e => e.value)") == ["wrist", "thumb", "index"]
    page.locator("#skeleton-points input").nth(1).fill("thumb tip")
    page.click("#label-save")
    page.wait_for_function("document.getElementById('label-status').textContent === 'Saved.'")
    sk = _labels(people, project)["hand"]["skeleton"]
    assert sk["points"] == ["wrist", "thumb tip", "index"] and sk["edges"] == [[0, 1], [0, 2]]
    assert len(sk["positions"]) == 3 and all(0 <= v <= 1 for p in sk["positions"] for v in p)


# -- errors ------------------------------------------------------------------------------------


def test_server_errors_show_at_their_field(page, live, people, project, tmp_path):
    _open_editor(page, live, project)
    # a name that exists: 409, under the name
    page.fill("#label-name", "vehicle")
    page.click("#label-save")
    page.wait_for_selector(".field-error[data-for=name]:not(:empty)")
    assert "'vehicle' exists already" in page.inner_text(".field-error[data-for=name]")
    assert page.get_attribute("#label-name", "aria-invalid") == "true"
    # a select attribute without values: 422 at that row's values
    page.fill("#label-name", "bike")
    _add_attribute(page, "brand", "text")
    _add_attribute(page, "size", "select")
    page.click("#label-save")
    row = page.locator("#label-attributes .sa-row").nth(1)
    row.locator(".field-error:not(:empty)").wait_for()
    assert "a select attribute needs at least one option" in row.locator(".field-error").inner_text()
    assert row.locator(".sa-values").get_attribute("aria-invalid") == "true"
    assert page.inner_text(".field-error[data-for=name]") == ""  # the old sentence went
    # a skeleton kind with no points: at the skeleton
    row.locator(".sa-values").fill("S\nM")
    page.check(".kind-chip[data-kind=skeleton] input")
    page.click("#label-save")
    page.wait_for_selector("#skeleton-editor .field-error:not(:empty)")
    assert "needs a skeleton" in page.inner_text("#skeleton-editor .field-error")
    assert people.client.list_labels(project["id"])[-1]["name"] == "vehicle"  # nothing was stored

    # a label in use cannot be deleted: the server's sentence by the buttons
    Image.new("RGB", (40, 30), (9, 99, 199)).save(tmp_path / "one.png")
    people.client.upload(project["id"], [tmp_path / "one.png"])
    asset = people.client.list_assets(project["id"])["items"][0]
    people.client.put_annotation(asset["id"], people.owner["username"], [
        {"kind": "box", "label": "vehicle", "geometry": {"x": 1, "y": 1, "w": 5, "h": 5}}], base_revision=0)
    page.click("#schema-list .schema-row[data-label=vehicle]")  # unsaved changes: a warning first
    assert "unsaved changes" in page.inner_text("#label-form-error")
    page.click("#schema-list .schema-row[data-label=vehicle]")
    page.wait_for_function("document.getElementById('label-name').value === 'vehicle'")
    page.click("#label-delete")
    assert "Delete “vehicle”?" in page.inner_text("#label-delete")
    page.click("#label-delete")
    page.wait_for_selector("#label-form-error:not(:empty)")
    assert page.inner_text("#label-form-error") == "label 'vehicle' is used by 1 shapes; delete or relabel them first"
    assert "vehicle" in _labels(people, project)


def test_unused_label_is_deleted(page, live, people, project):
    people.client.create_label(project["id"], "spare")
    _open_editor(page, live, project, "spare")
    page.click("#label-delete")
    page.click("#label-delete")
    page.wait_for_function("document.getElementById('label-status').textContent === 'Deleted.'")
    assert "spare" not in _labels(people, project)
    assert page.locator("#labels-panel .label-row[data-label=spare]").count() == 0
    # Escape closes the editor and the address loses ?schema=
    page.keyboard.press("Escape")
    page.wait_for_selector("#schema-editor", state="detached")
    page.wait_for_function("!location.hash.includes('schema=')")


def test_viewer_reads_the_schema_without_changing_it(browser, live, people, project):
    people.client.create_label(project["id"], "car", kinds=["box"], attributes=[{"name": "colour", "kind": "select", "options": ["red"]}])
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    login(ctx, live, people.viewer["username"], PASSWORD)
    try:
        page = ctx.new_page()
        page.goto(f"{live.url}/#/projects/{project['id']}")
        page.click("#labels-panel .label-row[data-label=car]")
        page.wait_for_selector("#schema-editor[open] #label-name")
        assert page.is_disabled("#label-name") and page.is_disabled(".kind-chip[data-kind=box] input")
        assert page.locator("#label-attributes .sa-values").is_disabled()
        assert page.locator("#label-save").count() == 0 and page.locator("#label-new").count() == 0
        assert page.locator("#labels-add").count() == 0
        assert "read-only" in page.inner_text("#schema-editor-title")
    finally:
        ctx.close()


def test_a_new_project_opens_on_its_schema(page, live, people):
    page.goto(f"{live.url}/#/projects")
    name = f"Fresh {uuid.uuid4().hex[:6]}"
    page.fill("#new-project-name", name)
    page.click("form.new-project button[type=submit]")
    page.wait_for_selector("#schema-editor[open] #label-name")
    assert page.evaluate("document.activeElement.id") == "label-name"
    page.fill("#label-name", "first")
    page.click("#label-save")
    page.wait_for_function("document.getElementById('label-status').textContent === 'Added.'")
    pid = int(page.evaluate("location.hash").split("/")[2].split("?")[0])
    first = people.client.list_labels(pid)[0]
    assert first["name"] == "first" and first["color"] == "#e6194b"  # the palette's first colour
    page.click("#label-new")
    assert page.evaluate("document.getElementById('label-color').value") == "#3cb44b"  # the next one


# -- the pure helpers --------------------------------------------------------------------------


def test_schema_and_skeleton_helpers(page, live):
    page.goto(f"{live.url}/#/projects")
    got = page.evaluate(
        """async () => {
            const s = await import('/js/panels/schema.js');
            const k = await import('/js/panels/skeleton.js');
            const pts = [{x: 0, y: 0, name: 'a'}, {x: 100, y: 0, name: 'b'}, {x: 100, y: 100, name: 'point 3'}];
            return {
                places: ['name', 'attributes[3].options', 'attributes[0]', 'skeleton.edges[1]', 'label', null, 'kinds']
                    .map(s.errorPlace),
                next: s.nextColor([{color: '#E6194B'}, {color: '#4363d8'}]),
                hitPoint: [k.hitPoint(pts, 98, 3), k.hitPoint(pts, 50, 50)],
                hitEdge: [k.hitEdge(pts, [[0, 1], [1, 2]], 50, 3), k.hitEdge(pts, [[0, 1], [1, 2]], 50, 50)],
                without: k.withoutPoint(pts, [[0, 1], [1, 2], [2, 0]], 1),
                fresh: k.freshName(pts),
                same: [k.sameEdge([1, 2], 2, 1), k.sameEdge([1, 2], 1, 3)],
            };
        }"""
    )
    assert got["places"] == [
        {"key": "name"}, {"key": "attribute", "row": 3, "part": "options"}, {"key": "attribute", "row": 0, "part": None},
        {"key": "skeleton"}, {"key": "form"}, {"key": "form"}, {"key": "kinds"},
    ]
    assert got["next"] == "#3cb44b"
    assert got["hitPoint"] == [1, -1]
    assert got["hitEdge"] == [0, -1]
    assert [p["name"] for p in got["without"]["points"]] == ["a", "point 3"]
    assert got["without"]["edges"] == [[1, 0]]
    assert got["fresh"] == "point 4"
    assert got["same"] == [True, False]
