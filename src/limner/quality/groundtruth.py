"""Quality against ground truth: COCO-style AP of detections, and shape-by-shape checks of an
annotator's work (honeypots, review of a job).

**AP** (:func:`coco_ap`): pycocotools' ``COCOeval`` on COCO objects built in memory from two
datasets, the ground truth and the detections (each shape's ``confidence`` is its score; a shape
without one scores 1.0). Items are matched by name; detections on items the ground truth lacks are
ignored. Instances: shapes with the same ``group_id`` and label form one instance (as the COCO
reader makes them), every other shape is one; only area kinds (box, rotated box, polygon, ellipse,
mask) take part. ``iou_type="bbox"`` uses the instance's box (the union of its box shapes, else of
its shapes' bounding boxes); ``"segm"`` its pixels, rasterised with Limner's pixel-centre rule
(:func:`limner.core.geometry.rasterize`) for both sides, which needs every item's height and width.
Areas, for COCO's small/medium/large ranges, are the box area (bbox) or the pixel count (segm);
``iscrowd`` is the ground-truth attribute of that name. COCO's -1 ("no ground truth") comes back
as NaN.

**Per-asset comparison** (:func:`compare_to_ground_truth`, :func:`compare_datasets`): the
annotator's shapes are matched to the ground truth's one to one by IoU (OKS for keypoints,
buffered IoU for polylines; see :mod:`limner.quality.matching`), in two rounds:

1. label by label: pairs with IoU >= ``iou_threshold`` are **valid**; ground-truth shapes left are
   **missing**, the annotator's left are **extra**;
2. among the missing and the extra, across labels: pairs that would have matched but for the label
   are **wrong labels**. Each stays counted as missing and extra (the right label is missing, the
   wrong one is extra, as a detector would be scored); ``wrong_label`` says how many of those are
   label confusions.

Valid pairs are further flagged **low overlap** (IoU below ``low_overlap_threshold``) and
**attribute mismatch** (attribute values differ; a missing key differs from a present value).
Tags take part too: two tags are "overlapping" (similarity 1.0), so a tag of the right label is
valid and a tag of another label a wrong label.

Figures: accuracy = valid / (valid + missing + extra), precision = valid / annotator's shapes =
valid / (valid + extra), recall = valid / ground-truth shapes = valid / (valid + missing); 1.0
when there is nothing to count. The label confusion matrix has ground-truth labels as rows and the
annotator's as columns, plus an ``"extra"`` row (shapes with no ground truth at all) and a
``"missing"`` column (ground truth with no counterpart at all): every shape or pair is in one cell.
:func:`sum_comparisons` adds per-asset results up for a job or an annotator.
"""

from __future__ import annotations

import contextlib
import io
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from limner.core.dataset import Dataset, Item
from limner.core.geometry import bbox as shape_bbox
from limner.core.raster import rasterize
from limner.core.shapes import Shape
from limner.quality.matching import DEFAULT_SIGMA, Match, _assign, _compare, _options, _size

__all__ = [
    "APResult",
    "AssetComparison",
    "ComparisonCounts",
    "EXTRA",
    "MISSING",
    "coco_ap",
    "compare_datasets",
    "compare_to_ground_truth",
    "sum_comparisons",
]

MISSING = "missing"
"""Column of the confusion matrix for ground-truth shapes that nothing matched."""
EXTRA = "extra"
"""Row of the confusion matrix for the annotator's shapes that matched no ground truth."""

_AREA_KINDS = ("box", "rotated_box", "polygon", "ellipse", "mask")
_NAN = float("nan")


# -- per-asset comparison ------------------------------------------------------------------------


@dataclass(slots=True)
class ComparisonCounts:
    """The counts of one comparison, or of many added up. ``confusion`` maps ``(ground-truth label,
    annotator's label)`` to a count, None standing for "no shape" on that side."""

    valid: int = 0
    missing: int = 0
    extra: int = 0
    wrong_label: int = 0
    low_overlap: int = 0
    attribute_mismatch: int = 0
    confusion: Counter = field(default_factory=Counter)

    @property
    def ground_truth(self) -> int:
        return self.valid + self.missing

    @property
    def annotated(self) -> int:
        return self.valid + self.extra

    @property
    def accuracy(self) -> float:
        n = self.valid + self.missing + self.extra
        return self.valid / n if n else 1.0

    @property
    def precision(self) -> float:
        return self.valid / self.annotated if self.annotated else 1.0

    @property
    def recall(self) -> float:
        return self.valid / self.ground_truth if self.ground_truth else 1.0

    def __add__(self, other: ComparisonCounts) -> ComparisonCounts:
        return ComparisonCounts(
            self.valid + other.valid,
            self.missing + other.missing,
            self.extra + other.extra,
            self.wrong_label + other.wrong_label,
            self.low_overlap + other.low_overlap,
            self.attribute_mismatch + other.attribute_mismatch,
            self.confusion + other.confusion,
        )

    def confusion_matrix(self, labels: Sequence[str] | None = None) -> tuple[list[str], list[str], np.ndarray]:
        """``(row names, column names, counts)``: rows are the ground truth's labels then
        ``"extra"``, columns the annotator's labels then ``"missing"``. ``labels`` fixes the order
        (default: sorted); labels met but not listed are appended."""
        names = list(labels) if labels is not None else []
        seen = set(names)
        for key in sorted({k for pair in self.confusion for k in pair if k is not None}):
            if key not in seen:
                names.append(key)
                seen.add(key)
        index = {name: i for i, name in enumerate(names)}
        n = len(names)
        m = np.zeros((n + 1, n + 1), np.int64)
        for (g, a), count in self.confusion.items():
            m[n if g is None else index[g], n if a is None else index[a]] += count
        return names + [EXTRA], names + [MISSING], m

    def to_dict(self) -> dict:
        return {
            "valid": self.valid,
            "missing": self.missing,
            "extra": self.extra,
            "wrong_label": self.wrong_label,
            "low_overlap": self.low_overlap,
            "attribute_mismatch": self.attribute_mismatch,
            "accuracy": self.accuracy,
            "precision": self.precision,
            "recall": self.recall,
        }


@dataclass(slots=True)
class AssetComparison:
    """One asset's comparison. Pairs are :class:`~limner.quality.matching.Match` ``(gt index,
    annotator's index, iou)``; ``missing`` are ground-truth indices, ``extra`` the annotator's
    (both include the shapes of ``wrong_label`` pairs); ``low_overlap`` and
    ``attribute_mismatches`` (``(gt index, annotator's index, differing attribute names)``) are
    subsets of ``valid``."""

    valid: list[Match] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)
    extra: list[int] = field(default_factory=list)
    wrong_label: list[Match] = field(default_factory=list)
    low_overlap: list[Match] = field(default_factory=list)
    attribute_mismatches: list[tuple[int, int, tuple[str, ...]]] = field(default_factory=list)
    counts: ComparisonCounts = field(default_factory=ComparisonCounts)


def sum_comparisons(results: Iterable[AssetComparison | ComparisonCounts]) -> ComparisonCounts:
    """The counts of many assets added up (a job, an annotator, a project)."""
    total = ComparisonCounts()
    for r in results:
        total = total + (r.counts if isinstance(r, AssetComparison) else r)
    return total


def _attributes_differ(a: dict, b: dict, only: Collection[str] | None, ignore: Collection[str]) -> tuple[str, ...]:
    keys = set(a) | set(b) if only is None else set(only)
    return tuple(sorted(k for k in keys - set(ignore) if a.get(k) != b.get(k)))


def _classify(
    gt: Sequence[Shape],
    ann: Sequence[Shape],
    S: np.ndarray,
    *,
    low_overlap_threshold: float,
    attributes: Collection[str] | None,
    ignore_attributes: Collection[str],
) -> AssetComparison:
    """Both rounds of matching on a similarity matrix computed across labels."""
    gt_tags = [i for i, s in enumerate(gt) if s.kind == "tag"]
    ann_tags = [j for j, s in enumerate(ann) if s.kind == "tag"]
    if gt_tags and ann_tags:
        S[np.ix_(gt_tags, ann_tags)] = 1.0
    gl = [s.label for s in gt]
    al = [s.label for s in ann]
    same = np.array(gl, dtype=object)[:, None] == np.array(al, dtype=object)[None, :] if gl and al else None
    out = AssetComparison()
    c = out.counts
    r, k, v = (x.tolist() for x in _assign(S * same)) if same is not None else ([], [], [])
    for i, j, x in zip(r, k, v):
        m = Match(i, j, x)
        out.valid.append(m)
        c.confusion[(gl[i], al[j])] += 1
        if x < low_overlap_threshold and gt[i].kind != "tag":
            out.low_overlap.append(m)
        diff = _attributes_differ(gt[i].attributes, ann[j].attributes, attributes, ignore_attributes)
        if diff:
            out.attribute_mismatches.append((i, j, diff))
    used_g, used_a = set(r), set(k)
    out.missing = [i for i in range(len(gt)) if i not in used_g]
    out.extra = [j for j in range(len(ann)) if j not in used_a]
    if out.missing and out.extra:
        sub = S[np.ix_(out.missing, out.extra)]
        r2, k2, v2 = (x.tolist() for x in _assign(sub))
        for i, j, x in zip(r2, k2, v2):
            out.wrong_label.append(Match(out.missing[i], out.extra[j], x))
    paired_g = {m.a for m in out.wrong_label}
    paired_a = {m.b for m in out.wrong_label}
    for m in out.wrong_label:
        c.confusion[(gl[m.a], al[m.b])] += 1
    for i in out.missing:
        if i not in paired_g:
            c.confusion[(gl[i], None)] += 1
    for j in out.extra:
        if j not in paired_a:
            c.confusion[(None, al[j])] += 1
    c.valid = len(out.valid)
    c.missing = len(out.missing)
    c.extra = len(out.extra)
    c.wrong_label = len(out.wrong_label)
    c.low_overlap = len(out.low_overlap)
    c.attribute_mismatch = len(out.attribute_mismatches)
    return out


def _check_thresholds(iou_threshold: float, low_overlap_threshold: float) -> None:
    for name, v in (("iou_threshold", iou_threshold), ("low_overlap_threshold", low_overlap_threshold)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
            raise ValueError(f"{name} must be a number in [0, 1], got {v!r}")


def compare_to_ground_truth(
    ground_truth: Sequence[Shape],
    shapes: Sequence[Shape],
    *,
    iou_threshold: float = 0.5,
    low_overlap_threshold: float = 0.8,
    height: int | None = None,
    width: int | None = None,
    attributes: Collection[str] | None = None,
    ignore_attributes: Collection[str] = (),
    sigmas: Mapping[str, Sequence[float]] | None = None,
    default_sigma: float = DEFAULT_SIGMA,
    polyline_buffer: float = 2.0,
) -> AssetComparison:
    """Compare one asset's shapes with its ground truth (see the module docstring).

    ``attributes`` limits the attributes compared (default: every name either side uses);
    ``ignore_attributes`` leaves some out. ``height``/``width``: the image size, for masks against
    other kinds (default: the masks' own size) and OKS of single points.
    """
    _check_thresholds(iou_threshold, low_overlap_threshold)
    opt = _options(iou_threshold, sigmas, default_sigma, polyline_buffer, same_label=False)
    ((_, blocks),) = _compare([((ground_truth, shapes), _size(height, width))], opt)
    return _classify(
        ground_truth,
        shapes,
        blocks[(0, 1)],
        low_overlap_threshold=low_overlap_threshold,
        attributes=attributes,
        ignore_attributes=ignore_attributes,
    )


def compare_datasets(
    ground_truth: Dataset,
    annotated: Dataset,
    *,
    iou_threshold: float = 0.5,
    low_overlap_threshold: float = 0.8,
    attributes: Collection[str] | None = None,
    ignore_attributes: Collection[str] = (),
    sigmas: Mapping[str, Sequence[float]] | None = None,
    default_sigma: float = DEFAULT_SIGMA,
    polyline_buffer: float = 2.0,
) -> dict[str, AssetComparison]:
    """:func:`compare_to_ground_truth` for every item of the ground truth, in bulk: ``{item name:
    comparison}``. An item the annotated dataset lacks has all its ground truth missing; items only
    the annotated dataset has are not checked. Image sizes come from the ground-truth items."""
    _check_thresholds(iou_threshold, low_overlap_threshold)
    opt = _options(iou_threshold, sigmas, default_sigma, polyline_buffer, same_label=False)
    by_name = {it.name: it for it in annotated.items}
    pairs = [(it, by_name[it.name].shapes if it.name in by_name else []) for it in ground_truth.items]
    feed = (
        ((it.shapes, shapes), (it.height, it.width) if it.height and it.width else None) for it, shapes in pairs
    )
    out = {}
    for (it, shapes), (_, blocks) in zip(pairs, _compare(feed, opt)):
        out[it.name] = _classify(
            it.shapes,
            shapes,
            blocks[(0, 1)],
            low_overlap_threshold=low_overlap_threshold,
            attributes=attributes,
            ignore_attributes=ignore_attributes,
        )
    return out


# -- COCO AP -------------------------------------------------------------------------------------


@dataclass(slots=True)
class APResult:
    """COCO AP figures: ``ap`` (IoU 0.50:0.95), ``ap50``, ``ap75``, AP per label (NaN for a label
    without ground truth) and ``stats``, the 12 numbers ``COCOeval.summarize`` prints (-1 -> NaN)."""

    ap: float
    ap50: float
    ap75: float
    per_label: dict[str, float]
    stats: tuple[float, ...]


def _instances(item: Item) -> list[list[Shape]]:
    """The item's area shapes grouped into instances (same group id and label)."""
    groups: dict[tuple, list[Shape]] = {}
    out: list[list[Shape]] = []
    for s in item.shapes:
        if s.kind not in _AREA_KINDS:
            continue
        if s.group_id is None:
            out.append([s])
        else:
            key = (s.group_id, s.label)
            if key not in groups:
                groups[key] = []
                out.append(groups[key])
            groups[key].append(s)
    return out


def _union_box(shapes: list[Shape]) -> list[float] | None:
    boxes = [b for b in (shape_bbox(s.kind, s.geometry) for s in shapes) if b is not None]
    if not boxes:
        return None
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return [x0, y0, x1 - x0, y1 - y0]


def _coco_annotation(members: list[Shape], item: Item, iou_type: str, image_id: int, category_id: int) -> dict | None:
    from pycocotools import mask as mask_utils

    boxes = [s for s in members if s.kind == "box"]
    regions = [s for s in members if s.kind != "box"] or boxes
    ann = {"image_id": image_id, "category_id": category_id, "iscrowd": int(any(s.attributes.get("iscrowd") for s in members))}
    if iou_type == "bbox":
        bb = _union_box(boxes or members)
        if bb is None:
            return None
        ann["bbox"] = bb
        ann["area"] = bb[2] * bb[3]
    else:
        if not item.height or not item.width:
            raise ValueError(f"item {item.name!r}: segm AP rasterises shapes and needs the image's height and width")
        m = np.zeros((item.height, item.width), np.uint8)
        for s in regions:
            m |= rasterize(s.kind, s.geometry, item.height, item.width)
        rle = mask_utils.encode(np.asfortranarray(m))
        ann["segmentation"] = rle
        ann["area"] = float(mask_utils.area(rle))
        ann["bbox"] = [float(v) for v in mask_utils.toBbox(rle)]
    scores = [s.confidence for s in members if s.confidence is not None]
    ann["score"] = max(scores) if scores else 1.0
    return ann


def _coco(images: list[dict], categories: list[dict], annotations: list[dict]):
    from pycocotools.coco import COCO

    for i, a in enumerate(annotations, 1):
        a["id"] = i
    coco = COCO()
    coco.dataset = {"images": images, "categories": categories, "annotations": annotations}
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def coco_ap(ground_truth: Dataset, detections: Dataset, *, iou_type: str = "bbox") -> APResult:
    """COCO AP of ``detections`` against ``ground_truth`` with pycocotools (see the module
    docstring); ``iou_type`` is ``"bbox"`` or ``"segm"``. At most 100 detections per image count,
    the best scored, as in COCO."""
    from pycocotools.cocoeval import COCOeval

    if iou_type not in ("bbox", "segm"):
        raise ValueError(f"iou_type must be 'bbox' or 'segm', got {iou_type!r}")
    names = ground_truth.label_names()
    for lb in detections.label_names():
        if lb not in names:
            names.append(lb)
    cat = {lb: i for i, lb in enumerate(names, 1)}
    categories = [{"id": i, "name": lb} for lb, i in cat.items()]
    images, gt_anns, dt_anns = [], [], []
    image_of: dict[str, tuple[int, Item]] = {}
    for k, it in enumerate(ground_truth.items, 1):
        if it.name in image_of:
            raise ValueError(f"ground truth: item name {it.name!r} appears twice")
        image_of[it.name] = (k, it)
        images.append({"id": k, "file_name": it.name, "height": it.height or 0, "width": it.width or 0})
        for members in _instances(it):
            ann = _coco_annotation(members, it, iou_type, k, cat[members[0].label])
            if ann is not None:
                del ann["score"]
                gt_anns.append(ann)
    for it in detections.items:
        if it.name not in image_of:
            continue
        k, gt_item = image_of[it.name]
        sized = Item(it.name, gt_item.width, gt_item.height, it.shapes)
        for members in _instances(sized):
            ann = _coco_annotation(members, sized, iou_type, k, cat[members[0].label])
            if ann is not None:
                ann["iscrowd"] = 0
                dt_anns.append(ann)
    gt = _coco(images, categories, gt_anns)
    dt = _coco(images, categories, dt_anns)
    ev = COCOeval(gt, dt, iou_type)
    with contextlib.redirect_stdout(io.StringIO()):
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    stats = tuple(_NAN if v == -1 else float(v) for v in ev.stats)
    precision = ev.eval["precision"]  # [iou thresholds, recall points, categories, areas, max dets]
    per_label = {}
    for k, cid in enumerate(ev.params.catIds):
        p = precision[:, :, k, 0, -1]
        p = p[p > -1]
        per_label[names[cid - 1]] = float(p.mean()) if p.size else _NAN
    return APResult(stats[0], stats[1], stats[2], per_label, stats)
