"""alert_digests: how far each digest rule's digests have covered its alerts.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

A digest rule (``deliver = "digest"``) holds its alerts until the next fire time of its
schedule; this row says up to which fire time the rule's digests have been written, so each
window becomes one digest, once, whichever replica writes it (issue 23).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alert_digests",
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("covered_until", TIMESTAMP, nullable=False),
        sa.Column("last_digest_id", sa.String(length=36), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("rule", name=op.f("pk_alert_digests")),
    )


def downgrade() -> None:
    op.drop_table("alert_digests")
