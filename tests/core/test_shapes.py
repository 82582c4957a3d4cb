"""Tests for the shape validator in limner.core.shapes (validate_geometry, validate_shape).

Table-driven: each error row names the message substring and the field the error must carry.
"""

from __future__ import annotations

import math

import pytest

from limner.core.rle import encode
from limner.core.schema import Attribute, Label, LabelSchema, Skeleton
from limner.core.shapes import SHAPE_KINDS, Shape, validate_geometry, validate_shape
from limner.errors import ValidationError

W = "shapes[4]"
KINDS = "tag, box, rotated_box, polygon, polyline, points, skeleton, ellipse, mask"
TRI = [[0, 0], [4, 0], [0, 3]]


def test_kinds_and_exports():
    import limner.core.shapes as shapes

    assert SHAPE_KINDS == tuple(KINDS.split(", "))
    assert set(shapes.__all__) == {"SHAPE_KINDS", "Shape", "validate_geometry", "validate_shape"}


# -- validate_geometry: accepted and normalised ---------------------------------------------------

RLE_2X2 = {"size": [2, 2], "counts": [1, 2, 1]}  # 0, then 1 1, then 0 (column-major)

GEOMETRY_OK = [
    ("tag", None, {}),
    ("tag", {}, {}),
    ("box", {"x": 1, "y": 2, "w": 3, "h": 4}, {"x": 1.0, "y": 2.0, "w": 3.0, "h": 4.0}),
    ("box", {"x": -1.5, "y": 0, "w": 0.5, "h": 1e6, "colour": "red"}, {"x": -1.5, "y": 0.0, "w": 0.5, "h": 1e6}),
    (
        "rotated_box",
        {"cx": 5, "cy": 5, "w": 2, "h": 1, "angle": -370},
        {"cx": 5.0, "cy": 5.0, "w": 2.0, "h": 1.0, "angle": -370.0},
    ),
    ("ellipse", {"cx": 0, "cy": 0, "rx": 1, "ry": 2, "angle": 0}, {"cx": 0.0, "cy": 0.0, "rx": 1.0, "ry": 2.0, "angle": 0.0}),
    ("polygon", {"points": TRI}, {"points": [[0.0, 0.0], [4.0, 0.0], [0.0, 3.0]], "holes": []}),
    ("polygon", {"points": [(0, 0), (4, 0), (0, 3)], "holes": None}, {"points": [[0.0, 0.0], [4.0, 0.0], [0.0, 3.0]], "holes": []}),
    (
        "polygon",
        {"points": [[0, 0], [9, 0], [9, 9], [0, 9]], "holes": [[[1, 1], [2, 1], [2, 2]]]},
        {"points": [[0.0, 0.0], [9.0, 0.0], [9.0, 9.0], [0.0, 9.0]], "holes": [[[1.0, 1.0], [2.0, 1.0], [2.0, 2.0]]]},
    ),
    ("polyline", {"points": [[0, 0], [1, 1]]}, {"points": [[0.0, 0.0], [1.0, 1.0]]}),
    ("points", {"points": [[3, 4]]}, {"points": [[3.0, 4.0]]}),
    ("skeleton", {"points": [[1, 2, 0], [3, 4, 1.0], [5, 6, 2]]}, {"points": [[1.0, 2.0, 0], [3.0, 4.0, 1], [5.0, 6.0, 2]]}),
    ("mask", {"rle": RLE_2X2}, {"rle": {"size": [2, 2], "counts": encode([[0, 1], [1, 0]])["counts"]}}),
    ("mask", {"rle": encode([[1, 1, 0], [0, 1, 1]])}, {"rle": encode([[1, 1, 0], [0, 1, 1]])}),
]


@pytest.mark.parametrize("kind, geometry, expected", GEOMETRY_OK)
def test_validate_geometry_normalises(kind, geometry, expected):
    got = validate_geometry(kind, geometry, where=W)
    assert got == expected
    for key in ("x", "y", "w", "h", "cx", "cy", "rx", "ry", "angle"):
        if key in got:
            assert type(got[key]) is float
    for p in got.get("points", []):
        assert all(type(v) is float for v in p[:2])
        if kind == "skeleton":
            assert type(p[2]) is int


def test_validate_geometry_checks_mask_size_against_the_image():
    assert validate_geometry("mask", {"rle": RLE_2X2}, where=W, height=2, width=2)["rle"]["size"] == [2, 2]


def test_validate_geometry_skeleton_size():
    pts = {"points": [[0, 0, 2], [1, 1, 2]]}
    assert len(validate_geometry("skeleton", pts, skeleton_size=2)["points"]) == 2


# -- validate_geometry: refused -------------------------------------------------------------------

GEOMETRY_ERRORS = [
    # kind, geometry, extra keyword arguments, message, field
    ("circle", {}, {}, f"{W}: unknown kind 'circle'; kinds are {KINDS}", f"{W}.kind"),
    (None, {}, {}, f"{W}: unknown kind None", f"{W}.kind"),
    ("box", [1, 2, 3, 4], {}, f"{W}: geometry must be an object", f"{W}.geometry"),
    ("tag", {"x": 1, "a": 2}, {}, f"{W}: a tag has no geometry, got keys ['a', 'x']", f"{W}.geometry"),
    ("box", {"x": 1, "y": 2}, {}, f"{W}: box needs x, y, w, h; missing w, h", f"{W}.geometry"),
    ("box", None, {}, f"{W}: box needs x, y, w, h; missing x, y, w, h", f"{W}.geometry"),
    ("box", {"x": math.nan, "y": 0, "w": 1, "h": 1}, {}, f"{W}: x must be a finite number, got nan", f"{W}.geometry.x"),
    ("box", {"x": 0, "y": math.inf, "w": 1, "h": 1}, {}, f"{W}: y must be a finite number, got inf", f"{W}.geometry.y"),
    ("box", {"x": 0, "y": True, "w": 1, "h": 1}, {}, f"{W}: y must be a finite number, got True", f"{W}.geometry.y"),
    ("box", {"x": "1", "y": 0, "w": 1, "h": 1}, {}, f"{W}: x must be a finite number, got '1'", f"{W}.geometry.x"),
    ("box", {"x": 0, "y": 0, "w": 0, "h": 5}, {}, f"{W}: box width and height must be positive, got 0.0 x 5.0", f"{W}.geometry"),
    ("box", {"x": 0, "y": 0, "w": 2, "h": -1}, {}, "box width and height must be positive, got 2.0 x -1.0", f"{W}.geometry"),
    (
        "rotated_box",
        {"cx": 0, "cy": 0, "w": 1, "h": 1},
        {},
        f"{W}: rotated_box needs cx, cy, w, h, angle; missing angle",
        f"{W}.geometry",
    ),
    (
        "rotated_box",
        {"cx": 0, "cy": 0, "w": 1, "h": 0, "angle": 0},
        {},
        f"{W}: rotated_box width and height must be positive, got 1.0 x 0.0",
        f"{W}.geometry",
    ),
    (
        "ellipse",
        {"cx": 0, "cy": 0, "rx": 0, "ry": 2, "angle": 0},
        {},
        f"{W}: ellipse radii must be positive, got 0.0 and 2.0",
        f"{W}.geometry",
    ),
    ("ellipse", {"cx": 0, "cy": 0, "rx": 1, "ry": 2}, {}, "ellipse needs cx, cy, rx, ry, angle; missing angle", f"{W}.geometry"),
    ("polygon", {"points": [[0, 0], [1, 1]]}, {}, f"{W}: polygon needs at least 3 points, got 2", f"{W}.geometry.points"),
    ("polygon", {}, {}, f"{W}: points must be a list of [x, y] pairs", f"{W}.geometry.points"),
    ("polygon", {"points": "0,0 1,1 2,2"}, {}, f"{W}: points must be a list of [x, y] pairs", f"{W}.geometry.points"),
    ("polygon", {"points": [[0, 0], [1, 2, 3], [2, 2]]}, {}, f"{W}: points[1] must be [x, y], got [1, 2, 3]", f"{W}.geometry.points[1]"),
    ("polygon", {"points": [[0, 0], 5, [2, 2]]}, {}, f"{W}: points[1] must be [x, y], got 5", f"{W}.geometry.points[1]"),
    (
        "polygon",
        {"points": [[math.inf, 0], [1, 0], [2, 2]]},
        {},
        f"{W}: points[0] must hold finite numbers, got [inf, 0]",
        f"{W}.geometry.points[0]",
    ),
    (
        "polygon",
        {"points": [[0, 0], [1, 0], [False, 2]]},
        {},
        f"{W}: points[2] must hold finite numbers, got [False, 2]",
        f"{W}.geometry.points[2]",
    ),
    ("polygon", {"points": TRI, "holes": [5]}, {}, f"{W}: holes[0] must be a list of [x, y] pairs", f"{W}.geometry.holes[0]"),
    ("polygon", {"points": TRI, "holes": "none"}, {}, f"{W}: holes must be a list of rings", f"{W}.geometry.holes"),
    (
        "polygon",
        {"points": TRI, "holes": [[[1, 1], [2, 1], [2, 2]], [[1, 1], [2, 2]]]},
        {},
        f"{W}: a polygon hole needs at least 3 points, got 2",
        f"{W}.geometry.holes[1]",
    ),
    (
        "polygon",
        {"points": TRI, "holes": [[[1, 1], [2, 1], [2, "x"]]]},
        {},
        f"{W}: holes[0][2] must hold finite numbers, got [2, 'x']",
        f"{W}.geometry.holes[0][2]",
    ),
    ("polyline", {"points": [[0, 0]]}, {}, f"{W}: polyline needs at least 2 points, got 1", f"{W}.geometry.points"),
    ("points", {"points": []}, {}, f"{W}: points needs at least 1 point, got 0", f"{W}.geometry.points"),
    ("skeleton", {"points": []}, {}, f"{W}: skeleton needs at least 1 point, got 0", f"{W}.geometry.points"),
    ("skeleton", {"points": [[1, 2]]}, {}, f"{W}: points[0] must be [x, y, visibility], got [1, 2]", f"{W}.geometry.points[0]"),
    (
        "skeleton",
        {"points": [[1, 2, 2], [1, 2, 3]]},
        {},
        f"{W}: points[1] visibility must be 0, 1 or 2, got 3",
        f"{W}.geometry.points[1]",
    ),
    ("skeleton", {"points": [[1, 2, True]]}, {}, f"{W}: points[0] visibility must be 0, 1 or 2, got True", f"{W}.geometry.points[0]"),
    ("skeleton", {"points": [[1, 2, 1.5]]}, {}, "visibility must be 0, 1 or 2, got 1.5", f"{W}.geometry.points[0]"),
    ("skeleton", {"points": [[1, 2, "2"]]}, {}, "visibility must be 0, 1 or 2, got '2'", f"{W}.geometry.points[0]"),
    (
        "skeleton",
        {"points": [[1, 2, 2], [3, 4, 2]]},
        {"skeleton_size": 3},
        f"{W}: the label's skeleton has 3 points, got 2",
        f"{W}.geometry.points",
    ),
    ("mask", {}, {}, f"{W}: a mask needs rle with size [height, width] and counts", f"{W}.geometry.rle"),
    ("mask", {"rle": {"size": [2, 2]}}, {}, f"{W}: a mask needs rle with size [height, width] and counts", f"{W}.geometry.rle"),
    (
        "mask",
        {"rle": RLE_2X2},
        {"height": 3, "width": 2},
        f"{W}: mask size 2x2 (height x width) differs from the image's 3x2",
        f"{W}.geometry.rle.size",
    ),
    (
        "mask",
        {"rle": {"size": [2, 2], "counts": [1, 2]}},
        {},
        f"{W}: rle counts cover 3 pixels, the mask has 4 (2x2)",
        f"{W}.geometry.rle.counts",
    ),
]


@pytest.mark.parametrize("kind, geometry, kwargs, message, field", GEOMETRY_ERRORS)
def test_validate_geometry_errors(kind, geometry, kwargs, message, field):
    with pytest.raises(ValidationError) as info:
        validate_geometry(kind, geometry, where=W, **kwargs)
    assert message in info.value.detail
    assert str(info.value) == info.value.detail
    assert info.value.field == field
    assert info.value.status == 422


def test_default_where_is_shape():
    with pytest.raises(ValidationError, match="^shape: polygon needs at least 3 points, got 0$"):
        validate_geometry("polygon", {"points": []})


# -- validate_shape -------------------------------------------------------------------------------


def schema() -> LabelSchema:
    return LabelSchema(
        [
            Label(
                "car",
                kinds=["box", "polygon"],
                attributes=[
                    Attribute("occluded", "checkbox", default=False),
                    Attribute("colour", "select", options=["red", "blue"]),
                    Attribute("doors", "number", minimum=1, maximum=6),
                    Attribute("plate", "text", required=True),
                ],
            ),
            Label("person", kinds=["skeleton", "box"], skeleton=Skeleton(["head", "left", "right"], [(0, 1), (0, 2)])),
            Label("anything"),
        ]
    )


BOX = {"x": 1, "y": 2, "w": 3, "h": 4}


def test_validate_shape_builds_a_shape():
    data = {
        "kind": "box",
        "label": "car",
        "geometry": BOX,
        "attributes": {"colour": "red", "plate": "AB-123", "doors": 4},
        "z_order": 3,
        "group_id": 7,
        "track_id": None,
        "source": "yolo",
        "confidence": 1,
    }
    s = validate_shape(data, index=0, schema=schema())
    assert s == Shape(
        "box",
        "car",
        {"x": 1.0, "y": 2.0, "w": 3.0, "h": 4.0},
        {"occluded": False, "colour": "red", "doors": 4, "plate": "AB-123"},
        3,
        7,
        None,
        "yolo",
        1.0,
    )
    assert isinstance(s.confidence, float)
    assert s.to_dict() == {
        "kind": "box",
        "label": "car",
        "geometry": {"x": 1.0, "y": 2.0, "w": 3.0, "h": 4.0},
        "attributes": {"occluded": False, "colour": "red", "doors": 4, "plate": "AB-123"},
        "z_order": 3,
        "group_id": 7,
        "track_id": None,
        "source": "yolo",
        "confidence": 1.0,
    }


def test_validate_shape_defaults_without_schema():
    s = validate_shape({"kind": "tag", "label": "night"}, index=2)
    assert s == Shape("tag", "night", {}, {}, 0, None, None, "manual", None)
    s = validate_shape({"kind": "points", "label": "x", "geometry": {"points": [[1, 1]]}, "attributes": {"free": [1]}}, index=0)
    assert s.attributes == {"free": [1]}


def test_validate_shape_skeleton_size_comes_from_the_label():
    ok = {"kind": "skeleton", "label": "person", "geometry": {"points": [[0, 0, 2], [1, 1, 1], [0, 0, 0]]}}
    assert len(validate_shape(ok, index=0, schema=schema()).geometry["points"]) == 3
    # a label without a skeleton does not constrain the count
    free = {"kind": "skeleton", "label": "anything", "geometry": {"points": [[0, 0, 2]]}}
    assert validate_shape(free, index=0, schema=schema()).kind == "skeleton"


def test_validate_shape_checks_the_mask_against_the_image():
    data = {"kind": "mask", "label": "anything", "geometry": {"rle": RLE_2X2}}
    assert validate_shape(data, index=0, height=2, width=2).geometry["rle"]["size"] == [2, 2]
    with pytest.raises(ValidationError, match=r"shapes\[0\]: mask size 2x2 \(height x width\) differs from the image's 4x4"):
        validate_shape(data, index=0, height=4, width=4)


def shape(**over):
    data = {"kind": "box", "label": "anything", "geometry": BOX}
    data.update(over)
    return data


SHAPE_ERRORS = [
    # data, use the schema, message, field
    ([1, 2], False, f"{W}: a shape must be an object", W),
    (shape(label=None), False, f"{W}: a shape needs a label", f"{W}.label"),
    (shape(label=""), False, f"{W}: a shape needs a label", f"{W}.label"),
    (shape(label=5), False, f"{W}: a shape needs a label", f"{W}.label"),
    (shape(label="dog"), True, f"{W}: label 'dog' is not in the project's schema", f"{W}.label"),
    (shape(label="car", kind="mask"), True, f"{W}: label 'car' allows box, polygon, not mask", f"{W}.kind"),
    (shape(kind="hexagon"), True, f"{W}: unknown kind 'hexagon'; kinds are {KINDS}", f"{W}.kind"),
    (shape(kind=None), False, f"{W}: unknown kind None", f"{W}.kind"),
    (shape(geometry={"points": [[0, 0], [1, 1]]}, kind="polygon"), False, f"{W}: polygon needs at least 3 points, got 2", f"{W}.geometry.points"),
    (
        shape(kind="skeleton", label="person", geometry={"points": [[0, 0, 2], [1, 1, 2]]}),
        True,
        f"{W}: the label's skeleton has 3 points, got 2",
        f"{W}.geometry.points",
    ),
    (shape(label="car", attributes={"plate": "x", "wheels": 4}), True, f"{W}: label 'car' has no attribute 'wheels'", f"{W}.attributes.wheels"),
    (
        shape(label="car", attributes={"plate": "x", "occluded": "yes"}),
        True,
        f"{W}: attribute 'occluded': expected true or false, got 'yes'",
        f"{W}.attributes.occluded",
    ),
    (
        shape(label="car", attributes={"plate": "x", "colour": "green"}),
        True,
        f"{W}: attribute 'colour': 'green' is not one of ['red', 'blue']",
        f"{W}.attributes.colour",
    ),
    (shape(label="car", attributes={"plate": "x", "doors": 9}), True, f"{W}: attribute 'doors': 9 is above the maximum 6", f"{W}.attributes.doors"),
    (shape(label="car", attributes={"plate": "x", "doors": 0}), True, f"{W}: attribute 'doors': 0 is below the minimum 1", f"{W}.attributes.doors"),
    (shape(label="car", attributes={"plate": "x", "doors": True}), True, f"{W}: attribute 'doors': expected a number, got True", f"{W}.attributes.doors"),
    (shape(label="car", attributes={"plate": 12}), True, f"{W}: attribute 'plate': expected text, got 12", f"{W}.attributes.plate"),
    (shape(label="car", attributes={}), True, f"{W}: required attribute 'plate' of label 'car' is missing", f"{W}.attributes.plate"),
    (shape(label="car", attributes={"plate": None}), True, f"{W}: required attribute 'plate' of label 'car' is missing", f"{W}.attributes.plate"),
    (shape(label="car", attributes="plate=x"), True, f"{W}: attributes must be an object", f"{W}.attributes"),
    (shape(attributes=[1]), False, f"{W}: attributes must be an object", f"{W}.attributes"),
    (shape(z_order="1"), False, f"{W}: z_order must be an integer", f"{W}.z_order"),
    (shape(z_order=1.0), False, f"{W}: z_order must be an integer", f"{W}.z_order"),
    (shape(z_order=True), False, f"{W}: z_order must be an integer", f"{W}.z_order"),
    (shape(group_id="3"), False, f"{W}: group_id must be an integer or null", f"{W}.group_id"),
    (shape(track_id=False), False, f"{W}: track_id must be an integer or null", f"{W}.track_id"),
    (shape(source=5), False, f"{W}: source must be text", f"{W}.source"),
    (shape(confidence=1.5), False, f"{W}: confidence must be a number in [0, 1], got 1.5", f"{W}.confidence"),
    (shape(confidence=-0.1), False, f"{W}: confidence must be a number in [0, 1], got -0.1", f"{W}.confidence"),
    (shape(confidence=math.nan), False, f"{W}: confidence must be a number in [0, 1], got nan", f"{W}.confidence"),
    (shape(confidence=True), False, f"{W}: confidence must be a number in [0, 1], got True", f"{W}.confidence"),
    (shape(confidence="0.5"), False, f"{W}: confidence must be a number in [0, 1], got '0.5'", f"{W}.confidence"),
]


@pytest.mark.parametrize("data, with_schema, message, field", SHAPE_ERRORS)
def test_validate_shape_errors(data, with_schema, message, field):
    with pytest.raises(ValidationError) as info:
        validate_shape(data, index=4, schema=schema() if with_schema else None)
    assert message in info.value.detail
    assert info.value.field == field


def test_label_rules_come_before_geometry():
    # the label is checked first, so a bad label is reported even when the geometry is bad too
    with pytest.raises(ValidationError, match="is not in the project's schema"):
        validate_shape({"kind": "polygon", "label": "dog", "geometry": {}}, index=0, schema=schema())


# -- edge cases that once failed with the wrong error -------------------------------------------


@pytest.mark.parametrize(
    "kind, geometry",
    [("box", {"x": 10**400, "y": 0, "w": 1, "h": 1}), ("polygon", {"points": [[10**400, 0], [1, 0], [1, 1]]})],
)
def test_huge_integer_coordinates_are_a_validation_error(kind, geometry):
    with pytest.raises(ValidationError, match="must"):
        validate_geometry(kind, geometry, where=W)


def test_huge_integer_number_attribute_is_a_validation_error():
    with pytest.raises(ValidationError, match="expected a number"):
        validate_shape(shape(label="car", attributes={"plate": "x", "doors": 10**400}), index=4, schema=schema())


def test_mask_error_field_is_under_geometry():
    with pytest.raises(ValidationError) as info:
        validate_geometry("mask", {"rle": {"size": [2, 2], "counts": [1, 2]}}, where=W)
    assert info.value.field == f"{W}.geometry.rle.counts"


def test_skeleton_missing_points_message_names_triples():
    with pytest.raises(ValidationError) as info:
        validate_geometry("skeleton", {}, where=W)
    assert "[x, y, visibility]" in info.value.detail


def test_skeleton_edge_that_is_not_a_pair_is_a_validation_error():
    with pytest.raises(ValidationError, match="skeleton edge 0"):
        Label.from_dict({"name": "person", "kinds": ["skeleton"], "skeleton": {"points": ["a", "b"], "edges": [1]}})


def test_non_text_colour_is_a_validation_error():
    with pytest.raises(ValidationError, match="colour must look like #rrggbb"):
        Label.from_dict({"name": "car", "color": 123})


def _points(rows):
    import numpy as np

    from limner.core.points import Points

    return Points(np.array(rows, np.float64).reshape(-1, 2))


@pytest.mark.parametrize(
    "points",
    [
        [[1.5, 2.0], [3.0, 4.0], [5.0, 0.5]],
        [[1.5, 2], [3, 4], [5, 0.5]],  # ints become floats
        [(1.5, 2.0), [3.0, 4.0], [5.0, 0.5]],  # tuples are pairs too
    ],
)
def test_float_rings_take_the_bulk_check_and_give_the_same_geometry(points):
    g = validate_geometry("polygon", {"points": points})
    assert g == {"points": [[1.5, 2.0], [3.0, 4.0], [5.0, 0.5]], "holes": []}
    assert type(g["points"]) is list and all(type(p) is list and all(type(v) is float for v in p) for p in g["points"])
    assert g["points"] is not points and (type(points) is not list or g["points"][0] is not points[0])


def test_a_readers_points_pass_the_check_as_they_are_and_store_as_their_list():
    """A reader's read-only Points is kept (no list of lists made per polygon), and the stored JSON
    text is the one its list gives."""
    from limner.store.db import json_text

    points = _points([[1.5, 2.0], [3.0, 4.0], [5.0, 0.1 + 0.2], [1e-7, 1e22]])
    g = validate_geometry("polygon", {"points": points})
    assert g["points"] is points and g["holes"] == []
    assert g == {"points": [[1.5, 2.0], [3.0, 4.0], [5.0, 0.30000000000000004], [1e-7, 1e22]], "holes": []}
    as_list = {"points": points.tolist(), "holes": []}
    assert json_text(g) == json_text(as_list) == '{"points":[[1.5,2.0],[3.0,4.0],[5.0,0.30000000000000004],[1e-7,1e+22]],"holes":[]}'
    # a view that is not contiguous (every other vertex of a bigger array) is written the same
    import numpy as np
    from limner.core.points import Points

    strided = Points(np.arange(16, dtype=np.float64).reshape(8, 2)[::2])
    assert json_text({"points": strided}) == '{"points":[[0.0,1.0],[4.0,5.0],[8.0,9.0],[12.0,13.0]]}'
    # Points of another width are checked point by point, and a pair's list comes out
    wide = Points(np.array([[1.0, 2.0, 3.0]] * 3))
    with pytest.raises(ValidationError, match=r"points\[0\] must be \[x, y\]"):
        validate_geometry("polygon", {"points": wide})


@pytest.mark.parametrize(
    "points, message",
    [
        ([[1.0, 2.0], [3.0, math.nan], [5.0, 0.5]], r"shapes\[0\]: points\[1\] must hold finite numbers, got \[3.0, nan\]"),
        ([[1.0, 2.0], [3.0, 4.0], [math.inf, 0.5]], r"points\[2\] must hold finite numbers, got \[inf, 0.5\]"),
        ([[1.0, 2.0], [3.0, 4.0], [5.0, True]], r"points\[2\] must hold finite numbers, got \[5.0, True\]"),
        ([[1.0, 2.0], [3.0, 4.0, 5.0], [5.0, 0.5]], r"points\[1\] must be \[x, y\], got \[3.0, 4.0, 5.0\]"),
        ([[1.0, 2.0], [3.0, 4.0]], r"polygon needs at least 3 points, got 2"),
        ("nan-array", r"points\[1\] must hold finite numbers, got \[3.0, nan\]"),
        ("short-array", r"polygon needs at least 3 points, got 2"),
    ],
)
def test_float_rings_that_fail_the_bulk_check_get_the_point_by_point_message(points, message):
    if points == "nan-array":
        points = _points([[1.0, 2.0], [3.0, math.nan], [5.0, 0.5]])
    elif points == "short-array":
        points = _points([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValidationError, match=message) as e:
        validate_shape({"kind": "polygon", "label": "a", "geometry": {"points": points}}, index=0)
    assert e.value.field.startswith("shapes[0].geometry.points")


def test_huge_finite_floats_whose_sum_overflows_are_accepted():
    g = validate_geometry("polyline", {"points": [[1.7e308, 1.7e308], [1.7e308, 1.7e308]]})
    assert g == {"points": [[1.7e308, 1.7e308], [1.7e308, 1.7e308]]}
