"""Canned reports: named SQL queries over the reporting views, the same text on both databases.

The views (migrations 0002 to 0004) hide what differs between SQLite and PostgreSQL, so each
report is one portable statement. Parameters are bound when a report runs: ``:source``
(NULL for every source), and per report ``:since``, ``:until`` or ``:since_day`` computed
from ``--days``. ``syncer report NAME --sql`` prints the statement with those values
written in by SQLAlchemy's literal rendering for the database in use, to paste as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from sqlalchemy import Date, Float, String, TextClause, bindparam, column, text
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from syncer.db.types import JSONDocument, UTCDateTime
from syncer.lifecycle import ENDING

__all__ = ["REPORTS", "Report", "run", "sql_text"]

#: Every source, or only the one bound to :source.
SOURCE_FILTER = "(CAST(:source AS VARCHAR(64)) IS NULL OR {table}.source = :source)"
#: ``lifecycle.ENDING`` as SQL literals: the statuses that say a model is going.
ENDING_LIST = ", ".join(f"'{status}'" for status in sorted(ENDING))

#: How report columns read back, so both databases give the same Python values.
COLUMN_TYPES: Mapping[str, TypeEngine[Any]] = {
    **dict.fromkeys(
        (
            "occurred_at",
            "created_at",
            "oldest_created_at",
            "newest_created_at",
            "shutdown_at",
            "first_seen_at",
            "last_seen_at",
            "last_attempt_at",
            "last_ok_at",
        ),
        UTCDateTime(),
    ),
    **dict.fromkeys(("old_values", "new_values", "details"), JSONDocument()),
    "day": Date(),
    "average_age_days": Float(),
}
PARAMETER_TYPES: Mapping[str, TypeEngine[Any]] = {
    "source": String(64),
    "since": UTCDateTime(),
    "until": UTCDateTime(),
    "since_day": Date(),
}


@dataclass(frozen=True)
class Report:
    """One named question and the SQL that answers it."""

    name: str
    summary: str
    sql: str
    columns: tuple[str, ...]
    #: The default of ``--days``; None when the report takes no ``--days``.
    days: int | None = None

    def parameters(self, *, days: int | None, source: str | None, now: datetime) -> dict[str, Any]:
        """The values of the parameters this report's SQL uses; ``days`` None: its default."""
        if days is not None and self.days is None:
            raise ValueError(f"report {self.name!r} takes no --days")
        span = timedelta(days=days or self.days or 0)
        values = {
            "source": source,
            "since": now - span,
            "until": now + span,
            "since_day": now.date() - span + timedelta(days=1),
        }
        used = set(re.findall(r"(?<!:):(\w+)", self.sql))
        return {name: value for name, value in values.items() if name in used}


REPORTS: dict[str, Report] = {
    r.name: r
    for r in (
        Report(
            "changes",
            "Every event (added, vanished, reappeared, changed, deleted) of the last N days "
            "(default 7), newest first.",
            f"""SELECT
    e.occurred_at,
    e.source,
    e.model_id,
    e.kind,
    e.old_values,
    e.new_values,
    e.details
FROM model_events e
WHERE e.occurred_at >= :since AND {SOURCE_FILTER.format(table="e")}
ORDER BY e.occurred_at DESC, e.id DESC""",
            ("occurred_at", "source", "model_id", "kind", "old_values", "new_values", "details"),
            days=7,
        ),
        Report(
            "fine-tunes",
            "Present fine-tunes per source and base model, counted by age since created.",
            f"""SELECT
    m.source,
    m.base_model,
    COUNT(*) AS fine_tunes,
    SUM(CASE WHEN m.age_days < 30 THEN 1 ELSE 0 END) AS under_30_days,
    SUM(CASE WHEN m.age_days >= 30 AND m.age_days < 90 THEN 1 ELSE 0 END) AS days_30_to_89,
    SUM(CASE WHEN m.age_days >= 90 AND m.age_days < 365 THEN 1 ELSE 0 END) AS days_90_to_364,
    SUM(CASE WHEN m.age_days >= 365 THEN 1 ELSE 0 END) AS days_365_or_more,
    SUM(CASE WHEN m.age_days IS NULL THEN 1 ELSE 0 END) AS unknown_age,
    ROUND(AVG(m.age_days), 1) AS average_age_days,
    MIN(m.created_at) AS oldest_created_at,
    MAX(m.created_at) AS newest_created_at
FROM current_models m
WHERE m.is_fine_tuned AND {SOURCE_FILTER.format(table="m")}
GROUP BY m.source, m.base_model
ORDER BY m.source, fine_tunes DESC, COALESCE(m.base_model, '')""",
            (
                "source",
                "base_model",
                "fine_tunes",
                "under_30_days",
                "days_30_to_89",
                "days_90_to_364",
                "days_365_or_more",
                "unknown_age",
                "average_age_days",
                "oldest_created_at",
                "newest_created_at",
            ),
        ),
        Report(
            "owners",
            "Present models per source and owning organisation (owned_by), largest first.",
            f"""SELECT
    m.source,
    m.owned_by,
    COUNT(*) AS models,
    SUM(CASE WHEN m.is_fine_tuned THEN 1 ELSE 0 END) AS fine_tunes,
    MIN(m.created_at) AS oldest_created_at,
    MAX(m.created_at) AS newest_created_at
FROM current_models m
WHERE {SOURCE_FILTER.format(table="m")}
GROUP BY m.source, m.owned_by
ORDER BY m.source, models DESC, COALESCE(m.owned_by, '')""",
            (
                "source",
                "owned_by",
                "models",
                "fine_tunes",
                "oldest_created_at",
                "newest_created_at",
            ),
        ),
        Report(
            "failed-sources",
            "Sources whose latest sync failed or was held, with its error and the last success.",
            f"""SELECT
    r.source,
    r.status,
    r.finished_at AS last_attempt_at,
    r.error,
    (SELECT MAX(o.finished_at) FROM sync_runs o
     WHERE o.source = r.source AND o.status = 'ok') AS last_ok_at,
    (SELECT COUNT(*) FROM sync_runs f
     WHERE f.source = r.source AND f.status <> 'ok' AND f.id > COALESCE((
        SELECT MAX(o.id) FROM sync_runs o WHERE o.source = r.source AND o.status = 'ok'
     ), 0)) AS attempts_since_ok
FROM sync_runs r
WHERE r.id = (SELECT MAX(l.id) FROM sync_runs l WHERE l.source = r.source)
    AND r.status <> 'ok' AND {SOURCE_FILTER.format(table="r")}
ORDER BY r.source""",
            (
                "source",
                "status",
                "last_attempt_at",
                "error",
                "last_ok_at",
                "attempts_since_ok",
            ),
        ),
        Report(
            "daily",
            "Per source and day (UTC) of the last N days (default 30): models present at the "
            "end of the day, and the day's events.",
            f"""SELECT
    d.source,
    d.day,
    d.present,
    d.added,
    d.reappeared,
    d.vanished,
    d.deleted,
    d.changed,
    d.source_retired
FROM inventory_daily d
WHERE d.day >= :since_day AND {SOURCE_FILTER.format(table="d")}
ORDER BY d.source, d.day""",
            (
                "source",
                "day",
                "present",
                "added",
                "reappeared",
                "vanished",
                "deleted",
                "changed",
                "source_retired",
            ),
            days=30,
        ),
        Report(
            "shutdowns",
            "Present models whose shutdown date in force (the provider's, else an imported "
            "one) is past or within the next N days (default 90), soonest first, with where "
            "the date came from and the replacement; then those whose lifecycle status says "
            "they are going with no date known.",
            f"""SELECT
    m.source,
    m.model_id,
    m.owned_by,
    m.shutdown_at,
    m.days_to_shutdown,
    m.first_seen_at,
    m.replacement,
    m.date_source,
    m.date_origin,
    m.lifecycle_status
FROM current_models m
WHERE (m.shutdown_at <= :until
    OR (m.shutdown_at IS NULL AND m.lifecycle_status IN ({ENDING_LIST})))
    AND {SOURCE_FILTER.format(table="m")}
ORDER BY CASE WHEN m.shutdown_at IS NULL THEN 1 ELSE 0 END, m.shutdown_at, m.source,
    m.model_id""",
            (
                "source",
                "model_id",
                "owned_by",
                "shutdown_at",
                "days_to_shutdown",
                "first_seen_at",
                "replacement",
                "date_source",
                "date_origin",
                "lifecycle_status",
            ),
            days=90,
        ),
        Report(
            "same-models",
            "Models that more than one source offers (ids compared in lower case, without a "
            "leading vendor/ or models/ segment), with each source's shutdown date in force "
            "(the provider's, else an imported one) and where it came from.",
            """SELECT
    o.common_id,
    k.sources,
    o.source,
    o.model_id,
    o.display_name,
    o.shutdown_at,
    o.days_to_shutdown,
    o.date_source,
    o.replacement,
    o.date_origin
FROM model_offers o
JOIN (
    SELECT common_id, COUNT(DISTINCT source) AS sources
    FROM model_offers
    GROUP BY common_id
    HAVING COUNT(DISTINCT source) > 1
) k ON k.common_id = o.common_id
WHERE CAST(:source AS VARCHAR(64)) IS NULL
    OR o.common_id IN (SELECT f.common_id FROM model_offers f WHERE f.source = :source)
ORDER BY o.common_id, o.source, o.model_id""",
            (
                "common_id",
                "sources",
                "source",
                "model_id",
                "display_name",
                "shutdown_at",
                "days_to_shutdown",
                "date_source",
                "replacement",
                "date_origin",
            ),
        ),
    )
}


def _statement(report: Report, values: Mapping[str, Any]) -> TextClause:
    return text(report.sql).bindparams(
        *(bindparam(name, value, type_=PARAMETER_TYPES[name]) for name, value in values.items())
    )


def run(
    session: Session,
    report: Report,
    *,
    now: datetime,
    days: int | None = None,
    source: str | None = None,
) -> list[dict[str, Any]]:
    """The report's rows, keyed by its columns, as of ``now``."""
    values = report.parameters(days=days, source=source, now=now)
    statement = _statement(report, values).columns(
        *(column(name, COLUMN_TYPES.get(name)) for name in report.columns)
    )
    result = session.execute(statement)
    return [dict(zip(report.columns, row, strict=True)) for row in result]


def sql_text(
    report: Report,
    dialect: str,
    *,
    now: datetime,
    days: int | None = None,
    source: str | None = None,
) -> str:
    """The report's SQL with the options' values written in, in ``dialect`` (``sqlite`` or
    ``postgresql``): what ``run`` executes, to paste into ``sqlite3`` or ``psql`` as it is.

    Times are written as each database stores them (SQLite: naive UTC text), so the pasted
    query compares exactly as the bound one does.
    """
    values = report.parameters(days=days, source=source, now=now)
    module = import_module(f"sqlalchemy.dialects.{dialect}")
    compiled = _statement(report, values).compile(
        dialect=module.dialect(), compile_kwargs={"literal_binds": True}
    )
    return f"{compiled};"
