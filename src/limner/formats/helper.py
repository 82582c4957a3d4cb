"""Work on the pieces of a big file shared with a helper process: :func:`share_pieces`.

The reader takes pieces from the front, the helper (a fork of the reader, so it has the file's
bytes without reading them again and imports nothing) from the back, until they meet; the results
come out in piece order. Each side claims a piece by writing its position to a few bytes of shared
memory before taking it; when both take the same piece the reader keeps its own and drops the
helper's, and a piece the helper could not do (or did not get to) is done by the reader, so the
result never depends on timing.

A fork is used only where the platform has one and the process runs no other thread (a server's
threads may hold locks a fork would copy held); elsewhere, or with ``LIMNER_HELPER=0``, the
reader does every piece. The helper runs no code of the reader's other threads, writes its results
to a pipe and ends with ``os._exit``: it flushes no stream and runs no exit handler of the reader.
"""

from __future__ import annotations

import os
import pickle
import struct
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["helper_wanted", "in_two", "share_pieces"]

_MIN_PIECES = 4  # fewer pieces are not worth a process
_HEAD = struct.Struct("<qQQ")  # piece number (-1: the helper ends), place and size in the spool


def helper_wanted(n_pieces: int) -> bool:
    """Whether a helper process pays for ``n_pieces`` and is safe: a fork exists, the machine has
    two cores or more, ``LIMNER_HELPER`` (default 1) is not 0, and this process runs no other
    thread (a server's threads may hold locks a fork would copy held: there the work stays in
    one process)."""
    if n_pieces < _MIN_PIECES or not hasattr(os, "fork") or (os.cpu_count() or 1) < 2:
        return False
    return os.environ.get("LIMNER_HELPER", "1").strip() != "0" and _alone()


def _alone() -> bool:
    import threading

    return threading.active_count() == 1


def share_pieces(
    n: int, here: Callable[[int], tuple[Any, int]], there: Callable[[int], Any], *, size: int = 0
) -> Iterator[Any]:
    """Results of pieces ``0 .. n-1`` in order. ``here(k)`` does piece ``k`` in this process and
    returns ``(result, next piece)`` (a piece may need the ones after it); ``there(k)`` does it in
    the helper and returns a picklable result, or None to leave it to ``here``. ``size`` (bytes of
    input) helps choose where the helper's results wait: a RAM disk when it has room for them."""
    if not helper_wanted(n):
        k = 0
        while k < n:
            got, k = here(k)
            yield got
        return
    import mmap
    import tempfile

    shared = mmap.mmap(-1, 16)  # anonymous and shared: [front, back] as two int64
    view = memoryview(shared)
    front = view.cast("q")
    front[0], front[1] = 0, n  # pieces < front[0] are the reader's, >= front[1] the helper's
    # results go to a file (unnamed: gone when both ends close it) and only their place through
    # the pipe, so the helper never waits on a full pipe while the reader is busy
    spool = tempfile.TemporaryFile(dir=_spool_dir(size))
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the helper
        code = 0
        try:
            os.close(r)
            fd, at = spool.fileno(), 0
            for j in range(n - 1, 0, -1):
                front[1] = j
                if j < front[0]:
                    break
                try:
                    got = there(j)
                except Exception:
                    got = None
                payload = b"" if got is None else pickle.dumps(got, protocol=pickle.HIGHEST_PROTOCOL)
                _write(fd, payload, at)
                _write(w, _HEAD.pack(j, at, len(payload)))
                at += len(payload)
            _write(w, _HEAD.pack(-1, 0, 0))
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    inbox = _Inbox(r, spool)
    try:
        k = 0
        while k < n and k < front[1]:
            front[0] = k + 1
            got, k = here(k)
            front[0] = max(front[0], k)
            yield got
        while k < n:
            got = inbox.take(k)
            if got is not None:
                yield pickle.loads(got)
                k += 1
                continue
            got, k = here(k)
            yield got
    finally:
        front[0] = n  # the helper stops at its next piece
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        os.close(r)
        spool.close()
        front.release()
        view.release()
        shared.close()


_IN_HELPER = False  # set in a helper: it does its share itself, with no helper of its own


def in_two(n: int, do: Callable[[int, int], Any]) -> tuple[Any, Any]:
    """``do(start, stop)`` over ``0 .. n`` in two halves: the second by a helper process (a
    fork) while this process does the first, when :func:`helper_wanted` says a helper pays
    (``n`` counts in thousands); returns what each half returned (the helper's result is
    pickled back). An error of the helper's is raised here (as an OSError with its message when
    it cannot be pickled); this process waits for the helper before it returns or raises."""
    global _IN_HELPER
    half = n // 2
    if _IN_HELPER or not helper_wanted(n // 1000):
        return do(0, half), do(half, n)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            _IN_HELPER = True
            os.close(r)
            try:
                out = (True, do(half, n))
            except BaseException as e:  # told to the reader, which raises it
                out = (False, e)
                code = 1
            try:
                payload = pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as e:
                payload = pickle.dumps((False, OSError(f"{type(out[1]).__name__}: {out[1]}" if not out[0] else str(e))))
                code = 1
            _write(w, payload)
        finally:
            os._exit(code)
    os.close(w)
    try:
        first = do(0, half)
    finally:
        payload = b""
        while True:
            b = os.read(r, 1 << 20)
            if not b:
                break
            payload += b
        os.close(r)
        _, status = os.waitpid(pid, 0)
    try:
        ok, second = pickle.loads(payload)
    except Exception:
        raise OSError(f"the helper process ended with status {status} and no result") from None
    if not ok:
        raise second
    return first, second


def _spool_dir(size: int) -> str | None:
    """/dev/shm when it has room for twice ``size`` bytes (a container's is often 64 MB), else
    the temporary folder (the file is unnamed and short-lived: its pages rarely reach the disk)."""
    try:
        st = os.statvfs("/dev/shm")
    except OSError:
        return None
    return "/dev/shm" if st.f_bavail * st.f_frsize > 2 * size + (64 << 20) else None


def _write(fd: int, data: bytes, at: int | None = None) -> None:
    """Write all of ``data`` (os.write may write less): at the file's position, or at ``at``."""
    view = memoryview(data)
    while view:
        done = os.write(fd, view) if at is None else os.pwrite(fd, view, at + len(data) - len(view))
        view = view[done:]


class _Inbox:
    """The helper's results: their places read from its pipe as needed, their bytes from the
    spool file."""

    def __init__(self, fd: int, spool):
        self.fd, self.spool = fd, spool
        self.got: dict[int, tuple[int, int]] = {}
        self.ended = False

    def _next(self) -> None:
        head = b""
        while len(head) < _HEAD.size:
            b = os.read(self.fd, _HEAD.size - len(head))
            if not b:
                self.ended = True
                return
            head += b
        j, at, size = _HEAD.unpack(head)
        if j < 0:
            self.ended = True
        else:
            self.got[j] = (at, size)

    def take(self, k: int) -> bytes | None:
        """Piece ``k``'s pickled result; None when the helper ended without one, or left it."""
        while k not in self.got and not self.ended:
            self._next()
        at, size = self.got.pop(k, (0, 0))
        if not size:
            return None
        return os.pread(self.spool.fileno(), size, at)
