"""Magic wand: flood fill from a click, within a colour tolerance.

The image is smoothed lightly and converted to CIE Lab once per image (the precompute); each
click floods from its pixel over the 8-connected pixels whose Lab colour is within ``threshold``
of the clicked pixel's on every channel (OpenCV ``floodFill`` with a fixed range). Positive clicks
add their regions, negative clicks remove theirs; a previous mask is kept and added to.
"""

from __future__ import annotations

import cv2
import numpy as np

from limner.assist.base import InteractorResult, Prompt, register
from limner.assist.interactors._common import BuiltinInteractor, Clock
from limner.errors import ValidationError

__all__ = ["MagicWand"]


class MagicWand(BuiltinInteractor):
    name = "magic_wand"
    title = "Magic wand"
    prompts = frozenset({"point", "mask"})

    def __init__(self, threshold: float = 16.0, smooth: int = 3, close: int = 3):
        """``threshold``: largest difference per Lab channel (0-255 scale) from the clicked colour;
        ``smooth``: Gaussian kernel size applied before (odd, 1 = none); ``close``: size of the
        morphological closing that seals pinholes in the result (0 = none)."""
        if not 0 <= threshold <= 255:
            raise ValidationError(f"magic_wand threshold must be in [0, 255], got {threshold}", field="threshold")
        if smooth < 1 or smooth % 2 == 0:
            raise ValidationError(f"magic_wand smooth must be an odd size >= 1, got {smooth}", field="smooth")
        if close < 0:
            raise ValidationError(f"magic_wand close must be >= 0, got {close}", field="close")
        self.threshold = float(threshold)
        self.smooth = int(smooth)
        self.close = int(close)

    def precompute(self, image: np.ndarray) -> np.ndarray:
        img = cv2.GaussianBlur(image, (self.smooth, self.smooth), 0) if self.smooth > 1 else image
        return cv2.cvtColor(img, cv2.COLOR_RGB2LAB)

    def _fill(self, lab: np.ndarray, points: list[tuple[float, float]]) -> np.ndarray:
        h, w = lab.shape[:2]
        flood = np.zeros((h + 2, w + 2), np.uint8)
        d = (self.threshold,) * 3
        flags = 8 | cv2.FLOODFILL_FIXED_RANGE | cv2.FLOODFILL_MASK_ONLY | (1 << 8)
        for x, y in points:
            px, py = min(w - 1, int(x)), min(h - 1, int(y))
            if flood[py + 1, px + 1]:
                continue
            cv2.floodFill(lab, flood, (px, py), 0, d, d, flags)
        return flood[1:-1, 1:-1].astype(bool)

    def predict(self, image: np.ndarray, prompt: Prompt, state: np.ndarray | None, tolerance: float = 1.0) -> InteractorResult:
        clock = Clock()
        lab = state if state is not None else self.precompute(image)
        if not prompt.positive and prompt.mask is None:
            raise ValidationError("magic_wand needs a positive click", field="positive")
        mask = self._fill(lab, prompt.positive) if prompt.positive else np.zeros(lab.shape[:2], bool)
        if prompt.mask is not None:
            mask |= prompt.mask
        if self.close:
            k = np.ones((self.close, self.close), np.uint8)
            mask = cv2.morphologyEx(mask.view(np.uint8), cv2.MORPH_CLOSE, k).astype(bool)
        if prompt.negative:
            mask &= ~self._fill(lab, prompt.negative)
        clock.lap("predict")
        return self.result(mask, tolerance, clock)


register("interactor", MagicWand.name, MagicWand)
