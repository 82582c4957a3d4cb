"""Detector pre-labelling throughput, images/s, through the real job.

    python benchmarks/assist_prelabel.py            # 60 images of 1024x768
    python benchmarks/assist_prelabel.py --quick    # 20 images
    python benchmarks/assist_prelabel.py --images 200 --side 640

The script builds a small YOLO-shaped ONNX detector (four strided convolutions down to an 80x80
grid, ``(1, 4 + 3, 6400)`` output, about 0.3 GFLOP: lighter than YOLOv8n's 8.7, so the figure shows
the job's own cost more than the network's), a SQLite project of generated JPEG photos in
``benchmarks/out/``, registers the model and runs the ``project.prelabel`` job as the server does.
It prints the job's images/s, the detector alone on the same images (decode excluded), and what
the job adds (decode, schema checks, writes). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out" / "assist_prelabel"


def build_detector(path: Path, side: int, nc: int = 3, seed: int = 0) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    chans = [3, 16, 32, 64, 64]
    nodes, inits = [], []
    x = "images"
    for i in range(4):
        w = (rng.normal(size=(chans[i + 1], chans[i], 3, 3)) * np.sqrt(2 / (9 * chans[i]))).astype(np.float32)
        inits.append(numpy_helper.from_array(w, f"w{i}"))
        nodes.append(helper.make_node("Conv", [x, f"w{i}"], [f"c{i}"], strides=[2, 2], pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"]))
        x = f"r{i}"
    grid = side // 16
    head = (rng.normal(size=(4 + nc, chans[-1], 1, 1)) * 0.05).astype(np.float32)
    bias = np.concatenate([[0, 0, 0, 0], np.full(nc, -1.6)]).astype(np.float32)  # some candidates above 0.25
    inits += [numpy_helper.from_array(head, "head"), numpy_helper.from_array(bias, "bias")]
    nodes.append(helper.make_node("Conv", [x, "head", "bias"], ["raw"]))
    inits.append(numpy_helper.from_array(np.asarray([1, 4 + nc, grid * grid], np.int64), "shape"))
    nodes.append(helper.make_node("Reshape", ["raw", "shape"], ["flat"]))
    for name, (a, b) in {"s0": (0, 4), "s1": (4, 4 + nc)}.items():
        inits += [numpy_helper.from_array(np.asarray([a], np.int64), f"{name}a"),
                  numpy_helper.from_array(np.asarray([b], np.int64), f"{name}b")]  # fmt: skip
    inits.append(numpy_helper.from_array(np.asarray([1], np.int64), "axis1"))
    nodes.append(helper.make_node("Slice", ["flat", "s0a", "s0b", "axis1"], ["boxraw"]))
    nodes.append(helper.make_node("Slice", ["flat", "s1a", "s1b", "axis1"], ["clsraw"]))
    # boxes: centres spread over the grid, sizes 16-160 px
    ys, xs = np.mgrid[:grid, :grid]
    centre = np.stack([xs.ravel() * 16 + 8, ys.ravel() * 16 + 8]).astype(np.float32)[None]
    inits.append(numpy_helper.from_array(centre, "centre"))
    nodes.append(helper.make_node("Sigmoid", ["boxraw"], ["boxsig"]))
    inits.append(numpy_helper.from_array(np.asarray([2], np.int64), "two"))
    nodes += [
        helper.make_node("Slice", ["boxsig", "s0a", "two", "axis1"], ["xy"]),
        helper.make_node("Slice", ["boxsig", "two", "s0b", "axis1"], ["wh"]),
    ]
    inits += [numpy_helper.from_array(np.asarray(16.0, np.float32), "k16"),
              numpy_helper.from_array(np.asarray(160.0, np.float32), "k160")]  # fmt: skip
    nodes += [
        helper.make_node("Mul", ["xy", "k16"], ["dxy"]),
        helper.make_node("Add", ["centre", "dxy"], ["cxy"]),
        helper.make_node("Mul", ["wh", "k160"], ["size"]),
        helper.make_node("Sigmoid", ["clsraw"], ["scores"]),
        helper.make_node("Concat", ["cxy", "size", "scores"], ["output0"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "detector",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, side, side])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 4 + nc, grid * grid])], inits,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    entry = model.metadata_props.add()
    entry.key, entry.value = "names", repr({0: "car", 1: "person", 2: "tree"})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def make_images(folder: Path, n: int, width: int, height: int) -> list[Path]:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    out = []
    for i in range(n):
        p = folder / f"photo{i:04d}.jpg"
        if not p.exists():
            yy, xx = np.mgrid[:height, :width]
            img = np.stack([(xx * 255 // width), (yy * 255 // height), np.full_like(xx, 40 + i % 200)], -1).astype(np.uint8)
            for _ in range(6):
                c = tuple(int(v) for v in rng.integers(0, 255, 3))
                x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
                cv2.circle(img, (x, y), int(rng.integers(20, 120)), c, -1)
            img = cv2.add(img, rng.integers(0, 20, img.shape, dtype=np.uint8))
            cv2.imwrite(str(p), img[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
        out.append(p)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=60)
    ap.add_argument("--quick", action="store_true", help="20 images")
    ap.add_argument("--side", type=int, default=640, help="the detector's input size")
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--height", type=int, default=768)
    args = ap.parse_args()
    n = 20 if args.quick else args.images
    sys.path.insert(0, str(ROOT.parent / "src"))
    from limner.prelabel import asset_image
    from limner.server.app import open_services
    from limner.settings import load_settings
    from limner.store.assistants import create_model, get_model
    from limner.store.jobs import get_job, job_dict
    from limner.store.projects import create_label, create_project
    from limner.store.users import create_user

    OUT.mkdir(parents=True, exist_ok=True)
    print(f"load average at start: {os.getloadavg()}")
    model_path = build_detector(OUT / f"detector-{args.side}.onnx", args.side)
    photos = make_images(OUT / f"photos-{args.width}x{args.height}", n, args.width, args.height)
    data = Path(tempfile.mkdtemp(prefix="run-", dir=OUT))
    try:
        svc = open_services(load_settings({}, data_dir=str(data), workers=2))
        with svc.db.write() as s:
            admin = create_user(s, "admin", None, is_admin=True)
            p = create_project(s, admin, "bench")
            for name in ("car", "person", "tree"):
                create_label(s, p.id, {"name": name, "kinds": ["box", "polygon"]}, admin.id)
            pid, uid = p.id, admin.id
        from limner.ingest import ingest
        from limner.media.sources import expand_sources

        t = time.perf_counter()
        ingest(svc.db, svc.storage, pid, list(expand_sources([str(x) for x in photos], data)), actor_id=uid,
               thumb_size=256, max_bytes=50 << 20, workers=2, total=len(photos))  # fmt: skip
        print(f"ingested {n} images in {time.perf_counter() - t:.1f} s")
        with svc.db.write() as s:
            mid = create_model(s, pid, "bench-det", "detector", "onnx_yolo", {"path": str(model_path)}, uid).id
        t = time.perf_counter()
        job_id, future = svc.runner.submit("project.prelabel", project_id=pid, user_id=uid, params={"model_id": mid})
        future.result()
        wall = time.perf_counter() - t
        with svc.db.read() as s:
            job = job_dict(get_job(s, job_id))
            m = get_model(s, mid)
        if job["status"] != "done":
            raise SystemExit(f"the job ended {job['status']}: {job['error']}")
        r = job["result"]
        # the detector alone on the same decoded images
        from limner.prelabel import load_model
        from limner.store.models import Asset
        from sqlalchemy import select

        detector = load_model(m)
        with svc.db.read() as s:
            keys = s.execute(select(Asset.storage_key, Asset.name).where(Asset.project_id == pid)).all()
        images = [asset_image(svc.storage, k, nm) for k, nm in keys]
        detector.detect(images[0])
        t = time.perf_counter()
        for im in images:
            detector.detect(im)
        alone = time.perf_counter() - t
        svc.runner.shutdown()
        svc.db.dispose()
    finally:
        shutil.rmtree(data, ignore_errors=True)
    print(f"load average at end: {os.getloadavg()}")
    print()
    print(f"{'figure':44} {'value':>10}")
    print(f"{'prelabel job, images/s (job result)':44} {r['images_per_second']:>10.1f}")
    print(f"{'prelabel job, images/s (submit to done)':44} {n / wall:>10.1f}")
    print(f"{'detector alone, images/s (decoded images)':44} {n / alone:>10.1f}")
    print(f"{'job overhead per image, ms':44} {1000 * (wall - alone) / n:>10.1f}")
    print(f"{'shapes written':44} {r['shapes']:>10}")
    print(f"{'images':44} {r['processed']:>10}  ({args.width}x{args.height} JPEG, detector input {args.side})")


if __name__ == "__main__":
    main()
