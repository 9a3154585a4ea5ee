"""Stale sources: each source's health from the run history, and the stale check job.

A source is stale when it has had no successful sync for longer than its limit (a stale
rule's ``stale_after``, else three of its sync intervals). The check runs on a schedule in
``syncer run`` and in ``syncer alerts dispatch``; a sync that succeeds reports the recovery
itself (``alerts.outbox.record_alerts``), in its own transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, case, func, select
from sqlalchemy.orm import Session

from syncer.alerts.decide import Health, stale_plan
from syncer.alerts.outbox import add_alerts, apply_stale, stale_marks
from syncer.config.alerts import sync_interval
from syncer.config.model import Schedule, Settings, Source
from syncer.db import locks
from syncer.db.engine import write_session
from syncer.db.schema import SyncRun

__all__ = ["check_stale", "expected_interval", "source_health"]


def expected_interval(source: Source, schedule: Schedule, now: datetime) -> timedelta:
    """How often ``syncer run`` syncs a source (``config.alerts.sync_interval``)."""
    return sync_interval(source, schedule, now)


def source_health(session: Session, settings: Settings, now: datetime) -> list[Health]:
    """Each configured source's last success and first attempt, in one query."""
    ok = func.max(case((SyncRun.status == "ok", SyncRun.finished_at)))
    rows = session.execute(
        select(SyncRun.source, ok, func.min(SyncRun.started_at)).group_by(SyncRun.source)
    )
    seen = {name: (last_ok, first) for name, last_ok, first in rows}
    return [
        Health(
            s.name, expected_interval(s, settings.schedule, now), *seen.get(s.name, (None, None))
        )
        for s in settings.sources
    ]


def check_stale(engine: Engine, settings: Settings, now: datetime) -> int:
    """Alert on sources gone stale (and recovered), in one transaction; returns the alerts."""
    rules = [r for r in settings.alerts if r.kind == "stale"]
    if not rules:
        return 0
    with write_session(engine) as session, session.begin():
        locks.lock_sources(session, (s.name for s in settings.sources))
        plan = stale_plan(
            rules,
            source_health(session, settings, now),
            stale_marks(session, [r.name for r in rules]),
            now,
        )
        apply_stale(session, plan.new_marks, plan.recovered, now)
        add_alerts(session, rules, plan.alerts, now)
    return len(plan.alerts)
