"""Every announced shutdown, present or past, with where its date came from and when it was set.

The HTML report's calendar and the iCalendar feed read the same list. It covers vanished
models too: a calendar that dropped an event the day its model retired would rewrite the
subscriber's past. The date, its origin and the replacement are the lifecycle in force as
stored (``syncer.lifecycle`` decides it once), exactly what ``syncer deprecations`` shows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncer.db.schema import Model, ModelEvent
from syncer.providers.profile import all_profiles

__all__ = ["Shutdown", "date_set_at", "read_shutdowns"]

#: Ids per ``IN (...)`` list, well under every database's limit on bound parameters.
CHUNK = 500
#: The listed fields any provider kind reads a shutdown date from (their top-level keys).
SHUTDOWN_FIELDS = frozenset(
    name.split(".")[0] for profile in all_profiles() for name in profile.fields.shutdown
)


@dataclass(frozen=True, slots=True)
class Shutdown:
    """One model's announced shutdown date."""

    source: str
    model_id: str
    shutdown_at: datetime
    replacement: str | None
    #: ``provider`` (its own list said so) or ``imported`` (``syncer deprecations import``).
    date_source: str
    #: When the store learnt this date; a later moment whenever the date moved.
    set_at: datetime
    #: When the model left the provider's list; None while it is listed.
    vanished_at: datetime | None
    #: ``provider``, or the file or URL an imported date came from.
    origin: str | None = None
    #: The page an imported date cites.
    source_url: str | None = None
    #: The provider's lifecycle status.
    status: str | None = None


def date_set_at(
    first_seen_at: datetime,
    changes: Iterable[tuple[datetime, Mapping[str, Any] | None, Mapping[str, Any] | None]],
    imported_at: datetime | None,
) -> datetime:
    """The last moment the effective date can have moved (pure).

    That is the latest of: the model's first sighting, the latest ``changed`` event that
    touched a shutdown field (``changes`` holds (occurred_at, old_values, new_values)),
    and the latest import that moved its imported date. Taking the latest of all of them
    keeps it from going back when the date passes from the provider to an import or back.
    """
    moments = [first_seen_at]
    moments += [
        at for at, old, new in changes
        if any(name in (old or {}) or name in (new or {}) for name in SHUTDOWN_FIELDS)
    ]
    if imported_at is not None:
        moments.append(imported_at)
    return max(moments)


def _changes(
    session: Session, keys: Sequence[tuple[str, str]]
) -> tuple[dict[tuple[str, str], list[tuple[datetime, Any, Any]]], dict[tuple[str, str], datetime]]:
    """The ``changed`` events of these models only (a handful of dated ones among
    thousands), and when an import last moved each one's imported date."""
    found: dict[tuple[str, str], list[tuple[datetime, Any, Any]]] = defaultdict(list)
    imported: dict[tuple[str, str], datetime] = {}
    wanted = set(keys)
    ids = sorted({model_id for _, model_id in keys})
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(ModelEvent.source, ModelEvent.model_id, ModelEvent.kind,
                   ModelEvent.occurred_at, ModelEvent.old_values, ModelEvent.new_values,
                   ModelEvent.details)
            .where(ModelEvent.kind.in_(("changed", "shutdown_changed")),
                   ModelEvent.model_id.in_(ids[start:start + CHUNK]))
        )
        for source, model_id, kind, at, old, new, details in rows:
            key = (source, model_id)
            if key not in wanted:
                continue
            if kind == "changed":
                found[key].append((at, old, new))
            elif (details or {}).get("date_source") == "imported":
                imported[key] = max(at, imported.get(key, at))
    return found, imported


def read_shutdowns(session: Session, source: str | None = None) -> list[Shutdown]:
    """Every model with a shutdown date in force, soonest first, as stored (vanished models
    too): a fixed number of statements."""
    query = select(
        Model.source, Model.model_id, Model.effective_shutdown_at, Model.effective_replacement,
        Model.date_source, Model.first_seen_at, Model.vanished_at, Model.date_origin,
        Model.date_source_url, Model.lifecycle_status,
    ).where(Model.effective_shutdown_at.is_not(None)).order_by(Model.source, Model.model_id)
    if source is not None:
        query = query.where(Model.source == source)
    dated = session.execute(query).all()
    changes, imported = _changes(session, [(row[0], row[1]) for row in dated])
    shutdowns = [
        Shutdown(
            source=name, model_id=model_id, shutdown_at=shutdown_at, replacement=replacement,
            date_source=date_source,
            set_at=date_set_at(first_seen_at, changes.get((name, model_id), ()),
                               imported.get((name, model_id))),
            vanished_at=vanished_at, origin=origin, source_url=source_url, status=status,
        )
        for (name, model_id, shutdown_at, replacement, date_source, first_seen_at, vanished_at,
             origin, source_url, status) in dated
        if shutdown_at is not None and date_source is not None
    ]
    return sorted(shutdowns, key=lambda s: (s.shutdown_at, s.source, s.model_id))
