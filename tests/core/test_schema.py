"""Label schema rules the schema editor relies on: skeleton template positions and error fields
that name the attribute row."""

from __future__ import annotations

import pytest

from limner.core.schema import Label, Skeleton
from limner.errors import ValidationError


def test_skeleton_positions_round_trip():
    d = {"points": ["head", "neck", "hip"], "edges": [[0, 1], [1, 2]], "positions": [[0.5, 0.1], [0.5, 0.3], [0, 1]]}
    sk = Skeleton.from_dict(d)
    assert sk.positions == [(0.5, 0.1), (0.5, 0.3), (0.0, 1.0)]
    assert sk.to_dict() == {"points": ["head", "neck", "hip"], "edges": [[0, 1], [1, 2]],
                            "positions": [[0.5, 0.1], [0.5, 0.3], [0.0, 1.0]]}
    label = Label.from_dict({"name": "person", "kinds": ["skeleton"], "skeleton": d})
    assert Label.from_dict(label.to_dict()).to_dict() == label.to_dict()


def test_skeleton_without_positions_keeps_its_old_shape():
    sk = Skeleton.from_dict({"points": ["a", "b"], "edges": [[0, 1]]})
    assert sk.positions is None
    assert sk.to_dict() == {"points": ["a", "b"], "edges": [[0, 1]]}


@pytest.mark.parametrize(
    ("positions", "message", "field"),
    [
        ([[0.1, 0.1]], "one [x, y] per point (2), got 1", "skeleton.positions"),
        ("0.1,0.1", "one [x, y] per point (2), got '0.1,0.1'", "skeleton.positions"),
        ([[0.1, 0.1], [0.2]], "position 1 must be [x, y] with both in 0..1, got [0.2]", "skeleton.positions[1]"),
        ([[0.1, 1.5], [0.2, 0.2]], "position 0 must be [x, y] with both in 0..1, got [0.1, 1.5]", "skeleton.positions[0]"),
        ([[0.1, 0.1], [float("nan"), 0.2]], "position 1", "skeleton.positions[1]"),
        ([[0.1, 0.1], [True, 0.2]], "position 1", "skeleton.positions[1]"),
        ([[0.1, 0.1], ["0.5", 0.2]], "position 1", "skeleton.positions[1]"),
        ([[0.1, 0.1], [10**400, 0.2]], "position 1", "skeleton.positions[1]"),
    ],
)
def test_skeleton_positions_errors(positions, message, field):
    with pytest.raises(ValidationError) as info:
        Skeleton.from_dict({"points": ["a", "b"], "edges": [], "positions": positions})
    assert message in info.value.detail
    assert info.value.field == field


@pytest.mark.parametrize(
    ("attributes", "message", "field"),
    [
        ([{"name": "ok", "kind": "text"}, {"name": "size", "kind": "select", "options": []}],
         "attribute 'size': a select attribute needs at least one option", "attributes[1].options"),
        ([{"name": "", "kind": "text"}], "an attribute needs a name", "attributes[0].name"),
        ([{"name": "x", "kind": "colour"}], "kind must be one of select, checkbox, number, text", "attributes[0].kind"),
        ([{"name": "size", "kind": "select", "options": ["S", "M"], "default": "XL"}],
         "'XL' is not one of ['S', 'M'] (the default value)", "attributes[0].default"),
        ([{"name": "doors", "kind": "number", "minimum": 1, "default": 0}],
         "0 is below the minimum 1 (the default value)", "attributes[0].default"),
        ([{"name": "a", "kind": "text"}, {"name": "b", "kind": "text"}, {"name": "a", "kind": "checkbox"}],
         "attribute names must be unique; 'a' comes twice", "attributes[2].name"),
        (["occluded"], "attribute 0 must be an object", "attributes[0]"),
    ],
)
def test_attribute_errors_name_the_row(attributes, message, field):
    with pytest.raises(ValidationError) as info:
        Label.from_dict({"name": "car", "attributes": attributes})
    assert message in info.value.detail
    assert info.value.field == field
