"""Initial schema: sync_runs, models and model_events.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Migrations are frozen history: they spell types out rather than import them from syncer.
TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("models_seen", sa.Integer(), nullable=True),
        sa.Column("added", sa.Integer(), nullable=True),
        sa.Column("vanished", sa.Integer(), nullable=True),
        sa.Column("reappeared", sa.Integer(), nullable=True),
        sa.Column("changed", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("list_digest", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    op.create_index(
        op.f("ix_sync_runs_source_started_at"), "sync_runs", ["source", "started_at"]
    )
    op.create_table(
        "models",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.String(length=512), nullable=False),
        sa.Column("object", sa.Text(), nullable=True),
        sa.Column("created", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=True),
        sa.Column("owned_by", sa.Text(), nullable=True),
        sa.Column("is_fine_tuned", sa.Boolean(), nullable=False),
        sa.Column("shutdown_at", TIMESTAMP, nullable=True),
        sa.Column("raw", JSON_DOCUMENT, nullable=False),
        sa.Column("first_seen_at", TIMESTAMP, nullable=False),
        sa.Column("last_seen_at", TIMESTAMP, nullable=False),
        sa.Column("vanished_at", TIMESTAMP, nullable=True),
        sa.Column("deleted_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("source", "model_id", name=op.f("pk_models")),
    )
    op.create_table(
        "model_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.String(length=512), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", TIMESTAMP, nullable=False),
        sa.Column("sync_run_id", sa.Integer(), nullable=True),
        sa.Column("old_values", JSON_DOCUMENT, nullable=True),
        sa.Column("new_values", JSON_DOCUMENT, nullable=True),
        sa.Column("details", JSON_DOCUMENT, nullable=True),
        sa.ForeignKeyConstraint(
            ["sync_run_id"],
            ["sync_runs.id"],
            name=op.f("fk_model_events_sync_run_id_sync_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_events")),
    )
    op.create_index(op.f("ix_model_events_occurred_at"), "model_events", ["occurred_at"])
    op.create_index(
        op.f("ix_model_events_source_model_id"), "model_events", ["source", "model_id"]
    )


def downgrade() -> None:
    op.drop_table("model_events")
    op.drop_table("models")
    op.drop_table("sync_runs")
