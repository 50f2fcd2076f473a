"""Alembic's environment for covkb.store, shipped in the package (configured in code by
covkb.store.migrate: no alembic.ini)."""
