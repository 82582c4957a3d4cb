"""The per-image precompute cache and running an interactor through it."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from limner import assist
from limner.assist.precompute import PrecomputeCache, nbytes


class _Counting:
    name = "counting"
    title = "Counting"
    prompts = frozenset({"point"})

    def __init__(self, delay: float = 0.0):
        self.calls = 0
        self.delay = delay

    def precompute(self, image):
        self.calls += 1
        time.sleep(self.delay)
        return {"grey": image.mean(axis=2).astype(np.float32)}

    def predict(self, image, prompt, state, tolerance=1.0):
        x, y = prompt.positive[0]
        m = np.zeros(image.shape[:2], bool)
        m[int(y), int(x)] = True
        return assist.InteractorResult(mask=m, elapsed_ms={"predict": 0.1})


IMG = np.zeros((10, 12, 3), np.uint8)


def test_same_key_returns_the_same_object():
    cache, tool = PrecomputeCache(), _Counting()
    a, ms_a = cache.get("asset-1", tool, IMG)
    b, ms_b = cache.get("asset-1", tool, IMG)
    assert a is b and tool.calls == 1 and ms_b == 0.0 and ms_a >= 0
    c, _ = cache.get("asset-2", tool, IMG)
    assert c is not a and tool.calls == 2
    assert cache.status("asset-1", "counting") == "ready"
    assert cache.status("asset-9", "counting") == "absent"
    assert cache.peek("asset-1", "counting") is a


def test_builtin_state_is_reused_across_clicks():
    img = np.random.default_rng(0).integers(0, 255, (40, 50, 3), dtype=np.uint8)
    tool = assist.get("interactor", "superpixels", segments=20)
    cache = PrecomputeCache()
    r1 = assist.run(tool, img, assist.Prompt(positive=[(5, 5)]), key=7, cache=cache)
    state = cache.peek(7, "superpixels")
    r2 = assist.run(tool, img, assist.Prompt(positive=[(30, 30)]), key=7, cache=cache)
    assert cache.peek(7, "superpixels") is state
    assert r1.elapsed_ms["precompute"] > 0 and r2.elapsed_ms["precompute"] == 0.0
    assert r1.mask[5, 5] and r2.mask[30, 30]
    assert (r2.mask == (state.labels == state.labels[30, 30])).all()


def test_lru_bounds_entries_and_bytes():
    cache, tool = PrecomputeCache(max_entries=2), _Counting()
    for k in ("a", "b", "c"):
        cache.get(k, tool, IMG)
    assert ("a", "counting") not in cache and ("c", "counting") in cache and len(cache) == 2
    cache.get("b", tool, IMG)  # b becomes the most recent
    cache.get("d", tool, IMG)
    assert ("c", "counting") not in cache and ("b", "counting") in cache
    small = PrecomputeCache(max_bytes=10 * 12 * 4 + 1)
    small.get("a", tool, IMG)
    small.get("b", tool, IMG)
    assert len(small) == 1 and ("b", "counting") in small and small.bytes == 480
    cache.discard("b")
    assert ("b", "counting") not in cache
    with pytest.raises(ValueError, match="max_entries must be >= 1"):
        PrecomputeCache(max_entries=0)


def test_resize_evicts_the_least_recent_states_and_the_setting_shares_the_budget():
    cache, tool = PrecomputeCache(max_entries=10), _Counting()
    for k in ("a", "b", "c"):
        cache.get(k, tool, IMG)
    assert cache.bytes == 3 * 480
    cache.resize(2 * 480)
    assert len(cache) == 2 and ("a", "counting") not in cache and cache.max_bytes == 960
    cache.resize(0)  # the most recent state stays, even over the bound
    assert len(cache) == 1 and ("c", "counting") in cache
    with pytest.raises(ValueError, match="max_bytes must be >= 0"):
        cache.resize(-1)

    from limner import assist_calls
    from limner.errors import ValidationError

    before = assist_calls.IMAGES.max_bytes, assist_calls.STATES.max_bytes
    try:
        assist_calls.set_cache_limit(500)
        assert (assist_calls.IMAGES.max_bytes, assist_calls.STATES.max_bytes) == (100 << 20, 400 << 20)
        with pytest.raises(ValidationError, match="LIMNER_ASSIST_CACHE_MB must be at least 1"):
            assist_calls.set_cache_limit(0)
    finally:
        assist_calls.IMAGES.resize(before[0])
        assist_calls.STATES.resize(before[1])


def test_concurrent_requests_compute_once():
    cache, tool = PrecomputeCache(), _Counting(delay=0.2)
    got = []
    threads = [threading.Thread(target=lambda: got.append(cache.get("k", tool, IMG)[0])) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    assert cache.status("k", "counting") == "running"
    for t in threads:
        t.join()
    assert tool.calls == 1 and len(got) == 4 and all(g is got[0] for g in got)


def test_a_failing_precompute_is_not_cached_and_frees_waiters():
    class Broken(_Counting):
        def precompute(self, image):
            self.calls += 1
            raise RuntimeError("no")

    cache, tool = PrecomputeCache(), Broken()
    for _ in range(2):
        with pytest.raises(RuntimeError):
            cache.get("k", tool, IMG)
    assert tool.calls == 2 and cache.status("k", "counting") == "absent"


def test_run_without_key_caches_nothing():
    tool = _Counting()
    r = assist.run(tool, IMG, assist.Prompt(positive=[(3, 4)]))
    assert r.mask[4, 3] and r.mask.sum() == 1 and "precompute" in r.elapsed_ms
    assist.run(tool, IMG, assist.Prompt(positive=[(3, 4)]))
    assert tool.calls == 2


def test_nbytes_walks_containers_and_slots():
    a = np.zeros(100, np.uint8)
    assert nbytes({"x": [a, (a, b"abc")]}) == 203
    from limner.assist.interactors.superpixels import SuperpixelState

    assert nbytes(SuperpixelState(labels=np.zeros((4, 4), np.int32), count=1)) == 64
