"""current_models.days_to_shutdown rounds up, as the countdown alerts and `deprecations` do.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

0002 truncated toward zero, so a shutdown 50.5 days away read 50 in ``report shutdowns`` and
51 everywhere else. Both rules now count whole days rounded up (0 or less once the date
has come). SQLite has no ``CEIL`` without its math extension, so the ceiling is spelled
out: the truncation plus one when something is left over. Only this column changes; the
view is recreated around it (SQLite cannot alter a view).
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _base_model(dialect: str) -> str:
    """As in 0002: the model a fine-tune was trained from."""
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


def _age_days(dialect: str) -> str:
    """As in 0002: whole days since created_at, truncated."""
    if dialect == "postgresql":
        return "CAST(TRUNC(EXTRACT(EPOCH FROM (now() - created_at)) / 86400.0) AS INTEGER)"
    return "CAST(julianday('now') - julianday(created_at) AS INTEGER)"


def _days_to_shutdown(dialect: str, rounding: str) -> str:
    if dialect == "postgresql":
        days = "EXTRACT(EPOCH FROM (shutdown_at - now())) / 86400.0"
        return f"CAST({'CEIL' if rounding == 'up' else 'TRUNC'}({days}) AS INTEGER)"
    days = "(julianday(shutdown_at) - julianday('now'))"
    if rounding == "up":
        return (
            f"CAST({days} AS INTEGER) + CASE WHEN {days} > CAST({days} AS INTEGER) "
            "THEN 1 ELSE 0 END"
        )
    return f"CAST({days} AS INTEGER)"


def _current_models(dialect: str, rounding: str) -> str:
    return f"""
    CREATE VIEW current_models AS
    SELECT
        source,
        model_id,
        owned_by,
        created_at,
        {_age_days(dialect)} AS age_days,
        is_fine_tuned,
        {_base_model(dialect)} AS base_model,
        shutdown_at,
        {_days_to_shutdown(dialect, rounding)} AS days_to_shutdown,
        first_seen_at,
        last_seen_at
    FROM models
    WHERE vanished_at IS NULL AND deleted_at IS NULL
    """


def _recreate(rounding: str) -> None:
    # Sent as written: the colons in 'ft:' would otherwise read as bind parameters.
    bind = op.get_bind()
    op.execute("DROP VIEW current_models")
    bind.exec_driver_sql(_current_models(bind.dialect.name, rounding))


def upgrade() -> None:
    _recreate("up")


def downgrade() -> None:
    _recreate("toward zero")
