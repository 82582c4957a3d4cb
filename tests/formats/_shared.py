"""What the format tests share: where the peer data is, and two checks."""

from __future__ import annotations

import math
from pathlib import Path

from limner.core.dataset import Dataset
from limner.core.shapes import validate_shape

ASSETS = Path(__file__).resolve().parents[3] / "shared" / "peer-data" / "datumaro" / "tests" / "assets"


def assert_valid(ds: Dataset) -> None:
    """Every shape a reader made passes the server's own validation."""
    for item in ds.items:
        for i, s in enumerate(item.shapes):
            validate_shape(s.to_dict(), index=i, schema=ds.schema, height=item.height, width=item.width)


def close(a, b) -> bool:
    """Equal, with floats compared to 1e-6."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, abs_tol=1e-6)
    return a == b
