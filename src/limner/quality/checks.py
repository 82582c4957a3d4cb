"""Checks of a dataset's geometry before it is exported (and by `limner check`).

Each finding names the item, the shape index and the rule. `check_dataset(..., clip=True)` also
clips shapes that stick out of their image to it, counting what it changed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from limner.core.dataset import Dataset

__all__ = ["Finding", "check_dataset", "RULES"]

RULES = {
    "outside_image": "shape extends outside its image",
    "degenerate": "shape has no area or too few distinct points for its kind",
    "invalid_polygon": "polygon is not valid (self-intersecting or badly nested holes)",
    "mask_size": "mask size differs from its image",
}
_AREA_KINDS = {"box", "rotated_box", "polygon", "ellipse", "mask"}


@dataclass(slots=True)
class Finding:
    item: str
    shape: int
    rule: str
    message: str

    def to_dict(self) -> dict:
        return {"item": self.item, "shape": self.shape, "rule": self.rule, "message": self.message}


def _distinct(points) -> int:
    return len({(round(p[0], 6), round(p[1], 6)) for p in points})


def check_dataset(dataset: Dataset, *, clip: bool = False, limit: int = 10_000) -> tuple[list[Finding], Counter]:
    """Findings (at most `limit` listed, all counted) and the count per rule."""
    from shapely.validation import explain_validity

    from limner.core.geometry import area, bbox, clip as clip_shape
    from shapely.geometry import Polygon

    findings: list[Finding] = []
    counts: Counter = Counter()

    def add(item, i, rule, msg):
        counts[rule] += 1
        if len(findings) < limit:
            findings.append(Finding(item.name, i, rule, msg))

    for item in dataset.items:
        kept = []
        for i, sh in enumerate(item.shapes):
            g = sh.geometry
            k = sh.kind
            if k == "mask":
                size = g["rle"]["size"]
                if item.height and item.width and list(size) != [item.height, item.width]:
                    add(item, i, "mask_size", f"{item.name} shapes[{i}]: mask is {size[0]}x{size[1]}, the image {item.height}x{item.width}")
            elif k in ("polygon", "polyline", "points"):
                need = {"polygon": 3, "polyline": 2, "points": 1}[k]
                if _distinct(g["points"]) < need:
                    add(item, i, "degenerate", f"{item.name} shapes[{i}]: {k} has fewer than {need} distinct points")
                elif k == "polygon":
                    poly = Polygon(g["points"], g.get("holes") or [])
                    if not poly.is_valid:
                        add(item, i, "invalid_polygon", f"{item.name} shapes[{i}]: {explain_validity(poly)}")
                    elif poly.area <= 0:
                        add(item, i, "degenerate", f"{item.name} shapes[{i}]: polygon has zero area")
            elif k in _AREA_KINDS and area(k, g) <= 0:
                add(item, i, "degenerate", f"{item.name} shapes[{i}]: {k} has zero area")
            if item.width and item.height and k != "tag" and k != "mask":
                b = bbox(k, g)
                if b is not None and (b[0] < 0 or b[1] < 0 or b[0] + b[2] > item.width or b[1] + b[3] > item.height):
                    add(item, i, "outside_image", f"{item.name} shapes[{i}]: {k} reaches outside the {item.width}x{item.height} image")
                    if clip:
                        c = clip_shape(k, g, item.width, item.height)
                        if c is None:
                            counts["dropped_outside"] += 1
                            continue
                        sh.geometry = c
                        counts["clipped"] += 1
            kept.append(sh)
        item.shapes = kept
    return findings, counts
