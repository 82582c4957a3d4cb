"""YOLO: the Ultralytics layout (detect, segment, pose, obb, classify) and the older darknet layouts.

Ultralytics layout::

    data.yaml                 train/val/test (folders or .txt lists of images), names, kpt_shape, ...
    images/<split>/x.jpg
    labels/<split>/x.txt      one line per object, coordinates normalised to [0, 1]; an empty file
                              for an image without objects

A label file is found from its image as Ultralytics does: the last ``/images/`` of the image's path
becomes ``/labels/`` and the suffix ``.txt`` (beside the image when the path has no ``images``).
Lines by task (each a registered format name):

=============  =====================================  =========================================
format         line                                   Limner shapes
=============  =====================================  =========================================
yolo           ``cls cx cy w h``                      box
yolo_segment   ``cls x1 y1 x2 y2 ...``                polygon (no holes)
yolo_pose      ``cls cx cy w h px py [v] ...``        box + skeleton sharing a group_id
yolo_obb       ``cls x1 y1 ... x4 y4`` (corners)      rotated_box
yolo_classify  ``<split>/<class>/img.jpg`` folders    tag
=============  =====================================  =========================================

Reading "yolo" finds the task by itself: data.yaml's ``task`` (a hint Limner writes, ignored by
Ultralytics), else ``kpt_shape``: pose, else from the label lines: every object line 9 numbers long:
obb; any longer than 6: segment; else detect. The other names force their task.
Also read as "yolo": darknet's ``obj.data`` + ``obj.names`` + ``train.txt`` (paths written from
darknet's working folder, so a leading ``data/`` is dropped) and the folder layouts ``obj.names`` +
``images/<split>`` + ``labels/<split>`` or ``Images/`` + ``Annotations/``. Image sizes come from the
image headers (read only for images whose label file has lines).

Writing: class ids are the positions of the labels in the schema, every label kept (labels unused by
the task too), so ids are the same whatever the task. data.yaml gets ``task``, ``train``/``val``/``test``,
``names`` as ``{id: name}`` and ``nc``, no ``path`` (Ultralytics then takes the yaml's folder, so the
dataset can move). Pose adds ``kpt_shape``, ``flip_idx`` (kept, or paired from left/right point
names), ``kpt_names`` ({id: [point names]}) and Limner's ``kpt_edges`` ({id: [[i, j], ...]}, ignored
by Ultralytics). Shapes are clipped to the image before normalising. What the task cannot hold is
converted or dropped and counted in the Report; confidences go in an optional last column with
``with_confidence=True`` (1 for shapes without one).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from limner.core.dataset import Dataset, Item
from limner.core.geometry import bbox, clip, ellipse_points, is_inside, mask_to_polygons, rotated_box_corners
from limner.core.schema import Skeleton
from limner.core.shapes import Shape
from limner.errors import ValidationError
from limner.formats.base import FormatError, Report, atomic_write
from limner.formats.registry import Format, register

__all__ = [
    "TASKS",
    "dataset_to_yolo",
    "detect",
    "format_labels",
    "parse_labels",
    "read",
    "write",
    "yolo_config",
    "yolo_to_dataset",
]

TASKS = {"yolo": "detect", "yolo_segment": "segment", "yolo_pose": "pose", "yolo_obb": "obb", "yolo_classify": "classify"}
IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".dng", ".mpo", ".pfm", ".heic", ".avif", ".jp2"}
)
_SPLITS = ("train", "val", "test", "minival")
_OWN_KEYS = {"path", "train", "val", "test", "minival", "names", "nc", "kpt_names", "kpt_edges", "download", "task"}
_PLURAL = {"box": "boxes", "rotated_box": "rotated boxes", "polygon": "polygons", "ellipse": "ellipses",
           "mask": "masks", "polyline": "polylines", "points": "points", "skeleton": "skeletons", "tag": "tags"}  # fmt: skip


def _is_image(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES


def _label_path(image: str) -> str:
    """Ultralytics' img2label_paths: the last /images/ becomes /labels/, the suffix .txt."""
    sa, sb = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    return sb.join(image.rsplit(sa, 1)).rsplit(".", 1)[0] + ".txt"


def _image_size(path: Path | str) -> tuple[int, int]:
    """(width, height) upright, from the header (EXIF orientations 5-8 swap them, as Ultralytics'
    exif_size and Limner's media do); no decode."""
    from PIL import Image

    with Image.open(path) as im:
        w, h = im.size
        if "exif" in im.info:
            try:
                if im.getexif().get(0x0112, 1) in (5, 6, 7, 8):
                    return h, w
            except Exception:  # damaged EXIF: the stored size
                pass
        return w, h


# -- label lines -> shapes -------------------------------------------------------------------------


def _corners_to_rotated(pts: list[tuple[float, float]]) -> tuple[dict | None, bool]:
    """A rotated box from 4 corners in order; a quadrilateral that is not a rectangle gives its
    minimum rotated rectangle (second value True)."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = pts
    w = math.hypot(x1 - x0, y1 - y0)
    h = math.hypot(x2 - x1, y2 - y1)
    if w > 0 and h > 0:
        tol = 1e-3 * max(w, h, 1.0)
        dot = (x1 - x0) * (x2 - x1) + (y1 - y0) * (y2 - y1)
        if (
            abs(dot) <= tol * max(w, h)
            and abs(math.hypot(x3 - x2, y3 - y2) - w) <= tol
            and abs(math.hypot(x0 - x3, y0 - y3) - h) <= tol
        ):
            ang = math.degrees(math.atan2(y1 - y0, x1 - x0)) + 0.0
            return {"cx": (x0 + x1 + x2 + x3) / 4, "cy": (y0 + y1 + y2 + y3) / 4, "w": w, "h": h, "angle": ang}, False
    from shapely.geometry import MultiPoint

    rect = MultiPoint(pts).minimum_rotated_rectangle
    if rect.geom_type != "Polygon" or rect.area <= 0:
        return None, True
    g, _ = _corners_to_rotated([(float(x), float(y)) for x, y in list(rect.exterior.coords)[:4]])
    return g, True


def parse_labels(
    text: str,
    *,
    task: str,
    width: int,
    height: int,
    names: list[str],
    kpt_shape: tuple[int, int] | None = None,
    file: str | Path = "",
    report: Report | None = None,
) -> list[Shape]:
    """The shapes of one label file. Coordinates are denormalised with the image size; class ids
    beyond ``names`` get the label ``class_<id>``. A malformed line raises FormatError naming the
    file and the line."""
    out: list[Shape] = []
    W, H = float(width), float(height)
    nk, nd = kpt_shape or (0, 0)
    group = 0
    for n, line in enumerate(text.splitlines(), 1):
        tok = line.split()
        if not tok:
            continue
        try:
            cid = int(tok[0]) if tok[0].isdigit() else int(float(tok[0]))
            v = [float(t) for t in tok[1:]]
        except ValueError:
            raise FormatError(file, f"expected a class id and numbers, got {line.strip()[:60]!r}", line=n) from None
        if cid < 0 or not math.isfinite(sum(v)):
            raise FormatError(file, "class id must be >= 0 and coordinates finite numbers", line=n)
        label = names[cid] if cid < len(names) else f"class_{cid}"
        m = len(v)
        conf = None
        if task == "pose":
            need = 4 + nk * nd
            if m == need + 1:
                conf, m = v[-1], need
            elif m != need:
                raise FormatError(file, f"a pose line needs 4 + {nk} x {nd} = {need} numbers (kpt_shape), got {m}", line=n)
        elif task == "obb" and m in (8, 9):
            if m == 9:
                conf, m = v[-1], 8
        elif m in (4, 5):
            if m == 5:
                conf, m = v[-1], 4
        elif m >= 6:
            if m % 2:
                conf, m = v[-1], m - 1
        else:
            raise FormatError(file, f"expected 4 box numbers or 3 or more polygon points, got {m} numbers", line=n)
        if conf is not None and not 0.0 <= conf <= 1.0:
            raise FormatError(file, f"the last column (confidence) must be in [0, 1], got {conf}", line=n)
        if m == 4 or task == "pose":
            cx, cy, bw, bh = v[0] * W, v[1] * H, v[2] * W, v[3] * H
            box = Shape("box", label, {"x": cx - bw / 2, "y": cy - bh / 2, "w": bw, "h": bh}, confidence=conf)
            if task != "pose":
                if bw > 0 and bh > 0:
                    out.append(box)
                elif report is not None:
                    report.drop("boxes of zero width or height dropped")
                continue
            group += 1
            pts = []
            for k in range(nk):
                x, y = v[4 + k * nd], v[5 + k * nd]
                if nd == 3:
                    vis = min(2, max(0, round(v[6 + k * nd])))
                else:
                    vis = 0 if x == 0 and y == 0 else 2
                pts.append([x * W, y * H, vis])
            labelled = any(p[2] for p in pts)  # a box without keypoints: all "0 0 0"
            if bw > 0 and bh > 0:
                box.group_id = group if labelled else None
                out.append(box)
            if labelled:
                out.append(Shape("skeleton", label, {"points": pts}, group_id=group, confidence=conf))
        elif task == "obb" and m == 8:
            g, fitted = _corners_to_rotated([(v[i] * W, v[i + 1] * H) for i in (0, 2, 4, 6)])
            if report is not None and fitted:
                report.drop("quadrilaterals read as their minimum rotated rectangles")
            if g is None or g["w"] <= 0 or g["h"] <= 0:
                if report is not None:
                    report.drop("degenerate rotated boxes dropped")
                continue
            out.append(Shape("rotated_box", label, g, confidence=conf))
        else:
            pts = [[v[i] * W, v[i + 1] * H] for i in range(0, m, 2)]
            out.append(Shape("polygon", label, {"points": pts, "holes": []}, confidence=conf))
    return out


def _sniff_task(texts: Iterable[str]) -> str:
    """detect, segment or obb from the lengths of object lines."""
    lengths = set()
    for text in texts:
        for line in text.splitlines():
            k = len(line.split())
            if k:
                lengths.add(k)
    if not lengths:
        return "detect"
    if lengths <= {9} or lengths <= {10}:
        return "obb"
    return "segment" if max(lengths) > 6 else "detect"


# -- shapes -> label lines -------------------------------------------------------------------------


def _fmt(values: Iterable[float], decimals: int) -> str:
    """Numbers in [0, 1] (clamped: float noise at the image border) with ``decimals`` places."""
    f = f"{{:.{decimals}f}}".format
    return " ".join([f(x if 0.0 <= x <= 1.0 else 0.0 if x < 0.0 else 1.0) for x in values])


def _unit(x: float) -> float:
    """x clamped to [0, 1] as :func:`_fmt` does (NaN becomes 1)."""
    return x if 0.0 <= x <= 1.0 else 0.0 if x < 0.0 else 1.0


_BOX_FORMATS: dict[int, Callable[..., str]] = {}


def _box_format(decimals: int) -> Callable[..., str]:
    """``f(class id, cx, cy, w, h)``: a detect line (without its newline), as :func:`_fmt` writes numbers."""
    f = _BOX_FORMATS.get(decimals)
    if f is None:
        f = _BOX_FORMATS[decimals] = ("{} " + " ".join([f"{{:.{decimals}f}}"] * 4)).format
    return f


def _losses(s: Shape, report: Report, with_confidence: bool, group_ok: bool) -> None:
    if s.attributes:
        report.drop("attributes not representable")
    if s.z_order:
        report.drop("z-orders not representable")
    if s.track_id is not None:
        report.drop("track ids not representable")
    if s.source and s.source != "manual":
        report.drop("sources not representable")
    if s.group_id is not None and not group_ok:
        report.drop("group ids not representable")
    if s.confidence is not None and not with_confidence:
        report.drop("confidences not representable (with_confidence=False)")


def _clip_box(b, W: float, H: float, report: Report):
    x, y, w, h = b
    x0, y0, x1, y1 = max(x, 0.0), max(y, 0.0), min(x + w, W), min(y + h, H)
    if x1 <= x0 or y1 <= y0:
        report.drop("shapes outside the image dropped")
        return None
    if (x0, y0, x1, y1) != (x, y, x + w, y + h):
        report.drop("shapes clipped to the image")
    return x0, y0, x1, y1


def _polygons(s: Shape, W: int, H: int, report: Report) -> list[list[list[float]]]:
    """Rings (no holes) for the segment task, clipped to the image."""
    k, g = s.kind, s.geometry
    if k == "box":
        report.drop("boxes written as 4-point polygons")
        b = _clip_box((g["x"], g["y"], g["w"], g["h"]), W, H, report)
        return [] if b is None else [[[b[0], b[1]], [b[2], b[1]], [b[2], b[3]], [b[0], b[3]]]]
    if k == "mask":
        size = g["rle"]["size"]
        if list(size) != [H, W]:
            report.problem(f"a mask of {size[0]}x{size[1]} on an image of {H}x{W} was dropped")
            return []
        report.drop("masks written as polygons")
        polys = mask_to_polygons(g["rle"])
    else:
        if k == "rotated_box":
            report.drop("rotated boxes written as polygons")
            g = {"points": rotated_box_corners(g).tolist(), "holes": []}
        elif k == "ellipse":
            report.drop("ellipses written as polygons")
            g = {"points": ellipse_points(g).tolist(), "holes": []}
        if not is_inside("polygon", g, W, H):
            g = clip("polygon", g, W, H)
            if g is None:
                report.drop("shapes outside the image dropped")
                return []
            report.drop("shapes clipped to the image")
        polys = [g]
    if any(p.get("holes") for p in polys):
        report.drop("polygon holes dropped")
    return [p["points"] for p in polys]


def format_labels(
    shapes: list[Shape],
    *,
    task: str,
    width: int,
    height: int,
    class_ids: dict[str, int],
    report: Report,
    kpt_shape: tuple[int, int] | None = None,
    with_confidence: bool = False,
    decimals: int = 6,
) -> str:
    """The text of one label file for ``shapes`` on an image ``width`` x ``height``; what the task
    cannot hold is converted or dropped and counted in ``report``."""
    W, H = width, height
    lines: list[str] = []
    paired: dict[int, Shape] = {}
    box_line = _box_format(decimals)
    if task == "pose":  # the box of each skeleton: a box of its group
        boxes: dict[tuple, Shape] = {}
        for s in shapes:
            if s.kind == "box" and s.group_id is not None:
                boxes.setdefault((s.group_id, s.label), s)
                boxes.setdefault((s.group_id, None), s)
        for s in shapes:
            if s.kind == "skeleton" and s.group_id is not None:
                b = boxes.get((s.group_id, s.label)) or boxes.get((s.group_id, None))
                if b is not None and id(b) not in paired:
                    paired[id(b)] = s
                    paired[id(s)] = b
    nk, nd = kpt_shape or (0, 0)
    for s in shapes:
        k, g = s.kind, s.geometry
        if k in ("tag", "polyline", "points") or (k == "skeleton" and task != "pose"):
            report.drop(f"{_PLURAL[k]} dropped")
            continue
        cid = class_ids[s.label]
        conf = s.confidence
        pair = paired.get(id(s))
        _losses(s, report, with_confidence, group_ok=pair is not None or k == "skeleton")  # pose: box + skeleton
        if task == "pose" and k == "box" and pair is not None:
            continue  # written with its skeleton
        tail = f" {1.0 if conf is None else conf:.{decimals}f}" if with_confidence else ""
        if task == "segment":
            for ring in _polygons(s, W, H, report):
                lines.append(f"{cid} " + _fmt((c for p in ring for c in (p[0] / W, p[1] / H)), decimals) + tail)
            continue
        if task == "obb" and k in ("rotated_box", "box"):
            if k == "box":
                report.drop("boxes written as 0-degree rotated boxes")
                g = {"cx": g["x"] + g["w"] / 2, "cy": g["y"] + g["h"] / 2, "w": g["w"], "h": g["h"], "angle": 0.0}
            corners = rotated_box_corners(g).tolist()
            if not is_inside("rotated_box", g, W, H):
                if clip("rotated_box", g, W, H) is None:
                    report.drop("shapes outside the image dropped")
                    continue
                report.drop("shapes clipped to the image")
            lines.append(f"{cid} " + _fmt((c for x, y in corners for c in (x / W, y / H)), decimals) + tail)
            continue
        if task == "obb":  # polygon, ellipse, mask: their minimum rotated rectangle
            from limner.core.geometry import to_polygon

            rect = to_polygon(k, g).minimum_rotated_rectangle
            if rect.geom_type != "Polygon" or rect.area <= 0:
                report.drop(f"empty {_PLURAL[k]} dropped")
                continue
            report.drop(f"{_PLURAL[k]} written as their minimum rotated rectangles")
            corners = [(float(x), float(y)) for x, y in list(rect.exterior.coords)[:4]]
            if not all(0 <= x <= W and 0 <= y <= H for x, y in corners):
                report.drop("shapes clipped to the image")
            lines.append(f"{cid} " + _fmt((c for x, y in corners for c in (x / W, y / H)), decimals) + tail)
            continue
        # detect and pose: a box
        sk = s if k == "skeleton" else pair
        if k == "skeleton":
            src = pair.geometry if pair is not None else None
            b = (src["x"], src["y"], src["w"], src["h"]) if src else bbox(k, g)
            if pair is None:
                report.drop("skeletons written with a box around their points")
        elif k == "box":
            b = (g["x"], g["y"], g["w"], g["h"])
        else:
            if k == "mask" and list(g["rle"]["size"]) != [H, W]:
                report.problem(f"a mask of {g['rle']['size'][0]}x{g['rle']['size'][1]} on an image of {H}x{W} was dropped")
                continue
            b = bbox(k, g)
            if k == "polygon" and b is not None and (b[0] < 0 or b[1] < 0 or b[0] + b[2] > W or b[1] + b[3] > H):
                g = clip(k, g, W, H) or g  # the box of the part inside, not the clipped box
                report.drop("shapes clipped to the image")
                b = bbox(k, g)
            report.drop(f"{_PLURAL[k]} written as their bounding boxes")
        if b is None:
            report.drop(f"empty {_PLURAL[k]} dropped")
            continue
        c = _clip_box(b, W, H, report)
        if c is None:
            continue
        x0, y0, x1, y1 = c
        line = box_line(cid, _unit((x0 + x1) / 2 / W), _unit((y0 + y1) / 2 / H), _unit((x1 - x0) / W), _unit((y1 - y0) / H))
        if task == "pose":
            pts = sk.geometry["points"] if sk is not None else []
            if sk is None:
                report.drop("boxes written without keypoints")
            elif len(pts) != nk:
                report.drop(f"skeletons of {len(pts)} points dropped (kpt_shape has {nk})")
                pts = []
            elif not is_inside("skeleton", sk.geometry, W, H):
                pts = (clip("skeleton", sk.geometry, W, H) or {"points": [[0.0, 0.0, 0]] * nk})["points"]
                report.drop("shapes clipped to the image")
            if nd == 2 and any(p[2] == 1 for p in pts):
                report.drop("keypoint visibility not representable (kpt_shape [K, 2])")
            vals: list[float] = []
            for p in pts or [[0.0, 0.0, 0]] * nk:
                if p[2] == 0:
                    vals += (0.0, 0.0, 0.0)[:nd]
                else:
                    vals += (p[0] / W, p[1] / H, float(p[2]))[:nd]
            if nd == 3:  # visibility is not a coordinate: no clamping to [0, 1]
                f = f"{{:.{decimals}f}}".format
                kp = " ".join(f(min(max(x, 0.0), 1.0)) if i % 3 != 2 else str(int(x)) for i, x in enumerate(vals))
            else:
                kp = _fmt(vals, decimals)
            line += " " + kp
        lines.append(line + tail)
    return "\n".join(lines) + ("\n" if lines else "")


# -- dataset-level converters ----------------------------------------------------------------------


def yolo_to_dataset(
    records: Iterable[dict],
    *,
    names: list[str],
    task: str,
    kpt_shape: tuple[int, int] | None = None,
    kpt_names: dict[int, list[str]] | None = None,
    kpt_edges: dict[int, list] | None = None,
    info: dict | None = None,
    report: Report | None = None,
) -> tuple[Dataset, Report]:
    """Records ``{"name", "subset", "width", "height", "image", "labels" (text), "file"}`` -> Dataset.
    ``width``/``height`` may be None for a record whose label text is empty."""
    report = report or Report(format=f"YOLO {task}")
    ds = Dataset(info={"yolo": dict(info or {}, task=task)})
    for name in names:
        ds.ensure_label(name)
    if task == "pose" and kpt_shape:
        for cid, name in enumerate(names):
            pn = (kpt_names or {}).get(cid)
            pn = [str(p) for p in pn] if pn and len(pn) == kpt_shape[0] else [str(i) for i in range(kpt_shape[0])]
            edges = [tuple(e) for e in (kpt_edges or {}).get(cid) or []]
            try:
                ds.schema.get(name).skeleton = Skeleton(points=pn, edges=edges)
            except ValidationError:
                ds.schema.get(name).skeleton = Skeleton(points=[str(i) for i in range(kpt_shape[0])])
    unknown: set[str] = set()
    known = set(names)
    sizeless: list[str] = []
    for r in records:
        item = Item(r["name"], r.get("width"), r.get("height"), subset=r.get("subset"), image=r.get("image"))
        text = r.get("labels") or ""
        if text.strip():
            if item.width is None or item.height is None:
                sizeless.append(str(r.get("file", item.name)))
            else:
                item.shapes = parse_labels(
                    text, task=task, width=item.width, height=item.height, names=names,
                    kpt_shape=kpt_shape, file=r.get("file", item.name), report=report,
                )  # fmt: skip
                for s in item.shapes:
                    if s.label not in known and s.label not in unknown:
                        unknown.add(s.label)
                        ds.ensure_label(s.label)
                        report.problem(f"{r.get('file')}: class id {s.label[6:]} is beyond the {len(names)} names")
        report.shapes += len(item.shapes)
        ds.items.append(item)
    if sizeless:
        report.problem(
            f"{len(sizeless)} label files not read: their image was not found, so their coordinates cannot be "
            f"denormalised (e.g. {sizeless[0]})"
        )
    report.items = len(ds.items)
    return ds, report


def _kpt_config(dataset: Dataset) -> tuple[int, int]:
    info = dataset.info.get("yolo") or {}
    k = next((len(lb.skeleton.points) for lb in dataset.schema if lb.skeleton is not None), None)
    ks = info.get("kpt_shape")
    if isinstance(ks, (list, tuple)) and len(ks) == 2 and ks[1] in (2, 3) and (k is None or ks[0] == k):
        return int(ks[0]), int(ks[1])
    if k is None:
        for it in dataset.items:
            for s in it.shapes:
                if s.kind == "skeleton":
                    return len(s.geometry["points"]), 3
        return 0, 3
    return k, 3


def _flip_idx(point_names: list[str]) -> list[int] | None:
    idx = {n.lower(): i for i, n in enumerate(point_names)}
    out, paired = list(range(len(point_names))), False
    for n, i in idx.items():
        for a, b in (("left", "right"), ("right", "left"), ("l_", "r_"), ("r_", "l_")):
            if a in n and n.replace(a, b) in idx:
                out[i] = idx[n.replace(a, b)]
                paired = True
                break
    return out if paired else None


def yolo_config(dataset: Dataset, *, task: str, splits: dict[str, str], names: list[str]) -> dict:
    """The data.yaml document: split folders, names as {id: name}, nc, pose keys, extra keys kept."""
    info = {k: v for k, v in (dataset.info.get("yolo") or {}).items() if k not in _OWN_KEYS}
    doc: dict = {"task": task}
    for k in ("train", "val", "test"):
        if k in splits:
            doc[k] = splits[k]
    doc.update({k: v for k, v in splits.items() if k not in doc})
    doc["nc"] = len(names)
    doc["names"] = dict(enumerate(names))
    if task == "pose":
        nk, nd = _kpt_config(dataset)
        info["kpt_shape"] = [nk, nd]
        fi = info.get("flip_idx")
        sk_labels = [(i, dataset.schema.get(n)) for i, n in enumerate(names)]
        sk_labels = [(i, lb) for i, lb in sk_labels if lb is not None and lb.skeleton is not None]
        if not (isinstance(fi, list) and len(fi) == nk):
            info.pop("flip_idx", None)
            fi = _flip_idx(sk_labels[0][1].skeleton.points) if sk_labels else None
            if fi is not None and len(fi) == nk:
                info["flip_idx"] = fi
        kn = {i: list(lb.skeleton.points) for i, lb in sk_labels if len(lb.skeleton.points) == nk}
        if kn:
            info["kpt_names"] = kn
        ke = {i: [list(e) for e in lb.skeleton.edges] for i, lb in sk_labels if lb.skeleton.edges}
        if ke:
            info["kpt_edges"] = ke
    else:
        for k in ("kpt_shape", "flip_idx"):
            info.pop(k, None)
    doc.update(info)
    return doc


def _layout_name(item: Item, subset: str) -> str:
    """``<subset>/<name>``; folders named images or labels (a Roboflow ``train/images/x.jpg``) and
    ``..`` are left out, or Ultralytics' image-to-label rule would point elsewhere."""
    parts = [p for p in item.name.replace("\\", "/").split("/") if p not in ("", ".", "..", "images", "labels")]
    if len(parts) > 1 and parts[0] == subset:
        parts = parts[1:]
    return "/".join([subset, *parts])


def dataset_to_yolo(
    dataset: Dataset,
    *,
    task: str = "detect",
    report: Report,
    size_of: Callable[[Item], tuple[int, int] | None] | None = None,
    with_confidence: bool = False,
    decimals: int = 6,
):
    """Yield ``(relative image path, label text or None, item)`` per item, in the layout
    ``<subset>/<name>`` under images/ and labels/ (None: the item could not be written)."""
    names = dataset.label_names()
    ids = {n: i for i, n in enumerate(names)}
    kpt = _kpt_config(dataset) if task == "pose" else None
    used: set[str] = set()
    for item in dataset.items:
        rel = _layout_name(item, item.subset or "train")
        stem, ext = os.path.splitext(rel)
        n = 1
        while stem.lower() in used:
            stem = f"{os.path.splitext(rel)[0]}_{n}"
            n += 1
        if n > 1:
            report.drop("images renamed so that each has its own label file")
        used.add(stem.lower())
        rel = stem + ext
        size = size_of(item) if size_of else (item.width, item.height) if item.width and item.height else None
        if size is None:
            if item.shapes:
                report.drop("shapes of images of unknown size dropped", len(item.shapes))
                report.problem(f"{item.name}: image size unknown (no width/height, image not found)")
            yield rel, "", item
            continue
        text = format_labels(
            item.shapes, task=task, width=size[0], height=size[1], class_ids=ids, report=report,
            kpt_shape=kpt, with_confidence=with_confidence, decimals=decimals,
        )  # fmt: skip
        yield rel, text, item


# -- I/O -------------------------------------------------------------------------------------------


def _load_yaml(path: Path) -> dict:
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else None
        raise FormatError(path, f"not valid YAML: {e.problem}", line=line) from None
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise FormatError(path, f"not valid YAML: {e}") from None
    if not isinstance(doc, dict):
        raise FormatError(path, "a dataset YAML must be a mapping with train, val and names")
    return doc


def _names(doc: dict, path: Path) -> list[str]:
    names = doc.get("names")
    if isinstance(names, dict):
        try:
            ids = {int(k): str(v) for k, v in names.items()}
        except (TypeError, ValueError):
            raise FormatError(path, "names keys must be class ids (integers)", key="names") from None
        if any(i < 0 for i in ids):
            raise FormatError(path, "class ids must be >= 0", key="names")
        return [ids.get(i, f"class_{i}") for i in range(max(ids, default=-1) + 1)]
    if isinstance(names, list):
        return [str(n) for n in names]
    if names is None and isinstance(doc.get("nc"), int):
        return [f"class_{i}" for i in range(doc["nc"])]
    raise FormatError(path, "expected names as a list or an {id: name} mapping", key="names")


def _walk_images(folder: Path) -> list[Path]:
    out = []
    for dirpath, dirs, files in os.walk(folder):
        dirs.sort()
        out.extend(Path(dirpath, f) for f in sorted(files) if _is_image(f))
    return out


def _list_file(txt: Path, root: Path) -> list[Path]:
    out = []
    for line in txt.read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        p = Path(s)
        if s.startswith("./"):
            p = txt.parent / s[2:]
        elif not p.is_absolute():
            cands = [txt.parent / s, root / s]
            if "/" in s:
                cands.append(root / s.split("/", 1)[1])  # darknet's data/...
            p = next((c for c in cands if c.exists()), cands[-1])
        out.append(p)
    return out


def _yaml_in(folder: Path) -> Path | None:
    p = folder / "data.yaml"
    if p.is_file():
        return p
    for y in sorted(folder.glob("*.y*ml")):
        try:
            head = y.read_bytes()[:4096].decode("utf-8", "replace")
        except OSError:
            continue
        if re.search(r"^names\s*:", head, re.M) and re.search(r"^(train|val)\s*:", head, re.M):
            return y
    return None


def _splits(path: Path) -> tuple[str, Path, dict, list[tuple[str | None, list[Path]]], Callable[[str], str]]:
    """(layout, root, yaml doc or {}, [(subset, images)], label_of)."""
    if path.is_file():
        yml, root = path, path.parent
    else:
        yml, root = _yaml_in(path), path
    if yml is not None:
        doc = _load_yaml(yml)
        base = yml.parent
        if isinstance(doc.get("path"), str) and doc["path"]:
            p = Path(doc["path"])
            p = p if p.is_absolute() else base / p
            root = p if p.is_dir() else base
        else:
            root = base
        keys = [k for k in _SPLITS if doc.get(k)]
        keys += [k for k, v in doc.items() if k not in keys and isinstance(v, str) and v.startswith("images/")]
        splits = []
        for k in keys:
            imgs: list[Path] = []
            for e in doc[k] if isinstance(doc[k], list) else [doc[k]]:
                p = root / str(e)
                if not p.exists() and str(e).startswith("../"):
                    p = root / str(e)[3:]
                if p.is_dir():
                    imgs += _walk_images(p)
                elif p.is_file():
                    imgs += _list_file(p, root)
            splits.append((k, imgs))
        return "ultralytics", root, doc, splits, _label_path
    root = path
    if (root / "obj.data").is_file():
        doc = {}
        for n, line in enumerate((root / "obj.data").read_text(encoding="utf-8").splitlines(), 1):
            if line.strip() and not line.lstrip().startswith("#"):
                if "=" not in line:
                    raise FormatError(root / "obj.data", f"expected key = value, got {line.strip()!r}", line=n)
                k, v = line.split("=", 1)
                doc[k.strip()] = v.strip()
        splits = []
        for k, subset in (("train", "train"), ("valid", "val"), ("test", "test")):
            if doc.get(k):
                txt = root / doc[k]
                if not txt.is_file() and "/" in doc[k]:
                    txt = root / doc[k].split("/", 1)[1]
                if txt.is_file():
                    splits.append((subset, _list_file(txt, root)))
        return "darknet", root, doc, splits, _label_path
    if (root / "Images").is_dir() and (root / "Annotations").is_dir():
        imgs_root, lab_root = str(root / "Images"), str(root / "Annotations")

        def label_of(img: str) -> str:
            return os.path.splitext(lab_root + img[len(imgs_root) :])[0] + ".txt"

        return "loose", root, {}, [(None, _walk_images(root / "Images"))], label_of
    if (root / "images").is_dir():
        splits = [(None, [p for p in sorted((root / "images").iterdir()) if p.is_file() and _is_image(p.name)])]
        splits += [(d.name, _walk_images(d)) for d in sorted((root / "images").iterdir()) if d.is_dir()]
        return "loose", root, {}, [s for s in splits if s[1] or s[0]], _label_path
    return "loose", root, {}, [(None, [p for p in sorted(root.iterdir()) if p.is_file() and _is_image(p.name)])], _label_path


def _names_file(root: Path) -> Path | None:
    for n in ("obj.names", "classes.txt", "classes.names"):
        if (root / n).is_file():
            return root / n
    return None


def _classify_splits(root: Path) -> list[Path]:
    return [root / s for s in ("train", "val", "test") if (root / s).is_dir()]


def _read_classify(root: Path, report: Report) -> Dataset:
    split_dirs = _classify_splits(root)
    classes = sorted({d.name for s in split_dirs for d in s.iterdir() if d.is_dir()})
    ds = Dataset(info={"yolo": {"task": "classify"}})
    for c in classes:
        ds.ensure_label(c)
    for s in split_dirs:
        for c in sorted(d for d in s.iterdir() if d.is_dir()):
            for p in _walk_images(c):
                ds.items.append(
                    Item(p.relative_to(root).as_posix(), subset=s.name, image=p, shapes=[Shape("tag", c.name)])
                )
        stray = [p.name for p in s.iterdir() if p.is_file() and _is_image(p.name)]
        if stray:
            report.problem(f"{s}: {len(stray)} images outside a class folder were skipped (e.g. {stray[0]})")
    report.items, report.shapes = len(ds.items), len(ds.items)
    return ds


def read(path: Path, *, task: str | None = None, **options) -> tuple[Dataset, Report]:
    """Read a YOLO dataset folder (or its data.yaml). ``task`` (detect, segment, pose, obb,
    classify) forces the task; by default it is found from data.yaml and the label lines."""
    path = Path(path)
    if task == "classify" or (task is None and path.is_dir() and _yaml_in(path) is None and _classify_score(path)):
        report = Report(format="YOLO classify")
        return _read_classify(path, report), report
    layout, root, doc, splits, label_of = _splits(path)
    if layout == "ultralytics":
        names = _names(doc, path if path.is_file() else _yaml_in(path))
    else:
        nf = _names_file(root)
        names = [s.strip() for s in nf.read_text(encoding="utf-8").splitlines() if s.strip()] if nf else []
    kpt_shape = None
    if doc.get("kpt_shape") is not None:
        ks = doc["kpt_shape"]
        if not (isinstance(ks, list) and len(ks) == 2 and isinstance(ks[0], int) and ks[1] in (2, 3)):
            raise FormatError(_yaml_in(root) or path, f"kpt_shape must be [K, 2] or [K, 3], got {ks!r}", key="kpt_shape")
        kpt_shape = (ks[0], ks[1])
    # gather images, their label texts, subsets
    seen: set[str] = set()
    rows = []
    label_dirs: set[str] = set()
    for subset, images in splits:
        for img in images:
            img = os.path.abspath(img)
            if img in seen:
                continue
            seen.add(img)
            lp = label_of(img)
            label_dirs.add(os.path.dirname(lp))
            try:
                with open(lp, encoding="utf-8") as f:
                    text = f.read()
            except FileNotFoundError:
                text = ""
            except UnicodeDecodeError as e:
                raise FormatError(lp, f"not UTF-8 text: {e.reason} at byte {e.start}") from None
            rows.append((subset, img, lp, text))
    if task is None and doc.get("task") in ("detect", "segment", "pose", "obb"):
        task = doc["task"]
    if task is None:
        task = "pose" if kpt_shape else _sniff_task(t for _, _, _, t in rows[:500])
    if task == "pose" and kpt_shape is None:
        raise FormatError(path, "a pose dataset needs kpt_shape [K, 2|3] in its data.yaml", key="kpt_shape")
    report = Report(format=f"YOLO {task}")
    imgs_root = root / "Images" if layout == "loose" and (root / "Images").is_dir() else root / "images"
    prefix = os.path.join(os.path.abspath(imgs_root), "")

    def records():
        for subset, img, lp, text in rows:
            exists = os.path.isfile(img)
            if not exists:
                report.missing_images.append(img)
            w = h = None
            if exists and text.strip():
                w, h = _image_size(img)
            name = img[len(prefix) :] if img.startswith(prefix) else os.path.relpath(img, root)
            yield {"name": name.replace(os.sep, "/"), "subset": subset, "width": w, "height": h,
                   "image": Path(img) if exists else None, "labels": text, "file": lp}  # fmt: skip

    extra = {k: v for k, v in doc.items() if k not in _OWN_KEYS} if layout == "ultralytics" else {}
    kn = doc.get("kpt_names")
    if isinstance(kn, list):
        kn = dict(enumerate(kn)) if kn and isinstance(kn[0], list) else {0: kn}
    ds, report = yolo_to_dataset(
        records(), names=names, task=task, kpt_shape=kpt_shape,
        kpt_names=kn if isinstance(kn, dict) else None,
        kpt_edges=doc.get("kpt_edges") if isinstance(doc.get("kpt_edges"), dict) else None,
        info=extra, report=report,
    )  # fmt: skip
    # label files without an image
    wanted = {os.path.normpath(r[2]) for r in rows}
    orphans = []
    for d in sorted(label_dirs):
        if os.path.isdir(d) and d != str(root):
            orphans += [f for f in (os.path.join(d, n) for n in os.listdir(d) if n.endswith(".txt"))
                        if os.path.normpath(f) not in wanted]  # fmt: skip
    if orphans:
        report.problem(f"{len(orphans)} label files have no image (e.g. {orphans[0]})")
    return ds, report


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", dir=dst.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _size_of(item: Item) -> tuple[int, int] | None:
    if item.width and item.height:
        return item.width, item.height
    if item.image is not None and Path(item.image).is_file():
        return _image_size(Path(item.image))
    return None


def _write_classify(dataset: Dataset, out: Path, report: Report, include_images: bool) -> Report:
    used: set[str] = set()
    for item in dataset.items:
        tags = [s for s in item.shapes if s.kind == "tag"]
        for s in item.shapes:
            if s.kind != "tag":
                report.drop(f"{_PLURAL[s.kind]} dropped")
        if not tags:
            report.drop("images without a class tag dropped")
            continue
        if len(tags) > 1:
            report.drop("tags beyond the first of an image dropped", len(tags) - 1)
        base = item.name.replace("\\", "/").rsplit("/", 1)[-1]
        rel = f"{item.subset or 'train'}/{tags[0].label}/{base}"
        if rel.lower() in used:
            rel = f"{item.subset or 'train'}/{tags[0].label}/{item.name.replace('/', '_')}"
        used.add(rel.lower())
        if not include_images:
            report.drop("images not copied (include_images=False): their class is lost")
        elif item.image is not None and Path(item.image).is_file():
            _copy(Path(item.image), out / rel)
            report.items += 1
            report.shapes += 1
        else:
            report.missing_images.append(item.name)
    return report


def write(
    dataset: Dataset,
    path: Path,
    *,
    task: str = "detect",
    include_images: bool | None = None,
    with_confidence: bool = False,
    decimals: int = 6,
    **options,
) -> Report:
    """Write ``dataset`` as a YOLO folder for ``task``. Images are copied with ``include_images``
    (default False; True for classify, whose labels are the image folders)."""
    out = Path(path)
    report = Report(format=f"YOLO {task}")
    if task == "classify":
        return _write_classify(dataset, out, report, True if include_images is None else include_images)
    if task not in ("detect", "segment", "pose", "obb"):
        raise ValueError(f"unknown YOLO task {task!r}; tasks are detect, segment, pose, obb, classify")
    names = dataset.label_names()
    subsets: dict[str, str] = {}
    for rel, text, item in dataset_to_yolo(
        dataset, task=task, report=report, size_of=_size_of, with_confidence=with_confidence, decimals=decimals
    ):
        subset = rel.split("/", 1)[0]
        if subset not in subsets:
            subsets[subset] = f"images/{subset}"
            (out / "images" / subset).mkdir(parents=True, exist_ok=True)
        atomic_write(out / "labels" / (os.path.splitext(rel)[0] + ".txt"), text)
        if include_images:
            if item.image is not None and Path(item.image).is_file():
                _copy(Path(item.image), out / "images" / rel)
            else:
                report.missing_images.append(item.name)
        report.items += 1
        report.shapes += text.count("\n")
    if "train" not in subsets:
        subsets["train"] = "images/train"
        (out / "images" / "train").mkdir(parents=True, exist_ok=True)
    if "val" not in subsets:
        subsets["val"] = subsets["train"]
        report.problem("no val subset: data.yaml's val is the train folder (Ultralytics requires a val entry)")
    import yaml

    doc = yolo_config(dataset, task=task, splits=subsets, names=names)
    atomic_write(out / "data.yaml", yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return report


# -- detection -------------------------------------------------------------------------------------


def _classify_score(path: Path) -> int:
    """A weak guess: split folders holding only class folders of images, nothing else at the root."""
    splits = _classify_splits(path)
    if not splits or (path / "labels").exists() or (path / "images").exists():
        return 0
    others = [p for p in path.iterdir() if p.name not in ("train", "val", "test") and not p.name.startswith(".")]
    if any(p.is_dir() or not p.name.endswith((".yaml", ".yml", ".md")) for p in others):
        return 0
    for s in splits:
        entries = list(s.iterdir())
        if not entries or any(not e.is_dir() for e in entries):
            return 0
        for c in entries[:20]:
            inner = list(c.iterdir())
            if not inner or any(e.is_dir() for e in inner) or not any(_is_image(e.name) for e in inner[:50]):
                return 0
    return 20


def _first_label_text(path: Path) -> str:
    for d in (path / "labels", path):
        if d.is_dir():
            for dirpath, dirs, files in os.walk(d):
                dirs.sort()
                for f in sorted(files):
                    if f.endswith(".txt") and f not in ("train.txt", "val.txt", "test.txt", "classes.txt"):
                        try:
                            with open(os.path.join(dirpath, f), encoding="utf-8", errors="replace") as fh:
                                text = fh.read(4096)
                        except OSError:
                            continue
                        if text.strip():
                            return text
    return ""


def detect(path: Path) -> int:
    """90 for a folder with an Ultralytics data.yaml (or that file), 85 for darknet's obj.data,
    70 for obj.names with images/labels or Images/Annotations folders, 20 for classify folders."""
    path = Path(path)
    try:
        if path.is_file():
            if path.suffix.lower() in (".yaml", ".yml"):
                head = path.read_bytes()[:4096].decode("utf-8", "replace")
                return 90 if re.search(r"^names\s*:", head, re.M) else 0
            return 0
        if not path.is_dir():
            return 0
        if _yaml_in(path) is not None:
            return 90
        if (path / "obj.data").is_file() and _names_file(path):
            return 85
        if (path / "obj.names").is_file() and (
            ((path / "images").is_dir() and (path / "labels").is_dir())
            or ((path / "Images").is_dir() and (path / "Annotations").is_dir())
        ):
            return 70
        return 0
    except OSError:
        return 0


def _task_detector(task: str) -> Callable[[Path], int]:
    def detect_task(path: Path) -> int:
        path = Path(path)
        if task == "classify":
            return _classify_score(path) if path.is_dir() else 0
        base = detect(path)
        if not base:
            return 0
        y = path if path.is_file() else _yaml_in(path)
        head = y.read_bytes()[:4096].decode("utf-8", "replace") if y else ""
        hint = re.search(r"^task\s*:\s*(\w+)", head, re.M)
        if hint and hint.group(1) in ("detect", "segment", "pose", "obb"):
            return base + 1 if hint.group(1) == task else 0
        if re.search(r"^kpt_shape\s*:", head, re.M):
            return base + 1 if task == "pose" else 0
        found = _sniff_task([_first_label_text(path.parent if path.is_file() else path)])
        return base + 1 if found == task else 0

    return detect_task


def _reader(task: str | None):
    def read_task(path: Path, **options) -> tuple[Dataset, Report]:
        return read(path, task=task, **options)

    return read_task


def _writer(task: str):
    def write_task(dataset: Dataset, path: Path, **options) -> Report:
        return write(dataset, path, task=task, **options)

    return write_task


_DESCRIPTIONS = {
    "detect": "YOLO detection (Ultralytics data.yaml, images/ + labels/; also darknet obj.data)",
    "segment": "YOLO instance segmentation (normalised polygons)",
    "pose": "YOLO pose (box + keypoints, kpt_shape in data.yaml)",
    "obb": "YOLO oriented boxes (4 normalised corners)",
    "classify": "YOLO classification (<split>/<class>/image folders)",
}
for _name, _task in TASKS.items():
    register(
        Format(
            _name,
            _DESCRIPTIONS[_task],
            read=_reader(None if _task == "detect" else _task),
            write=_writer(_task),
            detect=detect if _task == "detect" else _task_detector(_task),
        )
    )
