"""The per-image precompute cache, and running an interactor through it.

An interactor's ``precompute(image)`` (superpixels, filter features, an image embedding) is paid
once per image and tool; every click after that reuses it. States live in memory in an LRU keyed
by ``(asset key, tool name)``, bounded both in entries and in bytes. Concurrent requests for the
same key wait for the one computation instead of repeating it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import numpy as np

from limner.assist.base import Interactor, InteractorResult, Prompt, check_image

__all__ = ["PrecomputeCache", "default_cache", "nbytes", "run"]


def nbytes(state: Any, _depth: int = 0) -> int:
    """An estimate of the memory a state holds: the numpy arrays (and bytes) reachable through
    containers, slotted or plain objects, to a small depth."""
    if state is None or _depth > 4:
        return 0
    if isinstance(state, np.ndarray):
        return int(state.nbytes)
    if isinstance(state, (bytes, bytearray)):
        return len(state)
    if isinstance(state, dict):
        return sum(nbytes(v, _depth + 1) for v in state.values())
    if isinstance(state, (list, tuple)):
        return sum(nbytes(v, _depth + 1) for v in state[:64])
    slots = getattr(type(state), "__slots__", None)
    if slots:
        return sum(nbytes(getattr(state, s, None), _depth + 1) for s in slots)
    d = getattr(state, "__dict__", None)
    return nbytes(d, _depth + 1) if isinstance(d, dict) else 0


class PrecomputeCache:
    """An LRU of precompute states keyed by ``(asset key, tool name)``.

    ``max_entries`` and ``max_bytes`` (estimated with :func:`nbytes`) bound it; the most recently
    used state is always kept, even when it alone is over the byte bound.
    """

    def __init__(self, max_entries: int = 16, max_bytes: int = 1 << 30):
        if max_entries < 1:
            raise ValueError(f"max_entries must be >= 1, got {max_entries}")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[Hashable, str], tuple[Any, int, float]] = OrderedDict()
        self._pending: dict[tuple[Hashable, str], threading.Event] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: tuple[Hashable, str]) -> bool:
        return key in self._items

    @property
    def bytes(self) -> int:
        return sum(b for _, b, _ in self._items.values())

    def status(self, key: Hashable, tool: str) -> str:
        """``"ready"``, ``"running"`` or ``"absent"``: what a progress mark shows."""
        with self._lock:
            if (key, tool) in self._items:
                return "ready"
            return "running" if (key, tool) in self._pending else "absent"

    def peek(self, key: Hashable, tool: str) -> Any:
        """The cached state, or None; does not compute."""
        with self._lock:
            item = self._items.get((key, tool))
            if item is None:
                return None
            self._items.move_to_end((key, tool))
            return item[0]

    def get(self, key: Hashable, interactor: Interactor, image: np.ndarray) -> tuple[Any, float]:
        """``(state, ms spent computing it now)``: the cached state for ``(key, interactor.name)``,
        computing it with ``interactor.precompute(image)`` when absent (0 ms when it was cached)."""
        k = (key, interactor.name)
        while True:
            with self._lock:
                item = self._items.get(k)
                if item is not None:
                    self._items.move_to_end(k)
                    return item[0], 0.0
                waiting = self._pending.get(k)
                if waiting is None:
                    done = self._pending[k] = threading.Event()
                    break
            waiting.wait()
        try:
            t = time.perf_counter()
            state = interactor.precompute(image)
            ms = (time.perf_counter() - t) * 1000.0
            self.put(key, interactor.name, state, ms)
            return state, ms
        finally:
            with self._lock:
                self._pending.pop(k, None)
            done.set()

    def put(self, key: Hashable, tool: str, state: Any, ms: float = 0.0) -> None:
        with self._lock:
            self._items[(key, tool)] = (state, nbytes(state), ms)
            self._items.move_to_end((key, tool))
            self._evict()

    def discard(self, key: Hashable, tool: str | None = None) -> None:
        """Forget one tool's state for an asset, or every tool's when ``tool`` is None."""
        with self._lock:
            for k in [k for k in self._items if k[0] == key and (tool is None or k[1] == tool)]:
                del self._items[k]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def resize(self, max_bytes: int) -> None:
        """Bound the cache to ``max_bytes`` from now on, evicting the least recently used states."""
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        with self._lock:
            self.max_bytes = max_bytes
            self._evict()

    def _evict(self) -> None:
        total = sum(b for _, b, _ in self._items.values())
        while len(self._items) > 1 and (len(self._items) > self.max_entries or total > self.max_bytes):
            _, (_, b, _) = self._items.popitem(last=False)
            total -= b


default_cache = PrecomputeCache()


def run(
    interactor: Interactor,
    image: np.ndarray,
    prompt: Prompt,
    *,
    key: Hashable | None = None,
    tolerance: float = 1.0,
    cache: PrecomputeCache | None = None,
) -> InteractorResult:
    """Check the image and prompt, fetch (or compute) the per-image state and predict.

    With ``key`` None nothing is cached. ``elapsed_ms["precompute"]`` is the time spent on the
    precompute in this call (0 when it came from the cache).
    """
    image = check_image(image)
    h, w = image.shape[:2]
    prompt.check(w, h, tuple(interactor.prompts), tool=interactor.name)
    if tolerance < 0 or not np.isfinite(tolerance):
        from limner.errors import ValidationError

        raise ValidationError(f"tolerance must be >= 0 pixels, got {tolerance}", field="tolerance")
    if key is None:
        t = time.perf_counter()
        state = interactor.precompute(image)
        pre = (time.perf_counter() - t) * 1000.0
    else:
        state, pre = (cache if cache is not None else default_cache).get(key, interactor, image)
    t = time.perf_counter()
    result = interactor.predict(image, prompt, state, tolerance)
    result.elapsed_ms.setdefault("total", (time.perf_counter() - t) * 1000.0)
    result.elapsed_ms["precompute"] = pre
    return result
