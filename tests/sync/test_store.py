"""The sync's bulk statements on SQLite and PostgreSQL: what they store, in how many statements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.exc import IntegrityError

from syncer.db.engine import read_session, write_session
from syncer.db.schema import Model, ModelEvent
from syncer.lifecycle import Matcher
from syncer.sync import store
from syncer.sync.parse import CREATED_RANGE, ModelRecord
from syncer.sync.store import add_run

NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)  # whole seconds: where formats could differ
LATER = NOW + timedelta(hours=1, microseconds=250)


def record(model_id: str, shutdown_at: datetime | None = None, **fields: Any) -> ModelRecord:
    raw = {
        "id": model_id,
        "object": "model",
        "created": 1_686_935_002,
        "owned_by": "openai",
        **fields,
    }
    return ModelRecord(model_id, raw, "model", raw["created"], raw["owned_by"], shutdown_at)


def upsert(
    engine: Engine, records: list[ModelRecord], now: datetime = NOW, *, listing: bool = True
) -> None:
    """Write listed models as a sync does: the models, then (unless not asked to) the
    source's listing."""
    with write_session(engine) as session, session.begin():
        store.upsert_models(session, "openai", records, now, Matcher(()))
        if listing:
            store.record_listing(session, "openai", now)


def rows(engine: Engine) -> dict[str, Model]:
    with read_session(engine) as session:
        return {m.model_id: m for m in session.scalars(select(Model))}


def test_upserted_models_read_back_as_they_were_listed(engine: Engine) -> None:
    shutdown = datetime(2027, 1, 1, tzinfo=UTC)
    tuned = record("ft:gpt-4o-mini:acme::x1", created=None, pricing={"prompt": "0.1"})
    listed = [record("gpt-4o", shutdown_at=shutdown), tuned]

    upsert(engine, listed)

    stored = rows(engine)
    for model in listed:
        row = stored[model.model_id]
        assert (row.object, row.created, row.owned_by) == (
            model.object,
            model.created,
            model.owned_by,
        )
        assert row.created_at == model.created_at
        assert row.shutdown_at == model.shutdown_at
        assert row.raw == model.raw
        assert row.raw_digest == model.digest
        assert row.is_fine_tuned == model.is_fine_tuned
        assert (row.first_seen_at, row.last_seen_at) == (NOW, NOW)
        assert (row.vanished_at, row.deleted_at) == (None, None)
    assert stored["gpt-4o"].shutdown_at == shutdown
    assert stored[tuned.model_id].created_at is None


def test_the_columns_a_kind_maps_are_stored_and_rewritten(engine: Engine) -> None:
    big = 10_000_000_000  # beyond 32 bits: a context length is a BIGINT
    mapped = ModelRecord(
        "magistral",
        {"id": "magistral"},
        display_name="Magistral",
        context_length=big,
        replacement="mistral-medium-latest",
    )

    upsert(engine, [mapped])
    first = rows(engine)["magistral"]
    upsert(engine, [ModelRecord("magistral", {"id": "magistral", "v": 2})])

    assert (first.display_name, first.context_length, first.replacement) == (
        "Magistral",
        big,
        "mistral-medium-latest",
    )
    again = rows(engine)["magistral"]
    assert (again.display_name, again.context_length, again.replacement) == (None, None, None)


@pytest.mark.parametrize(
    "created", [0, -1, 1_700_000_000, CREATED_RANGE.start, CREATED_RANGE.stop - 1]
)
def test_created_at_derived_in_sql_is_the_instant_python_makes_of_created(
    engine: Engine, created: int
) -> None:
    model = record("m", created=created)

    upsert(engine, [model])

    assert rows(engine)["m"].created_at == datetime.fromtimestamp(created, UTC)


def test_timestamps_on_sqlite_are_stored_in_sqlalchemys_own_format(tmp_path: Any) -> None:
    """Regression: bulk rows bypass bind processing, and sqlite3's own adapter drops
    ``.000000``, so text comparisons like ``last_seen_at != :now`` went wrong."""
    from syncer.db import migrate
    from syncer.db.engine import make_engine
    from syncer.db.tables import state_table

    engine = make_engine(f"sqlite:///{tmp_path / 'formats.db'}")
    migrate.upgrade(engine)
    upsert(engine, [record("m", created=1_700_000_000)])
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT created_at, first_seen_at FROM models")).one()
        process = state_table.c.created_at.type.dialect_impl(engine.dialect).bind_processor(
            engine.dialect
        )
    engine.dispose()
    assert process is not None
    assert stored == (process(datetime.fromtimestamp(1_700_000_000, UTC)), process(NOW))


def test_a_second_upsert_rewrites_the_row_but_keeps_first_seen(engine: Engine) -> None:
    upsert(engine, [record("m")])
    with write_session(engine) as session, session.begin():
        store.mark_vanished(session, "openai", ["m"], NOW)

    upsert(engine, [record("m", owned_by="acme")], now=LATER)

    row = rows(engine)["m"]
    assert (row.owned_by, row.raw["owned_by"]) == ("acme", "acme")
    assert (row.first_seen_at, row.last_seen_at, row.vanished_at) == (NOW, LATER, None)


def test_two_upserts_in_one_transaction_both_land(engine: Engine) -> None:
    with write_session(engine) as session, session.begin():
        store.upsert_models(session, "openai", [record("a")], NOW, Matcher(()))
        store.upsert_models(session, "openai", [record("b")], LATER, Matcher(()))

    assert {m: row.first_seen_at for m, row in rows(engine).items()} == {"a": NOW, "b": LATER}


def test_mark_vanished_sets_exactly_the_given_ids(engine: Engine) -> None:
    odd = ["it's", 'a "quoted" id', "modèle-été", "100%", "back\\slash", "[1, 2]"]
    upsert(engine, [record(m) for m in [*odd, "stays"]])

    with write_session(engine) as session, session.begin():
        store.mark_vanished(session, "openai", odd, LATER)

    vanished = {m: row.vanished_at for m, row in rows(engine).items()}
    assert vanished == {**dict.fromkeys(odd, LATER), "stays": None}


def test_a_vanished_model_keeps_the_listing_before_its_vanish_as_last_seen(
    engine: Engine,
) -> None:
    upsert(engine, [record("gone"), record("stays")])
    with write_session(engine) as session, session.begin():
        store.mark_vanished(session, "openai", ["gone"], LATER)
        store.record_listing(session, "openai", LATER)

    stored = rows(engine)
    assert (stored["gone"].last_seen_at, stored["gone"].vanished_at) == (NOW, LATER)
    assert (stored["stays"].last_seen_at, stored["stays"].vanished_at) == (LATER, None)


def test_a_model_kept_unlisted_keeps_its_last_seen_until_listed_again(engine: Engine) -> None:
    upsert(engine, [record("kept"), record("other")])
    later = LATER + timedelta(hours=1)
    with write_session(engine) as session, session.begin():  # missing, unconfirmed: kept
        store.mark_vanished(session, "openai", ["kept"], LATER)
        store.relist_present(session, "openai")
        store.record_listing(session, "openai", LATER)
        store.mark_vanished(session, "openai", ["kept"], None)
    kept = rows(engine)["kept"]
    with write_session(engine) as session, session.begin():  # listed again, unchanged
        store.relist_present(session, "openai")
        store.record_listing(session, "openai", later)

    assert (kept.last_seen_at, kept.vanished_at) == (NOW, None)
    assert rows(engine)["kept"].last_seen_at == later


def test_recording_a_listing_writes_one_row_whatever_the_number_of_models(
    engine: Engine,
) -> None:
    upsert(engine, [record(f"m{i}") for i in range(300)])
    written: list[int] = []

    def count(_connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.split()[0] in ("INSERT", "UPDATE", "DELETE"):
            written.append(cursor.rowcount)

    event.listen(engine, "after_cursor_execute", count)
    with write_session(engine) as session, session.begin():
        store.record_listing(session, "openai", LATER)

    assert written == [1]
    assert {row.last_seen_at for row in rows(engine).values()} == {LATER}


def test_events_keep_none_as_sql_null_and_values_as_json(engine: Engine) -> None:
    with write_session(engine) as session, session.begin():
        run = add_run(session, source="openai", started_at=NOW, finished_at=NOW, status="ok")
        store.insert_events(
            session,
            [
                {
                    "source": "openai",
                    "model_id": "a",
                    "kind": "added",
                    "occurred_at": NOW,
                    "sync_run_id": run.id,
                    "old_values": None,
                    "new_values": None,
                    "details": None,
                },
                {
                    "source": "openai",
                    "model_id": "b",
                    "kind": "changed",
                    "occurred_at": NOW,
                    "sync_run_id": run.id,
                    "old_values": {"owned_by": "openai"},
                    "new_values": {"owned_by": None},
                    "details": None,
                },
            ],
        )

    with engine.connect() as connection:
        nulls = (
            connection.execute(
                text(
                    "SELECT model_id FROM model_events WHERE old_values IS NULL AND details IS NULL"
                )
            )
            .scalars()
            .all()
        )
    with read_session(engine) as session:
        changed = session.scalars(select(ModelEvent).where(ModelEvent.model_id == "b")).one()
    assert nulls == ["a"]
    assert (changed.old_values, changed.new_values) == ({"owned_by": "openai"}, {"owned_by": None})
    assert changed.occurred_at == NOW


def test_load_state_hands_over_presence_and_digest_and_the_json_only_of_what_differs(
    engine: Engine,
) -> None:
    models = [record("a"), record("b", extra=[1, True, None]), record("c")]
    upsert(engine, models)
    with write_session(engine) as session, session.begin():
        store.mark_vanished(session, "openai", ["a"], NOW)
    listed = [record("b", extra=[1, True, None, "more"]), record("c"), record("new")]

    with read_session(engine) as session:
        state = store.load_state(session, "openai")
        unread = state["b"].raw
        differing = state.differing(listed)
        store.load_documents(session, "openai", state, differing)

    assert sorted(state) == ["a", "b", "c"]
    assert (state["a"].present, state["b"].present) == (False, True)
    assert state.present_digests() == {"b": models[1].digest, "c": models[2].digest}
    assert unread is None and differing == ["b"]
    assert isinstance(state["b"].raw, str)
    assert state["b"].document() == models[1].raw
    assert state["c"].raw is None


@pytest.mark.postgres
def test_copy_is_one_statement_that_listeners_see(postgres_url: str) -> None:
    from syncer.db import migrate
    from syncer.db.engine import make_engine

    engine = make_engine(postgres_url)
    migrate.upgrade(engine)
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    upsert(engine, [record(f"m{i}") for i in range(500)], listing=False)
    engine.dispose()

    copies = [s for s in seen if s.startswith("COPY")]
    assert copies == [
        "COPY syncer_incoming_models (model_id, object, created, owned_by, "
        "is_fine_tuned, shutdown_at, display_name, context_length, replacement, "
        "raw, raw_digest, lifecycle_status, effective_shutdown_at, date_source, "
        "date_origin, date_source_url, effective_replacement) FROM STDIN"
    ]
    assert len(seen) == 4  # create a temporary table, COPY into it, upsert from it, drop it


@pytest.mark.postgres
def test_a_failing_copy_raises_sqlalchemys_error(postgres_url: str) -> None:
    from syncer.db import migrate
    from syncer.db.engine import make_engine

    engine = make_engine(postgres_url)
    migrate.upgrade(engine)
    orphan = {
        "source": "openai",
        "model_id": "a",
        "kind": "added",
        "occurred_at": NOW,
        "sync_run_id": 999,
        "old_values": None,
        "new_values": None,
        "details": None,
    }
    session = write_session(engine)
    with pytest.raises(IntegrityError, match="sync_run_id"), session, session.begin():
        store.insert_events(session, [orphan])
    engine.dispose()


def test_upsert_sends_one_statement_on_sqlite_whatever_the_number_of_models(
    tmp_path: Any,
) -> None:
    from syncer.db import migrate
    from syncer.db.engine import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'count.db'}")
    migrate.upgrade(engine)
    sent: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    upsert(engine, [record(f"m{i}") for i in range(3000)], listing=False)
    engine.dispose()

    assert [s.split()[0] for s in sent] == ["BEGIN", "INSERT"]
