"""Alembic migrations: the only source of syncer's schema."""
