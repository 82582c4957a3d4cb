"""Quality benchmark: agreement and consensus on a 3-annotator project built in memory, and
`limner check` on the 1,000,000-shape project of ``benchmarks/api.py``.

Prints one table of figures, each with its target where it has one; nothing is asserted.

1. **Agreement and consensus** (in this process). A project of 10,000 assets (``--quick``: 1,000)
   is built in memory, not timed: per asset 10 true objects on a 1280x720 image, 60 % boxes and
   40 % 16-vertex star polygons, 6 labels; three annotators each draw every object with their
   coordinates jittered (normal, sigma 1.5 px on box corners and polygon vertices), miss one with
   probability 0.05, give it another label with probability 0.05, and add a stray box with
   probability 0.1 per asset (about 10 shapes per annotator and asset, 300,000 shapes in all).
   Then, timed with ``time.perf_counter``:

   - agreement for the project: ``limner.quality.matching.match_assets`` (every pair of
     annotators of every asset, in bulk) and ``sum_matches`` into F1 and mean IoU per pair, when
     that module is installed (this script says when it is not and measures consensus alone);
   - consensus for every asset: ``limner.quality.consensus.consensus_many`` (quorum 0.5, IoU 0.5,
     the image size given), every asset in one bulk call in this one process, and the same on
     the boxes alone to show what the polygons' majority vote costs (wall and CPU time: on a
     shared machine the CPU time is the steadier figure).

   Target: agreement + consensus < 10 s. Peak RSS is ``resource.getrusage(RUSAGE_SELF).ru_maxrss``
   after each step (a high-water mark: it includes the data built before).
   Then the same project is written to a fresh SQLite database (assets, submitted annotations,
   submit events, verdicts, 5 % ground truth; not timed) and the dashboard answer of
   ``GET /projects/{id}/quality`` (``limner.quality.dashboard.project_quality``) is timed on it,
   then the consensus of the whole project read from it, merged and written back
   (``limner.quality.project_consensus.project_consensus``, what ``limner consensus`` and the job
   do) (``--skip-dashboard`` leaves both out).
2. **limner check** on the project ``benchmarks/api.py`` builds (100,000 assets, 1,000,000 shapes,
   60 % boxes / 40 % 20-vertex polygons), reusing its builder and cache (``cached_db``): if the
   full-size database is not cached, the ``--quick`` one (10,000 assets / 100,000 shapes) is built
   or used instead, and the script says so. Each run works on a fresh copy of the data dir. The
   command ``limner check 1 --data-dir D --json`` runs as a subprocess under ``/usr/bin/time -f
   %M`` (its peak RSS, when GNU time is installed); wall time from spawn to exit. The JSON gives
   the split between reading the project (``exchange.project_dataset``) and the checks.
   Also measured: decoding every shape's geometry JSON with the standard library (as the
   database layer does while reading) and with ``orjson``, straight from SQLite, to show how much
   of the read is JSON decoding.

Run: ``python benchmarks/quality.py`` (about a minute and a half plus the checks),
``--quick`` (1,000 assets, the quick database), ``--assets N``, ``--skip-check``, ``--runs N``
(``limner check`` runs, default 2), ``--profile`` (the consensus step again under cProfile).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import api as api_bench  # noqa: E402  (benchmarks/api.py: the 1M-shape project's builder and cache)

from limner.core.shapes import Shape  # noqa: E402

OUT = api_bench.OUT
W, H = 1280, 720
LABELS = ["car", "person", "bicycle", "road", "tree", "sign"]
ANNOTATORS = ("ann1", "ann2", "ann3")
OBJECTS = 10
JITTER = 1.5
P_MISS, P_SWAP, P_EXTRA = 0.05, 0.05, 0.1
TARGET_SECONDS = 10.0


def say(msg: str = "") -> None:
    print(msg, flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Row:
    figure: str
    value: float
    unit: str
    target: float | None = None
    detail: str = ""

    @property
    def met(self) -> str:
        return "" if self.target is None else ("yes" if self.value < self.target else "NO")


# -- the in-memory project ----------------------------------------------------------------------------


def make_project(n_assets: int, seed: int = 20240607) -> list[list[tuple[str, list[Shape]]]]:
    """Per asset, ``[(annotator, shapes)]`` for the three annotators (see the module docstring)."""
    rng = np.random.default_rng(seed)
    verts = 16
    angles = np.linspace(0, 2 * np.pi, verts, endpoint=False)
    out = []
    for _ in range(n_assets):
        is_box = rng.random(OBJECTS) < 0.6
        labels = rng.integers(0, len(LABELS), OBJECTS)
        w = rng.uniform(16, 300, OBJECTS)
        h = rng.uniform(16, 300, OBJECTS)
        x = rng.uniform(0, 1, OBJECTS) * (W - w)
        y = rng.uniform(0, 1, OBJECTS) * (H - h)
        cx = rng.uniform(70, W - 70, OBJECTS)[:, None]
        cy = rng.uniform(70, H - 70, OBJECTS)[:, None]
        r = rng.uniform(15, 60, (OBJECTS, 1)) * rng.uniform(0.6, 1.0, (OBJECTS, verts))
        rings = np.stack([cx + r * np.cos(angles), cy + r * np.sin(angles)], axis=-1)
        asset = []
        for name in ANNOTATORS:
            shapes = []
            for k in range(OBJECTS):
                if rng.random() < P_MISS:
                    continue
                label = LABELS[labels[k]]
                if rng.random() < P_SWAP:
                    label = LABELS[(labels[k] + rng.integers(1, len(LABELS))) % len(LABELS)]
                if is_box[k]:
                    x0, y0 = x[k] + rng.normal(0, JITTER), y[k] + rng.normal(0, JITTER)
                    x1, y1 = x[k] + w[k] + rng.normal(0, JITTER), y[k] + h[k] + rng.normal(0, JITTER)
                    g = {"x": round(x0, 1), "y": round(y0, 1), "w": round(x1 - x0, 1), "h": round(y1 - y0, 1)}
                    shapes.append(Shape("box", label, g))
                else:
                    pts = (rings[k] + rng.normal(0, JITTER, rings[k].shape)).round(1)
                    shapes.append(Shape("polygon", label, {"points": pts.tolist(), "holes": []}))
            if rng.random() < P_EXTRA:
                bw, bh = rng.uniform(16, 120, 2)
                bx, by = rng.uniform(0, W - bw), rng.uniform(0, H - bh)
                shapes.append(Shape("box", LABELS[rng.integers(0, len(LABELS))], {"x": bx, "y": by, "w": bw, "h": bh}))
            asset.append((name, shapes))
        out.append(asset)
    return out


# -- agreement and consensus --------------------------------------------------------------------------


def run_agreement(project) -> tuple[float, str] | None:
    try:
        from limner.quality import matching
    except ImportError:
        return None
    t0, c0 = time.perf_counter(), time.process_time()
    if hasattr(matching, "match_assets"):
        results = matching.match_assets([dict(a) for a in project], sizes=[(H, W)] * len(project))
    else:
        results = [matching.match_annotators(dict(a), height=H, width=W) for a in project]
    per_pair = {}
    for pair in results[0]:
        total, _ = matching.sum_matches(r[pair] for r in results)
        per_pair[pair] = total
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    detail = f"CPU {cpu:.2f} s; " + "; ".join(
        f"{a}-{b} F1 {c.f1:.3f}, mean IoU {c.mean_iou:.3f}" for (a, b), c in per_pair.items()
    )
    return dt, detail


def run_consensus(project) -> tuple[float, dict]:
    from limner.quality.consensus import consensus_many

    kept = dropped = ties = empty = shapes = 0
    t0, c0 = time.perf_counter(), time.process_time()
    results = consensus_many(project, sizes=[(H, W)] * len(project))
    for merged, rep in results:
        shapes += len(merged)
        kept += rep.kept
        dropped += rep.dropped
        ties += len(rep.ties)
        empty += sum(c.status == "empty" for c in rep.clusters)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    return dt, {"cpu": cpu, "shapes": shapes, "kept": kept, "dropped": dropped, "ties": ties, "empty": empty}


def boxes_only(project):
    return [[(n, [s for s in shapes if s.kind == "box"]) for n, shapes in asset] for asset in project]


# -- the dashboard answer -----------------------------------------------------------------------------


def build_dashboard_db(project, folder: Path):
    """The in-memory project written to a fresh SQLite database (not timed): assets, the three
    annotators' submitted annotations with their shapes, their submit events in the audit log, a
    reviewer's verdict on every tenth asset, 5 % of the assets marked ground truth (ann1's work as
    the reference). Returns (database, project row id)."""
    from datetime import timedelta

    from sqlalchemy import insert, select

    from limner.store import Database, upgrade
    from limner.store.models import Annotation, Asset, AuditEvent, LabelRow, Project, Review, ShapeRow, User, utcnow

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    db = Database(f"sqlite:///{folder / 'limner.db'}")
    upgrade(db)
    t0 = utcnow() - timedelta(days=5)
    with db.write() as s:
        users = {n: s.scalar(insert(User).values(username=n).returning(User.id)) for n in (*ANNOTATORS, "rev")}
        pid = s.scalar(insert(Project).values(name="quality bench", overlap=3, ground_truth_rate=0.05).returning(Project.id))
        labels = {n: s.scalar(insert(LabelRow).values(project_id=pid, name=n, kinds=["box", "polygon"]).returning(LabelRow.id))
                  for n in LABELS}
        rows = [{"project_id": pid, "name": f"img{i:06d}.jpg", "storage_key": f"k{i}", "thumb_key": f"t{i}", "width": W,
                 "height": H, "checksum": f"{i:064d}", "size_bytes": 1, "mime": "image/jpeg", "status": "review",
                 "ground_truth_owner": "ann1" if i % 20 == 0 else None} for i in range(len(project))]
        ids = list(s.scalars(insert(Asset).returning(Asset.id), rows))
        ann_rows, events = [], []
        for k, (aid, asset) in enumerate(zip(ids, project)):
            at = t0 + timedelta(seconds=40 * k)
            for name, shapes in asset:
                ann_rows.append({"asset_id": aid, "owner": name, "revision": 1, "shape_count": len(shapes),
                                 "state": "submitted", "submitted_at": at, "updated_at": at})
                events.append({"user_id": users[name], "project_id": pid, "action": "submit", "object_type": "annotation",
                               "object_id": "", "details": {"asset_id": aid, "owner": name, "shapes": len(shapes)}, "at": at})
        ann_ids = list(s.scalars(insert(Annotation).returning(Annotation.id), ann_rows))
        shape_rows, reviews = [], []
        n = 0
        for aid, asset in zip(ids, project):
            for _, shapes in asset:
                for pos, sh in enumerate(shapes):
                    shape_rows.append({"annotation_id": ann_ids[n], "asset_id": aid, "label_id": labels[sh.label],
                                       "position": pos, "kind": sh.kind, "attributes": {},
                                       "geometry": json.loads(json.dumps(sh.geometry))})  # numpy floats to floats
                if n % 30 == 0:
                    reviews.append({"annotation_id": ann_ids[n], "revision": 1, "verdict": "accept", "reason": "",
                                    "reviewer_id": users["rev"], "created_at": ann_rows[n]["updated_at"]})
                n += 1
        for i in range(0, len(shape_rows), 50_000):
            s.execute(insert(ShapeRow), shape_rows[i:i + 50_000])
        s.execute(insert(AuditEvent), events)
        s.execute(insert(Review), reviews)
        assert s.scalar(select(Project.id).where(Project.id == pid)) == pid
    return db, pid


def run_dashboard(project) -> tuple[float, list[tuple[float, float]], dict]:
    """Seconds to build the database (not part of the figure), and (wall, CPU) seconds of the
    dashboard answer, cold and then again with nothing changed."""
    from limner.quality.dashboard import project_quality
    from limner.store.models import Project

    t0 = time.perf_counter()
    db, pid = build_dashboard_db(project, OUT / "quality-dashboard")
    built = time.perf_counter() - t0
    times = []
    for _ in range(2):  # cold, then with the agreement kept from the first answer
        t0, c0 = time.perf_counter(), time.process_time()
        with db.read() as s:
            answer = project_quality(s, s.get(Project, pid))
        times.append((time.perf_counter() - t0, time.process_time() - c0))
    # the project's consensus read from the database, merged and written back (the job's work)
    from limner.quality.project_consensus import project_consensus

    t0, c0 = time.perf_counter(), time.process_time()
    result = project_consensus(db, pid)
    times.append((time.perf_counter() - t0, time.process_time() - c0))
    answer = {**answer, "_consensus": result}
    db.dispose()
    shutil.rmtree(OUT / "quality-dashboard", ignore_errors=True)
    return built, times, answer


# -- limner check on the big project ----------------------------------------------------------------


def check_database(quick: bool) -> tuple[Path, dict, str]:
    """The cached api.py data dir: full size if cached (or asked for), else the quick one."""
    full = api_bench.SIZES["full"]
    cached_full = OUT / f"db-v{api_bench.DATA_VERSION}-{full['assets']}a-{full['shapes']}s" / "meta.json"
    exe = api_bench.limner_exe(None)
    if not quick and cached_full.exists():
        data, meta = api_bench.cached_db(full, exe, rebuild=False)
        return data, meta, "full"
    if not quick:
        say("note: the full-size database of benchmarks/api.py is not cached; using the --quick size "
            "(10,000 assets / 100,000 shapes) instead of building the full one here")
    data, meta = api_bench.cached_db(api_bench.SIZES["quick"], exe, rebuild=False)
    return data, meta, "quick"


def json_decode_figures(db_file: Path) -> tuple[float, float, int]:
    """Seconds to decode every shape's geometry with json.loads and with orjson.loads."""
    import orjson

    with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True) as conn:
        texts = [r[0] for r in conn.execute("SELECT geometry FROM shapes")]
    t0 = time.perf_counter()
    for t in texts:
        json.loads(t)
    std = time.perf_counter() - t0
    t0 = time.perf_counter()
    for t in texts:
        orjson.loads(t)
    fast = time.perf_counter() - t0
    return std, fast, len(texts)


def run_check(exe: str, data: Path, run_dir: Path) -> tuple[float, float | None, dict]:
    """One `limner check --json` on a fresh copy of the data dir: wall s, peak RSS MB, report."""
    work = run_dir / "data"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(data, work)
    cmd = [exe, "check", "1", "--data-dir", str(work), "--json"]
    timed = Path("/usr/bin/time").exists()
    if timed:
        cmd = ["/usr/bin/time", "-f", "%M", "-o", str(run_dir / "time.txt"), *cmd]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIMNER_")}
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stderr[-3000:]}")
    rss = float((run_dir / "time.txt").read_text().split()[-1]) / 1024 if timed else None
    return wall, rss, json.loads(p.stdout)


# -- main ------------------------------------------------------------------------------------------


def print_table(rows: list[Row]) -> None:
    head = ("figure", "value", "target", "met", "detail")
    table = [
        (r.figure, f"{r.value:.2f} {r.unit}" if r.value < 100 else f"{r.value:,.0f} {r.unit}",
         "" if r.target is None else f"< {r.target:g} {r.unit}", r.met, r.detail)
        for r in rows
    ]
    widths = [max(len(str(x[i])) for x in [head, *table]) for i in range(len(head) - 1)]
    line = "  ".join("-" * w for w in widths) + "  " + "-" * 40
    say(line)
    say("  ".join(h.ljust(w) for h, w in zip(head, widths)) + "  " + head[-1])
    say(line)
    for t in table:
        say("  ".join(str(x).ljust(w) for x, w in zip(t, widths)) + "  " + t[-1])
    say(line)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1,000 assets in memory and the quick database for limner check")
    ap.add_argument("--assets", type=int, help="assets in the in-memory project (default 10,000; --quick 1,000)")
    ap.add_argument("--skip-check", action="store_true", help="do not time limner check")
    ap.add_argument("--skip-dashboard", action="store_true", help="do not time the dashboard answer")
    ap.add_argument("--runs", type=int, default=2, help="limner check runs (default 2)")
    ap.add_argument("--profile", action="store_true", help="run the consensus step again under cProfile")
    args = ap.parse_args()
    n_assets = args.assets or (1000 if args.quick else 10_000)
    rows: list[Row] = []
    say(f"Limner quality benchmark: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {api_bench.machine_load()}")

    t0 = time.perf_counter()
    project = make_project(n_assets)
    n_shapes = sum(len(s) for a in project for _, s in a)
    say(f"built {n_assets:,} assets x {len(ANNOTATORS)} annotators in memory: {n_shapes:,} shapes "
        f"({time.perf_counter() - t0:.1f} s, not timed); peak RSS {peak_rss_mb():.0f} MB")

    agreement = run_agreement(project)
    if agreement is None:
        say("limner.quality.matching is not installed: agreement is not measured, consensus alone is")
        t_agree = 0.0
    else:
        t_agree, detail = agreement
        rows.append(Row("agreement (match_assets + sum_matches)", t_agree, "s", detail=detail))
        say(f"agreement: {t_agree:.2f} s ({detail}); peak RSS {peak_rss_mb():.0f} MB")

    t_cons, c = run_consensus(project)
    rss = peak_rss_mb()
    rows.append(Row(
        "consensus, every asset (consensus_many)", t_cons, "s",
        detail=f"CPU {c['cpu']:.2f} s; {1000 * t_cons / n_assets:.2f} ms/asset; {c['shapes']:,} shapes out, {c['dropped']:,} clusters below "
               f"quorum, {c['ties']:,} label ties, {c['empty']} empty votes; peak RSS {rss:.0f} MB",
    ))
    say(f"consensus: {t_cons:.2f} s; peak RSS {rss:.0f} MB")
    t_box, cb = run_consensus(boxes_only(project))
    rows.append(Row("  of which the boxes (consensus on boxes alone)", t_box, "s",
                    detail=f"CPU {cb['cpu']:.2f} s; the rest, {t_cons - t_box:.1f} s, is the polygons' clusters and "
                           "their exact majority vote"))
    total = t_agree + t_cons
    what = "agreement + consensus" if agreement is not None else "consensus (no agreement module)"
    rows.append(Row(f"{what}, {n_assets:,} assets x 3 x ~10 shapes", total, "s", TARGET_SECONDS,
                    detail=f"peak RSS {peak_rss_mb():.0f} MB (includes the in-memory project)"))
    if not args.skip_dashboard:
        built, times, answer = run_dashboard(project)
        (t_dash, cpu_dash), (t_warm, cpu_warm), (t_pc, cpu_pc) = times
        pair = answer["agreement"]["pairs"][0] if answer["agreement"]["pairs"] else {}
        gts = [a["ground_truth"]["accuracy"] for a in answer["annotators"] if a["ground_truth"]]
        rows.append(Row(
            f"dashboard answer (GET /projects/{{id}}/quality), {n_assets:,} assets", t_dash, "s",
            detail=f"CPU {cpu_dash:.2f} s; again, nothing changed: {t_warm:.2f} s (CPU {cpu_warm:.2f} s); "
                   f"from SQLite built in {built:.0f} s (not timed); {answer['agreement']['assets']:,} assets compared, "
                   f"{pair.get('a')}-{pair.get('b')} F1 {pair.get('f1')}; ground-truth accuracy {gts}; peak RSS {peak_rss_mb():.0f} MB",
        ))
        say(f"dashboard: {t_dash:.2f} s; peak RSS {peak_rss_mb():.0f} MB")
        pc = answer["_consensus"]
        rows.append(Row(
            f"project consensus read, merged and written (limner consensus), {n_assets:,} assets", t_pc, "s",
            detail=f"CPU {cpu_pc:.2f} s; {pc['merged']:,} assets merged, {pc['shapes']:,} shapes written, "
                   f"{pc['below_quorum']:,} clusters below the quorum",
        ))
        say(f"project consensus: {t_pc:.2f} s")
    if args.profile:
        import cProfile
        import pstats

        from limner.quality.consensus import consensus_many

        prof = cProfile.Profile()
        prof.enable()
        part = project[: max(1, n_assets // 10)]
        consensus_many(part, sizes=[(H, W)] * len(part))
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
    del project

    if not args.skip_check:
        data, meta, size = check_database(args.quick)
        exe = api_bench.limner_exe(None)
        run_dir = OUT / f"quality-run-{size}"
        run_dir.mkdir(parents=True, exist_ok=True)
        std, fast, n = json_decode_figures(data / "limner.db")
        for k in range(args.runs):
            wall, crss, rep = run_check(exe, data, run_dir)
            counts = ", ".join(f"{r} {v:,}" for r, v in rep["counts"].items() if v) or "no findings"
            rows.append(Row(
                f"limner check, {meta['assets']:,} assets / {meta['shapes']:,} shapes (run {k + 1})", wall, "s",
                detail=f"read {rep.get('read_seconds', float('nan')):.1f} s + checks {rep['seconds']:.1f} s + start-up; "
                       f"peak RSS {'n/a' if crss is None else f'{crss:,.0f} MB'}; {counts}",
            ))
            say(f"limner check run {k + 1}: {wall:.1f} s")
        rows.append(Row(f"  decoding {n:,} geometries: json.loads", std, "s",
                        detail=f"orjson.loads {fast:.1f} s ({std / fast:.1f}x faster)"))
        shutil.rmtree(run_dir / "data", ignore_errors=True)

    say()
    say(f"Limner quality benchmark, {os.cpu_count()} CPUs, {api_bench.machine_load()}")
    print_table(rows)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("\ninterrupted")
        sys.exit(130)
