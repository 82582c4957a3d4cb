"""Intelligent scissors between clicked points."""

from __future__ import annotations

import numpy as np
import pytest

from limner import assist
from limner.errors import ValidationError

from ._synth import circle_points, disc_scene, iou


@pytest.mark.parametrize("n", [3, 4, 8])
def test_points_on_the_outline_give_the_disc(n):
    img, mask = disc_scene()
    r = assist.run(assist.get("interactor", "scissors"), img, assist.Prompt(positive=circle_points(160, 120, 60, n)))
    assert iou(r.mask, mask) >= 0.95


def test_long_segments_are_searched_scaled_down():
    img, mask = disc_scene(h=720, w=960, cx=480, cy=360, r=200)
    tool = assist.get("interactor", "scissors", max_pixels=20_000)
    r = assist.run(tool, img, assist.Prompt(positive=circle_points(480, 360, 200, 4)))
    assert iou(r.mask, mask) >= 0.93


def test_paths_are_remembered_per_image():
    img, mask = disc_scene()
    tool = assist.get("interactor", "scissors")
    cache = assist.PrecomputeCache()
    pts = circle_points(160, 120, 60, 6)
    assist.run(tool, img, assist.Prompt(positive=pts[:5]), key="a", cache=cache)
    state = cache.peek("a", "scissors")
    first = dict(state.items)
    assert len(first) == 5
    r = assist.run(tool, img, assist.Prompt(positive=pts), key="a", cache=cache)
    assert len(state.items) == 7  # two new paths: 5 -> 6 and 6 -> 1
    assert all(state.items[k] is v for k, v in first.items())
    assert iou(r.mask, mask) >= 0.95


def test_too_few_points_give_an_empty_mask_and_negatives_are_refused():
    img, _ = disc_scene()
    tool = assist.get("interactor", "scissors")
    r = assist.run(tool, img, assist.Prompt(positive=[(100, 120), (220, 120), (100, 120)]))
    assert not r.mask.any() and r.polygons == []
    with pytest.raises(ValidationError, match="positive points only") as e:
        assist.run(tool, img, assist.Prompt(positive=[(100, 120)], negative=[(5, 5)]))
    assert e.value.field == "negative"
    with pytest.raises(ValidationError, match="max_pixels must be"):
        assist.get("interactor", "scissors", max_pixels=5)
    assert np.asarray(img).shape == (240, 320, 3)
