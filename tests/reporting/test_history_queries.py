"""Time travel against real histories: the inventory at any moment, diffs, one model's life."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from sqlalchemy import Engine, event

from syncer.config.model import RetentionRule, Source
from syncer.db.engine import read_session
from syncer.providers.http import Client
from syncer.reporting import history_queries, queries
from syncer.retention.apply import apply_plan, plan_source
from tests.fakes import API_KEY, FakeProvider
from tests.replay import FAST, START, Replay, Step, listed, play, steps

_source_numbers = itertools.count()


def without_last_seen(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "last_seen_at"} for row in rows]


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=steps)
def test_as_of_every_recorded_moment_prints_what_models_printed_then(
    engine: Engine, provider: FakeProvider, history: list[Step]
) -> None:
    # Each example gets its own source, so examples share the database without meeting.
    replay = Replay(engine, provider, source=f"s{next(_source_numbers)}")
    play(replay, history)
    with history_queries.snapshot_session(engine) as session:
        for moment, captured in replay.captures:
            everything = history_queries.models_as_of(
                session, moment, source=replay.source, include_vanished=True
            )
            present = history_queries.models_as_of(session, moment, source=replay.source)
            assert without_last_seen(everything) == without_last_seen(captured)
            assert present == [r for r in everything if r["vanished_at"] is None]
            for got, was in zip(everything, captured, strict=True):
                assert was["last_seen_at"] <= got["last_seen_at"] <= moment
            before = history_queries.models_as_of(
                session,
                moment - timedelta(milliseconds=1),
                source=replay.source,
                include_vanished=True,
            )
            assert len(before) <= len(everything)


def test_as_of_before_the_first_sync_is_empty_and_at_an_event_includes_it(
    engine: Engine, provider: FakeProvider
) -> None:
    replay = Replay(engine, provider)
    replay.ids("a")
    with read_session(engine) as session:
        (added,) = history_queries.model_events(session, "a")
    with history_queries.snapshot_session(engine) as session:
        assert history_queries.models_as_of(session, START) == []
        at = history_queries.models_as_of(session, added["occurred_at"])
        assert [r["model_id"] for r in at] == ["a"]
        just_before = added["occurred_at"] - timedelta(microseconds=1)
        assert history_queries.models_as_of(session, just_before) == []


def test_fields_are_rolled_back_to_their_values_at_the_moment(
    engine: Engine, provider: FakeProvider
) -> None:
    replay = Replay(engine, provider)
    replay.ids("gpt-4-0613", owned_by="openai")
    then = replay.captures[-1][0]
    replay.ids("gpt-4-0613", owned_by="system", shutdown_date="2026-06-06")
    with history_queries.snapshot_session(engine) as session:
        (row,) = history_queries.models_as_of(session, then)
        (now,) = history_queries.models_as_of(session, replay.clock())
    assert (row["owned_by"], row["shutdown_at"]) == ("openai", None)
    assert now["owned_by"] == "system" and now["shutdown_at"].isoformat().startswith("2026-06-06")


def test_last_seen_as_of_is_the_end_of_the_last_successful_sync_by_then(
    engine: Engine, provider: FakeProvider
) -> None:
    replay = Replay(engine, provider)
    first = replay.ids("a")
    replay.sync([], fail=True)
    moment = replay.captures[-1][0]
    replay.ids("a")
    with read_session(engine) as session:
        runs = {r["id"]: r for r in queries.runs(session, limit=None).rows}
    with history_queries.snapshot_session(engine) as session:
        (row,) = history_queries.models_as_of(session, moment)
    assert row["last_seen_at"] == runs[first.run_id]["finished_at"]


def test_a_model_that_left_and_came_back_is_vanished_in_between(
    engine: Engine, provider: FakeProvider
) -> None:
    replay = Replay(engine, provider)
    replay.ids("a", "b")
    replay.ids("a")
    gone = replay.captures[-1][0]
    replay.ids("a", "b")
    with history_queries.snapshot_session(engine) as session:
        everything = history_queries.models_as_of(session, gone, include_vanished=True)
        rows = {r["model_id"]: r for r in everything}
        present = [r["model_id"] for r in history_queries.models_as_of(session, gone)]
    assert present == ["a"]
    assert rows["b"]["vanished_at"] is not None
    assert rows["b"]["first_seen_at"] == rows["a"]["first_seen_at"]
    assert rows["b"]["last_seen_at"] < rows["b"]["vanished_at"]


def test_diff_lists_net_additions_vanishings_and_field_changes(
    engine: Engine, provider: FakeProvider
) -> None:
    replay = Replay(engine, provider)
    replay.ids("a", "b", "c", owned_by="openai")
    start = replay.captures[-1][0]
    replay.sync(
        [listed("a", owned_by="acme"), listed("c", owned_by="openai"), listed("d")],
        accept_mass_change=True,
    )
    replay.sync(
        [listed("a", owned_by="acme"), listed("c", owned_by="openai"), listed("d")],
    )
    with history_queries.snapshot_session(engine) as session:
        rows = history_queries.diff(session, start, replay.clock())
        assert history_queries.diff(session, start, start) == []
    assert [(r["model_id"], r["change"]) for r in rows] == [
        ("a", "changed"),
        ("b", "vanished"),
        ("d", "added"),
    ]
    assert (rows[0]["old_values"], rows[0]["new_values"]) == (
        {"owned_by": "openai"},
        {"owned_by": "acme"},
    )


def test_history_places_every_event_in_its_availability_interval(
    engine: Engine, provider: FakeProvider
) -> None:
    replay = Replay(engine, provider)
    replay.ids("a", "b")
    replay.ids("b")
    replay.ids("a", "b", owned_by="acme")
    with read_session(engine) as session:
        events = history_queries.model_events(session, "a")
        intervals = history_queries.model_intervals(session, "a")
    assert [(e["kind"], e["interval_number"]) for e in events] == [
        ("added", 1),
        ("vanished", 1),
        ("reappeared", 2),
        ("changed", 2),
    ]
    assert [(i["started_by"], i["ended_by"]) for i in intervals] == [
        ("added", "vanished"),
        ("reappeared", None),
    ]
    assert intervals[0]["available_until"] == events[1]["occurred_at"]
    assert events[2]["available_from"] == intervals[1]["available_from"]


def test_time_travel_statement_count_does_not_grow_with_the_models(
    engine: Engine, provider: FakeProvider
) -> None:
    counts = []
    for size in (2, 40):
        replay = Replay(engine, provider, source=f"size{size}")
        ids = [f"m{i}" for i in range(size)]
        replay.ids(*ids)
        replay.ids(*ids[: size // 2], owned_by="acme")
        replay.ids(*ids)
        statements: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            statements.append(statement)  # noqa: B023

        event.listen(engine, "before_cursor_execute", count)
        try:
            with history_queries.snapshot_session(engine) as session:
                middle = replay.captures[1][0]
                history_queries.models_as_of(session, middle, source=replay.source)
                history_queries.diff(session, START, middle, source=replay.source)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_a_model_deleted_by_retention_is_gone_from_the_moment_of_its_deletion(
    engine: Engine, provider: FakeProvider
) -> None:
    replay = Replay(engine, provider)
    old = int((START - timedelta(days=400)).timestamp())
    replay.sync(
        [
            listed("ft:gpt-4o:acme:support:old1", owned_by="org-acme", created=old),
            listed("ft:gpt-4o:acme:support:new", owned_by="org-acme", created=old + 86400),
        ]
    )
    rule = RetentionRule(max_age=timedelta(days=90), include=("ft:*:acme:*",))
    plan = plan_source(engine, replay.source, rule, replay.clock())
    source = Source(name=replay.source, base_url=provider.base_url, api_key=API_KEY)
    with Client(source.endpoint(), FAST) as client:
        report = apply_plan(engine, client, replay.source, plan, now=replay.clock)
    assert [o.model_id for o in report.outcomes] == ["ft:gpt-4o:acme:support:old1"]
    deleted_at = replay.clock()
    replay.sync(provider.models)
    with history_queries.snapshot_session(engine) as session:
        for moment, captured in replay.captures:
            got = history_queries.models_as_of(session, moment, include_vanished=True)
            assert without_last_seen(got) == without_last_seen(captured)
        gone = {
            r["model_id"]: r
            for r in history_queries.models_as_of(session, deleted_at, include_vanished=True)
        }["ft:gpt-4o:acme:support:old1"]
        changes = history_queries.diff(session, replay.captures[0][0], deleted_at)
        (interval,) = history_queries.model_intervals(session, "ft:gpt-4o:acme:support:old1")
    assert gone["vanished_at"] is not None and gone["vanished_at"] < deleted_at
    assert [(c["model_id"], c["change"]) for c in changes] == [
        ("ft:gpt-4o:acme:support:old1", "deleted"),
    ]
    assert (interval["ended_by"], interval["available_until"]) == ("deleted", gone["vanished_at"])
