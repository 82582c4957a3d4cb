"""Tags and labels as the classification formats hold them: an item's tag labels, once each (other
shapes, tag attributes, confidences and sources counted as not representable), a dataset's label
names (the schema's, then any others its shapes use), and labels without tagged images counted."""

from __future__ import annotations

from limner.core.dataset import Dataset, Item
from limner.formats.base import Report

_PLURAL = {"box": "boxes", "rotated_box": "rotated boxes", "polygon": "polygons", "ellipse": "ellipses",
           "mask": "masks", "polyline": "polylines", "points": "points", "skeleton": "skeletons", "tag": "tags"}  # fmt: skip


def _tags(item: Item, report: Report) -> list[str]:
    """The item's tag labels (once each); counts what a classification format cannot hold."""
    out: list[str] = []
    for s in item.shapes:
        if s.kind != "tag":
            report.drop(f"{_PLURAL[s.kind]} not representable")
            continue
        if s.attributes:
            report.drop("attributes of tags not representable")
        report.unrepresentable(s, "confidence", "source")
        if s.label not in out:
            out.append(s.label)
    return out


def _unused_labels(dataset: Dataset, report: Report) -> None:
    used = {s.label for it in dataset.items for s in it.shapes if s.kind == "tag"}
    n = sum(1 for lb in dataset.schema if lb.name not in used)
    if n:
        report.drop("labels without tagged images not representable", n)
