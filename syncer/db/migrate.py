"""Alembic wiring: bring a database to the schema this version of syncer expects."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from syncer.db.locks import lock_migrations

__all__ = [
    "alembic_config",
    "downgrade",
    "migrations_path",
    "upgrade",
]


def migrations_path() -> Path:
    """The migrations folder, in a checkout or an installed package alike."""
    return Path(str(files("syncer._migrations")))


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_path()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        lock_migrations(connection)
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)
