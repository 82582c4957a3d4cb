"""Polygons, polylines, vertex editing and shared borders in the workspace, in real Chromium with
real mouse and keyboard events against a real server. Geometry is checked through the API once
the page has saved it (and, for shared borders, after a reload)."""

from __future__ import annotations

import math
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from ._browser import canvas_view, logged_in, to_page

PASSWORD = "polygon-pass-1"
SHOTS = Path("/tmp/limner-shots")
LABELS = [
    {"name": "region", "color": "#4363d8", "kinds": ["polygon", "polyline"]},
    {"name": "marks", "color": "#f58231", "kinds": ["points"]},
    {"name": "person", "color": "#911eb4", "kinds": ["skeleton"],
     "skeleton": {"points": ["head", "neck", "hand"], "edges": [[0, 1], [1, 2]]}},
]
SQUARE_A = [[100, 100], [200, 100], [200, 200], [100, 200]]


@pytest.fixture(scope="module")
def ws(live, browser, tmp_path_factory):
    user, client = live.new_user("poly", password=PASSWORD)
    folder = tmp_path_factory.mktemp("poly")
    Image.new("RGB", (400, 300), (120, 130, 140)).save(folder / "field.png")
    p = client.create_project(f"Polygons {uuid.uuid4().hex[:4]}")
    for lb in LABELS:
        client.create_label(p["id"], **lb)
    client.upload(p["id"], [folder])
    asset = client.list_assets(p["id"])["items"][0]
    yield SimpleNamespace(user=user, client=client, project=p, asset=asset, owner=user["username"])
    client.close()


@pytest.fixture
def page(browser, live, ws):
    with logged_in(browser, live, ws.user["username"], PASSWORD, width=1400, height=900) as pg:
        yield pg


# -- helpers -----------------------------------------------------------------------------------


def _polygon(points, holes=None) -> dict:
    return {"kind": "polygon", "label": "region", "geometry": {"points": points, "holes": holes or []}}


def _start(ws, shapes: list[dict]) -> None:
    """The asset's annotation holds exactly `shapes`."""
    cur = ws.client.get_annotation(ws.asset["id"], ws.owner)
    if cur["revision"] or shapes:
        ws.client.put_annotation(ws.asset["id"], ws.owner, shapes, base_revision=cur["revision"])


def _open(page, live, ws) -> None:
    page.goto(f"{live.url}/#/assets/{ws.asset['id']}?project={ws.project['id']}&i=0")
    page.wait_for_selector("#editor-canvas[data-loaded='1']")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def _scale(page) -> float:
    return canvas_view(page)[0]


def _click(page, x: float, y: float, modifiers=()) -> None:
    for m in modifiers:
        page.keyboard.down(m)
    page.mouse.click(*to_page(page, x, y))
    for m in reversed(modifiers):
        page.keyboard.up(m)


def _drag(page, a, b, steps: int = 8, modifiers=()) -> None:
    for m in modifiers:
        page.keyboard.down(m)
    page.mouse.move(*to_page(page, *a))
    page.mouse.down()
    page.mouse.move(*to_page(page, *b), steps=steps)
    page.mouse.up()
    for m in reversed(modifiers):
        page.keyboard.up(m)


def _shapes(ws) -> list[dict]:
    return ws.client.get_annotation(ws.asset["id"], ws.owner)["shapes"]


def _wait_until(page, ws, ok) -> list[dict]:
    got = None
    for _ in range(100):
        got = _shapes(ws)
        if ok(got):
            return got
        page.wait_for_timeout(100)
    raise AssertionError(f"the stored shapes never matched: {got}")


def _saved(page) -> None:
    page.wait_for_function("() => document.getElementById('save-state').dataset.state === 'saved'", timeout=10000)


def _close(a, b, tol: float = 1.0) -> bool:
    """Two point lists equal to within `tol` pixels, point by point."""
    return len(a) == len(b) and all(abs(p[0] - q[0]) <= tol and abs(p[1] - q[1]) <= tol for p, q in zip(a, b))


def _count(n: int, kind: str = "polygon"):
    return lambda s: len(s) == n and all(x["kind"] == kind for x in s)


def _by_first(shapes: list[dict], point) -> dict:
    """The stored shape whose first vertex is within half a pixel of `point`."""
    return next(s for s in shapes if _close(s["geometry"]["points"][:1], [point], 0.5))


# -- drawing -----------------------------------------------------------------------------------


def test_polygon_by_clicks_closes_on_the_first_vertex_and_undoes_in_one_step(page, live, ws):
    _start(ws, [])
    _open(page, live, ws)
    page.keyboard.press("p")
    assert page.get_attribute("#editor-canvas", "data-tool") == "polygon"
    drawn = [[50, 40], [150, 45], [160, 130], [60, 120]]
    for x, y in drawn:
        _click(page, x, y)
    assert _shapes(ws) == []  # nothing until it is closed
    _click(page, 51, 41)  # on the first vertex: closes
    got = _wait_until(page, ws, _count(1))
    assert got[0]["label"] == "region" and got[0]["geometry"]["holes"] == []
    assert _close(got[0]["geometry"]["points"], drawn)
    page.keyboard.press("Control+z")
    _wait_until(page, ws, _count(0))
    page.keyboard.press("Control+Shift+z")
    got = _wait_until(page, ws, _count(1))
    assert _close(got[0]["geometry"]["points"], drawn)


def test_polygon_closes_with_enter_backspace_drops_a_vertex_escape_cancels(page, live, ws):
    _start(ws, [])
    _open(page, live, ws)
    page.keyboard.press("p")
    for x, y in [[20, 20], [80, 20], [80, 80], [300, 250]]:
        _click(page, x, y)
    page.keyboard.press("Backspace")  # the stray last click
    page.keyboard.press("Enter")
    got = _wait_until(page, ws, _count(1))
    assert _close(got[0]["geometry"]["points"], [[20, 20], [80, 20], [80, 80]])
    # two vertices are not a polygon: Enter keeps drawing, Escape drops it
    _click(page, 200, 200)
    _click(page, 250, 200)
    page.keyboard.press("Enter")
    assert "at least 3" in page.text_content("#status-line")
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    _saved(page)
    assert len(_shapes(ws)) == 1


def _circle(cx, cy, r, n):
    return [(cx + r * math.cos(2 * math.pi * k / n), cy + r * math.sin(2 * math.pi * k / n)) for k in range(n + 1)]


def _freehand(page, pts) -> None:
    page.keyboard.down("Shift")
    page.mouse.move(*to_page(page, *pts[0]))
    page.mouse.down()
    for p in pts[1:]:
        page.mouse.move(*to_page(page, *p))
    page.mouse.up()
    page.keyboard.up("Shift")


def _on_circle(points, cx, cy, r, tol) -> bool:
    return all(abs(math.hypot(x - cx, y - cy) - r) <= tol for x, y in points)


def test_polygon_freehand_with_shift_is_simplified_and_closes_both_ways(page, live, ws):
    _start(ws, [])
    _open(page, live, ws)
    page.keyboard.press("p")
    px = 1 / _scale(page)  # one screen pixel in image pixels
    # an arc, then Enter closes it
    _freehand(page, _circle(100, 150, 60, 120)[:91])  # three quarters of a circle, 91 pointer events
    page.keyboard.press("Enter")
    got = _wait_until(page, ws, _count(1))
    pts = got[0]["geometry"]["points"]
    assert 8 <= len(pts) < 60  # simplified, yet a curve
    assert _on_circle(pts, 100, 150, 60, 1.0 + px)
    assert _close([pts[0]], [[160, 150]]) and _close([pts[-1]], [[100, 90]])
    # a whole loop ending on its first point closes by itself
    _freehand(page, _circle(300, 150, 50, 120))
    got = _wait_until(page, ws, _count(2))
    loop = next(s for s in got if s["geometry"]["points"][0][0] > 250)["geometry"]["points"]
    assert 8 <= len(loop) < 70 and loop[0] != loop[-1]
    assert _on_circle(loop, 300, 150, 50, 1.0 + px)
    # the second stroke is one undo step
    page.keyboard.press("Control+z")
    _wait_until(page, ws, _count(1))


def test_polyline_finishes_with_a_double_click_or_enter(page, live, ws):
    _start(ws, [])
    _open(page, live, ws)
    page.keyboard.press("l")
    assert page.get_attribute("#editor-canvas", "data-tool") == "polyline"
    _click(page, 30, 250)
    _click(page, 120, 200)
    page.mouse.dblclick(*to_page(page, 200, 260))
    got = _wait_until(page, ws, _count(1, "polyline"))
    assert _close(got[0]["geometry"]["points"], [[30, 250], [120, 200], [200, 260]])
    _click(page, 250, 50)
    page.keyboard.press("Enter")  # one point is not a line
    _click(page, 350, 60)
    page.keyboard.press("Enter")
    got = _wait_until(page, ws, _count(2, "polyline"))
    assert _close(_by_first(got, [250, 50])["geometry"]["points"], [[250, 50], [350, 60]])
    page.keyboard.press("Control+z")
    _wait_until(page, ws, _count(1, "polyline"))


# -- vertex editing ----------------------------------------------------------------------------


def _select(page, x, y) -> None:
    page.keyboard.press("v")
    _click(page, x, y)


def test_drag_insert_and_alt_click_delete_vertices_each_one_undo_step(page, live, ws):
    _start(ws, [_polygon(SQUARE_A)])
    _open(page, live, ws)
    _select(page, 150, 150)
    # drag the corner (200, 100) to (230, 80)
    _drag(page, (200, 100), (230, 80), steps=10)
    moved = [[100, 100], [230, 80], [200, 200], [100, 200]]
    got = _wait_until(page, ws, lambda s: len(s) == 1 and _close(s[0]["geometry"]["points"], moved))
    page.keyboard.press("Control+z")
    _wait_until(page, ws, lambda s: s[0]["geometry"]["points"] == SQUARE_A)
    page.keyboard.press("Control+y")
    _wait_until(page, ws, lambda s: _close(s[0]["geometry"]["points"], moved))
    # a click on the bottom edge inserts a vertex there
    _click(page, 150, 200)
    got = _wait_until(page, ws, lambda s: len(s[0]["geometry"]["points"]) == 5)
    assert _close(got[0]["geometry"]["points"], [[100, 100], [230, 80], [200, 200], [150, 200], [100, 200]])
    # an edge dragged: insert and move in one step
    _drag(page, (100, 150), (80, 150))
    got = _wait_until(page, ws, lambda s: len(s[0]["geometry"]["points"]) == 6)
    assert _close(got[0]["geometry"]["points"][5:], [[80, 150]])  # on the closing edge, after the last vertex
    page.keyboard.press("Control+z")
    _wait_until(page, ws, lambda s: len(s[0]["geometry"]["points"]) == 5)
    # Alt+click deletes a vertex; undo brings it back
    _click(page, 150, 200, modifiers=["Alt"])
    got = _wait_until(page, ws, lambda s: len(s[0]["geometry"]["points"]) == 4)
    assert _close(got[0]["geometry"]["points"], moved)
    page.keyboard.press("Control+z")
    _wait_until(page, ws, lambda s: len(s[0]["geometry"]["points"]) == 5)
    page.keyboard.press("Control+Shift+z")
    _wait_until(page, ws, lambda s: len(s[0]["geometry"]["points"]) == 4)
    # never below three vertices
    _click(page, 100, 100, modifiers=["Alt"])
    _wait_until(page, ws, lambda s: len(s[0]["geometry"]["points"]) == 3)
    _click(page, 100, 200, modifiers=["Alt"])
    assert "at least 3" in page.text_content("#status-line")
    _saved(page)
    assert len(_shapes(ws)[0]["geometry"]["points"]) == 3


def test_holes_and_polyline_vertices_are_handles(page, live, ws):
    hole = [[130, 130], [170, 130], [170, 170], [130, 170]]
    _start(ws, [_polygon(SQUARE_A, [hole]), {"kind": "polyline", "label": "region", "geometry": {"points": [[20, 250], [120, 250]]}}])
    _open(page, live, ws)
    _select(page, 110, 150)
    _drag(page, (130, 130), (140, 120))
    got = _wait_until(page, ws, lambda s: _close(s[0]["geometry"]["holes"][0][:1], [[140, 120]]))
    assert got[0]["geometry"]["points"] == SQUARE_A
    _select(page, 70, 250)  # on the line
    _drag(page, (120, 250), (140, 270))
    got = _wait_until(page, ws, lambda s: _close(s[1]["geometry"]["points"], [[20, 250], [140, 270]]))
    _click(page, 20, 250, modifiers=["Alt"])  # a polyline keeps two points
    assert "at least 2" in page.text_content("#status-line")


def test_points_and_skeleton_keypoints_are_dragged_and_points_deleted(page, live, ws):
    _start(ws, [
        {"kind": "points", "label": "marks", "geometry": {"points": [[40, 40], [80, 40], [120, 40]]}},
        {"kind": "skeleton", "label": "person", "geometry": {"points": [[300, 100, 2], [300, 150, 1], [340, 180, 0]]}},
    ])
    _open(page, live, ws)
    _select(page, 80, 40)
    _drag(page, (80, 40), (90, 60))
    got = _wait_until(page, ws, lambda s: _close(s[0]["geometry"]["points"], [[40, 40], [90, 60], [120, 40]]))
    _click(page, 40, 40, modifiers=["Alt"])
    got = _wait_until(page, ws, lambda s: len(s[0]["geometry"]["points"]) == 2)
    assert _close(got[0]["geometry"]["points"], [[90, 60], [120, 40]])
    _select(page, 300, 100)
    _drag(page, (300, 150), (280, 160))  # the occluded neck
    got = _wait_until(page, ws, lambda s: s[1]["geometry"]["points"][1][:2] != [300, 150])
    neck = got[1]["geometry"]["points"][1]
    assert _close([neck[:2]], [[280, 160]]) and neck[2] == 1  # moved, still occluded
    assert got[1]["geometry"]["points"][0] == [300, 100, 2] and got[1]["geometry"]["points"][2] == [340, 180, 0]


# -- shared borders ----------------------------------------------------------------------------


def _draw_neighbour(page, shot: str | None = None) -> None:
    """Polygon B right of A: its left side on A's right edge, the clicks slightly off it."""
    page.keyboard.press("p")
    near = 1.2  # image pixels off the target: a few screen pixels, inside the snap distance
    for x, y in [(200 + near, 100 + near), (280, 100), (280, 200), (200 + near, 200 - near)]:
        _click(page, x, y)
    page.mouse.move(*to_page(page, 200 + near, 150))
    if shot:  # the rubber band and the snap target on A's edge, for a person to look at
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / shot))
    _click(page, 200 + near, 150)
    page.keyboard.press("Enter")


def test_a_neighbour_snaps_to_the_border_and_shares_vertices_after_reload(page, live, ws):
    _start(ws, [_polygon(SQUARE_A)])
    _open(page, live, ws)
    assert 8 / _scale(page) > 1.2 * 1.5  # the snap distance (8 screen pixels) covers the offsets
    _draw_neighbour(page, "polygon-snap.png")
    _wait_until(page, ws, lambda s: len(s) == 2)
    _saved(page)
    page.reload()
    page.wait_for_selector("#editor-canvas[data-loaded='1']")
    got = _shapes(ws)
    a = _by_first(got, [100, 100])["geometry"]["points"]
    b = _by_first(got, [200, 100])["geometry"]["points"]
    assert b[:4] == [[200, 100], [280, 100], [280, 200], [200, 200]]  # A's corners exactly, clicks within 1 px
    assert b[4][0] == 200 and abs(b[4][1] - 150) <= 0.5  # on A's edge
    assert a == [[100, 100], [200, 100], b[4], [200, 200], [100, 200]]  # A got the same vertex


def test_shared_vertices_move_together_alt_drag_moves_one_snap_key_turns_off(page, live, ws):
    _start(ws, [_polygon(SQUARE_A)])
    _open(page, live, ws)
    _draw_neighbour(page)
    _wait_until(page, ws, lambda s: len(s) == 2)
    # the drawing was one step: undo removes B and A's inserted vertex, redo brings both back
    page.keyboard.press("Control+z")
    _wait_until(page, ws, lambda s: len(s) == 1 and s[0]["geometry"]["points"] == SQUARE_A)
    page.keyboard.press("Control+Shift+z")
    _wait_until(page, ws, lambda s: len(s) == 2 and len(_by_first(s, [100, 100])["geometry"]["points"]) == 5)

    _select(page, 240, 150)  # B
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "polygon-shared-vertices.png"))  # shared vertices as diamonds
    _drag(page, (200, 150), (220, 160))  # the shared vertex: both move
    got = _wait_until(page, ws, lambda s: _by_first(s, [100, 100])["geometry"]["points"][2] != [200, 150])
    a = _by_first(got, [100, 100])["geometry"]["points"]
    b = _by_first(got, [200, 100])["geometry"]["points"]
    assert a[2] == b[4] and _close([a[2]], [[220, 160]])
    page.keyboard.press("Control+z")  # one step for both
    got = _wait_until(page, ws, lambda s: _by_first(s, [100, 100])["geometry"]["points"][2] == [200, 150])
    assert _by_first(got, [200, 100])["geometry"]["points"][4] == [200, 150]

    _drag(page, (200, 150), (185, 140), modifiers=["Alt"])  # Alt: only B's vertex
    got = _wait_until(page, ws, lambda s: _by_first(s, [200, 100])["geometry"]["points"][4] != [200, 150])
    assert _close([_by_first(got, [200, 100])["geometry"]["points"][4]], [[185, 140]])
    assert _by_first(got, [100, 100])["geometry"]["points"][2] == [200, 150]

    # dropped near A's edge, the vertex snaps back onto it and links again
    _drag(page, (185, 140), (201.2, 130))
    got = _wait_until(page, ws, lambda s: len(_by_first(s, [100, 100])["geometry"]["points"]) == 6)
    a = _by_first(got, [100, 100])["geometry"]["points"]
    b = _by_first(got, [200, 100])["geometry"]["points"]
    assert b[4] == a[2] and b[4][0] == 200 and abs(b[4][1] - 130) <= 0.5

    # snapping off (S): a vertex dropped next to A's corner stays where it was dropped
    page.keyboard.press("s")
    assert page.get_attribute("#snap-button", "aria-pressed") == "false"
    _drag(page, (280, 200), (202, 202))
    got = _wait_until(page, ws, lambda s: _by_first(s, [200, 100])["geometry"]["points"][2] != [280, 200])
    assert _close([_by_first(got, [200, 100])["geometry"]["points"][2]], [[202, 202]], 0.5)
    assert _by_first(got, [200, 100])["geometry"]["points"][2] != [200, 200]
    assert len(_by_first(got, [100, 100])["geometry"]["points"]) == 6  # A untouched


def test_snapping_off_draws_where_clicked(page, live, ws):
    _start(ws, [_polygon(SQUARE_A)])
    _open(page, live, ws)
    page.keyboard.press("s")
    _draw_neighbour(page)
    got = _wait_until(page, ws, lambda s: len(s) == 2)
    b = _by_first(got, [201.2, 101.2])["geometry"]["points"]  # where clicked, not A's corner
    assert _close(b, [[201.2, 101.2], [280, 100], [280, 200], [201.2, 198.8], [201.2, 150]], 0.5)
    assert _by_first(got, [100, 100])["geometry"]["points"] == SQUARE_A


def test_a_vertex_shared_with_a_locked_shape_stays(page, live, ws):
    b_pts = [[200, 100], [280, 100], [280, 200], [200, 200]]
    _start(ws, [_polygon(SQUARE_A), _polygon(b_pts)])
    _open(page, live, ws)
    _select(page, 150, 150)
    page.keyboard.press("Shift+L")  # lock A
    _click(page, 240, 150)  # select B
    _drag(page, (200, 100), (210, 90))
    assert "locked" in page.text_content("#status-line")
    _drag(page, (200, 200), (215, 215), modifiers=["Alt"])  # Alt moves B's own vertex
    got = _wait_until(page, ws, lambda s: _by_first(s, [200, 100])["geometry"]["points"][3] != [200, 200])
    assert _close([_by_first(got, [200, 100])["geometry"]["points"][3]], [[215, 215]])
    assert _by_first(got, [100, 100])["geometry"]["points"] == SQUARE_A
