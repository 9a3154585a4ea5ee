"""Provider kinds: models.display_name, context_length, replacement; where imported dates came
from; the model_offers view that compares models across sources.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

The new columns are nullable: a kind fills those its list has (Anthropic a display name,
Mistral a replacement, ...). ``model_offers`` holds every present model with the id it is
compared by across sources (the listed id without a leading ``vendor/`` or ``models/``
segment, lower case, so ``openai/gpt-4o`` on OpenRouter meets ``gpt-4o`` on OpenAI and
Azure) and its shutdown date: the provider's, else one imported for exactly that id.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _common_id(dialect: str, column: str) -> str:
    """``column`` in lower case, without what comes up to its first ``/``."""
    find = f"strpos({column}, '/')" if dialect == "postgresql" else f"instr({column}, '/')"
    return f"lower(CASE WHEN {find} > 0 THEN substr({column}, {find} + 1) ELSE {column} END)"


def _days_to_shutdown(dialect: str, column: str) -> str:
    """Whole days from now to ``column``, rounded up as in current_models (0003)."""
    if dialect == "postgresql":
        return f"CAST(CEIL(EXTRACT(EPOCH FROM ({column} - now())) / 86400.0) AS INTEGER)"
    days = f"(julianday({column}) - julianday('now'))"
    return f"CAST({days} AS INTEGER) + CASE WHEN {days} > CAST({days} AS INTEGER) THEN 1 ELSE 0 END"


#: The provider's date, else one imported for exactly this id (for this source, else for
#: every source): what LiteLLM's map gives. Globs are resolved by ``syncer deprecations``.
SHUTDOWN = "COALESCE(m.shutdown_at, mine.shutdown_at, every.shutdown_at)"


def _model_offers(dialect: str) -> str:
    return f"""
    CREATE VIEW model_offers AS
    SELECT
        {_common_id(dialect, "m.model_id")} AS common_id,
        m.source,
        m.model_id,
        m.display_name,
        m.context_length,
        {SHUTDOWN} AS shutdown_at,
        {_days_to_shutdown(dialect, SHUTDOWN)} AS days_to_shutdown,
        CASE
            WHEN m.shutdown_at IS NOT NULL THEN 'provider'
            WHEN COALESCE(mine.shutdown_at, every.shutdown_at) IS NOT NULL THEN 'imported'
        END AS date_source,
        COALESCE(m.replacement, mine.replacement, every.replacement) AS replacement
    FROM models m
    LEFT JOIN deprecations mine ON mine.source = m.source AND mine.model = m.model_id
    LEFT JOIN deprecations every ON every.source = '*' AND every.model = m.model_id
    WHERE m.vanished_at IS NULL AND m.deleted_at IS NULL
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
        ("deprecations", "source_url"),
        ("deprecations", "origin"),
        ("models", "replacement"),
        ("models", "context_length"),
        ("models", "display_name"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
