"""Every table syncer reads or writes, as SQLAlchemy Core tables: the schema at a glance.

The schema is a public interface (people write SQL against it) and Alembic owns it: these
tables describe it, ``migrations/`` creates it, and a test checks that the two agree. The
views are described apart in ``views``; the ORM classes of ``schema`` are mapped onto these
tables. Core alone is what the read commands import: the ORM would double their start-up.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

from syncer.db.types import JSONDocument, UTCDateTime

__all__ = [
    "deprecations_table",
    "digests_table",
    "events_table",
    "import_runs_table",
    "leases_table",
    "listings_table",
    "marks_table",
    "metadata",
    "model_usages_table",
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

metadata = MetaData(naming_convention=NAMING_CONVENTION)

#: One sync attempt of one source, whatever its outcome.
runs_table = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("models_seen", Integer),
    Column("added", Integer),
    Column("vanished", Integer),
    Column("reappeared", Integer),
    Column("changed", Integer),
    Column("error", Text),
    Column("list_digest", String(64)),
    Index(None, "source", "started_at"),
)


#: What syncer writes of every model ever seen, one row per (source, model id).
state_table = Table(
    "model_state",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("model_id", String(512), primary_key=True),
    Column("object", Text),
    Column("created", BigInteger),
    Column("created_at", UTCDateTime),
    Column("owned_by", Text),
    Column("is_fine_tuned", Boolean, nullable=False),
    Column("shutdown_at", UTCDateTime),
    #: Read from the listed JSON by the source kind's field mapping (migration 0004).
    Column("display_name", Text),
    Column("context_length", BigInteger),
    #: The provider's named successor (Mistral's ``deprecation_replacement_model``).
    Column("replacement", Text),
    Column("raw", JSONDocument, nullable=False),
    #: Fingerprint of ``raw`` (``sync.parse.raw_digest``): a sync skips models whose is unchanged.
    Column("raw_digest", String(32)),
    Column("first_seen_at", UTCDateTime, nullable=False),
    #: None while the source's latest successful sync listed the model; otherwise when a
    #: sync last listed it (it vanished, was deleted, or is kept present unlisted).
    Column("seen_until", UTCDateTime),
    Column("vanished_at", UTCDateTime),
    #: Set when syncer's retention rule deleted the model at the provider.
    Column("deleted_at", UTCDateTime),
    #: The provider's lifecycle status, read by the kind's field mapping (migration 0013):
    #: ``deprecated``, ``preview``, ``generally-available``, ``inactive``, ...; None when
    #: the provider says nothing.
    Column("lifecycle_status", Text),
    #: The lifecycle in force (``syncer.lifecycle.decide``), written whenever a sync or an
    #: import changes an input, so plain SQL reads what every command shows (migration 0013).
    Column("effective_shutdown_at", UTCDateTime),
    #: ``provider`` or ``imported`` (None without a date).
    Column("date_source", String(16)),
    #: ``provider``, or the file or URL an imported date came from.
    Column("date_origin", Text),
    #: The page an imported date cites.
    Column("date_source_url", Text),
    Column("effective_replacement", Text),
    #: Partial (migration 0009): what a sync reads of the source's vanished models, and the
    #: present ones it clears ``seen_until`` of, without walking every model of the source.
    #: PostgreSQL gets the same WHERE from the migration: a ``postgresql_where`` here would
    #: import PostgreSQL's dialect into every command on SQLite.
    Index(
        "ix_model_state_vanished",
        "source",
        "model_id",
        "raw_digest",
        sqlite_where=text("vanished_at IS NOT NULL"),
    ),
    Index(
        "ix_model_state_unlisted",
        "source",
        sqlite_where=text("vanished_at IS NULL AND seen_until IS NOT NULL"),
    ),
)


#: When each source's latest successful sync listed its models: one row per source.
listings_table = Table(
    "source_listings",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("listed_at", UTCDateTime, nullable=False),
)


#: Append-only change log: a model was added, vanished, reappeared or changed.
events_table = Table(
    "model_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("model_id", String(512), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("sync_run_id", ForeignKey("sync_runs.id")),
    Column("old_values", JSONDocument),
    Column("new_values", JSONDocument),
    #: Why an event happened, when a rule caused it (retention's rule and reason).
    Column("details", JSONDocument),
    Index(None, "source", "model_id"),
    Index(None, "occurred_at"),
    #: A sync's look at its source's latest event (migration 0008).
    Index(None, "source", "id"),
)


#: One alert for one rule: written with its cause, then delivered (or failed) once.
outbox_table = Table(
    "alert_outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    #: The stable id receivers use to drop duplicates (also in the payload and a header).
    Column("alert_id", String(36), unique=True, nullable=False),
    Column("rule", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("source", String(64)),
    Column("model_id", String(512)),
    Column("payload", JSONDocument, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    Index(None, "status", "rule", "id"),
)


#: A shutdown countdown threshold already alerted, for one model and one date.
marks_table = Table(
    "alert_marks",
    metadata,
    Column("rule", String(64), primary_key=True),
    Column("source", String(64), primary_key=True),
    Column("model_id", String(512), primary_key=True),
    Column("threshold_days", Integer, primary_key=True),
    Column("shutdown_at", UTCDateTime, primary_key=True),
    Column("marked_at", UTCDateTime, nullable=False),
)


#: A source a stale rule has reported; the row goes when the source recovers.
stale_table = Table(
    "alert_stale_sources",
    metadata,
    Column("rule", String(64), primary_key=True),
    Column("source", String(64), primary_key=True),
    Column("last_success_at", UTCDateTime),
    Column("alerted_at", UTCDateTime, nullable=False),
)


#: An imported shutdown date: ``model`` and ``source`` are ids or globs.
deprecations_table = Table(
    "deprecations",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("model", String(512), primary_key=True),
    Column("shutdown_at", UTCDateTime, nullable=False),
    Column("replacement", Text),
    Column("imported_at", UTCDateTime, nullable=False),
    #: The file or URL the date was imported from (never empty since migration 0013), and
    #: the page it cites (migration 0004).
    Column("origin", Text, nullable=False),
    Column("source_url", Text),
)


#: Which replica does a job (``sync:<source>``, ...) until when; free once expired.
leases_table = Table(
    "leases",
    metadata,
    Column("name", String(128), primary_key=True),
    #: The replica (``host:pid``) that holds it, or held it last once it is free.
    Column("holder", String(256), nullable=False),
    Column("acquired_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)


#: Delivered alerts of a rule pruned from the outbox, so the delivered count only grows.
pruned_table = Table(
    "alert_pruned",
    metadata,
    Column("rule", String(64), primary_key=True),
    Column("delivered", BigInteger, nullable=False),
)


#: How far a digest rule's digests have covered its held alerts (migration 0011).
digests_table = Table(
    "alert_digests",
    metadata,
    Column("rule", String(64), primary_key=True),
    #: The schedule's latest fire time a digest (or an empty window) was decided for.
    Column("covered_until", UTCDateTime, nullable=False),
    #: The ``alert_id`` of the rule's latest digest; None until one is sent.
    Column("last_digest_id", String(36)),
    Column("updated_at", UTCDateTime, nullable=False),
)


#: Where a model id is used: ``syncer scan --record --repository NAME`` replaces the
#: repository's rows with its findings, in one transaction (migration 0012).
model_usages_table = Table(
    "model_usages",
    metadata,
    Column("repository", String(256), primary_key=True),
    Column("path", String(1024), primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("column", Integer, primary_key=True),
    #: The id as the inventory has it (the written text, normalised, when none lists it).
    Column("model_id", String(512), nullable=False, index=True),
    Column("verdict", String(16), nullable=False),
    Column("scanned_at", UTCDateTime, nullable=False),
)


#: One attempt to import a file of shutdown dates (``[[imports]]``, ``deprecations import
#: --url``), whatever its outcome (migration 0014).
import_runs_table = Table(
    "import_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    #: The URL (password and query masked) or the path: ``deprecations.origin`` of its dates.
    Column("origin", Text, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    #: ``ok`` (applied with this row), ``unchanged`` or ``failed`` (nothing applied).
    Column("status", String(16), nullable=False),
    #: ``ok``: the dates stored, and the present models whose imported date moved.
    Column("entries", Integer),
    Column("changed", Integer),
    #: ``failed``: why, on one line, secrets masked.
    Column("error", Text),
    #: The validators of the document applied, sent back to make the next fetch conditional.
    Column("etag", Text),
    Column("last_modified", Text),
    #: SHA-256 of the document applied, and of what of the configuration its reading
    #: depends on (the sources a LiteLLM entry applies to).
    Column("body_digest", String(64)),
    Column("config_digest", String(64)),
    Index(None, "origin", "id"),
)
