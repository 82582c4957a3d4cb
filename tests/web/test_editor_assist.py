"""The assist tool in the workspace, in real Chromium against the real server: clicks become
prompts, the built-in interactor's answer is previewed, Enter stores it as a polygon."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from PIL import Image, ImageDraw
from shapely.geometry import Point, Polygon

from ._browser import logged_in, to_page

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
    with logged_in(browser, live, scene.user["username"], PASSWORD, width=1300, height=850) as pg:
        yield pg


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
    page.mouse.click(*to_page(page, CX + 5, CY - 10))
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
    a, b = to_page(page, CX - R - 15, CY - R - 15), to_page(page, CX + R + 15, CY + R + 15)
    page.mouse.move(*a)
    page.mouse.down()
    page.mouse.move(*b, steps=6)
    page.mouse.up()
    page.wait_for_function("() => /ms/.test(document.getElementById('assist-info').textContent)")
    page.keyboard.down("Shift")
    page.mouse.click(*to_page(page, 20, 20))
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


def _blobs(seed: int, discs: list[tuple[int, int, int]], w: int = 240, h: int = 180):
    """Noisy yellow discs on noisy grass: the image and the discs' mask."""
    import numpy as np

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    mask = np.zeros((h, w), bool)
    for cx, cy, r in discs:
        mask |= np.hypot(xx + 0.5 - cx, yy + 0.5 - cy) <= r
    img = np.where(mask[..., None], (225, 190, 60), (50, 110, 60)) + rng.normal(0, 14, (h, w, 3))
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)), mask


def _drag(page, points, *, shift=False):
    """An Alt+drag through image points: a scribble (with Shift: a background one)."""
    page.keyboard.down("Alt")
    if shift:
        page.keyboard.down("Shift")
    page.mouse.move(*to_page(page, *points[0]))
    page.mouse.down()
    for p in points[1:]:
        page.mouse.move(*to_page(page, *p), steps=4)
    page.mouse.up()
    if shift:
        page.keyboard.up("Shift")
    page.keyboard.up("Alt")


def test_a_kept_scribble_classifier_outlines_the_next_image(page, live, scene, tmp_path):
    import numpy as np

    salt = uuid.uuid4().int % 10_000
    first, _ = _blobs(salt, [(80, 80, 40), (190, 45, 20)])
    second, truth = _blobs(salt + 1, [(140, 105, 45), (45, 40, 18)])
    first.save(tmp_path / "a-first.png")
    second.save(tmp_path / "b-second.png")
    client = scene.client
    p = client.create_project(f"Keep {uuid.uuid4().hex[:4]}")
    client.create_label(p["id"], "blob", color="#3cb44b", kinds=["polygon"])
    client.upload(p["id"], [tmp_path / "a-first.png", tmp_path / "b-second.png"])
    ids = {a["name"]: a["id"] for a in client.list_assets(p["id"])["items"]}

    page.goto(f"{live.url}/#/assets/{ids['a-first.png']}?project={p['id']}&i=0")
    page.wait_for_selector("#editor-canvas[data-loaded='1']")
    page.keyboard.press("i")
    page.wait_for_function("() => document.querySelectorAll('#assist-tool option').length > 0")
    page.select_option("#assist-tool", "magic_wand")
    assert page.is_hidden("#assist-keep") and page.is_hidden("#assist-apply")
    page.select_option("#assist-tool", "scribble")
    assert page.is_visible("#assist-keep") and page.is_hidden("#assist-apply")
    page.wait_for_selector("#assist-mark[data-state=ready]")
    # strokes across the first disc, rim to rim, and a background ring just outside it
    _drag(page, [(42, 80), (118, 80)])
    _drag(page, [(80, 42), (80, 118)])
    ring = [(80 + 49 * np.cos(a), 80 + 49 * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 25)]
    _drag(page, ring, shift=True)
    page.wait_for_function("() => /ms/.test(document.getElementById('assist-info').textContent)")
    page.once("dialog", lambda d: d.accept("blob-finder"))
    page.click("#assist-keep")
    page.wait_for_function("() => /kept as blob-finder/.test(document.getElementById('assist-info').textContent)")
    (kept,) = [m for m in client.list_models(p["id"]) if m["name"] == "blob-finder"]
    assert kept["type"] == "scribble" and kept["config"]["trained_on"] == [ids["a-first.png"]]

    page.keyboard.press("Escape")  # the marks go; nothing was stored on the first image
    page.keyboard.press("d")
    page.wait_for_function(f"() => location.hash.startsWith('#/assets/{ids['b-second.png']}')")
    page.wait_for_selector("#editor-canvas[data-loaded='1']")
    page.keyboard.press("i")
    page.wait_for_selector("#assist-tool option[value='blob-finder']", state="attached")
    page.select_option("#assist-tool", "blob-finder")
    assert page.is_visible("#assist-apply")
    page.wait_for_selector("#assist-mark[data-state=ready]")
    page.click("#assist-apply")
    page.wait_for_function("() => /ms/.test(document.getElementById('assist-info').textContent)")
    page.keyboard.press("Enter")
    for _ in range(100):
        shapes = client.get_annotation(ids["b-second.png"], scene.user["username"])["shapes"]
        if shapes:
            break
        page.wait_for_timeout(100)
    assert shapes and all(s["kind"] == "polygon" and s["label"] == "blob" for s in shapes)
    assert {s["source"] for s in shapes} == {"assist:blob-finder"}
    drawn = Image.new("1", (truth.shape[1], truth.shape[0]), 0)
    for s in shapes:
        ImageDraw.Draw(drawn).polygon([tuple(pt) for pt in s["geometry"]["points"]], fill=1)
    got = np.asarray(drawn, bool)
    iou = (got & truth).sum() / (got | truth).sum()
    assert iou > 0.8, iou
    assert client.get_annotation(ids["a-first.png"], scene.user["username"])["shapes"] == []

    # with nothing marked, Enter applies the kept classifier too (a preview, kept by a second Enter)
    with page.expect_response(lambda r: r.url.endswith("/assist/blob-finder") and r.request.method == "POST") as answer:
        page.keyboard.press("Enter")
    assert answer.value.ok and len(answer.value.json()["polygons"]) == len(shapes)
    page.keyboard.press("Escape")
