"""Alembic environment: always run with a connection handed in by stageline.store.migrate."""

from alembic import context

from stageline.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs `alembic` by hand
    raise SystemExit("run migrations through stageline (the server applies them at start)")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
