"""Retention's imperative shell: read the candidates, delete one model at a time, record it.

A run holds the source's retention lease (``db.locks``), so one replica at a time applies
retention to a source; a second one waits its turn, then finds the models already deleted.
Each deletion is checked against the stored state (the source's latest sync is ok, the
model is still a present, undeleted row listed by it), sent, and then recorded in its own
short write transaction under the source's lock: ``models.deleted_at`` and a ``deleted``
event. The lock is not held while the provider answers (a DELETE and its retries), so a
sync of the source never waits for one. A crash therefore loses at most the one deletion
in flight, whose retry then finds the model gone (404, recorded as deleted).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine, Row, func, select, update
from sqlalchemy.orm import Session

from syncer.alerts.outbox import record_event_alerts
from syncer.config.model import DEFAULT_LEASE, AlertRule, HTTPSettings, RetentionRule, Source
from syncer.db import locks
from syncer.db.engine import read_session, write_session
from syncer.db.schema import Model
from syncer.db.tables import state_table
from syncer.errors import HTTPStatusError, ProviderError, RetentionError
from syncer.providers.openai import PROFILE as OPENAI
from syncer.providers.profile import FineTunes
from syncer.retention.plan import (
    Decision,
    RetentionModel,
    RetentionPlan,
    plan_retention,
    rule_details,
)
from syncer.sync import store
from syncer.timeutil import duration_text, human_time, utcnow

__all__ = [
    "ApplyReport",
    "Deleter",
    "Deletion",
    "apply_plan",
    "plan_source",
    "ready_run",
    "run_scheduled",
]

log = logging.getLogger(__name__)

#: Statuses after which no other deletion can succeed either: stop instead of carrying on.
STOP_STATUSES = frozenset({401, 403})
#: How long ``syncer retention apply`` waits for another replica applying to the same source.
APPLY_WAIT = timedelta(minutes=10)


class Deleter(Protocol):
    """What retention needs from the provider (``providers.http.Client`` in production)."""

    def delete(self, model_id: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class Deletion:
    """What happened to one planned deletion.

    ``result`` is ``deleted`` (the provider confirmed), ``gone`` (404: already deleted, so
    recorded as deleted), ``failed`` (recorded as ``delete_failed``) or ``skipped`` (no
    longer a candidate when its turn came: nothing sent, nothing recorded).
    """

    model_id: str
    result: str
    http_status: int | None = None
    message: str = ""


@dataclass
class ApplyReport:
    source: str
    outcomes: list[Deletion] = field(default_factory=list)
    #: Why the run stopped before the end of the plan (a 403, a sync that failed meanwhile).
    stopped: str | None = None
    #: Planned deletions never tried because the run stopped first.
    not_attempted: int = 0

    def count(self, *results: str) -> int:
        return sum(o.result in results for o in self.outcomes)

    @property
    def ok(self) -> bool:
        return self.stopped is None and not self.count("failed")

    def summary(self) -> str:
        line = (
            f"{self.source}: {self.count('deleted', 'gone')} deleted "
            f"({self.count('gone')} already gone), {self.count('failed')} failed, "
            f"{self.count('skipped')} skipped"
        )
        if self.not_attempted:
            line += f", {self.not_attempted} not attempted"
        return f"{line}; STOPPED: {self.stopped}" if self.stopped else line


def ready_run(session: Session, source: str) -> Row[Any]:
    """The source's latest sync run, when retention may act on it; else a RetentionError."""
    run = store.latest_run(session, source)
    if run is None:
        raise RetentionError(f"{source}: never synced; run `syncer sync` before retention")
    if run.status != "ok":
        raise RetentionError(
            f"{source}: the latest sync (run {run.id}) is {run.status}, so the stored list "
            f"cannot be trusted; retention waits for a successful sync"
        )
    return run


def plan_source(
    engine: Engine,
    source: str,
    rule: RetentionRule,
    now: datetime,
    fine_tunes: FineTunes = OPENAI.fine_tunes,
) -> RetentionPlan:
    """The plan for one source (whose kind has ``fine_tunes``) from its stored state, in one
    read transaction."""
    with read_session(engine) as session, session.begin():
        run = ready_run(session, source)
        rows = session.execute(
            select(
                Model.model_id,
                Model.owned_by,
                Model.created_at,
                Model.first_seen_at,
                Model.last_seen_at,
            ).where(Model.source == source, Model.vanished_at.is_(None), Model.deleted_at.is_(None))
        )
        models = [
            RetentionModel(
                model_id=model_id,
                owned_by=owner,
                created_at=created_at,
                first_seen_at=first_seen_at,
                listed=last_seen_at >= run.started_at,
            )
            for model_id, owner, created_at, first_seen_at, last_seen_at in rows
        ]
    return plan_retention(models, rule, now, fine_tunes)


def apply_plan(
    engine: Engine,
    provider: Deleter,
    source: str,
    plan: RetentionPlan,
    *,
    now: Callable[[], datetime] = utcnow,
    on_outcome: Callable[[Deletion], object] = lambda _outcome: None,
    alerts: Sequence[AlertRule] = (),
    lease: timedelta = DEFAULT_LEASE,
    wait: timedelta = APPLY_WAIT,
) -> ApplyReport:
    """Carry out the plan's deletions in order, each recorded as soon as it is done.

    Waits up to ``wait`` for another replica applying retention to the same source.
    Alerts on ``deleted``/``delete_failed`` go to the outbox in the deletion's transaction.
    """
    report = ApplyReport(source)
    name = f"retention:{source}"
    with locks.lease(engine, name, lease) as claim:
        if claim.mine:
            _apply_all(engine, provider, source, plan, now, on_outcome, alerts, report)
            return report
    if wait:
        log.warning(
            "retention %s: replica %s is applying retention to it (lease until %s); "
            "waiting up to %s",
            source,
            claim.holder,
            human_time(claim.expires_at),
            duration_text(wait),
        )
        with locks.lease(engine, name, lease, wait=wait) as claim:
            if claim.mine:
                _apply_all(engine, provider, source, plan, now, on_outcome, alerts, report)
                return report
    report.stopped = (
        f"replica {claim.holder} is applying retention to {source} "
        f"(lease until {human_time(claim.expires_at)}); nothing was deleted"
    )
    report.not_attempted = len(plan.deletions)
    return report


def _apply_all(
    engine: Engine,
    provider: Deleter,
    source: str,
    plan: RetentionPlan,
    now: Callable[[], datetime],
    on_outcome: Callable[[Deletion], object],
    alerts: Sequence[AlertRule],
    report: ApplyReport,
) -> None:
    details = rule_details(plan.rule)
    for decision in plan.deletions:
        try:
            outcome = _delete_one(engine, provider, source, decision, details, now, alerts)
        except RetentionError as exc:
            report.stopped = str(exc)
            break
        report.outcomes.append(outcome)
        on_outcome(outcome)
        if outcome.result == "failed" and outcome.http_status in STOP_STATUSES:
            why = (
                "the API key is wrong or missing"
                if outcome.http_status == 401
                else "the key does not own the model or lacks the permission to delete models"
            )
            report.stopped = (
                f"the provider refused to delete {outcome.model_id!r} "
                f"({outcome.http_status}): {why}"
            )
            break
    report.not_attempted = len(plan.deletions) - len(report.outcomes)


def _delete_one(
    engine: Engine,
    provider: Deleter,
    source: str,
    decision: Decision,
    rule: dict[str, Any],
    now: Callable[[], datetime],
    alerts: Sequence[AlertRule],
) -> Deletion:
    model_id = decision.model.model_id
    key = (Model.source == source, Model.model_id == model_id)
    with read_session(engine) as session, session.begin():
        run = ready_run(session, source)
        row = session.execute(
            select(Model.vanished_at, Model.deleted_at, Model.last_seen_at).where(*key)
        ).first()
    if row is None or row.vanished_at is not None or row.deleted_at is not None:
        return Deletion(model_id, "skipped", message="no longer present and undeleted")
    if row.last_seen_at < run.started_at:
        return Deletion(model_id, "skipped", message="not listed by the latest sync")
    outcome = _call(provider, model_id)
    details = {
        "rule": rule,
        "reason": decision.reason,
        "http_status": outcome.http_status,
        "family": None if decision.family is None else str(decision.family),
    }
    with write_session(engine) as session, session.begin():
        locks.lock_source(session, source)
        if session.scalar(select(Model.deleted_at).where(*key)) is not None:
            # Another run took over this source after our lease ran out, and recorded it.
            return Deletion(model_id, "skipped", message="recorded by another retention run")
        when = now()
        if outcome.result == "failed":
            details["error"] = outcome.message
        else:
            # Gone from the inventory at once, so the next sync neither reports it as
            # vanished nor counts it towards a mass vanish (a sync that saw it go while
            # the provider answered has already set vanished_at: that stays).
            state = state_table.c
            session.execute(
                update(state_table)
                .where(state.source == source, state.model_id == model_id)
                .values(
                    deleted_at=when,
                    vanished_at=func.coalesce(state.vanished_at, when),
                    seen_until=func.coalesce(state.seen_until, store.LISTED_AT),
                )
            )
        kind = "delete_failed" if outcome.result == "failed" else "deleted"
        events = [
            {
                "source": source,
                "model_id": model_id,
                "kind": kind,
                "occurred_at": when,
                "sync_run_id": None,
                "old_values": None,
                "new_values": None,
                "details": details,
            }
        ]
        store.insert_events(session, events)
        record_event_alerts(session, alerts, source, events, when)
    return outcome


def _call(provider: Deleter, model_id: str) -> Deletion:
    """One DELETE (with the client's retries) as an outcome; a provider failure is data here."""
    try:
        answer = provider.delete(model_id)
    except HTTPStatusError as exc:
        return Deletion(model_id, "failed", exc.status, str(exc))
    except ProviderError as exc:
        return Deletion(model_id, "failed", None, str(exc))
    if answer is None:
        return Deletion(model_id, "gone", 404, "already deleted (404)")
    if answer.get("deleted") is False:
        return Deletion(model_id, "failed", 200, "the provider answered deleted: false")
    return Deletion(model_id, "deleted", 200)


def run_scheduled(
    engine: Engine,
    source: Source,
    rule: RetentionRule,
    http: HTTPSettings,
    *,
    now: Callable[[], datetime] = utcnow,
    alerts: Sequence[AlertRule] = (),
    lease: timedelta = DEFAULT_LEASE,
    secrets: Iterable[str] = (),
) -> ApplyReport | None:
    """One scheduled retention run: apply when the rule says ``apply = true``, else log the plan.

    A replica that finds another applying retention to the source skips its turn. What the
    provider says back is scrubbed of ``secrets``, every secret configured (``Settings.secrets``).
    """
    from syncer.providers.http import Client

    try:
        plan = plan_source(engine, source.name, rule, now(), source.profile.fine_tunes)
    except RetentionError as exc:
        log.warning("retention %s", exc)
        return None
    if not rule.apply:
        log.info(
            "retention %s: plan only (apply = false): %d to delete, %d kept",
            source.name,
            len(plan.deletions),
            len(plan.kept),
        )
        for decision in plan.deletions:
            log.info(
                "retention %s: would delete %s: %s",
                source.name,
                decision.model.model_id,
                decision.reason,
            )
        return None
    with Client(source.endpoint(), http, secrets=secrets) as client:
        report = apply_plan(
            engine,
            client,
            source.name,
            plan,
            now=now,
            on_outcome=_log_outcome,
            alerts=alerts,
            lease=lease,
            wait=timedelta(0),
        )
    log.log(logging.INFO if report.ok else logging.ERROR, "retention %s", report.summary())
    return report


def _log_outcome(outcome: Deletion) -> None:
    if outcome.result == "failed":
        log.warning("retention: delete_failed %s: %s", outcome.model_id, outcome.message)
    else:
        log.info("retention: %s %s", outcome.result, outcome.model_id)
