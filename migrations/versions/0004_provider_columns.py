"""Provider kinds: models.display_name, context_length, replacement; where imported dates came
from; the model_offers view that compares models across sources.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

The new columns are nullable: a kind fills those its list has (Anthropic a display name,
Mistral a replacement, ...), and rows synced before this revision get them at their next
change. ``model_offers`` holds every present model with the id it is compared by across
sources: the listed id without a leading ``vendor/`` (or ``models/``) segment, lower case,
so ``openai/gpt-4o`` on OpenRouter meets ``gpt-4o`` on OpenAI and Azure.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _common_id(dialect: str) -> str:
    find = "strpos(model_id, '/')" if dialect == "postgresql" else "instr(model_id, '/')"
    return f"lower(CASE WHEN {find} > 0 THEN substr(model_id, {find} + 1) ELSE model_id END)"


def _days_to_shutdown(dialect: str) -> str:
    """Whole days from now to ``shutdown_at``, rounded up as in current_models (0003)."""
    if dialect == "postgresql":
        return "CAST(CEIL(EXTRACT(EPOCH FROM (shutdown_at - now())) / 86400.0) AS INTEGER)"
    days = "(julianday(shutdown_at) - julianday('now'))"
    return (
        f"CAST({days} AS INTEGER) + CASE WHEN {days} > CAST({days} AS INTEGER) THEN 1 ELSE 0 END"
    )


def _model_offers(dialect: str) -> str:
    return f"""
    CREATE VIEW model_offers AS
    SELECT
        {_common_id(dialect)} AS common_id,
        source,
        model_id,
        display_name,
        context_length,
        shutdown_at,
        {_days_to_shutdown(dialect)} AS days_to_shutdown,
        replacement
    FROM models
    WHERE vanished_at IS NULL AND deleted_at IS NULL
    """


def upgrade() -> None:
    op.add_column("models", sa.Column("display_name", sa.Text(), nullable=True))
    op.add_column("models", sa.Column("context_length", sa.BigInteger(), nullable=True))
    op.add_column("models", sa.Column("replacement", sa.Text(), nullable=True))
    op.add_column("deprecations", sa.Column("origin", sa.Text(), nullable=True))
    op.add_column("deprecations", sa.Column("source_url", sa.Text(), nullable=True))
    bind = op.get_bind()
    bind.exec_driver_sql(_model_offers(bind.dialect.name))


def downgrade() -> None:
    op.execute("DROP VIEW model_offers")
    # Plain ALTER TABLE (SQLite 3.35 and later have it): a batch copy of ``models`` would
    # drop the table under the views of migration 0002, which SQLite refuses.
    for table, column in (
        ("deprecations", "source_url"), ("deprecations", "origin"), ("models", "replacement"),
        ("models", "context_length"), ("models", "display_name"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
