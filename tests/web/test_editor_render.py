"""The editor's drawing in real Chromium: the spatial index and simplification (pure modules),
culling (shapes out of view are not drawn, a pan brings them in), a changed shape redrawn where
it now is (the cached outline is rebuilt), hovering one of 10,000 shapes without redrawing the
others, and the minimap moving the view.

Pixels are read from the canvas with getImageData; the canvas's data-view maps image
coordinates to canvas pixels. No timing is asserted here (benchmarks/editor.py measures that).
"""

from __future__ import annotations

import random
import uuid
from types import SimpleNamespace

import pytest
from PIL import Image

from ._browser import canvas_view, logged_in, to_page

PASSWORD = "render-pass-1"
W, H = 2000, 1500  # the test image
GREY = 128
LABELS = [
    {"name": "car", "color": "#ff0000", "kinds": ["box", "polygon"]},
    {"name": "tree", "color": "#00ff00", "kinds": ["box", "polygon"]},
]
GRID = 10  # the culling asset: a GRID x GRID lattice of boxes
N_MANY = 10_000


def _polygon(cx: float, cy: float, r: float, n: int = 20) -> list[list[float]]:
    import math

    return [[round(cx + r * math.cos(2 * math.pi * k / n), 2), round(cy + r * math.sin(2 * math.pi * k / n), 2)] for k in range(n)]


def _lattice() -> list[dict]:
    """GRID x GRID boxes of 60 x 60 on a 200-pixel pitch, alternating labels."""
    out = []
    for j in range(GRID):
        for i in range(GRID):
            out.append({"kind": "box", "label": LABELS[(i + j) % 2]["name"],
                        "geometry": {"x": 70 + 200 * i, "y": 45 + 150 * j, "w": 60, "h": 60}})
    return out


def _many() -> list[dict]:
    """10,000 polygons of 20 vertices spread over the image; shape 0 is a larger red one at the
    centre, with none of the others near it."""
    rng = random.Random(7)
    out = [{"kind": "polygon", "label": "car", "geometry": {"points": _polygon(W / 2, H / 2, 60)}}]
    while len(out) < N_MANY:
        x, y = rng.uniform(0, W), rng.uniform(0, H)
        if abs(x - W / 2) < 100 and abs(y - H / 2) < 100:
            continue
        out.append({"kind": "polygon", "label": rng.choice(["car", "tree"]),
                    "geometry": {"points": _polygon(x, y, rng.uniform(4, 14))}})
    return out


@pytest.fixture(scope="module")
def rd(live, browser, tmp_path_factory):
    user, client = live.new_user("render", password=PASSWORD)
    folder = tmp_path_factory.mktemp("render")
    Image.new("RGB", (W, H), (GREY, GREY, GREY)).save(folder / "a-lattice.png")
    other = Image.new("RGB", (W, H), (GREY, GREY, GREY))
    other.putpixel((W - 1, H - 1), (0, 0, 0))  # not a duplicate of the first
    other.save(folder / "b-many.png")
    p = client.create_project(f"Render {uuid.uuid4().hex[:4]}")
    for lb in LABELS:
        client.create_label(p["id"], **lb)
    client.upload(p["id"], [folder])
    assets = {a["name"]: a for a in client.list_assets(p["id"])["items"]}
    owner = user["username"]
    client.put_annotation(assets["a-lattice.png"]["id"], owner, _lattice(), base_revision=0)
    client.put_annotation(assets["b-many.png"]["id"], owner, _many(), base_revision=0)
    yield SimpleNamespace(user=user, client=client, project=p, lattice=assets["a-lattice.png"], many=assets["b-many.png"])
    client.close()


@pytest.fixture
def page(browser, live, rd):
    with logged_in(browser, live, rd.user["username"], PASSWORD, width=1300, height=850) as pg:
        yield pg


# -- helpers -----------------------------------------------------------------------------------

FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"

PIXEL = """([id, x, y]) => {
    const c = document.getElementById(id);
    const [s, tx, ty, dpr] = c.dataset.view.split(',').map(Number);
    const px = Math.floor((x * s + tx) * dpr), py = Math.floor((y * s + ty) * dpr);
    return Array.from(c.getContext('2d').getImageData(px, py, 1, 1).data);
}"""


def _settled(page, canvas: str = "editor-canvas") -> None:
    """Wait until the canvas shows exactly the current view and shapes (no redraw pending)."""
    page.wait_for_function(
        "id => { const c = document.getElementById(id); return c && c.dataset.image === '1' && !c.dataset.pending; }",
        arg=canvas, timeout=20000)
    page.evaluate(FRAMES)


def _open(page, live, rd, asset) -> None:
    page.goto(f"{live.url}/#/assets/{asset['id']}?project={rd.project['id']}")
    page.wait_for_selector("#editor-canvas[data-loaded='1']", timeout=30000)
    _settled(page)


def _px(page, x: float, y: float, canvas: str = "editor-canvas") -> list[int]:
    return page.evaluate(PIXEL, [canvas, x, y])


def _is_red(p) -> bool:
    return p[0] - p[1] > 20 and p[0] > GREY


def _is_green(p) -> bool:
    return p[1] - p[0] > 20 and p[1] > GREY


def _is_grey(p) -> bool:
    return max(abs(v - GREY) for v in p[:3]) <= 3


def _in_view(page, shapes: list[dict]) -> int:
    """How many boxes meet the visible image rectangle (what the scene must draw)."""
    box = page.locator("#editor-canvas").bounding_box()
    s, tx, ty, _ = canvas_view(page)
    x0, y0 = -tx / s, -ty / s
    x1, y1 = (box["width"] - tx) / s, (box["height"] - ty) / s
    m = 10 / s  # what a drawn shape reaches beyond its bounds (halo, dots), in image pixels
    n = 0
    for sh in shapes:
        g = sh["geometry"]
        if g["x"] - m <= x1 and g["x"] + g["w"] + m >= x0 and g["y"] - m <= y1 and g["y"] + g["h"] + m >= y0:
            n += 1
    return n


# -- pure modules ------------------------------------------------------------------------------


def test_grid_index_finds_what_a_full_scan_finds(page, live):
    page.goto(f"{live.url}/api/v1/health")
    got = page.evaluate(
        """async () => {
            const { createGridIndex } = await import('/js/render/index.js');
            let seed = 3; const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
            const boxes = [];
            const idx = createGridIndex(1000, 800, 500);
            for (let i = 0; i < 500; i++) {
                // some reach outside the image, one covers all of it
                const x = rnd() * 1100 - 50, y = rnd() * 900 - 50, w = i === 7 ? 2000 : rnd() * 60, h = i === 7 ? 2000 : rnd() * 60;
                const b = i === 7 ? [-500, -500, 1500, 1300] : [x, y, x + w, y + h];
                boxes.push(b);
                idx.set(i, ...b);
            }
            // move some, remove some
            for (let i = 0; i < 500; i += 5) { const b = boxes[i]; const m = [b[0] + 300, b[1] - 200, b[2] + 300, b[3] - 200]; boxes[i] = m; idx.set(i, ...m); }
            for (let i = 1; i < 500; i += 9) { boxes[i] = null; idx.remove(i); }
            const wrong = [];
            for (let q = 0; q < 200; q++) {
                const x = rnd() * 1000, y = rnd() * 800, w = rnd() * 300, h = rnd() * 300;
                const want = boxes.map((b, i) => b && b[0] <= x + w && b[2] >= x && b[1] <= y + h && b[3] >= y ? i : -1).filter(i => i >= 0);
                const have = idx.querySorted(x, y, x + w, y + h);
                if (JSON.stringify(want) !== JSON.stringify(have)) wrong.push({q, want: want.length, have: have.length});
            }
            return { wrong, size: idx.size, removedGone: idx.bounds(1), big: idx.query(990, 790, 995, 795).includes(7) };
        }"""
    )
    assert got["wrong"] == []
    assert got["size"] == 500 - len(range(1, 500, 9))
    assert got["removedGone"] is None
    assert got["big"] is True


def test_simplify_points_thins_and_keeps_the_ends(page, live):
    page.goto(f"{live.url}/api/v1/health")
    got = page.evaluate(
        """async () => {
            const g = await import('/js/render/geometry.js');
            const line = Array.from({length: 101}, (_, i) => [i * 0.5, 0]);
            return {
                thin: g.simplifyPoints(line, 5).length,
                ends: [g.simplifyPoints(line, 5)[0], g.simplifyPoints(line, 5).at(-1)],
                none: g.simplifyPoints(line, 0).length,
                tiny: g.simplifyPoints([[0, 0], [0.1, 0], [0.2, 0.1], [0.1, 0.2]], 10, 3).length,
                rect: g.visibleRect({scale: 2, tx: 10, ty: -20}, 100, 60),
            };
        }"""
    )
    assert got["thin"] == 11  # one every 5 units from 0 to 45, and the last one (50)
    assert got["ends"] == [[0, 0], [50, 0]]
    assert got["none"] == 101
    assert got["tiny"] == 4  # never fewer than `min` points: the polygon keeps its shape
    assert got["rect"] == [-5, 10, 45, 40]


# -- the workspace -----------------------------------------------------------------------------


def test_shapes_out_of_view_are_not_drawn_and_a_pan_brings_them_in(page, live, rd):
    shapes = _lattice()
    _open(page, live, rd, rd.lattice)
    assert page.get_attribute("#editor-canvas", "data-drawn") == str(GRID * GRID)  # the whole image fits
    # zoom in on the top-left box: most of the lattice leaves the view
    page.mouse.move(*to_page(page, 100, 75))
    for _ in range(6):
        page.mouse.wheel(0, -240)
        page.evaluate(FRAMES)
    _settled(page)
    s = canvas_view(page)[0]
    assert s > 1.5
    drawn = int(page.get_attribute("#editor-canvas", "data-drawn"))
    assert 0 < drawn < GRID * GRID / 4
    assert drawn == _in_view(page, shapes)
    assert _is_red(_px(page, 100, 75))  # box (0, 0) is a car: red
    # box (4, 0) is out of view; pan it in with the middle button (drag the image leftwards)
    target = shapes[4]["geometry"]
    tx_, ty_ = target["x"] + 30, target["y"] + 30
    sx, _sy = to_page(page, tx_, ty_)
    box = page.locator("#editor-canvas").bounding_box()
    assert sx > box["x"] + box["width"]  # off the canvas to the right
    start = (box["x"] + box["width"] - 50, box["y"] + 300)
    page.mouse.move(*start)
    page.mouse.down(button="middle")
    shift = sx - (box["x"] + box["width"] / 2)
    page.mouse.move(start[0] - shift, start[1], steps=12)
    page.mouse.up(button="middle")
    _settled(page)
    after = int(page.get_attribute("#editor-canvas", "data-drawn"))
    assert after == _in_view(page, shapes)
    assert _is_red(_px(page, tx_, ty_))  # (4, 0): i + j even → car, drawn after the pan
    assert _is_grey(_px(page, tx_ + 85, ty_))  # between boxes: the image
    assert _in_view(page, shapes[:1]) == 0  # and box (0, 0), drawn before, has left the view


def test_hovering_one_of_10000_shapes_highlights_it_without_redrawing_the_rest(page, live, rd):
    _open(page, live, rd, rd.many)
    assert page.get_attribute("#editor-canvas", "data-shapes") == str(N_MANY)
    cx, cy = W / 2, H / 2
    page.mouse.move(5, 5)
    _settled(page)
    before = _px(page, cx, cy)
    assert _is_red(before)
    repaints = page.get_attribute("#editor-canvas", "data-repaints")
    page.mouse.move(*to_page(page, cx, cy))
    page.evaluate(FRAMES)
    hot = _px(page, cx, cy)
    assert hot[0] - hot[1] > before[0] - before[1] + 10  # the hovered shape is filled more strongly
    assert page.get_attribute("#editor-canvas", "data-repaints") == repaints  # the other 9,999 were not redrawn
    # moving off it puts it back as it was
    page.mouse.move(*to_page(page, 5, 5))
    page.evaluate(FRAMES)
    assert _px(page, cx, cy) == before
    assert page.get_attribute("#editor-canvas", "data-repaints") == repaints


# -- the scene on its own ----------------------------------------------------------------------

SCENE = """async ([n, w, h]) => {
    const { createScene } = await import('/js/render/scene.js');
    document.body.replaceChildren();
    document.body.style.margin = '0';
    const canvas = document.createElement('canvas');
    canvas.id = 'scene-canvas';
    canvas.style.cssText = 'display:block;width:1000px;height:700px';
    document.body.append(canvas);
    const img = document.createElement('canvas');
    img.width = w; img.height = h;
    const ic = img.getContext('2d');
    ic.fillStyle = 'rgb(128,128,128)';
    ic.fillRect(0, 0, w, h);
    const scene = createScene(canvas, {});
    let seed = 5; const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const ring = (cx, cy, r) => Array.from({length: 20}, (_, k) => [cx + r * Math.cos(k * Math.PI / 10), cy + r * Math.sin(k * Math.PI / 10)]);
    // shape 0: a red polygon the test moves; the rest small, blue, away from where it goes
    const list = [{key: 'mover', color: '#ff0000', name: 'mover', shape: {kind: 'polygon', geometry: {points: ring(200, 200, 40)}}}];
    for (let i = 1; i < n; i++) {
        const x = rnd() * w, y = rnd() * h;
        if (Math.hypot(x - 700, y - 500) < 120 || Math.hypot(x - 200, y - 200) < 120) continue;
        list.push({key: 'k' + i, color: '#0000ff', name: 'other', shape: {kind: 'polygon', geometry: {points: ring(x, y, 3 + rnd() * 8)}}});
    }
    scene.setImage(img, w, h);
    scene.setShapes(list);
    window.__scene = { scene, list, ring };
}"""


@pytest.mark.parametrize("n", [5, N_MANY])
def test_a_changed_shape_is_drawn_where_it_now_is(page, live, n):
    page.goto(f"{live.url}/api/v1/health")
    page.evaluate(SCENE, [n, W, H])
    _settled(page, "scene-canvas")
    assert _is_red(_px(page, 200, 200, "scene-canvas"))
    assert _is_grey(_px(page, 700, 500, "scene-canvas"))
    # the same entries again: nothing changes
    page.evaluate("() => { const { scene, list } = window.__scene; scene.setShapes([...list]); }")
    _settled(page, "scene-canvas")
    assert _is_red(_px(page, 200, 200, "scene-canvas"))
    # a new geometry for the mover (a new shape object, as the document makes)
    page.evaluate(
        """() => {
            const { scene, list, ring } = window.__scene;
            list[0] = { ...list[0], shape: { kind: 'polygon', geometry: { points: ring(700, 500, 40) } } };
            scene.setShapes([...list]);
        }"""
    )
    _settled(page, "scene-canvas")
    assert _is_red(_px(page, 700, 500, "scene-canvas"))
    assert _is_grey(_px(page, 200, 200, "scene-canvas"))  # nothing left where it was
    # and it is found there
    assert page.evaluate("() => window.__scene.scene.hitAt(700, 500, 1)") == "mover"
    assert page.evaluate("() => window.__scene.scene.hitAt(200, 200, 1)") is None
    # removed: gone from the picture
    page.evaluate("() => { const { scene, list } = window.__scene; scene.setShapes(list.slice(1)); }")
    _settled(page, "scene-canvas")
    assert _is_grey(_px(page, 700, 500, "scene-canvas"))
    assert page.get_attribute("#scene-canvas", "data-shapes") == str(page.evaluate("() => window.__scene.list.length - 1"))


def test_zooming_far_out_and_back_draws_the_same_picture(page, live):
    """The preview shown while zooming is replaced by a sharp redraw at rest."""
    page.goto(f"{live.url}/api/v1/health")
    page.evaluate(SCENE, [2000, W, H])
    _settled(page, "scene-canvas")
    shot = page.evaluate("() => Array.from(document.getElementById('scene-canvas').getContext('2d').getImageData(0, 0, 1000, 700).data.filter((_, i) => i % 4 === 0 && i % 997 === 0))")
    page.evaluate("async () => { const s = window.__scene.scene; for (let i = 0; i < 8; i++) { s.zoom(1.3); await new Promise(r => requestAnimationFrame(r)); } for (let i = 0; i < 8; i++) { s.zoom(1 / 1.3); await new Promise(r => requestAnimationFrame(r)); } s.fit(); }")
    _settled(page, "scene-canvas")
    again = page.evaluate("() => Array.from(document.getElementById('scene-canvas').getContext('2d').getImageData(0, 0, 1000, 700).data.filter((_, i) => i % 4 === 0 && i % 997 === 0))")
    assert again == shot


def test_minimap_click_and_drag_move_the_view(page, live):
    page.goto(f"{live.url}/api/v1/health")
    page.evaluate(
        """async ([w, h]) => {
            const { createEditor } = await import('/js/editor.js');
            const { minimap } = await import('/js/panels/minimap.js');
            document.body.replaceChildren();
            document.body.style.margin = '0';
            const canvas = document.createElement('canvas');
            canvas.id = 'editor-canvas';
            canvas.style.cssText = 'display:block;width:800px;height:600px';
            const img = document.createElement('canvas');
            img.width = w; img.height = h;
            img.getContext('2d').fillStyle = '#888';
            img.getContext('2d').fillRect(0, 0, w, h);
            document.body.append(canvas);
            const editor = createEditor(canvas, { labels: [{ name: 'car', color: '#ff0000', kinds: ['box'] }], shapes: [] });
            editor.scene.setImage(img, w, h);
            const map = minimap(editor);
            document.body.append(map.el);
            editor.scene.zoomTo(1);
            window.__map = map;
        }""",
        [W, H],
    )
    page.wait_for_selector("#minimap[data-rect]")
    _settled(page)
    mm = page.locator("#minimap").bounding_box()
    assert abs(mm["width"] / mm["height"] - W / H) < 0.02
    # click at three quarters across, a third down: the view centres there, at the same zoom
    page.mouse.click(mm["x"] + 0.75 * mm["width"], mm["y"] + mm["height"] / 3)
    _settled(page)
    s, tx, ty, _ = canvas_view(page)
    assert s == 1
    cx, cy = (400 - tx) / s, (300 - ty) / s  # the image point at the canvas centre
    assert abs(cx - 0.75 * W) < W / mm["width"] + 1 and abs(cy - H / 3) < H / mm["height"] + 1
    page.wait_for_function("() => document.getElementById('minimap').dataset.rect.startsWith(String(Math.round(%f)))" % (cx - 400))
    # drag to the top-left corner: the view follows the pointer
    page.mouse.move(mm["x"] + 0.75 * mm["width"], mm["y"] + mm["height"] / 3)
    page.mouse.down()
    page.mouse.move(mm["x"] + 0.25 * mm["width"], mm["y"] + 0.5 * mm["height"], steps=5)
    page.mouse.up()
    _settled(page)
    s, tx, ty, _ = canvas_view(page)
    cx, cy = (400 - tx) / s, (300 - ty) / s
    assert abs(cx - 0.25 * W) < W / mm["width"] + 1 and abs(cy - 0.5 * H) < H / mm["height"] + 1
    x0, y0, x1, y1 = (int(v) for v in page.get_attribute("#minimap", "data-rect").split(","))
    assert abs(x0 - (cx - 400)) <= 1 and abs(x1 - x0 - 800) <= 1 and abs(y1 - y0 - 600) <= 1
