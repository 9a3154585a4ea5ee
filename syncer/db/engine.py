"""Engines and sessions with syncer's connection rules, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

__all__ = ["make_engine", "read_session", "write_session"]


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
