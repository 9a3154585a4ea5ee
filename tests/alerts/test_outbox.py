"""Alerts written by real syncs: one transaction with the sync, countdowns, stale sources."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, select, text

from syncer.alerts.delivery import Dispatcher
from syncer.alerts.deprecations import Deprecation, import_deprecations
from syncer.alerts.hook import alert_hook
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
from syncer.db.tables import model_usages_table
from syncer.providers.http import Client
from syncer.reporting.queries import shutdowns
from syncer.sync.run import Syncer, SyncResult
from syncer.timeutil import iso
from tests.fakes import API_KEY, FakeProvider, model
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
    with Client(source.endpoint(), FAST) as client:
        return Syncer(
            engine, client, name, SyncPolicy(), now=clock, on_synced=alert_hook(rules)
        ).run()


def alerts(engine: Engine) -> list[tuple[str, str, str | None]]:
    with read_session(engine) as session:
        rows = session.execute(
            select(OutboxAlert.rule, OutboxAlert.kind, OutboxAlert.model_id).order_by(
                OutboxAlert.id
            )
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
        ("all", "changed", "gpt-4o"),
        ("4o", "changed", "gpt-4o"),
        ("all", "vanished", "gpt-4o-mini"),
        ("4o", "vanished", "gpt-4o-mini"),
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
        ("gpt-4-0613", 90),
        ("gpt-4-0613", 30),
        ("gpt-4-0613", 90),
    ]
    assert [p["shutdown"]["shutdown_at"][:10] for p in sent] == [
        day(first_date),
        day(first_date),
        day(moved),
    ]
    assert sent[1]["summary"] == (
        f"openai: gpt-4-0613 shuts down in 30 days ({day(first_date)}, date from the provider)"
    )
    with read_session(engine) as session:
        marks = session.execute(select(AlertMark.threshold_days, AlertMark.shutdown_at)).all()
    assert [(t, d.date()) for t, d in marks] == [(90, moved.date())]


def test_imported_dates_count_down_until_the_provider_gives_its_own(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    rules = [rule("countdown", "shutdown", thresholds=(30, 7))]
    with write_session(engine) as session, session.begin():
        import_deprecations(
            session,
            [
                Deprecation("gpt-4-*", clock.now + timedelta(days=20), "gpt-4o"),
                Deprecation(
                    "gpt-4-0613", clock.now + timedelta(days=25), "gpt-4.1", source="azure"
                ),
            ],
            clock.now,
            origin="deps.csv",
        )
    provider.set("gpt-4-0613", "gpt-4o")

    sync(engine, provider, clock, rules)
    clock.advance(hours=1)
    provider.models[0]["shutdown_date"] = day(clock.now + timedelta(days=5))
    sync(engine, provider, clock, rules)

    imported, announced = (p["shutdown"] for p in payloads(engine, "shutdown"))
    assert (imported["date_source"], imported["replacement"], imported["threshold_days"]) == (
        "imported",
        "gpt-4o",
        30,
    )
    assert (announced["date_source"], announced["replacement"], announced["threshold_days"]) == (
        "provider",
        "gpt-4o",
        7,
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
        rule("all"),
        rule("countdown", "shutdown"),
        rule("health", "stale"),
        rule("ours", models=("*-1*",)),
        rule("used", in_use=True),
        rule("used-countdown", "shutdown", in_use=True),
    ]
    counts = []
    for size in (5, 300):
        provider.set(*[f"{size}-{i}" for i in range(size)])
        with engine.begin() as connection:  # a scan found half of them in use
            connection.execute(
                model_usages_table.insert(),
                [
                    {
                        "repository": f"r{size}",
                        "path": "app.py",
                        "line": i,
                        "column": 1,
                        "model_id": f"{size}-{i}",
                        "verdict": "ok",
                        "scanned_at": clock.now,
                    }
                    for i in range(0, size, 2)
                ],
            )
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
        sent = payloads(engine, "shutdown", name)
        used = len(range(0, size, 2))  # one of them (size-0) vanished before the second
        assert len([p for p in sent if p["rule"] == "countdown"]) == 2 * size - 1
        assert len([p for p in sent if p["rule"] == "used-countdown"]) == 2 * used - 1
        counts.append(len(statements))
    assert counts[0] == counts[1]


def events_of(engine: Engine, kind: str) -> list[tuple[str, Any, Any, Any]]:
    with read_session(engine) as session:
        rows = session.execute(
            select(
                ModelEvent.model_id,
                ModelEvent.old_values,
                ModelEvent.new_values,
                ModelEvent.details,
            )
            .where(ModelEvent.kind == kind)
            .order_by(ModelEvent.id)
        )
        return [tuple(row) for row in rows]


def test_a_provider_moving_a_date_is_a_shutdown_changed_event_beside_the_changed_one(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    rules = [rule("dates", kinds=("shutdown_changed",))]
    provider.set("gpt-4-0613", "gpt-4o")
    provider.models[0]["shutdown_date"] = "2026-06-06"
    sync(engine, provider, clock, rules)  # a model added with a date: the added event says it
    clock.advance(hours=1)
    provider.models[0]["shutdown_date"] = "2026-09-01"
    provider.models[1]["shutdown_date"] = "2026-12-01"
    sync(engine, provider, clock, rules)
    clock.advance(hours=1)
    provider.models[0]["owned_by"] = "system"  # a change that moves no date
    sync(engine, provider, clock, rules)

    assert events_of(engine, "shutdown_changed") == [
        (
            "gpt-4-0613",
            {"shutdown_at": "2026-06-06T00:00:00.000000Z"},
            {"shutdown_at": "2026-09-01T00:00:00.000000Z"},
            {"date_source": "provider"},
        ),
        (
            "gpt-4o",
            {"shutdown_at": None},
            {"shutdown_at": "2026-12-01T00:00:00.000000Z"},
            {"date_source": "provider"},
        ),
    ]
    assert len(events_of(engine, "changed")) == 3
    assert [p["summary"] for p in payloads(engine, "shutdown_changed")] == [
        "openai: gpt-4-0613 shutdown date 2026-06-06 → 2026-09-01 (date from the provider)",
        "openai: gpt-4o shutdown date none → 2026-12-01 (date from the provider)",
    ]


def test_an_import_that_sets_moves_or_clears_a_date_records_it_with_its_origin(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    provider.set("gpt-4-0613", "gpt-4o", "o1")
    provider.models[1]["shutdown_date"] = "2026-10-23"
    sync(engine, provider, clock, [])
    june, july = clock.now + timedelta(days=30), clock.now + timedelta(days=60)
    url = "https://developers.openai.com/api/docs/deprecations"

    def load(entries: list[Deprecation], **options: Any) -> int:
        with write_session(engine) as session, session.begin():
            return len(import_deprecations(session, entries, clock.now, **options).events)

    first = load(
        [Deprecation("gpt-4-0613", june, source_url=url), Deprecation("gpt-4o", june)],
        origin="prices.json",
    )
    again = load([Deprecation("gpt-4-0613", june, source_url=url)], origin="prices.json")
    moved = load([Deprecation("gpt-4-0613", july, source_url=url)], origin="prices-2.json")
    cleared = load([], replace=True, origin="empty.csv")

    assert (first, again, moved, cleared) == (2, 0, 1, 2)
    changes = [
        (m, old["shutdown_at"], new["shutdown_at"], d["origin"], d["provider_shutdown_at"])
        for m, old, new, d in events_of(engine, "shutdown_changed")
    ]
    assert changes == [
        ("gpt-4-0613", None, iso(june), "prices.json", None),
        # The provider's own date wins, but the imported one moved: recorded all the same.
        ("gpt-4o", None, iso(june), "prices.json", "2026-10-23T00:00:00.000000Z"),
        ("gpt-4-0613", iso(june), iso(july), "prices-2.json", None),
        ("gpt-4-0613", iso(july), None, "prices-2.json", None),
        ("gpt-4o", iso(june), None, "prices.json", "2026-10-23T00:00:00.000000Z"),
    ]
    assert alerts(engine) == []


def test_the_shutdown_list_shows_where_an_imported_date_came_from(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    provider.set("gpt-4-0613", "gpt-4o")
    provider.models[1]["shutdown_date"] = day(clock.now + timedelta(days=90))
    sync(engine, provider, clock, [])
    url = "https://developers.openai.com/api/docs/deprecations"
    with write_session(engine) as session, session.begin():
        import_deprecations(
            session,
            [
                Deprecation("gpt-4-0613", clock.now + timedelta(days=30), "gpt-4o", source_url=url),
                Deprecation("gpt-4o", clock.now + timedelta(days=10)),
            ],
            clock.now,
            origin="model_prices_and_context_window.json",
        )

    with read_session(engine) as session:
        rows = shutdowns(session, clock.now)

    assert [(r["model_id"], r["date_source"], r["origin"], r["source_url"]) for r in rows] == [
        ("gpt-4-0613", "imported", "model_prices_and_context_window.json", url),
        ("gpt-4o", "provider", "provider", None),
    ]


def test_the_uses_are_read_once_when_an_alert_is_to_say_them_and_not_for_a_quiet_sync(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    rules = [rule("all"), rule("countdown", "shutdown")]
    provider.set("a", "b")
    provider.models[0]["shutdown_date"] = day(clock.now + timedelta(days=200))
    sync(engine, provider, clock, rules)
    reads: list[str] = []

    def count(*args: Any) -> None:
        if "model_usages" in str(args[1]):
            reads.append(str(args[1]))

    event.listen(engine, "before_execute", count)
    clock.advance(hours=1)
    sync(engine, provider, clock, rules)  # nothing changed, no threshold reached
    quiet = len(reads)
    provider.set("a")
    sync(engine, provider, clock, rules)  # b vanished: its alert says where b is used
    event.remove(engine, "before_execute", count)

    assert quiet == 0
    assert len(reads) == 1
