"""model_events gets an index on (source, id): each sync asks for its source's latest event.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

A sync reads ``max(id)`` of its source's events twice (before and under its lock), to know
whether anyone wrote to the source in between. Without this index PostgreSQL walks the
primary key backwards through every other source's events: about 10 ms a read at 100,000
events, most of a sync of 1,000 small sources.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_model_events_source_id"), "model_events", ["source", "id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_model_events_source_id"), table_name="model_events")
