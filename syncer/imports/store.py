"""``import_runs``: an import's attempts, read for the next fetch and for ``doctor``/``/healthz``.

Core only, a fixed number of statements each: ``applied`` is two, ``latest`` one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select

from syncer.db.engine import connection_of
from syncer.db.tables import deprecations_table, import_runs_table
from syncer.imports.plan import OK, UNCHANGED, Applied, Outcome

if TYPE_CHECKING:
    from sqlalchemy import Connection, Row
    from sqlalchemy.orm import Session

__all__ = ["applied", "done_since", "latest", "record"]

_r = import_runs_table.c


def applied(db: Connection | Session, origin: str) -> Applied | None:
    """The origin's latest ``ok`` import, and how many of its dates the table holds."""
    connection = connection_of(db)
    row = connection.execute(
        select(import_runs_table)
        .where(_r.origin == origin, _r.status == OK)
        .order_by(_r.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    held = connection.scalar(
        select(func.count())
        .select_from(deprecations_table)
        .where(deprecations_table.c.origin == origin)
    )
    return Applied(
        row.finished_at,
        row.etag,
        row.last_modified,
        row.body_digest,
        row.config_digest,
        row.entries or 0,
        held or 0,
    )


def done_since(db: Connection | Session, origin: str, since: datetime) -> Row[Any] | None:
    """The origin's latest attempt since ``since`` that left its dates as the file says
    (``ok`` or ``unchanged``), if any: a failed one does not count."""
    return (
        connection_of(db)
        .execute(
            select(import_runs_table)
            .where(_r.origin == origin, _r.status.in_((OK, UNCHANGED)), _r.started_at >= since)
            .order_by(_r.id.desc())
            .limit(1)
        )
        .first()
    )


def record(db: Connection | Session, outcome: Outcome) -> None:
    """One attempt's row, in the caller's transaction (an ``ok`` one: the import's own)."""
    connection_of(db).execute(
        insert(import_runs_table).values(
            origin=outcome.origin,
            started_at=outcome.started_at,
            finished_at=outcome.finished_at,
            status=outcome.status,
            entries=outcome.entries,
            changed=outcome.changed,
            error=outcome.error,
            etag=outcome.etag,
            last_modified=outcome.last_modified,
            body_digest=outcome.body_digest,
            config_digest=outcome.config_digest,
        )
    )


def latest(db: Connection | Session, origins: Iterable[str]) -> dict[str, Row[Any] | None]:
    """Each origin's latest attempt (None: never tried), and its latest ``ok`` one's time as
    ``last_ok_at``: one statement."""
    wanted = list(origins)
    if not wanted:
        return {}
    last = (
        select(_r.origin, func.max(_r.id).label("id"))
        .where(_r.origin.in_(wanted))
        .group_by(_r.origin)
        .subquery()
    )
    last_ok = (
        select(_r.origin, func.max(_r.finished_at).label("last_ok_at"))
        .where(_r.origin.in_(wanted), _r.status == OK)
        .group_by(_r.origin)
        .subquery()
    )
    rows = connection_of(db).execute(
        select(import_runs_table, last_ok.c.last_ok_at)
        .join(last, last.c.id == _r.id)
        .outerjoin(last_ok, last_ok.c.origin == _r.origin)
    )
    found: dict[str, Row[Any] | None] = dict.fromkeys(wanted)
    found.update((row.origin, row) for row in rows)
    return found
