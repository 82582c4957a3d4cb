"""The text of values in CVAT XML: parsing numbers and ``x,y;x,y`` point lists, and writing
numbers (integers without ``.0``, others in their shortest round-trip form), attribute values
(true/false for checkboxes) and point lists (a Points array in one orjson call)."""

from __future__ import annotations

import orjson

from limner.core.points import Points


def _number(s: str):
    try:
        return int(s)
    except ValueError:
        return float(s)


def _points(s: str | None) -> list[list[float]]:
    if not s:
        raise ValueError("points are missing")
    out = []
    for p in s.split(";"):
        x, y = p.split(",")
        out.append([float(x), float(y)])
    return out


def _f(v: float) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def _val(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return _f(v)
    return str(v)


def _pts_str(pts) -> str:
    if type(pts) is Points:
        a = pts.array[:, :2] + 0.0  # -0.0 becomes 0.0, as _f writes it
        if len(a):
            # every number's shortest round-trip form at once (orjson, C): b"[[x,y],[x,y]]"
            s = orjson.dumps(a, option=orjson.OPT_SERIALIZE_NUMPY)
            if b"e" not in s and b"n" not in s:  # exponents are written as repr does, NaN (null) by _f
                return s.replace(b".0,", b",").replace(b".0]", b"]")[2:-2].replace(b"],[", b";").decode()
    return ";".join(f"{_f(p[0])},{_f(p[1])}" for p in pts)
