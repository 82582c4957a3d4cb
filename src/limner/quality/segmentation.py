"""Semantic segmentation quality: per-class IoU, mean IoU, pixel accuracy and Dice.

Everything derives from one confusion matrix, ``confusion[t, p]`` = the number of pixels of true
class ``t`` predicted as ``p``, counted with ``np.bincount``. Inputs are class maps (integer arrays
of class ids ``0 .. num_classes - 1``, the same shape) or shape lists painted into class maps
(:func:`class_map`). Pixels whose true class is ``ignore_index`` (e.g. 255, "void") are left out.

Per class ``c`` with ``TP = confusion[c, c]``, ``FP`` the rest of column ``c``, ``FN`` the rest of
row ``c``: IoU = TP / (TP + FP + FN), Dice = 2 TP / (2 TP + FP + FN), class accuracy (recall) =
TP / (TP + FN). A class absent from both maps has no IoU or Dice: NaN, left out of the means (as
"nanmean"); the mean is NaN when no class is present. Pixel accuracy = trace / total (NaN with no
pixel). Scores of several images add up (:meth:`SegmentationScores.__add__`, which sums the
confusion matrices): dataset-level IoU is computed on the summed matrix, not averaged per image.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from limner.core.raster import rasterize
from limner.core.shapes import Shape

__all__ = [
    "SegmentationScores",
    "class_map",
    "confusion_matrix",
    "segmentation_scores",
    "shape_segmentation_scores",
]

_AREA_KINDS = ("box", "rotated_box", "polygon", "ellipse", "mask")


def confusion_matrix(
    truth: np.ndarray, prediction: np.ndarray, num_classes: int, *, ignore_index: int | None = None
) -> np.ndarray:
    """The ``num_classes x num_classes`` int64 matrix of pixel counts, rows the true class, columns
    the predicted one. Raises ValueError for maps of different shapes, non-integer maps and class
    ids outside ``0 .. num_classes - 1`` (other than ``ignore_index`` in ``truth``)."""
    t = np.asarray(truth)
    p = np.asarray(prediction)
    if t.shape != p.shape:
        raise ValueError(f"class maps differ in shape: truth {t.shape}, prediction {p.shape}")
    for name, a in (("truth", t), ("prediction", p)):
        if a.dtype.kind not in "iub":
            raise ValueError(f"{name} must be an integer class map, got dtype {a.dtype}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    t = t.ravel().astype(np.int64)
    p = p.ravel().astype(np.int64)
    if ignore_index is not None:
        keep = t != ignore_index
        t, p = t[keep], p[keep]
    for name, a in (("truth", t), ("prediction", p)):
        if a.size and (a.min() < 0 or a.max() >= num_classes):
            bad = a[(a < 0) | (a >= num_classes)][0]
            raise ValueError(f"{name} holds class {bad}, outside 0..{num_classes - 1}")
    return np.bincount(t * num_classes + p, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _nanmean(v: np.ndarray) -> float:
    v = v[~np.isnan(v)]
    return float(v.mean()) if v.size else float("nan")


@dataclass(slots=True)
class SegmentationScores:
    """Scores of one or more images, from their confusion matrix (rows true, columns predicted)."""

    confusion: np.ndarray

    @property
    def num_classes(self) -> int:
        return int(self.confusion.shape[0])

    def _tp_fp_fn(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        m = self.confusion.astype(np.float64)
        tp = np.diag(m)
        return tp, m.sum(axis=0) - tp, m.sum(axis=1) - tp

    @property
    def per_class_iou(self) -> np.ndarray:
        tp, fp, fn = self._tp_fp_fn()
        return _ratio(tp, tp + fp + fn)

    @property
    def mean_iou(self) -> float:
        return _nanmean(self.per_class_iou)

    @property
    def per_class_dice(self) -> np.ndarray:
        tp, fp, fn = self._tp_fp_fn()
        return _ratio(2 * tp, 2 * tp + fp + fn)

    @property
    def mean_dice(self) -> float:
        return _nanmean(self.per_class_dice)

    @property
    def per_class_accuracy(self) -> np.ndarray:
        tp, _, fn = self._tp_fp_fn()
        return _ratio(tp, tp + fn)

    @property
    def mean_accuracy(self) -> float:
        return _nanmean(self.per_class_accuracy)

    @property
    def pixel_accuracy(self) -> float:
        total = self.confusion.sum()
        return float(np.trace(self.confusion) / total) if total else float("nan")

    def __add__(self, other: SegmentationScores) -> SegmentationScores:
        if self.confusion.shape != other.confusion.shape:
            raise ValueError(f"cannot add scores over {self.num_classes} and {other.num_classes} classes")
        return SegmentationScores(self.confusion + other.confusion)

    def to_dict(self, names: Sequence[str] | None = None) -> dict:
        """Plain numbers for JSON (NaN as None); ``names`` labels the per-class lists."""
        def clean(v):
            return None if v != v else float(v)

        out = {
            "mean_iou": clean(self.mean_iou),
            "mean_dice": clean(self.mean_dice),
            "pixel_accuracy": clean(self.pixel_accuracy),
            "mean_accuracy": clean(self.mean_accuracy),
            "per_class_iou": [clean(v) for v in self.per_class_iou],
            "per_class_dice": [clean(v) for v in self.per_class_dice],
        }
        if names is not None:
            out["classes"] = list(names)
        return out


def segmentation_scores(
    truth: np.ndarray, prediction: np.ndarray, num_classes: int, *, ignore_index: int | None = None
) -> SegmentationScores:
    """Scores of a predicted class map against the true one (see the module docstring)."""
    return SegmentationScores(confusion_matrix(truth, prediction, num_classes, ignore_index=ignore_index))


def _class_ids(classes: Mapping[str, int] | Sequence[str]) -> dict[str, int]:
    if isinstance(classes, Mapping):
        ids = dict(classes)
    else:
        ids = {}
        for i, name in enumerate(classes):
            if name in ids:
                raise ValueError(f"class {name!r} is listed twice")
            ids[name] = i
    for name, v in ids.items():
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"class id of {name!r} must be a non-negative integer, got {v!r}")
    return ids


def class_map(
    shapes: Sequence[Shape],
    height: int,
    width: int,
    classes: Mapping[str, int] | Sequence[str],
    *,
    background: int = 0,
) -> np.ndarray:
    """Paint shapes into a ``(height, width)`` int64 class map.

    ``classes`` gives each label its class id: a mapping ``label -> id``, or a sequence of labels
    whose positions are the ids (so list the background first when it is class 0). Pixels no shape
    covers get ``background``. Shapes are painted in ``z_order`` (list order among equals), each
    over what is below, with :func:`limner.core.geometry.rasterize` (pixel centres); kinds without
    area (tags, polylines, points, skeletons) are skipped. A label without a class raises
    ValueError.
    """
    ids = _class_ids(classes)
    out = np.full((height, width), background, np.int64)
    order = sorted(range(len(shapes)), key=lambda i: shapes[i].z_order)
    for i in order:
        s = shapes[i]
        if s.kind not in _AREA_KINDS:
            continue
        cid = ids.get(s.label)
        if cid is None:
            raise ValueError(f"shapes[{i}]: label {s.label!r} has no class id (classes: {', '.join(map(str, ids))})")
        out[rasterize(s.kind, s.geometry, height, width).astype(bool)] = cid
    return out


def shape_segmentation_scores(
    truth: Sequence[Shape],
    prediction: Sequence[Shape],
    height: int,
    width: int,
    classes: Mapping[str, int] | Sequence[str],
    *,
    background: int = 0,
    num_classes: int | None = None,
) -> SegmentationScores:
    """Scores of two shape lists of one image, each painted with :func:`class_map`.
    ``num_classes`` defaults to one more than the largest class id (background included)."""
    ids = _class_ids(classes)
    n = num_classes if num_classes is not None else max([background, *ids.values()]) + 1
    t = class_map(truth, height, width, ids, background=background)
    p = class_map(prediction, height, width, ids, background=background)
    return segmentation_scores(t, p, n)
