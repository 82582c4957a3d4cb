"""Editor benchmark: the workspace in headless Chromium against a real server and project.

Prints one table of figures, each with its target, whether it is met, and a peer figure measured
in the same run where there is one. There are no assertions: the script reports, people judge.

- Pan and zoom on a 4000x3000 image with 10,000 polygons of 20 vertices: median and p95 frame
  time, from requestAnimationFrame timestamps while real mouse input (a middle-button drag, then
  the wheel, then both back) drives the workspace; targets median <= 16.7 ms, p95 <= 33 ms.
- Opening an asset with 1,000 shapes: click on its card in the grid -> the first frame that shows
  all 1,000 shapes (data-shapes and data-drawn, nothing pending); target < 300 ms.
- Moving to the next asset once it is prefetched (its image fetched ahead by the workspace):
  D pressed -> the first frame that shows all its shapes; target < 100 ms.
- Drawing: a box dragged over the 10,000-polygon scene; for each pointer move, the time from the
  event to the end of the frame that drew it (a requestAnimationFrame callback queued after the
  editor's); target median < 16 ms.

The peer ("naive") is the same scene drawn the way most editors draw it today: every shape,
every frame, each filled and stroked with its halo, no culling and no cached layer, on a canvas
of the same size in the same browser, driven by the same input (fewer events: each of its
frames takes long). Its frame times and drawing latency are printed beside ours with the ratio.

How the data is made: ``limner db upgrade`` and the store functions make an admin with an API
token; ``limner serve`` runs as a subprocess; the SDK creates the project, two labels, uploads
photo-like JPEGs (one 4000x3000, six 1600x1200) and stores the annotations (10,000 polygons on
the large one, 1,000 boxes and polygons on each of the others). Everything lives in a fresh
folder under benchmarks/out/ (gitignored).

Headless Chromium here renders on the CPU (no GPU): the figures are those of a software canvas
on a shared 2-core machine; the load average is printed at the start and the end.

Run: ``python benchmarks/editor.py`` (about 3 minutes), ``--quick`` (fewer repetitions and a
shorter naive run), ``--trace`` to print the requests and timings of each open, ``--keep`` to leave the data folder for a look afterwards.
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api import limner_exe, machine_load, run_checked, say, start_server, stop  # noqa: E402

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1400, "height": 900}
PASSWORD = "editor-benchmark-1"
BIG = (4000, 3000)
N_BIG = 10_000
SMALL = (1600, 1200)
N_SMALL = 1000
N_SMALL_ASSETS = 6
LABELS = [
    {"name": "car", "color": "#e6194b", "kinds": ["box", "polygon"]},
    {"name": "tree", "color": "#3cb44b", "kinds": ["box", "polygon"]},
]

# -- data --------------------------------------------------------------------------------------


def photo(size: tuple[int, int], seed: int) -> Image.Image:
    """A photo-like picture: smooth colour fields with fine noise (JPEG-friendly, not flat)."""
    rng = np.random.default_rng(seed)
    w, h = size
    low = rng.integers(30, 225, (h // 100 + 2, w // 100 + 2, 3), dtype=np.uint8)
    img = Image.fromarray(low).resize((w, h), Image.BICUBIC)
    arr = np.asarray(img, dtype=np.int16) + rng.integers(-12, 13, (h, w, 1), dtype=np.int16)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def polygons(rng: np.random.Generator, n: int, size: tuple[int, int], r: tuple[float, float]) -> list[dict]:
    w, h = size
    k = np.arange(20) * 2 * math.pi / 20
    out = []
    for i in range(n):
        cx, cy = rng.uniform(r[1], w - r[1]), rng.uniform(r[1], h - r[1])
        rad = rng.uniform(*r) * rng.uniform(0.7, 1.0, 20)
        pts = np.stack([cx + rad * np.cos(k), cy + rad * np.sin(k)], 1).round(1).tolist()
        out.append({"kind": "polygon", "label": LABELS[i % 2]["name"], "geometry": {"points": pts}})
    return out


def boxes_and_polygons(rng: np.random.Generator, n: int, size: tuple[int, int]) -> list[dict]:
    out = polygons(rng, n // 2, size, (8, 30))
    w, h = size
    for i in range(n - len(out)):
        bw, bh = rng.uniform(10, 80, 2)
        x, y = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
        out.append({"kind": "box", "label": LABELS[i % 2]["name"],
                    "geometry": {"x": round(x, 1), "y": round(y, 1), "w": round(bw, 1), "h": round(bh, 1)}})
    return out


def make_data(folder: Path, exe: str, log: Path) -> dict:
    """The data dir with an admin and its token, and the pictures to upload."""
    from limner.settings import load_settings
    from limner.store.db import Database
    from limner.store.users import create_api_token, create_user

    data_dir = folder / "data"
    run_checked([exe, "db", "upgrade", "--data-dir", str(data_dir)], log)
    db = Database(load_settings(data_dir=str(data_dir)).db_url)
    with db.write() as s:
        admin = create_user(s, "bench", PASSWORD, is_admin=True, display_name="Editor benchmark")
        _, token = create_api_token(s, admin, "editor benchmark")
    db.dispose()
    pics = folder / "pictures"
    pics.mkdir()
    photo(BIG, 1).save(pics / "big-00.jpg", quality=85)
    for i in range(N_SMALL_ASSETS):
        photo(SMALL, 10 + i).save(pics / f"small-{i + 1:02d}.jpg", quality=85)
    return {"data_dir": data_dir, "token": token, "pictures": pics}


def fill_project(url: str, token: str, pictures: Path) -> dict:
    from limner.client import Client

    c = Client(url, token=token)
    try:
        p = c.create_project(f"editor-benchmark-{uuid.uuid4().hex[:4]}")
        for lb in LABELS:
            c.create_label(p["id"], **lb)
        c.upload(p["id"], [pictures])
        listed = c.list_assets(p["id"], limit=100)["items"]  # in the grid's order
        big = next(a for a in listed if a["name"].startswith("big"))
        rng = np.random.default_rng(7)
        c.put_annotation(big["id"], "bench", polygons(rng, N_BIG, BIG, (10, 40)), base_revision=0)
        small = [a for a in listed if a is not big]
        for a in small:
            c.put_annotation(a["id"], "bench", boxes_and_polygons(rng, N_SMALL, SMALL), base_revision=0)
        return {"project": p, "big": big, "small": small, "listed": [a["id"] for a in listed]}
    finally:
        c.close()


# -- in-page probes ----------------------------------------------------------------------------

FRAMES_ON = """() => {
    window.__frames = [];
    window.__rec = true;
    const tick = (t) => { if (!window.__rec) return; window.__frames.push(t); requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
}"""
FRAMES_OFF = "() => { window.__rec = false; const f = window.__frames; return f.slice(1).map((t, i) => t - f[i]); }"

# Latency of pointer moves made with a button held: from the event to the end of the frame that
# drew it (a frame callback queued after the canvas's own handler queued the editor's).
LATENCY_ON = """() => {
    window.__lat = [];
    window.__latOn = (e) => {
        if (!e.buttons) return;
        const t = e.timeStamp;
        requestAnimationFrame(() => window.__lat.push(performance.now() - t));
    };
    window.addEventListener('pointermove', window.__latOn);
}"""
LATENCY_OFF = "() => { window.removeEventListener('pointermove', window.__latOn); return window.__lat; }"

# Resolves with the time from the next `kind` event (click / keydown) to the end of the frame
# that drew asset `id` (data-asset) with all `n` shapes on a new #editor-canvas, nothing pending
# (the canvas's attributes are written at the end of each frame it draws; a MutationObserver sees
# them then). `loaded` is when the side panels were complete too (data-loaded), reported by --trace.
ARM = """([kind, id, n]) => {
    const old = document.getElementById('editor-canvas');
    performance.setResourceTimingBufferSize(100000);
    window.__done = new Promise((resolve) => {
        const start = (e) => {
            window.removeEventListener(kind, start, true);
            const t0 = e.timeStamp;
            let loaded = null;
            const check = () => {
                const c = document.getElementById('editor-canvas');
                const mine = c && c !== old && location.hash.startsWith(`#/assets/${id}?`);
                if (mine && loaded === null && c.dataset.loaded === '1') loaded = performance.now() - t0;
                if (mine && c.dataset.asset === String(id) && Number(c.dataset.shapes) === n && Number(c.dataset.drawn) === n && !c.dataset.pending) {
                    watch.disconnect();
                    const requests = performance.getEntriesByType('resource').filter((r) => r.startTime >= t0)
                        .map((r) => `${r.name.replace(location.origin, '')} ${(r.startTime - t0).toFixed(0)}-${(r.responseEnd - t0).toFixed(0)}`);
                    resolve({ ms: performance.now() - t0, loaded, requests, t0 });
                }
            };
            const watch = new MutationObserver(check);
            watch.observe(document.body, { subtree: true, childList: true, attributes: true,
                attributeFilter: ['data-loaded', 'data-shapes', 'data-drawn', 'data-pending', 'data-view'] });
        };
        window.addEventListener(kind, start, true);
    });
}"""

# True once no request has finished for 800 ms (the page has fetched what it fetches ahead).
QUIET = """() => {
    const n = performance.getEntriesByType('resource').length;
    const w = window.__quiet || (window.__quiet = { n: -1, at: 0 });
    if (n !== w.n) { w.n = n; w.at = performance.now(); return false; }
    return performance.now() - w.at > 800;
}"""

# --trace: long main-thread tasks, and how long each of the scene's frames took to draw.
TRACE_INIT = """
window.__long = [];
window.__draws = [];
new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push([e.startTime, e.duration]); })
    .observe({ type: 'longtask', buffered: true });
{
    const raf = window.requestAnimationFrame.bind(window);
    window.requestAnimationFrame = (fn) => raf((t) => {
        const a = performance.now();
        fn(t);
        if (fn.name === 'draw') window.__draws.push([a, performance.now() - a]);
    });
}
"""
TRACE_SINCE = """(t0) => ({
    long: window.__long.filter(([s]) => s >= t0).map(([s, d]) => `${(s - t0).toFixed(0)}+${d.toFixed(0)}`),
    draws: window.__draws.filter(([s]) => s >= t0).map(([s, d]) => `${(s - t0).toFixed(0)}+${d.toFixed(0)}`),
})"""

# The naive peer: a canvas that draws the image and every shape every frame (fill + halo +
# stroke, as the editors people use today), with a middle-button pan and wheel zoom.
NAIVE = """async ([assetId, owner, cssW, cssH]) => {
    document.body.replaceChildren();
    document.body.style.margin = '0';
    const canvas = document.createElement('canvas');
    canvas.id = 'naive-canvas';
    canvas.style.cssText = `display:block;width:${cssW}px;height:${cssH}px`;
    document.body.append(canvas);
    canvas.width = cssW; canvas.height = cssH;
    const img = new Image();
    img.src = `/api/v1/assets/${assetId}/image`;
    await img.decode();
    const ann = await (await fetch(`/api/v1/assets/${assetId}/annotations/${owner}`)).json();
    const colours = { car: '#e6194b', tree: '#3cb44b' };
    const shapes = ann.shapes;
    const ctx = canvas.getContext('2d');
    const W = img.naturalWidth, H = img.naturalHeight;
    let s = Math.min((cssW - 24) / W, (cssH - 24) / H), tx = (cssW - W * s) / 2, ty = (cssH - H * s) / 2;
    let frame = 0, band = null;
    const draw = () => {
        frame = 0;
        ctx.setTransform(1, 0, 0, 1, 0, 0);
        ctx.clearRect(0, 0, cssW, cssH);
        ctx.setTransform(s, 0, 0, s, tx, ty);
        ctx.drawImage(img, 0, 0);
        ctx.lineJoin = 'round';
        for (const sh of shapes) {
            const g = sh.geometry;
            ctx.beginPath();
            if (sh.kind === 'box') ctx.rect(g.x, g.y, g.w, g.h);
            else { ctx.moveTo(g.points[0][0], g.points[0][1]); for (const p of g.points) ctx.lineTo(p[0], p[1]); ctx.closePath(); }
            ctx.fillStyle = colours[sh.label] + '2e';
            ctx.fill('evenodd');
            ctx.strokeStyle = 'rgba(0,0,0,0.45)'; ctx.lineWidth = 4 / s; ctx.stroke();
            ctx.strokeStyle = colours[sh.label]; ctx.lineWidth = 2 / s; ctx.stroke();
        }
        if (band) { ctx.setTransform(1, 0, 0, 1, 0, 0); ctx.strokeStyle = '#fff'; ctx.strokeRect(band[0], band[1], band[2] - band[0], band[3] - band[1]); }
    };
    const redraw = () => { if (!frame) frame = requestAnimationFrame(draw); };
    let pan = null;
    canvas.addEventListener('pointerdown', (e) => {
        if (e.button === 1) pan = [e.clientX, e.clientY];
        else if (e.button === 0) band = [e.clientX, e.clientY, e.clientX, e.clientY];
        canvas.setPointerCapture(e.pointerId);
        e.preventDefault();
    });
    canvas.addEventListener('pointermove', (e) => {
        if (pan) { tx += e.clientX - pan[0]; ty += e.clientY - pan[1]; pan = [e.clientX, e.clientY]; redraw(); }
        else if (band) { band[2] = e.clientX; band[3] = e.clientY; redraw(); }
    });
    canvas.addEventListener('pointerup', () => { pan = null; band = null; redraw(); });
    canvas.addEventListener('wheel', (e) => {
        e.preventDefault();
        const k = Math.exp(-e.deltaY * 0.0015);
        tx = e.clientX - (e.clientX - tx) * k; ty = e.clientY - (e.clientY - ty) * k; s *= k;
        redraw();
    }, { passive: false });
    draw();
    return shapes.length;
}"""


# -- driving -----------------------------------------------------------------------------------


def pan_and_zoom(page, box: dict, moves: int, wheels: int) -> None:
    """The scripted input: a middle-button drag right and down, wheel in, drag back, wheel out."""
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for direction in (1, -1):
        page.mouse.move(cx, cy)
        page.mouse.down(button="middle")
        for i in range(1, moves + 1):
            page.mouse.move(cx + direction * 6 * i, cy + direction * 3 * i)
        page.mouse.up(button="middle")
        for _ in range(wheels):
            page.mouse.wheel(0, -60 * direction)


def stats(ms: list[float]) -> tuple[float, float]:
    s = sorted(ms)
    return statistics.median(s), s[min(len(s) - 1, math.ceil(0.95 * len(s)) - 1)]


def settle(page, timeout: float = 120_000) -> None:
    page.wait_for_function(
        "() => { const c = document.getElementById('editor-canvas');"
        " return c && c.dataset.loaded === '1' && c.dataset.image === '1' && !c.dataset.pending; }", timeout=timeout)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def open_workspace(page, url: str, asset: dict, pid: int, index: int | None = None) -> None:
    q = f"?project={pid}" + (f"&i={index}" if index is not None else "")
    page.goto(f"{url}/#/assets/{asset['id']}{q}")
    page.wait_for_selector("#editor-canvas[data-loaded='1']", timeout=120_000)
    settle(page)


def measure(url: str, proj: dict, quick: bool, trace: bool) -> list[tuple]:
    from playwright.sync_api import sync_playwright

    rows = []
    pid = proj["project"]["id"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        ctx = browser.new_context(viewport=VIEWPORT)
        r = ctx.request.post(f"{url}/api/v1/auth/login", data={"username": "bench", "password": PASSWORD})
        assert r.ok, r.text()
        if trace:
            ctx.add_init_script(TRACE_INIT)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))

        # 1. pan and zoom over 10,000 polygons
        say("pan and zoom over 10,000 polygons ...")
        open_workspace(page, url, proj["big"], pid)
        box = page.locator("#editor-canvas").bounding_box()
        page.evaluate(FRAMES_ON)
        pan_and_zoom(page, box, moves=40 if quick else 80, wheels=15 if quick else 30)
        ours = page.evaluate(FRAMES_OFF)
        o_med, o_p95 = stats(ours)

        # 4. drawing latency on the same scene
        say("drawing a box over 10,000 polygons ...")
        settle(page)
        page.keyboard.press("b")
        page.evaluate(LATENCY_ON)
        x0, y0 = box["x"] + 200, box["y"] + 150
        page.mouse.move(x0, y0)
        page.mouse.down()
        for i in range(1, (40 if quick else 80) + 1):
            page.mouse.move(x0 + 5 * i, y0 + 3 * i)
        lat = page.evaluate(LATENCY_OFF)
        page.keyboard.press("Escape")  # cancel the box: nothing to save
        page.mouse.up()

        # the naive peer, same canvas size, same input (fewer events)
        say("the naive peer (everything, every frame) ...")
        naive = ctx.new_page()
        naive.goto(f"{url}/api/v1/health")
        naive.evaluate(NAIVE, [proj["big"]["id"], "bench", round(box["width"]), round(box["height"])])
        nbox = naive.locator("#naive-canvas").bounding_box()
        naive.evaluate(FRAMES_ON)
        pan_and_zoom(naive, nbox, moves=6 if quick else 12, wheels=3 if quick else 5)
        n_frames = naive.evaluate(FRAMES_OFF)
        n_med, n_p95 = stats(n_frames)
        naive.evaluate(LATENCY_ON)
        naive.mouse.move(nbox["x"] + 200, nbox["y"] + 150)
        naive.mouse.down()
        for i in range(1, (5 if quick else 10) + 1):
            naive.mouse.move(nbox["x"] + 200 + 5 * i, nbox["y"] + 150 + 3 * i)
        n_lat = naive.evaluate(LATENCY_OFF)
        naive.mouse.up()
        naive.close()

        rows.append(("pan+zoom frame, median (10k polygons)", o_med, 16.7, f"{len(ours)} frames", n_med))
        rows.append(("pan+zoom frame, p95 (10k polygons)", o_p95, 33.0, "", n_p95))
        lat_med = statistics.median(lat) if lat else float("nan")
        rows.append(("drawing: pointer event -> frame, median", lat_med, 16.0, f"{len(lat)} moves, p95 {stats(lat)[1]:.1f}" if lat else "no events",
                     statistics.median(n_lat) if n_lat else float("nan")))

        # 2. opening an asset with 1,000 shapes from the grid
        say("opening an asset of 1,000 shapes from the grid ...")
        opens = []
        for k, a in enumerate(proj["small"][: (3 if quick else 5)]):
            page.goto(f"{url}/#/projects/{pid}")
            card = page.locator(f"#asset-grid .asset-card[data-id='{a['id']}'] a.asset-link")
            card.wait_for()
            page.wait_for_timeout(300)
            page.evaluate(ARM, ["click", a["id"], N_SMALL])
            card.click()
            got = page.evaluate("() => window.__done")
            opens.append(got["ms"])
            if trace:
                tr = page.evaluate(TRACE_SINCE, got["t0"])
                say(f"  {got['ms']:.0f} ms; the page had its data at {got['loaded']:.0f} ms; requests (ms from the click): {'; '.join(got['requests'])}")
                say(f"    long tasks (start+ms): {' '.join(tr['long'])}; scene frames (start+ms): {' '.join(tr['draws'][:12])}")
        rows.append(("open an asset of 1,000 shapes (grid click -> drawn)", statistics.median(opens), 300.0,
                     "runs " + " ".join(f"{v:.0f}" for v in opens), None))

        # 3. the next asset, prefetched
        say("moving to the next, prefetched asset ...")
        nexts = []
        listed = proj["listed"]
        small_ids = {a["id"] for a in proj["small"]}
        pairs = [(i, listed[i], listed[i + 1]) for i in range(len(listed) - 1) if listed[i] in small_ids and listed[i + 1] in small_ids]
        for i, cur, nxt in pairs[: (3 if quick else 4)]:
            open_workspace(page, url, {"id": cur}, pid, index=i)
            page.wait_for_timeout(300)
            page.wait_for_function(QUIET, timeout=60_000)  # the next asset's data has been fetched ahead
            page.evaluate(ARM, ["keydown", nxt, N_SMALL])
            page.keyboard.press("d")
            got = page.evaluate("() => window.__done")
            nexts.append(got["ms"])
            if trace:
                tr = page.evaluate(TRACE_SINCE, got["t0"])
                say(f"  {got['ms']:.0f} ms; the page had its data at {got['loaded']:.0f} ms; requests (ms from D): {'; '.join(got['requests'])}")
                say(f"    long tasks (start+ms): {' '.join(tr['long'])}; scene frames (start+ms): {' '.join(tr['draws'][:12])}")
        rows.append(("next asset, prefetched (D -> drawn)", statistics.median(nexts), 100.0,
                     "runs " + " ".join(f"{v:.0f}" for v in nexts), None))
        if errors:
            say(f"page errors: {errors}")
        browser.close()
    return rows


def table(rows: list[tuple]) -> None:
    say("")
    say(f"{'figure':<52} {'ms':>8} {'target':>8} {'met':>4} {'naive ms':>9} {'naive/ours':>10}  detail")
    for name, value, target, detail, peer in rows:
        met = "yes" if value <= target else "no"
        peer_s = f"{peer:9.1f}" if peer is not None else f"{'—':>9}"
        ratio = f"{peer / value:9.1f}x" if peer is not None and value > 0 else f"{'—':>10}"
        say(f"{name:<52} {value:8.1f} {'< ' if name.startswith(('open', 'next', 'drawing')) else '<='}{target:6.1f} {met:>4} {peer_s} {ratio}  {detail}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, a shorter naive run")
    ap.add_argument("--trace", action="store_true", help="print where the time of each open and next went")
    ap.add_argument("--keep", action="store_true", help="keep the data folder under benchmarks/out/")
    ap.add_argument("--limner", help="the limner executable (default: beside this Python)")
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        say(f"Chromium is needed at {CHROMIUM} (apt-get install chromium)")
        return 2
    exe = limner_exe(args.limner)
    OUT.mkdir(exist_ok=True)
    folder = OUT / f"editor-run-{time.strftime('%Y%m%d-%H%M%S')}"
    folder.mkdir()
    log = folder / "server.log"
    say(f"start: {machine_load()}")
    say(f"data: {folder} (a 4000x3000 JPEG with {N_BIG:,} polygons, {N_SMALL_ASSETS} 1600x1200 JPEGs with {N_SMALL:,} shapes each)")
    server = None
    try:
        made = make_data(folder, exe, log)
        server = start_server(exe, made["data_dir"], log)
        proj = fill_project(server.url, made["token"], made["pictures"])
        rows = measure(server.url, proj, args.quick, args.trace)
        table(rows)
    finally:
        if server is not None:
            stop(server.proc)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    say(f"end: {machine_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
