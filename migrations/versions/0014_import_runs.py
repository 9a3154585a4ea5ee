"""import_runs: every attempt to import a file of shutdown dates, from a URL or a path.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08

``syncer run`` imports each ``[[imports]]`` file on its schedule, and ``syncer deprecations
import --url`` once (issue 20). Each attempt is one row, whatever its outcome: ``ok`` (the
dates were applied, in the same transaction as this row), ``unchanged`` (the server said
304 Not Modified, or sent what was applied last) or ``failed`` (nothing was applied; the
last good import stays). The latest ``ok`` row's validators (``etag``, ``last_modified``)
make the next fetch conditional, and its digests tell an unchanged document from a new one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=True),
        sa.Column("changed", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("body_digest", sa.String(length=64), nullable=True),
        sa.Column("config_digest", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_runs")),
    )
    op.create_index(op.f("ix_import_runs_origin_id"), "import_runs", ["origin", "id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_import_runs_origin_id"), table_name="import_runs")
    op.drop_table("import_runs")
