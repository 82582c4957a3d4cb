"""Synthetic scenes with a known object mask, built in the tests (no files)."""

from __future__ import annotations

import numpy as np


def iou(a: np.ndarray, b: np.ndarray) -> float:
    u = np.count_nonzero(a | b)
    return np.count_nonzero(a & b) / u if u else 1.0


def textured_background(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Grey-green stripes and blobs with pixel noise: texture that is not the object."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w].astype(np.float64)
    base = 0.5 + 0.25 * np.sin(xx / 7.0) * np.cos(yy / 11.0) + 0.1 * np.sin((xx + yy) / 23.0)
    img = np.stack([90 * base + 40, 120 * base + 50, 80 * base + 40], axis=2)
    img += rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def disc_scene(h: int = 240, w: int = 320, cx: float = 160, cy: float = 120, r: float = 60, seed: int = 0):
    """(image, mask): a reddish, lightly noisy disc on a textured background."""
    rng = np.random.default_rng(seed + 1)
    img = textured_background(h, w, seed)
    yy, xx = np.mgrid[:h, :w]
    mask = (xx + 0.5 - cx) ** 2 + (yy + 0.5 - cy) ** 2 <= r * r
    disc = np.array([200.0, 60.0, 50.0]) + rng.normal(0, 3, (h, w, 3))
    img[mask] = np.clip(disc[mask], 0, 255).astype(np.uint8)
    return img, mask


def circle_points(cx: float, cy: float, r: float, n: int) -> list[tuple[float, float]]:
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return [(float(cx + r * np.cos(t)), float(cy + r * np.sin(t))) for t in a]
