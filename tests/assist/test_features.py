"""Per-pixel filter features and the guided filter."""

from __future__ import annotations

import numpy as np
import pytest

from limner.assist.features import DEFAULT_SCALES, feature_names, filter_features, guided_filter, guided_upsample


def test_stack_shape_names_and_flat_image():
    img = np.full((30, 40, 3), 128, np.uint8)
    f = filter_features(img)
    assert f.shape == (30, 40, 3 + 7 * len(DEFAULT_SCALES)) and f.dtype == np.float32
    names = feature_names()
    assert len(names) == f.shape[2] and names[:3] == ["L", "a", "b"]
    # a flat image: smoothing keeps the value, every derivative feature is zero
    for i, n in enumerate(names):
        if n.startswith(("dog", "gradmag", "st_")):
            assert np.abs(f[..., i]).max() < 1e-5, n
    assert np.allclose(f[..., names.index("gauss_L_2.0")], f[..., 0], atol=1e-6)


def test_edge_features_respond_to_an_edge():
    img = np.zeros((40, 40, 3), np.uint8)
    img[:, 20:] = 255
    f = filter_features(img, scales=(1.0,))
    g = f[..., feature_names((1.0,)).index("gradmag_L_1.0")]
    assert g[20, 19:21].min() > 10 * g[20, 5] and g[20, 5] < 1e-6
    st_max = f[..., feature_names((1.0,)).index("st_max_1.0")]
    st_min = f[..., feature_names((1.0,)).index("st_min_1.0")]
    assert st_max[20, 20] > 0 and abs(st_min[20, 20]) < 1e-3 * st_max[20, 20]  # an edge: one direction
    with pytest.raises(ValueError, match="positive sigmas"):
        filter_features(img, scales=(0.0,))


def test_guided_filter_snaps_a_blurry_map_to_the_guide_edge():
    guide = np.zeros((40, 40), np.float32)
    guide[:, 23:] = 1.0
    blurry = np.clip((np.arange(40, dtype=np.float32) - 15) / 16, 0, 1)[None, :].repeat(40, 0)
    out = guided_filter(guide, blurry, 4, 1e-4)
    assert out[20, 21] < 0.5 < out[20, 24]
    small_guide = guide[::4, ::4].copy()
    small = blurry[::4, ::4].copy()
    up = guided_upsample(small_guide, small, guide, 1, 1e-4)
    assert up.shape == (40, 40)
    assert up[20, 21] < 0.5 < up[20, 24]
    flat = guided_filter(guide, np.full((40, 40), 0.3, np.float32), 3)
    assert np.allclose(flat, 0.3, atol=1e-4)
