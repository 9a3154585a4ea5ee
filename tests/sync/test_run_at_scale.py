"""A sync's cost does not grow with the inventory: statements per phase, and work it skips."""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

import pytest
from sqlalchemy import Engine, event, select

from syncer.config.model import HTTPSettings, Source
from syncer.db.engine import read_session
from syncer.db.schema import Model, ModelEvent, SyncRun
from syncer.providers.http import Client
from syncer.sync.run import Syncer, SyncResult
from tests.fakes import API_KEY, FakeProvider, model

FAST = HTTPSettings(max_retries=0, read_timeout=5, connect_timeout=2)
PHASES = ("first", "unchanged", "churned")


def sync(engine: Engine, provider: FakeProvider, name: str = "openai") -> SyncResult:
    with Client(
        Source(name=name, base_url=provider.base_url, api_key=API_KEY).endpoint(), FAST
    ) as client:
        return Syncer(engine, client, name).run()


class Cost(NamedTuple):
    """What one sync sent to the database."""

    statements: int
    #: Rows inserted, updated or deleted, as the driver counts them.
    rows_written: int


def cost_per_phase(engine: Engine, provider: FakeProvider, size: int) -> dict[str, Cost]:
    """Run the benchmark's three phases on a source of ``size`` models; count DBAPI calls.

    Counted where the driver is called (``before_cursor_execute``): an executemany or a
    COPY of any number of rows is one statement, a statement per model would be many.
    """
    name = f"s{size}"
    sent: list[str] = []
    written: list[int] = []
    costs: dict[str, Cost] = {}

    def count(*args: Any) -> None:
        sent.append(args[2])

    def rows(
        _connection: Any,
        cursor: Any,
        statement: str,
        _params: Any,
        _context: Any,
        executemany: bool,
    ) -> None:
        if statement.split()[0] in ("INSERT", "UPDATE", "DELETE"):
            # sqlite3 counts the rows of an INSERT ... RETURNING only once they are read;
            # a single one inserts its one row of VALUES.
            one = "RETURNING" in statement and not executemany
            written.append(1 if one else max(cursor.rowcount, 0))

    event.listen(engine, "before_cursor_execute", count)
    event.listen(engine, "after_cursor_execute", rows)
    provider.set(*[f"{name}-{i}" for i in range(size)])
    replaced = len(range(0, size, 20))
    churned = [m for i, m in enumerate(provider.models) if i % 20]
    churned += [model(f"{name}-new-{i}") for i in range(replaced)]
    expected = {"first": (size, 0), "unchanged": (0, 0), "churned": (replaced, replaced)}
    for phase in PHASES:
        if phase == "churned":
            provider.models = churned
        sent.clear()
        written.clear()
        result = sync(engine, provider, name)
        assert (result.status, result.added, result.vanished) == ("ok", *expected[phase])
        costs[phase] = Cost(len(sent), sum(written))
    event.remove(engine, "before_cursor_execute", count)
    event.remove(engine, "after_cursor_execute", rows)
    return costs


@pytest.mark.parametrize("phase", PHASES)
def test_each_phase_sends_as_many_statements_for_2000_models_as_for_250(
    engine: Engine, provider: FakeProvider, phase: str
) -> None:
    # Both past store.COPY_FROM: on PostgreSQL fewer rows travel as one batch, fewer statements.
    small = cost_per_phase(engine, provider, 250)
    large = cost_per_phase(engine, provider, 2000)

    assert large[phase].statements == small[phase].statements <= 15


def test_an_unchanged_sync_writes_its_run_and_its_listing_whatever_the_number_of_models(
    engine: Engine, provider: FakeProvider
) -> None:
    small = cost_per_phase(engine, provider, 20)
    large = cost_per_phase(engine, provider, 2000)
    with read_session(engine) as session:
        last_seen = set(
            session.scalars(
                select(Model.last_seen_at).where(
                    Model.source == "s2000", Model.vanished_at.is_(None)
                )
            )
        )
        latest = session.scalars(
            select(SyncRun.started_at)
            .where(SyncRun.source == "s2000")
            .order_by(SyncRun.id.desc())
            .limit(1)
        ).one()

    assert small["unchanged"].rows_written == large["unchanged"].rows_written == 2
    # What a reader sees did move: every present model was seen by the latest sync.
    assert len(last_seen) == 1 and last_seen.pop() >= latest


def test_an_unchanged_list_is_applied_without_being_parsed_again(
    engine: Engine, provider: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    provider.models = [{"id": "a"}, {"id": "b", "created": 1}]
    with caplog.at_level(logging.WARNING, logger="syncer.sync.run"):
        first = sync(engine, provider)
        warned = caplog.text
        caplog.clear()
        again = sync(engine, provider)

    assert "1 model(s) have no 'created'" in warned
    assert "have no" not in caplog.text
    assert (again.status, again.models_seen, again.added) == ("ok", 2, 0)
    assert first.models_seen == 2


def test_one_changed_model_among_many_unchanged_ones_is_found(
    engine: Engine, provider: FakeProvider
) -> None:
    provider.set(*[f"m{i}" for i in range(300)])
    sync(engine, provider)
    provider.models[150]["owned_by"] = "acme"
    provider.models[151]["flag"] = True

    result = sync(engine, provider)

    assert (result.changed, result.added, result.vanished, result.models_seen) == (2, 0, 0, 300)
    with read_session(engine) as session:
        changes = session.execute(
            select(ModelEvent.model_id, ModelEvent.old_values, ModelEvent.new_values)
            .where(ModelEvent.kind == "changed")
            .order_by(ModelEvent.model_id)
        ).all()
        stored = session.get(Model, ("openai", "m150"))
    assert changes == [
        ("m150", {"owned_by": "openai"}, {"owned_by": "acme"}),
        ("m151", {"flag": None}, {"flag": True}),
    ]
    assert stored is not None and stored.owned_by == "acme"


def test_a_model_listed_with_its_keys_reordered_is_rewritten_without_an_event(
    engine: Engine, provider: FakeProvider
) -> None:
    provider.set("a", "b")
    sync(engine, provider)
    provider.models[0] = dict(reversed(provider.models[0].items()))

    result = sync(engine, provider)

    with read_session(engine) as session:
        row = session.get(Model, ("openai", "a"))
        events = session.scalars(select(ModelEvent.kind)).all()
    assert (result.changed, events) == (0, ["added", "added"])
    assert row is not None and row.raw == provider.models[0]
    assert sync(engine, provider).changed == 0


def test_a_created_beyond_any_date_is_stored_as_null_with_a_warning(
    engine: Engine, provider: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """Regression: an int ``created`` past year 9999 passed validation, then crashed the sync
    when its timestamp was made."""
    provider.models = [model("far", created=10**20)]
    with caplog.at_level(logging.WARNING, logger="syncer.sync.run"):
        result = sync(engine, provider)

    with read_session(engine) as session:
        row = session.get(Model, ("openai", "far"))
    assert result.status == "ok"
    assert row is not None and (row.created, row.created_at) == (None, None)
    assert "'created' is not unix seconds" in caplog.text


def test_a_model_the_provider_still_has_stays_present_and_keeps_its_last_seen(
    engine: Engine, provider: FakeProvider
) -> None:
    """Missing models are marked vanished while the provider is asked; one it still has
    must come back present, and not as if it had been listed."""
    provider.set("a", "b", "c")
    sync(engine, provider)
    with read_session(engine) as session:
        before = session.get(Model, ("openai", "c"))
    provider.set("a", "b")
    provider.retrieve_status["c"] = 200

    result = sync(engine, provider)

    with read_session(engine) as session:
        after = session.get(Model, ("openai", "c"))
        kinds = session.scalars(select(ModelEvent.kind)).all()
    assert (result.vanished, kinds.count("vanished")) == (0, 0)
    assert before is not None and after is not None
    assert (after.vanished_at, after.last_seen_at) == (None, before.last_seen_at)


def test_a_new_parser_version_parses_every_model_again_without_events(
    engine: Engine, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    from syncer.sync import parse as payload
    from syncer.sync import run as sync_module

    provider.set("a", "b")
    sync(engine, provider)

    def digests() -> dict[str, str]:
        with read_session(engine) as session:
            return dict(session.execute(select(Model.model_id, Model.raw_digest)).all())

    before = digests()
    monkeypatch.setattr(payload, "_PERSON", b"syncer-next")
    monkeypatch.setattr(sync_module, "PARSER_VERSION", "next")

    result = sync(engine, provider)
    after = digests()
    with read_session(engine) as session:
        events = session.scalars(select(ModelEvent.kind)).all()

    assert (result.status, result.changed, events) == ("ok", 0, ["added", "added"])
    assert sorted(after) == ["a", "b"] and set(after.values()).isdisjoint(before.values())
    assert sync(engine, provider).status == "ok" and digests() == after
