"""Alembic environment: migrations are the only source of syncer's schema.

Run programmatically by ``syncer db upgrade`` (which passes its own connection) or by
the ``alembic`` command with ``SYNCER_DATABASE_URL`` set.
"""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from syncer.config.model import DEFAULT_DATABASE_URL
from syncer.db.engine import make_engine
from syncer.db.tables import metadata

config = context.config
target_metadata = metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    if config.config_file_name is not None:
        fileConfig(config.config_file_name)
    url = config.get_main_option("sqlalchemy.url") or os.environ.get(
        "SYNCER_DATABASE_URL", DEFAULT_DATABASE_URL
    )
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            run_migrations(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("syncer's migrations run online only: set SYNCER_DATABASE_URL")
run_migrations_online()
