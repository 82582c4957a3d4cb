"""The assistance registry and the declared input/output types."""

from __future__ import annotations

import numpy as np
import pytest

from limner import assist
from limner.assist import base
from limner.errors import LimnerError, NotFound, ValidationError

BUILTINS = {"grabcut", "magic_wand", "scissors", "superpixels", "scribble", "watershed"}


def test_exported_members():
    assert sorted(assist.__all__) == sorted(
        [
            "KINDS", "PROMPT_KINDS", "Detection", "Detector", "Interactor", "InteractorResult", "PrecomputeCache",
            "Prompt", "Scribble", "Tracker", "available", "check_image", "default_cache", "describe", "get",
            "mask_to_polygons", "register", "run", "unregister",
        ]
    )
    for name in assist.__all__:
        assert hasattr(assist, name), name


def test_builtins_are_listed_and_are_interactors():
    assert BUILTINS <= set(assist.available("interactor"))
    for name in BUILTINS:
        tool = assist.get("interactor", name)
        assert isinstance(tool, assist.Interactor)
        assert tool.name == name
        assert tool.prompts <= set(assist.PROMPT_KINDS)
    described = {d["name"]: d for d in assist.describe("interactor")}
    assert described["grabcut"]["prompts"] == ["box", "mask", "point", "scribble"]
    assert described["scissors"]["title"] == "Intelligent scissors"


class _Threshold:
    """A user-supplied interactor: everything brighter than a level."""

    name = "threshold"
    title = "Threshold"
    prompts = frozenset({"point"})

    def __init__(self, level: int = 128):
        self.level = level

    def precompute(self, image):
        return image.mean(axis=2)

    def predict(self, image, prompt, state, tolerance=1.0):
        return assist.InteractorResult(mask=state > self.level, polygons=[], score=1.0)


class _Detector:
    name = "everything"
    labels = ["thing"]

    def detect(self, image):
        h, w = image.shape[:2]
        return [{"kind": "box", "label": "thing", "geometry": {"x": 0, "y": 0, "w": w, "h": h}, "confidence": 1.0,
                 "source": "everything"}]


def test_user_registered_assistants_are_found():
    assist.register("interactor", "threshold", _Threshold)
    assist.register("detector", "everything", _Detector)
    try:
        assert "threshold" in assist.available("interactor")
        tool = assist.get("interactor", "threshold", level=100)
        assert tool.level == 100 and isinstance(tool, assist.Interactor)
        img = np.zeros((4, 6, 3), np.uint8)
        img[:, 3:] = 200
        r = assist.run(tool, img, assist.Prompt(positive=[(1, 1)]))
        assert r.mask[:, 3:].all() and not r.mask[:, :3].any()
        det = assist.get("detector", "everything")
        assert isinstance(det, assist.Detector)
        assert det.detect(img)[0]["geometry"] == {"x": 0, "y": 0, "w": 6, "h": 4}
        assert "everything" in assist.available("detector")
    finally:
        assist.unregister("interactor", "threshold")
        assist.unregister("detector", "everything")
    assert "threshold" not in assist.available("interactor")


def test_unknown_name_kind_and_config_are_clear_errors():
    with pytest.raises(NotFound) as e:
        assist.get("interactor", "lasso")
    assert isinstance(e.value, LimnerError)
    assert "unknown interactor 'lasso'" in e.value.detail and "grabcut" in e.value.detail
    assert e.value.status == 404
    with pytest.raises(ValidationError, match="unknown assistant kind 'segmenter'"):
        assist.get("segmenter", "grabcut")
    with pytest.raises(ValidationError, match="interactor 'grabcut': bad configuration") as e:
        assist.get("interactor", "grabcut", iterationz=3)
    assert e.value.field == "config"
    with pytest.raises(ValidationError, match="grabcut iterations must be in"):
        assist.get("interactor", "grabcut", iterations=0)
    with pytest.raises(ValidationError, match="not callable"):
        assist.register("interactor", "x", 3)


def test_tracker_seam_is_a_protocol():
    class Still:
        name = "still"

        def start(self, frame, shapes):
            return shapes

        def step(self, frame, state):
            return state, state

    assert isinstance(Still(), assist.Tracker)
    assert not isinstance(_Threshold(), assist.Tracker)


@pytest.mark.parametrize(
    "data, field, message",
    [
        ([1, 2], "prompt", "a prompt must be an object"),
        ({"positives": []}, "positives", "unknown prompt field 'positives'"),
        ({"positive": [[1]]}, "positive[0]", "must be [x, y] numbers"),
        ({"negative": "12"}, "negative", "must be a list of [x, y]"),
        ({"box": [1, 2, 3]}, "box", "box must be [x, y, w, h]"),
        ({"box": {"x": 1, "y": 2, "w": 3}}, "box", "box is missing 'h'"),
        ({"scribbles": [{"points": [[1, 2]], "radius": "big"}]}, "scribbles[0].radius", "must be a number"),
        ({"scribbles": [3]}, "scribbles[0]", "must be an object"),
        ({"mask": {"size": [2, 2], "counts": [1]}}, "mask.rle.counts", "cover 1 pixels"),
    ],
)
def test_prompt_from_dict_rejects_bad_input(data, field, message):
    with pytest.raises(ValidationError) as e:
        assist.Prompt.from_dict(data)
    assert e.value.field == field
    assert message in e.value.detail


def test_prompt_from_dict_round_trip():
    p = assist.Prompt.from_dict(
        {
            "positive": [[10, 20]],
            "negative": [[1.5, 2]],
            "box": {"x": 1, "y": 2, "w": 30, "h": 40},
            "scribbles": [{"points": [[3, 4], [5, 6]], "positive": False, "radius": 2}],
            "mask": {"size": [2, 3], "counts": [1, 2, 3]},
        }
    )
    assert p.positive == [(10.0, 20.0)] and p.negative == [(1.5, 2.0)]
    assert p.box == (1.0, 2.0, 30.0, 40.0)
    assert p.scribbles == [assist.Scribble([(3.0, 4.0), (5.0, 6.0)], False, 2.0)]
    assert p.mask.dtype == bool and p.mask.shape == (2, 3) and p.mask.sum() == 2
    assert p.kinds == {"point", "box", "scribble", "mask"}
    assert assist.Prompt(scribbles=[([(1, 2)], True, 4)]).scribbles[0].radius == 4.0


@pytest.mark.parametrize(
    "prompt, accepts, field, message",
    [
        (assist.Prompt(positive=[(5, 5), (50, 5)]), ("point",), "positive[1]", "outside the 40x30 image"),
        (assist.Prompt(negative=[(float("nan"), 1)]), ("point",), "negative[0]", "finite"),
        (assist.Prompt(box=(1, 1, 0, 5)), ("box",), "box", "w, h >= 1"),
        (assist.Prompt(box=(45, 1, 5, 5)), ("box",), "box", "outside"),
        (assist.Prompt(box=(1, 1, 5, 5)), ("point",), "box", "does not take box prompts"),
        (assist.Prompt(scribbles=[([], True, 3)]), ("scribble",), "scribbles[0].points", "no points"),
        (assist.Prompt(scribbles=[([(1, 1)], True, 0)]), ("scribble",), "scribbles[0].radius", "radius"),
        (assist.Prompt(mask=np.zeros((3, 3), bool)), ("mask",), "mask", "3x3 but the image is 40x30"),
    ],
)
def test_prompt_check(prompt, accepts, field, message):
    with pytest.raises(ValidationError) as e:
        prompt.check(40, 30, accepts, tool="t")
    assert e.value.field == field
    assert message in e.value.detail and e.value.detail.startswith("t: ")


def test_result_to_dict():
    m = np.zeros((4, 5), bool)
    m[1:3, 1:4] = True
    r = assist.InteractorResult(mask=m, polygons=assist.mask_to_polygons(m, 0), score=0.5, elapsed_ms={"predict": 1.234})
    d = r.to_dict()
    assert d["polygons"] == [{"points": [[1.0, 1.0], [1.0, 3.0], [4.0, 3.0], [4.0, 1.0]], "holes": []}]
    assert d["mask"]["size"] == [4, 5] and isinstance(d["mask"]["counts"], str)
    assert d["elapsed_ms"] == {"predict": 1.23} and d["score"] == 0.5
    assert "mask" not in r.to_dict(rle=False)


def test_check_image():
    grey = np.zeros((5, 6), np.uint8)
    assert assist.check_image(grey).shape == (5, 6, 3)
    assert assist.check_image(np.zeros((5, 6, 4), np.uint8)).shape == (5, 6, 3)
    with pytest.raises(ValidationError, match="must be uint8, got float64"):
        assist.check_image(np.zeros((5, 6, 3)))
    with pytest.raises(ValidationError, match=r"\(height, width, 3\) RGB"):
        assist.check_image(np.zeros((5, 6, 2), np.uint8))
    with pytest.raises(ValidationError, match="at least 2x2"):
        assist.check_image(np.zeros((1, 6, 3), np.uint8))


def test_run_rejects_prompt_kinds_the_tool_does_not_take():
    img = np.zeros((20, 20, 3), np.uint8)
    with pytest.raises(ValidationError, match="scissors: does not take box prompts") as e:
        assist.run(assist.get("interactor", "scissors"), img, assist.Prompt(box=(1, 1, 5, 5)))
    assert e.value.field == "box"
    with pytest.raises(ValidationError, match="tolerance must be >= 0"):
        assist.run(assist.get("interactor", "magic_wand"), img, assist.Prompt(positive=[(1, 1)]), tolerance=-1)


def test_kinds_are_declared():
    assert base.KINDS == ("interactor", "detector", "tracker")
    assert isinstance(assist.available("tracker"), list)
