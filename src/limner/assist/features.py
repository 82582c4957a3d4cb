"""Per-pixel filter features, and a guided filter for refining a coarse map at full resolution.

The feature stack is the classic pixel-classification set, computed at several scales: Gaussian
smoothing of each CIE Lab channel, the difference of Gaussians, the gradient magnitude and the two
eigenvalues of the structure tensor of the lightness channel, plus the raw Lab values. All filters
are separable OpenCV convolutions, so a whole stack for a few hundred thousand pixels takes
milliseconds.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["DEFAULT_SCALES", "feature_names", "filter_features", "guided_filter", "guided_upsample"]

DEFAULT_SCALES = (1.0, 2.0, 4.0, 8.0)


def _blur(a: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(a, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)


def feature_names(scales: tuple[float, ...] = DEFAULT_SCALES) -> list[str]:
    """Names of the columns :func:`filter_features` returns, in order."""
    out = ["L", "a", "b"]
    for s in scales:
        out += [f"gauss_L_{s}", f"gauss_a_{s}", f"gauss_b_{s}", f"dog_L_{s}", f"gradmag_L_{s}", f"st_max_{s}", f"st_min_{s}"]
    return out


def filter_features(image: np.ndarray, scales: tuple[float, ...] = DEFAULT_SCALES) -> np.ndarray:
    """``(H, W, F)`` float32 features of an RGB uint8 image, F = 3 + 7 * len(scales) (see
    :func:`feature_names`). Lab values are scaled to about [0, 1]; every scale is a Gaussian sigma
    in pixels of the image given."""
    if not scales or any(s <= 0 for s in scales):
        raise ValueError(f"feature scales must be positive sigmas, got {scales}")
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32) / 255.0
    L = np.ascontiguousarray(lab[..., 0])
    h, w = L.shape
    out = np.empty((h, w, 3 + 7 * len(scales)), np.float32)
    out[..., :3] = lab
    i = 3
    for s in scales:
        g = _blur(lab, s)
        out[..., i : i + 3] = g
        out[..., i + 3] = g[..., 0] - _blur(L, 1.6 * s)
        gx = cv2.Sobel(g[..., 0], cv2.CV_32F, 1, 0, ksize=3) * 0.125
        gy = cv2.Sobel(g[..., 0], cv2.CV_32F, 0, 1, ksize=3) * 0.125
        out[..., i + 4] = cv2.magnitude(gx, gy) * s
        # structure tensor: gradients at a fine inner scale, products smoothed at the outer scale
        d = _blur(L, 0.5 * s) if s >= 1 else L
        dx = cv2.Sobel(d, cv2.CV_32F, 1, 0, ksize=3) * 0.125
        dy = cv2.Sobel(d, cv2.CV_32F, 0, 1, ksize=3) * 0.125
        jxx, jyy, jxy = _blur(dx * dx, s), _blur(dy * dy, s), _blur(dx * dy, s)
        half_tr = 0.5 * (jxx + jyy)
        root = np.sqrt(np.maximum(0.25 * (jxx - jyy) ** 2 + jxy * jxy, 0))
        out[..., i + 5] = (half_tr + root) * s * s
        out[..., i + 6] = (half_tr - root) * s * s
        i += 7
    return out


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float = 1e-3) -> np.ndarray:
    """Edge-preserving smoothing of ``src`` (float32 (H, W)) following the edges of ``guide``
    (grey float32 (H, W) in [0, 1]): the guided filter with a box window of ``radius``. Used to
    carry a coarse probability map up to full resolution so its edges land on the image's."""
    a, b = _coefficients(guide, src, radius, eps)
    return a * guide + b


def _coefficients(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    k = (2 * radius + 1, 2 * radius + 1)

    def box(a: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(a, cv2.CV_32F, k, borderType=cv2.BORDER_REFLECT)

    mi, mp = box(guide), box(src)
    cov = box(guide * src) - mi * mp
    var = box(guide * guide) - mi * mi
    a = cov / (var + eps)
    b = mp - a * mi
    return box(a), box(b)


def guided_upsample(guide_small: np.ndarray, src_small: np.ndarray, guide: np.ndarray, radius: int, eps: float = 1e-3) -> np.ndarray:
    """:func:`guided_filter` at a reduced scale, applied at full resolution (the fast guided
    filter): the local linear coefficients are fitted on ``guide_small``/``src_small`` with a window
    of ``radius`` small pixels, scaled up bilinearly and applied to the full-size ``guide``. The
    result follows the full-size image's edges at the cost of two resizes."""
    a, b = _coefficients(guide_small, src_small, radius, eps)
    h, w = guide.shape
    a = cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)
    b = cv2.resize(b, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.multiply(a, guide) + b
