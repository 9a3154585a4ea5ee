"""Where models are used: the ``model_usages`` table that ``syncer scan --record`` writes.

Core only, no ORM: ``syncer models`` reads the counts on every call and must start fast.

**The latest scan of a repository** is the set of its rows whose ``scanned_at`` is the
greatest of its rows. ``record_usages`` replaces a repository's rows in one transaction, so
that is all of them; rows loaded by other means that mix scans count only the newest one. A
repository whose latest recorded scan found nothing has no rows left, so nothing says it
uses anything: a model is in use exactly where a row of a latest scan says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, and_, delete, func, select

from syncer.db.tables import model_usages_table

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from syncer.scan.places import Place
    from syncer.scan.verdict import Finding

__all__ = ["Scan", "latest_usages", "record_usages", "recorded_scans", "usage_counts"]


def record_usages(
    connection: Connection, repository: str, findings: Sequence[Finding], now: datetime
) -> int:
    """Replace ``repository``'s recorded uses with these findings: two statements, in the
    caller's transaction, so a reader sees the old set or the new one, never a mix."""
    usages = model_usages_table
    connection.execute(delete(usages).where(usages.c.repository == repository))
    rows = [
        {
            "repository": repository,
            "path": f.path.removeprefix("./"),
            "line": f.line,
            "column": f.column,
            "model_id": f.verdict.model_id,
            "verdict": f.verdict.kind,
            "scanned_at": now,
        }
        for f in findings
    ]
    if rows:
        connection.execute(usages.insert(), rows)
    return len(rows)


def usage_counts(connection: Connection | Session) -> dict[str, int]:
    """How many recorded uses each model has, over every repository, keyed by
    ``matcher.normalise`` of its id: look a model up by ``normalise(model_id)``, so a use
    written ``openai/gpt-4o`` counts for ``gpt-4o`` here as it does for the alerts'
    ``InUse``."""
    from syncer.scan.matcher import normalise

    usages = model_usages_table.c
    query = select(usages.model_id, func.count()).group_by(usages.model_id)
    counts: dict[str, int] = {}
    for model_id, count in connection.execute(query):
        key = normalise(model_id)
        counts[key] = counts.get(key, 0) + count
    return counts


def latest_usages(connection: Connection | Session) -> list[tuple[Place, str]]:
    """Every use the latest scan of each repository found, with its model id as stored:
    one statement, whatever the number of repositories."""
    from syncer.scan.places import Place

    usages = model_usages_table.c
    latest = (
        select(usages.repository, func.max(usages.scanned_at).label("scanned_at"))
        .group_by(usages.repository)
        .subquery()
    )
    query = (
        select(usages.repository, usages.path, usages.line, usages.model_id)
        .join(
            latest,
            and_(
                usages.repository == latest.c.repository, usages.scanned_at == latest.c.scanned_at
            ),
        )
        .order_by(usages.repository, usages.path, usages.line, usages.column)
    )
    return [
        (Place(repository, path, line), model_id)
        for repository, path, line, model_id in connection.execute(query)
    ]


@dataclass(frozen=True, slots=True)
class Scan:
    """A repository's latest recorded scan: when, and how many uses it found."""

    repository: str
    scanned_at: datetime
    uses: int


def recorded_scans(connection: Connection | Session) -> list[Scan]:
    """Each repository's latest recorded scan, by name: one statement."""
    usages = model_usages_table.c
    latest = (
        select(usages.repository, func.max(usages.scanned_at).label("scanned_at"))
        .group_by(usages.repository)
        .subquery()
    )
    query = (
        select(usages.repository, latest.c.scanned_at, func.count())
        .join(
            latest,
            and_(
                usages.repository == latest.c.repository, usages.scanned_at == latest.c.scanned_at
            ),
        )
        .group_by(usages.repository, latest.c.scanned_at)
        .order_by(usages.repository)
    )
    return [
        Scan(repository, scanned_at, count)
        for repository, scanned_at, count in connection.execute(query)
    ]
