"""What the built-in interactors share: a base class with the final mask-to-result step, stage
timings, scaling and the drawing of points and strokes."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import cv2
import numpy as np

from limner.assist.base import InteractorResult, Prompt
from limner.assist.polygon import mask_to_polygons

__all__ = ["BuiltinInteractor", "Clock", "draw_prompt", "draw_strokes", "scale_for"]


class Clock:
    """Stage timings in milliseconds: ``clock.lap("name")`` closes the stage that just ran."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}
        self._t = self._t0 = time.perf_counter()

    def lap(self, name: str) -> None:
        t = time.perf_counter()
        self.ms[name] = self.ms.get(name, 0.0) + (t - self._t) * 1000.0
        self._t = t

    def total(self) -> dict[str, float]:
        self.ms["total"] = (time.perf_counter() - self._t0) * 1000.0
        return self.ms


class BuiltinInteractor:
    """Defaults for the built-in tools: nothing to precompute, and the result assembly."""

    name = ""
    title = ""
    prompts: frozenset[str] = frozenset()

    def precompute(self, image: np.ndarray) -> Any:
        return None

    def result(self, mask: np.ndarray, tolerance: float, clock: Clock, score: float | None = None) -> InteractorResult:
        mask = np.asarray(mask, dtype=bool)
        # parts and holes smaller than a tolerance-wide square would vanish when simplified anyway
        polygons = mask_to_polygons(mask, tolerance, min_area=tolerance * tolerance) if mask.any() else []
        clock.lap("polygon")
        return InteractorResult(mask=mask, polygons=polygons, score=score, elapsed_ms=clock.total())


def scale_for(width: int, height: int, max_pixels: int) -> float:
    """The factor (<= 1) that brings ``width x height`` down to at most ``max_pixels``."""
    return min(1.0, float(np.sqrt(max_pixels / max(1, width * height))))


def draw_strokes(
    canvas: np.ndarray,
    strokes: Iterable[tuple[list[tuple[float, float]], float]],
    value: int,
    *,
    offset: tuple[float, float] = (0.0, 0.0),
    scale: float = 1.0,
    least: int = 1,
) -> None:
    """Paint strokes (centre line, radius in image pixels) into ``canvas`` in place; coordinates
    are shifted by ``-offset`` then multiplied by ``scale``."""
    ox, oy = offset
    for pts, radius in strokes:
        r = max(least, int(round(radius * scale)))
        p = np.round((np.asarray(pts, dtype=np.float64).reshape(-1, 2) - (ox, oy)) * scale).astype(np.int32)
        if len(p) == 1:
            cv2.circle(canvas, (int(p[0, 0]), int(p[0, 1])), r, value, -1)
        else:
            cv2.polylines(canvas, [p.reshape(-1, 1, 2)], False, value, thickness=2 * r + 1)
            for q in p[[0, -1]]:
                cv2.circle(canvas, (int(q[0]), int(q[1])), r, value, -1)


def draw_prompt(
    canvas: np.ndarray,
    prompt: Prompt,
    fg: int,
    bg: int,
    *,
    point_radius: float = 3.0,
    offset: tuple[float, float] = (0.0, 0.0),
    scale: float = 1.0,
) -> None:
    """Paint the prompt's points (discs of ``point_radius``) and scribbles into ``canvas``:
    foreground marks with ``fg``, background ones with ``bg``; background is drawn last, so it wins
    where the two overlap."""
    for value, positive in ((fg, True), (bg, False)):
        pts = prompt.positive if positive else prompt.negative
        strokes = [([p], point_radius) for p in pts]
        strokes += [(s.points, s.radius) for s in prompt.scribbles if s.positive == positive]
        draw_strokes(canvas, strokes, value, offset=offset, scale=scale)
