"""The workspace in real Chromium against a real server: drawing with the mouse, undo/redo,
shortcuts, labels and attributes, saving (autosave, conflicts, a lost connection, work kept
across a reload), copy/paste onto the next image, the objects list and the shortcut overlay.

Geometry is checked through the API after the page has saved it.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from PIL import Image

from ._browser import drag, logged_in, login

PASSWORD = "workspace-pass-1"
LABELS = [
    {"name": "car", "color": "#e6194b", "kinds": ["box", "polygon"],
     "attributes": [
         {"name": "colour", "kind": "select", "options": ["red", "blue"], "default": "red"},
         {"name": "parked", "kind": "checkbox"},
         {"name": "doors", "kind": "number", "minimum": 0, "maximum": 8},
     ]},
    {"name": "truck", "color": "#3cb44b", "kinds": ["box"],
     "attributes": [{"name": "plate", "kind": "text", "required": True}]},
    {"name": "sunny", "color": "#ffe119", "kinds": ["tag"]},
]


@pytest.fixture(scope="module")
def ws(live, browser, tmp_path_factory):
    user, client = live.new_user("ws", password=PASSWORD)
    folder = tmp_path_factory.mktemp("ws")
    for i in range(4):
        Image.new("RGB", (400, 300), (90 + 30 * i, 110, 130)).save(folder / f"img{i}.png")
    p = client.create_project(f"Workspace {uuid.uuid4().hex[:4]}")
    for lb in LABELS:
        client.create_label(p["id"], **lb)
    client.upload(p["id"], [folder])
    assets = client.list_assets(p["id"])["items"]
    yield SimpleNamespace(user=user, client=client, project=p, assets=assets, owner=user["username"])
    client.close()


@pytest.fixture
def page(browser, live, ws):
    with logged_in(browser, live, ws.user["username"], PASSWORD, width=1400, height=900) as pg:
        yield pg


def _reset(ws, asset) -> None:
    cur = ws.client.get_annotation(asset["id"], ws.owner)
    if cur["revision"]:
        ws.client.put_annotation(asset["id"], ws.owner, [], base_revision=cur["revision"])


def _open(page, live, ws, i: int = 0) -> None:
    a = ws.assets[i]
    page.goto(f"{live.url}/#/assets/{a['id']}?project={ws.project['id']}&i={i}")
    page.wait_for_selector("#editor-canvas[data-loaded='1']")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def _saved(page) -> None:
    page.wait_for_selector("#save-state[data-state='saved']", timeout=10000)
    # a save that has just been scheduled shows "dirty" first: wait for the PUT to finish
    page.wait_for_function("() => document.getElementById('save-state').dataset.state === 'saved'")


def _shapes(ws, i: int = 0) -> list[dict]:
    return ws.client.get_annotation(ws.assets[i]["id"], ws.owner)["shapes"]


def _wait_shapes(page, ws, n: int, i: int = 0) -> list[dict]:
    for _ in range(100):
        got = _shapes(ws, i)
        if len(got) == n:
            return got
        page.wait_for_timeout(100)
    raise AssertionError(f"expected {n} stored shapes, have {len(_shapes(ws, i))}")


def test_draw_a_box_saves_it_and_a_reload_shows_it(page, live, ws):
    _reset(ws, ws.assets[0])
    _open(page, live, ws)
    page.keyboard.press("b")
    assert page.get_attribute("#editor-canvas", "data-tool") == "box"
    drag(page, (50, 60), (170, 140))
    got = _wait_shapes(page, ws, 1)
    g = got[0]["geometry"]
    assert got[0]["kind"] == "box" and got[0]["label"] == "car"
    assert abs(g["x"] - 50) <= 1 and abs(g["y"] - 60) <= 1 and abs(g["w"] - 120) <= 1 and abs(g["h"] - 80) <= 1
    assert got[0]["attributes"] == {"colour": "red", "parked": False}  # the label's defaults
    _saved(page)
    page.reload()
    page.wait_for_selector("#editor-canvas[data-loaded='1']")
    assert page.locator("#object-list .object-row").count() == 1


def test_undo_redo_and_one_drag_is_one_step(page, live, ws):
    _reset(ws, ws.assets[0])
    _open(page, live, ws)
    page.keyboard.press("b")
    drag(page, (40, 40), (120, 100))
    page.keyboard.press("v")
    assert page.get_attribute("#editor-canvas", "data-tool") == "select"
    drag(page, (80, 70), (130, 110), steps=12)  # move the box by (50, 40) in twelve events
    _wait_until(page, ws, lambda s: len(s) == 1 and abs(s[0]["geometry"]["x"] - 90) <= 1)
    page.keyboard.press("Control+z")  # the whole move
    _wait_until(page, ws, lambda s: len(s) == 1 and abs(s[0]["geometry"]["x"] - 40) <= 1)
    page.keyboard.press("Control+z")  # the box
    _wait_until(page, ws, lambda s: len(s) == 0)
    assert page.is_disabled("#undo")
    page.keyboard.press("Control+Shift+z")
    page.keyboard.press("Control+y")
    _wait_until(page, ws, lambda s: len(s) == 1 and abs(s[0]["geometry"]["x"] - 90) <= 1 and abs(s[0]["geometry"]["y"] - 80) <= 1)
    assert page.is_disabled("#redo")


def _wait_until(page, ws, ok, i: int = 0) -> list[dict]:
    got = None
    for _ in range(100):
        got = _shapes(ws, i)
        if ok(got):
            return got
        page.wait_for_timeout(100)
    raise AssertionError(f"the stored shapes never matched: {got}")


def test_digit_keys_pick_labels_and_relabel_the_selection(page, live, ws):
    _reset(ws, ws.assets[0])
    _open(page, live, ws)
    page.keyboard.press("2")
    assert page.get_attribute("#label-picker .picker-row.active", "data-label") == "truck"
    page.keyboard.press("b")
    drag(page, (200, 150), (260, 200))
    got = _wait_shapes(page, ws, 1)
    assert got[0]["label"] == "truck"
    page.keyboard.press("1")  # the new box is selected: it becomes a car
    _wait_until(page, ws, lambda s: s[0]["label"] == "car")
    # the search box (/) picks by name with Enter
    page.keyboard.press("/")
    page.keyboard.type("tru")
    page.keyboard.press("Enter")
    assert page.get_attribute("#label-picker .picker-row.active", "data-label") == "truck"


def test_attributes_panel_edits_and_required_attributes_block_done(page, live, ws):
    _reset(ws, ws.assets[1])
    _open(page, live, ws, 1)
    page.keyboard.press("b")
    drag(page, (20, 20), (100, 90))
    page.select_option("#attr-colour", "blue")
    page.check("#attr-parked")
    page.fill("#attr-doors", "4")
    page.press("#attr-doors", "Tab")
    got = _wait_until(page, ws, lambda s: s and s[0]["attributes"].get("doors") == 4, i=1)
    assert got[0]["attributes"] == {"colour": "blue", "parked": True, "doors": 4}
    page.fill("#attr-doors", "12")
    page.press("#attr-doors", "Tab")
    assert "doors must be at most 8" in page.inner_text("#attr-problems")
    page.keyboard.press("Control+z")  # back to 4
    # a truck without its required plate saves, but cannot be marked done
    page.click("#label-picker .picker-row[data-label=truck]")
    assert page.locator("label[for=attr-plate] .required").count() == 1
    assert "plate is required" in page.inner_text("#attr-problems")
    _wait_until(page, ws, lambda s: s and s[0]["label"] == "truck", i=1)
    page.click("#asset-done")
    page.wait_for_selector("#flash:not([hidden])")
    assert "lacks the required attribute 'plate'" in page.inner_text("#flash")
    page.fill("#attr-plate", "B 123")
    page.press("#attr-plate", "Tab")
    _wait_until(page, ws, lambda s: s and s[0]["attributes"].get("plate") == "B 123", i=1)


def test_tags_panel_toggles_image_tags(page, live, ws):
    _reset(ws, ws.assets[2])
    _open(page, live, ws, 2)
    page.check("#tag-toggles .tag-toggle[data-label=sunny] input")
    _wait_until(page, ws, lambda s: [x["kind"] for x in s] == ["tag"] and s[0]["label"] == "sunny", i=2)
    page.uncheck("#tag-toggles .tag-toggle[data-label=sunny] input")
    _wait_until(page, ws, lambda s: s == [], i=2)


def test_objects_list_hides_locks_orders_and_deletes(page, live, ws):
    _reset(ws, ws.assets[0])
    _open(page, live, ws)
    page.keyboard.press("b")
    drag(page, (20, 20), (80, 80))
    drag(page, (200, 100), (300, 200))
    _wait_shapes(page, ws, 2)
    rows = page.locator("#object-list .object-row")
    assert rows.count() == 2
    top = rows.first.get_attribute("data-uid")
    rows.nth(1).locator("[data-act=raise]").click()  # the first box comes to the top
    _wait_until(page, ws, lambda s: s[0]["z_order"] > s[1]["z_order"])
    assert page.locator("#object-list .object-row").first.get_attribute("data-uid") != top
    page.locator("#object-list .object-row").first.locator("[data-act=lock]").click()
    page.wait_for_selector("#object-list .object-row.is-locked")
    assert page.locator("#object-list .object-row").first.locator("[data-act=delete]").is_disabled()
    page.locator("#object-list .object-row").nth(1).locator("[data-act=hide]").click()
    page.wait_for_function("() => document.getElementById('editor-canvas').dataset.shapes === '1'")
    page.locator("#object-list .object-row").first.locator("[data-act=lock]").click()
    page.locator("#object-list .object-row").first.click()
    page.keyboard.press("Delete")
    _wait_shapes(page, ws, 1)


def test_copy_paste_onto_the_next_image(page, live, ws):
    for i in (0, 1):
        _reset(ws, ws.assets[i])
    _open(page, live, ws, 0)
    page.keyboard.press("b")
    drag(page, (30, 30), (90, 70))
    _wait_shapes(page, ws, 1, 0)
    page.keyboard.press("Control+c")
    page.keyboard.press("d")
    page.wait_for_function(f"() => location.hash.startsWith('#/assets/{ws.assets[1]['id']}?')")
    page.wait_for_selector("#editor-canvas[data-loaded='1']")
    page.keyboard.press("Control+v")
    got = _wait_shapes(page, ws, 1, 1)
    g = got[0]["geometry"]
    assert abs(g["x"] - 30) <= 1 and abs(g["w"] - 60) <= 1  # in place on another image
    page.keyboard.press("Control+d")  # duplicate: offset copy
    got = _wait_shapes(page, ws, 2, 1)
    assert abs(got[1]["geometry"]["x"] - 40) <= 1


def test_a_conflict_shows_both_versions_and_keeps_both(browser, live, ws):
    _reset(ws, ws.assets[3])
    pages = []
    for _ in range(2):
        ctx = browser.new_context(viewport={"width": 1400, "height": 900})
        login(ctx, live, ws.user["username"], PASSWORD)
        pages.append(ctx.new_page())
    try:
        a, b = pages
        _open(a, live, ws, 3)
        _open(b, live, ws, 3)
        a.keyboard.press("b")
        drag(a, (20, 20), (80, 80))
        _saved(a)
        _wait_shapes(a, ws, 1, 3)
        b.keyboard.press("b")
        drag(b, (200, 100), (300, 200))
        b.wait_for_selector("#conflict-dialog[open]")
        assert b.inner_text("#conflict-mine") == "1" and b.inner_text("#conflict-theirs") == "1"
        b.click("#conflict-both-btn")
        got = _wait_shapes(b, ws, 2, 3)
        xs = sorted(round(s["geometry"]["x"]) for s in got)
        assert xs == [20, 200]
        _saved(b)
    finally:
        for p in pages:
            p.context.close()


def test_a_lost_connection_keeps_the_work_and_retries(page, live, ws):
    _reset(ws, ws.assets[2])
    _open(page, live, ws, 2)
    put = "**/api/v1/assets/*/annotations/*"
    page.route(put, lambda route: route.abort() if route.request.method == "PUT" else route.continue_())
    page.keyboard.press("b")
    drag(page, (60, 60), (140, 120))
    page.wait_for_selector("#save-state[data-state='offline']")
    assert _shapes(ws, 2) == []
    page.unroute(put)
    got = _wait_shapes(page, ws, 1, 2)  # the retry delivers it
    assert abs(got[0]["geometry"]["x"] - 60) <= 1
    _saved(page)


def test_unsaved_work_survives_a_reload(page, live, ws):
    _reset(ws, ws.assets[2])
    _open(page, live, ws, 2)
    put = "**/api/v1/assets/*/annotations/*"
    page.route(put, lambda route: route.abort() if route.request.method == "PUT" else route.continue_())
    page.on("dialog", lambda d: d.accept())  # "leave the page with unsaved changes?"
    page.keyboard.press("b")
    drag(page, (100, 100), (180, 160))
    page.wait_for_selector("#save-state[data-state='offline']")
    page.reload()  # the server never got the box
    page.wait_for_selector("#editor-canvas[data-loaded='1']")
    page.wait_for_function("() => document.getElementById('status-line').textContent.startsWith('Restored')")
    assert page.locator("#object-list .object-row").count() == 1
    assert _shapes(ws, 2) == []
    page.unroute(put)
    got = _wait_shapes(page, ws, 1, 2)
    assert abs(got[0]["geometry"]["x"] - 100) <= 1


def test_help_overlay_lists_every_shortcut_and_tooltips_show_keys(page, live, ws):
    _open(page, live, ws)
    page.keyboard.press("?")
    page.wait_for_selector("#help-dialog[open]")
    text = page.inner_text("#help-dialog")
    titles = page.evaluate("""async () => {
        const k = await import('/js/keys.js');
        return [...k.toolBindings(), ...k.BINDINGS].map((b) => b.title);
    }""")
    missing = [t for t in set(titles) if t not in text]
    assert not missing, missing
    page.keyboard.press("Escape")
    assert "(Ctrl+Z)" in page.get_attribute("#undo", "title")
    assert page.get_attribute("#toolbar .tool[data-tool=box]", "title") == "Box (B)"


def test_model_suggestions_are_accepted_above_a_threshold_or_rejected(page, live, ws):
    a = ws.assets[3]
    _reset(ws, a)
    boxes = [(10, 0.92), (110, 0.61), (210, 0.3)]
    cur = ws.client.get_annotation(a["id"], "model:det")["revision"]
    ws.client.put_annotation(a["id"], "model:det", [
        {"kind": "box", "label": "car", "geometry": {"x": x, "y": 20, "w": 50, "h": 40}, "source": "det", "confidence": c}
        for x, c in boxes
    ], base_revision=cur)
    _open(page, live, ws, 3)
    group = page.locator("#others-list .owner-group[data-owner='model:det']")
    assert group.locator(".object-row.other").count() == 3
    group.locator("input.threshold").fill("0.5")
    group.locator("[data-accept-above]").click()
    got = _wait_shapes(page, ws, 2, 3)
    assert sorted(round(s["geometry"]["x"]) for s in got) == [10, 110]
    assert {s["confidence"] for s in got} == {0.92, 0.61} and {s["source"] for s in got} == {"det"}
    # the accepted ones leave the suggestions; the last is rejected and leaves too
    assert page.locator("#others-list .object-row.other").count() == 1
    page.locator("#others-list .object-row.other [data-act=reject]").click()
    assert page.locator("#others-list .object-row.other").count() == 0
    page.wait_for_function("() => document.getElementById('editor-canvas').dataset.shapes === '2'")
    assert len(_shapes(ws, 3)) == 2


PIXEL = """([x, y]) => {
    const c = document.getElementById('editor-canvas');
    const [s, tx, ty, dpr] = c.dataset.view.split(',').map(Number);
    const px = Math.round((x * s + tx) * dpr), py = Math.round((y * s + ty) * dpr);
    return Array.from(c.getContext('2d').getImageData(px, py, 1, 1).data);
}"""


def test_brightness_contrast_gamma_change_the_drawn_image_only(page, live, ws):
    _reset(ws, ws.assets[0])
    _open(page, live, ws, 0)
    before = page.evaluate(PIXEL, [390, 290])
    page.click("#adjust-button")
    page.fill("#adjust-brightness", "2")
    page.dispatch_event("#adjust-brightness", "input")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    brighter = page.evaluate(PIXEL, [390, 290])
    assert brighter[0] > before[0] + 40 and brighter[2] > before[2] + 40
    page.fill("#adjust-brightness", "1")
    page.fill("#adjust-gamma", "0.5")
    page.dispatch_event("#adjust-gamma", "input")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    darker = page.evaluate(PIXEL, [390, 290])
    assert darker[0] < before[0] - 20  # gamma 0.5 darkens mid tones
    assert _shapes(ws, 0) == []  # nothing saved


def test_group_fit_to_object_next_unfinished_and_jump_by_name(page, live, ws):
    for i in range(4):
        _reset(ws, ws.assets[i])
    ws.client.update_asset(ws.assets[1]["id"], status="done")
    try:
        _open(page, live, ws, 0)
        page.keyboard.press("b")
        drag(page, (20, 20), (60, 60))
        drag(page, (100, 100), (140, 150))
        page.keyboard.press("Control+a")
        page.keyboard.press("Control+g")
        got = _wait_until(page, ws, lambda s: len(s) == 2 and s[0]["group_id"] is not None)
        assert got[0]["group_id"] == got[1]["group_id"]
        s0 = float(page.get_attribute("#editor-canvas", "data-view").split(",")[0])
        page.locator("#object-list .object-row").first.dblclick()
        page.wait_for_function(f"() => Number(document.getElementById('editor-canvas').dataset.view.split(',')[0]) > {s0 * 2}")
        _saved(page)
        page.keyboard.press("n")  # img1 is done: the next unfinished is img2
        page.wait_for_function(f"() => location.hash.startsWith('#/assets/{ws.assets[2]['id']}?')")
        page.wait_for_selector("#editor-canvas[data-loaded='1']")
        page.on("dialog", lambda d: d.accept("img3"))
        page.keyboard.press("Control+j")
        page.wait_for_function(f"() => location.hash.startsWith('#/assets/{ws.assets[3]['id']}?')")
    finally:
        ws.client.update_asset(ws.assets[1]["id"], status="in_progress")
