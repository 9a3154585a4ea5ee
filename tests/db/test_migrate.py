"""The schema comes from Alembic only, and the code's models agree with it."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from syncer.db import migrate
from syncer.db.engine import make_engine
from syncer.db.views import VIEW_NAMES

TABLES = {"sync_runs", "models", "model_events"}


def test_upgrade_creates_the_documented_tables_and_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    # The views are in place, and autogenerate (the check below) leaves them alone.
    assert set(inspect(engine).get_view_names()) == set(VIEW_NAMES)
    assert migrate.current_revision(engine) == migrate.head_revision()
    with engine.connect() as connection:
        command.check(migrate.alembic_config(connection))
    engine.dispose()


def test_downgrade_to_base_removes_everything_and_upgrade_restores_it(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    migrate.upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_upgrade_twice_is_harmless(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_the_reporting_views_come_and_go_with_their_migration(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "0001")
    assert inspect(engine).get_view_names() == []
    assert set(inspect(engine).get_table_names()) >= TABLES
    migrate.upgrade(engine)
    assert set(inspect(engine).get_view_names()) == set(VIEW_NAMES)
    engine.dispose()
