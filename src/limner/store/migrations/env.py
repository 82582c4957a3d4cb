"""Alembic environment: migrations run on the connection Limner hands over."""

from alembic import context

from limner.store.models import Base

config = context.config
target_metadata = Base.metadata
connection = config.attributes.get("connection")

if connection is None:
    raise RuntimeError("run migrations through limner.store.migrate.upgrade or `limner db upgrade`")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
