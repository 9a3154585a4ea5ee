"""The inventory as the database holds it: every id ever listed, with its lifecycle.

``read_inventory`` costs three statements whatever the size of the inventory.
A model's shutdown date, its origin, replacement and status are the stored lifecycle in
force (``syncer.lifecycle`` decides it once), as every other output reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, select

from syncer.db.tables import deprecations_table, listings_table
from syncer.db.views import models_view
from syncer.lifecycle import Deprecation
from syncer.scan.inventory import Imported, Inventory, ModelRecord, SourceRecord

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["read_inventory"]

_m, _d = models_view.c, deprecations_table.c


def read_inventory(connection: Connection | Session, now: datetime) -> Inventory:
    """Every id every source has listed, with its lifecycle, and every imported date."""
    imported = [
        Deprecation(
            row.model, row.shutdown_at, row.replacement, row.source, row.source_url, row.origin
        )
        for row in connection.execute(
            select(
                _d.model,
                _d.shutdown_at,
                _d.replacement,
                _d.source,
                _d.source_url,
                _d.origin,
            )
        )
    ]
    models: list[ModelRecord] = []
    for row in connection.execute(
        select(
            _m.source,
            _m.model_id,
            _m.first_seen_at,
            _m.last_seen_at,
            _m.vanished_at,
            _m.effective_shutdown_at,
            _m.date_origin,
            _m.effective_replacement,
            _m.lifecycle_status,
        ).order_by(_m.source, _m.model_id)
    ):
        models.append(
            ModelRecord(
                row.source,
                row.model_id,
                row.first_seen_at,
                row.last_seen_at,
                row.vanished_at,
                row.effective_shutdown_at,
                row.date_origin,
                row.effective_replacement,
                row.lifecycle_status,
            )
        )
    sources: Sequence[SourceRecord] = [
        SourceRecord(row.source, row.listed_at)
        for row in connection.execute(select(listings_table.c.source, listings_table.c.listed_at))
    ]
    deprecations = tuple(
        Imported(d.model, d.source, d.shutdown_at, d.replacement, d.origin) for d in imported
    )
    return Inventory(now, tuple(sources), tuple(models), deprecations)
