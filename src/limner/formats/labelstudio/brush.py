"""Label Studio's brush RLE (thi-ng rle-pack over the RGBA pixels of the image; the mask is the
alpha channel), decoded to and encoded from a (height, width) 0/1 mask as label-studio-converter's
``brush.py`` does."""

from __future__ import annotations

import numpy as np


# ---------------------------------------------------------------------------------------- brush RLE


def brush_decode(rle: list[int], height: int, width: int) -> np.ndarray:
    """Label Studio brush RLE -> (height, width) uint8 mask of 0/1 (alpha channel > 0).

    The stream (thi-ng rle-pack): 32 bits value count, 5 bits word size - 1, four 4-bit run-size
    widths - 1; then blocks of [1 bit repeat?][2 bits width index][count - 1][word(s)]."""
    data = bytes(rle) + b"\0" * 9
    frm = int.from_bytes
    head = frm(data[:8], "big")
    num, word = head >> 32, ((head >> 27) & 31) + 1
    sizes = [((head >> s) & 15) + 1 for s in (23, 19, 15, 11)]
    if num != height * width * 4:
        raise ValueError(f"brush rle holds {num} values, a {width}x{height} RGBA image has {height * width * 4}")
    end, wmask = 8 * len(rle), (1 << word) - 1
    pos, i = 53, 0
    values, lengths = [], []
    add_v, add_l = values.append, lengths.append
    while i < num:
        if pos >= end:
            raise ValueError("brush rle is truncated")
        b, off = pos >> 3, pos & 7
        win = frm(data[b : b + 8], "big")  # flag, width index, count and the first word fit in 64 bits
        n = sizes[(win >> (61 - off)) & 3]
        shift = 61 - off - n
        count = ((win >> shift) & ((1 << n) - 1)) + 1
        add_v((win >> (shift - word)) & wmask)
        pos += 3 + n + word
        if count > num - i:
            count = num - i
        if (win >> (63 - off)) & 1:
            add_l(count)
        else:
            add_l(1)
            for _ in range(count - 1):
                b, off = pos >> 3, pos & 7
                add_v((frm(data[b : b + 5], "big") >> (40 - off - word)) & wmask)
                add_l(1)
                pos += word
        i += count
    out = np.repeat(np.asarray(values, np.uint8 if word <= 8 else np.uint32), lengths)
    return (out[3::4] > 0).astype(np.uint8).reshape(height, width)


def brush_encode(mask: np.ndarray) -> list[int]:
    """(height, width) mask -> Label Studio brush RLE (RGBA 255 inside, 0 outside, as brush.mask2rle)."""
    flat = (np.asarray(mask).ravel() != 0).astype(np.uint8)
    n = flat.size * 4
    out, acc, nacc = bytearray(), 0, 0

    def put(v: int, bits: int) -> None:
        nonlocal acc, nacc
        acc = (acc << bits) | v
        nacc += bits
        while nacc >= 8:
            nacc -= 8
            out.append((acc >> nacc) & 0xFF)
        acc &= (1 << nacc) - 1

    put(n, 32)
    put(7, 5)
    for s in (3, 4, 8, 16):
        put(s - 1, 4)
    if n:  # every channel of a pixel holds the same value, so runs of pixels x 4 are runs of values
        starts = np.concatenate(([0], np.flatnonzero(flat[1:] != flat[:-1]) + 1))
        lengths = np.diff(np.concatenate((starts, [flat.size]))) * 4
        for start, length in zip(starts.tolist(), lengths.tolist()):
            v = 255 if flat[start] else 0
            while length > 0:
                take = min(length, 1 << 16)
                idx, bits = (0, 3) if take <= 8 else (1, 4) if take <= 16 else (2, 8) if take <= 256 else (3, 16)
                put(1, 1), put(idx, 2), put(take - 1, bits), put(v, 8)
                length -= take
    if nacc:
        put(0, 8 - nacc)
    return list(out)
