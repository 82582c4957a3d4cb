"""labelme's mask shapes: the base64 PNG of a mask's patch, placed at the rounded top-left pixel,
made a full-image COCO RLE; and a mask RLE made the PNG of its bounding patch with that corner and
the bottom-right pixel (None for an empty mask)."""

from __future__ import annotations

import base64
import io

import numpy as np

from limner.core import rle as _rle


def _mask_from_png(b64: str, origin, h: int, w: int) -> dict:
    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(b64))) as im:
        patch = np.asarray(im)
    if patch.ndim == 3:
        patch = patch.max(axis=2)
    patch = patch > 0
    x1, y1 = (int(round(v)) for v in origin)
    ph, pw = patch.shape
    full = np.zeros((h, w), np.uint8)
    ys, ye, xs, xe = max(y1, 0), min(y1 + ph, h), max(x1, 0), min(x1 + pw, w)
    if ys < ye and xs < xe:
        full[ys:ye, xs:xe] = patch[ys - y1 : ye - y1, xs - x1 : xe - x1]
    return _rle.encode(full)


def _mask_to_png(rle: dict):
    from PIL import Image

    m = _rle.decode(rle)
    rows, cols = np.flatnonzero(m.any(axis=1)), np.flatnonzero(m.any(axis=0))
    if not len(rows):
        return None
    t, b, left, r = int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])
    buf = io.BytesIO()
    Image.fromarray(m[t : b + 1, left : r + 1].astype(np.uint8)).save(buf, format="PNG")
    return [[float(left), float(t)], [float(r), float(b)]], base64.b64encode(buf.getvalue()).decode("ascii")
