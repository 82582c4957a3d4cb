"""The in-memory dataset that formats read and write: images (items) with their shapes and a schema."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from limner.core.schema import LabelSchema
from limner.core.shapes import Shape

__all__ = ["Dataset", "Item"]


@dataclass(slots=True)
class Item:
    """One image: its name (a POSIX path relative to the images root, e.g. ``train/0001.jpg``),
    its size in pixels when known, its subset (train/val/test/...), shapes and free metadata
    (captions, format-specific ids). ``image`` is where the image file is, when known."""

    name: str
    width: int | None = None
    height: int | None = None
    shapes: list[Shape] = field(default_factory=list)
    subset: str | None = None
    metadata: dict = field(default_factory=dict)
    image: Path | None = None


@dataclass(slots=True)
class Dataset:
    """Labels and items. ``info`` keeps what a format carries beyond them (COCO info and
    licenses, a YOLO data.yaml's extra keys), so a round trip through one format loses nothing."""

    schema: LabelSchema = field(default_factory=LabelSchema)
    items: list[Item] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    @property
    def shape_count(self) -> int:
        return sum(len(it.shapes) for it in self.items)

    def label_names(self) -> list[str]:
        """The schema's labels in order, then any label shapes use that the schema lacks."""
        names = [lb.name for lb in self.schema]
        seen = set(names)
        for it in self.items:
            for s in it.shapes:
                if s.label not in seen:
                    seen.add(s.label)
                    names.append(s.label)
        return names

    def ensure_label(self, name: str, kind: str | None = None) -> None:
        """Add a label the first time a reader meets it (readers of formats without a schema)."""
        from limner.core.schema import Label

        label = self.schema.get(name)
        if label is None:
            self.schema.add(Label(name=name, color=_color(len(self.schema))))
            label = self.schema.get(name)
        if kind is not None and label.kinds and kind not in label.kinds:
            label.kinds.append(kind)


_PALETTE = (
    "#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6",
    "#bfef45", "#fabed4", "#469990", "#dcbeff", "#9a6324", "#fffac8", "#800000", "#aaffc3",
    "#808000", "#ffd8b1", "#000075", "#a9a9a9",
)


def _color(i: int) -> str:
    return _PALETTE[i % len(_PALETTE)]
