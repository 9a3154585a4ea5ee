"""models becomes a view over model_state and source_listings: an unchanged sync writes two
rows (its run and its listing), not one per model.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Every sync used to rewrite ``models.last_seen_at`` on every listed model: 100,000 row
updates for a list that had not changed. Now a sync records once, in ``source_listings``,
when it listed the source's models, and ``model_state.seen_until`` holds a last-seen time
only for the models the latest listing did not include (vanished, deleted, or kept present
because the provider could not confirm them gone). The ``models`` view joins the two and
shows the same columns, in the same order, with the same meaning as the table did, so SQL
written against ``models`` reads on. The views that read ``models`` (``current_models``
and ``model_offers``) are rebuilt over the view, as migrations 0003 and 0004 defined them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)

MODELS_VIEW = """
CREATE VIEW models AS
SELECT
    m.source, m.model_id, m.object, m.created, m.created_at, m.owned_by, m.is_fine_tuned,
    m.shutdown_at, m.raw, m.raw_digest, m.first_seen_at,
    COALESCE(m.seen_until, l.listed_at) AS last_seen_at,
    m.vanished_at, m.deleted_at, m.display_name, m.context_length, m.replacement
FROM model_state m
LEFT JOIN source_listings l ON l.source = m.source
"""


def _migration(file_name: str) -> ModuleType:
    """An earlier migration of this folder, for the view definitions it holds."""
    path = Path(__file__).with_name(file_name)
    spec = importlib.util.spec_from_file_location(f"syncer_migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _readers_of_models(create: bool) -> None:
    """Drop, or create as 0003 and 0004 define them, the views that read ``models``."""
    if not create:
        op.execute("DROP VIEW model_offers")
        op.execute("DROP VIEW current_models")
        return
    # Sent as written: the colons in 'ft:' would otherwise read as bind parameters.
    bind = op.get_bind()
    dialect = bind.dialect.name
    bind.exec_driver_sql(
        _migration("0003_days_to_shutdown_rounds_up.py")._current_models(dialect, "up")
    )
    bind.exec_driver_sql(_migration("0004_provider_columns.py")._model_offers(dialect))


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    _readers_of_models(create=False)
    op.create_table(
        "source_listings",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("listed_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_source_listings")),
    )
    # The latest sync that listed a source moved last_seen_at of everything it listed.
    op.execute(
        "INSERT INTO source_listings (source, listed_at) "
        "SELECT source, MAX(last_seen_at) FROM models GROUP BY source"
    )
    op.rename_table("models", "model_state")
    op.add_column("model_state", sa.Column("seen_until", TIMESTAMP, nullable=True))
    op.execute(
        "UPDATE model_state SET seen_until = last_seen_at WHERE vanished_at IS NOT NULL "
        "OR last_seen_at < (SELECT l.listed_at FROM source_listings l "
        "WHERE l.source = model_state.source)"
    )
    op.execute("ALTER TABLE model_state DROP COLUMN last_seen_at")
    if postgres:
        op.execute("ALTER TABLE model_state RENAME CONSTRAINT pk_models TO pk_model_state")
        # The half-empty pages were for rewriting last_seen_at in place (0001).
        op.execute("ALTER TABLE model_state RESET (fillfactor)")
    op.execute(MODELS_VIEW)
    _readers_of_models(create=True)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    _readers_of_models(create=False)
    op.execute("DROP VIEW models")
    # Nullable here: SQLite adds a NOT NULL column only with a default.
    op.add_column("model_state", sa.Column("last_seen_at", TIMESTAMP, nullable=True))
    op.execute(
        "UPDATE model_state SET last_seen_at = COALESCE(seen_until, (SELECT l.listed_at "
        "FROM source_listings l WHERE l.source = model_state.source), first_seen_at)"
    )
    op.execute("ALTER TABLE model_state DROP COLUMN seen_until")
    if postgres:
        op.execute("ALTER TABLE model_state RENAME CONSTRAINT pk_model_state TO pk_models")
        op.execute("ALTER TABLE model_state SET (fillfactor = 50)")
    op.rename_table("model_state", "models")
    op.drop_table("source_listings")
    _readers_of_models(create=True)
