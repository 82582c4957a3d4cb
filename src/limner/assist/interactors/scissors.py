"""Intelligent scissors (livewire) between clicked points.

The positive points, in the order given, are vertices of a closed outline; between each pair of
consecutive vertices (and from the last back to the first) OpenCV's ``IntelligentScissorsMB``
finds the cheapest path along image edges. Each path is searched in a window around its two ends
only, scaled down when that window exceeds ``max_pixels``, and paths are remembered per image, so
a new click costs the two paths it creates. The region the outline encloses is the mask.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import cv2
import numpy as np

from limner.assist.base import InteractorResult, Prompt, register
from limner.assist.interactors._common import BuiltinInteractor, Clock, scale_for
from limner.errors import ValidationError

__all__ = ["Scissors"]


class _Paths:
    """Per-image memo of found paths, bounded."""

    __slots__ = ("items", "lock")

    def __init__(self) -> None:
        self.items: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self.lock = threading.Lock()


class Scissors(BuiltinInteractor):
    name = "scissors"
    title = "Intelligent scissors"
    prompts = frozenset({"point"})

    def __init__(self, max_pixels: int = 50_000, margin: float = 0.35, canny_low: float = 32, canny_high: float = 100):
        """``max_pixels``: largest search window before it is scaled down; ``margin``: how far the
        window reaches beyond the two ends (a fraction of their distance); ``canny_low`` /
        ``canny_high``: edge thresholds of the edge feature."""
        if max_pixels < 1000:
            raise ValidationError(f"scissors max_pixels must be >= 1000, got {max_pixels}", field="max_pixels")
        self.max_pixels = int(max_pixels)
        self.margin = float(margin)
        self.canny = (float(canny_low), float(canny_high))

    def precompute(self, image: np.ndarray) -> _Paths:
        return _Paths()

    def _path(self, image: np.ndarray, a: tuple[int, int], b: tuple[int, int]) -> np.ndarray:
        H, W = image.shape[:2]
        d = float(np.hypot(a[0] - b[0], a[1] - b[1]))
        m = max(12.0, self.margin * d)
        x0, y0 = max(0, int(min(a[0], b[0]) - m)), max(0, int(min(a[1], b[1]) - m))
        x1, y1 = min(W, int(max(a[0], b[0]) + m) + 1), min(H, int(max(a[1], b[1]) + m) + 1)
        crop = image[y0:y1, x0:x1]
        s = scale_for(x1 - x0, y1 - y0, self.max_pixels)
        if s < 1:
            crop = cv2.resize(crop, (max(2, round((x1 - x0) * s)), max(2, round((y1 - y0) * s))), interpolation=cv2.INTER_AREA)
        ch, cw = crop.shape[:2]

        def local(p):
            return (min(cw - 1, int(round((p[0] - x0) * s))), min(ch - 1, int(round((p[1] - y0) * s))))

        tool = cv2.segmentation.IntelligentScissorsMB()
        tool.setEdgeFeatureCannyParameters(*self.canny)
        tool.setGradientMagnitudeMaxLimit(200)
        tool.applyImage(np.ascontiguousarray(crop))
        tool.buildMap(local(a))
        c = tool.getContour(local(b)).reshape(-1, 2).astype(np.float64)  # from a to b
        c = c / s + (x0, y0)
        return c

    def predict(self, image: np.ndarray, prompt: Prompt, state: _Paths | None, tolerance: float = 1.0) -> InteractorResult:
        clock = Clock()
        if prompt.negative:
            raise ValidationError("scissors takes the outline's points as positive points only", field="negative")
        if state is None:
            state = self.precompute(image)
        H, W = image.shape[:2]
        pts = [(min(W - 1, int(x)), min(H - 1, int(y))) for x, y in prompt.positive]
        pts = [p for i, p in enumerate(pts) if i == 0 or p != pts[i - 1]]
        if len(pts) > 1 and pts[-1] == pts[0]:
            pts.pop()
        mask = np.zeros((H, W), np.uint8)
        if len(pts) < 3:
            clock.lap("paths")
            return self.result(mask, tolerance, clock)
        pieces = []
        for a, b in zip(pts, pts[1:] + pts[:1]):
            with state.lock:
                seg = state.items.get((a, b))
            if seg is None:
                seg = self._path(image, a, b)
                with state.lock:
                    state.items[(a, b)] = seg
                    while len(state.items) > 512:
                        state.items.popitem(last=False)
            pieces.append(seg)
        clock.lap("paths")
        outline = np.round(np.concatenate(pieces)).astype(np.int32)
        cv2.fillPoly(mask, [outline.reshape(-1, 1, 2)], 1)
        clock.lap("fill")
        return self.result(mask.astype(bool), tolerance, clock)


register("interactor", Scissors.name, Scissors)
