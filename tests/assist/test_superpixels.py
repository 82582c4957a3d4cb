"""Superpixel brush: whole superpixels added and removed."""

from __future__ import annotations

import numpy as np
import pytest

from limner import assist
from limner.assist.interactors.superpixels import refine_labels
from limner.errors import ValidationError

from ._synth import disc_scene, iou


def _fill_strokes(cx, cy, r, step=6):
    out = []
    for y in range(int(cy - r), int(cy + r) + 1, step):
        half = np.sqrt(max(0.0, r * r - (y - cy) ** 2))
        out.append(assist.Scribble([(cx - half, float(y)), (cx + half, float(y))], True, 3.0))
    return out


def test_strokes_over_the_disc_select_it():
    img, mask = disc_scene()
    r = assist.run(assist.get("interactor", "superpixels"), img, assist.Prompt(scribbles=_fill_strokes(160, 120, 54)))
    assert iou(r.mask, mask) >= 0.9


def test_scaled_precompute_is_refined_onto_the_edges():
    img, mask = disc_scene(h=720, w=960, cx=480, cy=360, r=180)
    tool = assist.get("interactor", "superpixels", segments=400, work_pixels=60_000)
    state = tool.precompute(img)
    assert state.labels.shape == (720, 960) and state.count == state.labels.max() + 1
    r = assist.run(tool, img, assist.Prompt(scribbles=_fill_strokes(480, 360, 165, step=12)))
    assert iou(r.mask, mask) >= 0.93


def test_clicks_add_and_remove_whole_superpixels():
    img, mask = disc_scene()
    tool = assist.get("interactor", "superpixels", segments=50)
    state = tool.precompute(img)
    one = assist.run(tool, img, assist.Prompt(positive=[(160, 120)]))
    label = state.labels[120, 160]
    assert (one.mask == (state.labels == label)).all()
    prev = one.mask.copy()
    two = assist.run(tool, img, assist.Prompt(positive=[(20, 20)], mask=prev))
    assert two.mask[prev].all() and two.mask[state.labels == state.labels[20, 20]].all()
    removed = assist.run(tool, img, assist.Prompt(positive=[(20, 20)], negative=[(160, 120)], mask=prev))
    assert not removed.mask[state.labels == label].any()


def test_refine_labels_moves_a_border_onto_the_colour_edge():
    lab = np.zeros((10, 10, 3), np.float32)
    lab[:, 5:] = 100
    labels = np.zeros((10, 10), np.int32)
    labels[:, 4:] = 1  # the label border is one column left of the colour edge
    out = refine_labels(labels, lab)
    assert (out[:, :5] == 0).all() and (out[:, 5:] == 1).all()


def test_bad_configuration():
    with pytest.raises(ValidationError, match="segments must be in"):
        assist.get("interactor", "superpixels", segments=1)
    with pytest.raises(ValidationError, match="compactness must be > 0"):
        assist.get("interactor", "superpixels", compactness=0)
