"""Which alerts to raise: rules x events, shutdown countdowns and stale sources (pure).

Everything here is a decision over plain data, so it is tested exhaustively without a
server or a database: ``alerts.outbox`` loads the data and writes the outbox rows around it,
in the transaction of the sync (or the stale check) that caused them.

Alerts carry a versioned JSON document (``PAYLOAD_VERSION``), built by ``Alert.document``:
the same document goes to every channel, Slack and Apprise show its ``summary``.

Where a model is used comes in as ``InUse`` (the latest recorded scans, read by the shell):
a rule with ``in_use`` fires only for models used somewhere, and every alert about a model
says where it is used, when a scan was recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from syncer.config.model import AlertRule
from syncer.scan.places import InUse, Place
from syncer.timeutil import days_until, duration_text, human_time, iso
from syncer.words import value_text

__all__ = [
    "IN_USE_PLACES",
    "PAYLOAD_VERSION",
    "RETIRED_WINDOW",
    "STALE_INTERVALS",
    "Alert",
    "Countdown",
    "Health",
    "Mark",
    "ModelState",
    "StaleMark",
    "StalePlan",
    "countdown",
    "crossed",
    "date_origin",
    "days_left",
    "event_alerts",
    "event_kind",
    "in_use_block",
    "is_stale",
    "probe_alert",
    "stale_after",
    "stale_plan",
    "used_text",
]

PAYLOAD_VERSION = 1
#: A model that vanishes no more than this before its shutdown date was retired as announced.
RETIRED_WINDOW = timedelta(days=7)
#: Without ``stale_after``, a source is stale after this many of its sync intervals.
STALE_INTERVALS = 3
#: The places an alert's ``in_use`` lists (its ``count`` says how many there are in all).
IN_USE_PLACES = 20
#: The places a summary names before "and N more".
_PLACES_SAID = 3


@dataclass(frozen=True, slots=True)
class ModelState:
    """One model of a source after a sync, with its lifecycle in force, as stored.

    ``date_source`` says where the date came from: ``provider`` (the provider's own list
    wins) or ``imported`` (``syncer deprecations import``); ``origin`` is ``provider`` or
    the file or URL of the import, and ``source_url`` the page an imported date cites.
    ``status`` is the provider's lifecycle status.
    """

    model_id: str
    present: bool
    first_seen_at: datetime
    shutdown_at: datetime | None = None
    date_source: str | None = None
    replacement: str | None = None
    origin: str | None = None
    source_url: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class Mark:
    """A countdown alert already raised; a moved date makes a new key, so it fires again."""

    rule: str
    source: str
    model_id: str
    threshold_days: int
    shutdown_at: datetime


@dataclass(frozen=True, slots=True)
class StaleMark:
    """A source a rule reported stale, with its last success at the time (None: never)."""

    rule: str
    source: str
    last_success_at: datetime | None


@dataclass(frozen=True, slots=True)
class Health:
    """What the run history says about one configured source."""

    source: str
    interval: timedelta
    last_success_at: datetime | None
    first_attempt_at: datetime | None


@dataclass(frozen=True)
class Alert:
    """One alert for one rule, before it has an id; the outbox gives it one."""

    rule: str
    kind: str
    summary: str
    source: str | None = None
    model_id: str | None = None
    event: Mapping[str, Any] | None = None
    shutdown: Mapping[str, Any] | None = None
    stale: Mapping[str, Any] | None = None
    #: The model's replacement in force, with or without a shutdown date.
    replacement: str | None = None
    #: Where the model is used (``in_use_block``); None when no scan is recorded.
    in_use: Mapping[str, Any] | None = None

    @property
    def used(self) -> bool:
        """Whether a recorded scan found the model in use."""
        return bool(self.in_use and self.in_use["count"])

    def document(self, alert_id: str, created_at: datetime) -> dict[str, Any]:
        """The payload receivers get, version 1: every key always present, null if n/a.

        ``replacement`` and ``in_use`` came after the first keys: additive, so version 1
        still holds."""
        return {
            "version": PAYLOAD_VERSION,
            "id": alert_id,
            "rule": self.rule,
            "kind": self.kind,
            "created_at": _iso(created_at),
            "source": self.source,
            "model_id": self.model_id,
            "summary": self.summary,
            "event": _jsonable(self.event),
            "shutdown": _jsonable(self.shutdown),
            "stale": _jsonable(self.stale),
            "replacement": self.replacement,
            "in_use": None if self.in_use is None else dict(self.in_use),
        }


@dataclass
class Countdown:
    alerts: list[Alert] = field(default_factory=list)
    new_marks: list[Mark] = field(default_factory=list)
    #: Marks for dates that no longer apply (moved, or the model is gone): forget them.
    obsolete_marks: list[Mark] = field(default_factory=list)


@dataclass
class StalePlan:
    alerts: list[Alert] = field(default_factory=list)
    new_marks: list[StaleMark] = field(default_factory=list)
    recovered: list[StaleMark] = field(default_factory=list)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else iso(moment)


def _jsonable(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {k: _iso(v) if isinstance(v, datetime) else v for k, v in value.items()}


def in_use_block(in_use: InUse, model_id: str) -> dict[str, Any] | None:
    """Where ``model_id`` is used, as the payload says it: None when no scan is recorded
    (not known), else how many places and the first ``IN_USE_PLACES`` of them."""
    if not in_use.recorded:
        return None
    places = in_use.places(model_id)
    return {
        "count": len(places),
        "places": [
            {"repository": p.repository, "path": p.path, "line": p.line}
            for p in places[:IN_USE_PLACES]
        ],
    }


def used_text(block: Mapping[str, Any] | None) -> str:
    """``used in 3 places: api:app/x.py:12, ...``, or nothing when not known in use."""
    if not block or not block["count"]:
        return ""
    count = block["count"]
    shown = [
        str(Place(p["repository"], p["path"], p["line"])) for p in block["places"][:_PLACES_SAID]
    ]
    more = f", and {count - len(shown)} more" if count > len(shown) else ""
    return f"used in {count} place{'s' if count != 1 else ''}: {', '.join(shown)}{more}"


def _with_use(summary: str, block: Mapping[str, Any] | None) -> str:
    used = used_text(block)
    return f"{summary}; {used}" if used else summary


def days_left(shutdown_at: datetime, now: datetime) -> int:
    """Whole days left by ``timeutil.days_until``'s rule, rounded up: ``<= 30`` exactly
    when at most 30 days remain."""
    return days_until(shutdown_at, now)


# --- model events --------------------------------------------------------------------------------


def event_kind(stored_kind: str, model: ModelState | None, now: datetime) -> str:
    """The kind an alert reports: a vanishing at or near a known shutdown date is ``retired``."""
    if (
        stored_kind == "vanished"
        and model is not None
        and model.shutdown_at is not None
        and model.shutdown_at <= now + RETIRED_WINDOW
    ):
        return "retired"
    return stored_kind


def date_origin(date_source: str | None, origin: str | None) -> str:
    """Where a shutdown date comes from, in words: the provider's own list, or an import
    (``syncer deprecations import``) and the file or URL it read."""
    if date_source == "imported":
        return f"date imported from {origin or 'an unknown file'}"
    return "date from the provider"


def _model_facts(model: ModelState | None, *, date_said: bool) -> str:
    """The stored lifecycle a summary adds: the date and its origin (unless the summary
    says the date itself), then the replacement."""
    if model is None:
        return ""
    parts = []
    if model.shutdown_at is not None and not date_said:
        parts.append(
            f"shuts down {model.shutdown_at.date()} "
            f"({date_origin(model.date_source, model.origin)})"
        )
    if model.replacement:
        parts.append(f"replacement: {model.replacement}")
    return "".join(f"; {part}" for part in parts)


def _event_summary(
    kind: str, source: str, event: Mapping[str, Any], model: ModelState | None
) -> str:
    """One line, with the model's lifecycle as stored after the sync (never recomputed)."""
    dated = model is not None and model.shutdown_at is not None
    say = _SAYS.get(kind)
    what = say(event, model) if say is not None else kind
    said = dated and kind in ("retired", "vanished", "shutdown_changed")
    return f"{source}: {event['model_id']} {what}" + _model_facts(model, date_said=said)


def _changed_text(event: Mapping[str, Any], model: ModelState | None) -> str:
    old, new = event.get("old_values") or {}, event.get("new_values") or {}
    fields = [
        f"{k} {value_text(old.get(k), 40)} → {value_text(new.get(k), 40)}" for k in sorted(new)[:3]
    ]
    more = f" and {len(new) - 3} more" if len(new) > 3 else ""
    return f"changed: {', '.join(fields)}{more}"


def _retired_text(event: Mapping[str, Any], model: ModelState | None) -> str:
    if model is None or model.shutdown_at is None:
        return "retired"
    origin = date_origin(model.date_source, model.origin)
    return f"retired (shutdown date {model.shutdown_at.date()}, {origin})"


def _vanished_text(event: Mapping[str, Any], model: ModelState | None) -> str:
    if model is None or model.shutdown_at is None:
        return "vanished without a known shutdown date"
    origin = date_origin(model.date_source, model.origin)
    return f"vanished before its shutdown date {model.shutdown_at.date()} ({origin})"


def _shutdown_changed_text(event: Mapping[str, Any], model: ModelState | None) -> str:
    old, new = event.get("old_values") or {}, event.get("new_values") or {}
    if model is not None and model.shutdown_at is not None:
        side = date_origin(model.date_source, model.origin)
    else:  # the date was cleared: who cleared it, as the event recorded
        details = event.get("details") or {}
        side = date_origin(details.get("date_source"), details.get("origin"))
    return f"shutdown date {_day(old.get('shutdown_at'))} → {_day(new.get('shutdown_at'))} ({side})"


def _status_changed_text(event: Mapping[str, Any], model: ModelState | None) -> str:
    old, new = event.get("old_values") or {}, event.get("new_values") or {}
    return (
        f"status {old.get('lifecycle_status') or 'none'} → {new.get('lifecycle_status') or 'none'}"
    )


#: The words after ``source: model`` for each event kind; any other kind is its own name.
_SAYS: dict[str, Callable[[Mapping[str, Any], ModelState | None], str]] = {
    "changed": _changed_text,
    "retired": _retired_text,
    "vanished": _vanished_text,
    "shutdown_changed": _shutdown_changed_text,
    "status_changed": _status_changed_text,
}


def _day(value: Any) -> str:
    """An ISO time as its date, or ``none``."""
    return str(value)[:10] if value else "none"


def event_alerts(
    rules: Sequence[AlertRule],
    source: str,
    events: Sequence[Mapping[str, Any]],
    models: Mapping[str, ModelState],
    now: datetime,
    in_use: InUse | None = None,
) -> list[Alert]:
    """One alert per (events rule, matching event), rules in order within each event.

    The first sync of a source (every model first seen now) records the inventory:
    its ``added`` events are no news and raise nothing. A rule with ``in_use`` takes only
    the events of models ``in_use`` places somewhere.
    """
    in_use = in_use or InUse()
    initial = bool(models) and all(m.first_seen_at == now for m in models.values())
    alerts = []
    for event in events:
        model = models.get(event["model_id"])
        kind = event_kind(event["kind"], model, now)
        if initial and kind == "added":
            continue
        used = in_use_block(in_use, event["model_id"])
        for rule in rules:
            if not (
                rule.kind == "events"
                and kind in rule.kinds
                and rule.covers_source(source)
                and rule.covers_model(event["model_id"])
                and (not rule.in_use or (used is not None and used["count"]))
            ):
                continue
            shutdown = None
            if model is not None and model.shutdown_at is not None:
                shutdown = _shutdown_block(model, now, None)
            alerts.append(
                Alert(
                    rule=rule.name,
                    kind=kind,
                    source=source,
                    model_id=event["model_id"],
                    summary=_with_use(_event_summary(kind, source, event, model), used),
                    replacement=model.replacement if model is not None else None,
                    in_use=used,
                    event={
                        "kind": event["kind"],
                        "occurred_at": event["occurred_at"],
                        "sync_run_id": event.get("sync_run_id"),
                        "old_values": event.get("old_values"),
                        "new_values": event.get("new_values"),
                        "details": event.get("details"),
                    },
                    shutdown=shutdown,
                )
            )
    return alerts


# --- shutdown countdown --------------------------------------------------------------------------


def _shutdown_block(model: ModelState, now: datetime, threshold: int | None) -> dict[str, Any]:
    assert model.shutdown_at is not None
    return {
        "shutdown_at": model.shutdown_at,
        "days_left": days_left(model.shutdown_at, now),
        "threshold_days": threshold,
        "replacement": model.replacement,
        "date_source": model.date_source,
        "origin": model.origin,
        "source_url": model.source_url,
        "status": model.status,
    }


def crossed(thresholds: Iterable[int], shutdown_at: datetime, now: datetime) -> list[int]:
    """The thresholds already reached, plus 0 once the date itself has come."""
    left = days_left(shutdown_at, now)
    return sorted(t for t in {*thresholds, 0} if left <= t)


def _countdown_summary(source: str, model: ModelState, now: datetime) -> str:
    assert model.shutdown_at is not None
    left = days_left(model.shutdown_at, now)
    date = model.shutdown_at.date()
    origin = date_origin(model.date_source, model.origin)
    if left <= 0:
        text = (
            f"{source}: {model.model_id} reached its shutdown date {date} ({origin}) "
            "and is still listed"
        )
    else:
        days = "1 day" if left == 1 else f"{left} days"
        text = f"{source}: {model.model_id} shuts down in {days} ({date}, {origin})"
    return text + _model_facts(model, date_said=True)


def countdown(
    rules: Sequence[AlertRule],
    source: str,
    models: Iterable[ModelState],
    marks: Iterable[Mark],
    now: datetime,
    in_use: InUse | None = None,
) -> Countdown:
    """Alert once per (rule, model, threshold, date): the tightest threshold newly reached.

    A model first seen with 5 days left raises one alert (7 days) and marks 90, 30 and 7
    as done; a date that moves is a new key, so its countdown starts over. A rule with
    ``in_use`` counts down only the models in use; a model that is not keeps its marks
    (they still apply), so one that comes into use alerts for thresholds not yet marked.
    """
    in_use = in_use or InUse()
    plan = Countdown()
    marks = set(marks)
    dated = sorted(
        (m for m in models if m.present and m.shutdown_at is not None),
        key=lambda m: (m.shutdown_at, m.model_id),
    )
    current: set[tuple[str, str, datetime]] = set()
    uses = {m.model_id: in_use_block(in_use, m.model_id) for m in dated}
    for rule in rules:
        if rule.kind != "shutdown" or not rule.covers_source(source):
            continue
        for model in dated:
            assert model.shutdown_at is not None
            if not rule.covers_model(model.model_id):
                continue
            current.add((rule.name, model.model_id, model.shutdown_at))
            used = uses[model.model_id]
            if rule.in_use and not (used is not None and used["count"]):
                continue
            new = _new_marks(rule, source, model, marks, now)
            if new:
                plan.new_marks += new
                plan.alerts.append(_countdown_alert(rule, source, model, used, now, new))
    plan.obsolete_marks = _obsolete_marks(source, marks, current)
    return plan


def _new_marks(
    rule: AlertRule, source: str, model: ModelState, marks: set[Mark], now: datetime
) -> list[Mark]:
    """The thresholds this model has reached under this rule and not yet alerted for."""
    assert model.shutdown_at is not None
    reached = (
        Mark(rule.name, source, model.model_id, t, model.shutdown_at)
        for t in crossed(rule.thresholds, model.shutdown_at, now)
    )
    return [mark for mark in reached if mark not in marks]


def _countdown_alert(
    rule: AlertRule,
    source: str,
    model: ModelState,
    used: dict[str, Any] | None,
    now: datetime,
    new: Sequence[Mark],
) -> Alert:
    return Alert(
        rule=rule.name,
        kind="shutdown",
        source=source,
        model_id=model.model_id,
        summary=_with_use(_countdown_summary(source, model, now), used),
        replacement=model.replacement,
        in_use=used,
        shutdown=_shutdown_block(model, now, new[0].threshold_days),
    )


def _obsolete_marks(
    source: str, marks: set[Mark], current: set[tuple[str, str, datetime]]
) -> list[Mark]:
    return sorted(
        (
            m
            for m in marks
            if m.source == source and (m.rule, m.model_id, m.shutdown_at) not in current
        ),
        key=lambda m: (m.rule, m.model_id, m.threshold_days, m.shutdown_at),
    )


# --- stale sources -------------------------------------------------------------------------------


def stale_after(rules: Sequence[AlertRule], source: str, interval: timedelta) -> timedelta:
    """How long a source may go without success: the tightest stale rule, else 3 intervals."""
    limits = [
        r.stale_after
        for r in rules
        if r.kind == "stale" and r.stale_after is not None and r.covers_source(source)
    ]
    return min(limits, default=interval * STALE_INTERVALS)


def is_stale(health: Health, limit: timedelta, now: datetime) -> bool:
    reference = health.last_success_at or health.first_attempt_at
    return reference is not None and now - reference > limit


def stale_plan(
    rules: Sequence[AlertRule],
    sources: Sequence[Health],
    marks: Iterable[StaleMark],
    now: datetime,
) -> StalePlan:
    """Alert once when a source goes stale, and once more when it recovers.

    A source that never ran is not stale (nothing was expected of it yet); one that never
    succeeded is stale counted from its first attempt.
    """
    plan = StalePlan()
    marked = {(m.rule, m.source): m for m in marks}
    for rule in rules:
        if rule.kind != "stale":
            continue
        for health in sources:
            if not rule.covers_source(health.source):
                continue
            limit = rule.stale_after or health.interval * STALE_INTERVALS
            mark = marked.get((rule.name, health.source))
            stale = is_stale(health, limit, now)
            block = {
                "last_success_at": health.last_success_at,
                "stale_after_seconds": int(limit.total_seconds()),
                "previous_success_at": None,
            }
            if stale and mark is None:
                reference = health.last_success_at or health.first_attempt_at
                assert reference is not None
                since = "its last success" if health.last_success_at else "its first attempt"
                plan.new_marks.append(StaleMark(rule.name, health.source, health.last_success_at))
                plan.alerts.append(
                    Alert(
                        rule=rule.name,
                        kind="stale",
                        source=health.source,
                        stale=block,
                        summary=f"{health.source}: no successful sync for "
                        f"{duration_text(now - reference)} since {since} "
                        f"({human_time(reference)}); "
                        f"stale after {duration_text(limit)}",
                    )
                )
            elif not stale and mark is not None:
                plan.recovered.append(mark)
                block["previous_success_at"] = mark.last_success_at
                plan.alerts.append(
                    Alert(
                        rule=rule.name,
                        kind="recovered",
                        source=health.source,
                        stale=block,
                        summary=f"{health.source}: syncing successfully again",
                    )
                )
    return plan


def probe_alert(rule: AlertRule) -> Alert:
    """What ``syncer alerts test NAME`` sends: proves the channel, matches nothing."""
    return Alert(rule=rule.name, kind="test", summary=f"syncer: test alert for rule {rule.name}")
