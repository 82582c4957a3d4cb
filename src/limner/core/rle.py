"""COCO run-length encoding: checks and conversions around pycocotools.

pycocotools decodes without bounds checks, so every RLE is checked here first: its counts must add
up to height × width. The compressed string form is parsed in pure Python for that check (it is
COCO's own variable-length encoding: 5 data bits per character, offset by 48, with a continuation
bit, and each count from the fourth on stored as a delta from the count two before it).
"""

from __future__ import annotations

from typing import Any

from limner.errors import ValidationError

__all__ = ["counts_from_string", "check_rle", "compress", "decode", "encode", "string_runs", "string_runs_ok"]


def counts_from_string(s: str) -> list[int]:
    counts: list[int] = []
    p = 0
    n = len(s)
    while p < n:
        x = 0
        k = 0
        more = True
        while more:
            if p >= n:
                raise ValueError("truncated run")
            c = ord(s[p]) - 48
            if c < 0 or c > 63:
                raise ValueError(f"character {s[p]!r} at {p} is outside the encoding")
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def check_rle(rle: Any, height: int | None, width: int | None, where: str, *, field_prefix: str | None = None) -> dict:
    """Return the RLE in compressed-string form after checking size and counts."""
    f = f"{field_prefix or where}.rle"
    if not isinstance(rle, dict) or "size" not in rle or "counts" not in rle:
        raise ValidationError(f"{where}: a mask needs rle with size [height, width] and counts", field=f)
    size = rle["size"]
    if (
        not isinstance(size, (list, tuple))
        or len(size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
    ):
        raise ValidationError(f"{where}: rle size must be [height, width] in pixels, got {size!r}", field=f"{f}.size")
    h, w = int(size[0]), int(size[1])
    if height is not None and width is not None and (h, w) != (height, width):
        raise ValidationError(
            f"{where}: mask size {h}x{w} (height x width) differs from the image's {height}x{width}",
            field=f"{f}.size",
        )
    counts = rle["counts"]
    if isinstance(counts, str) and string_runs_ok(counts, h, w):
        return {"size": [h, w], "counts": counts}
    if isinstance(counts, str):
        try:
            runs = counts_from_string(counts)
        except ValueError as e:
            raise ValidationError(f"{where}: rle counts are not valid COCO RLE: {e}", field=f"{f}.counts") from None
        compressed = counts
    elif isinstance(counts, list) and set(map(type, counts)) <= {int}:  # ints, not bools
        runs = counts
        compressed = None
    else:
        raise ValidationError(f"{where}: rle counts must be a string or a list of integers", field=f"{f}.counts")
    negative, total = _runs_sign_and_total(runs)
    if negative:
        raise ValidationError(f"{where}: rle counts must not be negative", field=f"{f}.counts")
    if total != h * w:
        raise ValidationError(
            f"{where}: rle counts cover {total} pixels, the mask has {h * w} ({h}x{w})", field=f"{f}.counts"
        )
    if compressed is None:
        compressed = compress(runs, h, w)
    return {"size": [h, w], "counts": compressed}


def _runs_sign_and_total(runs) -> tuple[bool, int]:
    """(any run negative, the runs' sum): in numpy for the long lists of uncompressed masks."""
    if len(runs) > 32:
        import numpy as np

        try:
            a = np.fromiter(runs, np.int64, count=len(runs))
        except OverflowError:  # beyond 64 bits: Python's ints below
            pass
        else:
            if int(a.max()) < (1 << 62) // len(a):  # the sum cannot overflow
                return bool((a < 0).any()), int(a.sum())
    return any(v < 0 for v in runs), sum(runs)


def string_runs(counts: str):
    """The runs of a compressed COCO RLE string as an int64 array (:func:`counts_from_string`
    vectorised), or None when the string is not valid COCO RLE."""
    import numpy as np  # imported here: the server starts without numpy

    try:
        c = np.frombuffer(counts.encode("ascii"), dtype=np.uint8).astype(np.int64) - 48
    except UnicodeEncodeError:
        return None
    if c.size == 0 or c.min() < 0 or c.max() > 63:
        return None
    ends = (c & 0x20) == 0
    if not ends[-1]:
        return None
    last = np.flatnonzero(ends)
    start = np.concatenate(([0], last[:-1] + 1))
    k = np.arange(c.size) - np.repeat(start, last - start + 1)
    if k.max() > 10:
        return None
    vals = np.add.reduceat((c & 0x1F) << (5 * k), start)
    neg = (c[last] & 0x10) != 0
    vals[neg] -= np.left_shift(1, 5 * (k[last[neg]] + 1))
    runs = vals.copy()
    runs[1::2] = np.cumsum(vals[1::2])
    runs[2::2] = np.cumsum(vals[2::2])
    return runs


def string_runs_ok(counts: str, height: int, width: int) -> bool:
    """Whether a compressed COCO RLE string decodes to non-negative runs covering height x width
    pixels: the fast path of :func:`check_rle`."""
    runs = string_runs(counts)
    return runs is not None and bool(runs.min() >= 0) and int(runs.sum()) == height * width


def compress(runs: list[int], height: int, width: int) -> str:
    from pycocotools import mask as mask_utils

    out = mask_utils.frPyObjects({"size": [height, width], "counts": list(runs)}, height, width)
    c = out["counts"]
    return c.decode("ascii") if isinstance(c, bytes) else c


def decode(rle: dict):
    """Decode a checked RLE to a (height, width) uint8 array of 0 and 1."""
    from pycocotools import mask as mask_utils

    return mask_utils.decode({"size": list(rle["size"]), "counts": rle["counts"].encode("ascii")})


def encode(mask) -> dict:
    """Encode a (height, width) array (non-zero = inside) to compressed RLE."""
    import numpy as np
    from pycocotools import mask as mask_utils

    m = np.asfortranarray((np.asarray(mask) != 0).astype(np.uint8))
    out = mask_utils.encode(m)
    return {"size": [int(v) for v in out["size"]], "counts": out["counts"].decode("ascii")}
