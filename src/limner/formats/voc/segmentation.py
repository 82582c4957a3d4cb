"""VOC's classes and colour palette, and its segmentation PNGs: the 21 class names, the void index,
``voc_palette``, reading an indexed, grey or RGB PNG into class or instance indices, the class
indices used for writing (VOC's own, else schema order from 1) and writing an index array as a
palette PNG."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from limner.formats.base import Report

VOC_LABELS = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
)  # fmt: skip
VOID = 255


def voc_palette(n: int = 256) -> list[tuple[int, int, int]]:
    """VOC's colour map: the bits of the index spread over r, g, b from the high bit down."""
    out = []
    for i in range(n):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= (c & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        out.append((r, g, b))
    return out


_PALETTE = voc_palette()


def _hex(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


# -- reading -------------------------------------------------------------------------------------


def _png_indices(path: Path, color_index: dict[tuple, int], by_color: bool) -> np.ndarray:
    """A segmentation PNG as an (h, w) array of indices. Indexed and grey PNGs give their indices,
    or with ``by_color`` the index of each palette colour in ``color_index`` (unknown colours keep
    their index); RGB PNGs the index of each colour in ``color_index`` (unknown colours: void)."""
    from PIL import Image

    with Image.open(path) as im:
        if im.mode in ("P", "L", "I", "I;16"):
            arr = np.asarray(im).astype(np.int32)
            if im.mode != "P" or not by_color:
                return arr
            pal = im.getpalette() or []
            colors = [tuple(pal[i : i + 3]) for i in range(0, len(pal), 3)][:256]
            colors += [None] * (256 - len(colors))
            lut = np.array([color_index.get(c, i) for i, c in enumerate(colors)], np.int32)
            return lut[arr]
        rgb = np.asarray(im.convert("RGB"), dtype=np.int32)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    uniq, inv = np.unique(packed, return_inverse=True)
    idx = np.array([color_index.get(((u >> 16) & 255, (u >> 8) & 255, u & 255), VOID) for u in uniq.tolist()], np.int32)
    return idx[inv].reshape(packed.shape)


# -- writing -------------------------------------------------------------------------------------


def _label_indices(names: list[str], report: Report) -> dict[str, int]:
    if all(n in VOC_LABELS for n in names):
        return {n: VOC_LABELS.index(n) for n in names}
    out, i = {}, 1
    for n in names:
        if n == "background":
            out[n] = 0
            continue
        if i >= VOID:
            report.drop("labels beyond the 254 a VOC palette holds left out of the segmentation PNGs")
            continue
        out[n] = i
        i += 1
    return out


def _png(arr: np.ndarray) -> bytes:
    from PIL import Image

    im = Image.fromarray(arr.astype(np.uint8), mode="L")
    im.putpalette([c for rgb in _PALETTE for c in rgb])
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()
