"""Leases: which replica of ``syncer run`` is doing which job, until when.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

One row per job name (``sync:<source>``, ``retention:<source>``, ``alerts-dispatch``,
``alerts-stale``). A replica takes a row only when it is free (``expires_at`` passed),
renews it while it works and frees it when done; a replica that dies leaves a row that
frees itself at ``expires_at``. Freed rows keep the last holder, for the operator.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("holder", sa.String(length=256), nullable=False),
        sa.Column("acquired_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )


def downgrade() -> None:
    op.drop_table("leases")
