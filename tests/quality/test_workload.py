"""Tests for limner.quality.workload.mix: how ground-truth assets are interleaved into a queue."""

from __future__ import annotations

import pytest

from limner.quality.workload import mix

R = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
G = [101, 102, 103]


@pytest.mark.parametrize(
    "done, gt_done, rate, limit, expected",
    [
        # rate 0: never
        (0, 0, 0.0, 5, [1, 2, 3, 4, 5]),
        # 1 in 4 of the completed work, counting the one offered: the 4th, then the 8th
        (0, 0, 0.25, 10, [1, 2, 3, 101, 4, 5, 6, 102, 7, 8]),
        # someone who did 7 assets with no ground truth yet catches up: 2 of 9 is still under 1 in 4
        (7, 0, 0.25, 3, [101, 102, 1]),
        # someone already at the rate waits for their share
        (3, 1, 0.25, 4, [1, 2, 3, 4]),
        # nothing else left: the ground truth still comes
        (0, 0, 0.25, 4, [101, 102, 103]),
        # rate 1: every asset, while they last
        (0, 0, 1.0, 5, [101, 102, 103, 1, 2]),
    ],
)
def test_ground_truth_keeps_its_share_of_the_completed_work(done, gt_done, rate, limit, expected):
    regular = R if expected != [101, 102, 103] else []
    assert mix(regular, G, done, gt_done, rate, limit) == expected
