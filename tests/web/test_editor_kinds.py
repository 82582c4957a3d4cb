"""The workspace's rotated box, ellipse, points, skeleton, brush and eraser tools and the select
tool's resize/rotate handles, in real Chromium with real mouse and keyboard events against a real
server. What was drawn is checked through the API after the page saved it (masks decoded with
pycocotools); the polygon ↔ mask conversions are checked against shapely.
"""

from __future__ import annotations

import math
import uuid
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_util
from shapely.geometry import Polygon
from shapely.ops import unary_union

from ._browser import canvas_view, drag, logged_in, next_frames, to_page

PASSWORD = "kinds-pass-1"
POSITIONS = [[0.5, 0.1], [0.5, 0.3], [0.2, 0.6], [0.8, 0.6]]
LABELS = [
    {"name": "car", "color": "#e6194b", "kinds": ["box", "rotated_box"]},
    {"name": "blob", "color": "#3cb44b", "kinds": ["mask", "ellipse", "polygon"]},
    {"name": "person", "color": "#4363d8", "kinds": ["skeleton", "points"],
     "skeleton": {"points": ["head", "neck", "left hand", "right hand"], "edges": [[0, 1], [1, 2], [1, 3]],
                  "positions": POSITIONS}},
    {"name": "stain", "color": "#f58231", "kinds": ["mask"]},
]
W, H = 400, 300


@pytest.fixture(scope="module")
def ws(live, browser, tmp_path_factory):
    user, client = live.new_user("kinds", password=PASSWORD)
    folder = tmp_path_factory.mktemp("kinds")
    for i in range(2):
        Image.new("RGB", (W, H), (100 + 40 * i, 120, 110)).save(folder / f"img{i}.png")
    p = client.create_project(f"Kinds {uuid.uuid4().hex[:4]}")
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


# -- helpers -----------------------------------------------------------------------------------


def _reset(ws, shapes=(), i: int = 0) -> None:
    cur = ws.client.get_annotation(ws.assets[i]["id"], ws.owner)
    ws.client.put_annotation(ws.assets[i]["id"], ws.owner, list(shapes), base_revision=cur["revision"])


def _open(page, live, ws, i: int = 0) -> None:
    a = ws.assets[i]
    page.goto(f"{live.url}/#/assets/{a['id']}?project={ws.project['id']}&i={i}")
    page.wait_for_selector("#editor-canvas[data-loaded='1']")
    next_frames(page)


def _click(page, x, y) -> None:
    page.mouse.click(*to_page(page, x, y))


def _shapes(ws, i: int = 0) -> list[dict]:
    return ws.client.get_annotation(ws.assets[i]["id"], ws.owner)["shapes"]


def _wait_until(page, ws, ok, i: int = 0) -> list[dict]:
    got = None
    for _ in range(100):
        got = _shapes(ws, i)
        if ok(got):
            return got
        page.wait_for_timeout(100)
    raise AssertionError(f"the stored shapes never matched: {got}")


def _tool(page, key: str, name: str) -> None:
    page.keyboard.press(key)
    assert page.get_attribute("#editor-canvas", "data-tool") == name


def _label(page, digit: str, name: str) -> None:
    page.keyboard.press("Escape")  # nothing selected: a digit would relabel the selection
    page.keyboard.press(digit)
    assert page.get_attribute("#label-picker .picker-row.active", "data-label") == name


def _near(a: float, b: float, tol: float = 1.0) -> bool:
    return abs(a - b) <= tol


def _reload(page) -> None:
    page.wait_for_function("() => document.getElementById('save-state').dataset.state === 'saved'")
    page.reload()
    page.wait_for_selector("#editor-canvas[data-loaded='1']")
    next_frames(page)


def _mask(shape) -> np.ndarray:
    rle = shape["geometry"]["rle"]
    return mask_util.decode({"size": rle["size"], "counts": rle["counts"].encode("ascii")})


def _rotate(x, y, deg, cx, cy):
    t = math.radians(deg)
    dx, dy = x - cx, y - cy
    return cx + dx * math.cos(t) - dy * math.sin(t), cy + dx * math.sin(t) + dy * math.cos(t)


# -- pure functions ------------------------------------------------------------------------------


def test_frame_math_and_skeleton_template(page, live, ws):
    _open(page, live, ws)
    got = page.evaluate(
        """async () => {
            const t = await import('/js/tools/edit/transform.js');
            const k = await import('/js/tools/skeleton.js');
            const d = await import('/js/tools/drag-shape.js');
            const f = {cx: 100, cy: 50, w: 40, h: 20, angle: 90};
            return {
                handles: t.handlePoints(f, 10),
                east: t.resizeFrame(f, 'e', 100, 90),          // the right edge, now at the bottom
                flip: t.resizeFrame({cx: 0, cy: 0, w: 10, h: 10, angle: 0}, 'w', 20, 0),
                tiny: t.resizeFrame({cx: 0, cy: 0, w: 10, h: 10, angle: 0}, 'se', -5, -5),
                turn: t.rotateFrame({cx: 0, cy: 0, w: 10, h: 10, angle: 10}, 0, 5, 5),
                snapped: t.rotateFrame({cx: 0, cy: 0, w: 10, h: 10, angle: 0}, 0, 10, -1, 15),
                norm: [t.normAngle(190), t.normAngle(-180), t.normAngle(540)],
                vis: [t.nextVisibility(2), t.nextVisibility(1), t.nextVisibility(0)],
                box: t.geometryOf('box', t.frameOf('box', {x: 1, y: 2, w: 3, h: 4})),
                ell: t.frameOf('ellipse', {cx: 5, cy: 6, rx: 7, ry: 8, angle: 9}),
                circle: k.templatePositions({points: ['a', 'b', 'c', 'd']}).map(p => p.map(v => Math.round(v * 100) / 100)),
                placed: k.placeSkeleton({points: ['a', 'b'], positions: [[0, 0], [0.5, 1]]}, {x: 10, y: 20, w: 100, h: 50}),
                square: d.dragBox([10, 10], [30, 15], true, 400, 300),
            };
        }"""
    )
    r = lambda p: [round(v, 6) for v in p]  # noqa: E731
    h = {k: r(v) for k, v in got["handles"].items()}
    assert h["n"] == [110, 50] and h["e"] == [100, 70] and h["rot"] == [120, 50]  # turned a quarter clockwise
    east = got["east"]
    assert _near(east["w"], 60, 1e-6) and _near(east["h"], 20, 1e-6) and _near(east["cy"], 60, 1e-6) and east["cx"] == 100
    assert got["flip"] == {"cx": 12.5, "cy": 0, "w": 15, "h": 10, "angle": 0}  # dragged past the anchor: flipped
    assert got["tiny"]["w"] == 1 and got["tiny"]["h"] == 1
    assert got["turn"]["angle"] == 145  # bearing of (5, 5) is 135° clockwise from up
    assert got["snapped"]["angle"] == 90
    assert got["norm"] == [-170, 180, 180]
    assert got["vis"] == [1, 0, 2]
    assert got["box"] == {"x": 1, "y": 2, "w": 3, "h": 4}
    assert got["ell"] == {"cx": 5, "cy": 6, "w": 14, "h": 16, "angle": 9}
    assert got["circle"] == [[0.5, 0.1], [0.9, 0.5], [0.5, 0.9], [0.1, 0.5]]
    assert got["placed"] == [[10, 20, 2], [60, 70, 2]]
    assert got["square"] == {"x": 10, "y": 10, "w": 20, "h": 20}


# -- drawing and editing -------------------------------------------------------------------------


def test_tool_keys_switch_tools(page, live, ws):
    _open(page, live, ws)
    for key, name in [("r", "rotated_box"), ("e", "ellipse"), ("o", "points"), ("k", "skeleton"),
                      ("m", "brush"), ("x", "eraser"), ("v", "select")]:
        _tool(page, key, name)
    for name in ["rotated_box", "ellipse", "points", "skeleton", "brush", "eraser"]:
        assert page.locator(f"#toolbar button[data-tool={name}]").count() == 1
    # the shortcut overlay lists the tools (with their own keys) and the conversions
    page.keyboard.press("?")
    page.wait_for_selector("#help-dialog[open]")
    text = page.inner_text("#help-dialog")
    for words in ["Q over a keypoint", "[ and ] change the size", "Turn the selected masks into polygons",
                  "Turn the selected polygons", "Enter to finish"]:
        assert words in text


def test_rotated_box_draw_turn_resize_undo(page, live, ws):
    _reset(ws)
    _open(page, live, ws)
    _tool(page, "r", "rotated_box")
    drag(page, (100, 80), (220, 140))
    got = _wait_until(page, ws, lambda s: len(s) == 1)
    g = got[0]["geometry"]
    assert got[0]["kind"] == "rotated_box" and got[0]["label"] == "car"
    assert all(_near(g[k], v) for k, v in {"cx": 160, "cy": 110, "w": 120, "h": 60, "angle": 0}.items()), g
    # the new box is selected: its round handle (26 screen px above the top edge) turns it, from
    # the drawing tool itself; dragged to the right of the centre, a quarter turn clockwise
    s, _, _ = canvas_view(page)[:3]
    drag(page, (160, 80 - 26 / s), (240, 110), steps=10)
    got = _wait_until(page, ws, lambda s: _near(s[0]["geometry"]["angle"], 90, 1.0))
    g = got[0]["geometry"]
    assert _near(g["cx"], 160) and _near(g["cy"], 110) and _near(g["w"], 120) and _near(g["h"], 60)
    # the select tool: the "e" handle, turned to below the centre, drags 20 px further down
    _tool(page, "v", "select")
    drag(page, (160, 170), (160, 190))
    got = _wait_until(page, ws, lambda s: _near(s[0]["geometry"]["w"], 140))
    g = got[0]["geometry"]
    assert _near(g["cx"], 160) and _near(g["cy"], 120) and _near(g["h"], 60) and _near(g["angle"], 90, 1.0)
    page.keyboard.press("Control+z")  # the resize, as one step
    _wait_until(page, ws, lambda s: _near(s[0]["geometry"]["w"], 120) and _near(s[0]["geometry"]["cy"], 110))
    page.keyboard.press("Control+z")  # the turn
    _wait_until(page, ws, lambda s: _near(s[0]["geometry"]["angle"], 0, 0.01))
    page.keyboard.press("Control+Shift+z")
    page.keyboard.press("Control+Shift+z")
    got = _wait_until(page, ws, lambda s: _near(s[0]["geometry"]["w"], 140))
    _reload(page)
    assert page.locator("#object-list .object-row").count() == 1
    assert _shapes(ws) == got


def test_box_resize_handles(page, live, ws):
    _reset(ws, [{"kind": "box", "label": "car", "geometry": {"x": 50, "y": 60, "w": 100, "h": 80}}])
    _open(page, live, ws)
    _click(page, 100, 100)  # select it
    drag(page, (150, 140), (180, 160))  # the bottom-right corner
    got = _wait_until(page, ws, lambda s: _near(s[0]["geometry"]["w"], 130))
    assert got[0]["geometry"] == pytest.approx({"x": 50, "y": 60, "w": 130, "h": 100}, abs=1)
    drag(page, (50, 110), (40, 110))  # the left edge's middle handle: only x and w change
    got = _wait_until(page, ws, lambda s: _near(s[0]["geometry"]["x"], 40))
    assert got[0]["geometry"] == pytest.approx({"x": 40, "y": 60, "w": 140, "h": 100}, abs=1)
    drag(page, (110, 60), (110, 300))  # the top edge dragged past the bottom: the box flips
    got = _wait_until(page, ws, lambda s: _near(s[0]["geometry"]["y"], 160))
    assert got[0]["geometry"] == pytest.approx({"x": 40, "y": 160, "w": 140, "h": 140}, abs=1)  # kept in the image
    page.keyboard.press("Control+z")
    _wait_until(page, ws, lambda s: s[0]["geometry"] == pytest.approx({"x": 40, "y": 60, "w": 140, "h": 100}, abs=1))


def test_ellipse_draw_circle_and_turn(page, live, ws):
    _reset(ws)
    _open(page, live, ws)
    _label(page, "2", "blob")
    _tool(page, "e", "ellipse")
    drag(page, (60, 50), (180, 130))
    got = _wait_until(page, ws, lambda s: len(s) == 1)
    assert got[0]["kind"] == "ellipse" and got[0]["label"] == "blob"
    assert got[0]["geometry"] == pytest.approx({"cx": 120, "cy": 90, "rx": 60, "ry": 40, "angle": 0}, abs=1)
    # turn it by 45° with the select tool's round handle
    _tool(page, "v", "select")
    s, _, _ = canvas_view(page)[:3]
    hx, hy = 120, 50 - 26 / s
    drag(page, (hx, hy), (120 + 80 * math.sin(math.pi / 4), 90 - 80 * math.cos(math.pi / 4)))
    got = _wait_until(page, ws, lambda s: _near(s[0]["geometry"]["angle"], 45, 1.5))
    assert got[0]["geometry"] == pytest.approx({"cx": 120, "cy": 90, "rx": 60, "ry": 40, "angle": 45}, abs=1.5)
    # resize along its own turned axis: the "e" handle sits at the turned right end
    ex, ey = _rotate(180, 90, got[0]["geometry"]["angle"], 120, 90)
    fx, fy = _rotate(200, 90, got[0]["geometry"]["angle"], 120, 90)
    drag(page, (ex, ey), (fx, fy))
    got = _wait_until(page, ws, lambda s: _near(s[0]["geometry"]["rx"], 70))
    cx, cy = _rotate(130, 90, got[0]["geometry"]["angle"], 120, 90)
    assert _near(got[0]["geometry"]["cx"], cx) and _near(got[0]["geometry"]["cy"], cy) and _near(got[0]["geometry"]["ry"], 40)
    # Shift + drag draws a circle
    page.keyboard.press("Escape")
    _tool(page, "e", "ellipse")
    page.keyboard.down("Shift")
    drag(page, (250, 150), (310, 190))
    page.keyboard.up("Shift")
    got = _wait_until(page, ws, lambda s: len(s) == 2)
    c = got[1]["geometry"]
    assert c == pytest.approx({"cx": 280, "cy": 180, "rx": 30, "ry": 30, "angle": 0}, abs=1)
    _reload(page)
    assert page.locator("#object-list .object-row").count() == 2


def test_points_click_enter_escape_backspace(page, live, ws):
    _reset(ws)
    _open(page, live, ws)
    _label(page, "3", "person")
    _tool(page, "o", "points")
    for p in [(50, 50), (120, 80), (200, 150)]:
        _click(page, *p)
    page.keyboard.press("Enter")
    got = _wait_until(page, ws, lambda s: len(s) == 1)
    assert got[0]["kind"] == "points" and got[0]["label"] == "person"
    pts = got[0]["geometry"]["points"]
    assert len(pts) == 3 and all(_near(a, b) for p, q in zip(pts, [(50, 50), (120, 80), (200, 150)]) for a, b in zip(p, q))
    # Esc drops an unfinished set; Backspace takes the last point back
    _click(page, 300, 50)
    _click(page, 310, 60)
    page.keyboard.press("Escape")
    _click(page, 30, 250)
    _click(page, 40, 260)
    page.keyboard.press("Backspace")
    page.keyboard.press("Enter")
    got = _wait_until(page, ws, lambda s: len(s) == 2)
    assert len(got[1]["geometry"]["points"]) == 1 and _near(got[1]["geometry"]["points"][0][0], 30)
    page.keyboard.press("Control+z")
    _wait_until(page, ws, lambda s: len(s) == 1)


def test_skeleton_template_visibility_and_keypoint_drag(page, live, ws):
    _reset(ws)
    _open(page, live, ws)
    _label(page, "3", "person")
    _tool(page, "k", "skeleton")
    drag(page, (100, 50), (200, 250))
    got = _wait_until(page, ws, lambda s: len(s) == 1)
    assert got[0]["kind"] == "skeleton" and got[0]["label"] == "person"
    pts = got[0]["geometry"]["points"]
    want = [[100 + u * 100, 50 + v * 200, 2] for u, v in POSITIONS]
    assert all(_near(p[0], q[0]) and _near(p[1], q[1]) and p[2] == 2 for p, q in zip(pts, want))
    head = pts[0]
    # Q over a keypoint: visible → hidden → not labelled
    page.mouse.move(*to_page(page, head[0], head[1]))
    page.keyboard.press("q")
    _wait_until(page, ws, lambda s: s[0]["geometry"]["points"][0][2] == 1)
    page.keyboard.press("q")
    _wait_until(page, ws, lambda s: s[0]["geometry"]["points"][0][2] == 0)
    # Alt + click with the select tool labels it again (a keypoint not labelled shows as a cross)
    _tool(page, "v", "select")
    hand = pts[3]
    _click(page, hand[0], hand[1])  # select the skeleton
    page.keyboard.down("Alt")
    _click(page, head[0], head[1])
    page.keyboard.up("Alt")
    _wait_until(page, ws, lambda s: s[0]["geometry"]["points"][0][2] == 2)
    # drag the right hand 30 px to the right
    drag(page, (hand[0], hand[1]), (hand[0] + 30, hand[1] + 10))
    got = _wait_until(page, ws, lambda s: _near(s[0]["geometry"]["points"][3][0], hand[0] + 30))
    assert _near(got[0]["geometry"]["points"][3][1], hand[1] + 10)
    assert [p[:2] for p in got[0]["geometry"]["points"][:3]] == [p[:2] for p in pts[:3]]
    page.keyboard.press("Control+z")  # the drag
    page.keyboard.press("Control+z")  # not labelled → visible
    _wait_until(page, ws, lambda s: s[0]["geometry"]["points"][0][2] == 0 and _near(s[0]["geometry"]["points"][3][0], hand[0]))
    # a click places the template at a default size around the point
    _tool(page, "k", "skeleton")
    page.keyboard.press("Escape")
    _click(page, 300, 150)
    got = _wait_until(page, ws, lambda s: len(s) == 2)
    xs = [p[0] for p in got[1]["geometry"]["points"]]
    ys = [p[1] for p in got[1]["geometry"]["points"]]
    assert min(xs) < 300 < max(xs) and min(ys) < 150 < max(ys)
    _reload(page)
    assert page.locator("#object-list .object-row").count() == 2


def test_brush_paints_and_eraser_clears(page, live, ws):
    _reset(ws)
    _open(page, live, ws)
    _label(page, "2", "blob")
    _tool(page, "m", "brush")
    page.keyboard.press("]")  # 20 → 25 px
    assert "25 px" in page.inner_text("#status-line")
    _click(page, 100, 100)  # one dab: a disc of diameter 25 around (100, 100)
    got = _wait_until(page, ws, lambda s: len(s) == 1)
    assert got[0]["kind"] == "mask" and got[0]["label"] == "blob"
    assert got[0]["geometry"]["rle"]["size"] == [H, W]
    m = _mask(got[0])
    ys, xs = np.nonzero(m)
    assert abs(m.sum() - math.pi * 12.5**2) < 0.05 * math.pi * 12.5**2
    assert _near(xs.mean() + 0.5, 100) and _near(ys.mean() + 0.5, 100)
    # a stroke adds to the selected mask of the active label, as one step
    drag(page, (200, 100), (260, 100), steps=12)
    got = _wait_until(page, ws, lambda s: _mask(s[0]).sum() > 1000)
    assert len(got) == 1
    stroke = _mask(got[0]).astype(bool) & ~m.astype(bool)
    assert abs(stroke.sum() - (25 * 60 + math.pi * 12.5**2)) < 0.05 * (25 * 60 + math.pi * 12.5**2)
    ys, xs = np.nonzero(stroke)
    assert _near(xs.min(), 200 - 12.5, 1.5) and _near(xs.max(), 260 + 12.5, 1.5) and _near(ys.mean() + 0.5, 100)
    painted = _mask(got[0]).sum()
    # another label's brush makes a new mask
    _label(page, "4", "stain")
    _tool(page, "m", "brush")
    _click(page, 300, 220)
    got = _wait_until(page, ws, lambda s: len(s) == 2)
    assert got[1]["label"] == "stain" and _mask(got[1])[220, 300] == 1
    # the eraser clears from the selected mask (the new stain): a smaller disc in its middle
    _tool(page, "x", "eraser")
    page.keyboard.press("[")
    page.keyboard.press("[")  # 25 → 20 → 16
    _click(page, 300, 220)
    got = _wait_until(page, ws, lambda s: len(s) == 2 and _mask(s[1])[220, 300] == 0)
    assert abs(_mask(got[1]).sum() - (math.pi * 12.5**2 - math.pi * 8**2)) < 0.08 * math.pi * 12.5**2
    assert _mask(got[0]).sum() == painted  # the blob mask was not selected: untouched
    page.keyboard.press("Control+z")  # the erase
    _wait_until(page, ws, lambda s: len(s) == 2 and _mask(s[1])[220, 300] == 1)
    page.keyboard.press("Control+y")
    _wait_until(page, ws, lambda s: len(s) == 2 and _mask(s[1])[220, 300] == 0)
    # erasing the whole mask removes it
    page.keyboard.press("]")
    page.keyboard.press("]")
    page.keyboard.press("]")
    drag(page, (280, 205), (320, 235))
    _wait_until(page, ws, lambda s: len(s) == 1 and s[0]["label"] == "blob")
    _reload(page)
    assert page.locator("#object-list .object-row").count() == 1
    assert _mask(_shapes(ws)[0]).sum() == painted


def test_brush_needs_a_label_that_allows_masks(page, live, ws):
    _reset(ws)
    _open(page, live, ws)
    _label(page, "1", "car")
    _tool(page, "m", "brush")
    _click(page, 100, 100)
    page.wait_for_function("() => document.getElementById('status-line').textContent.includes('does not allow masks')")
    _tool(page, "x", "eraser")
    _click(page, 100, 100)
    page.wait_for_function("() => document.getElementById('status-line').textContent.includes('Select a mask')")
    page.wait_for_timeout(300)
    assert _shapes(ws) == []


def test_move_a_mask_with_the_select_tool(page, live, ws):
    m = np.zeros((H, W), np.uint8)
    m[100:140, 50:90] = 1
    m[120:125, 95:99] = 1
    enc = mask_util.encode(np.asfortranarray(m))
    rle = {"size": [H, W], "counts": enc["counts"].decode("ascii")}
    _reset(ws, [{"kind": "mask", "label": "blob", "geometry": {"rle": rle}}])
    _open(page, live, ws)
    _click(page, 70, 120)  # select it
    drag(page, (70, 120), (100, 100), steps=10)
    got = _wait_until(page, ws, lambda s: not np.array_equal(_mask(s[0]), m))
    want = np.zeros_like(m)
    want[80:120, 80:120] = 1
    want[100:105, 125:129] = 1
    assert np.array_equal(_mask(got[0]), want)
    page.keyboard.press("Control+z")
    _wait_until(page, ws, lambda s: np.array_equal(_mask(s[0]), m))


def test_polygon_to_mask_to_polygon_round_trip(page, live, ws):
    outline = [[60.0, 40.0], [250.0, 30.0], [330.0, 150.0], [240.0, 260.0], [150.0, 180.0], [40.0, 230.0]]
    hole = [[140.0, 80.0], [220.0, 90.0], [200.0, 140.0]]
    island = [[350.0, 20.0], [390.0, 20.0], [390.0, 60.0], [350.0, 60.0]]
    _reset(ws, [{"kind": "polygon", "label": "blob", "geometry": {"points": outline, "holes": [hole]}, "z_order": 3},
                {"kind": "box", "label": "car", "geometry": {"x": 5, "y": 5, "w": 20, "h": 20}}])
    _open(page, live, ws)
    _click(page, 100, 100)
    page.keyboard.press("Shift+m")
    got = _wait_until(page, ws, lambda s: s[0]["kind"] == "mask")
    assert got[0]["label"] == "blob" and got[0]["z_order"] == 3
    m = _mask(got[0])
    original = Polygon(outline, [hole])
    assert abs(m.sum() - original.area) < 0.01 * original.area
    # a box of a label without masks stays a box
    _click(page, 15, 15)
    page.keyboard.press("Shift+m")
    page.wait_for_function("() => document.getElementById('status-line').textContent.includes('does not allow masks')")
    # paint a second part onto the mask, then trace it back: two polygons, one instance
    _label(page, "2", "blob")
    _click(page, 100, 100)  # the brush adds to the selected mask when it has the active label
    _tool(page, "m", "brush")
    for _ in range(4):
        page.keyboard.press("]")  # 20 → 49
    for x, y in [(358, 28), (382, 28), (382, 52), (358, 52), (370, 40)]:
        _click(page, x, y)
    before = _wait_until(page, ws, lambda s: _mask(s[0])[40, 370] == 1)
    painted = _mask(before[0]).sum()
    _tool(page, "v", "select")
    page.keyboard.press("Shift+p")
    got = _wait_until(page, ws, lambda s: sum(x["kind"] == "polygon" for x in s) == 2)
    polys = [x for x in got if x["kind"] == "polygon"]
    assert all(p["label"] == "blob" and p["z_order"] == 3 for p in polys)
    assert polys[0]["group_id"] is not None and polys[0]["group_id"] == polys[1]["group_id"]
    big = max(polys, key=lambda p: len(p["geometry"]["points"]))
    traced = Polygon(big["geometry"]["points"], big["geometry"]["holes"])
    assert traced.is_valid and len(big["geometry"]["holes"]) == 1
    assert original.intersection(traced).area / original.union(traced).area > 0.95
    small = [p for p in polys if p is not big][0]
    dabs = Polygon(small["geometry"]["points"])
    assert dabs.is_valid and dabs.intersection(Polygon(island)).area > 0.6 * Polygon(island).area
    union = unary_union([Polygon(p["geometry"]["points"], p["geometry"]["holes"]) for p in polys])
    assert abs(union.area - painted) < 0.02 * painted
    # the conversion is one step: undo brings the mask back, once more the polygon
    page.keyboard.press("Control+z")
    _wait_until(page, ws, lambda s: sum(x["kind"] == "mask" for x in s) == 1 and len(s) == 2)
    for _ in range(5):
        page.keyboard.press("Control+z")  # the five dabs
    page.keyboard.press("Control+z")
    got = _wait_until(page, ws, lambda s: any(x["kind"] == "polygon" for x in s) and len(s) == 2)
    poly = [x for x in got if x["kind"] == "polygon"][0]
    assert poly["geometry"]["points"] == outline
