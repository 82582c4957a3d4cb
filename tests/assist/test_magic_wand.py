"""Magic wand: flood fill within a colour tolerance."""

from __future__ import annotations

import numpy as np
import pytest

from limner import assist
from limner.errors import ValidationError

from ._synth import disc_scene, iou


def test_click_fills_the_disc():
    img, mask = disc_scene()
    r = assist.run(assist.get("interactor", "magic_wand"), img, assist.Prompt(positive=[(160, 120)]))
    assert iou(r.mask, mask) >= 0.95


def test_threshold_decides_how_far_the_fill_goes():
    img = np.zeros((20, 30, 3), np.uint8)
    img[:, :10] = 100
    img[:, 10:20] = 110
    img[:, 20:] = 200
    tight = assist.run(assist.get("interactor", "magic_wand", threshold=4, smooth=1, close=0), img, assist.Prompt(positive=[(2, 2)]))
    loose = assist.run(assist.get("interactor", "magic_wand", threshold=20, smooth=1, close=0), img, assist.Prompt(positive=[(2, 2)]))
    assert tight.mask.sum() == 200 and tight.mask[:, :10].all()
    assert loose.mask.sum() == 400 and not loose.mask[:, 20:].any()


def test_clicks_add_and_negative_clicks_remove_and_previous_mask_is_kept():
    img = np.zeros((20, 30, 3), np.uint8)
    img[:, 10:20] = 120
    img[:, 20:] = 240
    tool = assist.get("interactor", "magic_wand", smooth=1, close=0)
    both = assist.run(tool, img, assist.Prompt(positive=[(2, 2), (25, 2)]))
    assert both.mask.sum() == 400 and len(both.polygons) == 2
    minus = assist.run(tool, img, assist.Prompt(positive=[(2, 2), (25, 2)], negative=[(29, 19)]))
    assert minus.mask.sum() == 200
    prev = np.zeros((20, 30), bool)
    prev[0, 15] = True
    kept = assist.run(tool, img, assist.Prompt(positive=[(2, 2)], mask=prev))
    assert kept.mask.sum() == 201


def test_bad_input():
    img, _ = disc_scene()
    tool = assist.get("interactor", "magic_wand")
    with pytest.raises(ValidationError, match="needs a positive click"):
        assist.run(tool, img, assist.Prompt(negative=[(1, 1)]))
    with pytest.raises(ValidationError, match="threshold must be in"):
        assist.get("interactor", "magic_wand", threshold=300)
    with pytest.raises(ValidationError, match="odd size"):
        assist.get("interactor", "magic_wand", smooth=4)
