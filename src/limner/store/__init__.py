"""Persistence: SQLAlchemy models, migrations and the functions that read and write them."""

from limner.store.db import Database
from limner.store.migrate import upgrade

__all__ = ["Database", "upgrade"]
