"""The read side: the rows that the listing commands print.

Each function returns plain dicts keyed by column name, in the order they are shown,
so the CLI can print them as a table, JSON or CSV without knowing the schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from syncer.db.schema import Model, ModelEvent, SyncRun

__all__ = [
    "EVENT_COLUMNS",
    "MODEL_COLUMNS",
    "RUN_COLUMNS",
    "events",
    "model",
    "models",
    "runs",
]

MODEL_COLUMNS = (
    "source", "model_id", "owned_by", "created_at", "is_fine_tuned", "shutdown_at",
    "first_seen_at", "last_seen_at", "vanished_at",
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
    session: Session, *, source: str | None = None, include_vanished: bool = False
) -> list[dict[str, Any]]:
    query = select(Model).order_by(Model.source, Model.model_id)
    if source is not None:
        query = query.where(Model.source == source)
    if not include_vanished:
        query = query.where(Model.vanished_at.is_(None))
    return _rows(session, query, MODEL_COLUMNS)


def model(session: Session, model_id: str, source: str | None = None) -> list[dict[str, Any]]:
    """One model's stored row(s), with the raw JSON: one per source that listed it."""
    query = select(Model).where(Model.model_id == model_id).order_by(Model.source)
    if source is not None:
        query = query.where(Model.source == source)
    return _rows(session, query, (*MODEL_COLUMNS, "object", "created", "raw"))


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
