"""snap.js (shared borders: snapping, linked vertices, welds, vertex edits) and the pure parts of
the polygon tool (Douglas-Peucker, de-duplication), unit-tested in real Chromium by importing the
modules in a page. The simplification is checked against shapely's (GEOS) Douglas-Peucker."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import LineString


@pytest.fixture(scope="module")
def page(browser, live):
    ctx = browser.new_context()
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(f"{live.url}/")
    yield pg
    ctx.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def _run(page, body: str, arg=None):
    """Evaluate `body` (statements ending in a return) with `s` = snap.js, `P` = tools/polygon.js."""
    return page.evaluate(
        "async (arg) => { const s = await import('/js/snap.js'); const P = await import('/js/tools/polygon.js');"
        + body + "}",
        arg,
    )


SQUARE = "{uid: 'a', kind: 'polygon', geometry: {points: [[0, 0], [10, 0], [10, 10], [0, 10]], holes: []}}"


def test_rings_of_every_kind(page):
    got = _run(page, """
        const r = (shape) => s.ringsOf(shape).map(x => [x.ring, x.pts, x.closed, x.edges]);
        return {
            polygon: r({kind: 'polygon', geometry: {points: [[0, 0], [4, 0], [0, 4]], holes: [[[1, 1], [2, 1], [1, 2]]]}}),
            polyline: r({kind: 'polyline', geometry: {points: [[0, 0], [5, 5]]}}),
            box: r({kind: 'box', geometry: {x: 1, y: 2, w: 3, h: 4}}),
            rbox: s.ringsOf({kind: 'rotated_box', geometry: {cx: 0, cy: 0, w: 2, h: 2, angle: 90}})[0].pts.map(p => p.map(Math.round)),
            skeleton: r({kind: 'skeleton', geometry: {points: [[1, 1, 2], [0, 0, 0]]}}),
            ellipse: r({kind: 'ellipse', geometry: {cx: 0, cy: 0, rx: 1, ry: 1, angle: 0}}),
        };
    """)
    assert got["polygon"] == [[0, [[0, 0], [4, 0], [0, 4]], True, True], [1, [[1, 1], [2, 1], [1, 2]], True, True]]
    assert got["polyline"] == [[0, [[0, 0], [5, 5]], False, True]]
    assert got["box"] == [[0, [[1, 2], [4, 2], [4, 6], [1, 6]], True, True]]
    assert got["rbox"] == [[1, -1], [1, 1], [-1, 1], [-1, -1]]
    assert got["skeleton"] == [[0, [[1, 1, 2], [0, 0, 0]], False, False]]
    assert got["ellipse"] == []


def test_vertex_edits_keep_the_minimum(page):
    got = _run(page, """
        const tri = {points: [[0, 0], [4, 0], [0, 4]], holes: [[[1, 1], [2, 1], [1, 2]]]};
        const quad = {points: [[0, 0], [4, 0], [4, 4], [0, 4]], holes: []};
        return {
            moved: s.moveVertex('polygon', tri, 0, 1, 5, 1).points,
            movedHole: s.moveVertex('polygon', tri, 1, 2, 1, 3).holes,
            untouched: tri.points,
            keypoint: s.moveVertex('skeleton', {points: [[1, 1, 1], [2, 2, 2]]}, 0, 0, 7, 8).points,
            inserted: s.insertVertex('polygon', tri, 0, 2, -1, 2).points,
            insertedLine: s.insertVertex('polyline', {points: [[0, 0], [2, 0]]}, 0, 0, 1, 0).points,
            removed: s.removeVertex('polygon', quad, 0, 2).points,
            triangle: s.removeVertex('polygon', tri, 0, 0),
            hole: s.removeVertex('polygon', tri, 1, 0),
            line2: s.removeVertex('polyline', {points: [[0, 0], [1, 1]]}, 0, 0),
            line3: s.removeVertex('polyline', {points: [[0, 0], [1, 1], [2, 2]]}, 0, 1).points,
            lastPoint: s.removeVertex('points', {points: [[3, 3]]}, 0, 0),
            skeleton: s.removeVertex('skeleton', {points: [[1, 1, 2], [2, 2, 2]]}, 0, 0),
        };
    """)
    assert got["moved"] == [[0, 0], [5, 1], [0, 4]]
    assert got["movedHole"] == [[[1, 1], [2, 1], [1, 3]]]
    assert got["untouched"] == [[0, 0], [4, 0], [0, 4]]  # geometries are never changed in place
    assert got["keypoint"] == [[7, 8, 1], [2, 2, 2]]  # a keypoint keeps its visibility
    assert got["inserted"] == [[0, 0], [4, 0], [0, 4], [-1, 2]]  # the closing edge 2 → 0
    assert got["insertedLine"] == [[0, 0], [1, 0], [2, 0]]
    assert got["removed"] == [[0, 0], [4, 0], [0, 4]]
    assert got["triangle"] is None and got["hole"] is None  # polygons and holes keep 3
    assert got["line2"] is None and got["line3"] == [[0, 0], [2, 2]]  # polylines keep 2
    assert got["lastPoint"] is None and got["skeleton"] is None


def test_nearest_vertex_and_edge_of_a_shape(page):
    got = _run(page, f"""
        const a = {SQUARE};
        return {{
            vertex: s.nearestVertex(a, 9, 1, 2),
            none: s.nearestVertex(a, 5, 5, 2),
            edge: s.nearestEdge(a, 5, 0.5, 1),
            closing: s.nearestEdge(a, -0.5, 4, 1),
            far: s.nearestEdge(a, 5, 5, 1),
            absent: s.nearestVertex({{kind: 'skeleton', geometry: {{points: [[0, 0, 0], [3, 0, 2]]}}}}, 0, 0, 5, p => p[2] > 0),
        }};
    """)
    assert (got["vertex"]["ring"], got["vertex"]["index"], got["vertex"]["x"], got["vertex"]["y"]) == (0, 1, 10, 0)
    assert got["none"] is None and got["far"] is None
    assert (got["edge"]["edge"], got["edge"]["x"], got["edge"]["y"]) == (0, 5, 0)
    assert (got["closing"]["edge"], got["closing"]["x"], got["closing"]["y"]) == (3, 0, 4)
    assert got["absent"]["index"] == 1  # an absent keypoint is no handle


def test_snap_prefers_vertices_then_edges_within_the_tolerance(page):
    got = _run(page, f"""
        const a = {SQUARE};
        const box = {{uid: 'b', kind: 'box', geometry: {{x: 20, y: 0, w: 10, h: 10}}}};
        const rb = {{uid: 'r', kind: 'rotated_box', geometry: {{cx: 50, cy: 50, w: 10, h: 10, angle: 45}}}};
        const line = {{uid: 'l', kind: 'polyline', geometry: {{points: [[0, 30], [10, 30]]}}}};
        const hidden = {{uid: 'h', kind: 'polygon', hidden: true, geometry: {{points: [[0, 60], [10, 60], [5, 70]], holes: []}}}};
        const ell = {{uid: 'e', kind: 'ellipse', geometry: {{cx: 80, cy: 80, rx: 5, ry: 5, angle: 0}}}};
        const idx = s.createSnapIndex([a, box, rb, line, hidden, ell]);
        const pick = (r) => r && [r.type, r.uid, r.x, r.y, r.index ?? r.edge];
        return {{
            entries: idx.entries.map(e => e.uid),
            vertexOverEdge: pick(s.snapPoint(idx, 9.2, 1.5, 2)),     // the edge x=10 is nearer; the corner wins
            edge: pick(s.snapPoint(idx, 10.6, 4.333, 2)),              // rounded to 1/100 px
            outOfReach: pick(s.snapPoint(idx, 13, 5, 2)),
            boxCorner: pick(s.snapPoint(idx, 29, 11, 2)),
            boxEdge: pick(s.snapPoint(idx, 25, -1, 2)),
            rboxCorner: pick(s.snapPoint(idx, 50, 50 - 5 * Math.SQRT2 - 0.5, 1)),
            lineEnd: pick(s.snapPoint(idx, 11, 31, 2)),
            lineMiddle: pick(s.snapPoint(idx, 4, 31, 2)),
            hidden: pick(s.snapPoint(idx, 5, 69, 3)),
            skipShape: pick(s.snapPoint(idx, 9.5, 0.5, 2, {{skipShapes: new Set(['a'])}})),
            // the corner (10, 0) moves with the point: it and its two edges do not attract
            skipVertex: pick(s.snapPoint(idx, 9.5, 0.5, 2, {{skipVertices: new Map([['a', new Set(['0:1'])]])}})),
            skipVertexEdge: pick(s.snapPoint(idx, 10.5, 5, 2, {{skipVertices: new Map([['a', new Set(['0:1'])]])}})),
        }};
    """)
    assert got["entries"] == ["a", "b", "r", "l", "h"]  # ellipses do not snap
    assert got["vertexOverEdge"] == ["vertex", "a", 10, 0, 1]
    assert got["edge"] == ["edge", "a", 10, 4.33, 1]
    assert got["outOfReach"] is None
    assert got["boxCorner"] == ["vertex", "b", 30, 10, 2]
    assert got["boxEdge"] == ["edge", "b", 25, 0, 0]
    assert got["rboxCorner"][:2] == ["vertex", "r"] and abs(got["rboxCorner"][3] - (50 - 5 * 2 ** 0.5)) < 1e-9
    assert got["lineEnd"] == ["vertex", "l", 10, 30, 1]
    assert got["lineMiddle"] == ["edge", "l", 4, 30, 0]
    assert got["hidden"] is None  # a hidden shape does not attract
    assert got["skipShape"] is None  # the box is beyond 2 px; the square is skipped
    assert got["skipVertex"] is None  # the corner and both its edges move
    assert got["skipVertexEdge"] is None


def test_linked_vertices_are_exactly_equal(page):
    got = _run(page, """
        const a = {uid: 'a', kind: 'polygon', geometry: {points: [[0, 0], [10, 0], [10, 10], [0, 10]], holes: []}};
        const b = {uid: 'b', kind: 'polygon', hidden: true, geometry: {points: [[10, 0], [20, 0], [20, 10], [10, 10]], holes: []}};
        const c = {uid: 'c', kind: 'polyline', geometry: {points: [[10.001, 0], [10, 10]]}};
        const d = {uid: 'd', kind: 'box', geometry: {x: 10, y: 10, w: 5, h: 5}};
        const idx = s.createSnapIndex([a, b, c, d]);
        const key = (l) => `${l.uid}:${l.ring}:${l.index}`;
        const b2 = {...b, geometry: {points: [[10, 0], [20, 0], [20, 10], [11, 10]], holes: []}};
        return {
            corner: s.linkedVertices(idx, 10, 0).map(key),
            other: s.linkedVertices(idx, 10, 10).map(key),
            current: s.linkedVertices(idx, 10, 10, {current: (u) => u === 'b' ? b2 : {a, c, d}[u]}).map(key),
        };
    """)
    assert got["corner"] == ["a:0:1", "b:0:0"]  # 10.001 is not 10: not linked
    assert got["other"] == ["a:0:2", "b:0:3", "c:0:1"]  # boxes do not link
    assert got["current"] == ["a:0:2", "c:0:1"]


def test_weld_inserts_the_point_into_every_edge_it_lies_on(page):
    got = _run(page, """
        // a and b share the border x = 10; l is a polyline along y = 0; k is locked
        const a = {uid: 'a', kind: 'polygon', geometry: {points: [[0, 0], [10, 0], [10, 10], [0, 10]], holes: []}};
        const b = {uid: 'b', kind: 'polygon', geometry: {points: [[10, 0], [20, 0], [20, 10], [10, 10]], holes: []}};
        const l = {uid: 'l', kind: 'polyline', geometry: {points: [[0, 0], [20, 0]]}};
        const k = {uid: 'k', kind: 'polygon', locked: true, geometry: {points: [[10, 2], [10, 8], [5, 5]], holes: []}};
        const idx = s.createSnapIndex([a, b, l, k]);
        const shared = s.weldPoints(idx, [[10, 4], [10, 6.5]], {accept: (x) => !x.locked});
        const onLine = s.weldPoints(idx, [[5, 0]], {accept: (x) => x.uid !== 'a'});
        const there = s.weldPoints(idx, [[10, 0]]);
        const near = s.weldPoints(idx, [[10.01, 5]]);
        return {shared, onLine, there, near};
    """)
    assert got["shared"] == {
        "a": {"points": [[0, 0], [10, 0], [10, 4], [10, 6.5], [10, 10], [0, 10]], "holes": []},
        "b": {"points": [[10, 0], [20, 0], [20, 10], [10, 10], [10, 6.5], [10, 4]], "holes": []},
    }  # both points in order along each edge; the locked shape is refused
    assert got["onLine"] == {"l": {"points": [[0, 0], [5, 0], [20, 0]]}}
    assert got["there"] == {"l": {"points": [[0, 0], [10, 0], [20, 0]]}}  # a and b have the vertex already
    assert set(got["near"]) == {"a", "b", "k"}  # within 0.02 px of the edges


def test_grid_index_culls_like_a_full_scan(page):
    got = _run(page, """
        // 10,000 polygons of 20 vertices on a 4000 x 3000 image, one covering everything
        let seed = 7;
        const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
        const shapes = [];
        for (let i = 0; i < 10000; i++) {
            const cx = rnd() * 4000, cy = rnd() * 3000, r = 5 + rnd() * 20;
            const points = [];
            for (let k = 0; k < 20; k++) {
                const t = (2 * Math.PI * k) / 20;
                points.push([Math.round((cx + r * Math.cos(t)) * 100) / 100, Math.round((cy + r * Math.sin(t)) * 100) / 100]);
            }
            shapes.push({uid: `s${i}`, kind: 'polygon', geometry: {points, holes: []}});
        }
        shapes.push({uid: 'all', kind: 'polygon', geometry: {points: [[0, 0], [4000, 0], [4000, 3000], [0, 3000]], holes: []}});
        const idx = s.createSnapIndex(shapes);
        const whole = s.createSnapIndex(shapes, {cell: 1e6});   // one cell: a full scan
        let same = 0, candidates = 0, snapped = 0;
        const queries = 300;
        for (let q = 0; q < queries; q++) {
            const x = rnd() * 4000, y = rnd() * 3000, tol = 1 + rnd() * 15;
            const a = s.snapPoint(idx, x, y, tol), b = s.snapPoint(whole, x, y, tol);
            if (JSON.stringify(a) === JSON.stringify(b)) same++;
            if (a) snapped++;
            candidates += idx.near(x, y, tol).length;
            const n1 = idx.near(x, y, tol).map(e => e.uid).sort().join(), n2 = whole.near(x, y, tol).map(e => e.uid).sort().join();
            if (n1 !== n2) return {mismatch: [x, y, tol]};
        }
        return {same, queries, snapped, meanCandidates: candidates / queries, cell: idx.cell};
    """)
    assert "mismatch" not in got, got
    assert got["same"] == got["queries"]
    assert got["snapped"] > 30  # the queries did meet shapes
    assert got["meanCandidates"] < 10  # out of 10,001: the grid culls


def test_simplify_path_matches_shapely_douglas_peucker(page):
    rng = np.random.default_rng(3)
    walk = np.cumsum(rng.normal(0, 1.0, (400, 2)), axis=0).round(2).tolist()
    for tol in (0.5, 1.0, 3.0):
        got = _run(page, "return P.simplifyPath(arg.pts, arg.tol);", {"pts": walk, "tol": tol})
        want = [list(p) for p in LineString(walk).simplify(tol, preserve_topology=False).coords]
        assert got == want, f"tolerance {tol}"
    got = _run(page, """
        const square = [];
        for (let i = 0; i <= 100; i++) square.push([i, (i % 2) * 0.3]);          // a jittery straight stroke
        for (let i = 1; i <= 100; i++) square.push([100, i]);
        return {
            line: P.simplifyPath(square, 1),
            short: P.simplifyPath([[0, 0], [1, 1]], 1),
            dedupe: P.dedupe([[0, 0], [0, 0], [5, 0], [5, 5], [0, 0]], true),
            open: P.dedupe([[0, 0], [5, 0], [5, 0], [0, 0]], false),
        };
    """)
    assert got["line"] == [[0, 0], [100, 0], [100, 100]]
    assert got["short"] == [[0, 0], [1, 1]]
    assert got["dedupe"] == [[0, 0], [5, 0], [5, 5]]
    assert got["open"] == [[0, 0], [5, 0], [0, 0]]


def test_index_update_patches_edited_added_and_removed_shapes(page):
    got = _run(page, f"""
        const a = {SQUARE};
        const b = {{uid: 'b', kind: 'polyline', geometry: {{points: [[50, 50], [60, 50]]}}}};
        const idx = s.createSnapIndex([a, b]);
        const uids = (x, y, r) => idx.near(x, y, r).map(e => e.uid).sort();
        const before = [uids(5, 5, 0), uids(105, 5, 1)];
        idx.update('a', {{...a, geometry: {{points: [[100, 0], [110, 0], [110, 10]], holes: []}}}});
        idx.update('c', {{uid: 'c', kind: 'box', geometry: {{x: 0, y: 0, w: 3, h: 3}}}});
        idx.update('b', null);
        idx.update('e', {{uid: 'e', kind: 'ellipse', geometry: {{cx: 0, cy: 0, rx: 1, ry: 1, angle: 0}}}});
        return {{
            before,
            after: [uids(5, 5, 0), uids(105, 5, 1), uids(55, 50, 1), uids(1, 1, 0)],
            changes: idx.changes,
            snap: s.snapPoint(idx, 109, 1, 2),
            links: s.linkedVertices(idx, 110, 0),
        }};
    """)
    assert got["before"] == [["a"], []]
    assert got["after"] == [[], ["a"], [], ["c"]]  # a moved, b removed, c added, ellipses never
    assert got["changes"] == 2
    assert (got["snap"]["type"], got["snap"]["x"], got["snap"]["y"]) == ("vertex", 110, 0)
    assert got["links"] == [{"uid": "a", "ring": 0, "index": 1}]
