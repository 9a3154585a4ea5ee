"""Canned reports and the documented SQL: they run on both databases, empty or large."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from syncer.db.engine import read_session
from syncer.reporting import history_queries, reports
from tests.fakes import FakeProvider
from tests.replay import Replay, listed

DOCS = Path(__file__).parents[2] / "docs" / "reporting.md"
NOW = datetime.now(UTC)


def run_all(engine: Engine, now: datetime = NOW) -> dict[str, list[dict[str, Any]]]:
    with read_session(engine) as session:
        return {name: reports.run(session, r, now=now) for name, r in reports.REPORTS.items()}


def created(days_ago: float) -> int:
    return int((NOW - timedelta(days=days_ago)).timestamp())


def test_every_report_runs_on_an_empty_database_with_its_documented_columns(
    engine: Engine,
) -> None:
    assert run_all(engine) == {name: [] for name in reports.REPORTS}
    with read_session(engine) as session:
        for report in reports.REPORTS.values():
            values = report.parameters(days=None, source=None, now=NOW)
            result = session.execute(text(report.sql), values)
            assert tuple(result.keys()) == report.columns, report.name


def test_reports_views_and_time_travel_run_on_a_large_database(
    engine: Engine, provider: FakeProvider
) -> None:
    replay = Replay(engine, provider)
    bases = ("gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06", "davinci-002")
    first = [
        listed(
            f"ft:{bases[i % 3]}:org{i % 7}:job:{i:05d}",
            owned_by=f"org{i % 7}",
            created=created(i % 400),
        )
        for i in range(2500)
    ] + [listed(f"base-{i}", owned_by="openai", created=created(900)) for i in range(500)]
    replay.sync(first)
    second = [{**m, "owned_by": "system"} if i % 10 == 0 else m for i, m in enumerate(first)]
    replay.sync(second[200:], accept_mass_change=True)
    results = run_all(engine, now=replay.clock())
    assert sum(r["fine_tunes"] for r in results["fine-tunes"]) == 2300
    assert sum(r["models"] for r in results["owners"]) == 2800
    assert len(results["changes"]) == 3000 + 200 + 280
    with history_queries.snapshot_session(engine) as session:
        assert len(history_queries.models_as_of(session, replay.captures[0][0])) == 3000
        assert len(history_queries.diff(session, replay.captures[0][0], replay.clock())) == 480


def test_fine_tunes_are_counted_per_base_model_in_age_buckets(
    engine: Engine, provider: FakeProvider
) -> None:
    provider_models = [
        listed("ft:gpt-4o-mini:acme:a:1", created=created(3)),
        listed("ft:gpt-4o-mini:acme:b:2", created=created(45)),
        listed("ft:gpt-4o-mini:acme:c:3", created=created(400)),
        listed("ft:gpt-4o-mini:acme:d:4"),
        listed("curie:ft-acme-2022-12-01", created=created(1000)),
        listed("gpt-4o", created=created(10)),  # not a fine-tune: never counted
    ]
    Replay(engine, provider).sync(provider_models)
    with read_session(engine) as session:
        rows = reports.run(session, reports.REPORTS["fine-tunes"], now=NOW)
    assert [(r["base_model"], r["fine_tunes"]) for r in rows] == [("gpt-4o-mini", 4), ("curie", 1)]
    mini = rows[0]
    assert (
        mini["under_30_days"],
        mini["days_30_to_89"],
        mini["days_90_to_364"],
        mini["days_365_or_more"],
        mini["unknown_age"],
    ) == (1, 1, 0, 1, 1)
    assert mini["average_age_days"] == pytest.approx((3 + 45 + 400) / 3, abs=0.1)
    assert mini["newest_created_at"] > mini["oldest_created_at"]


def test_owners_counts_present_models_and_fine_tunes_per_organisation(
    engine: Engine, provider: FakeProvider
) -> None:
    replay = Replay(engine, provider)
    replay.sync(
        [
            listed("a", owned_by="openai"),
            listed("b", owned_by="openai"),
            listed("ft:a:acme::1", owned_by="acme"),
            listed("c"),
        ]
    )
    replay.sync(
        [listed("a", owned_by="openai"), listed("ft:a:acme::1", owned_by="acme"), listed("c")]
    )
    with read_session(engine) as session:
        rows = reports.run(session, reports.REPORTS["owners"], now=NOW)
    assert [(r["owned_by"], r["models"], r["fine_tunes"]) for r in rows] == [
        (None, 1, 0),
        ("acme", 1, 1),
        ("openai", 1, 0),
    ]


def test_failed_sources_shows_sources_whose_latest_sync_did_not_succeed(
    engine: Engine, provider: FakeProvider
) -> None:
    healthy = Replay(engine, provider, source="healthy")
    healthy.sync([], fail=True)
    healthy.ids("a")
    broken = Replay(engine, provider, source="broken")
    broken.ids("a", "b", "c")
    broken.sync([], fail=True)
    broken.sync([], fail=True)
    held = Replay(engine, provider, source="held")
    held.ids("a", "b", "c")
    held.sync([listed("a")])
    with read_session(engine) as session:
        rows = reports.run(session, reports.REPORTS["failed-sources"], now=NOW)
        only = reports.run(session, reports.REPORTS["failed-sources"], now=NOW, source="held")
    assert [(r["source"], r["status"], r["attempts_since_ok"]) for r in rows] == [
        ("broken", "failed", 2),
        ("held", "held", 1),
    ]
    assert "down for maintenance" in rows[0]["error"]
    assert rows[0]["last_ok_at"] < rows[0]["last_attempt_at"]
    assert [r["source"] for r in only] == ["held"]


def test_changes_daily_and_shutdowns_look_back_or_ahead_the_given_days(
    engine: Engine, provider: FakeProvider
) -> None:
    replay = Replay(engine, provider)
    replay.ids("old", shutdown_date="2026-03-20")
    replay.clock.advance(timedelta(days=10))
    replay.sync(
        [listed("old", shutdown_date="2026-03-20"), listed("new", shutdown_date="2026-09-01")]
    )
    now = replay.clock()

    def run(name: str, days: int | None = None) -> list[dict[str, Any]]:
        with read_session(engine) as session:
            return reports.run(session, reports.REPORTS[name], now=now, days=days)

    assert [(r["model_id"], r["kind"]) for r in run("changes")] == [("new", "added")]
    assert len(run("changes", days=11)) == 2
    daily = [d for d in run("daily", days=11) if d["day"] <= now.date()]
    assert [d["day"] for d in daily] == [date(2026, 3, d) for d in range(1, 12)]
    assert [(d["present"], d["added"]) for d in daily if d["added"]] == [(1, 1), (2, 1)]
    assert [r["model_id"] for r in run("shutdowns", days=30)] == ["old"]
    assert [r["model_id"] for r in run("shutdowns", days=365)] == ["old", "new"]
    with pytest.raises(ValueError, match="takes no --days"):
        run("owners", days=3)


def documented_sql() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", DOCS.read_text(), flags=re.DOTALL)


def test_the_documentation_has_sql_for_each_question() -> None:
    assert len(documented_sql()) >= 6
    for question in ("1 March", "gpt-4-0613", "this week", "fine-tunes per base model"):
        assert question in DOCS.read_text()


def test_every_documented_query_runs_and_answers_its_question(
    engine: Engine, provider: FakeProvider
) -> None:
    replay = Replay(engine, provider)
    replay.clock.moment = datetime(2026, 2, 27, tzinfo=UTC)
    replay.ids("gpt-4-0613", "ft:gpt-4o:acme:x:1", owned_by="openai")
    replay.clock.advance(timedelta(days=3, hours=12))  # 2 March, midday
    replay.ids("ft:gpt-4o:acme:x:1", "gpt-4o", owned_by="openai")
    replay.clock.advance(timedelta(days=5))
    replay.ids("ft:gpt-4o:acme:x:1", "gpt-4o", "gpt-4-0613", owned_by="openai")
    answers = []
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SET TIME ZONE 'UTC'")
        for sql in documented_sql():
            answers.append([tuple(row) for row in connection.exec_driver_sql(sql)])
    on_1_march, intervals, total = answers[:3]
    assert on_1_march == [("openai", "ft:gpt-4o:acme:x:1"), ("openai", "gpt-4-0613")]
    assert [(row[1], row[4]) for row in intervals] == [(1, "vanished"), (2, None)]
    assert float(intervals[0][5]) == pytest.approx(3.5, abs=0.001)
    assert (total[0][1], total[0][4]) == (2, 1)
