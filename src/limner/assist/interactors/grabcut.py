"""GrabCut from a box, refined by positive/negative points and scribbles.

OpenCV's GrabCut (colour GMMs and a graph cut) runs on the box's neighbourhood only, scaled down
to at most ``max_pixels``; outside the box is background, points and scribbles are hard
foreground/background marks, and a previous mask seeds the probable foreground. The coarse result
is then refined at full resolution in the band along its outline: each band pixel goes to the
side whose colour model (the GMMs GrabCut just fitted) explains it better, then the band is
median-smoothed.
"""

from __future__ import annotations

import cv2
import numpy as np

from limner.assist.base import InteractorResult, Prompt, register
from limner.assist.interactors._common import BuiltinInteractor, Clock, draw_prompt, scale_for
from limner.assist.polygon import mask_bbox
from limner.errors import ValidationError

__all__ = ["GrabCut", "gmm_log_likelihood"]


def gmm_log_likelihood(model: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Log-likelihood of colours ``x`` (n, 3) under an OpenCV GrabCut GMM (the 1x65 model array:
    5 weights, 5 means, 5 covariances)."""
    m = np.asarray(model, np.float64).ravel()
    k = 5
    w, mu, cov = m[:k], m[k : 4 * k].reshape(k, 3), m[4 * k :].reshape(k, 3, 3)
    x = np.asarray(x, np.float64)
    out = np.full(len(x), -np.inf)
    for i in range(k):
        if w[i] <= 0:
            continue
        c = cov[i] + np.eye(3) * 1e-3
        det = np.linalg.det(c)
        if det <= 0:
            continue
        d = x - mu[i]
        maha = np.einsum("ni,ij,nj->n", d, np.linalg.inv(c), d)
        out = np.logaddexp(out, np.log(w[i]) - 0.5 * (maha + np.log(det) + 3 * np.log(2 * np.pi)))
    return out


class GrabCut(BuiltinInteractor):
    name = "grabcut"
    title = "GrabCut (box, then points)"
    prompts = frozenset({"box", "point", "scribble", "mask"})

    def __init__(self, iterations: int = 3, max_pixels: int = 20_000, margin: float = 0.1, point_radius: float = 4.0):
        """``iterations`` of GrabCut at the reduced scale; ``max_pixels`` of the region it runs on;
        ``margin`` of background kept around the box (a fraction of its size); ``point_radius`` of
        the disc a click marks, in image pixels."""
        if not 1 <= iterations <= 20:
            raise ValidationError(f"grabcut iterations must be in [1, 20], got {iterations}", field="iterations")
        if max_pixels < 1000:
            raise ValidationError(f"grabcut max_pixels must be >= 1000, got {max_pixels}", field="max_pixels")
        self.iterations = int(iterations)
        self.max_pixels = int(max_pixels)
        self.margin = float(margin)
        self.point_radius = float(point_radius)

    def predict(self, image: np.ndarray, prompt: Prompt, state: object, tolerance: float = 1.0) -> InteractorResult:
        clock = Clock()
        H, W = image.shape[:2]
        box = prompt.box
        if box is None and prompt.mask is not None and prompt.mask.any():
            x0, y0, x1, y1 = mask_bbox(prompt.mask)
            box = (x0, y0, x1 - x0, y1 - y0)
        if box is None:
            raise ValidationError("grabcut needs a box around the object first", field="box")
        bx0, by0 = max(0, int(box[0])), max(0, int(box[1]))
        bx1, by1 = min(W, int(np.ceil(box[0] + box[2]))), min(H, int(np.ceil(box[1] + box[3])))
        mx, my = max(8, self.margin * (bx1 - bx0)), max(8, self.margin * (by1 - by0))
        x0, y0 = max(0, int(bx0 - mx)), max(0, int(by0 - my))
        x1, y1 = min(W, int(bx1 + mx)), min(H, int(by1 + my))
        roi = image[y0:y1, x0:x1]
        s = scale_for(x1 - x0, y1 - y0, self.max_pixels)
        sw, sh = max(2, round((x1 - x0) * s)), max(2, round((y1 - y0) * s))
        small = cv2.resize(roi, (sw, sh), interpolation=cv2.INTER_AREA) if s < 1 else roi.copy()
        fx, fy = sw / (x1 - x0), sh / (y1 - y0)

        gc = np.full((sh, sw), cv2.GC_BGD, np.uint8)
        ix0, iy0 = int((bx0 - x0) * fx), int((by0 - y0) * fy)
        ix1, iy1 = int(np.ceil((bx1 - x0) * fx)), int(np.ceil((by1 - y0) * fy))
        gc[iy0:iy1, ix0:ix1] = cv2.GC_PR_FGD
        if prompt.mask is not None:
            prev = cv2.resize(prompt.mask[y0:y1, x0:x1].view(np.uint8), (sw, sh), interpolation=cv2.INTER_NEAREST)
            inside = gc == cv2.GC_PR_FGD
            gc[inside & (prev == 0)] = cv2.GC_PR_BGD
        marks = np.full((sh, sw), 255, np.uint8)
        draw_prompt(marks, prompt, 1, 0, point_radius=self.point_radius, offset=(x0, y0), scale=min(fx, fy))
        gc[marks == 1] = cv2.GC_FGD
        gc[marks == 0] = cv2.GC_BGD
        clock.lap("prepare")
        if not ((gc == cv2.GC_PR_FGD) | (gc == cv2.GC_FGD)).any():
            return self.result(np.zeros((H, W), bool), tolerance, clock)
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        try:
            # a previous result is already a good start: half the iterations refine it
            iters = self.iterations if prompt.mask is None else max(1, self.iterations // 2)
            cv2.grabCut(small, gc, None, bgd, fgd, iters, cv2.GC_INIT_WITH_MASK)
        except cv2.error:  # one side has too few pixels to fit a colour model
            pass
        fg = ((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)).astype(np.uint8)
        n, lab, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
        if n > 2:
            # specks go; so does a smaller part a negative mark touches (the click said "not this
            # one"); the largest part and parts holding a positive mark always stay
            areas = stats[1:, cv2.CC_STAT_AREA]
            keep = np.zeros(n, bool)
            keep[1:] = areas >= max(4, 0.05 * areas.max())
            near_neg = cv2.dilate((marks == 0).view(np.uint8), np.ones((3, 3), np.uint8)) > 0
            keep[np.unique(lab[near_neg])] = False
            keep[1 + int(areas.argmax())] = True
            keep[np.unique(lab[marks == 1])] = True
            keep[0] = False
            fg = keep[lab].astype(np.uint8)
        clock.lap("grabcut")

        out = np.zeros((H, W), bool)
        out[y0:y1, x0:x1] = self._refine(roi, fg, bgd, fgd, s < 1)
        if prompt.positive or prompt.negative or prompt.scribbles:
            full = np.full((y1 - y0, x1 - x0), 255, np.uint8)
            draw_prompt(full, prompt, 1, 0, point_radius=self.point_radius, offset=(x0, y0))
            out[y0:y1, x0:x1][full == 1] = True
            out[y0:y1, x0:x1][full == 0] = False
        clock.lap("refine")
        return self.result(out, tolerance, clock)

    @staticmethod
    def _refine(roi: np.ndarray, fg: np.ndarray, bgd: np.ndarray, fgd: np.ndarray, scaled: bool) -> np.ndarray:
        h, w = roi.shape[:2]
        soft = cv2.resize(fg.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
        mask = soft >= 0.5
        if not scaled or not fgd.any() or not bgd.any():
            return mask
        band = (soft > 0.02) & (soft < 0.98)
        k = max(3, int(round(max(w / fg.shape[1], h / fg.shape[0]))) | 1)
        band = cv2.dilate(band.view(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
        ys, xs = np.nonzero(band)
        if len(ys):
            px = roi[ys, xs].astype(np.float64)
            mask[ys, xs] = gmm_log_likelihood(fgd, px) > gmm_log_likelihood(bgd, px)
            smooth = cv2.medianBlur(mask.view(np.uint8), 5).astype(bool)
            mask[band] = smooth[band]
        return mask


register("interactor", GrabCut.name, GrabCut)
