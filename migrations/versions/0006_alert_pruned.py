"""alert_pruned: how many delivered alerts of each rule were pruned from the outbox.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Delivered alerts leave ``alert_outbox`` after ``[outbox] keep_delivered``; this count keeps
``syncer_alerts{status="delivered"}`` from going down when they do.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_pruned",
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("delivered", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("rule", name=op.f("pk_alert_pruned")),
    )


def downgrade() -> None:
    op.drop_table("alert_pruned")
