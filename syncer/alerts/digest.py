"""Digests: a rule's alerts of a window, netted and grouped into one message (pure).

A digest rule (``deliver = "digest"``) keeps its alerts in the outbox as ``held``; at each
fire time of its ``schedule`` (cron, in its ``timezone``), ``digests.compose_due`` hands
the held alerts written up to that time to ``compose``, which nets them per model (added
then gone is one line, or none with ``drop_transient``; a date moved twice shows its
final date), groups them by source, then by what happened, soonest shutdown first, and
caps each group. ``render`` writes the text Slack and Apprise show, within their limits.

What cannot wait goes out at once anyway: ``urgent`` says which alerts ``immediate_if``
takes out of the digest.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from syncer.alerts.decide import date_origin, days_left, used_text
from syncer.config.model import AlertRule
from syncer.timeutil import iso
from syncer.words import clip

__all__ = [
    "DIGEST_VERSION",
    "GROUPS",
    "TEXT_LIMITS",
    "Held",
    "Item",
    "compose",
    "fire_times",
    "latest_fire",
    "net",
    "next_fire",
    "quiet_until",
    "render",
    "urgent",
]

#: The webhook document of a digest; immediate alerts keep sending version 1.
DIGEST_VERSION = 2
#: The groups of a source's section, in the order shown, with their headings.
GROUPS = (
    ("shutting_down", "Shutting down"),
    ("gone", "Vanished or retired"),
    ("added", "Added"),
    ("changed", "Changed"),
    ("lifecycle", "Lifecycle status changes"),
    ("health", "Stale or recovered"),
)
_GROUP_OF = {
    "shutdown": "shutting_down",
    "shutdown_changed": "shutting_down",
    "vanished": "gone",
    "retired": "gone",
    "deleted": "gone",
    "vanished_back": "gone",
    "added": "added",
    "added_gone": "added",
    "reappeared": "added",
    "changed": "changed",
    "delete_failed": "changed",
    "status_changed": "lifecycle",
    "stale": "health",
    "recovered": "health",
    "stale_recovered": "health",
}
_GONE = frozenset({"vanished", "retired", "deleted"})
_PRESENCE = _GONE | {"added", "reappeared"}
#: The most characters each channel's text may have: Slack truncates a message's text at
#: 40,000; Apprise splits or truncates for each service itself, within its own limit.
TEXT_LIMITS = {"slack": 39_000, "apprise": 32_000, "webhook": 32_000}
_MICRO = timedelta(microseconds=1)


# --- when ----------------------------------------------------------------------------------------


def fire_times(cron: str, timezone: str, after: datetime, until: datetime) -> Iterator[datetime]:
    """The schedule's fire times in ``(after, until]``, in UTC.

    A wall-clock time that happens twice (the hour the clocks go back) fires once: a daily
    digest stays daily. One that never happens (the hour they go forward) fires once, an
    hour later by the clock, as APScheduler reads it.
    """
    from apscheduler.triggers.cron import CronTrigger

    zone = ZoneInfo(timezone)
    trigger = CronTrigger.from_crontab(cron, timezone=zone)
    fire = trigger.get_next_fire_time(None, after.astimezone(UTC) + _MICRO)
    previous_wall = None
    while fire is not None and fire <= until:
        wall = fire.replace(tzinfo=None)
        moment = fire.astimezone(UTC)
        if wall != previous_wall:
            yield moment
        previous_wall = wall
        # Stepped in UTC: local wall-clock arithmetic stays in a repeated hour forever.
        fire = trigger.get_next_fire_time(None, moment + _MICRO)


def latest_fire(cron: str, timezone: str, after: datetime, until: datetime) -> datetime | None:
    """The last fire time in ``(after, until]``: missed ones fold into one digest."""
    latest = None
    for latest in fire_times(cron, timezone, after, until):  # noqa: B007
        pass
    return latest


def next_fire(cron: str, timezone: str, after: datetime) -> datetime:
    """The first fire time after ``after`` (a cron always has one within eight years)."""
    return next(fire_times(cron, timezone, after, after + timedelta(days=366 * 8)))


# --- which alerts wait ---------------------------------------------------------------------------


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def quiet_until(rule: AlertRule, now: datetime) -> datetime | None:
    """When the rule's quiet hours (``quiet``, in its ``timezone``) that ``now`` falls in
    end, in UTC; None outside them. A window that ends before it starts runs past
    midnight; ``quiet_days`` name the days a window starts on."""
    if rule.quiet is None:
        return None
    (start_h, start_m), (end_h, end_m) = rule.quiet
    zone = ZoneInfo(rule.timezone)
    local = now.astimezone(zone)
    for back in (1, 0):  # a window that started yesterday, or today
        day = local.date() - timedelta(days=back)
        if rule.quiet_days and _DAYS[day.weekday()] not in rule.quiet_days:
            continue
        start = datetime(day.year, day.month, day.day, start_h, start_m, tzinfo=zone)
        end = datetime(day.year, day.month, day.day, end_h, end_m, tzinfo=zone)
        if end <= start:
            end += timedelta(days=1)
        # Compared in UTC: aware datetimes in one zone compare by their wall clocks.
        if start.astimezone(UTC) <= now.astimezone(UTC) < end.astimezone(UTC):
            return end.astimezone(UTC)
    return None


def urgent(rule: AlertRule, document: Mapping[str, Any], in_use: bool = False) -> bool:
    """Whether ``immediate_if`` sends this alert of a digest rule at once.

    Each condition of a clause must hold (its kinds, ``in_use``, a shutdown within
    ``days_left``); any clause will do.
    """
    kind = document["kind"]
    shutdown = document.get("shutdown") or {}
    left = shutdown.get("days_left")
    for clause in rule.immediate_if:
        if clause.kinds and kind not in clause.kinds:
            continue
        if clause.in_use and not in_use:
            continue
        if clause.days_left is not None and (left is None or left > clause.days_left):
            continue
        return True
    return False


# --- netting -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """One held alert of the rule, as the outbox keeps it (its version-1 document)."""

    alert_id: str
    created_at: datetime
    document: Mapping[str, Any]


@dataclass(frozen=True)
class Item:
    """One line of a digest: what a window did to one model (or source), netted."""

    kind: str
    source: str | None
    model_id: str | None
    text: str
    alert_ids: tuple[str, ...]
    occurred_at: datetime
    shutdown_at: datetime | None = None
    replacement: str | None = None
    #: Where the date came from: ``provider``, or ``imported`` (from ``origin``).
    date_source: str | None = None
    origin: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    #: Where the model is used, as its latest alert said (``decide.in_use_block``).
    in_use: Mapping[str, Any] | None = None

    @property
    def group(self) -> str:
        return _GROUP_OF.get(self.kind, "changed")


def _when(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _day(value: Any) -> str:
    moment = _when(value)
    return "none" if moment is None else str(moment.date())


def _item(kind: str, held: Sequence[Held], text: str, **details: Any) -> Item:
    """An item from the alerts it nets, with the latest one's shutdown facts (and its
    replacement: alerts written before ``replacement`` was a key have it in ``shutdown``)."""
    last = held[-1].document
    shutdown = (
        next((h.document["shutdown"] for h in reversed(held) if h.document.get("shutdown")), None)
        or {}
    )
    return Item(
        kind=kind,
        source=last.get("source"),
        model_id=last.get("model_id"),
        text=text,
        alert_ids=tuple(h.alert_id for h in held),
        occurred_at=held[-1].created_at,
        shutdown_at=_when(shutdown.get("shutdown_at")),
        replacement=last.get("replacement") or shutdown.get("replacement"),
        date_source=shutdown.get("date_source"),
        origin=shutdown.get("origin"),
        details=details,
        in_use=last.get("in_use"),
    )


def _merged_change(held: Sequence[Held], key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each field's value before the first change and after the last; unchanged ones drop."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for h in held:
        event = h.document.get("event") or {}
        before, after = event.get("old_values") or {}, event.get("new_values") or {}
        for name in after if key == "*" else (key,):
            old.setdefault(name, before.get(name))
            new[name] = after.get(name)
    changed = {k for k in new if old.get(k) != new[k]}
    return {k: old[k] for k in sorted(changed)}, {k: new[k] for k in sorted(changed)}


def _short(value: Any) -> str:
    return clip("none" if value is None else str(value), 40)


def _model_items(held: Sequence[Held], drop_transient: bool) -> list[Item]:
    """Net one model's event alerts of the window, oldest first."""
    model = held[-1].document.get("model_id")
    presence = [h for h in held if h.document["kind"] in _PRESENCE]
    first = presence[0].document["kind"] if presence else None
    last = presence[-1].document["kind"] if presence else None
    if first == "added":
        return _added_items(model, presence, last, drop_transient)
    items = _presence_items(model, presence, first, last)
    if last in _GONE:
        return items  # what changed about a model now gone is no news
    dates = [h for h in held if h.document["kind"] == "shutdown_changed"]
    items.extend(_date_items(model, dates))
    items.extend(_field_items(model, held, dates_said=bool(dates)))
    items.extend(_other_items(model, held))
    return items


def _added_items(
    model: Any, presence: Sequence[Held], last: str | None, drop_transient: bool
) -> list[Item]:
    """A model added in the window: its later changes are part of its arrival."""
    if last not in _GONE:
        return [_item("added", presence, f"{model}: added")]
    if drop_transient:
        return []
    text = f"{model}: added, and gone again ({_day(presence[-1].created_at)})"
    return [_item("added_gone", presence, text)]


def _presence_items(
    model: Any, presence: Sequence[Held], first: str | None, last: str | None
) -> list[Item]:
    if first in _GONE and last == "reappeared":
        return [_item("vanished_back", presence, f"{model}: vanished, and back again")]
    if last is None:
        return []
    gone = [h for h in presence if h.document["kind"] == last]
    return [_item(last, presence, _gone_text(model, last, gone[-1].document))]


def _date_items(model: Any, dates: Sequence[Held]) -> list[Item]:
    if not dates:
        return []
    old, new = _merged_change(dates, "shutdown_at")
    if not new:
        return []
    text = f"{model}: shutdown date {_day(old['shutdown_at'])} → {_day(new['shutdown_at'])}"
    return [_item("shutdown_changed", dates, text)]


def _field_items(model: Any, held: Sequence[Held], dates_said: bool) -> list[Item]:
    """Field and status changes netted, up to three fields shown each."""
    items: list[Item] = []
    for kind, key in (("changed", "*"), ("status_changed", "lifecycle_status")):
        of_kind = [h for h in held if h.document["kind"] == kind]
        if not of_kind:
            continue
        old, new = _merged_change(of_kind, key)
        if dates_said:  # the date's own line says it
            new = {k: v for k, v in new.items() if "shutdown" not in k}
        if not new:
            continue
        shown = [f"{k} {_short(old[k])} → {_short(new[k])}" for k in list(new)[:3]]
        more = f" and {len(new) - 3} more" if len(new) > 3 else ""
        what = "changed: " if kind == "changed" else ""
        items.append(_item(kind, of_kind, f"{model}: {what}{', '.join(shown)}{more}"))
    return items


def _other_items(model: Any, held: Sequence[Held]) -> list[Item]:
    netted = (*_PRESENCE, "shutdown_changed", "changed", "status_changed")
    # the item's facts say the lifecycle its summary ends with
    return [
        _item(h.document["kind"], [h], f"{model}: {h.document['kind']}")
        for h in held
        if h.document["kind"] not in netted
    ]


def _gone_text(model: Any, kind: str, document: Mapping[str, Any]) -> str:
    shutdown = document.get("shutdown") or {}
    if kind == "retired" and shutdown.get("shutdown_at"):
        return f"{model}: retired as announced for {_day(shutdown['shutdown_at'])}"
    if kind == "vanished" and shutdown.get("shutdown_at"):
        return f"{model}: vanished before its shutdown date"
    if kind == "vanished":
        return f"{model}: vanished without a known shutdown date"
    return f"{model}: {kind}"


def _after_source(document: Mapping[str, Any]) -> str:
    """A version-1 summary without its ``source: `` prefix (the digest's heading says it)."""
    summary = str(document.get("summary") or document["kind"])
    source = document.get("source")
    return summary.removeprefix(f"{source}: ") if source else summary


def net(held: Sequence[Held], drop_transient: bool = False) -> list[Item]:
    """The window's alerts netted per model (and per source for stale ones), oldest first.

    Countdowns keep their latest alert (the tightest threshold); stale then recovered is
    one item, as is added then gone (none with ``drop_transient``).
    """
    by_key: dict[tuple[Any, Any, str], list[Held]] = {}
    for h in held:
        kind = h.document["kind"]
        family = (
            "stale"
            if kind in ("stale", "recovered")
            else ("shutdown" if kind == "shutdown" else "event")
        )
        by_key.setdefault(
            (h.document.get("source"), h.document.get("model_id"), family), []
        ).append(h)
    items: list[Item] = []
    for (_, _, family), group in by_key.items():
        if family == "shutdown":
            # Its own words: the alert's count of days is stale by the time of the digest.
            item = _item("shutdown", group, "")
            date = item.shutdown_at.date() if item.shutdown_at else "?"
            items.append(replace(item, text=f"{item.model_id}: shuts down {date}"))
        elif family == "stale":
            kinds = [h.document["kind"] for h in group]
            if kinds[0] == "stale" and kinds[-1] == "recovered":
                items.append(
                    _item(
                        "stale_recovered",
                        group,
                        "stale for a while, and syncing successfully again",
                    )
                )
            else:
                items.append(_item(kinds[-1], group, _after_source(group[-1].document)))
        else:
            items += _model_items(group, drop_transient)
    return sorted(items, key=lambda i: i.occurred_at)


# --- the document and its text -------------------------------------------------------------------


def _facts(item: Item, now: datetime) -> str:
    """Days left, replacement, the date's origin and where the model is used, where the
    item knows them."""
    parts = []
    if item.shutdown_at is not None and item.kind not in ("retired", "added_gone"):
        left = days_left(item.shutdown_at, now)
        if item.kind not in ("shutdown", "shutdown_changed"):
            parts.append(f"shuts down {item.shutdown_at.date()}")
        parts.append(f"{left} day{'s' if left != 1 else ''} left" if left > 0 else "date reached")
    if item.replacement:
        parts.append(f"replacement: {item.replacement}")
    if item.date_source:
        parts.append(date_origin(item.date_source, item.origin))
    if used := used_text(item.in_use):
        parts.append(used)
    return f" ({'; '.join(parts)})" if parts else ""


def _sort_key(item: Item) -> tuple[bool, datetime, str]:
    """Soonest shutdown first; undated items after, by model."""
    undated = item.shutdown_at is None
    return (undated, item.shutdown_at or item.occurred_at, item.model_id or "")


def compose(
    rule: AlertRule,
    items: Sequence[Item],
    *,
    alert_id: str,
    start: datetime | None,
    end: datetime,
    now: datetime,
    covered: Sequence[str],
    report_url: str | None = None,
) -> dict[str, Any]:
    """The digest document (``DIGEST_VERSION``): sections by source, groups in ``GROUPS``
    order, at most ``rule.digest_limit`` items each with the count of the rest; its
    ``text`` is what Slack and Apprise show, cut to the channel's limit."""
    sources: dict[str, dict[str, list[Item]]] = {}
    for item in items:
        sources.setdefault(item.source or "syncer", {}).setdefault(item.group, []).append(item)
    sections = []
    for source in sorted(sources):
        groups = []
        for group, title in GROUPS:
            members = sorted(sources[source].get(group, []), key=_sort_key)
            if not members:
                continue
            shown = members[: rule.digest_limit]
            groups.append(
                {
                    "group": group,
                    "title": title,
                    "total": len(members),
                    "more": len(members) - len(shown),
                    "items": [_item_document(i, now) for i in shown],
                }
            )
        sections.append({"source": source, "groups": groups})
    counts: dict[str, int] = {}
    for item in items:
        counts[item.group] = counts.get(item.group, 0) + 1
    said = ", ".join(f"{counts[g]} {t.lower()}" for g, t in GROUPS if g in counts)
    summary = (
        f"syncer digest for rule {rule.name}: {said}"
        if said
        else f"syncer digest for rule {rule.name}: nothing happened"
    )
    document = {
        "version": DIGEST_VERSION,
        "kind": "digest",
        "id": alert_id,
        "rule": rule.name,
        "created_at": iso(now),
        "window": {
            "start": iso(start) if start else None,
            "end": iso(end),
            "timezone": rule.timezone,
        },
        "summary": summary,
        "total": len(items),
        "counts": {g: counts[g] for g, _ in GROUPS if g in counts},
        "report_url": report_url,
        "alerts": list(covered),
        "sources": sections,
    }
    document["text"] = render(document, TEXT_LIMITS[rule.channel.kind])
    return document


def _item_document(item: Item, now: datetime) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "model_id": item.model_id,
        "text": item.text + _facts(item, now),
        "shutdown_at": iso(item.shutdown_at) if item.shutdown_at else None,
        "days_left": days_left(item.shutdown_at, now) if item.shutdown_at else None,
        "replacement": item.replacement,
        "date_source": item.date_source,
        "origin": item.origin,
        "in_use": item.in_use,
        "occurred_at": iso(item.occurred_at),
        "alert_ids": list(item.alert_ids),
    }


def _local(value: str | None, timezone: str) -> str:
    moment = _when(value)
    if moment is None:
        return "the start"
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def render(document: Mapping[str, Any], limit: int) -> str:
    """The digest as plain lines: a heading, then per source its groups' items.

    Past ``limit`` characters the rest is cut at a line, and the last line says how many
    items were left out (and where the report is).
    """
    window = document["window"]
    report = document.get("report_url")
    head = (
        f"{document['summary']}\n{_local(window['start'], window['timezone'])} → "
        f"{_local(window['end'], window['timezone'])} ({window['timezone']})"
    )
    lines = [head]
    for section in document["sources"]:
        lines.append("")
        lines.append(f"{section['source']}")
        for group in section["groups"]:
            lines.append(f"  {group['title']} ({group['total']})")
            lines += [f"  • {item['text']}" for item in group["items"]]
            if group["more"]:
                where = f": {report}" if report else ""
                lines.append(f"  … and {group['more']} more{where}")
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    where = f": {report}" if report else " (the webhook document lists them all)"
    kept: list[str] = []
    size = 80 + len(where)  # room for the last line
    for line in lines:
        if size + len(line) + 1 > limit:
            break
        kept.append(line)
        size += len(line) + 1
    left = sum(1 for line in lines[len(kept) :] if line.startswith("  • "))
    return "\n".join([*kept, f"… and {left} more, cut to fit this channel{where}"])
