"""GrabCut from a box, refined by points."""

from __future__ import annotations

import numpy as np
import pytest

from limner import assist
from limner.assist.interactors.grabcut import gmm_log_likelihood
from limner.errors import ValidationError

from ._synth import disc_scene, iou


def test_box_alone_finds_the_disc():
    img, mask = disc_scene()
    r = assist.run(assist.get("interactor", "grabcut"), img, assist.Prompt(box=(90, 50, 140, 140)))
    assert iou(r.mask, mask) >= 0.95
    assert len(r.polygons) == 1 and r.polygons[0]["holes"] == []
    assert {"grabcut", "refine", "polygon", "total", "precompute"} <= set(r.elapsed_ms)


def test_large_image_runs_scaled_and_is_refined_at_full_resolution():
    img, mask = disc_scene(h=720, w=960, cx=480, cy=360, r=180)
    tool = assist.get("interactor", "grabcut", max_pixels=20_000)
    r = assist.run(tool, img, assist.Prompt(box=(280, 160, 400, 400)))
    assert iou(r.mask, mask) >= 0.97


def test_points_correct_the_box():
    img, mask = disc_scene()
    # a second object of the same colour inside the box: one negative click removes it
    yy, xx = np.mgrid[:240, :320]
    other = (xx - 255) ** 2 + (yy - 60) ** 2 <= 15**2
    img[other] = img[mask][: other.sum()]
    box = assist.Prompt(box=(90, 30, 190, 160))
    tool = assist.get("interactor", "grabcut")
    first = assist.run(tool, img, box)
    assert first.mask[60, 255]  # the box alone takes both
    fixed = assist.run(tool, img, assist.Prompt(box=box.box, negative=[(255, 60)], mask=first.mask))
    assert not fixed.mask[other].any()
    assert iou(fixed.mask, mask) >= 0.95


def test_previous_mask_stands_in_for_the_box_and_no_box_is_an_error():
    img, mask = disc_scene()
    tool = assist.get("interactor", "grabcut")
    r = assist.run(tool, img, assist.Prompt(positive=[(160, 120)], mask=mask))
    assert iou(r.mask, mask) >= 0.95
    with pytest.raises(ValidationError, match="grabcut needs a box") as e:
        assist.run(tool, img, assist.Prompt(positive=[(160, 120)]))
    assert e.value.field == "box"


def test_gmm_log_likelihood_prefers_its_own_colours():
    model = np.zeros(65)
    model[0] = 1.0  # one component
    model[5:8] = [200, 60, 50]
    model[20:29] = np.eye(3).ravel() * 25
    ll = gmm_log_likelihood(model, np.array([[200, 60, 50], [100, 120, 80]], float))
    assert ll[0] > ll[1]
    expected = -0.5 * (np.log(25**3) + 3 * np.log(2 * np.pi))
    assert ll[0] == pytest.approx(expected, rel=1e-3)
