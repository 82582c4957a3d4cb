"""The ``tf.train.Example`` protobuf wire format, encoded and decoded by hand: varints,
length-delimited fields, ``{key: (kind, values)}`` to a serialized Example and back, with a fast
decoder for the layout every writer produces and a general one (unpacked repeated fields, any
field order) for the rest."""

from __future__ import annotations

import functools
import struct
from collections.abc import Iterator

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
