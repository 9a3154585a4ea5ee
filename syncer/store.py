"""The database: tables, engines, and the small statements of a sync (``bulk`` has the big ones).

The schema is a public interface (people write SQL against it) and Alembic owns it:
these classes describe it for the code, ``migrations/`` creates it. Functions here take
a session and never commit: the caller owns the transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    create_engine,
    event,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database.

    SQLite has no time zones: values are stored as naive UTC and given their zone back
    on read, so Python only ever sees aware UTC datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: syncer stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# None is SQL NULL, not the JSON text 'null': ``old_values IS NULL`` means what it says.
JSONDocument = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

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


class Model(Base):
    """The current state of every model ever seen, one row per (source, model id)."""

    __tablename__ = "models"
    #: Room on each page to rewrite last_seen_at in place each sync (see migration 0001).
    __table_args__ = ({"postgresql_with": {"fillfactor": 50}},)

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    object: Mapped[str | None] = mapped_column(Text)
    created: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    owned_by: Mapped[str | None] = mapped_column(Text)
    is_fine_tuned: Mapped[bool] = mapped_column(Boolean)
    shutdown_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    raw: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    #: Fingerprint of ``raw`` (``payload.raw_digest``): a sync skips models whose is unchanged.
    raw_digest: Mapped[str | None] = mapped_column(String(32))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    vanished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set when syncer's retention rule deleted the model at the provider.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


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


models_table = Model.__table__
events_table = ModelEvent.__table__


def make_engine(url: str) -> Engine:
    """An engine with syncer's connection rules: psycopg 3 for PostgreSQL, sane SQLite.

    SQLite gets WAL (readers don't wait for the syncer), a 30 s busy timeout, and
    ``BEGIN IMMEDIATE`` for write transactions so two syncs queue on the write lock
    instead of failing halfway.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    engine = create_engine(parsed, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if parsed.database and parsed.database != ":memory:":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("syncer_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def write_session(engine: Engine) -> Session:
    """A session for a transaction that writes: on SQLite it takes the write lock first."""
    return Session(engine.execution_options(syncer_write=True), expire_on_commit=False)


def read_session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


def lock_source(session: Session, source: str) -> None:
    """Serialise writers of one source for the rest of the transaction.

    PostgreSQL: a transaction-scoped advisory lock keyed by the source name. SQLite:
    the write session already holds the database's write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.blake2b(f"syncer:{source}".encode(), digest_size=8).digest()
        key = int.from_bytes(digest, "big", signed=True)
        session.execute(select(func.pg_advisory_xact_lock(key)))


def latest_run(session: Session, source: str, status: str | None = None) -> SyncRun | None:
    query = select(SyncRun).where(SyncRun.source == source)
    if status is not None:
        query = query.where(SyncRun.status == status)
    return session.scalars(query.order_by(SyncRun.id.desc()).limit(1)).first()


def add_run(session: Session, **values: Any) -> SyncRun:
    run = SyncRun(**values)
    session.add(run)
    session.flush()
    return run


def touch_present(session: Session, source: str, now: datetime) -> None:
    """Record that every present model was listed at ``now``.

    Rows that already say ``now`` (the sync's upsert just wrote them) are not rewritten.
    """
    m = models_table.c
    session.execute(
        update(models_table)
        .where(m.source == source, m.vanished_at.is_(None), m.last_seen_at != now)
        .values(last_seen_at=now)
    )


def add_events(session: Session, events: Sequence[Mapping[str, Any]]) -> None:
    if events:
        session.execute(events_table.insert(), list(events))

