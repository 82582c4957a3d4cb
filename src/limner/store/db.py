"""Engines and sessions: SQLite in WAL mode with one writer and parallel readers, or PostgreSQL.

SQLite gets two engines on the same file: a reader pool whose transactions never block, and a writer
with a single connection whose transactions begin IMMEDIATE, so writes queue in order instead of
failing with "database is locked" and long writes never block the editor's reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import orjson
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from limner.core.points import Points

__all__ = ["Database", "json_text", "normalise_url"]


def normalise_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def json_text(value) -> str:
    """A JSON column's value as the text stored: orjson, with a :class:`~limner.core.points.Points`
    (a reader's vertices) written from its array, the same digits as its list of pairs."""
    return _dumps(value, default=_array_of, option=_NUMPY).decode()


def _array_of(value):
    if type(value) is Points:
        return np.ascontiguousarray(value.array, dtype=np.float64)
    if isinstance(value, np.ndarray):  # not C-contiguous, or a dtype orjson does not write
        return value.tolist()
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


_json_loads = orjson.loads
_dumps = orjson.dumps
_NUMPY = orjson.OPT_SERIALIZE_NUMPY


# orjson reads JSON columns several times faster than the standard library (big exports)
_JSON = {"json_serializer": json_text, "json_deserializer": _json_loads}


def _sqlite_engine(url: str, *, writer: bool) -> Engine:
    kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": 30}, **_JSON}
    if writer:
        kwargs.update(pool_size=1, max_overflow=0, pool_timeout=120)
    else:
        kwargs.update(pool_size=8, max_overflow=8)
    engine = create_engine(url, **kwargs)
    begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # transactions are begun below, explicitly
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA cache_size=-16384")  # 16 MiB a connection
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql(begin)

    return engine


class Database:
    """The database of one Limner instance: `read()` and `write()` give sessions."""

    def __init__(self, url: str):
        self.url = normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            path = self.url.split("///", 1)[1] if "///" in self.url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.write_engine = _sqlite_engine(self.url, writer=True)
            self.read_engine = _sqlite_engine(self.url, writer=False)
        else:
            self.write_engine = self.read_engine = create_engine(
                self.url, pool_size=10, max_overflow=10, pool_pre_ping=True, **_JSON
            )
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as s:  # closing ends the transaction; loaded objects stay readable
            yield s

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._write() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    def dispose(self) -> None:
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()
