"""The in-memory dataset that formats read and write: images (items) with their shapes and a schema."""

from __future__ import annotations

from dataclasses import dataclass, field

from limner.core.schema import LabelSchema
from limner.core.shapes import Shape

__all__ = ["Dataset", "Item"]


@dataclass(slots=True)
class Item:
    """One image: its file name relative to the dataset root, size, subset and shapes."""

    name: str
    width: int | None = None
    height: int | None = None
    shapes: list[Shape] = field(default_factory=list)
    subset: str | None = None
    metadata: dict = field(default_factory=dict)


@dataclass(slots=True)
class Dataset:
    schema: LabelSchema = field(default_factory=LabelSchema)
    items: list[Item] = field(default_factory=list)
