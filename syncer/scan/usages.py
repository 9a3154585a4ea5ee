"""Where models are used: the ``model_usages`` table that ``syncer scan --record`` writes.

Core only, no ORM: ``syncer models`` reads the counts on every call and must start fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, func, select

from syncer.db.tables import model_usages_table

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from syncer.scan.verdict import Finding

__all__ = ["record_usages", "usage_counts"]


def record_usages(
    connection: Connection, repository: str, findings: Sequence[Finding], now: datetime
) -> int:
    """Replace ``repository``'s recorded uses with these findings: two statements, in the
    caller's transaction, so a reader sees the old set or the new one, never a mix."""
    usages = model_usages_table
    connection.execute(delete(usages).where(usages.c.repository == repository))
    rows = [
        {"repository": repository, "path": f.path.removeprefix("./"), "line": f.line,
         "column": f.column, "model_id": f.verdict.model_id, "verdict": f.verdict.kind,
         "scanned_at": now}
        for f in findings
    ]
    if rows:
        connection.execute(usages.insert(), rows)
    return len(rows)


def usage_counts(connection: Connection | Session) -> dict[str, int]:
    """How many recorded uses each model id has, over every repository."""
    usages = model_usages_table.c
    query = select(usages.model_id, func.count()).group_by(usages.model_id)
    return {model_id: count for model_id, count in connection.execute(query)}
