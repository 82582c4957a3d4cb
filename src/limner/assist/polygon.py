"""A mask as simplified polygons, holes kept.

Outlines are traced with ``cv2.findContours`` on a lattice of pixel corners, so vertices sit on
pixel borders and a polygon traced at tolerance 0 covers exactly the mask's pixels; they are then
simplified with ``cv2.approxPolyDP`` (Douglas-Peucker) at ``tolerance`` pixels. Only the mask's
bounding box is traced, so a small object on a large image costs what the object costs.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["mask_bbox", "mask_to_polygons"]


def mask_bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """``(x0, y0, x1, y1)`` (end exclusive) of the mask's pixels, or None when it is empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _ring(c: np.ndarray, eps: float, ox: int, oy: int) -> np.ndarray | None:
    if eps > 0:
        c = cv2.approxPolyDP(c, eps, True)
    p = c[:, 0, :].astype(np.float64)
    if len(p) < 3:
        return None
    # lattice point (u, v) is pixel corner ((u - 1) / 2, (v - 1) / 2) of the crop
    p = (p - 1.0) / 2.0
    p[:, 0] += ox
    p[:, 1] += oy
    return p


def _area(p: np.ndarray) -> float:
    return abs(float(cv2.contourArea(p.astype(np.float32))))


def mask_to_polygons(mask: np.ndarray, tolerance: float = 1.0, *, min_area: float = 0.0) -> list[dict]:
    """The mask's connected parts as core polygon geometries ``{"points", "holes"}``.

    ``tolerance`` is the largest distance in pixels a simplified outline may stray from the traced
    one (0 keeps every corner). Parts, and holes, whose simplified area is not above ``min_area``
    square pixels are dropped; parts are returned largest first. Pixels touching only at a corner
    belong to one part.
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0 pixels, got {tolerance}")
    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"a mask must be (height, width), got shape {m.shape}")
    box = mask_bbox(m)
    if box is None:
        return []
    x0, y0, x1, y1 = box
    crop = (m[y0:y1, x0:x1] != 0).astype(np.uint8)
    h, w = crop.shape
    # lattice of pixel corners and edge midpoints: corner/midpoint (u, v) is on when it lies on the
    # closed square of an inside pixel; one point of padding all round for findContours
    up = np.zeros((2 * h + 3, 2 * w + 3), np.uint8)
    up[1 : 2 * h + 1 : 2, 1 : 2 * w + 1 : 2] = crop
    lat = cv2.dilate(up, np.ones((3, 3), np.uint8), anchor=(2, 2))
    contours, hierarchy = cv2.findContours(lat, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    hier = hierarchy[0]
    eps = 2.0 * float(tolerance)
    out = []
    for i in range(len(contours)):
        if hier[i][3] != -1:
            continue
        if len(contours[i]) < 3 or cv2.contourArea(contours[i]) <= 4 * min_area:
            continue
        shell = _ring(contours[i], eps, x0, y0)
        if shell is None:
            continue
        a = _area(shell)
        if a <= min_area or a == 0:
            continue
        holes = []
        child = hier[i][2]
        while child != -1:
            c = contours[child]
            # a hole's traced area, in lattice units (4 per square pixel), rules it out cheaply
            if len(c) >= 3 and cv2.contourArea(c) > 4 * min_area:
                r = _ring(c, eps, x0, y0)
                if r is not None and _area(r) > max(min_area, 0.0):
                    holes.append(r.tolist())
            child = hier[child][0]
        out.append((a, {"points": shell.tolist(), "holes": holes}))
    out.sort(key=lambda t: -t[0])
    return [g for _, g in out]
