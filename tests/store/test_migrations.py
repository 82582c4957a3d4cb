"""Migrations: they build exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from limner.errors import LimnerError
from limner.server.app import open_services
from limner.settings import load_settings
from limner.store import Database, upgrade
from limner.store.db import normalise_url
from limner.store.migrate import current_revision, head_revision
from limner.store.models import Base

PG = os.environ.get("LIMNER_TEST_POSTGRES_URL", "")


def _no_drift(db: Database) -> list:
    with db.write_engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)


def _schema(db: Database) -> dict:
    insp = inspect(db.write_engine)
    return {
        t: (
            sorted((c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(t)),
            sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(t)),
            sorted(tuple(fk["constrained_columns"]) + (fk["referred_table"],) for fk in insp.get_foreign_keys(t)),
        )
        for t in insp.get_table_names()
    }


def test_fresh_database_from_models_equals_the_migration_chain(tmp_path):
    chain = Database(f"sqlite:///{tmp_path / 'chain.db'}")
    fresh = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert upgrade(chain, fresh_from_models=False) is True
    assert upgrade(fresh) is True
    assert current_revision(chain) == current_revision(fresh) == head_revision()
    assert _schema(chain) == _schema(fresh)
    chain.dispose()
    fresh.dispose()


def test_sqlite_upgrade_matches_models(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    assert current_revision(db) is None
    assert upgrade(db, fresh_from_models=False) is True
    assert current_revision(db) == head_revision()
    assert upgrade(db) is False
    tables = set(inspect(db.write_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert _no_drift(db) == []
    with db.read_engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()


@pytest.fixture
def pg_schema():
    if not PG:
        pytest.skip("PostgreSQL tests need LIMNER_TEST_POSTGRES_URL (CI sets it)")
    schema = f"limner_mig_{uuid.uuid4().hex[:8]}"
    eng = create_engine(normalise_url(PG))
    with eng.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    from urllib.parse import quote

    yield normalise_url(PG) + ("&" if "?" in PG else "?") + "options=" + quote(f"-csearch_path={schema}")
    with eng.begin() as c:
        c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    eng.dispose()


def test_postgres_server_refuses_an_unmigrated_database_then_upgrade_matches_models(pg_schema, tmp_path):
    settings = load_settings({}, data_dir=str(tmp_path), database_url=pg_schema)
    with pytest.raises(LimnerError) as e:
        open_services(settings)
    assert "run `limner db upgrade`" in e.value.detail and "(empty)" in e.value.detail
    db = Database(pg_schema)
    assert upgrade(db, fresh_from_models=False) is True and current_revision(db) == head_revision()
    assert _no_drift(db) == []
    db.dispose()
    svc = open_services(settings)
    svc.runner.shutdown()
    svc.db.dispose()
