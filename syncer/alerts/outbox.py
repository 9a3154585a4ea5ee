"""The alert tables, and the shell around ``alerts``: load plain data, decide, write the outbox.

Alerts are written to ``alert_outbox`` in the transaction of whatever caused them (the sync,
the stale check), so an alert exists exactly when its cause committed; ``dispatch`` delivers
them later. Every function takes the caller's session and issues a constant number of
statements, whatever the number of models or alerts.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    bindparam,
    delete,
    or_,
    select,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from syncer.alerts.decide import (
    Alert,
    Countdown,
    Health,
    Mark,
    ModelState,
    StaleMark,
    countdown,
    event_alerts,
    stale_plan,
)
from syncer.alerts.digest import urgent
from syncer.config.model import AlertRule
from syncer.db.schema import AlertMark, Model, OutboxAlert, StaleSource
from syncer.db.tables import marks_table, outbox_table, stale_table
from syncer.scan.places import InUse
from syncer.scan.usages import latest_usages

__all__ = [
    "AlertMark",
    "OutboxAlert",
    "StaleSource",
    "add_alerts",
    "apply_stale",
    "in_use",
    "model_states",
    "record_alerts",
    "record_countdowns",
    "record_event_alerts",
    "requeue_failed",
    "stale_marks",
]

_T = TypeVar("_T")


# --- reading the plain data the rules decide over ------------------------------------------------


def model_states(
    session: Session, source: str | None = None, vanished_at: datetime | None = None
) -> dict[tuple[str, str], ModelState]:
    """Present models (and those vanished at ``vanished_at``) with their lifecycle in force,
    as stored (``syncer.lifecycle`` decided it when its inputs last changed)."""
    query = select(
        Model.source,
        Model.model_id,
        Model.vanished_at,
        Model.first_seen_at,
        Model.effective_shutdown_at,
        Model.date_source,
        Model.effective_replacement,
        Model.date_origin,
        Model.date_source_url,
        Model.lifecycle_status,
    )
    if source is not None:
        query = query.where(Model.source == source)
    present: ColumnElement[bool] = Model.vanished_at.is_(None)
    if vanished_at is not None:
        present = or_(present, Model.vanished_at == vanished_at)
    query = query.where(present)
    return {
        (name, model_id): ModelState(
            model_id,
            vanished is None,
            first_seen_at,
            shutdown_at,
            date_source,
            replacement,
            origin,
            source_url,
            status,
        )
        for (
            name,
            model_id,
            vanished,
            first_seen_at,
            shutdown_at,
            date_source,
            replacement,
            origin,
            source_url,
            status,
        ) in session.execute(query)
    }


def in_use(session: Session) -> InUse:
    """Where each model is used, as the latest recorded scan of each repository found it
    (``scan.usages``): one statement, whatever the number of models."""
    return InUse(latest_usages(session))


def _with_uses(
    session: Session,
    rules: Sequence[AlertRule],
    decide: Callable[[InUse], tuple[list[Alert], _T]],
) -> tuple[list[Alert], _T]:
    """``decide`` with the models in use, read only when they matter: a rule depends on
    them (``in_use``), or some alert is to say where its model is used. Otherwise (most
    syncs raise nothing) the statement is saved; deciding twice costs no I/O."""
    decided = decide(InUse())
    if decided[0] or any(r.in_use or any(c.in_use for c in r.immediate_if) for r in rules):
        decided = decide(in_use(session))
    return decided


def _marks(session: Session, source: str, rules: Sequence[str]) -> list[Mark]:
    rows = session.execute(
        select(
            AlertMark.rule,
            AlertMark.source,
            AlertMark.model_id,
            AlertMark.threshold_days,
            AlertMark.shutdown_at,
        ).where(AlertMark.source == source, AlertMark.rule.in_(rules))
    )
    return [Mark(*row) for row in rows]


def stale_marks(
    session: Session, rules: Sequence[str], source: str | None = None
) -> list[StaleMark]:
    query = select(StaleSource.rule, StaleSource.source, StaleSource.last_success_at).where(
        StaleSource.rule.in_(rules)
    )
    if source is not None:
        query = query.where(StaleSource.source == source)
    return [StaleMark(*row) for row in session.execute(query)]


# --- writing -------------------------------------------------------------------------------------


def add_alerts(
    session: Session, rules: Sequence[AlertRule], alerts: Sequence[Alert], now: datetime
) -> None:
    """Put alerts in the outbox, each with a fresh stable id, in one statement.

    A digest rule's alerts are ``held`` for its next digest, unless ``immediate_if`` says
    they cannot wait (which may depend on whether the model is in use: the alert says).
    """
    if not alerts:
        return
    by_name = {rule.name: rule for rule in rules}
    rows = []
    for alert in alerts:
        alert_id = str(uuid.uuid4())
        rule = by_name[alert.rule]
        document = alert.document(alert_id, now)
        held = rule.deliver == "digest" and not urgent(rule, document, in_use=alert.used)
        rows.append(
            {
                "alert_id": alert_id,
                "rule": alert.rule,
                "kind": alert.kind,
                "channel": rule.channel.kind,
                "source": alert.source,
                "model_id": alert.model_id,
                "payload": document,
                "status": "held" if held else "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "last_error": None,
                "created_at": now,
                "delivered_at": None,
            }
        )
    session.execute(outbox_table.insert(), rows)


def _apply_marks(
    session: Session, new: Sequence[Mark], obsolete: Sequence[Mark], now: datetime
) -> None:
    if obsolete:
        columns = marks_table.c
        statement = delete(marks_table).where(
            columns.rule == bindparam("r"),
            columns.source == bindparam("s"),
            columns.model_id == bindparam("m"),
            columns.threshold_days == bindparam("t"),
            columns.shutdown_at == bindparam("d"),
        )
        session.execute(
            statement,
            [
                {
                    "r": m.rule,
                    "s": m.source,
                    "m": m.model_id,
                    "t": m.threshold_days,
                    "d": m.shutdown_at,
                }
                for m in obsolete
            ],
        )
    if new:
        session.execute(
            marks_table.insert(),
            [
                {
                    "rule": m.rule,
                    "source": m.source,
                    "model_id": m.model_id,
                    "threshold_days": m.threshold_days,
                    "shutdown_at": m.shutdown_at,
                    "marked_at": now,
                }
                for m in new
            ],
        )


def apply_stale(
    session: Session, new: Sequence[StaleMark], recovered: Sequence[StaleMark], now: datetime
) -> None:
    if recovered:
        statement = delete(stale_table).where(
            stale_table.c.rule == bindparam("r"), stale_table.c.source == bindparam("s")
        )
        session.execute(statement, [{"r": m.rule, "s": m.source} for m in recovered])
    if new:
        session.execute(
            stale_table.insert(),
            [
                {
                    "rule": m.rule,
                    "source": m.source,
                    "last_success_at": m.last_success_at,
                    "alerted_at": now,
                }
                for m in new
            ],
        )


# --- the hook a sync calls, and the stale check --------------------------------------------------


def record_alerts(
    session: Session,
    rules: Sequence[AlertRule],
    source: str,
    events: Sequence[Mapping[str, Any]],
    now: datetime,
) -> int:
    """After a successful sync of ``source``, in its transaction: alert on its events, on
    shutdown countdowns, and on its recovery if it was stale. Returns the alerts written.

    Issues no statement at all when no rule covers the source.
    """
    rules = [rule for rule in rules if rule.covers_source(source)]
    countdowns = [r.name for r in rules if r.kind == "shutdown"]
    stale = [r.name for r in rules if r.kind == "stale"]
    alerts: list[Alert] = []
    if countdowns or (events and any(r.kind == "events" for r in rules)):
        states = {m: s for (_, m), s in model_states(session, source, now).items()}
        marks = _marks(session, source, countdowns) if countdowns else []

        def decide(used: InUse) -> tuple[list[Alert], Countdown]:
            plan = countdown(rules, source, states.values(), marks, now, used)
            return event_alerts(rules, source, events, states, now, used) + plan.alerts, plan

        found, plan = _with_uses(session, rules, decide)
        _apply_marks(session, plan.new_marks, plan.obsolete_marks, now)
        alerts += found
    if stale:
        reported = stale_marks(session, stale, source)
        if reported:
            # It just succeeded, so it is not stale whatever the limit: only recoveries.
            recovery = stale_plan(rules, [Health(source, timedelta(0), now, now)], reported, now)
            apply_stale(session, [], recovery.recovered, now)
            alerts += recovery.alerts
    add_alerts(session, rules, alerts, now)
    return len(alerts)


def record_countdowns(
    session: Session, rules: Sequence[AlertRule], sources: Sequence[str], now: datetime
) -> int:
    """Countdown alerts for dates that changed outside a sync (an import), in that change's
    transaction, so ``alerts dispatch`` finds them without waiting for the next sync.

    The caller holds the sources' locks (``locks.lock_sources``): a sync of one of them
    computes the same countdowns.
    """
    if not any(r.kind == "shutdown" for r in rules):
        return 0
    by_source: dict[str, list[ModelState]] = {name: [] for name in sources}
    for (source, _), state in model_states(session).items():
        if source in by_source:
            by_source[source].append(state)
    marks = {}
    for source in by_source:
        names = [r.name for r in rules if r.kind == "shutdown" and r.covers_source(source)]
        if names:
            marks[source] = _marks(session, source, names)

    def decide(used: InUse) -> tuple[list[Alert], list[Countdown]]:
        plans = [
            countdown(rules, source, by_source[source], marks[source], now, used)
            for source in marks
        ]
        return [alert for plan in plans for alert in plan.alerts], plans

    alerts, plans = _with_uses(session, rules, decide)
    for plan in plans:
        _apply_marks(session, plan.new_marks, plan.obsolete_marks, now)
    add_alerts(session, rules, alerts, now)
    return len(alerts)


def record_event_alerts(
    session: Session,
    rules: Sequence[AlertRule],
    source: str,
    events: Sequence[Mapping[str, Any]],
    now: datetime,
) -> int:
    """Alerts on events written outside a sync (retention's deletions), in their transaction.

    Only event rules apply: countdowns and recoveries follow syncs, not deletions.
    """
    rules = [r for r in rules if r.kind == "events" and r.covers_source(source)]
    if not (rules and events):
        return 0
    states = {m: s for (_, m), s in model_states(session, source, now).items()}
    alerts, _ = _with_uses(
        session, rules, lambda used: (event_alerts(rules, source, events, states, now, used), None)
    )
    add_alerts(session, rules, alerts, now)
    return len(alerts)


def requeue_failed(
    session: Session, now: datetime, rule: str | None = None, *, pending: bool = False
) -> dict[str, int]:
    """Give failed alerts (and with ``pending``, those waiting for a retry) a fresh set of
    attempts, now (after fixing a receiver). Returns how many of each status, in one
    statement per status."""
    counts = {}
    for status in ("failed", "pending") if pending else ("failed",):
        statement = (
            update(outbox_table)
            .where(outbox_table.c.status == status)
            .values(status="pending", attempts=0, next_attempt_at=now)
        )
        if rule is not None:
            statement = statement.where(outbox_table.c.rule == rule)
        result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
        counts[status] = result.rowcount
    return counts
