"""Every lock syncer takes, in one place, so what serialises what can be read at a glance."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session

__all__ = ["lock_source"]


def lock_source(session: Session, source: str) -> None:
    """Serialise writers of one source for the rest of the transaction.

    PostgreSQL: a transaction-scoped advisory lock keyed by the source name. SQLite:
    the write session already holds the database's write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.blake2b(f"syncer:{source}".encode(), digest_size=8).digest()
        key = int.from_bytes(digest, "big", signed=True)
        session.execute(select(func.pg_advisory_xact_lock(key)))
