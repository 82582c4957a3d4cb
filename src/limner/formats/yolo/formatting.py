"""Shapes to label lines: ``format_labels`` writes the label file of one image for a task,
clipping shapes to the image, normalising coordinates, converting what the task cannot hold
(boxes, polygons, masks, ellipses, rotated boxes, skeletons) or dropping it, and counting each in
the Report."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from limner.core.geometry import bbox, clip, ellipse_points, is_inside, mask_to_polygons, rotated_box_corners
from limner.core.shapes import Shape
from limner.formats.base import Report

_PLURAL = {"box": "boxes", "rotated_box": "rotated boxes", "polygon": "polygons", "ellipse": "ellipses",
           "mask": "masks", "polyline": "polylines", "points": "points", "skeleton": "skeletons", "tag": "tags"}  # fmt: skip


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
