"""Every table and column syncer reads or writes, described for the code.

The schema is a public interface (people write SQL against it) and Alembic owns it: these
classes describe it, ``migrations/`` creates it. The reporting views, which Alembic must not
create as tables, are described apart in ``views``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from syncer.db.types import JSONDocument, UTCDateTime
from syncer.db.views import models_view

__all__ = [
    "STATUSES",
    "AlertMark",
    "AlertPruned",
    "Base",
    "DeprecationEntry",
    "Lease",
    "Model",
    "ModelEvent",
    "ModelState",
    "OutboxAlert",
    "SourceListing",
    "StaleSource",
    "SyncRun",
    "deprecations_table",
    "events_table",
    "leases_table",
    "listings_table",
    "marks_table",
    "outbox_table",
    "pruned_table",
    "runs_table",
    "stale_table",
    "state_table",
]


NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class SyncRun(Base):
    """One sync attempt of one source, whatever its outcome."""

    __tablename__ = "sync_runs"
    __table_args__ = (Index(None, "source", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    models_seen: Mapped[int | None] = mapped_column(Integer)
    added: Mapped[int | None] = mapped_column(Integer)
    vanished: Mapped[int | None] = mapped_column(Integer)
    reappeared: Mapped[int | None] = mapped_column(Integer)
    changed: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    list_digest: Mapped[str | None] = mapped_column(String(64))


class ModelState(Base):
    """What syncer writes of every model ever seen, one row per (source, model id).

    Read the ``models`` view instead: it is this table with ``last_seen_at``, which a sync
    records once per source (``source_listings``) rather than on every listed model.
    """

    __tablename__ = "model_state"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    object: Mapped[str | None] = mapped_column(Text)
    created: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    owned_by: Mapped[str | None] = mapped_column(Text)
    is_fine_tuned: Mapped[bool] = mapped_column(Boolean)
    shutdown_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Read from the listed JSON by the source kind's field mapping (migration 0004).
    display_name: Mapped[str | None] = mapped_column(Text)
    context_length: Mapped[int | None] = mapped_column(BigInteger)
    #: The provider's named successor (Mistral's ``deprecation_replacement_model``).
    replacement: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    #: Fingerprint of ``raw`` (``payload.raw_digest``): a sync skips models whose is unchanged.
    raw_digest: Mapped[str | None] = mapped_column(String(32))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: None while the source's latest successful sync listed the model; otherwise when a
    #: sync last listed it (it vanished, was deleted, or is kept present unlisted).
    seen_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    vanished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set when syncer's retention rule deleted the model at the provider.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SourceListing(Base):
    """When each source's latest successful sync listed its models: one row per source."""

    __tablename__ = "source_listings"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    listed_at: Mapped[datetime] = mapped_column(UTCDateTime)


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
    display_name: Mapped[str | None]
    context_length: Mapped[int | None]
    replacement: Mapped[str | None]
    raw: Mapped[dict[str, Any]]
    raw_digest: Mapped[str | None]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    vanished_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]


class ModelEvent(Base):
    """Append-only change log: a model was added, vanished, reappeared or changed."""

    __tablename__ = "model_events"
    __table_args__ = (
        Index(None, "source", "model_id"),
        Index(None, "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    model_id: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sync_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id"))
    old_values: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    new_values: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    #: Why an event happened, when a rule caused it (retention's rule and reason).
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)


state_table = cast(Table, ModelState.__table__)
listings_table = cast(Table, SourceListing.__table__)
events_table = cast(Table, ModelEvent.__table__)
runs_table = cast(Table, SyncRun.__table__)


#: What an alert in the outbox can be.
STATUSES = ("pending", "delivered", "failed")


class OutboxAlert(Base):
    """One alert for one rule: written with its cause, then delivered (or failed) once."""

    __tablename__ = "alert_outbox"
    __table_args__ = (Index(None, "status", "rule", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The stable id receivers use to drop duplicates (also in the payload and a header).
    alert_id: Mapped[str] = mapped_column(String(36), unique=True)
    rule: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(64))
    model_id: Mapped[str | None] = mapped_column(String(512))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertMark(Base):
    """A shutdown countdown threshold already alerted, for one model and one date."""

    __tablename__ = "alert_marks"

    rule: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    threshold_days: Mapped[int] = mapped_column(Integer, primary_key=True)
    shutdown_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StaleSource(Base):
    """A source a stale rule has reported; the row goes when the source recovers."""

    __tablename__ = "alert_stale_sources"

    rule: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    alerted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeprecationEntry(Base):
    """An imported shutdown date: ``model`` and ``source`` are ids or globs."""

    __tablename__ = "deprecations"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(512), primary_key=True)
    shutdown_at: Mapped[datetime] = mapped_column(UTCDateTime)
    replacement: Mapped[str | None] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The file the date was imported from, and the page it cites (migration 0004).
    origin: Mapped[str | None] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(Text)


outbox_table = cast(Table, OutboxAlert.__table__)
marks_table = cast(Table, AlertMark.__table__)
stale_table = cast(Table, StaleSource.__table__)
deprecations_table = cast(Table, DeprecationEntry.__table__)


class Lease(Base):
    """Which replica does a job (``sync:<source>``, ...) until when; free once expired."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    #: The replica (``host:pid``) that holds it, or held it last once it is free.
    holder: Mapped[str] = mapped_column(String(256))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


leases_table = cast(Table, Lease.__table__)


class AlertPruned(Base):
    """Delivered alerts of a rule pruned from the outbox, so the delivered count only grows."""

    __tablename__ = "alert_pruned"

    rule: Mapped[str] = mapped_column(String(64), primary_key=True)
    delivered: Mapped[int] = mapped_column(BigInteger)


pruned_table = cast(Table, AlertPruned.__table__)
