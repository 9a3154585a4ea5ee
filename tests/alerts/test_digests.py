"""Digests written and delivered on a real database and real receivers, on a simulated clock:
one per window, exactly once across crashes and dispatchers."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from syncer.alerts.decide import Alert
from syncer.alerts.delivery import Dispatcher, Sender
from syncer.alerts.digests import compose_due
from syncer.alerts.hook import alert_hook
from syncer.alerts.outbox import add_alerts
from syncer.config.model import AlertRule, Channel, Urgency
from syncer.db.engine import read_session, write_session
from syncer.db.tables import model_usages_table, outbox_table
from tests.fakes import API_KEY, FakeProvider
from tests.receivers import Clock, Receiver

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def digest_rule(url: str, kind: str = "webhook", **fields: Any) -> AlertRule:
    return AlertRule(
        name="weekly",
        kind="events",
        channel=Channel(kind, "URL", url),
        deliver="digest",
        schedule="0 9 * * MON",
        **fields,
    )


def write(engine: Engine, rules: list[AlertRule], at: datetime, *alerts: tuple[str, str]) -> None:
    """Alerts of the rule ``weekly`` (kind, model) as a sync at ``at`` writes them."""
    with write_session(engine) as session, session.begin():
        add_alerts(
            session,
            rules,
            [
                Alert(
                    rule="weekly",
                    kind=kind,
                    summary=f"openai: {model} {kind}",
                    source="openai",
                    model_id=model,
                )
                for kind, model in alerts
            ],
            at,
        )


def rows(engine: Engine) -> list[Mapping[str, Any]]:
    with read_session(engine) as session:
        return [
            r._mapping
            for r in session.execute(
                select(
                    outbox_table.c.kind,
                    outbox_table.c.status,
                    outbox_table.c.model_id,
                    outbox_table.c.payload,
                ).order_by(outbox_table.c.id)
            )
        ]


def models(document: Mapping[str, Any]) -> list[str]:
    return [i["model_id"] for s in document["sources"] for g in s["groups"] for i in g["items"]]


@pytest.fixture
def migrated(engine: Engine) -> Engine:
    return engine


def test_a_digest_rule_holds_its_alerts_and_sends_one_digest_per_window(
    migrated: Engine, receiver: Receiver
) -> None:
    rules = [digest_rule(receiver.url)]
    clock = Clock(MONDAY - timedelta(days=2))
    dispatcher = Dispatcher(migrated, rules, now=clock)
    write(migrated, rules, clock(), ("added", "a"), ("vanished", "b"))

    before = dispatcher.dispatch()
    received_before = len(receiver.accepted)
    clock.now = MONDAY
    at_nine = dispatcher.dispatch()
    write(migrated, rules, MONDAY + timedelta(hours=1), ("added", "c"))
    clock.now = MONDAY + timedelta(days=6, hours=23)
    quiet_week = dispatcher.dispatch()
    clock.now = MONDAY + timedelta(weeks=1)
    next_monday = dispatcher.dispatch()
    clock.now = MONDAY + timedelta(weeks=2)
    empty = dispatcher.dispatch()

    assert before.delivered == received_before == 0, "held until Monday 9:00"
    assert (at_nine.delivered, quiet_week.delivered, next_monday.delivered) == (1, 0, 1)
    assert empty.delivered == 0, "an empty window sends nothing"
    first, second = receiver.documents
    assert (first["version"], first["kind"]) == (2, "digest")
    assert models(first) == ["b", "a"] and models(second) == ["c"]
    assert first["window"]["end"] == "2026-03-02T09:00:00.000000Z"
    assert second["window"]["start"] == first["window"]["end"]
    _, headers = receiver.accepted[0]
    assert headers["X-Syncer-Payload-Version"] == "2"
    assert headers["X-Syncer-Alert-Id"] == first["id"]
    assert [(r["kind"], r["status"]) for r in rows(migrated)] == [
        ("added", "digested"),
        ("vanished", "digested"),
        ("digest", "delivered"),
        ("added", "digested"),
        ("digest", "delivered"),
    ]


def test_send_empty_sends_a_digest_for_a_window_with_nothing(
    migrated: Engine, receiver: Receiver
) -> None:
    rules = [digest_rule(receiver.url, send_empty=True)]
    clock = Clock(MONDAY - timedelta(days=1))
    dispatcher = Dispatcher(migrated, rules, now=clock)
    dispatcher.dispatch()  # the rule starts counting
    clock.now = MONDAY + timedelta(weeks=2, minutes=5)  # two fire times missed: one digest

    assert dispatcher.dispatch().delivered == 1
    (document,) = receiver.documents
    assert document["summary"] == "syncer digest for rule weekly: nothing happened"
    assert document["window"] == {
        "start": "2026-03-01T09:00:00.000000Z",
        "end": "2026-03-16T09:00:00.000000Z",
        "timezone": "UTC",
    }


def test_immediate_if_sends_what_cannot_wait_at_once_and_digests_the_rest(
    migrated: Engine, receiver: Receiver
) -> None:
    rules = [digest_rule(receiver.url, immediate_if=(Urgency(kinds=("vanished",)),))]
    clock = Clock(MONDAY - timedelta(days=1))
    write(migrated, rules, clock(), ("added", "a"), ("vanished", "b"))

    now = Dispatcher(migrated, rules, now=clock).dispatch()
    clock.now = MONDAY
    later = Dispatcher(migrated, rules, now=clock).dispatch()

    assert (now.delivered, later.delivered) == (1, 1)
    alone, digest = receiver.documents
    assert (alone["version"], alone["kind"], alone["model_id"]) == (1, "vanished", "b")
    assert models(digest) == ["a"]


def test_slack_and_apprise_get_the_digest_as_readable_text() -> None:
    slack, apprise = Receiver("/slack"), Receiver("/apprise")
    try:
        sender = Sender()
        document = {
            "version": 2,
            "kind": "digest",
            "id": "d",
            "summary": "syncer digest",
            "text": "syncer digest\n\nopenai\n  Added (1)\n  • openai: a added",
        }
        sender.send(Channel("slack", "S", slack.url), document)
        sender.send(Channel("apprise", "A", apprise.url.replace("http://", "json://")), document)
        sender.close()

        assert slack.documents == [{"text": document["text"]}]
        (sent,) = apprise.documents
        assert (sent["title"], sent["message"]) == ("syncer: digest", document["text"])
    finally:
        slack.close()
        apprise.close()


# --- exactly once --------------------------------------------------------------------------------


class Killed(BaseException):
    """The process dying: not an error anything catches."""


class DyingSender(Sender):
    def send(self, channel: Channel, document: Mapping[str, Any]) -> None:
        raise Killed


def test_a_crash_between_writing_and_sending_a_digest_neither_loses_nor_repeats_it(
    migrated: Engine, receiver: Receiver
) -> None:
    rules = [digest_rule(receiver.url)]
    clock = Clock(MONDAY - timedelta(days=1))
    write(migrated, rules, clock(), ("added", "a"))
    Dispatcher(migrated, rules, now=clock).dispatch()
    clock.now = MONDAY

    with pytest.raises(Killed):
        Dispatcher(migrated, rules, now=clock, sender=DyingSender(), lease=timedelta(0)).dispatch()
    written = rows(migrated)
    clock.advance(minutes=1)
    after = Dispatcher(migrated, rules, now=clock).dispatch()
    again = Dispatcher(migrated, rules, now=clock).dispatch()

    assert [(r["kind"], r["status"]) for r in written] == [
        ("added", "digested"),
        ("digest", "pending"),
    ], "the digest was written with the marks of what it covers, then the process died"
    assert (after.delivered, again.delivered) == (1, 0)
    (document,) = receiver.documents
    assert document["id"] == written[1]["payload"]["id"] and models(document) == ["a"]


def test_a_crash_before_the_digest_commits_leaves_the_window_to_the_next_dispatch(
    migrated: Engine, receiver: Receiver
) -> None:
    rules = [digest_rule(receiver.url)]
    write(migrated, rules, MONDAY - timedelta(days=1), ("added", "a"))
    compose_due(migrated, rules, MONDAY - timedelta(days=1))  # the rule starts counting

    class Dies(Exception):
        pass

    with write_session(migrated) as session, pytest.raises(Dies), session.begin():
        from syncer.alerts.digests import compose_rule

        assert compose_rule(session, rules[0], MONDAY) is not None
        raise Dies  # before the commit
    rolled_back = rows(migrated)
    delivered = Dispatcher(migrated, rules, now=lambda: MONDAY).dispatch()

    assert [(r["kind"], r["status"]) for r in rolled_back] == [("added", "held")]
    assert delivered.delivered == 1 and models(receiver.documents[0]) == ["a"]


def test_two_writers_without_the_lease_still_write_one_digest_per_window(
    migrated: Engine, receiver: Receiver
) -> None:
    """A replica whose lease expired while it stalled: the state it read must still be there
    when it commits, or it writes nothing."""
    rules = [digest_rule(receiver.url)]
    write(migrated, rules, MONDAY - timedelta(days=1), ("added", "a"))
    compose_due(migrated, rules, MONDAY - timedelta(days=1))
    barrier = threading.Barrier(4)
    written: list[list[str]] = []

    def compose() -> None:
        barrier.wait()
        written.append(compose_due(migrated, rules, MONDAY))

    threads = [threading.Thread(target=compose) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(len(w) for w in written) == [0, 0, 0, 1]
    assert [r["kind"] for r in rows(migrated)] == ["added", "digest"]


def test_two_dispatchers_at_once_deliver_one_digest(migrated: Engine, receiver: Receiver) -> None:
    rules = [digest_rule(receiver.url)]
    write(migrated, rules, MONDAY - timedelta(days=1), ("added", "a"), ("added", "b"))
    compose_due(migrated, rules, MONDAY - timedelta(days=1))
    receiver.delay = 0.2
    dispatchers = [Dispatcher(migrated, rules, now=lambda: MONDAY) for _ in range(2)]
    barrier = threading.Barrier(2)

    def run(dispatcher: Dispatcher) -> None:
        barrier.wait()
        for _ in range(3):
            dispatcher.dispatch()

    threads = [threading.Thread(target=run, args=(d,)) for d in dispatchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(receiver.documents) == 1
    assert models(receiver.documents[0]) == ["a", "b"]
    assert [r["kind"] for r in rows(migrated)].count("digest") == 1


def test_a_digest_names_each_models_replacement_where_its_date_comes_from_and_its_uses(
    migrated: Engine, provider: FakeProvider, receiver: Receiver
) -> None:
    from syncer.alerts.deprecations import Deprecation, import_deprecations
    from syncer.config.model import HTTPSettings, Source, SyncPolicy
    from syncer.providers.http import Client
    from syncer.sync.run import Syncer

    rules = [digest_rule(receiver.url, "slack")]
    clock = Clock(MONDAY - timedelta(days=3))
    source = Source(name="openai", base_url=provider.base_url, api_key=API_KEY)

    def sync() -> None:
        with Client(source.endpoint(), HTTPSettings(max_retries=0)) as client:
            Syncer(
                migrated, client, "openai", SyncPolicy(), now=clock, on_synced=alert_hook(rules)
            ).run()

    provider.set("gpt-4-0613", "gpt-4o", "o1")
    provider.models[2]["shutdown_date"] = "2026-07-01"
    sync()
    with migrated.begin() as connection:
        connection.execute(
            model_usages_table.insert(),
            [
                {
                    "repository": "api",
                    "path": "app.py",
                    "line": 3,
                    "column": 9,
                    "model_id": "gpt-4-0613",
                    "verdict": "ok",
                    "scanned_at": clock.now,
                },
            ],
        )
    with write_session(migrated) as session, session.begin():
        import_deprecations(
            session,
            [
                Deprecation("gpt-4-0613", MONDAY + timedelta(days=3), replacement="gpt-4o"),
            ],
            clock.now,
            origin="deps.csv",
        )
    clock.advance(hours=1)
    provider.set("gpt-4o", "o1", "o3")
    provider.models[1]["shutdown_date"] = "2026-07-01"
    sync()
    clock.now = MONDAY
    Dispatcher(migrated, rules, now=clock).dispatch()

    (slack,) = receiver.documents
    lines = slack["text"].splitlines()
    assert (
        "  • gpt-4-0613: retired as announced for 2026-03-05 (replacement: gpt-4o; "
        "date imported from deps.csv; used in 1 place: api:app.py:3)" in lines
    )
    assert "  • o3: added" in lines
