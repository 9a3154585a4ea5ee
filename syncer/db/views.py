"""The views, described for the code to read: ``models`` (migration 0007) and the reporting
views (migrations 0002 to 0004, rebuilt over ``models`` by 0007).

They live in their own ``MetaData``, apart from ``tables.metadata``, so Alembic never tries to
create them as tables. Reading through these typed columns gives the same Python values
on both databases: aware UTC datetimes, dates, booleans and floats, where SQLite alone
would return text and integers.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from syncer.db.types import JSONDocument, UTCDateTime

__all__ = [
    "VIEW_NAMES",
    "current_models",
    "inventory_daily",
    "model_availability",
    "model_offers",
    "models_view",
]

views_metadata = MetaData()

#: ``model_state`` with ``last_seen_at``; the key lets the ``Model`` class read it by id.
models_view = Table(
    "models",
    views_metadata,
    Column("source", String(64), primary_key=True),
    Column("model_id", String(512), primary_key=True),
    Column("object", Text),
    Column("created", BigInteger),
    Column("created_at", UTCDateTime),
    Column("owned_by", Text),
    Column("is_fine_tuned", Boolean),
    Column("shutdown_at", UTCDateTime),
    Column("raw", JSONDocument),
    Column("raw_digest", String(32)),
    Column("first_seen_at", UTCDateTime),
    Column("last_seen_at", UTCDateTime),
    Column("vanished_at", UTCDateTime),
    Column("deleted_at", UTCDateTime),
    Column("display_name", Text),
    Column("context_length", BigInteger),
    Column("replacement", Text),
    #: The lifecycle status and the lifecycle in force (migration 0013).
    Column("lifecycle_status", Text),
    Column("effective_shutdown_at", UTCDateTime),
    Column("date_source", String(16)),
    Column("date_origin", Text),
    Column("date_source_url", Text),
    Column("effective_replacement", Text),
)

current_models = Table(
    "current_models",
    views_metadata,
    Column("source", String(64)),
    Column("model_id", String(512)),
    Column("owned_by", Text),
    Column("created_at", UTCDateTime),
    Column("age_days", Integer),
    Column("is_fine_tuned", Boolean),
    Column("base_model", Text),
    Column("shutdown_at", UTCDateTime),
    Column("days_to_shutdown", Integer),
    Column("first_seen_at", UTCDateTime),
    Column("last_seen_at", UTCDateTime),
    #: Since migration 0013 ``shutdown_at`` is the date in force (the provider's, else an
    #: imported one), with where it came from, the replacement in force and the status.
    Column("date_source", String(16)),
    Column("date_origin", Text),
    Column("date_source_url", Text),
    Column("replacement", Text),
    Column("lifecycle_status", Text),
)

model_availability = Table(
    "model_availability",
    views_metadata,
    Column("source", String(64)),
    Column("model_id", String(512)),
    Column("interval_number", Integer),
    Column("available_from", UTCDateTime),
    Column("available_until", UTCDateTime),
    Column("started_by", String(16)),
    Column("ended_by", String(16)),
    Column("days_available", Float),
)

inventory_daily = Table(
    "inventory_daily",
    views_metadata,
    Column("source", String(64)),
    Column("day", Date),
    Column("present", Integer),
    Column("added", Integer),
    Column("reappeared", Integer),
    Column("vanished", Integer),
    Column("deleted", Integer),
    Column("changed", Integer),
    #: Migration 0015: the models a ``syncer sources retire`` took out that day.
    Column("source_retired", Integer),
)

model_offers = Table(
    "model_offers",
    views_metadata,
    Column("common_id", String(512)),
    Column("source", String(64)),
    Column("model_id", String(512)),
    Column("display_name", Text),
    Column("context_length", Integer),
    Column("shutdown_at", UTCDateTime),
    Column("days_to_shutdown", Integer),
    Column("date_source", String(16)),
    Column("replacement", Text),
    #: Migration 0013: read from the stored lifecycle in force (globs resolved too).
    Column("date_origin", Text),
    Column("date_source_url", Text),
    Column("lifecycle_status", Text),
)

VIEW_NAMES = tuple(views_metadata.tables)
