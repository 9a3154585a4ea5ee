"""The inventory as the database holds it: every id ever listed, with its lifecycle.

``read_inventory`` costs three statements whatever the size of the inventory.
``_lifecycle`` is the one place a scan learns a model's effective shutdown date, its
origin, replacement and status: until they are stored columns, it decides them as
``reporting.shutdowns`` does (the provider's date wins, else the most specific imported
entry; the provider's named successor wins over the import's).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from syncer.alerts.deprecations import Deprecation, Matcher, effective
from syncer.db.tables import deprecations_table, listings_table
from syncer.db.views import models_view
from syncer.scan.inventory import Imported, Inventory, ModelRecord, SourceRecord

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["read_inventory"]

_m, _d = models_view.c, deprecations_table.c


def _lifecycle(
    row: Any, matcher: Matcher
) -> tuple[datetime | None, str | None, str | None, str | None]:
    """(shutdown date in force, its origin, replacement in force, lifecycle status)."""
    entry = matcher.match(row.source, row.model_id) if matcher else None
    shutdown_at, date_source, replacement = effective(row.shutdown_at, entry)
    origin = date_source
    if date_source == "imported" and entry is not None and entry.origin:
        origin = entry.origin
    return shutdown_at, origin, row.replacement or replacement, None


def read_inventory(connection: Connection | Session, now: datetime) -> Inventory:
    """Every id every source has listed, with its lifecycle, and every imported date."""
    imported = [
        Deprecation(row.model, row.shutdown_at, row.replacement, row.source, row.source_url,
                    row.origin)
        for row in connection.execute(select(
            _d.model, _d.shutdown_at, _d.replacement, _d.source, _d.source_url, _d.origin,
        ))
    ]
    matcher = Matcher(imported)
    models: list[ModelRecord] = []
    for row in connection.execute(select(
        _m.source, _m.model_id, _m.first_seen_at, _m.last_seen_at, _m.vanished_at,
        _m.shutdown_at, _m.replacement,
    ).order_by(_m.source, _m.model_id)):
        shutdown_at, origin, replacement, status = _lifecycle(row, matcher)
        models.append(ModelRecord(
            row.source, row.model_id, row.first_seen_at, row.last_seen_at, row.vanished_at,
            shutdown_at, origin, replacement, status,
        ))
    sources: Sequence[SourceRecord] = [
        SourceRecord(row.source, row.listed_at)
        for row in connection.execute(select(listings_table.c.source, listings_table.c.listed_at))
    ]
    deprecations = tuple(
        Imported(d.model, d.source, d.shutdown_at, d.replacement, d.origin) for d in imported
    )
    return Inventory(now, tuple(sources), tuple(models), deprecations)

