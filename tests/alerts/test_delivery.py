"""Delivering the outbox to real receivers on loopback: order, retries, ids, signatures."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from syncer.alerts.decide import Alert
from syncer.alerts.delivery import (
    BACKOFF_MAX,
    SIGNATURE_HEADER,
    Dispatcher,
    Sender,
    attempt_outcome,
    backoff,
    send_probe,
    sign,
)
from syncer.alerts.outbox import add_alerts
from syncer.config.model import AlertRule, Channel
from syncer.db import migrate
from syncer.db.engine import make_engine, read_session, write_session
from syncer.db.schema import OutboxAlert
from syncer.errors import DeliveryError
from tests.fakes import closed_port
from tests.receivers import START, Clock, Receiver

SECRET = "whsec-0123456789abcdef"


def hook(url: str | None, name: str = "hook", secret: str | None = None) -> AlertRule:
    channel = Channel("webhook", "HOOK_URL", url, "HOOK_SECRET" if secret else None, secret)
    return AlertRule(name=name, kind="events", channel=channel)


def enqueue(engine: Engine, rules: list[AlertRule], *models: str, rule: str = "hook") -> None:
    alerts = [
        Alert(
            rule=rule, kind="vanished", summary=f"openai: {m} vanished", source="openai", model_id=m
        )
        for m in models
    ]
    with write_session(engine) as session, session.begin():
        add_alerts(session, rules, alerts, START)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """For what does not depend on the database (channels, status codes): SQLite only."""
    engine = make_engine(f"sqlite:///{tmp_path / 'alerts.db'}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def outbox(engine: Engine) -> list[OutboxAlert]:
    with read_session(engine) as session:
        return list(session.scalars(select(OutboxAlert).order_by(OutboxAlert.id)))


# --- pure: backoff and the state after an attempt ------------------------------------------------


def test_backoff_doubles_from_30_seconds_up_to_an_hour() -> None:
    waits = [backoff(n).total_seconds() for n in range(1, 10)]

    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert backoff(10_000) == BACKOFF_MAX


def test_after_an_attempt_an_alert_is_delivered_retried_or_failed() -> None:
    retry = DeliveryError("webhook: HTTP 503")
    permanent = DeliveryError("webhook: HTTP 410", permanent=True)

    assert attempt_outcome(1, 0, None, START).status == "delivered"
    assert attempt_outcome(1, 0, None, START).delivered_at == START
    pending = attempt_outcome(1, 2, retry, START)
    assert (pending.status, pending.attempts) == ("pending", 3)
    assert pending.next_attempt_at == START + timedelta(minutes=2)
    assert pending.last_error == "webhook: HTTP 503"
    assert attempt_outcome(1, 0, permanent, START).status == "failed"
    assert attempt_outcome(1, 4, retry, START, max_attempts=5).status == "failed"


def test_the_signature_is_the_hex_hmac_sha256_of_the_body() -> None:
    body = b'{"id": "x"}'

    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()

    assert sign(SECRET, body) == f"sha256={expected}"


# --- delivery to real receivers ------------------------------------------------------------------


def test_the_webhook_gets_each_alert_once_in_order_with_its_stable_id(
    engine: Engine, receiver: Receiver, clock: Clock
) -> None:
    rules = [hook(receiver.url)]
    enqueue(engine, rules, "a", "b", "c")

    report = Dispatcher(engine, rules, now=clock).dispatch()
    again = Dispatcher(engine, rules, now=clock).dispatch()

    assert (report.delivered, report.retrying, report.failed) == (3, 0, 0)
    assert (again.delivered, len(receiver.accepted)) == (0, 3)
    stored = outbox(engine)
    assert [d["model_id"] for d in receiver.documents] == ["a", "b", "c"]
    assert [d["id"] for d in receiver.documents] == [a.alert_id for a in stored]
    assert all(d["version"] == 1 and d["kind"] == "vanished" for d in receiver.documents)
    _, headers = receiver.accepted[0]
    assert headers["X-Syncer-Alert-Id"] == stored[0].alert_id
    assert headers["Content-Type"] == "application/json"
    assert SIGNATURE_HEADER not in headers
    assert {(a.status, a.attempts, a.delivered_at) for a in stored} == {("delivered", 1, START)}


def test_a_signed_webhook_verifies_with_hmac_sha256_of_the_raw_body(
    sqlite_engine: Engine, receiver: Receiver, clock: Clock
) -> None:
    rules = [hook(receiver.url, secret=SECRET)]
    enqueue(sqlite_engine, rules, "gpt-4-0613")

    Dispatcher(sqlite_engine, rules, now=clock).dispatch()

    ((body, headers),) = receiver.accepted
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers[SIGNATURE_HEADER], f"sha256={digest}")
    wrong = hmac.new(b"another secret", body, hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] != f"sha256={wrong}"
    assert SECRET not in body.decode()


def test_a_receiver_down_for_several_dispatches_gets_every_alert_later_in_order_once(
    engine: Engine, receiver: Receiver, clock: Clock
) -> None:
    rules = [hook(receiver.url)]
    dispatcher = Dispatcher(engine, rules, now=clock)
    receiver.status = 503
    enqueue(engine, rules, "a", "b")

    first = dispatcher.dispatch()
    clock.advance(seconds=10)
    too_soon = dispatcher.dispatch()
    enqueue(engine, rules, "c")
    clock.advance(seconds=25)
    second = dispatcher.dispatch()
    receiver.status = 200
    clock.advance(seconds=30)
    still_waiting = dispatcher.dispatch()
    clock.advance(seconds=31)
    recovered = dispatcher.dispatch()

    assert (first.retrying, too_soon.retrying, second.retrying) == (1, 0, 1)
    assert receiver.refused == 2, "only the oldest alert is tried while the receiver is down"
    assert still_waiting.delivered == 0
    assert recovered.delivered == 3
    assert [d["model_id"] for d in receiver.documents] == ["a", "b", "c"]
    ids = [d["id"] for d in receiver.documents]
    assert len(set(ids)) == 3
    assert [(a.status, a.attempts) for a in outbox(engine)] == [
        ("delivered", 3),
        ("delivered", 1),
        ("delivered", 1),
    ]
    assert dispatcher.dispatch().delivered == 0


def test_a_closed_port_is_retried_and_the_error_never_shows_the_url(
    sqlite_engine: Engine, receiver: Receiver, clock: Clock
) -> None:
    port = closed_port()
    secret_url = f"http://127.0.0.1:{port}/services/T0/B0/token-SECRET"
    dispatcher = Dispatcher(sqlite_engine, [hook(secret_url)], now=clock)
    enqueue(sqlite_engine, [hook(secret_url)], "a")

    assert dispatcher.dispatch().retrying == 1

    (alert,) = outbox(sqlite_engine)
    assert alert.last_error == "webhook: cannot connect"
    assert alert.next_attempt_at == START + timedelta(seconds=30)


def test_a_receiver_that_rejects_an_alert_fails_it_and_the_next_one_goes_out(
    engine: Engine, receiver: Receiver, clock: Clock
) -> None:
    rules = [hook(receiver.url)]
    receiver.statuses = [400]
    enqueue(engine, rules, "a", "b")

    report = Dispatcher(engine, rules, now=clock).dispatch()

    assert (report.delivered, report.failed) == (1, 1)
    first, second = outbox(engine)
    assert (first.status, first.last_error) == ("failed", "webhook: HTTP 400: receiver is down")
    assert second.status == "delivered"


@pytest.mark.parametrize("status", [408, 429, 500, 502])
def test_busy_and_server_errors_are_retried(
    sqlite_engine: Engine, receiver: Receiver, clock: Clock, status: int
) -> None:
    receiver.statuses = [status]
    enqueue(sqlite_engine, [hook(receiver.url)], "a")

    assert Dispatcher(sqlite_engine, [hook(receiver.url)], now=clock).dispatch().retrying == 1


def test_an_alert_fails_after_its_last_attempt(
    sqlite_engine: Engine, receiver: Receiver, clock: Clock
) -> None:
    rules = [hook(receiver.url)]
    receiver.status = 503
    enqueue(sqlite_engine, rules, "a")
    dispatcher = Dispatcher(sqlite_engine, rules, now=clock, max_attempts=2)

    dispatcher.dispatch()
    clock.advance(minutes=1)
    report = dispatcher.dispatch()

    assert report.failed == 1
    (alert,) = outbox(sqlite_engine)
    assert (alert.status, alert.attempts) == ("failed", 2)


def test_one_rules_broken_receiver_does_not_hold_up_another_rule(
    engine: Engine, receiver: Receiver, clock: Clock
) -> None:
    down = hook(None, name="down")
    rules = [down, hook(receiver.url)]
    enqueue(engine, rules, "a", rule="down")
    enqueue(engine, rules, "b")

    report = Dispatcher(engine, rules, now=clock).dispatch()

    assert (report.delivered, report.retrying) == (1, 1)
    waiting, sent = outbox(engine)
    assert waiting.last_error == "webhook: the environment variable HOOK_URL is not set"
    assert sent.status == "delivered"


def test_an_alert_whose_rule_is_no_longer_configured_waits_for_it(
    sqlite_engine: Engine, receiver: Receiver, clock: Clock
) -> None:
    enqueue(sqlite_engine, [hook(receiver.url, name="gone")], "a", rule="gone")

    assert Dispatcher(sqlite_engine, [hook(receiver.url)], now=clock).dispatch().retrying == 1

    assert outbox(sqlite_engine)[0].last_error == "no alert rule named 'gone' is configured"


def test_a_slack_webhook_gets_the_summary_as_text(
    sqlite_engine: Engine, receiver: Receiver, clock: Clock
) -> None:
    slack = AlertRule(name="hook", kind="events", channel=Channel("slack", "SLACK", receiver.url))
    enqueue(sqlite_engine, [slack], "gpt-4-0613")

    Dispatcher(sqlite_engine, [slack], now=clock).dispatch()

    assert receiver.documents == [{"text": "openai: gpt-4-0613 vanished"}]


def test_an_apprise_url_delivers_through_apprise(
    sqlite_engine: Engine, receiver: Receiver, clock: Clock
) -> None:
    pytest.importorskip("apprise")
    url = receiver.url.replace("http://", "json://")
    rule = AlertRule(name="hook", kind="events", channel=Channel("apprise", "APPRISE", url))
    enqueue(sqlite_engine, [rule], "gpt-4-0613")

    assert Dispatcher(sqlite_engine, [rule], now=clock).dispatch().delivered == 1

    (document,) = receiver.documents
    assert document["title"] == "syncer: vanished"
    assert document["message"] == "openai: gpt-4-0613 vanished"


def test_an_apprise_url_apprise_cannot_read_fails_for_good(
    sqlite_engine: Engine, clock: Clock
) -> None:
    pytest.importorskip("apprise")
    rule = AlertRule(
        name="hook", kind="events", channel=Channel("apprise", "APPRISE", "nosuchscheme://x")
    )
    enqueue(sqlite_engine, [rule], "a")

    assert Dispatcher(sqlite_engine, [rule], now=clock).dispatch().failed == 1


def test_a_probe_goes_straight_to_the_channel_as_a_test_alert(receiver: Receiver) -> None:
    sender = Sender()

    alert_id = send_probe(hook(receiver.url, secret=SECRET), sender, START)

    sender.close()
    (document,) = receiver.documents
    assert (document["id"], document["kind"], document["rule"]) == (alert_id, "test", "hook")
    assert json.loads(receiver.accepted[0][0]) == document


@pytest.mark.postgres
def test_only_one_dispatcher_delivers_at_a_time_across_processes(
    postgres_url: str, receiver: Receiver, clock: Clock
) -> None:
    from syncer.db import locks, migrate
    from syncer.db.engine import make_engine

    engine = make_engine(postgres_url)
    migrate.upgrade(engine)
    rules = [hook(receiver.url)]
    enqueue(engine, rules, "a")
    other = make_engine(postgres_url)  # another process's connection holds the lock
    with locks.exclusive(other, "alerts-dispatch") as held:
        busy = Dispatcher(engine, rules, now=clock).dispatch()
    other.dispose()
    assert held
    free = Dispatcher(engine, rules, now=clock).dispatch()
    engine.dispose()

    assert (busy.delivered, free.delivered) == (0, 1)
    assert len(receiver.accepted) == 1
