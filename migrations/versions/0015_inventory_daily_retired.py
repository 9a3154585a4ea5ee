"""inventory_daily counts each day's ``source_retired`` events.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08

Since migration 0010 a retired source's models leave ``present`` on the day ``syncer
sources retire`` ran, but no column said why the count fell: the day showed no
``vanished`` or ``deleted``. The view gains ``source_retired``, at its end, so a day's
``present`` is the day before's plus ``added`` and ``reappeared``, minus ``vanished``,
``deleted`` and ``source_retired``. The view is taken from migration 0002, which defined it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

COUNTED = "SUM(CASE WHEN kind = 'changed' THEN 1 ELSE 0 END) AS changed"
SELECTED = "COALESCE(c.changed, 0) AS changed"


def _views_of_0002() -> ModuleType:
    path = Path(__file__).with_name("0002_reporting_views.py")
    spec = importlib.util.spec_from_file_location(f"syncer_migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _recreate(with_retired: bool) -> None:
    op.execute("DROP VIEW inventory_daily")
    bind = op.get_bind()
    view: str = _views_of_0002()._inventory_daily(bind.dialect.name)
    if with_retired:
        assert COUNTED in view and SELECTED in view
        view = view.replace(
            COUNTED,
            COUNTED + ",\n            SUM(CASE WHEN kind = "
            "'source_retired' THEN 1 ELSE 0 END) AS source_retired",
        )
        view = view.replace(
            SELECTED, SELECTED + ",\n        COALESCE(c.source_retired, 0) AS source_retired"
        )
    bind.exec_driver_sql(view)


def upgrade() -> None:
    _recreate(with_retired=True)


def downgrade() -> None:
    _recreate(with_retired=False)
