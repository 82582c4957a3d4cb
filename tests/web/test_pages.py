"""The browser pages in real Chromium (Playwright) against a real server on 127.0.0.1.

Data is made through the SDK; the pages are driven as a user would (forms, file input, keys) and
the viewer's canvas is checked by reading its pixels. The pure JS modules (rle.js, geometry.js)
are unit-tested by importing them in the page.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image, ImageDraw

SHOTS = Path("/tmp/limner-shots")
PASSWORD = "web-password-1"
N_GRID = 5

LABELS = [
    {"name": "car", "color": "#ff0000", "kinds": ["box", "rotated_box"]},
    {"name": "road", "color": "#00ff00", "kinds": ["polygon", "polyline"]},
    {"name": "blob", "color": "#0000ff", "kinds": ["mask", "ellipse"]},
    {"name": "person", "color": "#ffe119", "kinds": ["skeleton", "points"],
     "skeleton": {"points": ["head", "neck", "left hand", "right hand"], "edges": [[0, 1], [1, 2], [1, 3]]}},
    {"name": "outdoor", "color": "#469990", "kinds": ["tag"]},
]


# -- fixtures ----------------------------------------------------------------------------------


def _picture(path: Path, i: int, size=(160, 120)) -> None:
    """A small distinct picture: a coloured background with a few shapes."""
    rng = np.random.default_rng(i)
    bg = tuple(int(v) for v in rng.integers(40, 220, 3))
    img = Image.new("RGB", size, bg)
    d = ImageDraw.Draw(img)
    for _ in range(4):
        x, y = (int(v) for v in rng.integers(0, 120, 2))
        r = int(rng.integers(10, 40))
        d.ellipse([x, y, x + r, y + r], fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    img.save(path)


def _rle(mask: np.ndarray) -> dict:
    from pycocotools import mask as mask_util

    enc = mask_util.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in enc["size"]], "counts": enc["counts"].decode("ascii")}


@pytest.fixture(scope="module")
def web(live, browser, tmp_path_factory):
    """A user with a password who owns a project of five pictures with labels, the first one
    annotated (so in progress), the second done, the third in review, and a second member."""
    user, client = live.new_user("web", password=PASSWORD)
    folder = tmp_path_factory.mktemp("web-grid")
    for i in range(N_GRID):
        _picture(folder / f"pic{i}.png", i)
    p = client.create_project(f"Street scenes {uuid.uuid4().hex[:4]}", "pictures for the browser tests")
    for lb in LABELS:
        client.create_label(p["id"], **lb)
    client.upload(p["id"], [folder])
    assets = client.list_assets(p["id"])["items"]
    client.update_asset(assets[1]["id"], status="done")
    client.update_asset(assets[2]["id"], status="review")
    client.put_annotation(assets[0]["id"], user["username"], [
        {"kind": "box", "label": "car", "geometry": {"x": 20, "y": 20, "w": 50, "h": 40}},
    ], base_revision=0)
    other, _ = live.new_user("colleague")
    client.add_member(p["id"], other["username"], "annotator")
    yield SimpleNamespace(user=user, client=client, project=p, assets=assets, other=other, folder=folder)
    client.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    yield ctx
    ctx.close()


def _watch(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


@pytest.fixture
def page(context, live, web):
    """A page whose context is logged in as the web user (through the login API)."""
    r = context.request.post(f"{live.url}/api/v1/auth/login", data={"username": web.user["username"], "password": PASSWORD})
    assert r.ok, r.text()
    pg = context.new_page()
    errors = _watch(pg)
    yield pg
    assert not errors, f"uncaught errors in the page: {errors}"


def _wait_hash(page, prefix: str) -> None:
    """Wait until the address's #fragment starts with `prefix`."""
    page.wait_for_function("p => location.hash.startsWith(p)", arg=prefix)


def _cards(page):
    return page.locator("#asset-grid .asset-card")


# -- login -------------------------------------------------------------------------------------


def test_login_form_lands_on_projects(context, live, web):
    page = context.new_page()
    errors = _watch(page)
    page.goto(f"{live.url}/")
    _wait_hash(page, "#/login")
    page.fill("#login-username", web.user["username"])
    page.fill("#login-password", PASSWORD)
    page.click("form.login-card button[type=submit]")
    _wait_hash(page, "#/projects")
    row = page.locator(".project-row", has_text=web.project["name"])
    row.wait_for()
    assert "owner" in row.inner_text()
    assert f"{N_GRID} assets" in row.inner_text().replace("\n", " ")
    assert web.user["username"] in page.inner_text("#user")
    assert not errors


def test_login_form_shows_the_servers_sentence(context, live, web):
    page = context.new_page()
    page.goto(f"{live.url}/#/login")
    page.fill("#login-username", web.user["username"])
    page.fill("#login-password", "not-the-password")
    page.click("form.login-card button[type=submit]")
    page.wait_for_function("(document.getElementById('login-error')?.textContent || '').length > 0")
    assert page.inner_text("#login-error") == "wrong username or password"
    assert "#/login" in page.url


def test_login_link_logs_in(context, live, web):
    from limner.store.models import User
    from limner.store.users import create_login_token

    with live.services.db.write() as s:
        token = create_login_token(s, s.get(User, web.user["id"]), 5)
    page = context.new_page()
    errors = _watch(page)
    page.goto(f"{live.url}/login?token={token}")
    _wait_hash(page, "#/projects")
    page.locator(".project-row", has_text=web.project["name"]).wait_for()
    assert web.user["username"] in page.inner_text("#user")
    assert any(c["name"] == "limner_session" and c["httpOnly"] for c in context.cookies())
    assert not errors


def test_logged_out_visit_goes_to_login_and_back(context, live, web):
    page = context.new_page()
    page.goto(f"{live.url}/#/projects/{web.project['id']}")
    _wait_hash(page, "#/login?next=")
    page.fill("#login-username", web.user["username"])
    page.fill("#login-password", PASSWORD)
    page.press("#login-password", "Enter")
    _wait_hash(page, f"#/projects/{web.project['id']}")
    _cards(page).first.wait_for()


# -- projects ----------------------------------------------------------------------------------


def test_create_project_from_the_form(page, live, web):
    page.goto(f"{live.url}/#/projects")
    page.locator(".project-row").first.wait_for()
    page.fill("#new-project-name", "Birds from the form")
    page.fill("#new-project-description", "made in the browser")
    page.click("form.new-project button[type=submit]")
    _wait_hash(page, "#/projects/")
    page.wait_for_function("document.querySelector('.page-head h1').textContent === 'Birds from the form'")
    page.wait_for_function("document.getElementById('range')?.textContent === '0 of 0'")
    made = [p for p in web.client.list_projects() if p["name"] == "Birds from the form"]
    assert made and made[0]["description"] == "made in the browser"
    # an empty name gets the server's sentence under the form
    page.goto(f"{live.url}/#/projects")
    page.fill("#new-project-name", "   ")
    page.click("form.new-project button[type=submit]")
    page.wait_for_function("document.querySelector('.new-project .form-error').textContent.length > 0")
    assert "name" in page.inner_text(".new-project .form-error")


# -- the asset grid ----------------------------------------------------------------------------


def _wait_thumbnails(page, n: int) -> None:
    page.wait_for_function(
        """n => { const imgs = [...document.querySelectorAll('#asset-grid .asset-card img')];
                  return imgs.length === n && imgs.every(i => i.complete && i.naturalWidth > 0); }""",
        arg=n,
    )


def test_grid_shows_loaded_thumbnails_and_the_range(page, live, web):
    page.goto(f"{live.url}/#/projects/{web.project['id']}")
    _wait_thumbnails(page, N_GRID)
    assert page.inner_text("#range") == f"1–{N_GRID} of {N_GRID}"
    assert page.get_attribute("#asset-grid img", "loading") == "lazy"
    first = _cards(page).first
    assert "1 shape" in first.inner_text() and web.user["username"] in first.inner_text()
    statuses = page.eval_on_selector_all("#asset-grid .asset-card", "els => els.map(e => e.dataset.status)")
    assert statuses == ["in_progress", "done", "review", "new", "new"]  # writing shapes starts the work
    assert "in progress" in first.inner_text()
    # the side panels: labels with their colours and kinds, members with their roles
    labels = page.locator("#labels-panel .label-row")
    assert labels.count() == len(LABELS)
    assert "rotated box" in labels.first.inner_text()
    assert page.locator("#member-list .member-row").count() == 2
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "project-grid.png"))


def test_filters_narrow_the_grid(page, live, web):
    page.goto(f"{live.url}/#/projects/{web.project['id']}")
    _wait_thumbnails(page, N_GRID)
    page.select_option("#filter-status", "done")
    page.wait_for_function("document.getElementById('range')?.textContent === '1–1 of 1'")
    assert _cards(page).count() == 1
    assert _cards(page).first.get_attribute("data-id") == str(web.assets[1]["id"])
    assert "status=done" in page.url
    page.select_option("#filter-status", "")
    page.wait_for_function(f"document.getElementById('range')?.textContent === '1–{N_GRID} of {N_GRID}'")
    page.select_option("#filter-label", "car")
    page.wait_for_function("document.getElementById('range')?.textContent === '1–1 of 1'")
    assert _cards(page).first.get_attribute("data-id") == str(web.assets[0]["id"])
    page.select_option("#filter-label", "")
    page.wait_for_function(f"document.getElementById('range')?.textContent === '1–{N_GRID} of {N_GRID}'")
    page.fill("#filter-name", "pic3")
    page.wait_for_function("document.getElementById('range')?.textContent === '1–1 of 1'")
    assert "pic3" in _cards(page).first.inner_text()


def test_grid_pages_by_one_hundred(page, live, web, tmp_path):
    p = web.client.create_project(f"many-{uuid.uuid4().hex[:4]}")
    for i in range(105):
        Image.new("RGB", (8, 6), (i, 255 - i, (7 * i) % 256)).save(tmp_path / f"tiny{i:03d}.png")
    assert web.client.upload(p["id"], [tmp_path])["counts"]["added"] == 105
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "/assets?" in r.url else None)
    page.goto(f"{live.url}/#/projects/{p['id']}")
    page.wait_for_function("document.getElementById('range')?.textContent === '1–100 of 105'")
    assert _cards(page).count() == 100
    assert page.is_disabled("#page-prev")
    page.click("#page-next")
    page.wait_for_function("document.getElementById('range')?.textContent === '101–105 of 105'")
    assert _cards(page).count() == 5
    assert page.is_disabled("#page-next")
    assert all("limit=100" in u for u in asked) and "after=" in asked[-1]  # Next pages by id
    assert "offset=100" in page.url
    page.go_back()
    page.wait_for_function("document.getElementById('range')?.textContent === '1–100 of 105'")


def test_upload_reports_added_and_rejected(page, live, web, tmp_path):
    p = web.client.create_project(f"upload-{uuid.uuid4().hex[:4]}")
    good = tmp_path / "fresh.png"
    _picture(good, 99)
    bad = tmp_path / "notes.txt"
    bad.write_text("not a picture")
    page.goto(f"{live.url}/#/projects/{p['id']}")
    page.wait_for_selector("#upload-button:not([hidden])")
    page.set_input_files("#upload-input", [str(good), str(bad)])
    report = page.locator("#upload-report")
    report.wait_for()
    text = report.inner_text()
    assert "1 added" in text and "1 rejected" in text and "0 skipped" in text
    rejected = page.locator("#upload-report .rep-rejected")
    assert "notes.txt" in rejected.inner_text() and "not an image" in rejected.inner_text()
    assert "fresh.png" in page.locator("#upload-report .rep-added").inner_text()
    _wait_thumbnails(page, 1)
    assert page.inner_text("#range") == "1–1 of 1"
    # the same picture again is skipped as a duplicate
    page.set_input_files("#upload-input", [str(good)])
    page.wait_for_function("(document.getElementById('upload-report')?.textContent || '').includes('1 skipped')")
    assert "already in this project" in page.inner_text("#upload-report .rep-duplicate")


def test_drop_files_on_the_grid_uploads_them(page, live, web, tmp_path):
    p = web.client.create_project(f"drop-{uuid.uuid4().hex[:4]}")
    page.goto(f"{live.url}/#/projects/{p['id']}")
    page.wait_for_selector("#upload-button:not([hidden])")
    data = page.evaluate_handle("""() => {
        const dt = new DataTransfer();
        const c = document.createElement('canvas'); c.width = 30; c.height = 20;
        const bytes = atob(c.toDataURL('image/png').split(',')[1]);
        const arr = Uint8Array.from(bytes, ch => ch.charCodeAt(0));
        dt.items.add(new File([arr], 'dropped.png', {type: 'image/png'}));
        return dt; }""")
    page.dispatch_event(".grid-wrap", "dragenter", {"dataTransfer": data})
    assert "dropping" in page.get_attribute(".grid-wrap", "class")
    page.dispatch_event(".grid-wrap", "drop", {"dataTransfer": data})
    page.locator("#upload-report").wait_for()
    assert "1 added" in page.inner_text("#upload-report")
    assert "dropping" not in page.get_attribute(".grid-wrap", "class")
    _wait_thumbnails(page, 1)


def test_members_panel_adds_and_changes_roles(page, live, web):
    newcomer, _ = live.new_user("newcomer")
    page.goto(f"{live.url}/#/projects/{web.project['id']}")
    page.locator("#member-list .member-row").first.wait_for()
    page.fill("#member-username", newcomer["username"])
    page.select_option("#member-role", "reviewer")
    page.click("form.member-add button[type=submit]")
    row = page.locator(f"#member-list .member-row[data-username='{newcomer['username']}']")
    row.wait_for()
    assert row.locator("select").input_value() == "reviewer"
    row.locator("select").select_option("viewer")
    page.wait_for_function(
        "u => document.querySelector(`#member-list [data-username='${u}'] select`).disabled === false", arg=newcomer["username"]
    )
    roles = {m["username"]: m["role"] for m in web.client.list_members(web.project["id"])}
    assert roles[newcomer["username"]] == "viewer"
    # a mistake gets the server's sentence under the form
    page.fill("#member-username", newcomer["username"])
    page.click("form.member-add button[type=submit]")
    page.wait_for_function("document.querySelector('.members-panel .form-error').textContent.length > 0")
    assert "member already" in page.inner_text(".members-panel .form-error")


# -- the viewer --------------------------------------------------------------------------------

PIXEL = """([x, y]) => {
    const c = document.getElementById('editor-canvas');
    const [s, tx, ty, dpr] = c.dataset.view.split(',').map(Number);
    const px = Math.floor((x * s + tx) * dpr), py = Math.floor((y * s + ty) * dpr);
    return Array.from(c.getContext('2d').getImageData(px, py, 1, 1).data);
}"""


def _wait_position(page, text: str) -> None:
    page.wait_for_function("t => document.getElementById('asset-position')?.textContent === t", arg=text)


def _wait_drawn(page, n: int) -> None:
    page.wait_for_function(
        "n => { const c = document.getElementById('editor-canvas');"
        " return c && c.dataset.loaded === '1' && c.dataset.image === '1' && Number(c.dataset.shapes) === n; }",
        arg=n,
    )
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


@pytest.fixture(scope="module")
def drawn(web, tmp_path_factory):
    """A plain grey 200 x 150 picture with a box (red), a polygon with a hole (green) and a mask
    (blue)."""
    folder = tmp_path_factory.mktemp("web-viewer")
    Image.new("RGB", (200, 150), (128, 128, 128)).save(folder / "grey.png")
    p = web.client.create_project(f"viewer-{uuid.uuid4().hex[:4]}")
    for lb in LABELS:
        web.client.create_label(p["id"], **lb)
    web.client.upload(p["id"], [folder])
    asset = web.client.list_assets(p["id"])["items"][0]
    mask = np.zeros((150, 200), np.uint8)
    mask[90:140, 20:80] = 1
    web.client.put_annotation(asset["id"], web.user["username"], [
        {"kind": "box", "label": "car", "geometry": {"x": 10, "y": 20, "w": 60, "h": 50}},
        {"kind": "polygon", "label": "road", "geometry": {
            "points": [[100, 20], [180, 20], [180, 70], [100, 70]],
            "holes": [[[130, 35], [150, 35], [150, 55], [130, 55]]]}},
        {"kind": "mask", "label": "blob", "geometry": {"rle": _rle(mask)}},
    ], base_revision=0)
    return SimpleNamespace(project=p, asset=asset)


def test_viewer_draws_box_polygon_and_mask_in_label_colours(page, live, web, drawn):
    page.goto(f"{live.url}/#/assets/{drawn.asset['id']}")
    _wait_drawn(page, 3)
    px = lambda x, y: page.evaluate(PIXEL, [x, y])  # noqa: E731
    outside = px(160, 120)
    assert abs(outside[0] - 128) <= 2 and outside[0] == outside[1] == outside[2]
    in_box = px(40, 45)
    assert in_box[0] - in_box[1] > 15 and in_box[0] > outside[0]  # redder than the grey around it
    in_mask = px(50, 115)
    assert in_mask[2] - in_mask[0] > 60  # blue
    in_polygon = px(110, 45)
    assert in_polygon[1] - in_polygon[0] > 15  # green
    in_hole = px(140, 45)
    assert abs(in_hole[1] - in_hole[0]) <= 2  # even-odd: the hole stays clear
    # the side panel lists the objects, topmost first; hovering one highlights its shape
    rows = page.locator("#object-list .object-row")
    assert rows.count() == 3
    assert [rows.nth(i).get_attribute("data-kind") for i in range(3)] == ["mask", "polygon", "box"]
    rows.nth(2).hover()
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    hot = px(40, 45)
    assert hot[0] - hot[1] > in_box[0] - in_box[1] + 10
    # hovering the shape on the canvas marks its row
    page.mouse.move(0, 0)
    box = page.locator("#editor-canvas").bounding_box()
    s, tx, ty, _ = (float(v) for v in page.get_attribute("#editor-canvas", "data-view").split(","))
    page.mouse.move(box["x"] + 50 * s + tx, box["y"] + 115 * s + ty)
    page.wait_for_selector("#object-list .object-row.hot[data-kind=mask]")


def test_viewer_zooms_around_the_cursor_and_pans(page, live, drawn):
    page.goto(f"{live.url}/#/assets/{drawn.asset['id']}")
    _wait_drawn(page, 3)
    view = lambda: [float(v) for v in page.get_attribute("#editor-canvas", "data-view").split(",")]  # noqa: E731
    s0, tx0, ty0, _ = view()
    box = page.locator("#editor-canvas").bounding_box()
    # the image point under the cursor stays under it
    cx, cy = box["x"] + 40 * s0 + tx0, box["y"] + 45 * s0 + ty0
    page.mouse.move(cx, cy)
    page.mouse.wheel(0, -300)
    page.wait_for_function(f"Number(document.getElementById('editor-canvas').dataset.view.split(',')[0]) > {s0 * 1.2}")
    s1, tx1, ty1, _ = view()
    assert abs((cx - box["x"] - tx1) / s1 - 40) < 0.5 and abs((cy - box["y"] - ty1) / s1 - 45) < 0.5
    page.mouse.down(button="middle")  # the middle button pans in every tool
    page.mouse.move(cx + 40, cy + 25, steps=4)
    page.mouse.up(button="middle")
    s2, tx2, ty2, _ = view()
    assert s2 == s1 and abs(tx2 - tx1 - 40) < 1 and abs(ty2 - ty1 - 25) < 1
    page.click("text=Fit")
    page.wait_for_function(f"Number(document.getElementById('editor-canvas').dataset.view.split(',')[0]) === {s0}")


def test_viewer_draws_every_kind_and_steps_with_keys(page, live, web):
    """All shape kinds from two owners on the grid's first picture; D and A walk the grid's list."""
    a0, a1 = web.assets[0], web.assets[1]
    h, w = a0["height"], a0["width"]
    mask = np.zeros((h, w), np.uint8)
    mask[70:110, 100:150] = 1
    web.client.put_annotation(a0["id"], "model-a", [
        {"kind": "rotated_box", "label": "car", "geometry": {"cx": 110, "cy": 40, "w": 50, "h": 24, "angle": 30},
         "source": "detector", "confidence": 0.91},
        {"kind": "ellipse", "label": "blob", "geometry": {"cx": 40, "cy": 90, "rx": 25, "ry": 14, "angle": -20}},
        {"kind": "polyline", "label": "road", "geometry": {"points": [[5, 115], [60, 100], [150, 112]]}},
        {"kind": "points", "label": "person", "geometry": {"points": [[140, 20], [150, 30]]}},
        {"kind": "skeleton", "label": "person", "geometry": {"points": [[80, 60, 2], [80, 75, 1], [65, 90, 2], [95, 90, 0]]}},
        {"kind": "mask", "label": "blob", "geometry": {"rle": _rle(mask)}},
        {"kind": "tag", "label": "outdoor"},
    ], base_revision=0)
    try:
        page.goto(f"{live.url}/#/projects/{web.project['id']}")
        _wait_thumbnails(page, N_GRID)
        _cards(page).first.click()
        _wait_drawn(page, 7)  # the owner's box and six shapes of model-a (the tag is listed, not drawn)
        # the position is written once the grid's list is known, which may be after the drawing
        _wait_position(page, f"1 of {N_GRID}")
        # the tag toggles are this person's tags: model-a's tag does not tick theirs
        assert page.locator("#tag-toggles .tag-toggle[data-label=outdoor] input").is_checked() is False
        assert page.locator("#object-list .object-row").count() == 1  # this person's box
        assert page.locator("#others-list .object-row.other").count() == 6  # model-a's, faded on the canvas
        assert "91%" in page.locator("#others-list .object-row.other").first.text_content()
        assert page.is_disabled("#asset-prev")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "viewer.png"))
        page.keyboard.press("d")
        _wait_hash(page, f"#/assets/{a1['id']}?")
        _wait_drawn(page, 0)
        _wait_position(page, f"2 of {N_GRID}")
        page.keyboard.press("a")
        _wait_hash(page, f"#/assets/{a0['id']}?")
        _wait_drawn(page, 7)
        # with a filter, prev/next walk the filtered list
        page.goto(f"{live.url}/#/projects/{web.project['id']}?status=new")
        page.wait_for_function("document.getElementById('range')?.textContent === '1–2 of 2'")
        _cards(page).first.click()
        _wait_position(page, "1 of 2")
        page.click("#asset-next")
        _wait_position(page, "2 of 2")
        assert page.is_disabled("#asset-next")
        _wait_hash(page, f"#/assets/{web.assets[4]['id']}?")
        page.click(".viewer-bar a.back")
        _wait_hash(page, f"#/projects/{web.project['id']}?status=new")
    finally:
        web.client.delete_annotation(a0["id"], "model-a")


def test_viewer_opened_directly_finds_both_neighbours(page, live, web):
    page.goto(f"{live.url}/#/assets/{web.assets[2]['id']}")
    page.wait_for_function("document.getElementById('asset-next')?.disabled === false")
    assert not page.is_disabled("#asset-prev")
    page.click("#asset-next")
    _wait_hash(page, f"#/assets/{web.assets[3]['id']}")


def test_api_errors_show_the_servers_sentence(page, live):
    page.goto(f"{live.url}/#/assets/987654")
    page.wait_for_selector("#flash:not([hidden])")
    assert page.inner_text("#flash").startswith("no asset with id 987654")


# -- the pure JS modules -----------------------------------------------------------------------


def test_rle_js_decodes_like_pycocotools(page, live):
    rng = np.random.default_rng(3)
    h, w = 97, 131
    yy, xx = np.mgrid[:h, :w]
    mask = np.zeros((h, w), np.uint8)
    for _ in range(6):  # blobs of many sizes: long and short runs, positive and negative deltas
        cy, cx, r = rng.integers(0, h), rng.integers(0, w), rng.integers(3, 30)
        mask |= ((yy - cy) ** 2 + (xx - cx) ** 2 < r * r).astype(np.uint8)
    mask[0, :] = mask[h - 1, :] = 1  # runs that wrap from the bottom of one column to the top of the next
    rle = _rle(mask)
    picks = [(int(y), int(x)) for y, x in zip(rng.integers(0, h, 200), rng.integers(0, w, 200))]
    picks += [(0, 0), (h - 1, w - 1), (0, w - 1), (h - 1, 0)]
    page.goto(f"{live.url}/#/projects")
    got = page.evaluate(
        """async ([rle, picks]) => {
            const m = await import('/js/render/rle.js');
            const bits = m.decodeRle(rle);
            const h = rle.size[0];
            return {
                length: bits.length,
                count: bits.reduce((a, b) => a + b, 0),
                area: m.rleArea(rle),
                bounds: m.rleBounds(rle),
                values: picks.map(([y, x]) => bits[x * h + y]),
                fromList: Array.from(m.decodeRle({size: [2, 3], counts: [1, 2, 3]})),
                bad: (() => { try { m.decodeRle({size: [2, 2], counts: [1, 1]}); return null; } catch (e) { return e.message; } })(),
            };
        }""",
        [rle, picks],
    )
    assert got["length"] == h * w
    assert got["count"] == got["area"] == int(mask.sum())
    assert got["values"] == [int(mask[y, x]) for y, x in picks]
    ys, xs = np.nonzero(mask)
    assert got["bounds"] == [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
    assert got["fromList"] == [0, 1, 1, 0, 0, 0]
    assert "cover 2 pixels" in got["bad"]


def test_geometry_js_hit_testing_and_view(page, live):
    page.goto(f"{live.url}/#/projects")
    got = page.evaluate(
        """async () => {
            const g = await import('/js/render/geometry.js');
            const square = [[0, 0], [10, 0], [10, 10], [0, 10]];
            const hole = [[3, 3], [7, 3], [7, 7], [3, 7]];
            const rbox = {cx: 50, cy: 50, w: 40, h: 10, angle: 90};
            const ell = {cx: 0, cy: 0, rx: 10, ry: 2, angle: 90};
            const v = {scale: 2, tx: 10, ty: 20};
            const z = g.zoomAt(v, 3, 100, 50);
            const fit = g.fitView(400, 200, 820, 620, 10);
            return {
                inSquare: g.pointInPolygon(1, 1, square, [hole]),
                inHole: g.pointInPolygon(5, 5, square, [hole]),
                outside: g.pointInPolygon(11, 5, square, [hole]),
                rboxTurned: [g.pointInRotatedBox(50, 68, rbox), g.pointInRotatedBox(68, 50, rbox)],
                corners: g.rotatedBoxCorners({cx: 0, cy: 0, w: 2, h: 2, angle: 90}).map(p => p.map(Math.round)),
                ellTurned: [g.pointInEllipse(0, 9, ell), g.pointInEllipse(9, 0, ell)],
                zoomKeeps: [g.toImage(v, 100, 50), g.toImage(z, 100, 50)],
                fit,
                seg: g.distToSegment(5, 5, 0, 0, 10, 0),
                hit: g.hitTest([{shape: {kind: 'box', geometry: {x: 0, y: 0, w: 100, h: 100}}},
                                {shape: {kind: 'points', geometry: {points: [[50, 50]]}}}], 52, 50, 3),
                miss: g.hitTest([{shape: {kind: 'polyline', geometry: {points: [[0, 0], [10, 0]]}}}], 5, 4, 3),
                bounds: g.shapeBounds({kind: 'ellipse', geometry: {cx: 0, cy: 0, rx: 10, ry: 2, angle: 90}}).map(Math.round),
                order: g.drawOrder([{z_order: 1}, {z_order: -1}, {}, {z_order: 1}]),
            };
        }"""
    )
    assert (got["inSquare"], got["inHole"], got["outside"]) == (True, False, False)
    assert got["rboxTurned"] == [True, False]  # a 40 x 10 box turned 90 degrees stands upright
    assert got["corners"] == [[1, -1], [1, 1], [-1, 1], [-1, -1]]  # clockwise on screen (y down)
    assert got["ellTurned"] == [True, False]
    (x0, y0), (x1, y1) = got["zoomKeeps"]
    assert abs(x0 - x1) < 1e-9 and abs(y0 - y1) < 1e-9
    assert got["fit"] == {"scale": 2, "tx": 10, "ty": 110}
    assert got["seg"] == 5
    assert got["hit"] == 1 and got["miss"] == -1
    assert got["bounds"] == [-2, -10, 2, 10]
    assert got["order"] == [1, 2, 0, 3]


def test_bus_on_off_emit(page, live):
    page.goto(f"{live.url}/#/projects")
    got = page.evaluate(
        """async () => {
            const { createBus } = await import('/js/bus.js');
            const bus = createBus();
            const seen = [];
            const off = bus.on('x', v => seen.push(['a', v]));
            bus.on('x', () => { throw new Error('one bad listener'); });
            bus.on('x', v => seen.push(['c', v]));
            bus.emit('x', 1);
            off();
            bus.emit('x', 2);
            bus.emit('nobody', 3);
            return seen;
        }"""
    )
    assert got == [["a", 1], ["c", 1], ["c", 2]]


def test_no_file_is_loaded_from_elsewhere(page, live):
    """No CDN: every request the pages make stays on the server."""
    others = []
    page.on("request", lambda r: others.append(r.url) if not r.url.startswith(live.url) and not r.url.startswith("data:") else None)
    page.goto(f"{live.url}/#/projects")
    page.locator(".project-row").first.wait_for()
    assert others == []
