"""The assist tool in the workspace, in real Chromium against the real server: clicks become
prompts, the built-in interactor's answer is previewed, Enter stores it as a polygon."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from PIL import Image, ImageDraw
from shapely.geometry import Point, Polygon

PASSWORD = "assist-pass-1"
W, H, CX, CY, R = 320, 240, 150, 120, 60


@pytest.fixture(scope="module")
def scene(live, browser, tmp_path_factory):
    user, client = live.new_user("assist", password=PASSWORD)
    folder = tmp_path_factory.mktemp("assist")
    img = Image.new("RGB", (W, H), (40, 60, 50))
    ImageDraw.Draw(img).ellipse([CX - R, CY - R, CX + R, CY + R], fill=(230, 200, 40))
    img.save(folder / "disc.png")
    p = client.create_project(f"Assist {uuid.uuid4().hex[:4]}")
    client.create_label(p["id"], "disc", color="#e6194b", kinds=["polygon"])
    client.upload(p["id"], [folder])
    asset = client.list_assets(p["id"])["items"][0]
    yield SimpleNamespace(user=user, client=client, project=p, asset=asset)
    client.close()


@pytest.fixture
def page(browser, live, scene):
    ctx = browser.new_context(viewport={"width": 1300, "height": 850})
    r = ctx.request.post(f"{live.url}/api/v1/auth/login", data={"username": scene.user["username"], "password": PASSWORD})
    assert r.ok, r.text()
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    ctx.close()
    assert not errors, errors


def _to_page(page, x, y):
    box = page.locator("#editor-canvas").bounding_box()
    s, tx, ty, _ = (float(v) for v in page.get_attribute("#editor-canvas", "data-view").split(","))
    return box["x"] + x * s + tx, box["y"] + y * s + ty


def test_a_click_with_the_magic_wand_becomes_the_disc(page, live, scene):
    page.goto(f"{live.url}/#/assets/{scene.asset['id']}?project={scene.project['id']}&i=0")
    page.wait_for_selector("#editor-canvas[data-loaded='1']")
    page.keyboard.press("i")
    page.wait_for_selector("#assist-bar:not([hidden])")
    page.wait_for_function("() => document.querySelectorAll('#assist-tool option').length > 0")
    names = page.eval_on_selector_all("#assist-tool option", "els => els.map(e => e.value)")
    assert {"grabcut", "magic_wand", "superpixels"} <= set(names), names
    page.select_option("#assist-tool", "magic_wand")
    page.wait_for_selector("#assist-mark[data-state=ready]")
    page.mouse.click(*_to_page(page, CX + 5, CY - 10))
    page.wait_for_function("() => /ms/.test(document.getElementById('assist-info').textContent)")
    page.keyboard.press("Enter")
    for _ in range(100):
        shapes = scene.client.get_annotation(scene.asset["id"], scene.user["username"])["shapes"]
        if shapes:
            break
        page.wait_for_timeout(100)
    assert len(shapes) == 1 and shapes[0]["kind"] == "polygon" and shapes[0]["label"] == "disc"
    assert shapes[0]["source"] == "assist:magic_wand"
    got = Polygon(shapes[0]["geometry"]["points"])
    disc = Point(CX, CY).buffer(R, 64)
    iou = got.intersection(disc).area / got.union(disc).area
    assert iou > 0.9, iou


def test_negative_clicks_and_backspace_edit_the_prompt(page, live, scene):
    page.goto(f"{live.url}/#/assets/{scene.asset['id']}?project={scene.project['id']}&i=0")
    page.wait_for_selector("#editor-canvas[data-loaded='1']")
    n0 = len(scene.client.get_annotation(scene.asset["id"], scene.user["username"])["shapes"])
    page.keyboard.press("i")
    page.wait_for_function("() => document.querySelectorAll('#assist-tool option').length > 0")
    page.select_option("#assist-tool", "grabcut")
    # a box around the disc, then a background click: the preview follows each prompt
    a, b = _to_page(page, CX - R - 15, CY - R - 15), _to_page(page, CX + R + 15, CY + R + 15)
    page.mouse.move(*a)
    page.mouse.down()
    page.mouse.move(*b, steps=6)
    page.mouse.up()
    page.wait_for_function("() => /ms/.test(document.getElementById('assist-info').textContent)")
    page.keyboard.down("Shift")
    page.mouse.click(*_to_page(page, 20, 20))
    page.keyboard.up("Shift")
    page.wait_for_function("() => /ms/.test(document.getElementById('assist-info').textContent)")
    page.keyboard.press("Backspace")  # the negative click goes; the box stays
    page.wait_for_function("() => /ms/.test(document.getElementById('assist-info').textContent)")
    page.keyboard.press("Escape")  # and now everything: nothing is kept
    page.keyboard.press("Enter")
    page.wait_for_timeout(1500)
    after = scene.client.get_annotation(scene.asset["id"], scene.user["username"])["shapes"]
    assert len(after) == n0
    assert page.get_attribute("#save-state", "data-state") == "saved"
