"""The browser's mask code (web/js/mask.js, render/mask-edit.js, convert-shape.js) in real Chromium,
checked against independent references: pycocotools for RLE encoding and polygon rasterising,
shapely for polygon areas and validity, numpy for painted discs and moved masks.
"""

from __future__ import annotations

import base64

import numpy as np
import pytest
from pycocotools import mask as mask_util
from shapely.geometry import Polygon
from shapely.ops import unary_union


@pytest.fixture(scope="module")
def page(browser, live):
    ctx = browser.new_context(viewport={"width": 800, "height": 600})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(f"{live.url}/#/login")
    pg.wait_for_function("document.readyState === 'complete'")
    yield pg
    ctx.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def _b64(mask: np.ndarray) -> str:
    """A (height, width) 0/1 array as base64 of its column-major bytes (COCO's order)."""
    return base64.b64encode(np.asfortranarray(mask.astype(np.uint8)).tobytes(order="F")).decode("ascii")


def _coco(mask: np.ndarray) -> dict:
    enc = mask_util.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in enc["size"]], "counts": enc["counts"].decode("ascii")}


def _decode(rle: dict) -> np.ndarray:
    return mask_util.decode({"size": rle["size"], "counts": rle["counts"].encode("ascii")})


BITS_JS = "(b64) => Uint8Array.from(atob(b64), c => c.charCodeAt(0))"


def _encode_in_browser(page, masks: list[np.ndarray]) -> list[dict]:
    return page.evaluate(
        f"""async (items) => {{
            const m = await import('/js/mask.js');
            const r = await import('/js/render/rle.js');
            const bits = {BITS_JS};
            return items.map(([b64, h, w]) => {{
                const bm = bits(b64);
                const rle = m.encodeRle(bm, h, w);
                const back = r.decodeRle(rle);
                return {{rle, same: back.every((v, i) => v === bm[i])}};
            }});
        }}""",
        [[_b64(m), m.shape[0], m.shape[1]] for m in masks],
    )


def _masks() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:300, 0:400]
    disc = ((xx - 210.5) ** 2 + (yy - 140.5) ** 2 <= 90**2).astype(np.uint8)
    first = np.zeros((5, 4), np.uint8)
    first[0, 0] = 1
    last = np.zeros((5, 4), np.uint8)
    last[-1, -1] = 1
    return [
        (rng.random((37, 53)) < 0.3).astype(np.uint8),
        (rng.random((64, 48)) < 0.5).astype(np.uint8),
        (rng.random((20, 900)) < 0.02).astype(np.uint8),  # long runs: counts of several groups
        np.zeros((10, 12), np.uint8),
        np.ones((10, 12), np.uint8),
        first,
        last,
        disc,
        disc[:, ::-1] ^ disc,  # growing and shrinking runs: negative deltas
    ]


def test_encode_rle_matches_pycocotools_exactly(page):
    masks = _masks()
    got = _encode_in_browser(page, masks)
    for i, (m, g) in enumerate(zip(masks, got)):
        assert g["rle"] == _coco(m), f"mask {i}"
        assert g["same"], f"mask {i} does not decode back"


def test_encode_rle_of_a_full_size_photo_mask(page):
    # a 3000 x 4000 mask: counts in the millions, painted and encoded in the browser
    got = page.evaluate(
        """async () => {
            const m = await import('/js/mask.js');
            const e = await import('/js/render/mask-edit.js');
            const h = 3000, w = 4000;
            const bits = m.emptyBits(h, w);
            m.applyRegion(bits, h, w, e.paintStroke([[3100.25, 2500.75]], 400, h, w), 'add');
            m.applyRegion(bits, h, w, e.paintStroke([[200, 100], [900, 1200]], 37.5, h, w), 'add');
            return m.encodeRle(bits, h, w);
        }"""
    )
    yy, xx = np.mgrid[0:3000, 0:4000]
    px, py = xx + 0.5, yy + 0.5
    disc = (px - 3100.25) ** 2 + (py - 2500.75) ** 2 <= 400.0**2
    a, b = np.array([200.0, 100.0]), np.array([900.0, 1200.0])
    d = b - a
    t = np.clip(((px - a[0]) * d[0] + (py - a[1]) * d[1]) / (d @ d), 0, 1)
    capsule = (px - (a[0] + t * d[0])) ** 2 + (py - (a[1] + t * d[1])) ** 2 <= 37.5**2
    want = disc | capsule
    want[100, 200] = want[1200, 900] = True  # the pixel under each point is always painted
    assert got["size"] == [3000, 4000]
    decoded = _decode(got)
    assert (decoded != 0).sum() == want.sum()
    assert got == _coco(want)


def test_paint_stroke_disc_area_and_centre(page):
    got = page.evaluate(
        f"""async () => {{
            const e = await import('/js/render/mask-edit.js');
            const m = await import('/js/mask.js');
            const h = 120, w = 160;
            const out = {{}};
            for (const [name, pts, r] of [['disc', [[70.3, 50.8]], 20], ['edge', [[2, 3]], 10], ['tiny', [[10.9, 20.1]], 0.5],
                                           ['outside', [[-50, -50]], 5]]) {{
                const reg = e.paintStroke(pts, r, h, w);
                if (!reg) {{ out[name] = null; continue; }}
                const bits = m.emptyBits(h, w);
                m.applyRegion(bits, h, w, reg, 'add');
                out[name] = {{b64: btoa(String.fromCharCode(...bits)), region: [reg.x0, reg.y0, reg.w, reg.h]}};
            }}
            out.sizes = [e.nextBrushSize(20, true), e.nextBrushSize(20, false), e.nextBrushSize(1, false), e.nextBrushSize(1000, true)];
            return out;
        }}"""
    )

    def bits(entry):
        return np.frombuffer(base64.b64decode(entry["b64"]), np.uint8).reshape((160, 120)).T

    disc = bits(got["disc"])
    ys, xs = np.nonzero(disc)
    assert abs(disc.sum() - np.pi * 20**2) < 0.02 * np.pi * 20**2
    assert abs(xs.mean() + 0.5 - 70.3) < 0.3 and abs(ys.mean() + 0.5 - 50.8) < 0.3
    yy, xx = np.mgrid[0:120, 0:160]
    assert (disc == ((xx + 0.5 - 70.3) ** 2 + (yy + 0.5 - 50.8) ** 2 <= 400)).all()
    edge = bits(got["edge"])  # cut by the image's corner
    assert got["edge"]["region"][:2] == [0, 0]
    assert edge.sum() == ((xx + 0.5 - 2) ** 2 + (yy + 0.5 - 3) ** 2 <= 100).sum()
    tiny = bits(got["tiny"])
    assert tiny.sum() == 1 and tiny[20, 10] == 1  # a one-pixel brush paints the pixel it is over
    assert got["outside"] is None
    assert got["sizes"] == [25, 16, 1, 1000]


def test_apply_region_erase_and_translate_match_numpy(page):
    rng = np.random.default_rng(3)
    m = np.zeros((50, 70), np.uint8)
    m[10:30, 20:45] = 1
    m[35:40, 5:9] = 1
    noise = (rng.random((50, 70)) < 0.2).astype(np.uint8)
    m = m | (noise & np.pad(np.ones((30, 50), np.uint8), ((10, 10), (10, 10))))
    m[39, 59] = 1  # moved by (10, 10), it becomes the last pixel: the runs end on ones
    moves = [(10, 10), (5, 3), (-7, 2), (12, -4), (0, -9), (30, 15), (-69, 0), (0, 20), (3.4, -2.6), (200, 0)]
    got = page.evaluate(
        f"""async ([b64, h, w, moves]) => {{
            const m = await import('/js/mask.js');
            const bits = ({BITS_JS})(b64);
            const rle = m.encodeRle(bits, h, w);
            const moved = moves.map(([dx, dy]) => m.translateRle(rle, dx, dy));
            const er = bits.slice();
            const region = {{x0: 15, y0: 5, w: 20, h: 10, bits: new Uint8Array(200).fill(1)}};
            const changed = m.applyRegion(er, h, w, region, 'erase');
            const again = m.applyRegion(er, h, w, region, 'erase');
            const painted = [[5, 3, 30, 12], [0, 0, 4, 50], [66, 40, 10, 20], [-3, 45, 80, 5], [200, 0, 5, 5]].map(([x0, y0, rw, rh]) => {{
                const reg = {{x0, y0, w: rw, h: rh, bits: new Uint8Array(rw * rh).map((_, i) => (i * 7) % 3 ? 1 : 0)}};
                const add = m.paintRle(rle, reg, 'add'), erase = m.paintRle(rle, reg, 'erase');
                const full = bits.slice(), cut = bits.slice();
                m.applyRegion(full, h, w, reg, 'add');
                m.applyRegion(cut, h, w, reg, 'erase');
                return [add.rle, m.encodeRle(full, h, w), add.changed, erase.rle, m.encodeRle(cut, h, w), erase.changed];
            }});
            return {{moved, painted, erased: m.encodeRle(er, h, w), changed, again,
                     shift: m.shiftRuns([2, 3, 4, 1], 2, 10), back: m.shiftRuns([2, 3, 4, 1], -3, 10)}};
        }}""",
        [_b64(m), 50, 70, moves],
    )
    for (dx, dy), rle in zip(moves, got["moved"]):
        dx, dy = round(dx), round(dy)
        want = np.zeros_like(m)
        ys, xs = np.nonzero(m)
        keep = (ys + dy >= 0) & (ys + dy < 50) & (xs + dx >= 0) & (xs + dx < 70)
        want[ys[keep] + dy, xs[keep] + dx] = 1
        assert rle == _coco(want), f"moved by {dx}, {dy}"
    erased = m.copy()
    erased[5:15, 15:35] = 0
    assert got["erased"] == _coco(erased)
    assert got["changed"] is True and got["again"] is False
    # merging a region into the runs equals painting the whole bitmap and encoding it again
    for i, (add, add_full, add_changed, cut, cut_full, cut_changed) in enumerate(got["painted"]):
        assert add == add_full and cut == cut_full, f"region {i}"
        assert add_changed == (add != _coco(m)) and cut_changed == (cut != _coco(m)), f"region {i}"
    assert got["painted"][-1][2] is False  # a region outside the image changes nothing
    assert got["shift"] == [4, 3, 3]  # cut at the end
    assert got["back"] == [0, 2, 4, 1, 3]  # cut at the start, padded with zeros at the end


def _test_mask() -> np.ndarray:
    """An annulus with an island in its hole, a square with two holes, a blob, two pixels touching
    at a corner, and a lone pixel."""
    yy, xx = np.mgrid[0:200, 0:260]
    r = np.hypot(xx + 0.5 - 70, yy + 0.5 - 80)
    m = ((r <= 55) & (r >= 30)).astype(np.uint8)
    m |= (r <= 12).astype(np.uint8)  # the island
    m[20:90, 150:240] = 1
    m[30:50, 160:185] = 0
    m[60:80, 200:230] = 0
    m |= ((xx + 0.5 - 190) ** 2 / 50**2 + (yy + 0.5 - 150) ** 2 / 25**2 <= 1).astype(np.uint8)
    m[180, 20] = m[181, 21] = 1
    m[190, 250] = 1
    return m


def _polys_to_mask(polys, h, w) -> np.ndarray:
    out = np.zeros((h, w), np.uint8)
    for p in polys:
        outline = mask_util.decode(mask_util.merge(mask_util.frPyObjects([np.ravel(p["points"]).tolist()], h, w)))
        for hole in p["holes"]:
            outline &= 1 - mask_util.decode(mask_util.merge(mask_util.frPyObjects([np.ravel(hole).tolist()], h, w)))
        out |= outline
    return out


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def test_mask_to_polygons_traces_parts_and_holes(page):
    m = _test_mask()
    got = page.evaluate(
        """async (rle) => {
            const c = await import('/js/convert-shape.js');
            const r = await import('/js/render/rle.js');
            const bits = r.decodeRle(rle);
            const [h, w] = rle.size;
            return {polys: c.maskToPolygons(rle), exact: c.maskToPolygons(rle, 0),
                    rings: c.traceContours(bits, h, w).map(ring => [ring.length, c.ringArea2(ring)])};
        }""",
        _coco(m),
    )
    polys = got["polys"]
    # annulus, island, square, blob, the corner-touching pair (one part), the lone pixel (a
    # half-pixel diamond: small parts keep their traced outline rather than vanish)
    shapes = [Polygon(p["points"], p["holes"]) for p in polys]
    assert all(s.is_valid for s in shapes), [s.wkt[:80] for s in shapes if not s.is_valid]
    assert len(polys) == 6
    holes = sorted(len(p["holes"]) for p in polys)
    assert holes == [0, 0, 0, 0, 1, 2]
    assert sorted(s.area for s in shapes)[:2] == [0.5, 1.5]  # the lone pixel and the corner pair
    # without simplification, the traced rings run halfway between pixel centres: each part's area
    # is its pixel count less an eighth of a pixel per corner
    exact = [Polygon(p["points"], p["holes"]) for p in got["exact"]]
    assert abs(unary_union(exact).area - m.sum()) < 0.02 * m.sum()
    assert sum(1 for a in got["rings"] if a[1] < 0) == 3  # three holes run the other way
    back = _polys_to_mask(polys, *m.shape)
    assert _iou(back, m) > 0.97
    # rasterising the traced polygons on a canvas gives the mask back
    redrawn = page.evaluate(
        """async ([polys, h, w]) => {
            const c = await import('/js/convert-shape.js');
            const m = await import('/js/mask.js');
            const bits = m.emptyBits(h, w);
            for (const g of polys) {
                const xs = g.points.map(p => p[0]), ys = g.points.map(p => p[1]);
                const b = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
                m.applyRegion(bits, h, w, c.shapeRegion({kind: 'polygon', geometry: g}, b, h, w), 'add');
            }
            return m.encodeRle(bits, h, w);
        }""",
        [got["exact"], *m.shape],
    )
    diff = _decode(redrawn) ^ m
    assert diff.sum() <= 2  # only the lone pixel, whose diamond covers half of it, may differ


def test_shape_to_rle_against_pycocotools(page):
    h, w = 150, 200
    poly = [[20.0, 15.0], [170.0, 30.0], [150.0, 130.0], [40.0, 120.0], [10.0, 60.0]]
    hole = [[60.0, 50.0], [110.0, 50.0], [100.0, 95.0], [65.0, 90.0]]
    got = page.evaluate(
        """async ([poly, hole, h, w]) => {
            const c = await import('/js/convert-shape.js');
            const area = (s, b) => c.shapeToRle(s, b, h, w);
            return {
                polygon: area({kind: 'polygon', geometry: {points: poly, holes: [hole]}}, [10, 15, 170, 130]),
                box: area({kind: 'box', geometry: {x: 10, y: 20, w: 30, h: 40}}, [10, 20, 40, 60]),
                ellipse: area({kind: 'ellipse', geometry: {cx: 100, cy: 75, rx: 50, ry: 20, angle: 30}}, [40, 40, 160, 110]),
                rotated: area({kind: 'rotated_box', geometry: {cx: 100, cy: 75, w: 80, h: 20, angle: 45}}, [50, 25, 150, 125]),
                outside: area({kind: 'box', geometry: {x: 300, y: 300, w: 10, h: 10}}, [300, 300, 310, 310]),
            };
        }""",
        [poly, hole, h, w],
    )
    want = _polys_to_mask([{"points": poly, "holes": [hole]}], h, w)
    mine = _decode(got["polygon"])
    assert _iou(mine, want) > 0.97
    assert abs(mine.sum() - Polygon(poly, [hole]).area) < 0.01 * mine.sum()
    box = _decode(got["box"])
    assert box.sum() == 30 * 40 and box[20:60, 10:40].all()
    ell = _decode(got["ellipse"])
    assert abs(ell.sum() - np.pi * 50 * 20) < 0.02 * np.pi * 50 * 20
    ys, xs = np.nonzero(ell)
    assert abs(xs.mean() + 0.5 - 100) < 0.5 and abs(ys.mean() + 0.5 - 75) < 0.5
    rot = _decode(got["rotated"])
    assert abs(rot.sum() - 80 * 20) < 0.03 * 1600
    assert got["outside"] is None


def test_polygon_mask_polygon_round_trip(page):
    """A polygon → mask → polygon keeps its shape: IoU > 0.95 against shapely."""
    outline = [[30.0, 20.0], [120.0, 10.0], [190.0, 70.0], [150.0, 140.0], [90.0, 100.0], [20.0, 130.0]]
    hole = [[70.0, 40.0], [110.0, 45.0], [100.0, 75.0]]
    got = page.evaluate(
        """async ([outline, hole]) => {
            const c = await import('/js/convert-shape.js');
            const rle = c.shapeToRle({kind: 'polygon', geometry: {points: outline, holes: [hole]}}, [20, 10, 190, 140], 160, 220);
            return c.maskToPolygons(rle);
        }""",
        [outline, hole],
    )
    assert len(got) == 1 and len(got[0]["holes"]) == 1
    a, b = Polygon(outline, [hole]), Polygon(got[0]["points"], got[0]["holes"])
    assert b.is_valid
    assert a.intersection(b).area / a.union(b).area > 0.95
    assert len(got[0]["points"]) < 60  # simplified: straight edges keep few vertices
