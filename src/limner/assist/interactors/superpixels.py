"""Superpixel brush: click or drag to add or remove whole superpixels.

The precompute runs SLIC (scikit-image) on the image scaled down to at most ``work_pixels``, scales
the labels back up, and refines them at full resolution: each pixel on a superpixel border goes to
whichever neighbouring superpixel has the closest mean Lab colour. A click then only looks labels
up: positive points and scribbles add the superpixels they touch to the previous mask, negative
ones remove theirs (removal wins).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from limner.assist.base import InteractorResult, Prompt, register
from limner.assist.interactors._common import BuiltinInteractor, Clock, draw_strokes
from limner.errors import ValidationError

__all__ = ["Superpixels", "SuperpixelState", "refine_labels"]


@dataclass(slots=True)
class SuperpixelState:
    labels: np.ndarray  # int32 (H, W), 0..count-1
    count: int


def refine_labels(labels: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """Reassign each border pixel of ``labels`` to the 3x3-neighbouring label whose mean colour
    (over ``lab``, float32 (H, W, 3)) is nearest to the pixel's."""
    n = int(labels.max()) + 1
    flat = labels.ravel()
    counts = np.maximum(np.bincount(flat, minlength=n), 1)
    means = np.stack([np.bincount(flat, lab[..., c].ravel(), minlength=n) for c in range(3)], axis=1) / counts[:, None]
    lf = labels.astype(np.float32)
    k = np.ones((3, 3), np.uint8)
    border = cv2.dilate(lf, k) != cv2.erode(lf, k)
    ys, xs = np.nonzero(border)
    if len(ys) == 0:
        return labels
    pad = np.pad(labels, 1, mode="edge")
    cand = np.stack([pad[ys + dy, xs + dx] for dy in (0, 1, 2) for dx in (0, 1, 2)], axis=1)
    d = ((means[cand] - lab[ys, xs][:, None, :]) ** 2).sum(axis=2)
    out = labels.copy()
    out[ys, xs] = cand[np.arange(len(ys)), d.argmin(axis=1)]
    return out


class Superpixels(BuiltinInteractor):
    name = "superpixels"
    title = "Superpixel brush"
    prompts = frozenset({"point", "scribble", "mask"})

    def __init__(self, segments: int = 1000, compactness: float = 10.0, work_pixels: int = 150_000, point_radius: float = 0.0):
        """``segments``: about how many superpixels per image; ``compactness``: SLIC's balance of
        colour against space (higher = more regular); ``work_pixels``: size SLIC runs at;
        ``point_radius``: brush radius of a click in image pixels (0: the superpixel under the
        clicked pixel only)."""
        if not 2 <= segments <= 100_000:
            raise ValidationError(f"superpixels segments must be in [2, 100000], got {segments}", field="segments")
        if point_radius < 0:
            raise ValidationError(f"superpixels point_radius must be >= 0, got {point_radius}", field="point_radius")
        if compactness <= 0:
            raise ValidationError(f"superpixels compactness must be > 0, got {compactness}", field="compactness")
        self.segments = int(segments)
        self.compactness = float(compactness)
        self.work_pixels = int(work_pixels)
        self.point_radius = float(point_radius)

    def precompute(self, image: np.ndarray) -> SuperpixelState:
        from skimage.segmentation import slic

        h, w = image.shape[:2]
        s = min(1.0, float(np.sqrt(self.work_pixels / (h * w))))
        small = cv2.resize(image, (max(2, round(w * s)), max(2, round(h * s))), interpolation=cv2.INTER_AREA) if s < 1 else image
        labels = slic(small, n_segments=self.segments, compactness=self.compactness, start_label=0).astype(np.int32)
        if s < 1:
            labels = cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST)
            lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
            labels = refine_labels(labels, lab)
        return SuperpixelState(labels=np.ascontiguousarray(labels), count=int(labels.max()) + 1)

    def _touched(self, state: SuperpixelState, points: list, strokes: list) -> np.ndarray:
        h, w = state.labels.shape
        if self.point_radius > 0:
            strokes = strokes + [([p], self.point_radius) for p in points]
        else:
            at = [state.labels[min(h - 1, int(y)), min(w - 1, int(x))] for x, y in points]
            if not strokes:
                return np.unique(np.asarray(at, np.int32))
        if not strokes:
            return np.zeros(0, np.int32)
        pts = np.concatenate([np.asarray(p, np.float64).reshape(-1, 2) for p, _ in strokes])
        r = max(r for _, r in strokes)
        x0, y0 = max(0, int(pts[:, 0].min() - r - 1)), max(0, int(pts[:, 1].min() - r - 1))
        x1, y1 = min(w, int(pts[:, 0].max() + r + 2)), min(h, int(pts[:, 1].max() + r + 2))
        canvas = np.zeros((y1 - y0, x1 - x0), np.uint8)
        draw_strokes(canvas, strokes, 1, offset=(x0, y0))
        found = state.labels[y0:y1, x0:x1][canvas == 1]
        if self.point_radius <= 0 and points:
            found = np.concatenate([found, np.asarray(at, np.int32)])
        return np.unique(found)

    def predict(self, image: np.ndarray, prompt: Prompt, state: SuperpixelState | None, tolerance: float = 1.0) -> InteractorResult:
        clock = Clock()
        if state is None:
            state = self.precompute(image)
        add = self._touched(state, prompt.positive, [(s.points, s.radius) for s in prompt.scribbles if s.positive])
        rem = self._touched(state, prompt.negative, [(s.points, s.radius) for s in prompt.scribbles if not s.positive])
        sel = np.zeros(state.count, bool)
        sel[add] = True
        mask = sel[state.labels]
        if prompt.mask is not None:
            mask |= prompt.mask
        if len(rem):
            sel[:] = False
            sel[rem] = True
            mask &= ~sel[state.labels]
        clock.lap("predict")
        return self.result(mask, tolerance, clock)


register("interactor", Superpixels.name, Superpixels)
