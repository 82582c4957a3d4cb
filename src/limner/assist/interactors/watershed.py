"""Watershed from markers.

Positive points and scribbles are foreground markers, negative ones background markers; outside a
box is background, and without a box so is the image's outer frame, except near foreground marks. OpenCV's
marker watershed floods the image scaled down to at most ``work_pixels`` (the scaled image is the
per-image precompute); the outline is then settled at full resolution by a second watershed over
the object's neighbourhood, where only a band along the coarse outline is left to flood.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from limner.assist.base import InteractorResult, Prompt, register
from limner.assist.interactors._common import BuiltinInteractor, Clock, draw_prompt
from limner.assist.polygon import mask_bbox
from limner.errors import ValidationError

__all__ = ["Watershed"]

_BG, _FG = 1, 2


@dataclass(slots=True)
class WatershedState:
    small: np.ndarray  # BGR, scaled down
    scale: float


class Watershed(BuiltinInteractor):
    name = "watershed"
    title = "Watershed from markers"
    prompts = frozenset({"point", "scribble", "box", "mask"})

    def __init__(self, work_pixels: int = 120_000, point_radius: float = 3.0, smooth: int = 3):
        """``work_pixels``: size of the coarse flood; ``point_radius``: marker disc of a click in
        image pixels; ``smooth``: Gaussian kernel applied first (odd, 1 = none)."""
        if work_pixels < 1000:
            raise ValidationError(f"watershed work_pixels must be >= 1000, got {work_pixels}", field="work_pixels")
        if smooth < 1 or smooth % 2 == 0:
            raise ValidationError(f"watershed smooth must be an odd size >= 1, got {smooth}", field="smooth")
        self.work_pixels = int(work_pixels)
        self.point_radius = float(point_radius)
        self.smooth = int(smooth)

    def precompute(self, image: np.ndarray) -> WatershedState:
        h, w = image.shape[:2]
        s = min(1.0, float(np.sqrt(self.work_pixels / (h * w))))
        img = cv2.GaussianBlur(image, (self.smooth, self.smooth), 0) if self.smooth > 1 else image
        small = cv2.resize(img, (max(2, round(w * s)), max(2, round(h * s))), interpolation=cv2.INTER_AREA) if s < 1 else img
        return WatershedState(small=cv2.cvtColor(small, cv2.COLOR_RGB2BGR), scale=s)

    def _markers(self, prompt: Prompt, h: int, w: int, sx: float, sy: float, offset=(0, 0)) -> np.ndarray:
        m = np.zeros((h, w), np.int32)
        marks = np.zeros((h, w), np.uint8)
        draw_prompt(marks, prompt, _FG, _BG, point_radius=self.point_radius, offset=offset, scale=min(sx, sy))
        if prompt.box is not None:
            x, y, bw, bh = prompt.box
            ox, oy = offset
            outside = np.ones((h, w), bool)
            outside[max(0, int((y - oy) * sy)) : int(np.ceil((y + bh - oy) * sy)) + 1,
                    max(0, int((x - ox) * sx)) : int(np.ceil((x + bw - ox) * sx)) + 1] = False
            marks[outside & (marks != _FG)] = _BG
        m[:] = marks
        return m

    def predict(self, image: np.ndarray, prompt: Prompt, state: WatershedState | None, tolerance: float = 1.0) -> InteractorResult:
        clock = Clock()
        if state is None:
            state = self.precompute(image)
        H, W = image.shape[:2]
        small = state.small
        sh, sw = small.shape[:2]
        markers = self._markers(prompt, sh, sw, sw / W, sh / H)
        if prompt.mask is not None and not (markers == _FG).any():
            prev = cv2.resize(prompt.mask.view(np.uint8), (sw, sh), interpolation=cv2.INTER_NEAREST)
            markers[(cv2.erode(prev, np.ones((3, 3), np.uint8)) > 0) & (markers == 0)] = _FG
        if not (markers == _FG).any():
            raise ValidationError("watershed needs a positive click or scribble", field="positive")
        if prompt.box is None:
            # the image's frame is background except near foreground marks (so an object that
            # touches the border is reached by clicking there); OpenCV's watershed resets the
            # outermost pixels to boundary, so the frame starts one pixel in
            frame = np.zeros((sh, sw), bool)
            frame[[1, 2, -3, -2], :] = True
            frame[:, [1, 2, -3, -2]] = True
            r = max(3, min(sh, sw) // 20)
            near = cv2.dilate((markers == _FG).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2))
            markers[frame & (markers == 0) & (near == 0)] = _BG
        cv2.watershed(small, markers)
        coarse = (markers == _FG).astype(np.uint8)
        clock.lap("flood")
        mask = np.zeros((H, W), bool)
        box = mask_bbox(coarse)
        if box is not None:
            if state.scale < 1:
                self._refine(image, prompt, coarse, box, mask)
            else:
                mask[:] = coarse.astype(bool)
        clock.lap("refine")
        return self.result(mask, tolerance, clock)

    def _refine(self, image: np.ndarray, prompt: Prompt, coarse: np.ndarray, box, out: np.ndarray) -> None:
        H, W = image.shape[:2]
        sh, sw = coarse.shape
        fx, fy = W / sw, H / sh
        pad = 4
        x0, y0 = max(0, int((box[0] - pad) * fx)), max(0, int((box[1] - pad) * fy))
        x1, y1 = min(W, int((box[2] + pad) * fx)), min(H, int((box[3] + pad) * fy))
        up = cv2.resize(coarse, (W, H), interpolation=cv2.INTER_NEAREST)[y0:y1, x0:x1]
        r = max(1, int(np.ceil(max(fx, fy))))
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        markers = np.zeros(up.shape, np.int32)
        markers[cv2.dilate(up, k) == 0] = _BG
        markers[cv2.erode(up, k) > 0] = _FG
        marks = np.zeros(up.shape, np.uint8)
        draw_prompt(marks, prompt, _FG, _BG, point_radius=self.point_radius, offset=(x0, y0))
        markers[marks > 0] = marks[marks > 0]
        if (markers == _FG).any() and (markers == _BG).any():
            roi = image[y0:y1, x0:x1]
            if self.smooth > 1:
                roi = cv2.GaussianBlur(roi, (self.smooth, self.smooth), 0)
            cv2.watershed(cv2.cvtColor(roi, cv2.COLOR_RGB2BGR), markers)
            out[y0:y1, x0:x1] = markers == _FG
        else:
            out[y0:y1, x0:x1] = up.astype(bool)


register("interactor", Watershed.name, Watershed)
