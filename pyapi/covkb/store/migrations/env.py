"""Alembic's env.py for covkb.store: runs the revisions on the connection that
covkb.store.migrate hands over (config.attributes["connection"]), inside the
transaction it holds, so that two processes migrating at once take turns."""

from __future__ import annotations

from alembic import context

from covkb.store.models import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")  # SQLite alters tables by copying
with context.begin_transaction():
    context.run_migrations()
