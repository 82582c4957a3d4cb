"""Ingest speed of ``limner.media.probe_image`` on 1280x720 photo-like JPEGs.

Makes 200 JPEGs (smooth gradients plus noise, quality 90) in a temporary folder, then prints
images per second single-threaded and with two worker threads. The target is at least 100
images/s on two cores, thumbnails included. Run: ``python benchmarks/probe_images.py``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from limner.media import probe_image


def make_photos(folder: Path, count: int, size: tuple[int, int] = (1280, 720)) -> list[Path]:
    """Write ``count`` photo-like JPEGs: per-image colour gradients, soft blobs and sensor noise."""
    rng = np.random.default_rng(7)
    width, height = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    paths = []
    for i in range(count):
        base = rng.uniform(40, 200, 3)
        slope = rng.uniform(-0.08, 0.08, (3, 2))
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(80, 300)
        blob = 60 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))
        channels = [base[c] + slope[c, 0] * x + slope[c, 1] * y + blob for c in range(3)]
        rgb = np.stack(channels, axis=-1) + rng.normal(0, 6, (height, width, 3))
        path = folder / f"photo_{i:04d}.jpg"
        Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB").save(path, quality=90)
        paths.append(path)
    return paths


def rate(paths: list[Path], threads: int) -> float:
    """Images per second for probing every path once with ``threads`` workers."""
    start = time.perf_counter()
    if threads == 1:
        for p in paths:
            probe_image(p, p.name)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda p: probe_image(p, p.name), paths))
    return len(paths) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_photos(Path(tmp), args.count)
        mean_kb = sum(p.stat().st_size for p in paths) / len(paths) / 1000
        print(f"{len(paths)} JPEGs 1280x720 quality 90, mean {mean_kb:.0f} kB")
        for p in paths[:20]:  # warm the page cache and Pillow's plugin registry
            probe_image(p, p.name)
        one = rate(paths, 1)
        two = rate(paths, 2)
        print(f"probe_image, 1 thread : {one:7.1f} images/s")
        print(f"probe_image, 2 threads: {two:7.1f} images/s ({two / one:.2f}x)")


if __name__ == "__main__":
    main()
