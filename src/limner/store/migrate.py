"""Alembic migrations, run programmatically (`limner db upgrade`, and by the server at start)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from limner.store.db import Database

__all__ = ["alembic_config", "current_revision", "head_revision", "upgrade"]

_HERE = Path(__file__).parent / "migrations"


def alembic_config(connection=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision, read from the file names without importing Alembic (fast start)."""
    revs, downs = set(), set()
    for f in (_HERE / "versions").glob("*.py"):
        rev = down = None
        for line in f.read_text().splitlines():
            if line.startswith("revision ="):
                rev = line.split("=", 1)[1].strip().strip("\"'")
            elif line.startswith("down_revision ="):
                v = line.split("=", 1)[1].strip()
                down = None if v == "None" else v.strip("\"'")
        if rev:
            revs.add(rev)
            if down:
                downs.add(down)
    heads = revs - downs
    if len(heads) != 1:
        raise RuntimeError(f"migrations must have one head, found {sorted(heads)}")
    return heads.pop()


def current_revision(db: Database) -> str | None:
    with db.write_engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _create_fresh(db: Database) -> bool:
    """An empty database gets the tables straight from the models, stamped at the head revision:
    the same schema the migrations build (a test checks it), without importing Alembic."""
    from limner.store.models import Base

    with db.write_engine.begin() as conn:
        if inspect(conn).get_table_names():
            return False
        Base.metadata.create_all(conn)
        conn.execute(
            text(
                "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
            )
        )
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head_revision()})
    return True


def upgrade(db: Database, revision: str = "head", *, fresh_from_models: bool = True) -> bool:
    """Bring the database to `revision`; returns True when anything changed."""
    current = current_revision(db)
    if revision == "head" and current == head_revision():
        return False
    if revision == "head" and current is None and fresh_from_models and _create_fresh(db):
        return True
    from alembic import command

    with db.write_engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)
    return True
