"""Alerts written by real syncs: one transaction with the sync, countdowns, stale sources."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, select, text

from syncer.alerts.delivery import Dispatcher
from syncer.alerts.deprecations import Deprecation, import_deprecations
from syncer.alerts.stale import check_stale
from syncer.config.model import (
    AlertRule,
    Channel,
    HTTPSettings,
    Schedule,
    Settings,
    Source,
    SyncPolicy,
)
from syncer.db.engine import read_session, write_session
from syncer.db.schema import AlertMark, ModelEvent, OutboxAlert
from syncer.providers.http import Client
from syncer.reporting.queries import shutdowns
from syncer.sync.run import Syncer, SyncResult
from tests.conftest import API_KEY, FakeProvider, model
from tests.receivers import Clock, Receiver

FAST = HTTPSettings(max_retries=0, read_timeout=2, connect_timeout=2)


def rule(name: str, kind: str = "events", url: str | None = None, **fields: Any) -> AlertRule:
    return AlertRule(name=name, kind=kind, channel=Channel("webhook", "HOOK", url), **fields)


def sync(
    engine: Engine,
    provider: FakeProvider,
    clock: Clock,
    rules: list[AlertRule],
    name: str = "openai",
) -> SyncResult:
    source = Source(name=name, base_url=provider.base_url, api_key=API_KEY)
    with Client(source, FAST) as client:
        return Syncer(engine, client, name, SyncPolicy(), now=clock, alerts=rules).run()


def alerts(engine: Engine) -> list[tuple[str, str, str | None]]:
    with read_session(engine) as session:
        rows = session.execute(
            select(OutboxAlert.rule, OutboxAlert.kind, OutboxAlert.model_id)
            .order_by(OutboxAlert.id)
        )
        return [tuple(row) for row in rows]


def payloads(engine: Engine, kind: str, source: str = "openai") -> list[dict[str, Any]]:
    with read_session(engine) as session:
        query = select(OutboxAlert.payload).where(
            OutboxAlert.kind == kind, OutboxAlert.source == source
        )
        return list(session.scalars(query.order_by(OutboxAlert.id)))


def day(moment: datetime) -> str:
    return moment.date().isoformat()


def test_a_rule_fires_once_per_event_and_each_alert_is_delivered_once(
    engine: Engine, provider: FakeProvider, receiver: Receiver, clock: Clock
) -> None:
    rules = [rule("all", url=receiver.url), rule("4o", url=receiver.url, models=("gpt-4o*",))]
    provider.set("gpt-4o", "gpt-4o-mini", "o1")
    sync(engine, provider, clock, rules)
    clock.advance(minutes=15)
    provider.set("gpt-4o", "o1", "gpt-5")
    provider.models[0]["owned_by"] = "system"

    sync(engine, provider, clock, rules)
    clock.advance(minutes=15)
    sync(engine, provider, clock, rules)

    assert alerts(engine) == [
        ("all", "added", "gpt-5"),
        ("all", "changed", "gpt-4o"), ("4o", "changed", "gpt-4o"),
        ("all", "vanished", "gpt-4o-mini"), ("4o", "vanished", "gpt-4o-mini"),
    ]
    dispatcher = Dispatcher(engine, rules, now=clock)
    assert dispatcher.dispatch().delivered == 5
    assert dispatcher.dispatch().delivered == 0
    documents = receiver.documents
    assert len({d["id"] for d in documents}) == 5
    changed = documents[1]
    assert changed["event"]["old_values"] == {"owned_by": "openai"}
    assert changed["event"]["new_values"] == {"owned_by": "system"}
    assert changed["event"]["sync_run_id"] is not None
    assert changed["summary"] == 'openai: gpt-4o changed: owned_by "openai" → "system"'


def test_alerts_commit_or_roll_back_with_the_sync_that_caused_them(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    rules = [rule("all")]
    provider.set("a")
    sync(engine, provider, clock, rules)
    clock.advance(minutes=15)
    provider.set("a", "b")
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE alert_outbox RENAME TO alert_outbox_away"))

    failed = sync(engine, provider, clock, rules)

    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE alert_outbox_away RENAME TO alert_outbox"))
    assert failed.status == "failed"
    with read_session(engine) as session:
        assert session.scalar(select(ModelEvent.model_id).where(ModelEvent.model_id == "b")) is None
    clock.advance(minutes=15)
    assert sync(engine, provider, clock, rules).added == 1
    assert alerts(engine) == [("all", "added", "b")]


def test_countdown_thresholds_fire_once_each_and_again_after_the_date_moves(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    rules = [rule("countdown", "shutdown")]
    first_date = clock.now + timedelta(days=40)
    provider.set("gpt-4-0613", "gpt-4o")
    provider.models[0]["shutdown_date"] = day(first_date)

    sync(engine, provider, clock, rules)
    clock.advance(days=10, hours=1)
    sync(engine, provider, clock, rules)
    clock.advance(hours=1)
    sync(engine, provider, clock, rules)
    moved = clock.now + timedelta(days=60)
    provider.models[0]["shutdown_date"] = day(moved)
    sync(engine, provider, clock, rules)

    sent = payloads(engine, "shutdown")
    assert [(p["model_id"], p["shutdown"]["threshold_days"]) for p in sent] == [
        ("gpt-4-0613", 90), ("gpt-4-0613", 30), ("gpt-4-0613", 90),
    ]
    assert [p["shutdown"]["shutdown_at"][:10] for p in sent] == [
        day(first_date), day(first_date), day(moved),
    ]
    assert sent[1]["summary"] == f"openai: gpt-4-0613 shuts down in 30 days ({day(first_date)})"
    with read_session(engine) as session:
        marks = session.execute(select(AlertMark.threshold_days, AlertMark.shutdown_at)).all()
    assert [(t, d.date()) for t, d in marks] == [(90, moved.date())]


def test_imported_dates_count_down_until_the_provider_gives_its_own(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    rules = [rule("countdown", "shutdown", thresholds=(30, 7))]
    with write_session(engine) as session, session.begin():
        import_deprecations(session, [
            Deprecation("gpt-4-*", clock.now + timedelta(days=20), "gpt-4o"),
            Deprecation("gpt-4-0613", clock.now + timedelta(days=25), "gpt-4.1", source="azure"),
        ], clock.now)
    provider.set("gpt-4-0613", "gpt-4o")

    sync(engine, provider, clock, rules)
    clock.advance(hours=1)
    provider.models[0]["shutdown_date"] = day(clock.now + timedelta(days=5))
    sync(engine, provider, clock, rules)

    imported, announced = (p["shutdown"] for p in payloads(engine, "shutdown"))
    assert (imported["date_source"], imported["replacement"], imported["threshold_days"]) == (
        "imported", "gpt-4o", 30,
    )
    assert (announced["date_source"], announced["replacement"], announced["threshold_days"]) == (
        "provider", "gpt-4o", 7,
    )
    with read_session(engine) as session:
        rows = shutdowns(session, clock.now)
    assert [(r["model_id"], r["days_left"], r["date_source"]) for r in rows] == [
        ("gpt-4-0613", 5, "provider"),
    ]


def test_a_model_that_vanishes_at_its_shutdown_date_is_reported_as_retired(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    rules = [rule("gone", kinds=("vanished", "retired"))]
    provider.set("gpt-4-0613", "gpt-4o", "o1")
    provider.models[0]["shutdown_date"] = day(clock.now + timedelta(days=3))
    sync(engine, provider, clock, rules)
    clock.advance(days=3)
    provider.set("gpt-4o", "o1")

    sync(engine, provider, clock, rules)

    assert alerts(engine) == [("gone", "retired", "gpt-4-0613")]


def test_a_stale_source_alerts_once_and_its_next_good_sync_recovers_it(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    stale = rule("health", "stale", stale_after=timedelta(hours=1))
    source = Source(name="openai", base_url=provider.base_url, api_key=API_KEY)
    settings = Settings(sources=(source,), alerts=(stale,), schedule=Schedule())
    provider.set("a")
    sync(engine, provider, clock, [stale])

    clock.advance(minutes=59)
    assert check_stale(engine, settings, clock.now) == 0
    clock.advance(minutes=2)
    assert check_stale(engine, settings, clock.now) == 1
    clock.advance(hours=1)
    provider.fail_next(500, "down")
    assert sync(engine, provider, clock, [stale]).status == "failed"
    assert check_stale(engine, settings, clock.now) == 0
    clock.advance(minutes=1)
    assert sync(engine, provider, clock, [stale]).status == "ok"
    assert check_stale(engine, settings, clock.now) == 0

    assert alerts(engine) == [("health", "stale", None), ("health", "recovered", None)]
    stale_doc, recovered_doc = payloads(engine, "stale") + payloads(engine, "recovered")
    assert stale_doc["source"] == "openai"
    assert stale_doc["stale"]["stale_after_seconds"] == 3600
    assert recovered_doc["stale"]["previous_success_at"] == stale_doc["stale"]["last_success_at"]


def test_a_source_that_never_succeeded_goes_stale_from_its_first_attempt(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    stale = rule("health", "stale")
    source = Source(name="openai", base_url=provider.base_url, api_key=API_KEY)
    settings = Settings(sources=(source,), alerts=(stale,), schedule=Schedule())
    assert check_stale(engine, settings, clock.now) == 0
    provider.fail_next(401, '{"error": {"message": "bad key"}}')
    sync(engine, provider, clock, [stale])

    clock.advance(minutes=46)

    assert check_stale(engine, settings, clock.now) == 1
    (document,) = payloads(engine, "stale")
    assert "since its first attempt" in document["summary"]


def test_alert_statements_do_not_grow_with_the_number_of_models(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    rules = [
        rule("all"), rule("countdown", "shutdown"), rule("health", "stale"),
        rule("ours", models=("*-1*",)),
    ]
    counts = []
    for size in (5, 300):
        provider.set(*[f"{size}-{i}" for i in range(size)])
        for listed in provider.models:
            listed["shutdown_date"] = day(clock.now + timedelta(days=20))
        name = f"s{size}"
        sync(engine, provider, clock, rules, name)
        clock.advance(days=15)
        provider.models[1]["owned_by"] = "someone"
        provider.models = [*provider.models[1:], model(f"{size}-new")]
        statements: list[object] = []

        def count(*args: Any, into: list[object] = statements) -> None:
            into.append(args[1])

        event.listen(engine, "before_execute", count)
        result = sync(engine, provider, clock, rules, name)
        event.remove(engine, "before_execute", count)

        assert (result.added, result.changed, result.vanished) == (1, 1, 1)
        assert len(payloads(engine, "shutdown", name)) == 2 * size - 1
        counts.append(len(statements))
    assert counts[0] == counts[1]
