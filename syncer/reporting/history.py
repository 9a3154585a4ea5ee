"""The inventory as it was at any moment, rebuilt from today's rows and the event log (pure).

The store keeps each model's latest listed JSON and an append-only event log, and that
is enough to go back in time:

- whether a model was present at T: the availability interval (from the
  ``model_availability`` view) that started last at or before T, and whether it had
  ended by then;
- its listed fields at T: today's JSON with the ``old_values`` of every ``changed``
  event after T put back, newest first. A sync records every change of value, so
  nothing else moved the fields (a key turning from absent to null is no change).

Everything here works on plain data, so it is tested without a database; ``history_queries.py``
does the reading.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from syncer.lifecycle import changed_by, decide
from syncer.providers.openai import PROFILE as OPENAI
from syncer.providers.profile import Profile
from syncer.sync.diff import field_changes
from syncer.sync.parse import parse_model

__all__ = [
    "DIFF_COLUMNS",
    "Current",
    "Interval",
    "Snapshot",
    "inventory",
    "net_changes",
    "place_events",
    "roll_back",
    "snapshot",
]

ModelKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Interval:
    """One continuous stretch in which a model was present; ``available_until`` excluded."""

    source: str
    model_id: str
    number: int
    available_from: datetime
    available_until: datetime | None
    started_by: str
    ended_by: str | None

    def covers(self, moment: datetime) -> bool:
        return self.available_from <= moment and (
            self.available_until is None or moment < self.available_until
        )


@dataclass(frozen=True, slots=True)
class Current:
    """What the ``models`` table holds for one model today."""

    source: str
    model_id: str
    raw: Mapping[str, Any]
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One model as the store described it at a moment."""

    source: str
    model_id: str
    raw: dict[str, Any]
    present: bool
    first_seen_at: datetime
    last_seen_at: datetime
    vanished_at: datetime | None
    #: What ended the model's presence ("vanished" or "deleted"), when it is absent.
    ended_by: str | None

    def row(self, profile: Profile = OPENAI) -> dict[str, Any]:
        """The columns ``syncer models`` prints, derived from the JSON as a sync of a source
        of ``profile``'s kind derives them."""
        record, _ = parse_model(self.raw, repr(self.model_id), profile)
        # The store keeps no history of imported dates: the past is the provider's word.
        lifecycle = decide(record.shutdown_at, record.replacement, record.lifecycle_status, None)
        return {
            "source": self.source,
            "model_id": self.model_id,
            "owned_by": record.owned_by,
            "created_at": record.created_at,
            "is_fine_tuned": record.is_fine_tuned,
            "shutdown_at": lifecycle.shutdown_at,
            "first_seen_at": self.first_seen_at,
            "last_seen_at": self.last_seen_at,
            "vanished_at": self.vanished_at,
            "display_name": record.display_name,
            "context_length": record.context_length,
            "replacement": lifecycle.replacement,
            "origin": lifecycle.origin,
            "status": lifecycle.status,
        }


def roll_back(
    raw: Mapping[str, Any], later_old_values: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """Undo changes, newest first; a field whose old value was null was absent or null."""
    past = dict(raw)
    for old_values in later_old_values:
        for key, value in old_values.items():
            if value is None:
                past.pop(key, None)
            else:
                past[key] = value
    return past


def snapshot(
    current: Current,
    intervals: Iterable[Interval],
    later_old_values: Iterable[Mapping[str, Any]],
    moment: datetime,
    *,
    last_sync: datetime | None = None,
    seen_before: Mapping[datetime, datetime] | None = None,
) -> Snapshot | None:
    """One model at ``moment``, or None when the syncer had not met it yet.

    ``last_seen_at`` is recorded by syncs that leave no event, so it is exact only when
    today's value is not later than ``moment``. Otherwise it is the end of the last
    successful sync at or before ``moment`` (``last_sync``) for a present model, and for
    an absent one the end of the last successful sync before its presence ended
    (``seen_before``, keyed by the moment the presence ended).
    """
    started = sorted(
        (i for i in intervals if i.available_from <= moment), key=lambda i: i.available_from
    )
    if not started:
        return None
    latest = started[-1]
    present = latest.covers(moment)
    if current.last_seen_at <= moment:
        last_seen = current.last_seen_at
    elif present or latest.available_until is None:
        last_seen = max(latest.available_from, last_sync or latest.available_from)
    else:
        bound = (seen_before or {}).get(latest.available_until)
        last_seen = max(latest.available_from, bound or latest.available_from)
    return Snapshot(
        source=current.source,
        model_id=current.model_id,
        raw=roll_back(current.raw, later_old_values),
        present=present,
        first_seen_at=started[0].available_from,
        last_seen_at=last_seen,
        vanished_at=None if present else latest.available_until,
        ended_by=None if present else latest.ended_by,
    )


def inventory(
    currents: Iterable[Current],
    intervals: Iterable[Interval],
    later_changes: Iterable[tuple[str, str, Mapping[str, Any]]],
    moment: datetime,
    *,
    last_sync: Mapping[str, datetime] | None = None,
    seen_before_end: Mapping[tuple[str, datetime], datetime] | None = None,
) -> list[Snapshot]:
    """Every model the syncer had met by ``moment``, in the order of ``currents``.

    ``later_changes`` are (source, model_id, old_values) of the changed events after
    ``moment``, newest first; ``last_sync`` is per source, ``seen_before_end`` per
    (source, moment a presence ended).
    """
    by_model: dict[ModelKey, list[Interval]] = defaultdict(list)
    for interval in intervals:
        by_model[interval.source, interval.model_id].append(interval)
    undo: dict[ModelKey, list[Mapping[str, Any]]] = defaultdict(list)
    for source, model_id, old_values in later_changes:
        undo[source, model_id].append(old_values)
    seen_before: dict[str, dict[datetime, datetime]] = defaultdict(dict)
    for (source, ended), seen in (seen_before_end or {}).items():
        seen_before[source][ended] = seen
    last_sync = last_sync or {}
    snapshots = []
    for current in currents:
        key = (current.source, current.model_id)
        found = snapshot(
            current,
            by_model.get(key, ()),
            undo.get(key, ()),
            moment,
            last_sync=last_sync.get(current.source),
            seen_before=seen_before.get(current.source),
        )
        if found is not None:
            snapshots.append(found)
    return snapshots


DIFF_COLUMNS = ("source", "model_id", "change", "old_values", "new_values")


def net_changes(before: Sequence[Snapshot], after: Sequence[Snapshot]) -> list[dict[str, Any]]:
    """What differs between two inventories: added, reappeared, vanished/deleted, changed.

    Net, like a diff of two listings: a model that vanished and came back in between
    with the same fields does not appear; ``syncer events`` shows every step.
    """
    old = {(s.source, s.model_id): s for s in before}
    new = {(s.source, s.model_id): s for s in after}
    rows = []
    for key in [*new, *(k for k in old if k not in new)]:
        was, now = old.get(key), new.get(key)
        was_present = was is not None and was.present
        is_present = now is not None and now.present
        old_values = new_values = None
        if is_present and not was_present:
            change = "added" if was is None else "reappeared"
        elif was_present and not is_present:
            change = (now.ended_by if now is not None else None) or "vanished"
        elif was is not None and now is not None and is_present:
            old_values, new_values = field_changes(was.raw, now.raw)
            if not old_values:
                continue
            change = "changed"
        else:
            continue
        rows.append(
            {
                "source": key[0],
                "model_id": key[1],
                "change": change,
                "old_values": old_values,
                "new_values": new_values,
            }
        )
    return rows


def place_events(
    events: Iterable[Mapping[str, Any]], intervals: Iterable[Interval]
) -> list[dict[str, Any]]:
    """Each event with the availability interval it belongs to: the last one started by then.

    The event that ends an interval belongs to it; events before any interval (none in
    a consistent log) get no interval.
    """
    by_source: dict[str, list[Interval]] = defaultdict(list)
    for interval in sorted(intervals, key=lambda i: i.available_from):
        by_source[interval.source].append(interval)
    placed = []
    for event in events:
        candidates = by_source.get(event["source"], [])
        started = [i for i in candidates if i.available_from <= event["occurred_at"]]
        home = started[-1] if started else None
        placed.append(
            {
                **event,
                "interval_number": home.number if home else None,
                "available_from": home.available_from if home else None,
                "available_until": home.available_until if home else None,
                "changed_by": changed_by(event["kind"], event.get("details")),
            }
        )
    return placed
