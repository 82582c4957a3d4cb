"""Label lines to shapes: ``parse_labels`` reads one label file for a task (boxes, polygons,
box + skeleton for pose, rotated boxes from 4 corners, an optional confidence column), and
``_sniff_task`` guesses detect, segment or obb from the lengths of the lines."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from limner.core.shapes import Shape
from limner.formats.base import FormatError, Report

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
