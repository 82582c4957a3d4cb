"""The dataset model and geometry: pure functions and small dataclasses, no I/O."""

from limner.core.dataset import Dataset, Item
from limner.core.schema import ATTRIBUTE_KINDS, Attribute, Label, LabelSchema, Skeleton
from limner.core.shapes import SHAPE_KINDS, Shape, validate_geometry, validate_shape

__all__ = [
    "ATTRIBUTE_KINDS",
    "SHAPE_KINDS",
    "Attribute",
    "Dataset",
    "Item",
    "Label",
    "LabelSchema",
    "Shape",
    "Skeleton",
    "validate_geometry",
    "validate_shape",
]
