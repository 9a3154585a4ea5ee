"""Announced shutdowns as an iCalendar feed that Google Calendar, Outlook and others subscribe to.

One all-day event per model. Its UID depends on the source and the model only, so when the
date moves the subscriber's calendar moves the event instead of adding a second one; its
``SEQUENCE`` and ``LAST-MODIFIED`` come from when the store learnt the date
(``Shutdown.set_at``), so they grow whenever it moves, with no state kept here.

An event needs a date, and a model whose lifecycle status says it is going may have none
(``Undated``). Leaving it out would hide from subscribers what ``syncer deprecations``
lists, so it gets the model's event on the day the store learnt the status, saying that no
date is known. The event has the model's one UID: when a date is announced or imported the
same event moves to it (and back if the date is withdrawn), as a moved date does. The
feed's own description says so.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event
from icalendar.prop import vDuration

from syncer.alerts.decide import days_left
from syncer.reporting.shutdowns import Shutdown, Undated

__all__ = ["CALENDAR_DESCRIPTION", "CALENDAR_NAME", "event_uid", "sequence", "shutdown_calendar"]

CALENDAR_NAME = "Model shutdowns (syncer)"
PRODID = "-//syncer//model shutdowns//EN"
#: uuid5 namespace of the event UIDs: fixed forever, or every subscriber gets duplicates.
UID_NAMESPACE = uuid.UUID("6f0bd5c4-5a3e-4a49-9d3e-8a7c2b1e0f14")
#: ``SEQUENCE`` counts seconds from here: an integer that only grows as dates are set later.
SEQUENCE_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
#: How often subscribers are asked to fetch the feed again.
REFRESH = timedelta(hours=6)
#: The feed's description (RFC 7986 ``DESCRIPTION``, and ``X-WR-CALDESC`` for older clients).
CALENDAR_DESCRIPTION = (
    "One all-day event per model: on its shutdown date, past or ahead. A listed model whose "
    "lifecycle status says it is going (deprecated, inactive, ...) with no date known has "
    "its event on the day that status was learnt; the event moves to the shutdown date "
    "once one is known."
)
DATE_SOURCES = {
    "provider": "the provider's model list",
    "imported": "an imported deprecations file",
}


def event_uid(source: str, model_id: str) -> str:
    """The same for a model whatever its date: a moved date updates the event."""
    return f"{uuid.uuid5(UID_NAMESPACE, f'{source}/{model_id}')}@syncer"


def sequence(set_at: datetime) -> int:
    """Seconds since 2020 at which the date was set: higher for every later revision."""
    return max(0, int((set_at - SEQUENCE_EPOCH).total_seconds()))


def _description(shutdown: Shutdown, now: datetime) -> str:
    day = shutdown.shutdown_at.date().isoformat()
    left = days_left(shutdown.shutdown_at, now)
    model = f"{shutdown.source}: {shutdown.model_id}"
    if left > 0:
        countdown = f"{left} day{'s' if left != 1 else ''} left (as of {now.date().isoformat()})"
        headline = f"{model} shuts down on {day}: {countdown}."
    elif left == 0:
        headline = f"{model} shuts down on {day}: the date has come."
    else:
        # A past date reads as history, the same whenever the feed is fetched: a count of
        # days ago would be stale in a subscriber's calendar by the next day.
        headline = f"{model} shut down on {day}."
    lines = [
        headline,
        f"Replacement: {shutdown.replacement or 'none announced'}.",
        f"Date from: {DATE_SOURCES.get(shutdown.date_source, shutdown.date_source)}.",
    ]
    if shutdown.date_source == "imported":
        lines.append(f"Imported from: {shutdown.origin or 'unknown'}.")
        if shutdown.source_url:
            lines.append(f"Source: {shutdown.source_url}")
    if shutdown.vanished_at is not None:
        lines.append(f"No longer listed since {shutdown.vanished_at.date().isoformat()}.")
    return "\n".join(lines)


def _undated_description(model: Undated) -> str:
    since = model.since.date().isoformat()
    return "\n".join(
        [
            f"{model.source}: {model.model_id} is {model.status}, with no shutdown date known.",
            f"Status {model.status} since {since}: this event stands on that day and moves to "
            "the shutdown date once one is announced or imported.",
            f"Replacement: {model.replacement or 'none announced'}.",
        ]
    )


def _event(source: str, model_id: str, day: date, set_at: datetime, now: datetime) -> Event:
    """A model's all-day event: the same UID whatever its day."""
    event = Event()
    event.add("uid", event_uid(source, model_id))
    event.add("dtstamp", now)
    event.add("last-modified", set_at)
    event.add("sequence", sequence(set_at))
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("transp", "TRANSPARENT")
    return event


def shutdown_calendar(
    shutdowns: Iterable[Shutdown], now: datetime, undated: Iterable[Undated] = ()
) -> bytes:
    """The feed as bytes (``text/calendar``, CRLF lines), as of ``now``: an event per
    shutdown, and one per ``undated`` model on the day its status was learnt."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", CALENDAR_NAME)
    # RFC 7986's property, and Outlook's older one beside it: both a duration (``PT6H``).
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    calendar.add("description", CALENDAR_DESCRIPTION)
    calendar.add("x-wr-caldesc", CALENDAR_DESCRIPTION)
    for shutdown in shutdowns:
        event = _event(
            shutdown.source, shutdown.model_id, shutdown.shutdown_at.date(), shutdown.set_at, now
        )
        event.add("summary", f"{shutdown.model_id} shuts down ({shutdown.source})")
        event.add("description", _description(shutdown, now))
        event.add("categories", ["model shutdown"])
        calendar.add_component(event)
    for model in undated:
        event = _event(model.source, model.model_id, model.since.date(), model.set_at, now)
        event.add("summary", f"{model.model_id} {model.status}, no shutdown date ({model.source})")
        event.add("description", _undated_description(model))
        event.add("categories", ["model deprecated"])
        calendar.add_component(event)
    ics: bytes = calendar.to_ical()
    return ics
