"""TensorFlow Object Detection API: TFRecord files of ``tf.train.Example``, without TensorFlow.

Layout::

    <subset>.tfrecord     one per subset ("default" for items without one; sharded names such as
                          train.tfrecord-00000-of-00010 or train.record are read too)
    label_map.pbtxt       item { id: 1 name: 'cat' } per class, ids from 1

The container is written and checked here: per record a little-endian uint64 length, the masked
CRC-32C of those 8 bytes, the data, the masked CRC-32C of the data (CRC-32C Castagnoli, table-driven
in pure Python, with a numpy path for long records that runs the table on many slices at once and
joins the slices' CRCs). Every CRC is verified on read; a mismatch is a FormatError naming the file
and the record index. The ``tf.train.Example`` protobuf is encoded and decoded by hand (varints,
length-delimited fields): ``Example{features: Features{feature: map<string, Feature>}}``, a Feature
being one of ``bytes_list`` (1), ``float_list`` (2, packed float32) or ``int64_list`` (3, packed
varints); unpacked repeated fields are read too.

Keys read and written (as TF OD API's ``create_*_tf_record`` scripts write them)::

    image/filename, image/source_id, image/height, image/width, image/encoded, image/format,
    image/key/sha256, image/object/bbox/{xmin,xmax,ymin,ymax} (normalised), image/object/class/text,
    image/object/class/label (ids from label_map.pbtxt, 1-based), image/object/mask (one PNG per
    object, 0/1 pixels), image/class/text + image/class/label (+ image/class/confidence): tags

Reading. Each object becomes a box; an object with a non-empty mask PNG becomes a box and a mask
sharing a group_id (1, 2, ... per image). Box coordinates are the file's float32 fractions times the
image size, rounded to 1/1000 pixel (float32 holds about 7 digits, so this gives back the numbers
that were written). An object's class is its label id looked up in label_map.pbtxt, else its
class text; objects with neither are dropped and counted, as are the objects of a record without
image/height and image/width (unless ``images_dir`` holds the image, whose header gives the size). Other per-object lists of one value per
object (``image/object/difficult``, ``truncated``, ``view``, ``weight``, ...) become attributes named
after the last part of the key; other image-level features are kept in
``Item.metadata["tf_detection_api"]["features"]`` (text and numbers; binary ones are dropped and
counted), with ``source_id`` when it differs from the file name. Images: the records hold the image
bytes; they are written out only when the caller passes ``images_dir`` (to
``images_dir/<image/filename>``, and ``Item.image`` points there); otherwise ``Item.image`` is None
and the item keeps the size stored in the record. Records without ``image/encoded`` are listed in
``missing_images`` unless ``images_dir`` holds the file. The label map's ids are kept in
``Dataset.info["tf_detection_api"]["label_ids"]`` so that writing back keeps them (COCO's have gaps).

Writing. Boxes are written as they are (not clipped); polygons, ellipses, rotated boxes and masks
as their bounding box plus a mask PNG (counted: "polygons written as pixel masks"); a box and an
area shape of one label in one group make one object. When an image has any mask, every object of
it gets one (an all-zero PNG for a plain box, which reads back as a box only), as TF OD API's
decoder wants one mask per box. Image bytes come from ``Item.image`` as they are on disk (no
re-encoding; ``include_images=False`` leaves them out): a missing file gives a record without
``image/encoded``, listed in ``missing_images``. ``source_id`` is the one read, else the item name.
Attributes set on every object of an image become ``image/object/<name>`` lists (int64, float or
bytes; checkboxes as 0/1, counted); others, z-order, track ids, sources and confidences of objects,
polylines, points and skeletons are dropped and counted. Images of unknown size (no width/height
and no readable image) lose their objects, counted.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import re
import struct
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath

import numpy as np

from limner.core import rle as _rle
from limner.core.dataset import Dataset, Item
from limner.core.geometry import bbox, rasterize
from limner.core.schema import Attribute
from limner.core.shapes import Shape
from limner.formats.base import FormatError, Report, atomic_write, no_gc
from limner.formats.registry import Format, register

__all__ = [
    "crc32c",
    "crc32c_many",
    "dataset_to_tf",
    "decode_example",
    "detect",
    "encode_example",
    "format_label_map",
    "masked_crc32c",
    "parse_label_map",
    "read",
    "read_records",
    "tf_to_dataset",
    "write",
    "write_records",
]

LABEL_MAP = "label_map.pbtxt"
_RECORD_NAME = re.compile(r"^(?P<subset>.+?)\.(?:tfrecord|record)(?:-\d+-of-\d+)?$", re.I)
_IMAGE_FORMATS = {".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".bmp": "bmp", ".gif": "gif", ".webp": "webp",
                  ".tif": "tiff", ".tiff": "tiff"}  # fmt: skip
_AREA_KINDS = ("box", "polygon", "mask", "ellipse", "rotated_box")
_PLURAL = {"box": "boxes", "rotated_box": "rotated boxes", "polygon": "polygons", "ellipse": "ellipses",
           "mask": "masks", "polyline": "polylines", "points": "points", "skeleton": "skeletons", "tag": "tags"}  # fmt: skip
_OBJECT_KEYS = {"image/object/bbox/xmin", "image/object/bbox/xmax", "image/object/bbox/ymin", "image/object/bbox/ymax",
                "image/object/class/text", "image/object/class/label", "image/object/mask"}  # fmt: skip
_IMAGE_KEYS = {"image/filename", "image/source_id", "image/height", "image/width", "image/encoded", "image/format",
               "image/key/sha256", "image/class/text", "image/class/label", "image/class/confidence"}  # fmt: skip

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


# -- tf.train.Example wire format ---------------------------------------------------------------------


def _varint(v: int) -> bytes:
    if v < 0:
        v &= 0xFFFFFFFFFFFFFFFF
    if v < 0x80:
        return bytes((v,))
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def _ld(tag: int, payload: bytes) -> bytes:
    return bytes((tag,)) + _varint(len(payload)) + payload


@functools.lru_cache(maxsize=4096)
def _key_field(key: str) -> bytes:
    return _ld(0x0A, key.encode("utf-8"))


def encode_example(features: dict[str, tuple[str, list]]) -> bytes:
    """``{key: (kind, values)}`` with kind "bytes", "float" or "int64" -> serialized Example, in the
    dict's order (as TensorFlow does, every list packed, an empty list as an empty message)."""
    entries = []
    for key, (kind, values) in features.items():
        if kind == "bytes":
            inner = b"".join(_ld(0x0A, v) for v in values)
            feat = _ld(0x0A, inner)
        elif kind == "float":
            inner = _ld(0x0A, struct.pack(f"<{len(values)}f", *values)) if values else b""
            feat = _ld(0x12, inner)
        elif kind == "int64":
            inner = _ld(0x0A, b"".join(_varint(int(v)) for v in values)) if values else b""
            feat = _ld(0x1A, inner)
        else:
            raise ValueError(f"feature {key!r}: kind must be bytes, float or int64, got {kind!r}")
        entries.append(_ld(0x0A, _key_field(key) + _ld(0x12, feat)))
    return _ld(0x0A, b"".join(entries))


def _read_varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end:
            raise ValueError("a varint runs past the end of its message")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("a varint is longer than 10 bytes")


def _fields(buf: bytes, pos: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(field number, wire type, start, stop or value) of each field of a message in buf[pos:end]:
    for wire type 2 the payload is buf[start:stop]; for 0, 1 and 5 the value is in ``stop``."""
    while pos < end:
        key, pos = _read_varint(buf, pos, end)
        field, wire = key >> 3, key & 7
        if wire == 2:
            n, pos = _read_varint(buf, pos, end)
            if pos + n > end:
                raise ValueError(f"field {field} runs past the end of its message")
            yield field, wire, pos, pos + n
            pos += n
        elif wire == 0:
            v, pos = _read_varint(buf, pos, end)
            yield field, wire, pos, v
        elif wire == 5:
            if pos + 4 > end:
                raise ValueError(f"field {field} runs past the end of its message")
            yield field, wire, pos, struct.unpack_from("<I", buf, pos)[0]
            pos += 4
        elif wire == 1:
            if pos + 8 > end:
                raise ValueError(f"field {field} runs past the end of its message")
            yield field, wire, pos, struct.unpack_from("<Q", buf, pos)[0]
            pos += 8
        else:
            raise ValueError(f"unsupported wire type {wire} for field {field}")


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _feature(buf: bytes, pos: int, end: int, key: str) -> tuple[str, list]:
    kind, values = "bytes", []
    for field, wire, a, b in _fields(buf, pos, end):
        if wire != 2 or field not in (1, 2, 3):
            continue
        kind = ("bytes", "float", "int64")[field - 1]
        values = []
        for f2, w2, c, d in _fields(buf, a, b):
            if f2 != 1:
                continue
            if kind == "bytes":
                if w2 != 2:
                    raise ValueError(f"feature {key!r}: a bytes_list value is not length-delimited")
                values.append(buf[c:d])
            elif kind == "float":
                if w2 == 2:
                    if (d - c) % 4:
                        raise ValueError(f"feature {key!r}: packed floats of {d - c} bytes (not a multiple of 4)")
                    values.extend(struct.unpack_from(f"<{(d - c) // 4}f", buf, c))
                elif w2 == 5:
                    values.append(struct.unpack("<f", struct.pack("<I", d))[0])
            elif w2 == 2:
                p = c
                while p < d:
                    v, p = _read_varint(buf, p, d)
                    values.append(_signed(v))
            elif w2 == 0:
                values.append(_signed(d))
    return kind, values


class _Unusual(Exception):
    """The fast decoder met a layout it does not handle; the general one takes over."""


def _uv(buf: bytes, p: int, end: int) -> tuple[int, int]:
    b = buf[p] if p < end else 0x100
    if b < 0x80:
        return b, p + 1
    if b == 0x100:
        raise _Unusual
    return _read_varint(buf, p, end)


def _decode_fast(data: bytes) -> dict[str, tuple[str, list]]:
    """The layout every writer produces (TensorFlow, this module): one features field, map
    entries of key then value, each list in one packed (or bytes) field. Anything else raises
    _Unusual."""
    out: dict[str, tuple[str, list]] = {}
    n = len(data)
    if n == 0:
        return out
    if data[0] != 0x0A:
        raise _Unusual
    ln, p = _uv(data, 1, n)
    if p + ln != n:
        raise _Unusual
    unpack = struct.unpack_from
    while p < n:
        if data[p] != 0x0A:
            raise _Unusual
        ln, p = _uv(data, p + 1, n)
        end = p + ln
        if end > n or p >= end or data[p] != 0x0A:
            raise _Unusual
        kl, p = _uv(data, p + 1, end)
        key = data[p : p + kl].decode("utf-8")
        p += kl
        if p == end:
            out[key] = ("bytes", [])
            continue
        if data[p] != 0x12:
            raise _Unusual
        fl, p = _uv(data, p + 1, end)
        if p + fl != end:
            raise _Unusual
        if fl == 0:
            out[key] = ("bytes", [])
            continue
        tag = data[p]
        ll, p = _uv(data, p + 1, end)
        if p + ll != end:
            raise _Unusual
        if tag == 0x0A:  # bytes_list
            values = []
            while p < end:
                if data[p] != 0x0A:
                    raise _Unusual
                vl, p = _uv(data, p + 1, end)
                if p + vl > end:
                    raise _Unusual
                values.append(data[p : p + vl])
                p += vl
            out[key] = ("bytes", values)
        elif tag == 0x12 or tag == 0x1A:
            if p == end:
                out[key] = ("float" if tag == 0x12 else "int64", [])
                continue
            if data[p] != 0x0A:
                raise _Unusual
            pl, p = _uv(data, p + 1, end)
            if p + pl != end:
                raise _Unusual
            if tag == 0x12:
                if pl % 4:
                    raise _Unusual
                out[key] = ("float", list(unpack(f"<{pl // 4}f", data, p)))
            else:
                values = []
                while p < end:
                    b = data[p]
                    if b < 0x80:
                        values.append(b)
                        p += 1
                    else:
                        v, p = _read_varint(data, p, end)
                        values.append(_signed(v))
                out[key] = ("int64", values)
            p = end
        else:
            raise _Unusual
    return out


def decode_example(data: bytes) -> dict[str, tuple[str, list]]:
    """Serialized Example -> ``{key: (kind, values)}``; bytes values stay bytes. Raises ValueError
    on malformed data."""
    try:
        return _decode_fast(data)
    except (_Unusual, UnicodeDecodeError, ValueError, struct.error):
        pass
    return _decode_general(data)


def _decode_general(data: bytes) -> dict[str, tuple[str, list]]:
    out: dict[str, tuple[str, list]] = {}
    n = len(data)
    for field, wire, a, b in _fields(data, 0, n):
        if field != 1 or wire != 2:
            continue
        for f2, w2, c, d in _fields(data, a, b):
            if f2 != 1 or w2 != 2:
                continue
            key, span = None, None
            for f3, w3, e, g in _fields(data, c, d):
                if f3 == 1 and w3 == 2:
                    try:
                        key = data[e:g].decode("utf-8")
                    except UnicodeDecodeError:
                        raise ValueError("a feature key is not UTF-8 text") from None
                elif f3 == 2 and w3 == 2:
                    span = (e, g)
            if key is None:
                raise ValueError("a feature map entry has no key")
            out[key] = _feature(data, span[0], span[1], key) if span else ("bytes", [])
    return out


# -- label_map.pbtxt ----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""(?P<s>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")|(?P<p>[{}:\[\],;<>])|(?P<w>[^\s{}:\[\],;<>'"#]+)"""
)
_SPACE = re.compile(r"(?:\s+|#[^\n]*)+")


def _unquote(s: str) -> str:
    body = s[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def parse_label_map(text: str, path: Path | str = LABEL_MAP) -> list[dict]:
    """Items of a protobuf-text label map (``item { id: 1 name: 'cat' display_name: 'Cat' }``),
    as ``{"id", "name", "display_name"?}`` in file order. Nested messages (keypoints, ...) are
    skipped. Errors name the file and line."""
    tokens: list[tuple[str, str, int]] = []
    pos, line, n = 0, 1, len(text)
    while True:
        m = _SPACE.match(text, pos)
        if m:
            line += text.count("\n", pos, m.end())
            pos = m.end()
        if pos >= n:
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            raise FormatError(path, f"unexpected character {text[pos]!r}", line=line)
        tokens.append((m.lastgroup, m.group(m.lastgroup) if m.lastgroup != "s" else _unquote(m.group()), line))
        pos = m.end()
    items: list[dict] = []
    i = 0

    def expect_open(j: int) -> int:
        if j < len(tokens) and tokens[j][1] == ":":
            j += 1
        if j >= len(tokens) or tokens[j][1] != "{":
            ln = tokens[j][2] if j < len(tokens) else line
            raise FormatError(path, "expected '{' to open a message", line=ln)
        return j + 1

    def skip_message(j: int) -> int:
        depth = 1
        while j < len(tokens) and depth:
            if tokens[j][1] == "{" and tokens[j][0] == "p":
                depth += 1
            elif tokens[j][1] == "}" and tokens[j][0] == "p":
                depth -= 1
            j += 1
        if depth:
            raise FormatError(path, "a message is not closed ('}' missing)", line=line)
        return j

    while i < len(tokens):
        kind, word, ln = tokens[i]
        if kind != "w":
            raise FormatError(path, f"expected a field name, got {word!r}", line=ln)
        if word != "item":
            i += 1
            if i < len(tokens) and tokens[i][1] == ":" and i + 1 < len(tokens) and tokens[i + 1][1] != "{":
                i += 2
            else:
                i = skip_message(expect_open(i))
            continue
        i = expect_open(i + 1)
        item: dict = {"line": ln}
        while True:
            if i >= len(tokens):
                raise FormatError(path, "an item is not closed ('}' missing)", line=ln)
            k, w, l2 = tokens[i]
            if k == "p" and w == "}":
                i += 1
                break
            if k == "p" and w in ",;":
                i += 1
                continue
            if k != "w":
                raise FormatError(path, f"expected a field name, got {w!r}", line=l2)
            if i + 1 < len(tokens) and tokens[i + 1][1] == ":" and i + 2 < len(tokens) and tokens[i + 2][1] != "{":
                vk, value, _ = tokens[i + 2]
                if w == "id":
                    try:
                        item["id"] = int(value, 0)
                    except ValueError:
                        raise FormatError(path, f"id must be an integer, got {value!r}", line=l2) from None
                elif w in ("name", "display_name"):
                    item[w] = value
                i += 3
            else:
                i = skip_message(expect_open(i + 1))
        if "id" not in item or not (item.get("name") or item.get("display_name")):
            raise FormatError(path, "an item needs an id and a name", line=ln)
        items.append(item)
    return items


def _quote(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def format_label_map(ids: dict[str, int], display_names: dict[str, str] | None = None) -> str:
    display_names = display_names or {}
    out = []
    for name, i in sorted(ids.items(), key=lambda kv: kv[1]):
        extra = f"  display_name: {_quote(display_names[name])}\n" if name in display_names else ""
        out.append(f"item {{\n  id: {i}\n  name: {_quote(name)}\n{extra}}}\n")
    return "\n".join(out)


# -- reading ------------------------------------------------------------------------------------------


def _text(v: bytes) -> str:
    return v.decode("utf-8", "replace")


def _mask_from_png(png: bytes, h: int | None, w: int | None) -> np.ndarray | None:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        arr = np.asarray(im.convert("L") if im.mode not in ("L", "1", "P", "I", "I;16") else im)
    if arr.ndim != 2:
        return None
    if h and w and arr.shape != (h, w):
        raise ValueError(f"mask is {arr.shape[1]}x{arr.shape[0]}, the image {w}x{h}")
    return arr != 0


def _scalar(v):
    if isinstance(v, bytes):
        return _text(v)
    if isinstance(v, float):
        return round(v, 6)  # a float32: 0.3 comes back as 0.30000001192...
    return v


def tf_to_dataset(
    records: Iterable[dict],
    *,
    label_map: list[dict] | None = None,
    report: Report | None = None,
) -> tuple[Dataset, Report]:
    """Records -> Dataset. A record: ``{"features": decode_example(...), "subset", "index",
    "file", "image" (a Path or None)}``."""
    report = report or Report(format="TF Object Detection API")
    ds = Dataset()
    id_to_name: dict[int, str] = {}
    label_ids: dict[str, int] = {}
    display: dict[str, str] = {}
    for it in label_map or []:
        name = it.get("name") or it["display_name"]
        id_to_name.setdefault(it["id"], name)
        label_ids.setdefault(name, it["id"])
        if it.get("display_name") and it.get("name") and it["display_name"] != it["name"]:
            display[name] = it["display_name"]
        ds.ensure_label(name)
    attr_kinds: dict[str, dict[str, object]] = {}

    def name_of(text: str, cid: int | None) -> str | None:
        if cid is not None and cid in id_to_name:
            return id_to_name[cid]
        if text:
            if cid is not None and cid > 0 and text not in label_ids:
                label_ids[text] = cid
                id_to_name[cid] = text
            ds.ensure_label(text)
            return text
        return None

    for r in records:
        f = r["features"]
        where = f"record {r['index']}"

        def get(key: str, kind: str) -> list:
            e = f.get(key)
            if e is None:
                return []
            if e[0] != kind and e[1]:
                raise FormatError(r["file"], f"{key} must be a {kind} list, found a {e[0]} list", key=where)
            return e[1]

        filename = _text(get("image/filename", "bytes")[0]) if get("image/filename", "bytes") else ""
        sid = get("image/source_id", "bytes")
        source_id = _text(sid[0]) if sid else ""
        hs, ws = get("image/height", "int64"), get("image/width", "int64")
        H = int(hs[0]) if hs and hs[0] > 0 else None
        W = int(ws[0]) if ws and ws[0] > 0 else None
        if not (W and H) and r.get("image") is not None:
            W, H = _image_size(r["image"]) or (None, None)
        name = filename or source_id or f"{r['subset'] or 'default'}_{r['index']}"
        item = Item(name, W, H, subset=r["subset"], image=r.get("image"))
        meta: dict = {}
        if source_id and source_id != filename:
            meta["source_id"] = source_id
        if r.get("image") is None and not get("image/encoded", "bytes"):
            report.missing_images.append(name)
        coords = [get(f"image/object/bbox/{k}", "float") for k in ("xmin", "ymin", "xmax", "ymax")]
        n = len(coords[0])
        if any(len(c) != n for c in coords):
            lengths = ", ".join(str(len(c)) for c in coords)
            raise FormatError(r["file"], f"bbox lists differ in length ({lengths})", key=where)
        texts = [_text(t) for t in get("image/object/class/text", "bytes")]
        cids = get("image/object/class/label", "int64")
        masks = get("image/object/mask", "bytes")
        if masks and len(masks) != n:
            report.problem(f"{r['file']} ({where}): {len(masks)} masks for {n} objects; masks ignored")
            masks = []
        extra = {}
        for key, (kind, values) in f.items():
            if key.startswith("image/object/") and key not in _OBJECT_KEYS and len(values) == n and n:
                extra[key[len("image/object/"):].replace("/", "_")] = values
        shapes = item.shapes
        group = 0
        for j in range(n):
            label = name_of(texts[j] if j < len(texts) else "", cids[j] if j < len(cids) else None)
            if label is None:
                report.drop("objects without a class dropped")
                continue
            if not (W and H):
                report.drop("objects of images of unknown size dropped")
                continue
            x0, y0, x1, y1 = (c[j] for c in coords)
            x0, x1, y0, y1 = x0 * W, x1 * W, y0 * H, y1 * H
            geom = {"x": round(x0, 3), "y": round(y0, 3), "w": round(x1 - x0, 3), "h": round(y1 - y0, 3)}
            attrs = {k: _scalar(v[j]) for k, v in extra.items()}
            if attrs:
                kinds = attr_kinds.setdefault(label, {})
                for k, v in attrs.items():
                    kinds.setdefault(k, v)
            mask = None
            if masks and masks[j]:
                try:
                    mask = _mask_from_png(masks[j], H, W)
                except Exception as e:  # a damaged PNG or a size mismatch: keep the box
                    report.problem(f"{r['file']} ({where}): mask of object {j} unreadable ({e}); box kept")
                if mask is not None and not mask.any():
                    mask = None
            g = None
            if mask is not None:
                group += 1
                g = group
            if geom["w"] > 0 and geom["h"] > 0:
                shapes.append(Shape("box", label, geom, attrs, group_id=g))
            else:
                report.drop("boxes of zero width or height dropped")
            if mask is not None:
                shapes.append(Shape("mask", label, {"rle": _rle.encode(mask)}, dict(attrs), group_id=g))
        ctexts = [_text(t) for t in get("image/class/text", "bytes")]
        cls = get("image/class/label", "int64")
        confs = get("image/class/confidence", "float")
        for j in range(max(len(ctexts), len(cls))):
            label = name_of(ctexts[j] if j < len(ctexts) else "", cls[j] if j < len(cls) else None)
            if label is None:
                report.drop("image classes without a name dropped")
                continue
            conf = round(confs[j], 6) if j < len(confs) and len(confs) == max(len(ctexts), len(cls)) else None
            shapes.append(Shape("tag", label, confidence=conf))
        kept = {}
        for key, (kind, values) in f.items():
            if key in _IMAGE_KEYS or key.startswith("image/object/"):
                continue
            if kind == "bytes":
                try:
                    kept[key] = [kind, [v.decode("utf-8") for v in values]]
                except UnicodeDecodeError:
                    report.drop("binary image features dropped")
            else:
                kept[key] = [kind, list(values)]
        if kept:
            meta["features"] = kept
        if meta:
            item.metadata["tf_detection_api"] = meta
        report.shapes += len(shapes)
        ds.items.append(item)
    for lb in ds.schema:
        for k, v in attr_kinds.get(lb.name, {}).items():
            kind = "number" if isinstance(v, (int, float)) else "text"
            lb.attributes.append(Attribute(k, kind))
    info: dict = {"label_ids": label_ids}
    if display:
        info["display_names"] = display
    ds.info["tf_detection_api"] = info
    report.items = len(ds.items)
    return ds, report


def _record_files(root: Path) -> list[tuple[Path, str]]:
    if root.is_file():
        m = _RECORD_NAME.match(root.name)
        return [(root, m.group("subset") if m else root.stem)]
    out = []
    for p in sorted(root.iterdir()):
        m = _RECORD_NAME.match(p.name)
        if m and p.is_file():
            out.append((p, m.group("subset")))
    return out


def _safe_relative(name: str) -> str:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or not p.parts:
        return p.name or "image"
    return p.as_posix()


def read(path: Path, *, images_dir: Path | None = None, **options) -> tuple[Dataset, Report]:
    """Read a folder of ``<subset>.tfrecord`` files (with label_map.pbtxt), or one TFRecord file.
    ``images_dir``: where to write the images the records hold (``Item.image`` then points there);
    without it the images stay in the records and ``Item.image`` is None."""
    root = Path(path)
    report = Report(format="TF Object Detection API")
    folder = root.parent if root.is_file() else root
    lm_path = folder / LABEL_MAP
    if not lm_path.is_file():
        lm_path = next((p for p in sorted(folder.glob("*.pbtxt")) if "label" in p.name), lm_path)
    label_map = parse_label_map(lm_path.read_text(encoding="utf-8"), lm_path) if lm_path.is_file() else None
    files = _record_files(root)
    if not files:
        raise FormatError(root, "no .tfrecord files here")
    out_dir = Path(images_dir).resolve() if images_dir is not None else None

    def records():
        for file, subset in files:
            for i, data in enumerate(read_records(file)):
                try:
                    feats = decode_example(data)
                except ValueError as e:
                    raise FormatError(file, f"not a tf.train.Example: {e}", key=f"record {i}") from None
                image = None
                if out_dir is not None:
                    fn = feats.get("image/filename", ("bytes", []))[1]
                    enc = feats.get("image/encoded", ("bytes", []))[1]
                    rel = _safe_relative(_text(fn[0])) if fn and fn[0] else None
                    if rel and enc and enc[0]:
                        image = out_dir / rel
                        atomic_write(image, enc[0])
                    elif rel and (out_dir / rel).is_file():
                        image = out_dir / rel
                yield {"features": feats, "subset": None if subset == "default" else subset, "index": i,
                       "file": file, "image": image}  # fmt: skip

    with no_gc():
        return tf_to_dataset(records(), label_map=label_map, report=report)


# -- writing ------------------------------------------------------------------------------------------


def _label_ids(dataset: Dataset) -> dict[str, int]:
    known = dict((dataset.info.get("tf_detection_api") or {}).get("label_ids") or {})
    names = [lb.name for lb in dataset.schema]
    seen = set(names)
    for it in dataset.items:
        for s in it.shapes:
            if s.label not in seen:
                seen.add(s.label)
                names.append(s.label)
    out: dict[str, int] = {}
    used = set()
    for n in names:
        i = known.get(n)
        if isinstance(i, int) and i > 0 and i not in used:
            out[n] = i
            used.add(i)
    nxt = max(used, default=0) + 1
    for n in names:
        if n not in out:
            out[n] = nxt
            nxt += 1
    return out


def _png01(mask: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(mask.astype(np.uint8), mode="L").save(buf, format="PNG")
    return buf.getvalue()


def _objects(item: Item, report: Report) -> tuple[list[dict], list[Shape]]:
    """The item's area shapes as objects ``{"label", "box", "pixel", "attributes"}`` and its tags."""
    groups: dict[object, list[Shape]] = {}
    tags = []
    for n, s in enumerate(item.shapes):
        if s.kind == "tag":
            tags.append(s)
            continue
        if s.kind not in _AREA_KINDS:
            report.drop(f"{_PLURAL[s.kind]} dropped")
            continue
        report.unrepresentable(s, "z_order", "track_id", "source", "confidence")
        groups.setdefault(("g", s.group_id) if s.group_id is not None else ("s", n), []).append(s)
    objects: list[dict] = []
    for members in groups.values():
        start = len(objects)
        for s in members:
            slot = "box" if s.kind == "box" else "pixel"
            target = next((o for o in objects[start:] if o["label"] == s.label and o[slot] is None), None)
            if target is None:
                target = {"label": s.label, "box": None, "pixel": None, "attributes": {}}
                objects.append(target)
            target[slot] = s
            for k, v in s.attributes.items():
                target["attributes"].setdefault(k, v)
        if len(objects) - start > 1 and members[0].group_id is not None:
            report.drop("group ids not representable (more than a box and a mask in a group)", len(objects) - start - 1)
    return objects, tags


def _attribute_features(objects: list[dict], report: Report) -> dict[str, tuple[str, list]]:
    out: dict[str, tuple[str, list]] = {}
    names: dict[str, None] = {}
    for o in objects:
        for k in o["attributes"]:
            names.setdefault(k, None)
    for k in names:
        key = f"image/object/{k}"
        values = [o["attributes"].get(k) for o in objects]
        if key in _OBJECT_KEYS or key.startswith(("image/object/bbox/", "image/object/class/")) or "/" in k:
            report.drop("attributes not representable (name taken by a standard key)", len(values))
            continue
        if any(v is None for v in values):
            n_set = sum(v is not None for v in values)
            report.drop("attributes not representable (not set on every object of an image)", n_set)
            continue
        if all(isinstance(v, bool) for v in values):
            report.drop("checkbox attributes written as 0/1", len(values))
            out[key] = ("int64", [int(v) for v in values])
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            out[key] = ("int64", values)
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            out[key] = ("float", [float(v) for v in values])
        elif all(isinstance(v, str) for v in values):
            out[key] = ("bytes", [v.encode("utf-8") for v in values])
        else:
            report.drop("attributes not representable (mixed types)", len(values))
    return out


def dataset_to_tf(
    dataset: Dataset,
    *,
    report: Report,
    label_ids: dict[str, int] | None = None,
    image_bytes: Callable[[Item], bytes | None] = lambda item: None,
    size_of: Callable[[Item], tuple[int, int] | None] | None = None,
) -> Iterator[tuple[str, bytes]]:
    """Yield ``(subset file stem, serialized Example)`` per item. ``image_bytes(item)`` gives the
    encoded image (or None), ``size_of(item)`` its (width, height) when the item has none."""
    label_ids = label_ids or _label_ids(dataset)
    for item in dataset.items:
        size = (item.width, item.height) if item.width and item.height else (size_of(item) if size_of else None)
        W, H = size if size else (None, None)
        name = item.name
        meta = item.metadata.get("tf_detection_api") or {}
        feats: dict[str, tuple[str, list]] = {
            "image/filename": ("bytes", [name.encode("utf-8")]),
            "image/source_id": ("bytes", [str(meta.get("source_id") or name).encode("utf-8")]),
        }
        if W and H:
            feats["image/height"] = ("int64", [H])
            feats["image/width"] = ("int64", [W])
        data = image_bytes(item)
        if data is not None:
            fmt = _IMAGE_FORMATS.get(PurePosixPath(name).suffix.lower()) or _IMAGE_FORMATS.get(
                Path(item.image).suffix.lower() if item.image else "", ""
            )
            feats["image/encoded"] = ("bytes", [data])
            feats["image/format"] = ("bytes", [fmt.encode("ascii")])
            feats["image/key/sha256"] = ("bytes", [hashlib.sha256(data).hexdigest().encode("ascii")])
        objects, tags = _objects(item, report)
        if objects and not (W and H):
            n = sum(1 for o in objects for k in ("box", "pixel") if o[k])
            report.drop("shapes of images of unknown size dropped", n)
            objects = []
        if objects:
            xmin, xmax, ymin, ymax, texts, cids = [], [], [], [], [], []
            for o in objects:
                s = o["box"] or o["pixel"]
                if o["box"] is not None:
                    g = s.geometry
                    b = (g["x"], g["y"], g["w"], g["h"])
                else:
                    b = bbox(s.kind, s.geometry) or (0.0, 0.0, 0.0, 0.0)
                xmin.append(b[0] / W)
                xmax.append((b[0] + b[2]) / W)
                ymin.append(b[1] / H)
                ymax.append((b[1] + b[3]) / H)
                texts.append(o["label"].encode("utf-8"))
                cids.append(label_ids[o["label"]])
            feats["image/object/bbox/xmin"] = ("float", xmin)
            feats["image/object/bbox/xmax"] = ("float", xmax)
            feats["image/object/bbox/ymin"] = ("float", ymin)
            feats["image/object/bbox/ymax"] = ("float", ymax)
            feats["image/object/class/text"] = ("bytes", texts)
            feats["image/object/class/label"] = ("int64", cids)
            if any(o["pixel"] is not None for o in objects):
                pngs = []
                empty = None
                for o in objects:
                    s = o["pixel"]
                    m = None
                    if s is not None:
                        if s.kind == "mask" and list(s.geometry["rle"]["size"]) != [H, W]:
                            size = s.geometry["rle"]["size"]
                            report.problem(f"{name}: a mask of {size} on an image of {H}x{W} was left out")
                        else:
                            m = rasterize(s.kind, s.geometry, H, W)
                            if s.kind != "mask":
                                report.drop(f"{_PLURAL[s.kind]} written as pixel masks")
                    if m is None:
                        empty = empty or _png01(np.zeros((H, W), np.uint8))
                        pngs.append(empty)
                    else:
                        pngs.append(_png01(m))
                feats["image/object/mask"] = ("bytes", pngs)
            feats.update(_attribute_features(objects, report))
        if tags:
            feats["image/class/text"] = ("bytes", [t.label.encode("utf-8") for t in tags])
            feats["image/class/label"] = ("int64", [label_ids[t.label] for t in tags])
            confs = [t.confidence for t in tags]
            if all(c is not None for c in confs):
                feats["image/class/confidence"] = ("float", confs)
            elif any(c is not None for c in confs):
                report.drop("confidences of tags not representable (not set on every tag of an image)")
            for t in tags:
                if t.attributes:
                    report.drop("attributes of tags not representable")
        for key, value in (meta.get("features") or {}).items():
            if key in feats or not isinstance(value, (list, tuple)) or len(value) != 2:
                continue
            kind, values = value
            if kind == "bytes":
                feats[key] = ("bytes", [str(v).encode("utf-8") for v in values])
            elif kind in ("float", "int64"):
                feats[key] = (kind, list(values))
        report.items += 1
        report.shapes += len(item.shapes)
        yield (item.subset or "default"), encode_example(feats)


def _image_size(path: Path) -> tuple[int, int] | None:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.size
    except OSError:
        return None


def write(dataset: Dataset, path: Path, *, include_images: bool = True, **options) -> Report:
    """Write ``<subset>.tfrecord`` files and label_map.pbtxt into the folder ``path``.
    ``include_images`` (default True: TF OD API trains from the bytes in the records) embeds each
    item's image file."""
    out = Path(path)
    report = Report(format="TF Object Detection API")
    label_ids = _label_ids(dataset)

    def image_bytes(item: Item) -> bytes | None:
        if not include_images:
            return None
        if item.image is not None and Path(item.image).is_file():
            return Path(item.image).read_bytes()
        report.missing_images.append(item.name)
        return None

    def size_of(item: Item):
        if item.image is not None and Path(item.image).is_file():
            return _image_size(Path(item.image))
        return None

    subsets: dict[str, list[Item]] = {}
    for it in dataset.items:
        subsets.setdefault(it.subset or "default", []).append(it)
    for subset, items in subsets.items():
        part = Dataset(dataset.schema, items, dataset.info)
        examples = dataset_to_tf(part, report=report, label_ids=label_ids, image_bytes=image_bytes, size_of=size_of)
        write_records(out / f"{subset}.tfrecord", (data for _, data in examples))
    display = (dataset.info.get("tf_detection_api") or {}).get("display_names") or {}
    atomic_write(out / LABEL_MAP, format_label_map(label_ids, display))
    return report


# -- detection ----------------------------------------------------------------------------------------


def _looks_tfrecord(path: Path) -> int:
    try:
        with open(path, "rb") as f:
            head = f.read(1024)
    except OSError:
        return 0
    if len(head) < 12:
        return 0
    if masked_crc32c(head[:8]) != struct.unpack_from("<I", head, 8)[0]:
        return 0
    return 90 if b"image/" in head else 40


def detect(path: Path) -> int:
    """90 for TFRecord files (their first record's length CRC checks) with ``image/`` keys in the
    first KB, or a folder of them; 40 for other TFRecord files."""
    root = Path(path)
    try:
        files = _record_files(root) if root.is_dir() or _RECORD_NAME.match(root.name) else []
    except OSError:
        return 0
    if not files:
        return 0
    return _looks_tfrecord(files[0][0])


register(Format("tf_detection_api", "TensorFlow Object Detection API (TFRecord of tf.train.Example)", read, write, detect))
