"""Watershed from markers."""

from __future__ import annotations

import pytest

from limner import assist
from limner.errors import ValidationError

from ._synth import disc_scene, iou


def test_one_click_floods_the_disc():
    img, mask = disc_scene()
    r = assist.run(assist.get("interactor", "watershed"), img, assist.Prompt(positive=[(160, 120)]))
    assert iou(r.mask, mask) >= 0.95


def test_large_image_is_flooded_scaled_then_refined():
    img, mask = disc_scene(h=720, w=960, cx=480, cy=360, r=180)
    tool = assist.get("interactor", "watershed", work_pixels=30_000)
    r = assist.run(tool, img, assist.Prompt(positive=[(480, 360)], negative=[(50, 50)]))
    assert iou(r.mask, mask) >= 0.96


def test_box_and_scribbles_are_markers():
    img, mask = disc_scene()
    tool = assist.get("interactor", "watershed")
    r = assist.run(tool, img, assist.Prompt(box=(90, 50, 140, 140), scribbles=[assist.Scribble([(140, 120), (180, 120)], True, 3)]))
    assert iou(r.mask, mask) >= 0.95
    # a background scribble across the disc cuts off the part beyond it
    cut = assist.run(tool, img, assist.Prompt(positive=[(160, 90)], scribbles=[assist.Scribble([(90, 130), (230, 130)], False, 2)]))
    assert cut.mask[90, 160] and not cut.mask[150, 160]


def test_no_foreground_marker_is_an_error():
    img, _ = disc_scene()
    with pytest.raises(ValidationError, match="needs a positive click"):
        assist.run(assist.get("interactor", "watershed"), img, assist.Prompt(negative=[(5, 5)]))
    with pytest.raises(ValidationError, match="odd size"):
        assist.get("interactor", "watershed", smooth=2)
