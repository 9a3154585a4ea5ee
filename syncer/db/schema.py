"""The ORM classes syncer's write side works with, mapped onto the tables of ``tables``.

Each class is a table's rows as Python objects (``SyncRun``, ``Lease``, ...), typed for the
code; the columns themselves, and what they mean, are in ``tables``. ``Model`` reads the
``models`` view.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import DeclarativeBase, Mapped

from syncer.db.tables import (
    deprecations_table,
    events_table,
    leases_table,
    marks_table,
    metadata,
    outbox_table,
    pruned_table,
    runs_table,
    stale_table,
)
from syncer.db.views import models_view

__all__ = [
    "AlertMark",
    "AlertPruned",
    "Base",
    "DeprecationEntry",
    "Lease",
    "Model",
    "ModelEvent",
    "OutboxAlert",
    "StaleSource",
    "SyncRun",
]


class Base(DeclarativeBase):
    metadata = metadata


class SyncRun(Base):
    """One sync attempt of one source, whatever its outcome."""

    __table__ = runs_table

    id: Mapped[int]
    source: Mapped[str]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    status: Mapped[str]
    models_seen: Mapped[int | None]
    added: Mapped[int | None]
    vanished: Mapped[int | None]
    reappeared: Mapped[int | None]
    changed: Mapped[int | None]
    error: Mapped[str | None]
    list_digest: Mapped[str | None]


class Model(Base):
    """A row of the ``models`` view, read-only: the state of every model ever seen, with
    ``last_seen_at`` (the source's latest listing while listed, else ``seen_until``)."""

    __table__ = models_view

    source: Mapped[str]
    model_id: Mapped[str]
    object: Mapped[str | None]
    created: Mapped[int | None]
    created_at: Mapped[datetime | None]
    owned_by: Mapped[str | None]
    is_fine_tuned: Mapped[bool]
    shutdown_at: Mapped[datetime | None]
    raw: Mapped[dict[str, Any]]
    raw_digest: Mapped[str | None]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    vanished_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    display_name: Mapped[str | None]
    context_length: Mapped[int | None]
    replacement: Mapped[str | None]
    lifecycle_status: Mapped[str | None]
    effective_shutdown_at: Mapped[datetime | None]
    date_source: Mapped[str | None]
    date_origin: Mapped[str | None]
    date_source_url: Mapped[str | None]
    effective_replacement: Mapped[str | None]


class ModelEvent(Base):
    """Append-only change log: a model was added, vanished, reappeared or changed."""

    __table__ = events_table

    id: Mapped[int]
    source: Mapped[str]
    model_id: Mapped[str]
    kind: Mapped[str]
    occurred_at: Mapped[datetime]
    sync_run_id: Mapped[int | None]
    old_values: Mapped[dict[str, Any] | None]
    new_values: Mapped[dict[str, Any] | None]
    details: Mapped[dict[str, Any] | None]


class OutboxAlert(Base):
    """One alert for one rule: written with its cause, then delivered (or failed) once."""

    __table__ = outbox_table

    id: Mapped[int]
    alert_id: Mapped[str]
    rule: Mapped[str]
    kind: Mapped[str]
    channel: Mapped[str]
    source: Mapped[str | None]
    model_id: Mapped[str | None]
    payload: Mapped[dict[str, Any]]
    status: Mapped[str]
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None]
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class AlertMark(Base):
    """A shutdown countdown threshold already alerted, for one model and one date."""

    __table__ = marks_table

    rule: Mapped[str]
    source: Mapped[str]
    model_id: Mapped[str]
    threshold_days: Mapped[int]
    shutdown_at: Mapped[datetime]
    marked_at: Mapped[datetime]


class StaleSource(Base):
    """A source a stale rule has reported; the row goes when the source recovers."""

    __table__ = stale_table

    rule: Mapped[str]
    source: Mapped[str]
    last_success_at: Mapped[datetime | None]
    alerted_at: Mapped[datetime]


class DeprecationEntry(Base):
    """An imported shutdown date: ``model`` and ``source`` are ids or globs."""

    __table__ = deprecations_table

    source: Mapped[str]
    model: Mapped[str]
    shutdown_at: Mapped[datetime]
    replacement: Mapped[str | None]
    imported_at: Mapped[datetime]
    origin: Mapped[str]
    source_url: Mapped[str | None]


class Lease(Base):
    """Which replica does a job (``sync:<source>``, ...) until when; free once expired."""

    __table__ = leases_table

    name: Mapped[str]
    holder: Mapped[str]
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class AlertPruned(Base):
    """Delivered alerts of a rule pruned from the outbox, so the delivered count only grows."""

    __table__ = pruned_table

    rule: Mapped[str]
    delivered: Mapped[int]
