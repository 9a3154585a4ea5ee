"""Every announced shutdown, present or past, with where its date came from and when it was set.

The HTML report's calendar and the iCalendar feed read the same list. It covers vanished
models too: a calendar that dropped an event the day its model retired would rewrite the
subscriber's past. A date is the provider's where it gives one, else an imported one
(``deprecations.effective``), exactly as ``syncer deprecations`` decides.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncer.alerts.deprecations import Deprecation, Matcher, effective
from syncer.db.schema import DeprecationEntry, Model, ModelEvent
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


def date_set_at(
    first_seen_at: datetime,
    changes: Iterable[tuple[datetime, Mapping[str, Any] | None, Mapping[str, Any] | None]],
    imported_at: datetime | None,
) -> datetime:
    """The last moment the effective date can have moved (pure).

    That is the latest of: the model's first sighting, the latest ``changed`` event that
    touched a shutdown field (``changes`` holds (occurred_at, old_values, new_values)),
    and the import of the matching entry. Taking the latest of all of them keeps it from
    going back when the date passes from the provider to an import or back.
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
) -> dict[tuple[str, str], list[tuple[datetime, Any, Any]]]:
    """The ``changed`` events of these models only: a handful of dated ones among thousands."""
    found: dict[tuple[str, str], list[tuple[datetime, Any, Any]]] = defaultdict(list)
    wanted = set(keys)
    ids = sorted({model_id for _, model_id in keys})
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(ModelEvent.source, ModelEvent.model_id, ModelEvent.occurred_at,
                   ModelEvent.old_values, ModelEvent.new_values)
            .where(ModelEvent.kind == "changed", ModelEvent.model_id.in_(ids[start:start + CHUNK]))
        )
        for source, model_id, at, old, new in rows:
            if (source, model_id) in wanted:
                found[source, model_id].append((at, old, new))
    return found


def read_shutdowns(session: Session, source: str | None = None) -> list[Shutdown]:
    """Every model with a known shutdown date, soonest first: a fixed number of statements."""
    imported = list(session.execute(select(
        DeprecationEntry.model, DeprecationEntry.shutdown_at, DeprecationEntry.replacement,
        DeprecationEntry.source, DeprecationEntry.imported_at,
    )))
    entries = [Deprecation(*row[:4]) for row in imported]
    imported_at = {(row.source, row.model): row.imported_at for row in imported}
    query = select(
        Model.source, Model.model_id, Model.shutdown_at, Model.first_seen_at, Model.vanished_at,
        Model.replacement,
    ).order_by(Model.source, Model.model_id)
    if source is not None:
        query = query.where(Model.source == source)
    if not entries:
        query = query.where(Model.shutdown_at.is_not(None))
    matcher = Matcher(entries)
    dated = []
    for name, model_id, provider_date, first_seen_at, vanished_at, successor in session.execute(
        query
    ):
        entry = matcher.match(name, model_id) if matcher else None
        shutdown_at, date_source, replacement = effective(provider_date, entry)
        replacement = successor or replacement  # the provider's named successor wins
        if shutdown_at is not None and date_source is not None:
            when = imported_at[entry.source, entry.model] if entry is not None else None
            dated.append((name, model_id, shutdown_at, date_source, replacement,
                          first_seen_at, vanished_at, when))
    changes = _changes(session, [(row[0], row[1]) for row in dated])
    shutdowns = [
        Shutdown(
            source=name, model_id=model_id, shutdown_at=shutdown_at, replacement=replacement,
            date_source=date_source,
            set_at=date_set_at(first_seen_at, changes.get((name, model_id), ()), when),
            vanished_at=vanished_at,
        )
        for name, model_id, shutdown_at, date_source, replacement, first_seen_at, vanished_at,
        when in dated
    ]
    return sorted(shutdowns, key=lambda s: (s.shutdown_at, s.source, s.model_id))
