"""Every lock syncer takes, in one place, so what serialises what can be read at a glance."""

from __future__ import annotations

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
    the process dies. SQLite is one host and one writer: the caller's own lock suffices.
    """
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        mine = bool(connection.scalar(select(func.pg_try_advisory_lock(_key(name)))))
        try:
            yield mine
        finally:
            if mine:
                connection.execute(select(func.pg_advisory_unlock(_key(name))))
