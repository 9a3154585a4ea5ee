"""Reporting views: current_models, model_availability and inventory_daily.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

The views are a public interface for people writing SQL: the same names, columns and
meaning on SQLite and PostgreSQL. Only date arithmetic differs between the two, so each
view is written once per dialect where it must be, and the rest is shared text.
Presence follows the event log: ``added`` and ``reappeared`` start an interval,
``vanished`` and ``deleted`` end one.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Dropped in reverse: inventory_daily reads model_availability.
VIEWS = ("current_models", "model_availability", "inventory_daily")


def _base_model(dialect: str) -> str:
    """The model a fine-tune was trained from: ``ft:BASE:org:...`` or legacy ``BASE:ft-org-...``."""
    if dialect == "postgresql":
        return """CASE
            WHEN left(model_id, 3) = 'ft:' THEN NULLIF(split_part(substr(model_id, 4), ':', 1), '')
            WHEN strpos(model_id, ':ft-') > 0
                THEN NULLIF(left(model_id, strpos(model_id, ':ft-') - 1), '')
        END"""
    return """CASE
            WHEN substr(model_id, 1, 3) = 'ft:' THEN NULLIF(CASE
                WHEN instr(substr(model_id, 4), ':') > 0
                    THEN substr(model_id, 4, instr(substr(model_id, 4), ':') - 1)
                ELSE substr(model_id, 4)
            END, '')
            WHEN instr(model_id, ':ft-') > 0
                THEN NULLIF(substr(model_id, 1, instr(model_id, ':ft-') - 1), '')
        END"""


#: The current moment, as each dialect writes it inside date arithmetic.
NOW = {"postgresql": "now()", "sqlite": "'now'"}


def _days(dialect: str, start: str, end: str) -> str:
    """Fractional days from ``start`` to ``end``, both timestamps (or ``NOW``)."""
    if dialect == "postgresql":
        return f"EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0"
    return f"julianday({end}) - julianday({start})"


def _whole_days(dialect: str, start: str, end: str) -> str:
    """Whole days, truncated toward zero on both databases."""
    days = _days(dialect, start, end)
    return f"CAST({'TRUNC(' + days + ')' if dialect == 'postgresql' else days} AS INTEGER)"


def _current_models(dialect: str) -> str:
    now = NOW[dialect]
    return f"""
    CREATE VIEW current_models AS
    SELECT
        source,
        model_id,
        owned_by,
        created_at,
        {_whole_days(dialect, "created_at", now)} AS age_days,
        is_fine_tuned,
        {_base_model(dialect)} AS base_model,
        shutdown_at,
        {_whole_days(dialect, now, "shutdown_at")} AS days_to_shutdown,
        first_seen_at,
        last_seen_at
    FROM models
    WHERE vanished_at IS NULL AND deleted_at IS NULL
    """


def _model_availability(dialect: str) -> str:
    until = f"COALESCE(available_until, {NOW[dialect]})"
    days = _days(dialect, "available_from", until)
    return f"""
    CREATE VIEW model_availability AS
    WITH presence AS (
        SELECT
            source,
            model_id,
            kind,
            occurred_at,
            LEAD(occurred_at) OVER (
                PARTITION BY source, model_id ORDER BY occurred_at, id
            ) AS next_at,
            LEAD(kind) OVER (PARTITION BY source, model_id ORDER BY occurred_at, id) AS next_kind
        FROM model_events
        WHERE kind IN ('added', 'reappeared', 'vanished', 'deleted')
    ),
    intervals AS (
        SELECT
            source,
            model_id,
            ROW_NUMBER() OVER (
                PARTITION BY source, model_id ORDER BY occurred_at
            ) AS interval_number,
            occurred_at AS available_from,
            next_at AS available_until,
            kind AS started_by,
            next_kind AS ended_by
        FROM presence
        WHERE kind IN ('added', 'reappeared')
    )
    SELECT
        source,
        model_id,
        interval_number,
        available_from,
        available_until,
        started_by,
        ended_by,
        ROUND(CAST({days} AS NUMERIC), 3) AS days_available
    FROM intervals
    """


def _day_series(dialect: str) -> str:
    """Every day from the source's first event to today (UTC), as rows (source, day)."""
    if dialect == "postgresql":
        return """
    first_days AS (
        SELECT source, MIN(CAST(occurred_at AT TIME ZONE 'UTC' AS DATE)) AS day
        FROM model_events GROUP BY source
    ),
    days AS (
        SELECT f.source, CAST(g.day AS DATE) AS day
        FROM first_days f
        CROSS JOIN LATERAL generate_series(
            CAST(f.day AS TIMESTAMP),
            CAST(CAST(now() AT TIME ZONE 'UTC' AS DATE) AS TIMESTAMP),
            INTERVAL '1 day'
        ) AS g(day)
    )"""
    return """
    first_days AS (
        SELECT source, MIN(date(occurred_at)) AS day FROM model_events GROUP BY source
    ),
    days(source, day) AS (
        SELECT source, day FROM first_days WHERE day <= date('now')
        UNION ALL
        SELECT source, date(day, '+1 day') FROM days WHERE day < date('now')
    )"""


def _inventory_daily(dialect: str) -> str:
    if dialect == "postgresql":
        with_clause = "WITH"

        def day_of(column: str) -> str:
            return f"CAST({column} AT TIME ZONE 'UTC' AS DATE)"
    else:
        with_clause = "WITH RECURSIVE"

        def day_of(column: str) -> str:
            return f"date({column})"

    counts = ",\n            ".join(
        f"SUM(CASE WHEN kind = '{kind}' THEN 1 ELSE 0 END) AS {kind}"
        for kind in ("added", "reappeared", "vanished", "deleted", "changed")
    )
    return f"""
    CREATE VIEW inventory_daily AS
    {with_clause}{_day_series(dialect)},
    counts AS (
        SELECT
            source,
            {day_of("occurred_at")} AS day,
            {counts}
        FROM model_events
        GROUP BY source, {day_of("occurred_at")}
    ),
    deltas AS (
        SELECT source, day, SUM(delta) AS delta FROM (
            SELECT source, {day_of("available_from")} AS day, 1 AS delta
            FROM model_availability
            UNION ALL
            SELECT source, {day_of("available_until")} AS day, -1 AS delta
            FROM model_availability WHERE available_until IS NOT NULL
        ) AS moves
        GROUP BY source, day
    )
    SELECT
        d.source,
        d.day,
        CAST(SUM(COALESCE(m.delta, 0)) OVER (
            PARTITION BY d.source ORDER BY d.day
        ) AS INTEGER) AS present,
        COALESCE(c.added, 0) AS added,
        COALESCE(c.reappeared, 0) AS reappeared,
        COALESCE(c.vanished, 0) AS vanished,
        COALESCE(c.deleted, 0) AS deleted,
        COALESCE(c.changed, 0) AS changed
    FROM days d
    LEFT JOIN counts c ON c.source = d.source AND c.day = d.day
    LEFT JOIN deltas m ON m.source = d.source AND m.day = d.day
    """


def upgrade() -> None:
    # Sent as written: the colons in 'ft:' would otherwise read as bind parameters.
    bind = op.get_bind()
    for statement in (_current_models, _model_availability, _inventory_daily):
        bind.exec_driver_sql(statement(bind.dialect.name))


def downgrade() -> None:
    for view in reversed(VIEWS):
        op.execute(f"DROP VIEW {view}")
