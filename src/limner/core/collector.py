"""A pause of Python's cyclic garbage collector around work that makes millions of acyclic
objects (reading a dataset or a project, consensus over every asset)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["no_gc"]


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of objects are made: with a big parsed
    file alive, every collection walks it, which made reading 5x slower. Nothing made here is
    cyclic, so nothing is lost; reference counting still frees as usual.

    On the way out the new objects are moved to the oldest generation at once (``freeze`` then
    ``unfreeze``: list splices, no walk), else the first young collection after ``enable`` walks
    them all. Skipped when the process froze objects of its own."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()
