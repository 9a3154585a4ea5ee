"""Every announced shutdown, present or past, with where its date came from and when it was set.

The HTML report's calendar and the iCalendar feed read the same list. It covers vanished
models too: a calendar that dropped an event the day its model retired would rewrite the
subscriber's past. The date, its origin and the replacement are the lifecycle in force as
stored (``syncer.lifecycle`` decides it once), exactly what ``syncer deprecations`` shows.

A listed model whose stored status says it is going (``lifecycle.ENDING``) with no date in
force is ``Undated``: ``syncer deprecations`` lists it, and so do the report, the calendar
(on the day the status was learnt) and ``report shutdowns``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncer.db.schema import Model, ModelEvent
from syncer.lifecycle import ENDING
from syncer.providers.profile import all_profiles

__all__ = ["Shutdown", "Undated", "date_set_at", "read_shutdowns", "read_undated", "status_set_at"]

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


@dataclass(frozen=True, slots=True)
class Undated:
    """A listed model whose lifecycle status says it is going, with no shutdown date known."""

    source: str
    model_id: str
    #: The stored status, one of ``lifecycle.ENDING``.
    status: str
    replacement: str | None
    #: When the store learnt the status: its latest ``status_changed`` event, else the
    #: model's first sighting (it was listed with the status from the start).
    since: datetime
    #: The last moment anything this entry shows can have moved: the status, or a date
    #: that was cleared (so a calendar's revision number grows past the dated event's).
    set_at: datetime


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
        at
        for at, old, new in changes
        if any(name in (old or {}) or name in (new or {}) for name in SHUTDOWN_FIELDS)
    ]
    if imported_at is not None:
        moments.append(imported_at)
    return max(moments)


def status_set_at(
    first_seen_at: datetime, status_changes: Iterable[datetime], date_set: datetime
) -> tuple[datetime, datetime]:
    """(since, set_at) of an ``Undated`` model (pure): when its status was learnt (its latest
    ``status_changed`` event, else its first sighting), and the latest of that and
    ``date_set`` (``date_set_at`` over its history: a cleared date moved it too)."""
    since = max(status_changes, default=first_seen_at)
    return since, max(since, date_set)


@dataclass
class _History:
    """What ``_histories`` reads of one model's events."""

    #: (occurred_at, old_values, new_values) of its ``changed`` events.
    changes: list[tuple[datetime, Any, Any]] = field(default_factory=list)
    #: When a ``shutdown_changed`` event last moved its date: by an import, and by anyone.
    imported_at: datetime | None = None
    date_moved_at: datetime | None = None
    #: When its lifecycle status changed.
    status_changes: list[datetime] = field(default_factory=list)


def _later(moment: datetime | None, at: datetime) -> datetime:
    return at if moment is None else max(moment, at)


def _histories(
    session: Session, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], _History]:
    """The date and status events of these models only (a handful among thousands)."""
    found: dict[tuple[str, str], _History] = defaultdict(_History)
    wanted = set(keys)
    ids = sorted({model_id for _, model_id in keys})
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(
                ModelEvent.source,
                ModelEvent.model_id,
                ModelEvent.kind,
                ModelEvent.occurred_at,
                ModelEvent.old_values,
                ModelEvent.new_values,
                ModelEvent.details,
            ).where(
                ModelEvent.kind.in_(("changed", "shutdown_changed", "status_changed")),
                ModelEvent.model_id.in_(ids[start : start + CHUNK]),
            )
        )
        for source, model_id, kind, at, old, new, details in rows:
            key = (source, model_id)
            if key not in wanted:
                continue
            history = found[key]
            if kind == "changed":
                history.changes.append((at, old, new))
            elif kind == "status_changed":
                history.status_changes.append(at)
            else:
                history.date_moved_at = _later(history.date_moved_at, at)
                if (details or {}).get("date_source") == "imported":
                    history.imported_at = _later(history.imported_at, at)
    return found


def read_shutdowns(session: Session, source: str | None = None) -> list[Shutdown]:
    """Every model with a shutdown date in force, soonest first, as stored (vanished models
    too): a fixed number of statements."""
    query = (
        select(
            Model.source,
            Model.model_id,
            Model.effective_shutdown_at,
            Model.effective_replacement,
            Model.date_source,
            Model.first_seen_at,
            Model.vanished_at,
            Model.date_origin,
            Model.date_source_url,
            Model.lifecycle_status,
        )
        .where(Model.effective_shutdown_at.is_not(None))
        .order_by(Model.source, Model.model_id)
    )
    if source is not None:
        query = query.where(Model.source == source)
    dated = session.execute(query).all()
    histories = _histories(session, [(row[0], row[1]) for row in dated])
    empty = _History()
    shutdowns = [
        Shutdown(
            source=name,
            model_id=model_id,
            shutdown_at=shutdown_at,
            replacement=replacement,
            date_source=date_source,
            set_at=date_set_at(
                first_seen_at,
                histories.get((name, model_id), empty).changes,
                histories.get((name, model_id), empty).imported_at,
            ),
            vanished_at=vanished_at,
            origin=origin,
            source_url=source_url,
            status=status,
        )
        for (
            name,
            model_id,
            shutdown_at,
            replacement,
            date_source,
            first_seen_at,
            vanished_at,
            origin,
            source_url,
            status,
        ) in dated
        if shutdown_at is not None and date_source is not None
    ]
    return sorted(shutdowns, key=lambda s: (s.shutdown_at, s.source, s.model_id))


def read_undated(session: Session, source: str | None = None) -> list[Undated]:
    """Every listed model whose stored status is one of ``lifecycle.ENDING`` and that has no
    date in force, by source and id, as stored: a fixed number of statements."""
    query = (
        select(
            Model.source,
            Model.model_id,
            Model.lifecycle_status,
            Model.effective_replacement,
            Model.first_seen_at,
        )
        .where(
            Model.vanished_at.is_(None),
            Model.effective_shutdown_at.is_(None),
            Model.lifecycle_status.in_(sorted(ENDING)),
        )
        .order_by(Model.source, Model.model_id)
    )
    if source is not None:
        query = query.where(Model.source == source)
    rows = session.execute(query).all()
    histories = _histories(session, [(row[0], row[1]) for row in rows])
    undated = []
    for name, model_id, status, replacement, first_seen_at in rows:
        history = histories.get((name, model_id), _History())
        date_set = date_set_at(first_seen_at, history.changes, history.date_moved_at)
        since, set_at = status_set_at(first_seen_at, history.status_changes, date_set)
        undated.append(Undated(name, model_id, str(status), replacement, since, set_at))
    return undated
