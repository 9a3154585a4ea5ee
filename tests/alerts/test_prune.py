"""Pruning the outbox keeps what still matters and never lowers the delivered count."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select

from syncer.alerts.delivery import Dispatcher
from syncer.alerts.hook import alert_hook
from syncer.alerts.prune import prune_outbox
from syncer.config.model import AlertRule, Channel, HTTPSettings, Settings, Source, SyncPolicy
from syncer.db.engine import read_session
from syncer.db.schema import AlertMark, OutboxAlert
from syncer.providers.http import Client
from syncer.runtime.metrics import read_metrics
from syncer.sync.run import Syncer
from tests.alerts.test_delivery import enqueue, hook
from tests.fakes import API_KEY, FakeProvider
from tests.receivers import Clock, Receiver

KEEP = timedelta(days=90)


def statuses(engine: Engine) -> dict[str, int]:
    with read_session(engine) as session:
        rows = session.execute(
            select(OutboxAlert.status, func.count()).group_by(OutboxAlert.status)
        )
        return {status: count for status, count in rows}


def test_delivered_alerts_past_the_keep_go_and_the_delivered_count_stays(
    engine: Engine, receiver: Receiver, clock: Clock
) -> None:
    rules = [hook(receiver.url), hook(None, name="unset")]
    enqueue(engine, rules, "a", "b")
    Dispatcher(engine, rules, now=clock).dispatch()
    enqueue(engine, rules, "c", rule="unset")  # waits: its variable is not set
    clock.advance(days=30)
    enqueue(engine, rules, "d")
    Dispatcher(engine, rules, now=clock).dispatch()
    settings = Settings(alerts=tuple(rules))
    before = read_metrics(engine, settings, clock.now).alerts

    clock.advance(days=61)  # a and b are 91 days old, d only 61
    pruned = prune_outbox(engine, KEEP, clock.now, ["hook", "unset"], ["openai"])
    again = prune_outbox(engine, KEEP, clock.now, ["hook", "unset"], ["openai"])

    assert (pruned.alerts, again.alerts) == (2, 0)
    assert statuses(engine) == {"delivered": 1, "pending": 1}
    after = read_metrics(engine, settings, clock.now).alerts
    assert after == before == {("hook", "delivered"): 3, ("unset", "pending"): 1}
    clock.advance(days=60)
    prune_outbox(engine, KEEP, clock.now, ["hook", "unset"], ["openai"])
    assert read_metrics(engine, settings, clock.now).alerts[("hook", "delivered")] == 3


def test_countdown_marks_of_a_rule_no_longer_configured_go_after_the_keep(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    rule = AlertRule("countdown", "shutdown", Channel("webhook", "HOOK"), thresholds=(30,))
    source = Source(name="openai", base_url=provider.base_url, api_key=API_KEY)
    provider.set("seed")
    for listed in (["seed"], ["seed", "gpt-4-0613"]):
        provider.set(*listed, shutdown_date=(clock.now + timedelta(days=10)).date().isoformat())
        with Client(source.endpoint(), HTTPSettings(max_retries=0)) as client:
            Syncer(
                engine, client, "openai", SyncPolicy(), now=clock, on_synced=alert_hook([rule])
            ).run()

    def marks() -> list[str]:
        with read_session(engine) as session:
            return sorted(session.scalars(select(AlertMark.model_id)))

    assert marks() == ["gpt-4-0613", "seed"]
    clock.advance(days=91)
    kept = prune_outbox(engine, KEEP, clock.now, ["countdown"], ["openai"])
    assert (kept.marks, marks()) == (0, ["gpt-4-0613", "seed"])
    removed = prune_outbox(engine, KEEP, clock.now, ["another-rule"], ["openai"])
    assert (removed.marks, marks()) == (2, [])
