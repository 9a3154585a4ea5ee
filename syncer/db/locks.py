"""Every lock syncer takes, in one place, so what serialises what can be read at a glance."""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

__all__ = ["exclusive", "lock_source", "lock_sources"]


def _key(name: str) -> int:
    """A PostgreSQL advisory lock key (a signed 64-bit integer) for a name."""
    digest = hashlib.blake2b(f"syncer:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_source(session: Session, source: str) -> None:
    """Serialise writers of one source for the rest of the transaction.

    PostgreSQL: a transaction-scoped advisory lock keyed by the source name. SQLite:
    the write session already holds the database's write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_key(source))))


def lock_sources(session: Session, sources: Iterable[str]) -> None:
    """``lock_source`` for several sources, in one order everywhere so two callers cannot
    deadlock: what reads every source's state (the stale check) must not race a sync."""
    for source in sorted(sources):
        lock_source(session, source)


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[bool]:
    """Try to become the one process doing ``name`` (alert delivery); yields whether it did.

    PostgreSQL: a session-level advisory lock, released at the end, or by the server when
    the process dies. SQLite: an exclusive ``flock`` on a file beside the database, which
    every process on the host sees and the kernel releases when the holder dies; the
    database's own lock cannot serve, as holding it would stop syncs while alerts are sent.
    """
    if engine.dialect.name == "postgresql":
        with _advisory(engine, name) as mine:
            yield mine
        return
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        yield True  # one process only, or a URI whose file is not ours to name
        return
    with open(f"{database}-{name}.lock", "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _advisory(engine: Engine, name: str) -> Iterator[bool]:
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        mine = bool(connection.scalar(select(func.pg_try_advisory_lock(_key(name)))))
        try:
            yield mine
        finally:
            if mine:
                connection.execute(select(func.pg_advisory_unlock(_key(name))))
