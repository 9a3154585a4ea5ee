"""Time, one copy of each rule: the clock, durations, moments and how a time is written.

Every module defaults to ``utcnow`` and tests replace it; every time is aware UTC.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

__all__ = [
    "age_days",
    "days_until",
    "duration_text",
    "format_duration",
    "human_time",
    "iso",
    "parse_duration",
    "parse_moment",
    "seconds",
    "utcnow",
    "whole_days",
]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_WHOLE_UNITS = (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def utcnow() -> datetime:
    """The clock every module defaults to, and tests replace: aware UTC."""
    return datetime.now(UTC)


def seconds(value: float, shown: object) -> timedelta:
    """``value`` seconds as a timedelta; ValueError naming ``shown`` when it cannot be one."""
    try:
        return timedelta(seconds=value)
    except (OverflowError, ValueError):
        raise ValueError(f"{shown!r} is too long a duration") from None


def parse_duration(text: str) -> timedelta:
    """Parse ``"90s"``, ``"15m"``, ``"12h"``, ``"7d"`` or ``"2w"`` into a timedelta."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like '15m', '12h' or '7d'")
    return seconds(float(match[1]) * _UNITS[match[2]], text)


def parse_moment(text: str, now: datetime) -> datetime:
    """Read a point in time: ISO-8601 date or date-time (UTC unless it says otherwise),
    or a span back from ``now`` like ``7d`` or ``12h``.

    Every failure, a moment outside the years 1 to 9999 (in UTC) included, is a ValueError
    that quotes ``text``, so a caller turns any of them into one usage error.
    """
    if _DURATION.match(text):
        span = parse_duration(text)
        try:
            return now - span
        except OverflowError:
            raise ValueError(f"{text!r} reaches back before the year 1") from None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use an ISO-8601 date or date-time, or a span like '7d'"
        ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(
            f"{text!r} is out of range: in UTC it falls outside the years 1 to 9999"
        ) from None


def iso(moment: datetime) -> str:
    """A time as syncer writes it for machines (JSON, CSV, payloads, ``/healthz``).

    Always with microseconds, so every value of a column has one width and sorts as text, and
    a time read back (``--as-of``) is the stored one exactly: ``2026-03-01T12:00:00.000000Z``.
    """
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def human_time(moment: datetime) -> str:
    """A time as syncer writes it for people (tables, messages, log lines): whole seconds,
    ``2026-03-01T12:00:00Z``."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def format_duration(delta: timedelta) -> str:
    """``90d``, ``2w``, ``36h``: the largest unit that divides it, as a config file says it."""
    total = delta.total_seconds()
    for unit, size in _WHOLE_UNITS:
        if total >= size and total % size == 0:
            return f"{int(total // size)}{unit}"
    return f"{total:g}s"


def duration_text(delta: timedelta) -> str:
    """``3h 5m``: the units a person reads in a message, zeros left out."""
    minutes, secs = divmod(int(delta.total_seconds()), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    units = ((days, "d"), (hours, "h"), (minutes, "m"), (secs, "s"))
    return " ".join(f"{n}{unit}" for n, unit in units if n) or "0s"


def whole_days(span: timedelta) -> int:
    """A span in whole days: the one rule for every count of days a person reads (days
    left, age in days). It rounds up, toward the future: a shutdown 2.15 days ahead is 3
    days left ("within 3 days"; a date at midnight counts as the calendar does), 0 once it
    has come, -1 a day after; a model created 1118.9 days ago is -1118 days ahead, so 1118
    days old (``age_days``): the days completed."""
    return math.ceil(span / timedelta(days=1))


def days_until(moment: datetime, now: datetime) -> int:
    """Whole days from ``now`` to ``moment`` (``whole_days``): days left."""
    return whole_days(moment - now)


def age_days(age: timedelta) -> int:
    """An age in whole days (``whole_days``): the days completed, 0 under a day."""
    return -whole_days(-age)
