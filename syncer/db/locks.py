"""Every lock syncer takes, in one place, so what serialises what can be read at a glance.

Two kinds:

- **Transaction locks** serialise writers of one source (``lock_source``): a PostgreSQL
  advisory lock held until commit, or SQLite's write lock. They make racing writers safe.
- **Leases** (the ``leases`` table) make replicas of ``syncer run`` share the work instead of
  repeating it: a replica takes a job's lease only when it is free, renews it while it works
  and frees it when done. A replica that dies, even by SIGKILL, stops renewing, and its lease
  frees itself at ``expires_at``, within one lease period. Leases are an economy, not what
  keeps the history exact (the transaction locks are): two holders at once (a replica that
  stalled past its lease) cost a repeated sync, never a repeated event.

Lease times come from each replica's own clock, so replicas' clocks must agree (NTP).
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Connection, Engine, Row, bindparam, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import ColumnElement

from syncer.config.model import DEFAULT_LEASE
from syncer.db.engine import connection_of, write_transaction
from syncer.db.tables import leases_table
from syncer.db.upsert import insert_for
from syncer.errors import first_line

if TYPE_CHECKING:
    from sqlalchemy.orm import Session
from syncer.timeutil import utcnow

__all__ = [
    "REPLICA",
    "Claim",
    "exclusive",
    "free_held",
    "lease",
    "lease_rows",
    "lock_migrations",
    "lock_source",
    "lock_sources",
]

log = logging.getLogger(__name__)
_lease = leases_table.c

#: This process, as lease holders and ``/metrics`` name it.
REPLICA = f"{socket.gethostname()}:{os.getpid()}"

#: The leases this process holds now, with their heartbeats' stop events: a process that
#: exits without finishing the work under them frees them first (``free_held``).
_held: dict[int, tuple[Engine, Claim, threading.Event]] = {}
_held_lock = threading.Lock()


def _key(name: str) -> int:
    """A PostgreSQL advisory lock key (a signed 64-bit integer) for a name."""
    digest = hashlib.blake2b(f"syncer:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


#: Built once: a sync takes one per source, and building it cost more than running it.
_ADVISORY_LOCK = select(func.pg_advisory_xact_lock(bindparam("key", type_=BigInteger)))


def lock_source(db: Connection | Session, source: str) -> None:
    """Serialise writers of one source for the rest of the transaction.

    PostgreSQL: a transaction-scoped advisory lock keyed by the source name. SQLite:
    the write transaction already holds the database's write lock.
    """
    connection = connection_of(db)
    if connection.dialect.name == "postgresql":
        connection.execute(_ADVISORY_LOCK, {"key": _key(source)})


def lock_migrations(connection: Connection) -> None:
    """Serialise schema upgrades for the rest of the transaction: replicas that start
    together on an empty PostgreSQL database would otherwise each create the tables.
    SQLite's DDL already takes the write lock."""
    if connection.dialect.name == "postgresql":
        connection.execute(_ADVISORY_LOCK, {"key": _key("migrations")})


def lock_sources(db: Connection | Session, sources: Iterable[str]) -> None:
    """``lock_source`` for several sources, in one order everywhere so two callers cannot
    deadlock: what reads every source's state (the stale check) must not race a sync."""
    for source in sorted(sources):
        lock_source(db, source)


@dataclass(frozen=True)
class Claim:
    """The answer to "may this replica do job ``name`` now?".

    ``mine`` says whether it may; otherwise ``holder`` is the replica doing it and
    ``expires_at`` when its lease runs out unless renewed. ``acquired_at`` identifies one
    holding, so a replica renews or frees only the lease it took.
    """

    name: str
    mine: bool
    holder: str
    acquired_at: datetime
    expires_at: datetime


_lease_takes: dict[str, Any] = {}


def _take_statement(dialect: str) -> Any:
    """The upsert that takes a free lease, built once per dialect: a replica of ``syncer
    run`` takes one per sync, and building it cost more than running it."""
    if dialect not in _lease_takes:
        now = bindparam("now", type_=_lease.acquired_at.type)
        values = insert_for(dialect)(leases_table).values(
            name=bindparam("name"),
            holder=bindparam("holder"),
            acquired_at=now,
            expires_at=bindparam("until", type_=_lease.expires_at.type),
        )
        _lease_takes[dialect] = values.on_conflict_do_update(
            index_elements=["name"],
            set_={
                "holder": values.excluded.holder,
                "acquired_at": values.excluded.acquired_at,
                "expires_at": values.excluded.expires_at,
            },
            where=_lease.expires_at <= now,
        ).returning(_lease.holder, _lease.acquired_at, _lease.expires_at)
    return _lease_takes[dialect]


_HELD = select(leases_table).where(_lease.name == bindparam("name"))


def _take(engine: Engine, name: str, holder: str, period: timedelta, now: datetime) -> Claim:
    """Take the lease if it is free (or has never existed), in one write transaction: one
    statement when it is taken, a second to read who holds it when it is not."""
    statement = _take_statement(engine.dialect.name)
    with write_transaction(engine) as connection:
        taken = connection.execute(
            statement, {"name": name, "holder": holder, "now": now, "until": now + period}
        ).first()
        if taken is not None:
            return Claim(name, True, taken.holder, taken.acquired_at, taken.expires_at)
        row = connection.execute(_HELD, {"name": name}).one()
        return Claim(name, False, row.holder, row.acquired_at, row.expires_at)


def _holding(claim: Claim) -> tuple[ColumnElement[bool], ...]:
    return (
        _lease.name == claim.name,
        _lease.holder == claim.holder,
        _lease.acquired_at == claim.acquired_at,
    )


def _renew(engine: Engine, claim: Claim, period: timedelta, now: datetime) -> bool:
    """Push the lease's expiry on; False when it is no longer this holding's."""
    with write_transaction(engine) as connection:
        result = connection.execute(
            update(leases_table).where(*_holding(claim)).values(expires_at=now + period)
        )
        return bool(result.rowcount)


def _free(engine: Engine, claim: Claim, now: datetime) -> None:
    """Free the lease at once (the row stays, naming the last holder)."""
    with write_transaction(engine) as connection:
        connection.execute(update(leases_table).where(*_holding(claim)).values(expires_at=now))


def _heartbeat(
    engine: Engine,
    claim: Claim,
    period: timedelta,
    now: Callable[[], datetime],
    stop: threading.Event,
) -> None:
    """Renew every third of the period, so one late renewal does not lose the lease."""
    while not stop.wait(period.total_seconds() / 3):
        try:
            if not _renew(engine, claim, period, now()):
                log.warning(
                    "lease %s was taken over by another replica after it expired; "
                    "this run finishes, and the history stays exact",
                    claim.name,
                )
                return
        except SQLAlchemyError as exc:
            log.warning("lease %s: cannot renew: %s", claim.name, first_line(exc))


@contextmanager
def lease(
    engine: Engine,
    name: str,
    period: timedelta = DEFAULT_LEASE,
    *,
    holder: str = REPLICA,
    now: Callable[[], datetime] = utcnow,
    wait: timedelta = timedelta(0),
) -> Iterator[Claim]:
    """Try to become the one replica doing ``name``; yields the claim, ``mine`` or not.

    With ``wait``, a held lease is tried again (every second or so) for that long first.
    While the block runs, a thread renews the lease; at the end it is freed. A lease is
    never re-entrant: a second ``lease`` on the same name in the same process waits its turn
    like any other replica.
    """
    claim = _take(engine, name, holder, period, now())
    deadline = time.monotonic() + wait.total_seconds()
    while not claim.mine and time.monotonic() < deadline:
        time.sleep(min(1.0, period.total_seconds() / 10))
        claim = _take(engine, name, holder, period, now())
    if not claim.mine:
        yield claim
        return
    stop = threading.Event()
    beat = threading.Thread(
        target=_heartbeat,
        args=(engine, claim, period, now, stop),
        name=f"syncer-lease-{name}",
        daemon=True,
    )
    beat.start()
    with _held_lock:
        _held[id(stop)] = (engine, claim, stop)
    try:
        yield claim
    finally:
        with _held_lock:
            _held.pop(id(stop), None)
        stop.set()
        beat.join()
        try:
            _free(engine, claim, now())
        except SQLAlchemyError as exc:
            log.warning(
                "lease %s: cannot free it, it expires by itself at %s: %s",
                name,
                claim.expires_at.isoformat(),
                first_line(exc),
            )


def free_held(timeout: float) -> list[str]:
    """Free every lease this process holds, before it exits without finishing the work under
    them (an abandoned sync rolls back): another replica, or the next start, then takes them
    at once instead of when they run out. At most ``timeout`` seconds: a lease the database
    cannot free in time (a write lock held by the abandoned work) runs out by itself.
    Returns the names of the leases freed."""
    with _held_lock:
        holdings = list(_held.values())
    freed: list[str] = []

    def free_all() -> None:
        for engine, claim, stop in holdings:
            stop.set()  # no renewal after this (one already under way may still land)
            try:
                _free(engine, claim, utcnow())
            except SQLAlchemyError as exc:
                log.warning(
                    "lease %s: cannot free it, it expires by itself at %s: %s",
                    claim.name,
                    claim.expires_at.isoformat(),
                    first_line(exc),
                )
                continue
            freed.append(claim.name)

    worker = threading.Thread(target=free_all, name="syncer-free-leases", daemon=True)
    worker.start()
    worker.join(timeout)
    return sorted(freed)


@contextmanager
def exclusive(engine: Engine, name: str, period: timedelta = DEFAULT_LEASE) -> Iterator[bool]:
    """Try to become the one process doing ``name`` (alert delivery); yields whether it did."""
    with lease(engine, name, period) as claim:
        yield claim.mine


def lease_rows(db: Connection | Session) -> list[Row[Any]]:
    """Every lease, held or free, by name: rows of ``leases``."""
    return list(connection_of(db).execute(select(leases_table).order_by(_lease.name)))
