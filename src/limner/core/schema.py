"""Label schema: labels with colour, allowed shape kinds, attributes, parent and keypoint skeleton."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from limner.errors import ValidationError

__all__ = ["ATTRIBUTE_KINDS", "Attribute", "Label", "LabelSchema", "Skeleton"]

ATTRIBUTE_KINDS = ("select", "checkbox", "number", "text")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(slots=True)
class Attribute:
    name: str
    kind: str
    options: list[str] = field(default_factory=list)
    default: Any = None
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None

    def __post_init__(self) -> None:
        where = f"attribute {self.name!r}"
        if not self.name or not isinstance(self.name, str):
            raise ValidationError("an attribute needs a name", field="name")
        if self.kind not in ATTRIBUTE_KINDS:
            raise ValidationError(
                f"{where}: kind must be one of {', '.join(ATTRIBUTE_KINDS)}, got {self.kind!r}", field="kind"
            )
        if self.kind == "select":
            if not self.options:
                raise ValidationError(f"{where}: a select attribute needs at least one option", field="options")
            if len(set(self.options)) != len(self.options):
                raise ValidationError(f"{where}: options must be unique", field="options")
        if self.default is not None:
            try:
                self.default = self.check(self.default)
            except ValidationError as e:
                raise ValidationError(f"{e.detail} (the default value)", field="default") from None

    def check(self, value: Any) -> Any:
        """Return the value in its canonical type, or raise naming the rule it breaks."""
        where = f"attribute {self.name!r}"
        if self.kind == "select":
            if value not in self.options:
                raise ValidationError(f"{where}: {value!r} is not one of {self.options}", field=self.name)
            return value
        if self.kind == "checkbox":
            if not isinstance(value, bool):
                raise ValidationError(f"{where}: expected true or false, got {value!r}", field=self.name)
            return value
        if self.kind == "number":
            ok = not isinstance(value, bool) and isinstance(value, (int, float))
            try:
                ok = ok and math.isfinite(value)
            except OverflowError:
                ok = False
            if not ok:
                shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
                raise ValidationError(f"{where}: expected a number, got {shown}", field=self.name)
            if self.minimum is not None and value < self.minimum:
                raise ValidationError(f"{where}: {value} is below the minimum {self.minimum}", field=self.name)
            if self.maximum is not None and value > self.maximum:
                raise ValidationError(f"{where}: {value} is above the maximum {self.maximum}", field=self.name)
            return value
        if not isinstance(value, str):
            raise ValidationError(f"{where}: expected text, got {value!r}", field=self.name)
        return value

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "options": list(self.options),
            "default": self.default,
            "required": self.required,
            "minimum": self.minimum,
            "maximum": self.maximum,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Attribute:
        return cls(
            name=d.get("name", ""),
            kind=d.get("kind", ""),
            options=list(d.get("options") or []),
            default=d.get("default"),
            required=bool(d.get("required", False)),
            minimum=d.get("minimum"),
            maximum=d.get("maximum"),
        )


@dataclass(slots=True)
class Skeleton:
    """Named keypoints and the edges joining them (pairs of point indices), with optional template
    positions: one [x, y] per point in 0..1 of the template's box, where the editor places a new
    skeleton."""

    points: list[str]
    edges: list[tuple[int, int]] = field(default_factory=list)
    positions: list[tuple[float, float]] | None = None

    def __post_init__(self) -> None:
        if not self.points:
            raise ValidationError("a skeleton needs at least one named point", field="skeleton.points")
        if len(set(self.points)) != len(self.points):
            raise ValidationError("skeleton point names must be unique", field="skeleton.points")
        n = len(self.points)
        edges = []
        for i, e in enumerate(self.edges):
            if (
                not isinstance(e, (list, tuple))
                or len(e) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < n for v in e)
                or e[0] == e[1]
            ):
                raise ValidationError(
                    f"skeleton edge {i} must join two different point indices in 0..{n - 1}, got {e!r}",
                    field=f"skeleton.edges[{i}]",
                )
            edges.append((e[0], e[1]))
        self.edges = edges
        if self.positions is not None:
            self.positions = _positions(self.positions, n)

    def to_dict(self) -> dict:
        out = {"points": list(self.points), "edges": [list(e) for e in self.edges]}
        if self.positions is not None:
            out["positions"] = [list(p) for p in self.positions]
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Skeleton:
        return cls(points=list(d.get("points") or []), edges=list(d.get("edges") or []), positions=d.get("positions"))


def _positions(positions, n: int) -> list[tuple[float, float]]:
    """Check a skeleton template: one [x, y] pair in 0..1 per point."""
    if not isinstance(positions, (list, tuple)) or len(positions) != n:
        got = len(positions) if isinstance(positions, (list, tuple)) else repr(positions)
        raise ValidationError(
            f"skeleton positions must hold one [x, y] per point ({n}), got {got}", field="skeleton.positions"
        )
    out = []
    for i, p in enumerate(positions):
        ok = isinstance(p, (list, tuple)) and len(p) == 2
        ok = ok and all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1 for v in p)
        if not ok:
            raise ValidationError(
                f"skeleton position {i} must be [x, y] with both in 0..1, got {p!r}", field=f"skeleton.positions[{i}]"
            )
        out.append((float(p[0]), float(p[1])))
    return out


@dataclass(slots=True)
class Label:
    name: str
    color: str = "#1f77b4"
    kinds: list[str] = field(default_factory=list)  # empty: every kind allowed
    attributes: list[Attribute] = field(default_factory=list)
    parent: str | None = None
    skeleton: Skeleton | None = None

    def __post_init__(self) -> None:
        from limner.core.shapes import SHAPE_KINDS

        if not isinstance(self.name, str) or not self.name.strip():
            raise ValidationError("a label needs a non-empty name", field="name")
        if not isinstance(self.color, str) or not _COLOR.match(self.color):
            raise ValidationError(f"label {self.name!r}: colour must look like #rrggbb, got {self.color!r}", field="color")
        for k in self.kinds:
            if k not in SHAPE_KINDS:
                raise ValidationError(
                    f"label {self.name!r}: unknown shape kind {k!r}; kinds are {', '.join(SHAPE_KINDS)}", field="kinds"
                )
        seen = set()
        for i, a in enumerate(self.attributes):
            if a.name in seen:
                raise ValidationError(
                    f"label {self.name!r}: attribute names must be unique; {a.name!r} comes twice",
                    field=f"attributes[{i}].name",
                )
            seen.add(a.name)
        if "skeleton" in self.kinds and self.skeleton is None:
            raise ValidationError(f"label {self.name!r}: the skeleton kind needs a skeleton", field="skeleton")

    def allows(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "color": self.color,
            "kinds": list(self.kinds),
            "attributes": [a.to_dict() for a in self.attributes],
            "parent": self.parent,
            "skeleton": self.skeleton.to_dict() if self.skeleton else None,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Label:
        sk = d.get("skeleton")
        return cls(
            name=d.get("name", ""),
            color=d.get("color") or "#1f77b4",
            kinds=list(d.get("kinds") or []),
            attributes=[_attribute(i, a) for i, a in enumerate(d.get("attributes") or [])],
            parent=d.get("parent"),
            skeleton=Skeleton.from_dict(sk) if sk else None,
        )


def _attribute(i: int, d) -> Attribute:
    """Attribute.from_dict with the error's field under attributes[i]."""
    if not isinstance(d, dict):
        raise ValidationError(f"attribute {i} must be an object, got {d!r}", field=f"attributes[{i}]")
    try:
        return Attribute.from_dict(d)
    except ValidationError as e:
        raise ValidationError(e.detail, field=f"attributes[{i}].{e.field}" if e.field else f"attributes[{i}]") from None


class LabelSchema:
    """The labels of a project by name, with the checks a shape's label and attributes must pass."""

    __slots__ = ("labels", "_by_name")

    def __init__(self, labels: list[Label] | None = None):
        self.labels: list[Label] = []
        self._by_name: dict[str, Label] = {}
        for lb in labels or []:
            self._put(lb)
        for lb in self.labels:
            self._check_parent(lb)

    def _put(self, label: Label) -> None:
        if label.name in self._by_name:
            raise ValidationError(f"label {label.name!r} exists already", field="name")
        self.labels.append(label)
        self._by_name[label.name] = label

    def _check_parent(self, label: Label) -> None:
        if label.parent is not None and label.parent not in self._by_name:
            raise ValidationError(f"label {label.name!r}: parent {label.parent!r} is not a label", field="parent")

    def add(self, label: Label) -> None:
        self._check_parent(label)
        self._put(label)

    def get(self, name: str) -> Label | None:
        return self._by_name.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self):
        return iter(self.labels)

    def __len__(self) -> int:
        return len(self.labels)

    def check_attributes(self, label: Label, values: dict | None, where: str, *, required: bool = True) -> dict:
        """Fill defaults, refuse unknown names, wrong types and (unless `required` is False, as for
        imported pre-labels) missing required values."""
        values = values or {}
        if not isinstance(values, dict):
            raise ValidationError(f"{where}: attributes must be an object", field=f"{where}.attributes")
        known = {a.name: a for a in label.attributes}
        for name in values:
            if name not in known:
                raise ValidationError(
                    f"{where}: label {label.name!r} has no attribute {name!r}", field=f"{where}.attributes.{name}"
                )
        out = {}
        for a in label.attributes:
            if values.get(a.name) is not None:
                try:
                    out[a.name] = a.check(values[a.name])
                except ValidationError as e:
                    raise ValidationError(f"{where}: {e.detail}", field=f"{where}.attributes.{a.name}") from None
            elif a.default is not None:
                out[a.name] = a.default
            elif a.required and required:
                raise ValidationError(
                    f"{where}: required attribute {a.name!r} of label {label.name!r} is missing",
                    field=f"{where}.attributes.{a.name}",
                )
        return out

