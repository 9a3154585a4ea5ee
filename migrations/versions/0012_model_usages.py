"""model_usages: where each model id is used, as ``syncer scan --record`` found it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

One row per use (repository, path, line, column), replaced per repository by each recorded
scan, so that alert rules can be limited to the models in use and ``syncer models`` can show
where each is used. Indexed by ``model_id`` for those lookups.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "model_usages",
        sa.Column("repository", sa.String(256), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("column", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.String(512), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("scanned_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint(
            "repository", "path", "line", "column", name=op.f("pk_model_usages")
        ),
    )
    op.create_index(op.f("ix_model_usages_model_id"), "model_usages", ["model_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_model_usages_model_id"), table_name="model_usages")
    op.drop_table("model_usages")
