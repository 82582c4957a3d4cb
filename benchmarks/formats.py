"""Format-conversion benchmark: `limner convert` against datumaro and supervision, and a COCO file
imported into a project (SQLite) and exported back.

Prints one table; nothing is asserted. Every figure is a whole process (interpreter start, imports,
reading, writing) run as a subprocess, median of ``--reps`` runs (default 3):

- wall time: ``time.perf_counter()`` around the process, from spawn to exit;
- CPU time: user + system of the process (GNU time's %U + %S), steadier than wall time on a busy
  machine;
- peak RSS: GNU ``/usr/bin/time -f %M`` (``apt-get install -y time``), i.e. the ``ru_maxrss`` the
  kernel keeps for the process and returns to ``wait4``: the high-water mark of its resident set,
  exact and with no polling (the same number as ``VmHWM`` just before exit). ``time`` is a small C
  program, so the fork it makes adds nothing to the figure; a fork of this (big) Python process
  would, as the kernel carries the pre-exec memory's high-water mark into ``ru_maxrss``.

Conversions, output images off for every tool (Limner's ``--include-images`` off, datumaro's
``save_media=False``, supervision's ``images_directory_path=None``):

=============== ======================================== =================================== ==================================
conversion      Limner                                   datumaro (its Python API)           supervision
=============== ======================================== =================================== ==================================
COCO -> YOLO    ``limner convert SRC OUT --to yolo``     ``export(out, "yolo")``             ``as_yolo(annotations_directory_path=…)``
COCO -> VOC     ``--to voc_detection``                   ``export(out, "voc_detection")``    ``as_pascal_voc(annotations_directory_path=…)``
COCO -> CVAT    ``--to cvat``                            ``export(out, "cvat")``             n/a: supervision has no CVAT writer
=============== ======================================== =================================== ==================================

every Limner command with ``--from coco``; datumaro reads with ``Dataset.import_from(SRC,
"coco_instances")``, supervision with ``DetectionDataset.from_coco(IMAGES, JSON, force_masks=False)``.
The datumaro CLI (``datum convert``) needs the ``datumaro[cli]`` extras (tensorboardX, scipy,
matplotlib, ...); its Python API is the same converter without them. VOC is the detection part
(XML + ImageSets/Main) for both Limner and datumaro: supervision writes only that, and the full
``voc`` of either tool also paints two 1280x720 segmentation PNGs per image.

The data (generated once, cached in ``benchmarks/out/``, gitignored): a COCO instances file of
20,000 images (1280x720; ``--quick``: 2,000) and 200,000 annotations (``--quick``: 20,000), 10 per
image on average, 80 categories. Like COCO's own ground truth, every annotation has a ``bbox`` and a
``segmentation``: one polygon of 8-40 vertices (2 decimals, inside the image) for 99 %, an
uncompressed RLE (``iscrowd`` 1, an ellipse) for 1 %; bbox and area agree with the segmentation.

Two inputs:

- ``polygons``: that file, for Limner and datumaro;
- ``boxes``: the same file with every ``segmentation`` emptied (bboxes unchanged), for supervision
  and, for its ratio, Limner again. supervision 0.31's ``from_coco`` rasterises any non-empty
  ``segmentation`` into a dense HxW bool mask per annotation even with ``force_masks=False``
  (``_with_seg_mask`` in supervision/dataset/formats/coco.py): 200,000 x 1280 x 720 bytes = 184 GB
  on this 24 GB machine. The boxes input is the detection-only use it can run.

The images: supervision's YOLO and VOC writers iterate ``(path, image, detections)``, decoding every
image, and normalise by the decoded size, not the JSON's, so real 1280x720 images must exist. One
small, valid 1280x720 JPEG (a flat grey, 15 KB) is hard-linked under every file name: right size,
no disk. A flat grey decodes faster than a photo, which flatters supervision a little. All three
tools are given the same folder, ``coco/images/default/`` (the ``boxes`` input links to it);
Limner and datumaro only list it.

supervision's venv also gets ``opencv-python-headless``: supervision 0.31 declares no OpenCV
dependency and without one warns that it uses "its pure NumPy fallback backend ... Install
opencv-python for full performance" (4x slower here: it decodes every image while writing).

Project round trip (Limner only): a data dir with a project whose assets are rows made with
``limner.store.assets.insert_assets`` (names = the COCO file names, 1280x720, fake checksums),
built once and cached; the storage keys are hard links to one grey JPEG in a media folder shared
by the runs (``LIMNER_MEDIA_URL``), since ``limner export`` looks up every asset's file even
without ``--include-images``. Each run copies the data dir, then times
``limner import PROJECT coco --no-images`` (matches the items to the assets by name) and
``limner export PROJECT OUT --format coco``, reported as annotations per second.

What each tool wrote is checked after the runs (files, objects, and for YOLO and VOC how many
written boxes match a source bbox of the same class within half a pixel for YOLO, 1.5 px for VOC's
1-based integer corners), so the table compares like with like.

Run: ``python benchmarks/formats.py --quick`` (2,000 images; the first run makes the venvs),
``python benchmarks/formats.py`` (full size), ``--tools limner,datumaro``, ``--reps 5``,
``--parts convert`` or ``--parts project``, ``--profile`` (each Limner command once more under
cProfile, hot functions printed), ``--snapshot`` (Limner as committed: ``git archive HEAD src`` into
the run folder, first on PYTHONPATH, so others' uncommitted edits to the shared working tree cannot
change Limner mid-run; the source's digest is printed at the start and the end either way),
``--rebuild``, ``--only yolo,voc,cvat`` (some conversions), ``--scratch DIR`` (where the
conversions write: /dev/shm by default where it exists, for every tool alike, since creating the
20,000 label files on this kind of shared VM disk took from 0.5 to 9 s of kernel time, swamping
the tools' own work; ``--scratch ''`` writes into the run folder; either way each run prints what a
bare loop takes to create the files there). The venvs are ``benchmarks/out/venv-datumaro`` and
``benchmarks/out/venv-supervision`` (pinned versions below; ``pip install --only-binary :all:``).
"""

from __future__ import annotations

import argparse
import atexit
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
DATA_VERSION = 1  # bump when the generated dataset changes
PROJECT_VERSION = 3  # bump when the cached project data dir changes
DATUMARO = ("datumaro", "1.13.12", ())
# supervision declares no OpenCV dependency and, without one, warns that it falls back to a pure NumPy
# backend "slower ... Install opencv-python for full performance": 4x slower here, so it gets OpenCV
SUPERVISION = ("supervision", "0.31.2", ("opencv-python-headless==4.14.0.94",))
TIME = "/usr/bin/time"
W, H = 1280, 720
N_CATEGORIES = 80
CROWD_SHARE = 0.01
SIZES = {"full": (20_000, 200_000), "quick": (2_000, 20_000)}
TARGETS = {"datumaro": 5.0, "supervision": 2.0}
PROJECT = "formats-bench"
TIMEOUT = 3600  # seconds, per process

CONVERSIONS = [  # (key, title, limner format, datumaro format, supervision writer or None)
    ("yolo", "COCO -> YOLO", "yolo", "yolo", "yolo"),
    ("voc", "COCO -> Pascal VOC", "voc_detection", "voc_detection", "voc"),
    ("cvat", "COCO -> CVAT XML", "cvat", "cvat", None),
]

DATUMARO_CODE = """\
import sys
from datumaro.components.dataset import Dataset
src, out, fmt = sys.argv[1:4]
ds = Dataset.import_from(src, "coco_instances")
ds.export(out, fmt, save_media=False)
"""

SUPERVISION_CODE = """\
import os, sys
import supervision as sv
images, annotations, out, fmt = sys.argv[1:5]
ds = sv.DetectionDataset.from_coco(images_directory_path=images, annotations_path=annotations, force_masks=False)
if fmt == "yolo":
    ds.as_yolo(annotations_directory_path=os.path.join(out, "labels"), data_yaml_path=os.path.join(out, "data.yaml"))
else:
    ds.as_pascal_voc(annotations_directory_path=os.path.join(out, "Annotations"))
"""


def say(msg: str = "") -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------------------------
# subprocesses: each in its own session, stopped on exit / Ctrl-C / SIGTERM

_PROCS: list[subprocess.Popen] = []


def _stop(p: subprocess.Popen) -> None:
    if p.poll() is None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                break
            try:
                p.wait(5)
                break
            except subprocess.TimeoutExpired:
                continue
    if p in _PROCS:
        _PROCS.remove(p)


atexit.register(lambda: [_stop(p) for p in list(_PROCS)])


def _on_term(signum, _frame):
    raise SystemExit(128 + signum)


signal.signal(signal.SIGTERM, _on_term)
signal.signal(signal.SIGHUP, _on_term)
signal.signal(signal.SIGINT, signal.default_int_handler)


def run_checked(cmd: list[str], log: Path, **kw) -> str:
    """Run a setup command (not measured); returns its output, raises with the tail on failure."""
    with log.open("ab") as fh:
        fh.write(("\n$ " + " ".join(cmd) + "\n").encode())
    p = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, **kw)
    with log.open("a") as fh:
        fh.write(p.stdout + p.stderr)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}:\n{(p.stdout + p.stderr)[-3000:]}")
    return p.stdout


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    rc: int


def measure(cmd: list[str], log: Path, env: dict | None = None) -> Run:
    """One whole process under GNU time: wall (perf_counter), CPU (user+sys) and peak RSS."""
    os.sync()  # the previous run's dirty pages are not written back during this one
    fd, tf = tempfile.mkstemp(prefix="time-", suffix=".txt")
    os.close(fd)
    try:
        with log.open("ab") as fh:
            fh.write(("\n$ " + " ".join(cmd) + "\n").encode())
            fh.flush()
            t0 = time.perf_counter()
            p = subprocess.Popen(
                [TIME, "-f", "%M %U %S %x", "-o", tf, *cmd],
                stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                env=None if env is None else {**os.environ, **env},
            )
            _PROCS.append(p)
            try:
                rc = p.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                _stop(p)
                rc = -9
            wall = time.perf_counter() - t0
            if p in _PROCS:
                _PROCS.remove(p)
        last = Path(tf).read_text().strip().splitlines()[-1:] or ["0 0 0 -1"]
        parts = last[0].split()
        if len(parts) == 4 and rc != -9:
            rss_kb, user, sys_, rc = int(parts[0]), float(parts[1]), float(parts[2]), int(parts[3])
        else:  # killed by a signal: time prints "Command terminated by signal N" and no figures
            rss_kb, user, sys_ = 0, 0.0, 0.0
            rc = rc or -1
        return Run(wall, user + sys_, rss_kb / 1024, rc)
    finally:
        Path(tf).unlink(missing_ok=True)


def machine_load() -> str:
    out = "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())
    try:
        psi = Path("/proc/pressure/cpu").read_text().split()[2].split("=")[1]
        out += f", CPU pressure {psi}% (some, 60 s)"
    except (OSError, IndexError):
        pass
    return out


def limner_source() -> tuple[Path, str]:
    """The limner package the subprocesses import (PYTHONPATH included) and a digest of its .py files."""
    import hashlib

    out = subprocess.run([sys.executable, "-c", "import limner; print(limner.__file__)"], capture_output=True, text=True)
    pkg = Path(out.stdout.strip()).parent
    h = hashlib.sha1()
    for f in sorted(pkg.rglob("*.py")):
        h.update(f.relative_to(pkg).as_posix().encode())
        h.update(f.read_bytes())
    return pkg, h.hexdigest()[:12]


def describe_source(pkg: Path) -> str:
    head = subprocess.run(["git", "-C", str(pkg), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        return f"{pkg} (not a git checkout)"
    dirty = subprocess.run(["git", "-C", str(pkg), "status", "--porcelain", "--", "."], capture_output=True, text=True)
    n = len([ln for ln in dirty.stdout.splitlines() if ln.strip()])
    return f"{pkg} at git {head.stdout.strip()}" + (f" + {n} uncommitted changed files under it" if n else ", clean")


def snapshot_head(run_dir: Path, log: Path) -> Path:
    """The committed src/ (git HEAD) exported to run_dir/limner-head; PYTHONPATH points there."""
    repo = HERE.parent
    dest = run_dir / "limner-head"
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(repo), "archive", "HEAD", "src"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    # byte-compiled now, as an installed package is, not during the first timed run
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(dest / "src")], check=True)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(dest / "src"), os.environ.get("PYTHONPATH")]))
    return dest / "src"


def limner_exe() -> str:
    beside = Path(sys.executable).parent / "limner"
    return str(beside) if beside.exists() else (shutil.which("limner") or "limner")


# --------------------------------------------------------------------------------------------
# the dataset


def _polygons(rng: np.random.Generator, n: int) -> tuple[list, np.ndarray, np.ndarray]:
    """n star-ish polygons of 8-40 vertices inside the image: (flat coordinate lists, bboxes, areas)."""
    ks = rng.integers(8, 41, n)
    flat: list = [None] * n
    bboxes = np.zeros((n, 4))
    areas = np.zeros(n)
    for k in np.unique(ks):
        idx = np.nonzero(ks == k)[0]
        m = len(idx)
        r = np.exp(rng.uniform(np.log(6), np.log(180), m))[:, None]
        cx = rng.uniform(0, 1, m)[:, None] * (W - 2 * r - 2) + r + 1
        cy = rng.uniform(0, 1, m)[:, None] * (H - 2 * r - 2) + r + 1
        a = np.linspace(0, 2 * np.pi, k, endpoint=False)[None, :] + rng.uniform(0, 2 * np.pi, (m, 1))
        rad = r * rng.uniform(0.55, 1.0, (m, k))
        xs = (cx + rad * np.cos(a)).round(2)
        ys = (cy + rad * np.sin(a)).round(2)
        x0, y0 = xs.min(1), ys.min(1)
        bboxes[idx] = np.stack([x0, y0, (xs.max(1) - x0).round(2), (ys.max(1) - y0).round(2)], axis=1)
        areas[idx] = (np.abs((xs * np.roll(ys, -1, 1)).sum(1) - (np.roll(xs, -1, 1) * ys).sum(1)) / 2).round(2)
        pts = np.stack([xs, ys], axis=-1).reshape(m, 2 * k).tolist()
        for j, i in enumerate(idx):
            flat[i] = pts[j]
    return flat, bboxes, areas


def _crowd_rle(rng: np.random.Generator) -> tuple[dict, list[float], float]:
    """An ellipse as COCO ground truth stores crowds: uncompressed RLE, column-major runs."""
    a, b = rng.uniform(20, 200), rng.uniform(20, 150)
    cx, cy = rng.uniform(a + 1, W - a - 1), rng.uniform(b + 1, H - b - 1)
    cols = np.arange(W) + 0.5
    t = 1 - ((cols - cx) / a) ** 2
    half = np.where(t > 0, b * np.sqrt(np.clip(t, 0, None)), -1.0)
    lo = np.ceil(cy - half - 0.5).astype(int)
    hi = np.floor(cy + half - 0.5).astype(int) + 1
    counts: list[int] = []
    zeros = 0
    xs_on = []
    for c in range(W):
        if half[c] < 0 or hi[c] <= lo[c]:
            zeros += H
            continue
        zeros += int(lo[c])
        counts += [zeros, int(hi[c] - lo[c])]
        zeros = H - int(hi[c])
        xs_on.append(c)
    if zeros:
        counts.append(zeros)
    on = np.array(xs_on)
    y0, y1 = int(lo[on].min()), int(hi[on].max())
    bbox = [float(on[0]), float(y0), float(on[-1] + 1 - on[0]), float(y1 - y0)]
    area = float(sum(counts[1::2]))
    return {"counts": counts, "size": [H, W]}, bbox, area


def _jpeg(path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (W, H), (118, 118, 118)).save(path, "JPEG", quality=75)


def dataset_dir(n_images: int) -> Path:
    return OUT / f"formats-data-v{DATA_VERSION}-{n_images}i"


def build_dataset(root: Path, n_images: int, n_anns: int) -> dict:
    """Write root/coco (polygons + RLE crowds) and root/coco-boxes (segmentations emptied)."""
    import orjson

    t0 = time.perf_counter()
    rng = np.random.default_rng(20240607)
    if root.exists():
        shutil.rmtree(root)
    images_dir = root / "coco" / "images" / "default"
    images_dir.mkdir(parents=True)
    (root / "coco" / "annotations").mkdir()
    supers = ["vehicle", "animal", "food", "furniture", "kitchen", "sports", "electronic", "outdoor"]
    categories = [
        {"id": i + 1, "name": f"class_{i:02d}", "supercategory": supers[i % len(supers)]} for i in range(N_CATEGORIES)
    ]
    names = [f"{i:012d}.jpg" for i in range(1, n_images + 1)]
    images = [
        {"id": i + 1, "file_name": fn, "width": W, "height": H, "license": 1, "date_captured": "2024-06-07 12:00:00"}
        for i, fn in enumerate(names)
    ]
    per_image = rng.multinomial(n_anns, np.full(n_images, 1.0 / n_images))
    image_ids = np.repeat(np.arange(1, n_images + 1), per_image)
    cat_ids = rng.integers(1, N_CATEGORIES + 1, n_anns)
    crowd = rng.random(n_anns) < CROWD_SHARE
    flat, bboxes, areas = _polygons(rng, int((~crowd).sum()))
    polys = iter(range(len(flat)))
    anns = []
    for j in range(n_anns):
        if crowd[j]:
            seg, bbox, area = _crowd_rle(rng)
        else:
            p = next(polys)
            seg, bbox, area = [flat[p]], bboxes[p].tolist(), float(areas[p])
        anns.append(
            {"id": j + 1, "image_id": int(image_ids[j]), "category_id": int(cat_ids[j]), "segmentation": seg,
             "area": area, "bbox": bbox, "iscrowd": int(crowd[j])}
        )  # fmt: skip
    head = {
        "info": {"description": "Limner formats benchmark (synthetic)", "version": "1.0", "year": 2024},
        "licenses": [{"id": 1, "name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"}],
    }
    doc = {**head, "images": images, "annotations": anns, "categories": categories}
    (root / "coco" / "annotations" / "instances_default.json").write_bytes(orjson.dumps(doc))
    for a in anns:
        a["segmentation"] = []
    boxes = root / "coco-boxes"
    (boxes / "annotations").mkdir(parents=True)
    (boxes / "annotations" / "instances_default.json").write_bytes(orjson.dumps(doc))
    os.symlink("../coco/images", boxes / "images")
    base = root / "grey-1280x720.jpg"
    _jpeg(base)
    linked = True
    for fn in names:
        try:
            os.link(base, images_dir / fn)
        except OSError:  # no hard links here (or too many): copies, 1 JPEG's bytes each
            shutil.copyfile(base, images_dir / fn)
            linked = False
    meta = {
        "images": n_images,
        "annotations": n_anns,
        "crowd": int(crowd.sum()),
        "polygons": len(flat),
        "vertices": int(sum(len(f) for f in flat) // 2),
        "json_mb": round((root / "coco" / "annotations" / "instances_default.json").stat().st_size / 2**20, 1),
        "boxes_json_mb": round((boxes / "annotations" / "instances_default.json").stat().st_size / 2**20, 1),
        "jpeg_bytes": base.stat().st_size,
        "hard_links": linked,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    import json

    (root / "meta.json").write_text(json.dumps(meta, indent=1))
    return meta


def cached_dataset(n_images: int, n_anns: int, rebuild: bool) -> tuple[Path, dict]:
    import json

    root = dataset_dir(n_images)
    meta_file = root / "meta.json"
    if not rebuild and meta_file.exists():
        meta = json.loads(meta_file.read_text())
        if meta.get("annotations") == n_anns:
            say(f"dataset: cached in {root.relative_to(HERE.parent)}")
            return root, meta
    say(f"dataset: generating {n_images:,} images / {n_anns:,} annotations in {root.relative_to(HERE.parent)} ...")
    meta = build_dataset(root, n_images, n_anns)
    say(f"  done in {meta['seconds']} s")
    return root, meta


# --------------------------------------------------------------------------------------------
# the other tools' virtualenvs


def ensure_venv(package: str, version: str, extras: tuple[str, ...], log: Path) -> tuple[Path, str]:
    """benchmarks/out/venv-<package> with package==version and the pinned extras (binary wheels
    only); returns (its python, the versions installed)."""
    venv = OUT / f"venv-{package}"
    py = venv / "bin" / "python"
    wanted = [f"{package}=={version}", *extras]
    names = [w.split("==")[0] for w in wanted]
    probe = (
        "import importlib.metadata as m, sys; "
        f"print(' '.join(m.version(n) for n in {names + ['numpy']!r}), sys.version.split()[0])"
    )

    def installed() -> list[str] | None:
        if not py.exists():
            return None
        p = subprocess.run([str(py), "-c", probe], capture_output=True, text=True)
        return p.stdout.split() if p.returncode == 0 else None

    got = installed()
    if got is None or any(w.split("==")[1] != v for w, v in zip(wanted, got)):
        say(f"venv: installing {' '.join(wanted)} into {venv.relative_to(HERE.parent)} (pip, binary wheels only) ...")
        if not py.exists():
            run_checked([sys.executable, "-m", "venv", str(venv)], log)
        run_checked(
            [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--only-binary", ":all:", *wanted],
            log,
        )
        got = installed()
        if got is None:
            raise RuntimeError(f"{package} does not import in {venv}; see {log}")
    extra = "".join(f", {n} {v}" for n, v in zip(names[1:], got[1:]))
    return py, f"{package} {got[0]} (numpy {got[-2]}{extra}, Python {got[-1]})"


# --------------------------------------------------------------------------------------------
# the project (SQLite) for the import / export figures


def build_project(dd: Path, media: Path, names: list[str], exe: str, log: Path) -> None:
    """A data dir with the project and one asset row per image; each row's storage key is a hard
    link, in the media folder, to one grey JPEG (an export looks every asset's file up)."""
    from limner.settings import load_settings
    from limner.store.assets import insert_assets
    from limner.store.db import Database
    from limner.store.models import Project
    from sqlalchemy import select

    for d in (dd, media):
        if d.exists():
            shutil.rmtree(d)
    media.mkdir(parents=True)
    grey = media / "grey-1280x720.jpg"
    _jpeg(grey)
    run_checked([exe, "projects", "create", PROJECT, "--description", "benchmarks/formats.py", "--data-dir", str(dd)], log)
    db = Database(load_settings(data_dir=str(dd)).db_url)
    try:
        with db.write() as s:
            pid = s.scalar(select(Project.id).where(Project.name == PROJECT))
            for lo in range(0, len(names), 10_000):
                rows = []
                for k in range(lo, min(lo + 10_000, len(names))):
                    sha = f"{k:064x}"
                    key = f"images/{sha[-2:]}/{sha}.jpg"
                    (media / key).parent.mkdir(parents=True, exist_ok=True)
                    try:
                        os.link(grey, media / key)
                    except OSError:
                        shutil.copyfile(grey, media / key)
                    rows.append({
                        "name": names[k], "storage_key": key, "thumb_key": f"thumbs/{sha[:2]}/{sha}.jpg",
                        "width": W, "height": H, "checksum": sha, "size_bytes": 250_000, "mime": "image/jpeg",
                        "orientation": 1, "meta": {}, "status": "new", "shape_count": 0,
                    })  # fmt: skip
                insert_assets(s, pid, rows, None)
    finally:
        db.dispose()
    with closing(sqlite3.connect(dd / "limner.db")) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def cached_project(root: Path, n_images: int, exe: str, log: Path, rebuild: bool) -> Path:
    """root/project-vN/{data,media}: runs copy data/ (the SQLite DB) and share media/."""
    dd = root / f"project-v{PROJECT_VERSION}"
    if not rebuild and (dd / "READY").exists():
        say(f"project: cached in {dd.relative_to(HERE.parent)}")
        return dd
    say(f"project: creating {PROJECT!r} with {n_images:,} assets (store rows; the media one hard-linked JPEG) ...")
    t0 = time.perf_counter()
    if dd.exists():
        shutil.rmtree(dd)
    build_project(dd / "data", dd / "media", [f"{i:012d}.jpg" for i in range(1, n_images + 1)], exe, log)
    (dd / "READY").write_text("ok\n")
    say(f"  done in {time.perf_counter() - t0:.1f} s")
    return dd


# --------------------------------------------------------------------------------------------
# what the tools wrote


def _expected(coco_json: Path) -> dict[str, list[tuple[str, float, float, float, float]]]:
    import orjson

    doc = orjson.loads(coco_json.read_bytes())
    cats = {c["id"]: c["name"] for c in doc["categories"]}
    stem = {im["id"]: os.path.splitext(im["file_name"])[0] for im in doc["images"]}
    out: dict[str, list] = {s: [] for s in stem.values()}
    for a in doc["annotations"]:
        x, y, w, h = a["bbox"]
        out[stem[a["image_id"]]].append((cats[a["category_id"]], x, y, w, h))
    return out


def _match(expected: list, written: list, tol: float) -> int:
    """Written objects (name, x0, y0, x1, y1) that match a distinct expected one within tol px."""
    left = [(n, x, y, x + w, y + h) for n, x, y, w, h in expected]
    hits = 0
    for n, *b in written:
        for j, (en, *e) in enumerate(left):
            if en == n and all(abs(p - q) <= tol for p, q in zip(b, e)):
                hits += 1
                left.pop(j)
                break
    return hits


def check_yolo(out: Path, expected: dict) -> dict:
    import yaml

    if (out / "data.yaml").exists():
        names = yaml.safe_load((out / "data.yaml").read_text())["names"]
        names = [names[k] for k in sorted(names)] if isinstance(names, dict) else list(names)
    else:
        names = [ln.strip() for ln in (out / "obj.names").read_text().splitlines() if ln.strip()]
    files = objects = hits = 0
    for p in out.rglob("*.txt"):
        if p.parent == out:
            continue  # datumaro's train.txt image list
        files += 1
        written = []
        for line in p.read_text().splitlines():
            v = line.split()
            if not v:
                continue
            objects += 1
            cx, cy, w, h = (float(t) for t in v[1:5])
            written.append((names[int(v[0])], (cx - w / 2) * W, (cy - h / 2) * H, (cx + w / 2) * W, (cy + h / 2) * H))
        hits += _match(expected.get(p.stem, []), written, 0.5)
    return {"files": files, "objects": objects, "match": hits}


def check_voc(out: Path, expected: dict) -> dict:
    import xml.etree.ElementTree as ET

    files = objects = hits = 0
    for p in (out / "Annotations").rglob("*.xml"):
        files += 1
        written = []
        for o in ET.parse(p).getroot().iter("object"):
            objects += 1
            bb = o.find("bndbox")
            x0, y0, x1, y1 = (float(bb.find(k).text) for k in ("xmin", "ymin", "xmax", "ymax"))
            written.append((o.find("name").text, x0, y0, x1, y1))
        hits += _match(expected.get(p.stem, []), written, 1.5)
    return {"files": files, "objects": objects, "match": hits}


def check_cvat(out: Path, _expected: dict) -> dict:
    import xml.etree.ElementTree as ET

    kinds: Counter = Counter()
    files = images = 0
    for p in out.rglob("*.xml"):
        files += 1
        for _, el in ET.iterparse(p):
            if el.tag == "image":
                images += 1
                kinds.update(ch.tag for ch in el)
                el.clear()
    return {"files": files, "images": images, "objects": sum(kinds.values()), "kinds": dict(kinds)}


def check_coco(out: Path) -> dict:
    import orjson

    files = sorted((out / "annotations").glob("*.json"))
    n_img = n_ann = 0
    kinds: Counter = Counter()
    for f in files:
        doc = orjson.loads(f.read_bytes())
        n_img = max(n_img, len(doc.get("images", [])))
        n_ann += len(doc.get("annotations", []))
        for a in doc.get("annotations", []):
            seg = a.get("segmentation")
            kinds["rle" if isinstance(seg, dict) else "polygon" if seg else "bbox only"] += 1
    return {"files": len(files), "images": n_img, "objects": n_ann, "kinds": dict(kinds)}


CHECKS = {"yolo": check_yolo, "voc": check_voc, "cvat": check_cvat}


# --------------------------------------------------------------------------------------------
# the measurements


@dataclass
class Figure:
    runs: list[Run] = field(default_factory=list)
    check: dict | None = None

    @property
    def ok(self) -> bool:
        return bool(self.runs) and all(r.rc == 0 for r in self.runs)

    def med(self, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in self.runs)

    def spread(self) -> str:
        ws = sorted(r.wall for r in self.runs)
        return f"{ws[0]:.1f}-{ws[-1]:.1f}"

    def failed(self) -> str:
        rcs = sorted({r.rc for r in self.runs if r.rc != 0})
        return "failed (exit " + ",".join(str(c) for c in rcs) + (", timeout" if -9 in rcs else "") + ")"


def tool_command(tool: str, conv: tuple, inp: Path, out: Path, py: dict, exe: str) -> list[str] | None:
    key, _title, lim_fmt, dm_fmt, sv_fmt = conv
    if tool == "limner":
        return [exe, "convert", str(inp), str(out), "--to", lim_fmt, "--from", "coco"]
    if tool == "datumaro":
        return [str(py["datumaro"]), "-c", DATUMARO_CODE, str(inp), str(out), dm_fmt]
    if tool == "supervision":
        if sv_fmt is None:
            return None
        return [str(py["supervision"]), "-c", SUPERVISION_CODE, str(inp / "images" / "default"),
                str(inp / "annotations" / "instances_default.json"), str(out), sv_fmt]  # fmt: skip
    raise ValueError(tool)


def file_floor(where: Path, n: int, reps: int) -> float:
    """Median seconds a bare Python loop takes to create ``n`` small files in a new folder under
    ``where`` (what every tool pays to write one label file per image there)."""
    code = ("import os,sys,time\nd=sys.argv[1]; os.makedirs(d)\nt=time.perf_counter()\n"
            "for i in range(int(sys.argv[2])):\n"
            "    fd=os.open(f'{d}/{i:06d}.txt', os.O_WRONLY|os.O_CREAT|os.O_TRUNC, 0o644); os.write(fd, b'0 0.5 0.5 0.1 0.1\\n'*10); os.close(fd)\n"
            "print(time.perf_counter()-t)")
    times = []
    for _ in range(reps):
        d = where / "file-floor"
        shutil.rmtree(d, ignore_errors=True)
        times.append(float(subprocess.run([sys.executable, "-c", code, str(d), str(n)], capture_output=True, text=True, check=True).stdout))
        shutil.rmtree(d, ignore_errors=True)
    return statistics.median(times)


def run_conversions(args, root: Path, run_dir: Path, tools: list[str], py: dict, exe: str, log: Path) -> dict:
    """{(conversion key, input, tool): Figure}; the tools of one repetition run one after the other."""
    inputs = {"polygons": root / "coco", "boxes": root / "coco-boxes"}
    plan = []  # (conv, input name, tool)
    only = {c.strip() for c in args.only.split(",") if c.strip()}
    for conv in CONVERSIONS:
        if only and conv[0] not in only:
            continue
        for tool in tools:
            if tool in ("limner", "datumaro"):
                plan.append((conv, "polygons", tool))
            if tool == "supervision" and conv[4] is not None:
                plan.append((conv, "boxes", tool))
        if "supervision" in tools and "limner" in tools and conv[4] is not None:
            plan.append((conv, "boxes", "limner"))
    figs: dict[tuple, Figure] = defaultdict(Figure)
    for conv in CONVERSIONS:
        steps = [p for p in plan if p[0] is conv]
        if not steps:
            continue
        for rep in range(args.reps):
            for _, inp, tool in steps:
                out = run_dir / f"{conv[0]}-{inp}-{tool}"
                shutil.rmtree(out, ignore_errors=True)
                cmd = tool_command(tool, conv, inputs[inp], out, py, exe)
                r = measure(cmd, log)
                figs[(conv[0], inp, tool)].runs.append(r)
                state = "" if r.rc == 0 else f"  FAILED (exit {r.rc}), see {log}"
                say(f"  {conv[1]:<18} {inp:<8} {tool:<11} run {rep + 1}: {r.wall:7.2f} s wall, {r.cpu:7.2f} s CPU, "
                    f"{r.rss_mb:7.0f} MB peak{state}")  # fmt: skip
    return figs


def run_project(args, root: Path, project: Path, run_dir: Path, exe: str, log: Path, meta: dict) -> dict:
    figs = {"import": Figure(), "export": Figure()}
    coco = root / "coco"
    env = {"LIMNER_MEDIA_URL": str(project / "media")}
    for rep in range(args.reps):
        dd = run_dir / "project"
        shutil.rmtree(dd, ignore_errors=True)
        shutil.copytree(project / "data", dd)
        r = measure([exe, "import", PROJECT, str(coco), "--no-images", "--data-dir", str(dd)], log, env)
        figs["import"].runs.append(r)
        say(f"  limner import --no-images   run {rep + 1}: {r.wall:7.2f} s wall, {r.cpu:7.2f} s CPU, {r.rss_mb:7.0f} MB peak"
            + ("" if r.rc == 0 else f"  FAILED (exit {r.rc}), see {log}"))  # fmt: skip
        if r.rc != 0:
            continue
        out = run_dir / "export-coco"
        shutil.rmtree(out, ignore_errors=True)
        r = measure([exe, "export", PROJECT, str(out), "--format", "coco", "--data-dir", str(dd)], log, env)
        figs["export"].runs.append(r)
        say(f"  limner export --format coco run {rep + 1}: {r.wall:7.2f} s wall, {r.cpu:7.2f} s CPU, {r.rss_mb:7.0f} MB peak"
            + ("" if r.rc == 0 else f"  FAILED (exit {r.rc}), see {log}"))  # fmt: skip
    if figs["export"].ok:
        figs["export"].check = check_coco(run_dir / "export-coco")
        with closing(sqlite3.connect(run_dir / "project" / "limner.db")) as conn:
            n = conn.execute("SELECT count(*) FROM shapes").fetchone()[0]
        figs["import"].check = {"objects": n}
    return figs


# --------------------------------------------------------------------------------------------
# profiles


_PROFILED = (
    "import cProfile, sys\n"
    "from limner.cli import app\n"
    "out = sys.argv.pop(1)\n"
    "sys.argv[0] = 'limner'\n"
    "p = cProfile.Profile()\n"
    "try:\n"
    "    p.runcall(app)\n"
    "except SystemExit as e:\n"
    "    if e.code not in (0, None):\n"
    "        raise\n"
    "finally:\n"
    "    p.dump_stats(out)\n"
)


def profile_limner(args, root: Path, project: Path, run_dir: Path, log: Path) -> None:
    import pstats

    jobs = []
    for conv in CONVERSIONS if "convert" in args.parts else ():
        out = run_dir / f"profile-{conv[0]}"
        jobs.append((f"convert --to {conv[2]}", ["convert", str(root / "coco"), str(out), "--to", conv[2], "--from", "coco"], out))
    if project is not None and "project" in args.parts:
        dd = run_dir / "profile-project"
        shutil.rmtree(dd, ignore_errors=True)
        shutil.copytree(project / "data", dd)
        jobs.append(("import --no-images", ["import", PROJECT, str(root / "coco"), "--no-images", "--data-dir", str(dd)], None))
        jobs.append(("export --format coco", ["export", PROJECT, str(run_dir / "profile-export"), "--format", "coco", "--data-dir", str(dd)], run_dir / "profile-export"))  # fmt: skip
    for title, argv, out in jobs:
        if out is not None:
            shutil.rmtree(out, ignore_errors=True)
        prof = run_dir / f"profile-{re.sub(r'[^a-z]+', '-', title)}.prof"
        env = {**os.environ, "LIMNER_MEDIA_URL": str(project / "media")} if project is not None else None
        # the command's app, not `python -m limner`: that one ends with os._exit, before cProfile writes
        run_checked([sys.executable, "-c", _PROFILED, str(prof), *argv], log, env=env)
        st = pstats.Stats(str(prof))
        say(f"\nprofile: limner {title} (cProfile, {st.total_tt:.1f} s in Python functions), top 12 by own time:")
        say(f"  {'own s':>7} {'cum s':>7} {'calls':>10}  function")
        rows = sorted(st.stats.items(), key=lambda kv: -kv[1][2])[:12]
        for (file, line, fn), (cc, nc, tt, ct, _callers) in rows:
            where = f"{Path(file).name}:{line}" if line else file
            say(f"  {tt:7.2f} {ct:7.2f} {nc:>10}  {fn} ({where})")
        say(f"  raw profile: {prof}")


# --------------------------------------------------------------------------------------------
# the table


def _s(v: float) -> str:
    return f"{v:.2f}" if v < 10 else f"{v:.1f}"


def _ratio(theirs: float, ours: float) -> str:
    return f"{theirs / ours:.1f}x" if ours > 0 else "-"


def print_tables(figs: dict, proj: dict, tools: list[str], versions: dict, meta: dict, args) -> None:
    say()
    say(f"Format conversions: {meta['images']:,} images (1280x720), {meta['annotations']:,} annotations "
        f"({meta['polygons']:,} polygons of {meta['vertices'] / max(meta['polygons'], 1):.1f} vertices on average, "
        f"{meta['crowd']:,} RLE crowds); whole processes, median of {args.reps}")  # fmt: skip
    head = ("conversion", "input", "Limner s", "Limner CPU s", "Limner MB", "other tool", "their s", "their CPU s",
            "their MB", "time ratio", "target", "met", "memory ratio", "less memory")  # fmt: skip
    table = []
    for conv in CONVERSIONS:
        for tool, inp in (("datumaro", "polygons"), ("supervision", "boxes")):
            if tool not in tools:
                continue
            ours = figs.get((conv[0], inp, "limner"))
            theirs = figs.get((conv[0], inp, tool))
            o = [_s(ours.med("wall")), _s(ours.med("cpu")), f"{ours.med('rss_mb'):.0f}"] if ours and ours.ok else (
                [ours.failed(), "", ""] if ours else ["-", "-", "-"])  # fmt: skip
            if theirs is None and conv[4] is None and tool == "supervision":
                table.append((conv[1], inp, *o, tool, "n/a: no CVAT writer", "", "", "", "", "", "", ""))
                continue
            if theirs is None:
                continue
            if not theirs.ok:
                table.append((conv[1], inp, *o, tool, theirs.failed(), "", "", "", f">={TARGETS[tool]:g}x", "", "", ""))
                continue
            t = [_s(theirs.med("wall")), _s(theirs.med("cpu")), f"{theirs.med('rss_mb'):.0f}"]
            if ours and ours.ok:
                tr = theirs.med("wall") / ours.med("wall")
                mr = theirs.med("rss_mb") / ours.med("rss_mb")
                rest = [_ratio(theirs.med("wall"), ours.med("wall")), f">={TARGETS[tool]:g}x",
                        "yes" if tr >= TARGETS[tool] else "NO", f"{mr:.1f}x", "yes" if mr > 1 else "NO"]  # fmt: skip
            else:
                rest = ["-", f">={TARGETS[tool]:g}x", "", "-", ""]
            table.append((conv[1], inp, *o, tool, *t, *rest))
    if "limner" in tools and not [t for t in tools if t != "limner"]:
        for (key, inp, tool), f in figs.items():
            if tool == "limner" and f.ok:
                title = next(c[1] for c in CONVERSIONS if c[0] == key)
                table.append((title, inp, _s(f.med("wall")), _s(f.med("cpu")), f"{f.med('rss_mb'):.0f}", *[""] * 9))
    for key, what in (("import", "limner import P coco --no-images"), ("export", "limner export P OUT --format coco")):
        f = proj.get(key)
        if f is None:
            continue
        if not f.ok:
            table.append((what, "polygons", f.failed(), "", "", *[""] * 9))
            continue
        rate = meta["annotations"] / f.med("wall")
        table.append((what, "polygons", _s(f.med("wall")), _s(f.med("cpu")), f"{f.med('rss_mb'):.0f}",
                      f"= {rate:,.0f} annotations/s", *[""] * 8))  # fmt: skip
    widths = [max(len(str(x[i])) for x in [head, *table]) for i in range(len(head))]
    line = "  ".join("-" * w for w in widths)
    say(line)
    say("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    say(line)
    for t in table:
        say("  ".join(str(x).ljust(w) for x, w in zip(t, widths)).rstrip())
    theirs = figs.get(("yolo", "polygons", "datumaro"))
    if meta.get("floor") and theirs is not None and theirs.ok:
        say(f"Creating the {meta['images']:,} label files alone took {meta['floor']:.2f} s where they were written (a bare "
            f"loop): a tool doing nothing else could be at most {theirs.med('wall') / meta['floor']:.1f}x faster than "
            "datumaro's COCO -> YOLO there.")
    say(line)
    say("time ratio = their wall time / Limner's, memory ratio = their peak RSS / Limner's (above 1: Limner")
    say("faster / smaller). s = wall seconds, CPU s = user + system seconds, MB = peak RSS (ru_maxrss via GNU time).")
    say("Input 'boxes' = the same file with segmentations emptied: supervision would rasterise every polygon into")
    say(f"a dense {W}x{H} mask ({meta['annotations'] * W * H / 1e9:,.0f} GB for this dataset); Limner is timed on it too for that ratio.")
    say("Versions: " + "; ".join(versions[t] for t in tools if t in versions))

    checks = [(k, f) for k, f in figs.items() if f.check is not None]
    if checks or any(f.check for f in proj.values()):
        say()
        say("What each tool wrote (last run):")
        head2 = ("conversion", "input", "tool", "files", "objects", "match source bbox", "object kinds / notes")
        rows = []
        for (key, inp, tool), f in sorted(checks, key=lambda kv: ([c[0] for c in CONVERSIONS].index(kv[0][0]), kv[0][1], kv[0][2])):
            c = f.check
            title = next(x[1] for x in CONVERSIONS if x[0] == key)
            match = f"{c['match']:,} ({c['match'] / max(c['objects'], 1):.1%})" if "match" in c else ""
            note = ", ".join(f"{k} {v:,}" for k, v in sorted(c.get("kinds", {}).items()))
            if key == "cvat":
                note = f"{c['images']:,} <image>; " + note
            rows.append((title, inp, tool, f"{c['files']:,}", f"{c['objects']:,}", match, note))
        f = proj.get("export")
        if f is not None and f.check:
            c = f.check
            note = f"{c['images']:,} images; " + ", ".join(f"{k} {v:,}" for k, v in sorted(c["kinds"].items()))
            rows.append(("project -> COCO", "polygons", "limner export", f"{c['files']}", f"{c['objects']:,}", "", note))
        f = proj.get("import")
        if f is not None and f.check:
            rows.append(("COCO -> project", "polygons", "limner import", "", f"{f.check['objects']:,}", "", "shape rows in the DB"))
        widths = [max(len(str(x[i])) for x in [head2, *rows]) for i in range(len(head2))]
        line = "  ".join("-" * w for w in widths)
        say(line)
        say("  ".join(h.ljust(w) for h, w in zip(head2, widths)))
        say(line)
        for r in rows:
            say("  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip())
        say(line)
        say(f"Source: {meta['annotations']:,} annotations, each with a bbox; {meta['crowd']:,} of them crowds (iscrowd 1).")
        say("match source bbox: written boxes equal to a source bbox of the same class (YOLO within 0.5 px, VOC 1.5 px).")


# --------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2,000 images / 20,000 annotations")
    ap.add_argument("--tools", default="limner,datumaro,supervision", help="comma-separated: limner,datumaro,supervision")
    ap.add_argument("--parts", default="convert,project", help="comma-separated: convert,project")
    ap.add_argument("--reps", type=int, default=3, help="runs per figure (the median is reported)")
    ap.add_argument("--only", default="", help="comma-separated conversions to run: yolo,voc,cvat (default: all)")
    ap.add_argument(
        "--scratch", default="/dev/shm" if os.path.isdir("/dev/shm") else "",
        help="folder the conversions write into, for every tool alike (default /dev/shm, a RAM disk, where there "
        "is one: creating 20,000 files on a shared VM disk took 0.5 to 9 s of kernel time, more than the tools' "
        "own work); --scratch '' writes into the run folder under benchmarks/out",
    )
    ap.add_argument("--rebuild", action="store_true", help="generate the dataset and the project again")
    ap.add_argument("--profile", action="store_true", help="also run each Limner command under cProfile")
    ap.add_argument(
        "--snapshot", action="store_true",
        help="run Limner as committed (git HEAD, exported to the run folder) rather than the working tree, "
        "so edits made by others during the run do not mix into it",
    )
    args = ap.parse_args()
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    args.parts = parts
    bad = set(tools) - {"limner", "datumaro", "supervision"} or parts - {"convert", "project"}
    if bad:
        ap.error(f"unknown: {', '.join(sorted(bad))}")
    if not Path(TIME).exists():
        ap.error(f"{TIME} is missing: apt-get install -y time (GNU time gives each process's peak RSS)")

    size = "quick" if args.quick else "full"
    n_images, n_anns = SIZES[size]
    exe = limner_exe()
    OUT.mkdir(parents=True, exist_ok=True)
    run_dir = OUT / f"formats-run-{size}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    log = run_dir / "subprocesses.log"
    load0 = machine_load()
    say(f"Limner formats benchmark ({size}): {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {exe}")
    say(f"machine: {load0}")
    if args.snapshot:
        snapshot_head(run_dir, log)
    src_pkg, digest0 = limner_source()
    source = describe_source(src_pkg)
    if args.snapshot:
        source = f"{src_pkg}: --snapshot of git HEAD {source.split(' at git ')[-1].split(',')[0]}"
    say(f"Limner source: {source} (digest {digest0})")
    if os.getloadavg()[0] > 0.5:
        say("note: the machine is busy: wall times will be slower and noisier than on an idle one; CPU s moves less")

    from importlib.metadata import version

    versions = {"limner": f"limner {version('limner')} (numpy {np.__version__}, Python {sys.version.split()[0]})"}
    py: dict[str, Path] = {}
    for name, pkg in (("datumaro", DATUMARO), ("supervision", SUPERVISION)):
        if name in tools and "convert" in parts:
            py[name], versions[name] = ensure_venv(*pkg, log=log)
    for t in tools:
        if t in versions:
            say(f"  {versions[t]}")

    root, meta = cached_dataset(n_images, n_anns, args.rebuild)
    say(f"  {meta['json_mb']} MB instances file ({meta['boxes_json_mb']} MB boxes-only), one {meta['jpeg_bytes']:,}-byte "
        f"1280x720 JPEG {'hard-linked' if meta['hard_links'] else 'copied'} as each image")  # fmt: skip
    for f in (root / "coco" / "annotations" / "instances_default.json", root / "coco-boxes" / "annotations" / "instances_default.json"):
        f.read_bytes()  # into the page cache, the same for every tool
    project = None
    if "project" in parts and "limner" in tools:
        project = cached_project(root, n_images, exe, log, args.rebuild)

    figs: dict = {}
    if "convert" in parts:
        out_dir = run_dir
        if args.scratch:
            out_dir = Path(args.scratch) / f"limner-formats-run-{size}"
            shutil.rmtree(out_dir, ignore_errors=True)
            out_dir.mkdir(parents=True)
        floor = file_floor(out_dir, n_images, 3)
        say(f"\nwriting into {out_dir}: a bare loop creates {n_images:,} small files there in {floor:.2f} s (median of 3), "
            "a cost every tool pays on top of its own work")
        meta["floor"] = floor
        say("conversions (the tools of one repetition in turn):")
        figs = run_conversions(args, root, out_dir, tools, py, exe, log)
        say("checking what each tool wrote ...")
        expected = _expected(root / "coco" / "annotations" / "instances_default.json")
        for (key, inp, tool), f in figs.items():
            out = out_dir / f"{key}-{inp}-{tool}"
            if f.runs and f.runs[-1].rc == 0 and out.exists():
                try:
                    f.check = CHECKS[key](out, expected)
                except Exception as e:  # a layout this checker does not know: say so, keep the timings
                    say(f"  could not check {out}: {type(e).__name__}: {e}")
    proj: dict = {}
    if project is not None:
        say(f"\nproject round trip (SQLite, {PROJECT!r}, a fresh copy of the data dir per run):")
        proj = run_project(args, root, project, run_dir, exe, log, meta)
    if args.profile and "limner" in tools:
        profile_limner(args, root, project, run_dir, log)

    print_tables(figs, proj, tools, versions, meta, args)
    say(f"Machine load at the start: {load0}; at the end: {machine_load()} (2 cores; other work slows wall times).")
    _, digest1 = limner_source()
    say(f"Limner source: {source}, digest {digest0}"
        + (" unchanged during the run." if digest1 == digest0 else
           f" -> {digest1}: CHANGED during the run, the Limner figures mix two versions (--snapshot avoids it)."))
    shutil.rmtree(run_dir / "project", ignore_errors=True)
    shutil.rmtree(run_dir / "profile-project", ignore_errors=True)
    if args.scratch:
        shutil.rmtree(Path(args.scratch) / f"limner-formats-run-{size}", ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("\ninterrupted: stopping the subprocesses")
        sys.exit(130)
