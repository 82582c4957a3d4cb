"""API benchmark: a Limner server on SQLite with a 100,000-asset, 1,000,000-shape project.

Prints one table of figures, each with its target, the ratio figure/target and whether the target
is met. There are no assertions: the script reports, people judge. Figures:

- ``GET /api/v1/projects/{id}/assets?limit=100`` at offset 0, the middle, the last page, and with
  ``after=`` (keyset paging from random ids): p50 / p95 / max over HTTP; target p95 < 50 ms;
- ``GET /api/v1/assets/{id}/annotations/{owner}`` of an annotation with 1,000 shapes: p95 < 50 ms;
- ``PUT`` of an annotation of 1,000 shapes (each with the right ``base_revision``): p95 < 150 ms;
- ``limner assets add PROJECT FOLDER --data-dir D`` on 1,000 photo-like 1280x720 JPEGs, run as a
  subprocess and timed from start to exit (thumbnails included): target >= 100 images/s;
- ``limner serve --data-dir D --port P --no-login-link`` from process start to the first 200 on
  ``/api/v1/health``: cold (empty data dir, migrations included) and warm (the 100k-asset DB),
  target < 2 s; idle server RSS (VmRSS in /proc/PID/status) after the measurements: < 200 MB.

How the data is built (also printed by the script):

1. ``limner db upgrade --data-dir D`` creates the data dir and the SQLite database (Alembic);
2. the store functions create the admin user and its API token (``limner.store.users.create_user``,
   ``create_api_token``), the project and its labels (``limner.store.projects.create_project``,
   ``create_label``: car, person, bicycle, road, tree, sign; boxes and/or polygons);
3. set-based SQL inserts the rest: SQLAlchemy Core ``insert()`` executemany in chunks of 10,000
   rows inside a few transactions (``Database.write()``): 100,000 asset rows (fake checksums and
   storage keys; no image files, none are needed for these figures), 100,000 annotations (one per
   asset, owner ``admin``) and 1,000,000 shapes (10 per asset on average, 60 % boxes and 40 %
   20-vertex polygons, a fifth of them from a model with a confidence). The asset in the middle
   carries an annotation of exactly 1,000 shapes, for the GET and PUT figures.

The built database is cached in ``benchmarks/out/`` (gitignored) under a name holding
``DATA_VERSION`` and the size, so reruns skip the build; ``--rebuild`` forces it. Every run works
on a fresh copy of the cached data dir (the PUTs and the ingest write to it). The JPEGs are made
once (a pool of 2 processes) into ``benchmarks/out/`` too; making them is not timed.

The server runs as a real subprocess (``limner serve``, the console script installed beside this
Python, not a shell shim) and is spoken to over HTTP with one persistent httpx client and a
bearer token: 5 warm-up requests, then at least 200 measured requests per figure (60 for PUT).
Subprocesses are stopped on exit, on Ctrl-C and on SIGTERM.

Run: ``python benchmarks/api.py`` (full size, several minutes the first time),
``python benchmarks/api.py --quick`` (10,000 assets / 100,000 shapes / 200 JPEGs),
``--profile`` to record each figure with py-spy (if installed) and print where the time goes
(the sampling perturbs the figures a little).
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import json
import os
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
DATA_VERSION = 1  # bump when the built database changes (schema, distribution, labels)
JPEG_VERSION = 1  # bump when the generated images change

SIZES = {
    "full": {"assets": 100_000, "shapes": 1_000_000, "jpegs": 1000},
    "quick": {"assets": 10_000, "shapes": 100_000, "jpegs": 200},
}
BIG_SHAPES = 1000  # shapes in the annotation read and written by the GET / PUT figures
CHUNK = 10_000  # rows per executemany
TX_ROWS = 200_000  # rows per transaction when inserting shapes
OWNER = "admin"
WARMUP = 5

LABELS = [
    {
        "name": "car",
        "color": "#e6194b",
        "kinds": ["box", "polygon"],
        "attributes": [
            {"name": "occluded", "kind": "checkbox", "default": False},
            {"name": "colour", "kind": "select", "options": ["red", "blue", "white", "black", "other"]},
        ],
    },
    {"name": "person", "color": "#3cb44b", "kinds": ["box", "polygon"]},
    {"name": "bicycle", "color": "#ffe119", "kinds": ["box"]},
    {"name": "road", "color": "#4363d8", "kinds": ["polygon"]},
    {"name": "tree", "color": "#f58231", "kinds": ["polygon"]},
    {"name": "sign", "color": "#911eb4", "kinds": ["box", "polygon"]},
]
BOX_LABELS = [lb["name"] for lb in LABELS if "box" in lb["kinds"]]
POLY_LABELS = [lb["name"] for lb in LABELS if "polygon" in lb["kinds"]]
COLOURS = LABELS[0]["attributes"][1]["options"]
W, H = 1280, 720

HOW_BUILT = """\
Data: `limner db upgrade --data-dir D` creates the SQLite database; the store functions
(create_user, create_api_token, create_project, create_label) make the admin, its token, the
project and 6 labels; then SQLAlchemy Core insert() executemany in chunks of 10,000 rows inside a
few Database.write() transactions adds {assets:,} assets (fake checksums/storage keys, no image
files), {assets:,} annotations (owner 'admin') and {shapes:,} shapes (60% boxes, 40% 20-vertex
polygons, ~10 per asset; asset {big} holds one annotation of {big_n:,} shapes). Each run works on a
fresh copy of the DB cached in benchmarks/out/. Server: `limner serve` subprocess, one persistent
httpx client with a bearer token, {warm} warm-up requests then the measured ones."""


# --------------------------------------------------------------------------------------------
# subprocesses: every one is started in its own session and stopped on exit / Ctrl-C / SIGTERM

_PROCS: list[subprocess.Popen] = []


def spawn(cmd: list[str], **kw) -> subprocess.Popen:
    p = subprocess.Popen(cmd, start_new_session=True, **kw)
    _PROCS.append(p)
    return p


def stop(p: subprocess.Popen, sig: int = signal.SIGINT, timeout: float = 15.0) -> None:
    """Stop a process we started (and its group, which it leads): SIGINT, then SIGKILL."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    if p in _PROCS:
        _PROCS.remove(p)


def _cleanup() -> None:
    for p in list(_PROCS):
        stop(p, timeout=5)


atexit.register(_cleanup)


def _on_term(signum, _frame):
    raise SystemExit(128 + signum)


signal.signal(signal.SIGTERM, _on_term)
signal.signal(signal.SIGHUP, _on_term)
signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C raises KeyboardInterrupt, even when started in the background


def run_checked(cmd: list[str], log: Path) -> float:
    """Run a command to completion (as a tracked subprocess); returns its wall time in seconds."""
    with log.open("ab") as fh:
        fh.write(("\n$ " + " ".join(cmd) + "\n").encode())
        fh.flush()
        t0 = time.perf_counter()
        p = spawn(cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        rc = p.wait()
        dt = time.perf_counter() - t0
        _PROCS.remove(p)
    if rc != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(cmd)} exited {rc}:\n{tail}")
    return dt


def limner_exe(given: str | None) -> str:
    if given:
        return given
    beside = Path(sys.executable).parent / "limner"
    return str(beside) if beside.exists() else (shutil.which("limner") or "limner")


def machine_load() -> str:
    """The 1-minute load average, and the share of the last minute some task waited for a CPU (PSI)."""
    out = f"load average {os.getloadavg()[0]:.2f}"
    try:
        psi = Path("/proc/pressure/cpu").read_text().split()[2].split("=")[1]  # avg60
        out += f", CPU pressure {psi}% (some, 60 s)"
    except (OSError, IndexError):
        pass
    return out


def say(msg: str = "") -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------------------------
# the database


def _polygons(rng: np.random.Generator, n: int, vertices: int = 20) -> list:
    """n star-ish 20-vertex polygons inside the image, as lists of [x, y] with one decimal."""
    cx = rng.uniform(60, W - 60, n)[:, None]
    cy = rng.uniform(60, H - 60, n)[:, None]
    r = rng.uniform(10, 55, n)[:, None] * rng.uniform(0.6, 1.0, (n, vertices))
    a = np.linspace(0, 2 * np.pi, vertices, endpoint=False)[None, :] + rng.uniform(0, 0.2, (n, 1))
    pts = np.stack([cx + r * np.cos(a), cy + r * np.sin(a)], axis=-1).round(1)
    return pts.tolist()


def _boxes(rng: np.random.Generator, n: int) -> list:
    w = rng.uniform(8, 300, n)
    h = rng.uniform(8, 300, n)
    x = rng.uniform(0, 1, n) * (W - w)
    y = rng.uniform(0, 1, n) * (H - h)
    return np.stack([x, y, w, h], axis=-1).round(1).tolist()


def make_shapes(rng: np.random.Generator, n: int) -> list[dict]:
    """n wire-format shapes (the PUT body's and the DB's geometry), mixed boxes and polygons."""
    is_box = rng.random(n) < 0.6
    boxes = iter(_boxes(rng, int(is_box.sum())))
    polys = iter(_polygons(rng, int((~is_box).sum())))
    model = rng.random(n) < 0.2
    conf = rng.uniform(0.3, 1.0, n).round(3)
    out = []
    for i in range(n):
        if is_box[i]:
            x, y, w, h = next(boxes)
            kind, geometry, label = "box", {"x": x, "y": y, "w": w, "h": h}, BOX_LABELS[i % len(BOX_LABELS)]
        else:
            kind, geometry, label = "polygon", {"points": next(polys), "holes": []}, POLY_LABELS[i % len(POLY_LABELS)]
        attrs = {"occluded": bool(i % 3 == 0), "colour": COLOURS[i % len(COLOURS)]} if label == "car" else {}
        out.append(
            {
                "kind": kind,
                "label": label,
                "geometry": geometry,
                "attributes": attrs,
                "z_order": 0,
                "group_id": None,
                "track_id": None,
                "source": "model:detector" if model[i] else "manual",
                "confidence": float(conf[i]) if model[i] else None,
            }
        )
    return out


def build_db(data_dir: Path, n_assets: int, n_shapes: int, exe: str, log: Path) -> dict:
    """Create the benchmark database in data_dir (see the module docstring); returns its meta."""
    from sqlalchemy import func, insert, select, text

    from limner.settings import load_settings
    from limner.store.db import Database
    from limner.store.models import Annotation, Asset, LabelRow, ShapeRow
    from limner.store.projects import create_label, create_project
    from limner.store.users import create_api_token, create_user

    t_start = time.perf_counter()
    run_checked([exe, "db", "upgrade", "--data-dir", str(data_dir)], log)
    db = Database(load_settings(data_dir=str(data_dir)).db_url)
    rng = np.random.default_rng(20240601)
    try:
        with db.write() as s:
            admin = create_user(s, OWNER, "benchmark-password", is_admin=True, display_name="Benchmark admin")
            _, token = create_api_token(s, admin, "api benchmark")
            project = create_project(s, admin, "api-benchmark", "100k assets / 1M shapes for benchmarks/api.py")
            for spec in LABELS:
                create_label(s, project.id, spec, admin.id)
            admin_id, pid = admin.id, project.id
            label_ids = dict(s.execute(select(LabelRow.name, LabelRow.id).where(LabelRow.project_id == pid)).all())
            asset0 = s.scalar(select(func.coalesce(func.max(Asset.id), 0)))
            ann0 = s.scalar(select(func.coalesce(func.max(Annotation.id), 0)))
            shape0 = s.scalar(select(func.coalesce(func.max(ShapeRow.id), 0)))

        # shapes per annotation: the big one has BIG_SHAPES, the others 1 + multinomial (mean ~10)
        big_index = n_assets // 2
        rest = n_shapes - BIG_SHAPES
        counts = 1 + rng.multinomial(rest - (n_assets - 1), np.full(n_assets - 1, 1.0 / (n_assets - 1)))
        counts = np.insert(counts, big_index, BIG_SHAPES)
        assert counts.sum() == n_shapes and len(counts) == n_assets
        asset_ids = np.arange(asset0 + 1, asset0 + 1 + n_assets)
        ann_ids = np.arange(ann0 + 1, ann0 + 1 + n_assets)
        big_asset = int(asset_ids[big_index])
        statuses = rng.choice(["in_progress", "review", "done"], n_assets, p=[0.5, 0.2, 0.3])
        now = datetime.now(timezone.utc)

        t0 = time.perf_counter()
        with db.write() as s:
            for lo in range(0, n_assets, CHUNK):
                rows = []
                for k in range(lo, min(lo + CHUNK, n_assets)):
                    sha = hashlib.sha256(f"limner-bench-{k}".encode()).hexdigest()
                    rows.append(
                        {
                            "id": int(asset_ids[k]),
                            "project_id": pid,
                            "task_id": None,
                            "name": f"street/{k // 1000:03d}/img_{k:06d}.jpg",
                            "storage_key": f"images/{sha[:2]}/{sha}.jpg",
                            "thumb_key": f"thumbs/{sha[:2]}/{sha}.jpg",
                            "width": W,
                            "height": H,
                            "checksum": sha,
                            "size_bytes": 250_000 + k % 100_000,
                            "mime": "image/jpeg",
                            "orientation": 1,
                            "meta": {},
                            "status": str(statuses[k]),
                            "shape_count": int(counts[k]),
                            "created_at": now - timedelta(seconds=n_assets - k),
                        }
                    )
                s.execute(insert(Asset), rows)
            for lo in range(0, n_assets, CHUNK):
                s.execute(
                    insert(Annotation),
                    [
                        {
                            "id": int(ann_ids[k]),
                            "asset_id": int(asset_ids[k]),
                            "owner": OWNER,
                            "revision": 1 + k % 5,
                            "shape_count": int(counts[k]),
                            "updated_by": admin_id,
                            "updated_at": now - timedelta(seconds=n_assets - k),
                        }
                        for k in range(lo, min(lo + CHUNK, n_assets))
                    ],
                )
        say(f"  {n_assets:,} assets and annotations inserted in {time.perf_counter() - t0:.1f} s")

        t0 = time.perf_counter()
        shape_asset = np.repeat(asset_ids, counts)
        shape_ann = np.repeat(ann_ids, counts)
        starts = np.cumsum(counts) - counts
        position = np.arange(n_shapes) - np.repeat(starts, counts)
        done = 0
        while done < n_shapes:
            with db.write() as s:
                tx_end = min(done + TX_ROWS, n_shapes)
                for lo in range(done, tx_end, CHUNK):
                    hi = min(lo + CHUNK, tx_end)
                    shapes = make_shapes(rng, hi - lo)
                    s.execute(
                        insert(ShapeRow),
                        [
                            {
                                "id": shape0 + 1 + lo + j,
                                "annotation_id": int(shape_ann[lo + j]),
                                "asset_id": int(shape_asset[lo + j]),
                                "label_id": label_ids[sh["label"]],
                                "position": int(position[lo + j]),
                                "kind": sh["kind"],
                                "geometry": sh["geometry"],
                                "attributes": sh["attributes"],
                                "z_order": 0,
                                "group_id": None,
                                "track_id": None,
                                "source": sh["source"],
                                "confidence": sh["confidence"],
                            }
                            for j, sh in enumerate(shapes)
                        ],
                    )
                done = tx_end
            say(f"  shapes: {done:,} / {n_shapes:,}")
        say(f"  {n_shapes:,} shapes inserted in {time.perf_counter() - t0:.1f} s")

        with db.write_engine.connect() as conn:
            got = conn.execute(
                text("SELECT (SELECT count(*) FROM assets), (SELECT count(*) FROM annotations), (SELECT count(*) FROM shapes)")
            ).one()
        assert tuple(got) == (n_assets, n_assets, n_shapes), got
    finally:
        db.dispose()
    with closing(sqlite3.connect(data_dir / "limner.db")) as conn:  # fold the WAL into the file
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {
        "data_version": DATA_VERSION,
        "assets": n_assets,
        "shapes": n_shapes,
        "project_id": pid,
        "token": token,
        "owner": OWNER,
        "big_asset_id": big_asset,
        "first_asset_id": int(asset_ids[0]),
        "last_asset_id": int(asset_ids[-1]),
        "build_seconds": round(time.perf_counter() - t_start, 1),
    }


def cached_db(size: dict, exe: str, rebuild: bool) -> tuple[Path, dict]:
    folder = OUT / f"db-v{DATA_VERSION}-{size['assets']}a-{size['shapes']}s"
    meta_path = folder / "meta.json"
    if rebuild and folder.exists():
        shutil.rmtree(folder)
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        say(f"Using the cached database {_rel(folder)} (built in {meta['build_seconds']} s; --rebuild to redo)")
        return folder / "data", meta
    if folder.exists():
        shutil.rmtree(folder)  # an interrupted build
    folder.mkdir(parents=True)
    say(f"Building the database in {_rel(folder)} ...")
    meta = build_db(folder / "data", size["assets"], size["shapes"], exe, folder / "build.log")
    meta_path.write_text(json.dumps(meta, indent=2))  # written last: marks the cache complete
    say(f"  built in {meta['build_seconds']} s, {_du(folder / 'data') / 1e6:.0f} MB")
    return folder / "data", meta


def _rel(p: Path) -> str:
    try:
        return str(p.relative_to(HERE.parent))
    except ValueError:
        return str(p)


def _du(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())


# --------------------------------------------------------------------------------------------
# the JPEGs


def _make_jpeg(job: tuple[int, str]) -> int:
    """One photo-like 1280x720 JPEG: colour gradients, soft light, a few shapes, sensor noise."""
    from PIL import Image, ImageDraw, ImageFilter

    i, path = job
    rng = np.random.default_rng(1_000_003 * (i + 1))
    f32 = np.float32
    x = np.arange(W, dtype=f32)[None, :]
    y = np.arange(H, dtype=f32)[:, None]
    base = [f32(v) for v in rng.uniform(40, 190, 3)]
    slope = [[f32(v) for v in row] for row in rng.uniform(-0.09, 0.09, (3, 2))]
    fx, fy, ph = (f32(v) for v in (rng.uniform(0.002, 0.01), rng.uniform(0.002, 0.01), rng.uniform(0, 6.3)))
    cx, cy, r = (f32(v) for v in (rng.uniform(0, W), rng.uniform(0, H), rng.uniform(120, 400)))
    two_r2 = f32(2) * r * r
    # a soft wave and a soft light, both separable in x and y
    common = f32(25) * np.sin(fx * x + ph) * np.cos(fy * y - ph)
    common += f32(55) * np.exp(-((x - cx) ** 2) / two_r2) * np.exp(-((y - cy) ** 2) / two_r2)
    rgb = np.empty((H, W, 3), dtype=f32)
    for c in range(3):
        rgb[..., c] = common + (base[c] + slope[c][0] * x) + slope[c][1] * y
    img = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(3, 8))):
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        x0, y0 = float(rng.uniform(0, W - 60)), float(rng.uniform(0, H - 60))
        x1, y1 = x0 + float(rng.uniform(40, 400)), y0 + float(rng.uniform(40, 300))
        pick = rng.integers(0, 3)
        if pick == 0:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        elif pick == 1:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            pts = [(float(rng.uniform(x0, x1)), float(rng.uniform(y0, y1))) for _ in range(5)]
            draw.polygon(pts, fill=colour)
    img = img.filter(ImageFilter.GaussianBlur(1.2))
    noisy = np.asarray(img, dtype=f32) + f32(5) * rng.standard_normal((H, W, 3), dtype=f32)
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB").save(path, "JPEG", quality=90)
    return i


def _worker_init() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and ends the pool


def cached_jpegs(count: int) -> Path:
    from multiprocessing import Pool

    folder = OUT / f"jpegs-v{JPEG_VERSION}-{count}"
    marker = folder / ".complete"
    if marker.exists():
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    say(f"Making {count} JPEGs 1280x720 (quality 90) in {_rel(folder)} with 2 processes (not timed) ...")
    t0 = time.perf_counter()
    jobs = [(i, str(folder / f"photo_{i:05d}.jpg")) for i in range(count)]
    with Pool(2, initializer=_worker_init) as pool:
        for _ in pool.imap_unordered(_make_jpeg, jobs, chunksize=4):
            pass
    marker.write_text(str(count))
    say(f"  made in {time.perf_counter() - t0:.1f} s")
    return folder


# --------------------------------------------------------------------------------------------
# measuring


@dataclass
class Row:
    figure: str
    value: float
    target: float
    unit: str
    higher_is_better: bool = False
    detail: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.target

    @property
    def met(self) -> bool:
        return self.value >= self.target if self.higher_is_better else self.value < self.target


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) with linear interpolation."""
    xs = sorted(values)
    k = (len(xs) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def latency_row(figure: str, t: Timing, target: float) -> Row:
    ms = t.ms
    return Row(
        figure,
        pct(ms, 0.95),
        target,
        "ms p95",
        detail=f"p50 {pct(ms, 0.5):.1f}, p95 {pct(ms, 0.95):.1f}, max {max(ms):.1f} ms, n={len(ms)}; "
        f"server CPU {t.server_cpu_ms:.1f} ms/req",
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    startup: float
    startup_cpu: float
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_server(exe: str, data_dir: Path, log: Path) -> Server:
    """Start `limner serve`; returns once /api/v1/health answers 200, with the time that took."""
    port = free_port()
    cmd = [exe, "serve", "--data-dir", str(data_dir), "--port", str(port), "--no-login-link"]
    fh = log.open("ab")
    fh.write(("\n$ " + " ".join(cmd) + "\n").encode())
    fh.flush()
    health = f"http://127.0.0.1:{port}/api/v1/health"
    with httpx.Client(timeout=2.0) as probe:
        t0 = time.perf_counter()
        p = spawn(cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        fh.close()
        while True:
            if p.poll() is not None:
                raise RuntimeError(f"limner serve exited {p.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
            try:
                if probe.get(health).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.perf_counter() - t0 > 120:
                raise RuntimeError("limner serve did not answer within 120 s")
            time.sleep(0.005)
        ready = time.perf_counter() - t0
        return Server(p, port, ready, cpu_seconds(p.pid), log)


def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB."""
    vals = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            vals[key] = int(rest.split()[0]) / 1024
    return vals["VmRSS"], vals["VmHWM"]


class Profiler:
    """Optional py-spy recording of the server during one figure (--profile)."""

    def __init__(self, enabled: bool, folder: Path):
        self.enabled = enabled and shutil.which("py-spy") is not None
        self.folder = folder
        self.reports: dict[str, Path] = {}
        if enabled and not self.enabled:
            say("  (--profile: py-spy is not installed; `pip install py-spy` to record profiles)")

    def attach(self, name: str, pid: int):
        if not self.enabled:
            return None
        out = self.folder / f"profile-{name}.txt"
        p = spawn(
            ["py-spy", "record", "--pid", str(pid), "--format", "raw", "--rate", "200", "--nonblocking", "--output", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.7)  # let py-spy attach
        self.reports[name] = out
        return p

    def detach(self, p) -> None:
        if p is not None:
            stop(p, signal.SIGINT, timeout=30)  # py-spy writes its output on SIGINT

    def wrap(self, name: str, cmd: list[str]) -> list[str]:
        if not self.enabled:
            return cmd
        out = self.folder / f"profile-{name}.txt"
        self.reports[name] = out
        return ["py-spy", "record", "--format", "raw", "--rate", "200", "--nonblocking", "--output", str(out), "--", *cmd]

    def summary(self, top: int = 12) -> None:
        for name, path in self.reports.items():
            if not path.exists():
                continue
            busy, incl, leaf = summarise_raw(path)
            if not busy:
                continue
            say(f"\nProfile of {name} ({_rel(path)}), {busy} busy samples: inclusive share")
            shown = 0
            for frame, n in incl.most_common():
                if any(skip in frame for skip in _PLUMBING):
                    continue
                say(f"  {100 * n / busy:5.1f}%  {frame}")
                shown += 1
                if shown >= top:
                    break
            say("  self:")
            for frame, n in leaf.most_common(8):
                say(f"  {100 * n / busy:5.1f}%  {frame}")


# frames that only carry the call (entry points, event loop, thread pools) or wait
_PLUMBING = ("typer/", "click/", "limner/cli.py", "<module>", "threading.py", "asyncio/", "concurrent/", "anyio/",
             "runpy.py", "uvicorn/server.py", "uvicorn/main.py")
_IDLE_LEAVES = ("Condition.wait (", "Queue.get (", "Runner.run (", "Event.wait (", "select (", "_worker (", "sleep (")


def summarise_raw(path: Path) -> tuple[int, Counter, Counter]:
    """Busy-sample count and inclusive / self counts per frame from py-spy's raw (collapsed) output.

    Samples whose innermost frame is a wait (idle pool threads, the event loop in its poller) are
    left out, so shares are of the time the process was working.
    """
    total, incl, leaf = 0, Counter(), Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        frames = [f for f in stack.split(";") if "(" in f and not f.startswith(("process ", "thread "))]
        if not frames or frames[-1].startswith(_IDLE_LEAVES):
            continue
        k = int(n)
        total += k
        for f in {_short(f) for f in frames}:
            incl[f] += k
        leaf[_short(frames[-1])] += k
    return total, incl, leaf


def _short(frame: str) -> str:
    for marker in ("site-packages/", "/src/", "lib/python3.11/"):
        if marker in frame:
            head, _, tail = frame.partition("(")
            return head + "(" + tail.split(marker, 1)[1]
    return frame


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process (all its threads) has used, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Timing:
    ms: list[float]
    server_cpu_ms: float  # the server's CPU time per measured request: robust to a busy machine


def timed_requests(client: httpx.Client, make, n: int, check, server_pid: int) -> Timing:
    """Run WARMUP + n requests; `make(i)` returns (method, url, kwargs); returns the n latencies."""
    out = []
    cpu0 = 0.0
    for i in range(WARMUP + n):
        if i == WARMUP:
            cpu0 = cpu_seconds(server_pid)
        method, url, kw = make(i)
        t0 = time.perf_counter()
        r = client.request(method, url, **kw)
        dt = (time.perf_counter() - t0) * 1000
        if r.status_code != 200:
            raise RuntimeError(f"{method} {url} answered {r.status_code}: {r.text[:500]}")
        check(i, r)
        if i >= WARMUP:
            out.append(dt)
    return Timing(out, (cpu_seconds(server_pid) - cpu0) * 1000 / n)


# --------------------------------------------------------------------------------------------
# the run


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10,000 assets / 100,000 shapes / 200 JPEGs")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cached database")
    ap.add_argument("--requests", type=int, default=200, help="measured requests per GET figure (default 200)")
    ap.add_argument("--puts", type=int, default=60, help="measured PUTs (default 60)")
    ap.add_argument("--starts", type=int, default=3, help="server starts per start-up figure (default 3)")
    ap.add_argument("--profile", action="store_true", help="record each figure with py-spy and print the hot frames")
    ap.add_argument("--limner", help="the limner executable (default: the console script beside this Python)")
    args = ap.parse_args()

    size = SIZES["quick" if args.quick else "full"]
    exe = limner_exe(args.limner)
    OUT.mkdir(parents=True, exist_ok=True)
    run_dir = OUT / f"run-{'quick' if args.quick else 'full'}"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    log = run_dir / "subprocesses.log"
    prof = Profiler(args.profile, run_dir)
    rows: list[Row] = []

    say(f"Limner API benchmark ({'quick' if args.quick else 'full'}): {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {exe}")
    load0 = machine_load()
    if os.getloadavg()[0] > 0.5:
        say(f"note: the machine is busy ({load0}): the figures will be slower and noisier than on an idle one")
    cached, meta = cached_db(size, exe, args.rebuild)
    say(
        HOW_BUILT.format(
            assets=meta["assets"], shapes=meta["shapes"], big=meta["big_asset_id"], big_n=BIG_SHAPES, warm=WARMUP
        )
    )
    jpegs = cached_jpegs(size["jpegs"])

    data = run_dir / "data"
    t0 = time.perf_counter()
    shutil.copytree(cached, data)
    say(f"Copied the cached data dir to {_rel(data)} in {time.perf_counter() - t0:.1f} s")

    # -- start-up: cold (empty data dir) and warm (the big database) --------------------------
    cold, cold_cpu = [], []
    for k in range(args.starts):
        srv = start_server(exe, run_dir / f"cold-{k}", log)
        cold.append(srv.startup)
        cold_cpu.append(srv.startup_cpu)
        stop(srv.proc)
    say(f"cold starts: {', '.join(f'{t:.2f}' for t in cold)} s")
    warm, warm_cpu = [], []
    srv = None
    for k in range(args.starts):
        if srv is not None:
            stop(srv.proc)
        srv = start_server(exe, data, log)
        warm.append(srv.startup)
        warm_cpu.append(srv.startup_cpu)
    say(f"warm starts: {', '.join(f'{t:.2f}' for t in warm)} s")
    assert srv is not None

    # -- HTTP figures -------------------------------------------------------------------------
    pid, n_assets, big = meta["project_id"], meta["assets"], meta["big_asset_id"]
    first = meta["first_asset_id"]
    client = httpx.Client(base_url=srv.url + "/api/v1", headers={"Authorization": f"Bearer {meta['token']}"}, timeout=60)
    try:
        assets_url = f"/projects/{pid}/assets"

        def check_page(expect_first=None):
            def check(i, r):
                body = r.json() if i < WARMUP + 1 else None
                if body is not None:
                    if body["total"] != n_assets or len(body["items"]) != 100 or "annotations" not in body["items"][0]:
                        raise RuntimeError(f"unexpected page: total {body['total']}, {len(body['items'])} items")
                    if expect_first is not None and body["items"][0]["id"] != expect_first:
                        raise RuntimeError(f"page starts at {body['items'][0]['id']}, expected {expect_first}")

            return check

        for label, offset in (("offset=0", 0), (f"offset={n_assets // 2:,}", n_assets // 2), (f"offset={n_assets - 100:,}", n_assets - 100)):
            p = prof.attach(f"list-{label.replace(',', '')}", srv.proc.pid)
            ms = timed_requests(
                client,
                lambda i, o=offset: ("GET", assets_url, {"params": {"limit": 100, "offset": o}}),
                args.requests,
                check_page(first + offset),
                srv.proc.pid,
            )
            prof.detach(p)
            rows.append(latency_row(f"list 100 assets, {label}", ms, 50))
            say(f"{rows[-1].figure}: {rows[-1].detail}")

        rng = np.random.default_rng(5)
        afters = rng.integers(first - 1, first + n_assets - 100, WARMUP + args.requests)
        p = prof.attach("list-after", srv.proc.pid)
        ms = timed_requests(
            client,
            lambda i: ("GET", assets_url, {"params": {"limit": 100, "after": int(afters[i])}}),
            args.requests,
            lambda i, r: None,
            srv.proc.pid,
        )
        prof.detach(p)
        rows.append(latency_row("list 100 assets, after=<random id>", ms, 50))
        say(f"{rows[-1].figure}: {rows[-1].detail}")

        ann_url = f"/assets/{big}/annotations/{OWNER}"

        def check_ann(i, r):
            if i == 0 and r.json()["shape_count"] != BIG_SHAPES:
                raise RuntimeError(f"asset {big} does not hold {BIG_SHAPES} shapes")

        p = prof.attach("get-annotation", srv.proc.pid)
        ms = timed_requests(client, lambda i: ("GET", ann_url, {}), args.requests, check_ann, srv.proc.pid)
        prof.detach(p)
        rows.append(latency_row(f"GET annotation of {BIG_SHAPES:,} shapes", ms, 50))
        say(f"{rows[-1].figure}: {rows[-1].detail}")

        # PUT: replace the 1,000 shapes by 1,000 others, each PUT based on the current revision
        rev = client.get(ann_url).json()["revision"]
        bodies = [make_shapes(np.random.default_rng(100 + i), BIG_SHAPES) for i in range(4)]
        state = {"rev": rev}

        def make_put(i):
            body = json.dumps({"base_revision": state["rev"], "shapes": bodies[i % len(bodies)]}).encode()
            return "PUT", ann_url, {"content": body, "headers": {"Content-Type": "application/json"}}

        def check_put(i, r):
            got = r.json()
            if got["revision"] != state["rev"] + 1 or got["shape_count"] != BIG_SHAPES:
                raise RuntimeError(f"unexpected PUT answer {got}")
            state["rev"] = got["revision"]

        p = prof.attach("put-annotation", srv.proc.pid)
        ms = timed_requests(client, make_put, args.puts, check_put, srv.proc.pid)
        prof.detach(p)
        rows.append(latency_row(f"PUT annotation of {BIG_SHAPES:,} shapes", ms, 150))
        say(f"{rows[-1].figure}: {rows[-1].detail}")
        final = client.get(ann_url).json()
        assert final["revision"] == state["rev"] and final["shape_count"] == BIG_SHAPES, final
    finally:
        client.close()

    time.sleep(2.0)  # idle
    rss, hwm = rss_mb(srv.proc.pid)
    stop(srv.proc)

    rows.append(Row("serve cold start to first 200 (empty dir)", statistics.median(cold), 2.0, "s median",
                    detail=f"{len(cold)} starts: " + ", ".join(f"{t:.2f}" for t in cold)
                    + f" s; server CPU until ready {statistics.median(cold_cpu):.2f} s"))
    rows.append(Row(f"serve warm start to first 200 ({n_assets // 1000}k assets)", statistics.median(warm), 2.0, "s median",
                    detail=f"{len(warm)} starts: " + ", ".join(f"{t:.2f}" for t in warm)
                    + f" s; server CPU until ready {statistics.median(warm_cpu):.2f} s"))
    rows.append(Row("idle server RSS after the measurements", rss, 200, "MB", detail=f"peak (VmHWM) {hwm:.0f} MB"))

    # -- ingest through the CLI -----------------------------------------------------------------
    empty = run_dir / "empty-folder"
    empty.mkdir()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    overhead = run_checked([exe, "assets", "add", str(pid), str(empty), "--data-dir", str(data)], log)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    overhead_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    n_jpegs = len(list(jpegs.glob("*.jpg")))
    mb = sum(f.stat().st_size for f in jpegs.glob("*.jpg")) / 1e6
    cmd = prof.wrap("ingest", [exe, "assets", "add", str(pid), str(jpegs), "--data-dir", str(data)])
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    secs = run_checked(cmd, log)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    ingest_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    tail = log.read_text(errors="replace").splitlines()
    added = next((ln for ln in reversed(tail) if ln.startswith("added ")), "")
    if not added.startswith(f"added {n_jpegs},"):
        raise RuntimeError(f"ingest did not add every image: {added!r}")
    rows.append(
        Row(
            f"ingest {n_jpegs:,} JPEGs 1280x720 (`limner assets add`)",
            n_jpegs / secs,
            100,
            "images/s",
            higher_is_better=True,
            detail=f"{secs:.1f} s wall, {ingest_cpu:.1f} s CPU for {mb:.0f} MB; the same command on an empty "
            f"folder takes {overhead:.2f} s wall, {overhead_cpu:.2f} s CPU",
        )
    )
    say(f"{rows[-1].figure}: {rows[-1].value:.0f} images/s ({rows[-1].detail})")

    prof.summary()
    print_table(rows, meta)
    say(f"Machine load at the start: {load0}; at the end: {machine_load()} (other work on the machine slows the figures).")
    shutil.rmtree(run_dir / "data", ignore_errors=True)  # the copy (and its media) is large; logs stay
    return 0


def print_table(rows: list[Row], meta: dict) -> None:
    say()
    say(
        f"Limner API benchmark, SQLite, {meta['assets']:,} assets / {meta['shapes']:,} shapes, "
        f"{os.cpu_count()} CPUs"
    )
    head = ("figure", "value", "target", "ratio", "met", "detail")
    table = []
    for r in rows:
        val = f"{r.value:.1f} {r.unit}" if r.value < 1000 else f"{r.value:.0f} {r.unit}"
        if r.unit.startswith("s"):
            val = f"{r.value:.2f} {r.unit}"
        target = f"{'>=' if r.higher_is_better else '<'} {r.target:g}"
        table.append((r.figure, val, target, f"{r.ratio:.2f}", "yes" if r.met else "NO", r.detail))
    widths = [max(len(str(x[i])) for x in [head, *table]) for i in range(len(head))]
    line = "  ".join("-" * w for w in widths)
    say(line)
    say("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    say(line)
    for t in table:
        say("  ".join(str(x).ljust(w) for x, w in zip(t, widths)))
    say(line)
    say("ratio = value / target: below 1 is better for latencies, start-up times and RSS; above 1 is better for")
    say("images/s. Latencies are measured at the client over HTTP on 127.0.0.1 (one persistent connection).")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("\ninterrupted: stopping the subprocesses")
        sys.exit(130)
