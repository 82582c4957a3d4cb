"""CRC-32C (Castagnoli) and the TFRecord container: the table-driven CRC in pure Python with its
numpy paths (long data cut into slices advanced together; many short records at once), the masked
CRC that TFRecord stores, and reading (every CRC checked, errors naming file and record) and
writing (through a temporary file) the length-and-CRC framed records of a file."""

from __future__ import annotations

import functools
import os
import struct
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from limner.formats.base import FormatError

# -- CRC-32C (Castagnoli) -----------------------------------------------------------------------------

_POLY = 0x82F63B78


def _table() -> tuple[int, ...]:
    out = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        out.append(c)
    return tuple(out)


_T = _table()
_FAST_FROM = 2048  # bytes; below this the plain loop is quicker than numpy's per-call cost


@functools.lru_cache(maxsize=1)
def _word_tables() -> tuple[np.ndarray, np.ndarray]:
    """Two 65536-entry tables: the register after 4 zero bytes from a register holding v in its low
    (first table) or high (second) 16 bits. The register after a 4-byte word w is then
    ``lo[(r ^ w) & 0xFFFF] ^ hi[(r ^ w) >> 16]``."""
    t = np.array(_T, dtype=np.uint32)
    out = []
    for shift in (0, 16):
        r = np.arange(65536, dtype=np.uint32) << np.uint32(shift)
        for _ in range(4):
            r = t[r & 0xFF] ^ (r >> 8)
        out.append(r)
    return out[0], out[1]


def _crc_loop(state: int, data) -> int:
    t = _T
    for b in data:
        state = t[(state ^ b) & 0xFF] ^ (state >> 8)
    return state


@functools.lru_cache(maxsize=1)
def _word_lists() -> tuple[list[int], list[int]]:
    lo, hi = _word_tables()
    return lo.tolist(), hi.tolist()


def _crc_words(state: int, mv: memoryview) -> int:
    """The byte loop four bytes at a time (two look-ups in the 16-bit tables per word)."""
    n4 = len(mv) // 4
    if n4:
        lo, hi = _word_lists()
        for w in struct.unpack_from(f"<{n4}I", mv):
            u = state ^ w
            state = lo[u & 0xFFFF] ^ hi[u >> 16]
    return _crc_loop(state, mv[n4 * 4 :])


@functools.lru_cache(maxsize=16)
def _zeros(length: int) -> tuple[tuple[int, ...], ...]:
    """The register's change over ``length`` zero bytes (a linear map), as four 256-entry tables,
    one per byte of the register."""
    basis = [_crc_loop(1 << k, bytes(length)) for k in range(32)]
    tables = []
    for b in range(4):
        tbl = [0] * 256
        for v in range(1, 256):
            low = v & -v
            tbl[v] = tbl[v ^ low] ^ basis[8 * b + low.bit_length() - 1]
        tables.append(tuple(tbl))
    return tuple(tables)


def crc32c(data: bytes | bytearray | memoryview) -> int:
    """CRC-32C of ``data`` (``crc32c(b"123456789") == 0xE3069283``).

    Long data is cut into ``n`` slices of ``L`` bytes whose CRC registers (from 0) numpy advances
    together, four bytes of every slice per step (two 16-bit table look-ups); CRC being linear
    over GF(2), the running register is then carried over each slice by the precomputed
    "L zero bytes" map and xor-ed with the slice's register."""
    mv = memoryview(data).cast("B")
    state = 0xFFFFFFFF
    n = len(mv)
    if n >= _FAST_FROM:
        lane = 1 << max(6, min(13, int((n / 4) ** 0.5).bit_length()))
        count = n // lane
        words = np.frombuffer(mv[: count * lane], dtype="<u4").reshape(count, lane // 4).T.copy()
        regs = np.zeros(count, dtype=np.uint32)
        lo, hi = _word_tables()
        for row in words:
            regs ^= row
            regs = lo[regs & 0xFFFF] ^ hi[regs >> 16]
        z0, z1, z2, z3 = _zeros(lane)
        for r in regs.tolist():
            state = z0[state & 0xFF] ^ z1[(state >> 8) & 0xFF] ^ z2[(state >> 16) & 0xFF] ^ z3[state >> 24] ^ r
        mv = mv[count * lane :]
    if len(mv) >= 64:
        return _crc_words(state, mv) ^ 0xFFFFFFFF
    return _crc_loop(state, mv) ^ 0xFFFFFFFF


def crc32c_many(datas: list[bytes]) -> list[int]:
    """CRC-32C of many short byte strings at once (the records of a TFRecord file).

    For a reflected CRC, starting from 0xFFFFFFFF equals starting from 0 with the first four bytes
    xor-ed with 0xFF, and from 0 leading zero bytes change nothing; so the strings are right-aligned
    in one zero-padded matrix and numpy advances all their registers together, four bytes per step.
    Strings longer than 2 KB (and shorter than 4 bytes) go through :func:`crc32c` one by one."""
    out = [0] * len(datas)
    short = []
    for i, d in enumerate(datas):
        if 4 <= len(d) <= _FAST_FROM:
            short.append(i)
        else:
            out[i] = crc32c(d)
    if len(short) < 8:
        for i in short:
            out[i] = crc32c(datas[i])
        return out
    lens = np.array([len(datas[i]) for i in short])
    width = (int(lens.max()) + 3) // 4 * 4
    mat = np.zeros((len(short), width), np.uint8)
    starts = width - lens
    for row, i in enumerate(short):
        mat[row, starts[row] :] = np.frombuffer(datas[i], np.uint8)
    rows = np.arange(len(short))
    for k in range(4):
        mat[rows, starts + k] ^= 0xFF
    words = mat.view("<u4").T.copy()
    lo, hi = _word_tables()
    regs = np.zeros(len(short), np.uint32)
    for col in words:
        regs ^= col
        regs = lo[regs & 0xFFFF] ^ hi[regs >> 16]
    regs ^= np.uint32(0xFFFFFFFF)
    for row, i in enumerate(short):
        out[i] = int(regs[row])
    return out


def _mask(c: int) -> int:
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def masked_crc32c(data) -> int:
    return _mask(crc32c(data))


# -- TFRecord container -------------------------------------------------------------------------------


def read_records(path: Path, *, verify: bool = True, batch: int = 512) -> Iterator[bytes]:
    """The records of a TFRecord file, ``batch`` at a time read and checked (CRCs in one numpy pass,
    :func:`crc32c_many`), then yielded one by one; damaged framing or a CRC mismatch raises a
    FormatError naming the file and the record index."""
    path = Path(path)
    with open(path, "rb") as f:
        index = 0
        while True:
            datas, tails = [], []
            size = 0
            while len(datas) < batch and size < (8 << 20):
                head = f.read(12)
                if not head:
                    break
                where = f"record {index + len(datas)}"
                if len(head) < 12:
                    raise FormatError(path, "the file ends inside a record header (truncated file?)", key=where)
                length, len_crc = struct.unpack("<QI", head)
                if verify and _mask(_crc_loop(0xFFFFFFFF, head[:8]) ^ 0xFFFFFFFF) != len_crc:
                    # checked before reading: a damaged length could announce terabytes
                    raise FormatError(
                        path, "CRC-32C of the record length does not match (damaged, or not a TFRecord file)", key=where
                    )
                data = f.read(length)
                tail = f.read(4)
                if len(data) < length or len(tail) < 4:
                    raise FormatError(
                        path, f"the file ends inside the record ({length} bytes announced; truncated file?)", key=where
                    )
                datas.append(data)
                tails.append(tail)
                size += length
            if not datas:
                return
            if verify:
                data_crcs = crc32c_many(datas)
                for j in range(len(datas)):
                    where = f"record {index + j}"
                    if _mask(data_crcs[j]) != struct.unpack("<I", tails[j])[0]:
                        raise FormatError(path, "CRC-32C of the record data does not match (the record is damaged)", key=where)
            yield from datas
            index += len(datas)


def _frame(data: bytes) -> bytes:
    n = struct.pack("<Q", len(data))
    return b"".join((n, struct.pack("<I", masked_crc32c(n)), data, struct.pack("<I", masked_crc32c(data))))


def _frames(records: list[bytes]) -> bytes:
    lens = [struct.pack("<Q", len(r)) for r in records]
    len_crcs = crc32c_many(lens)
    data_crcs = crc32c_many(records)
    parts = []
    for n, lc, r, dc in zip(lens, len_crcs, records, data_crcs):
        parts += (n, struct.pack("<I", _mask(lc)), r, struct.pack("<I", _mask(dc)))
    return b"".join(parts)


def write_records(path: Path, records: Iterable[bytes]) -> int:
    """Stream records into a TFRecord file through a temporary file and ``os.replace``; returns
    how many were written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    n = 0
    try:
        with os.fdopen(fd, "wb") as f:
            chunk: list[bytes] = []
            for r in records:
                chunk.append(r)
                n += 1
                if len(chunk) >= 512:
                    f.write(_frames(chunk))
                    chunk = []
            if chunk:
                f.write(_frames(chunk))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return n
