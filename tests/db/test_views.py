"""The reporting views: the same rows on both databases, and true to the event log."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from syncer.db import migrate
from syncer.db.engine import make_engine, read_session
from syncer.db.schema import ModelEvent
from syncer.db.views import current_models, inventory_daily, model_availability
from syncer.providers.openai import is_fine_tuned
from syncer.reporting import queries
from tests.fakes import FakeProvider
from tests.replay import Replay, Step, play, steps

_source_numbers = itertools.count()
#: Columns that count from the database's own clock: compared with a tolerance.
NOW_RELATIVE = {"age_days", "days_to_shutdown", "days_available"}


def view_rows(engine: Engine, view: Any, source: str | None = None) -> list[dict[str, Any]]:
    keys = [c for c in view.c if c.name in ("source", "model_id", "day", "interval_number")]
    query = select(view).order_by(*keys)
    if source is not None:
        query = query.where(view.c.source == source)
    with read_session(engine) as session:
        return [dict(row._mapping) for row in session.execute(query)]


def oracle_intervals(engine: Engine, source: str) -> list[tuple[str, datetime, datetime | None]]:
    """Availability straight from the event log, walked in order: the view's definition."""
    with read_session(engine) as session:
        events = session.execute(
            select(ModelEvent.model_id, ModelEvent.kind, ModelEvent.occurred_at)
            .where(ModelEvent.source == source)
            .order_by(ModelEvent.occurred_at, ModelEvent.id)
        ).all()
    opened: dict[str, datetime] = {}
    intervals = []
    for model_id, kind, at in events:
        if kind in ("added", "reappeared") and model_id not in opened:
            opened[model_id] = at
        elif kind in ("vanished", "deleted") and model_id in opened:
            intervals.append((model_id, opened.pop(model_id), at))
    intervals += [(model_id, start, None) for model_id, start in opened.items()]
    return sorted(intervals, key=lambda i: (i[0], i[1]))


def assert_intervals_true_to_the_log(engine: Engine, source: str) -> list[dict[str, Any]]:
    rows = view_rows(engine, model_availability, source)
    found = sorted(
        ((r["model_id"], r["available_from"], r["available_until"]) for r in rows),
        key=lambda i: (i[0], i[1]),
    )
    assert found == oracle_intervals(engine, source)
    by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_model[row["model_id"]].append(row)
    for intervals in by_model.values():
        assert [i["interval_number"] for i in intervals] == list(range(1, len(intervals) + 1))
        assert intervals[0]["started_by"] == "added"
        assert all(i["started_by"] == "reappeared" for i in intervals[1:])
        for earlier, later in itertools.pairwise(intervals):
            assert earlier["available_until"] is not None
            assert earlier["available_from"] < earlier["available_until"]
            assert earlier["available_until"] < later["available_from"]
    return rows


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=steps)
def test_views_agree_with_the_event_log_and_the_models_view(
    engine: Engine, provider: FakeProvider, history: list[Step]
) -> None:
    replay = Replay(engine, provider, source=f"v{next(_source_numbers)}")
    play(replay, history)
    intervals = assert_intervals_true_to_the_log(engine, replay.source)
    with read_session(engine) as session:
        present = queries.models(session, source=replay.source).rows
    current = view_rows(engine, current_models, replay.source)
    assert [r["model_id"] for r in current] == [r["model_id"] for r in present]
    assert {r["model_id"] for r in intervals if r["available_until"] is None} == {
        r["model_id"] for r in present
    }
    for view_row, model_row in zip(current, present, strict=True):
        for name in ("owned_by", "created_at", "is_fine_tuned", "shutdown_at", "first_seen_at"):
            assert view_row[name] == model_row[name]
    days = view_rows(engine, inventory_daily, replay.source)
    if not intervals:
        assert days == []
        return
    assert days[0]["day"] == min(r["available_from"] for r in intervals).date()
    assert days[-1]["day"] == datetime.now(UTC).date()
    assert days[-1]["present"] == len(present)
    for yesterday, today in itertools.pairwise(days):
        assert today["day"] == yesterday["day"] + timedelta(days=1)
        moved = (
            today["added"]
            + today["reappeared"]
            - today["vanished"]
            - today["deleted"]
            - today["source_retired"]
        )
        assert today["present"] == yesterday["present"] + moved


ID_PARTS = ("ft", ":", "-", "ft:", ":ft-", "gpt-4o", "a", "é", "0")


def base_model(model_id: str) -> str | None:
    """The documented meaning of current_models.base_model."""
    if model_id.startswith("ft:"):
        return model_id[3:].split(":")[0] or None
    if ":ft-" in model_id:
        return model_id.split(":ft-")[0] or None
    return None


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ids=st.lists(
        st.lists(st.sampled_from(ID_PARTS), min_size=1, max_size=5).map("".join),
        min_size=1,
        max_size=8,
    )
)
def test_base_model_names_what_a_fine_tune_was_trained_from(
    engine: Engine, provider: FakeProvider, ids: list[str]
) -> None:
    replay = Replay(engine, provider, source=f"b{next(_source_numbers)}")
    replay.ids(*dict.fromkeys(ids))
    rows = view_rows(engine, current_models, replay.source)
    assert {r["model_id"]: r["base_model"] for r in rows} == {i: base_model(i) for i in ids}
    assert all(r["is_fine_tuned"] == is_fine_tuned(r["model_id"]) for r in rows)
    assert all(r["is_fine_tuned"] for r in rows if r["base_model"] is not None)


def test_base_model_of_real_fine_tune_ids() -> None:
    assert base_model("ft:gpt-4o-mini-2024-07-18:acme:support-v3:AbC123") == (
        "gpt-4o-mini-2024-07-18"
    )
    assert base_model("curie:ft-acme-2022-12-01-10-00-00") == "curie"
    assert base_model("gpt-4o") is None


def _same(sqlite_rows: list[dict[str, Any]], postgres_rows: list[dict[str, Any]]) -> None:
    assert len(sqlite_rows) == len(postgres_rows)
    for ours, theirs in zip(sqlite_rows, postgres_rows, strict=True):
        assert ours.keys() == theirs.keys()
        for name, value in ours.items():
            if name in NOW_RELATIVE and value is not None:
                assert math.isclose(value, theirs[name], abs_tol=1.01), name
            else:
                assert value == theirs[name], name


def test_views_return_the_same_rows_on_sqlite_and_postgresql(
    tmp_path: Path, postgres_url: str, provider: FakeProvider
) -> None:
    engines = [make_engine(f"sqlite:///{tmp_path / 'same.db'}"), make_engine(postgres_url)]
    try:
        for engine in engines:
            migrate.upgrade(engine)
            replay = Replay(engine, provider)
            replay.ids(
                "gpt-4o",
                "gpt-4-0613",
                "ft:gpt-4o:acme:a:1",
                "ft:gpt-4o:acme:b:2",
                owned_by="openai",
                created=1686935002,
            )
            replay.clock.advance(timedelta(days=2, hours=3))
            replay.ids("gpt-4o", "ft:gpt-4o:acme:a:1", owned_by="acme", shutdown_date="2026-12-24")
            replay.clock.advance(timedelta(days=40))
            replay.ids("gpt-4o", "gpt-4-0613", "babbage:ft-acme-2022", owned_by="acme")
            replay.sync([], fail=True)
        for view in (current_models, model_availability, inventory_daily):
            sqlite_rows, postgres_rows = (view_rows(e, view) for e in engines)
            assert sqlite_rows, view.name
            _same(sqlite_rows, postgres_rows)
        for engine in engines:
            closed = [r for r in view_rows(engine, model_availability) if r["available_until"]]
            assert [r["model_id"] for r in closed] == [
                "ft:gpt-4o:acme:a:1",
                "ft:gpt-4o:acme:b:2",
                "gpt-4-0613",
            ]
            for row in closed:
                exact = (row["available_until"] - row["available_from"]).total_seconds() / 86400
                assert math.isclose(row["days_available"], exact, abs_tol=0.0006)
        day = view_rows(engines[1], inventory_daily)[2]
        assert (day["day"], day["present"], day["vanished"]) == (date(2026, 3, 3), 2, 2)
    finally:
        for engine in engines:
            engine.dispose()
