"""The read side: the rows that the listing commands print.

Each function returns plain dicts keyed by column name, in the order they are shown,
so the CLI can print them as a table, JSON or CSV without knowing the schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from syncer.alerts.decide import days_left
from syncer.alerts.outbox import model_states
from syncer.config.model import Source
from syncer.db.schema import Lease, Model, ModelEvent, OutboxAlert, SyncRun

__all__ = [
    "ALERT_COLUMNS",
    "EVENT_COLUMNS",
    "MODEL_COLUMNS",
    "RUN_COLUMNS",
    "SHUTDOWN_COLUMNS",
    "SOURCE_COLUMNS",
    "alerts",
    "events",
    "model",
    "models",
    "runs",
    "shutdowns",
    "sources",
]

MODEL_COLUMNS = (
    "source", "model_id", "owned_by", "created_at", "is_fine_tuned", "shutdown_at",
    "first_seen_at", "last_seen_at", "vanished_at", "display_name", "context_length",
    "replacement",
)
SOURCE_COLUMNS = (
    "name", "kind", "base_url", "api_key_env", "key_set", "last_sync_at", "last_status",
    "models", "lease_holder", "lease_until",
)
EVENT_COLUMNS = (
    "occurred_at", "source", "model_id", "kind", "old_values", "new_values", "sync_run_id",
    "details",
)
RUN_COLUMNS = (
    "id", "source", "started_at", "finished_at", "status", "models_seen", "added", "vanished",
    "reappeared", "changed", "error",
)


def _rows(session: Session, query: Select[Any], columns: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{c: getattr(obj, c) for c in columns} for obj in session.scalars(query)]


def models(
    session: Session,
    *,
    source: str | Sequence[str] | None = None,
    include_vanished: bool = False,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The inventory of every source, one, or any of several."""
    query = select(Model).order_by(Model.source, Model.model_id)
    if isinstance(source, str):
        query = query.where(Model.source == source)
    elif source is not None:
        query = query.where(Model.source.in_(source))
    if not include_vanished:
        query = query.where(Model.vanished_at.is_(None))
    return _rows(session, query.limit(limit), MODEL_COLUMNS)


def model(session: Session, model_id: str, source: str | None = None) -> list[dict[str, Any]]:
    """One model's stored row(s), with the raw JSON: one per source that listed it."""
    query = select(Model).where(Model.model_id == model_id).order_by(Model.source)
    if source is not None:
        query = query.where(Model.source == source)
    return _rows(session, query, (*MODEL_COLUMNS, "deleted_at", "object", "created", "raw"))


def events(
    session: Session,
    *,
    since: datetime | None = None,
    kind: str | None = None,
    model_id: str | None = None,
    source: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    query = select(ModelEvent).order_by(ModelEvent.occurred_at.desc(), ModelEvent.id.desc())
    if since is not None:
        query = query.where(ModelEvent.occurred_at >= since)
    if kind is not None:
        query = query.where(ModelEvent.kind == kind)
    if model_id is not None:
        query = query.where(ModelEvent.model_id == model_id)
    if source is not None:
        query = query.where(ModelEvent.source == source)
    return _rows(session, query.limit(limit), EVENT_COLUMNS)


def runs(
    session: Session,
    *,
    source: str | None = None,
    status: str | None = None,
    limit: int | None = 20,
) -> list[dict[str, Any]]:
    query = select(SyncRun).order_by(SyncRun.id.desc())
    if source is not None:
        query = query.where(SyncRun.source == source)
    if status is not None:
        query = query.where(SyncRun.status == status)
    return _rows(session, query.limit(limit), RUN_COLUMNS)


ALERT_COLUMNS = (
    "alert_id", "created_at", "rule", "kind", "channel", "status", "attempts",
    "next_attempt_at", "delivered_at", "last_error", "summary",
)
SHUTDOWN_COLUMNS = (
    "source", "model_id", "shutdown_at", "days_left", "replacement", "date_source", "origin",
    "source_url",
)


def alerts(
    session: Session, *, status: str | None = None, rule: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The outbox, newest first, with each alert's one-line summary."""
    query = select(OutboxAlert).order_by(OutboxAlert.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxAlert.status == status)
    if rule is not None:
        query = query.where(OutboxAlert.rule == rule)
    return [
        {**{c: getattr(a, c) for c in ALERT_COLUMNS[:-1]}, "summary": a.payload.get("summary")}
        for a in session.scalars(query)
    ]


def shutdowns(
    session: Session, now: datetime, source: str | None = None
) -> list[dict[str, Any]]:
    """Present models with a known shutdown date, soonest first, with days left."""
    states = model_states(session, source)
    dated = sorted(
        ((s, m) for (s, _), m in states.items() if m.shutdown_at is not None),
        key=lambda item: (item[1].shutdown_at, item[0], item[1].model_id),
    )
    return [
        {"source": s, "model_id": m.model_id, "shutdown_at": m.shutdown_at,
         "days_left": days_left(m.shutdown_at, now), "replacement": m.replacement,
         "date_source": m.date_source, "origin": m.origin, "source_url": m.source_url}
        for s, m in dated
        if m.shutdown_at is not None
    ]


def sources(
    session: Session, configured: Sequence[Source], now: datetime
) -> list[dict[str, Any]]:
    """Each configured source with its latest sync, present models and the replica that
    holds its sync lease now (none once the lease has expired): three statements.

    Never the key: only the name of the variable it is read from, and whether it is set.
    """
    latest = select(SyncRun.source, SyncRun.finished_at, SyncRun.status).where(
        SyncRun.id.in_(select(func.max(SyncRun.id)).group_by(SyncRun.source))
    )
    last = {name: (finished, status) for name, finished, status in session.execute(latest)}
    counts = {
        name: count for name, count in session.execute(
            select(Model.source, func.count()).where(Model.vanished_at.is_(None))
            .group_by(Model.source)
        )
    }
    held = {
        name.removeprefix("sync:"): (holder, until) for name, holder, until in session.execute(
            select(Lease.name, Lease.holder, Lease.expires_at)
            .where(Lease.name.startswith("sync:"), Lease.expires_at > now)
        )
    }
    return [
        {
            "name": s.name,
            "kind": f"{s.kind} ({s.api})" if s.api else s.kind,
            "base_url": s.base_url,
            "api_key_env": s.api_key_env,
            "key_set": s.api_key is not None,
            "last_sync_at": last.get(s.name, (None, None))[0],
            "last_status": last.get(s.name, (None, None))[1],
            "models": counts.get(s.name, 0),
            "lease_holder": held.get(s.name, (None, None))[0],
            "lease_until": held.get(s.name, (None, None))[1],
        }
        for s in configured
    ]
