"""The schema comes from Alembic only, and the code's models agree with it."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import ExceptionContext

from syncer.db import migrate
from syncer.db.engine import make_engine
from syncer.db.revision import HEAD, current_revision
from syncer.db.views import VIEW_NAMES

TABLES = {"sync_runs", "model_state", "source_listings", "model_events"}


def test_upgrade_creates_the_documented_tables_and_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    # The views are in place, and autogenerate (the check below) leaves them alone.
    assert set(inspect(engine).get_view_names()) == set(VIEW_NAMES)
    assert current_revision(engine) == HEAD
    with engine.connect() as connection:
        command.check(migrate.alembic_config(connection))
    engine.dispose()


def test_the_expected_head_is_the_newest_migration() -> None:
    assert ScriptDirectory.from_config(migrate.alembic_config()).get_current_head() == HEAD


def test_an_empty_database_and_one_downgraded_to_base_have_no_revision(database_url: str) -> None:
    engine = make_engine(database_url)
    assert current_revision(engine) is None
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    assert current_revision(engine) is None
    migrate.upgrade(engine, "0004")
    assert current_revision(engine) == "0004"
    engine.dispose()


def test_a_schema_created_by_another_replica_while_the_revision_is_read_is_seen(
    database_url: str,
) -> None:
    """Replicas starting together on an empty database: one's revision query fails for
    want of the table just as another commits the schema; that is not an error."""
    engine = make_engine(database_url)
    other = make_engine(database_url)
    migrated = []

    @event.listens_for(engine, "handle_error")
    def another_replica_migrates(context: ExceptionContext) -> None:
        if not migrated:
            migrate.upgrade(other)
            migrated.append(True)

    assert current_revision(engine) == HEAD
    assert migrated
    engine.dispose()
    other.dispose()


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
    assert current_revision(engine) == HEAD
    engine.dispose()


def test_the_reporting_views_come_and_go_with_their_migration(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "0001")
    assert inspect(engine).get_view_names() == []
    assert set(inspect(engine).get_table_names()) >= {"sync_runs", "models", "model_events"}
    migrate.upgrade(engine)
    assert set(inspect(engine).get_view_names()) == set(VIEW_NAMES)
    engine.dispose()


def test_the_provider_columns_arrive_empty_on_stored_models_and_leave_them_intact(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine, "0003")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO models (source, model_id, is_fine_tuned, raw, first_seen_at, "
                "last_seen_at) VALUES ('openrouter', 'openai/gpt-4o', false, '{}', "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
    migrate.upgrade(engine)
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT display_name, context_length, replacement FROM models")
        ).one()
        offer = connection.execute(text("SELECT common_id, date_source FROM model_offers")).one()
    migrate.downgrade(engine, "0003")
    with engine.connect() as connection:
        kept = connection.execute(text("SELECT source, model_id FROM models")).all()
    engine.dispose()

    assert tuple(row) == (None, None, None)
    assert tuple(offer) == ("gpt-4o", None)
    assert [tuple(k) for k in kept] == [("openrouter", "openai/gpt-4o")]


def test_models_becomes_a_view_that_reads_as_the_table_did_both_ways(database_url: str) -> None:
    """0007: the latest listing of a source is its models' last_seen_at; a vanished model and
    one kept unlisted keep their own; a downgrade gives the table back as it was."""
    engine = make_engine(database_url)
    migrate.upgrade(engine, "0006")
    listed, kept, gone = "2026-03-02 10:00:00", "2026-03-01 10:00:00", "2026-02-01 10:00:00"
    with engine.begin() as connection:
        for model_id, last_seen, vanished in (
            ("a", listed, None),
            ("b", listed, None),
            ("kept", kept, None),
            ("gone", gone, "2026-02-02 10:00:00"),
        ):
            connection.execute(
                text(
                    "INSERT INTO models (source, model_id, is_fine_tuned, raw, first_seen_at, "
                    "last_seen_at, vanished_at) VALUES ('openai', :m, false, '{}', "
                    "'2026-01-01 00:00:00', :seen, :vanished)"
                ),
                {"m": model_id, "seen": last_seen, "vanished": vanished},
            )
    columns_before = [c["name"] for c in inspect(engine).get_columns("models")]

    def last_seen() -> dict[str, str]:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT model_id, CAST(last_seen_at AS TEXT) FROM models ORDER BY model_id")
            )
            return {m: seen[:19].replace("T", " ") for m, seen in rows}

    before = last_seen()
    migrate.upgrade(engine, "0007")
    after = last_seen()
    columns_after = [c["name"] for c in inspect(engine).get_columns("models")]
    with engine.connect() as connection:
        listings = connection.execute(text("SELECT source FROM source_listings")).all()
        unlisted = (
            connection.execute(
                text(
                    "SELECT model_id FROM model_state WHERE seen_until IS NOT NULL "
                    "ORDER BY model_id"
                )
            )
            .scalars()
            .all()
        )
    migrate.downgrade(engine, "0006")
    back = last_seen()
    engine.dispose()

    assert before == after == back == {"a": listed, "b": listed, "gone": gone, "kept": kept}
    assert columns_after == columns_before
    assert [tuple(r) for r in listings] == [("openai",)]
    assert unlisted == ["gone", "kept"]


def test_0013_stores_the_date_in_force_of_stored_models_and_names_every_imports_origin(
    database_url: str,
) -> None:
    """Provider dates, an exact imported id, a glob beaten by it, a provider date beside an
    imported replacement, and an old import without an origin."""
    engine = make_engine(database_url)
    migrate.upgrade(engine, "0012")
    with engine.begin() as connection:
        for model_id, shutdown, replacement in (
            ("gpt-4-0613", None, None),
            ("gpt-4-0314", None, None),
            ("gpt-4o", "2026-10-23 00:00:00", None),
            ("o1", None, None),
            ("mistral-x", "2026-08-31 12:00:00", "mistral-y"),
        ):
            connection.execute(
                text(
                    "INSERT INTO model_state (source, model_id, is_fine_tuned, raw, first_seen_at, "
                    "shutdown_at, replacement) VALUES ('openai', :m, false, '{}', "
                    "'2026-01-01 00:00:00', :d, :r)"
                ),
                {"m": model_id, "d": shutdown, "r": replacement},
            )
        for model, day, replacement, origin in (
            ("gpt-4-*", "2026-07-01 00:00:00", "gpt-4.1", "globs.csv"),
            ("gpt-4-0613", "2026-06-06 00:00:00", "gpt-4o", None),
            ("gpt-4o", "2026-03-31 00:00:00", "gpt-5", "prices.json"),
        ):
            connection.execute(
                text(
                    "INSERT INTO deprecations (source, model, shutdown_at, replacement, "
                    "imported_at, origin) VALUES ('*', :m, :d, :r, '2026-01-02 00:00:00', :o)"
                ),
                {"m": model, "d": day, "r": replacement, "o": origin},
            )
    migrate.upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT model_id, CAST(shutdown_at AS TEXT), date_source, date_origin, replacement "
                "FROM current_models ORDER BY model_id"
            )
        ).all()
        origins = connection.execute(
            text("SELECT model, origin FROM deprecations ORDER BY model")
        ).all()
    migrate.downgrade(engine, "0012")
    engine.dispose()

    assert [(m, d and d[:10], s, o, r) for m, d, s, o, r in rows] == [
        ("gpt-4-0314", "2026-07-01", "imported", "globs.csv", "gpt-4.1"),
        ("gpt-4-0613", "2026-06-06", "imported", "unknown", "gpt-4o"),
        ("gpt-4o", "2026-10-23", "provider", "provider", "gpt-5"),
        ("mistral-x", "2026-08-31", "provider", "provider", "mistral-y"),
        ("o1", None, None, None, None),
    ]
    assert [tuple(o) for o in origins] == [
        ("gpt-4-*", "globs.csv"),
        ("gpt-4-0613", "unknown"),
        ("gpt-4o", "prices.json"),
    ]
