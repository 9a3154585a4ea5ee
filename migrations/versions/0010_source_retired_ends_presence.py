"""model_availability (and inventory_daily, which reads it): ``source_retired`` ends a presence.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

``syncer sources retire NAME`` takes the present models of a source that is no longer
configured out of the inventory with a ``source_retired`` event each: not ``vanished``,
because the provider removed nothing. The views that rebuild presence from the event log
knew only ``vanished`` and ``deleted`` as ends, and would have kept a retired source's
models available for ever. Same columns, same meaning otherwise; the views are taken from
migration 0002, which defined them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('added', 'reappeared', 'vanished', 'deleted')"
NEW_KINDS = "kind IN ('added', 'reappeared', 'vanished', 'deleted', 'source_retired')"


def _views_of_0002() -> ModuleType:
    path = Path(__file__).with_name("0002_reporting_views.py")
    spec = importlib.util.spec_from_file_location(f"syncer_migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _recreate(ends_with_retired: bool) -> None:
    op.execute("DROP VIEW inventory_daily")
    op.execute("DROP VIEW model_availability")
    views = _views_of_0002()
    bind = op.get_bind()
    dialect = bind.dialect.name
    availability = views._model_availability(dialect)
    if ends_with_retired:
        assert OLD_KINDS in availability
        availability = availability.replace(OLD_KINDS, NEW_KINDS)
    bind.exec_driver_sql(availability)
    bind.exec_driver_sql(views._inventory_daily(dialect))


def upgrade() -> None:
    _recreate(ends_with_retired=True)


def downgrade() -> None:
    _recreate(ends_with_retired=False)
