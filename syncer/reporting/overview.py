"""What the HTML report shows, decided over plain data (pure): summaries, timeline, calendar, feed.

The timeline has to stay readable at thousands of models, so a model gets a row of its own
only when something happened to it in the window (it came, went, came back, changed, or
has a shutdown date); the models listed throughout without a change collapse into one row
per source. Marks that would land on the same spot are merged, so a row has a bounded
number of them however often a model flapped. Positions are percentages of the time axis,
computed here once so the template only prints them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from syncer.alerts.decide import days_left
from syncer.config.model import MODEL_EVENT_KINDS
from syncer.lifecycle import changed_by
from syncer.reporting.history import Interval
from syncer.reporting.shutdowns import Shutdown, Undated
from syncer.words import counted, value_text

__all__ = [
    "FEED_LIMIT",
    "LEGEND",
    "MARK_KINDS",
    "Axis",
    "Bar",
    "Event",
    "FeedItem",
    "Mark",
    "Month",
    "Overview",
    "Run",
    "SourceSummary",
    "SourceTimeline",
    "TimelineRow",
    "build_overview",
    "describe_change",
]

#: The change feed shows this many events, newest first; the summaries count them all.
FEED_LIMIT = 500
#: Events drawn on the timeline (an ``added`` is where a bar starts).
MARK_KINDS = tuple(kind for kind in MODEL_EVENT_KINDS if kind != "added")
#: What each kind of bar and mark means, in the order the legend lists them.
LEGEND = {
    "listed": "listed",
    "ahead": "until the announced shutdown",
    "vanished": "vanished",
    "reappeared": "reappeared",
    "changed": "changed",
    "shutdown_changed": "shutdown date moved",
    "shutdown": "shutdown date",
    "deleted": "deleted by retention",
    "delete_failed": "deletion failed",
    "source_retired": "source retired",
    "status_changed": "lifecycle status changed",
}
#: Marks of one kind closer than this share of the axis are drawn as one.
MARK_BUCKET = 0.25
#: How far ahead of today the axis reaches for an announced shutdown.
AHEAD_LIMIT = timedelta(days=366)
#: The least share of the axis the history, and the dates ahead, each get.
MIN_SHARE = 0.3
#: How far from the axis' ends (percent) a mark of a moment outside it is drawn.
MARK_EDGE = 1.0
#: The shortest history the axis shows: a first sync a minute ago still gets a bar.
SHORTEST_HISTORY = timedelta(hours=1)
#: A value shown in the feed or a mark's title is cut to this many characters.
MAX_VALUE = 60


@dataclass(frozen=True, slots=True)
class Event:
    """One model event as the report reads it."""

    source: str
    model_id: str
    kind: str
    occurred_at: datetime
    old_values: Mapping[str, Any] | None = None
    new_values: Mapping[str, Any] | None = None
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Run:
    """A source's latest sync attempt and its latest success."""

    source: str
    finished_at: datetime
    status: str
    error: str | None
    last_ok_at: datetime | None


@dataclass(frozen=True)
class Axis:
    """The time axis: the history (``start`` to ``now``), then the announced dates ahead (to
    ``end``).

    One scale while the two are of comparable length. When one would be a sliver beside the
    other (a day of history beside a year of announced dates, or years of history beside a
    date next week), each part gets its own scale and at least ``MIN_SHARE`` of the width,
    split at ``now``, so the present inventory shows as bars and the upcoming dates apart.
    """

    start: datetime
    end: datetime
    #: Where the history ends and the dates ahead begin; None: one scale throughout.
    now: datetime | None = None
    #: The share of the width (0 to 1) at which ``now`` falls.
    split: float = 1.0

    @classmethod
    def spanning(cls, start: datetime, now: datetime, end: datetime) -> Axis:
        """The axis from ``start`` to ``end``, with the scales split at ``now`` if needed."""
        if end <= now:
            return cls(start, end)
        natural = (now - start) / (end - start)
        split = min(1 - MIN_SHARE, max(MIN_SHARE, natural))
        return cls(start, end) if split == natural else cls(start, end, now, split)

    def at(self, moment: datetime) -> float:
        """Where ``moment`` falls, in percent of the axis, clamped to it."""
        if self.now is None:
            share = (moment - self.start) / (self.end - self.start)
        elif moment <= self.now:
            share = self.split * ((moment - self.start) / (self.now - self.start))
        else:
            share = self.split + (1 - self.split) * ((moment - self.now) / (self.end - self.now))
        return round(100 * min(1.0, max(0.0, share)), 2)

    def mark_at(self, moment: datetime) -> float:
        """Like ``at``, but a mark before or after the axis is drawn whole inside it."""
        return min(100 - MARK_EDGE, max(MARK_EDGE, self.at(moment)))

    def ticks(self) -> list[tuple[float, str]]:
        """Labelled moments along the axis, as many as fit, on each scale."""
        if self.now is None:
            return _ticks(self, self.start, self.end, 1.0)
        skip = 100 * TICK_GAP
        now = self.at(self.now)
        return [
            (left, label)
            for left, label in [
                *_ticks(self, self.start, self.now, self.split),
                *_ticks(self, self.now, self.end, 1 - self.split),
            ]
            if abs(left - now) >= skip
        ]


#: Tick steps, finest first: (size, unit) with unit "h" (hours), "d" (days; 7: Mondays) or
#: "m" (months).
TICK_STEPS = (
    (1, "h"),
    (3, "h"),
    (6, "h"),
    (12, "h"),
    (1, "d"),
    (7, "d"),
    (1, "m"),
    (3, "m"),
    (6, "m"),
    (12, "m"),
    (60, "m"),
)
#: Labels on the whole width: about one every 80 pixels of a 1,100-pixel timeline.
TICKS_PER_WIDTH = 14
#: No label closer than this share of the width to ``now`` (it has its own label).
TICK_GAP = 0.04


def _ticks(axis: Axis, start: datetime, end: datetime, share: float) -> list[tuple[float, str]]:
    """Labelled moments strictly between ``start`` and ``end``, which take ``share`` of the
    width: the finest step that gives no more labels than fit."""
    room = max(1, int(TICKS_PER_WIDTH * share))
    for size, unit in TICK_STEPS:
        moments = _steps(start, end, size, unit, room)
        if moments is not None:
            break
    else:
        return []
    return [(axis.at(moment), _label(moment, size, unit)) for moment in moments]


def _steps(
    start: datetime, end: datetime, size: int, unit: str, room: int
) -> list[datetime] | None:
    """The round moments of a step between ``start`` and ``end``; None when more than
    ``room`` of them."""
    if unit == "m":
        moment = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    elif unit == "d":
        moment = start.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        moment = start.replace(minute=0, second=0, microsecond=0)
    found: list[datetime] = []
    while moment < end:
        if moment > start and _round(moment, size, unit):
            found.append(moment)
            if len(found) > room:
                return None
        if unit == "m":
            year, month = divmod(moment.month, 12)
            moment = moment.replace(year=moment.year + year, month=month + 1)
        elif unit == "d":
            moment += timedelta(days=1)
        else:
            moment += timedelta(hours=1)
    return found


def _round(moment: datetime, size: int, unit: str) -> bool:
    """Whether ``moment`` is one of a step's moments: every ``size`` hours from midnight,
    every day or every Monday, every ``size`` months from January (years: round years)."""
    if unit == "h":
        return moment.hour % size == 0
    if unit == "d":
        return size == 1 or moment.weekday() == 0
    if size >= 12:
        return moment.month == 1 and moment.year % (size // 12) == 0
    return (moment.month - 1) % size == 0


def _label(moment: datetime, size: int, unit: str) -> str:
    if unit == "h":
        return moment.strftime("%Y-%m-%d") if moment.hour == 0 else moment.strftime("%H:00")
    if unit == "d":
        return moment.strftime("%Y-%m-%d")
    return str(moment.year) if size >= 12 else moment.strftime("%Y-%m")


@dataclass(frozen=True, slots=True)
class Bar:
    left: float
    width: float
    kind: str  # "listed" or "ahead" (today to the announced shutdown)
    title: str


@dataclass(frozen=True, slots=True)
class Mark:
    left: float
    kind: str
    title: str


@dataclass
class TimelineRow:
    source: str
    model_id: str
    bars: list[Bar]
    marks: list[Mark]
    present: bool


@dataclass
class SourceTimeline:
    source: str
    rows: list[TimelineRow]
    #: Models listed through the whole window with no event and no shutdown date.
    steady: list[str]


@dataclass
class SourceSummary:
    source: str
    present: int
    counts: dict[str, int]
    run: Run | None
    #: (day, models present at its end), for the sparkline.
    daily: list[tuple[date, int]]


@dataclass(frozen=True, slots=True)
class FeedItem:
    occurred_at: datetime
    source: str
    model_id: str
    kind: str
    what: str


@dataclass
class Month:
    label: str
    shutdowns: list[tuple[Shutdown, int]]


@dataclass
class Overview:
    now: datetime
    axis: Axis
    sources: list[SourceSummary]
    timelines: list[SourceTimeline]
    #: Upcoming shutdowns of listed models, by month, with whole days left.
    months: list[Month]
    #: Listed models whose date has passed.
    overdue: list[tuple[Shutdown, int]]
    #: Listed models whose lifecycle status says they are going, with no date known.
    undated: list[Undated]
    feed: list[FeedItem]
    feed_total: int
    ticks: list[tuple[float, str]] = field(default_factory=list)
    #: (CSS class, words) of every kind of bar and mark the timeline draws, in legend order.
    legend: list[tuple[str, str]] = field(default_factory=list)


def _day(moment: datetime | None) -> str:
    return "" if moment is None else moment.date().isoformat()


def describe_change(event: Event) -> str:
    """What changed, in one line: ``field: old -> new`` for each field, or the reason."""
    if event.kind in ("changed", "shutdown_changed", "status_changed"):
        old, new = event.old_values or {}, event.new_values or {}
        text = "; ".join(
            f"{key}: {value_text(old.get(key), MAX_VALUE)} -> {value_text(new.get(key), MAX_VALUE)}"
            for key in sorted({*old, *new})
        )
        by = changed_by(event.kind, event.details)
        return text if by is None else f"{text} (by {by})"
    details = event.details or {}
    return str(details.get("error") or details.get("reason") or "")


def _bars(intervals: Sequence[Interval], axis: Axis, now: datetime) -> list[Bar]:
    bars = []
    for interval in intervals:
        start = max(interval.available_from, axis.start)
        end = min(interval.available_until or now, now)
        if end < axis.start:
            continue
        left = axis.at(start)
        span = f"{_day(interval.available_from)} to {_day(interval.available_until) or 'now'}"
        bars.append(Bar(left, round(axis.at(end) - left, 2), "listed", f"listed {span}"))
    return bars


def _marks(events: Iterable[Event], axis: Axis) -> list[Mark]:
    buckets: dict[tuple[str, int], list[Event]] = defaultdict(list)
    for event in events:
        buckets[event.kind, int(axis.at(event.occurred_at) / MARK_BUCKET)].append(event)
    marks = []
    for (kind, _), group in sorted(buckets.items(), key=lambda item: item[0][1]):
        latest = max(group, key=lambda e: e.occurred_at)
        title = f"{_day(latest.occurred_at)} {kind}"
        what = describe_change(latest)
        if what:
            title += f": {what}"
        if len(group) > 1:
            title += f" (and {len(group) - 1} more {kind} nearby)"
        marks.append(Mark(axis.mark_at(latest.occurred_at), kind, title))
    return marks


def _ahead(shutdown: Shutdown, axis: Axis, now: datetime) -> tuple[list[Bar], list[Mark]]:
    left = days_left(shutdown.shutdown_at, now)
    day = _day(shutdown.shutdown_at)
    title = (
        f"shuts down {day} ({counted(left, 'day')} left)"
        if left > 0
        else f"shuts down {day} (today)"
        if left == 0
        else f"shut down on {day}, still listed"
    )
    if shutdown.replacement:
        title += f"; replacement {shutdown.replacement}"
    mark = Mark(axis.mark_at(shutdown.shutdown_at), "shutdown", title)
    if shutdown.shutdown_at <= now:
        return [], [mark]
    start = axis.at(now)
    return [Bar(start, round(mark.left - start, 2), "ahead", title)], [mark]


def _daily(intervals: Iterable[Interval], first: date, last: date) -> list[tuple[date, int]]:
    """Models present at the end of each day from ``first`` to ``last``."""
    moves: Counter[date] = Counter()
    for interval in intervals:
        moves[max(interval.available_from.date(), first)] += 1
        if interval.available_until is not None:
            moves[max(interval.available_until.date(), first)] -= 1
    present, series, day = 0, [], first
    while day <= last:
        present += moves[day]
        series.append((day, present))
        day += timedelta(days=1)
    return series


def build_overview(
    *,
    now: datetime,
    since: datetime | None,
    intervals: Sequence[Interval],
    marks: Sequence[Event],
    counts: Mapping[tuple[str, str], int],
    feed: Sequence[Event],
    feed_total: int,
    runs: Sequence[Run],
    shutdowns: Sequence[Shutdown],
    undated: Sequence[Undated] = (),
) -> Overview:
    """Everything the report shows for the window ``since`` (None: all history) to ``now``.

    ``intervals`` are those still open at ``since``; ``marks`` every event of
    ``MARK_KINDS`` in the window; ``counts`` the window's events per (source, kind);
    ``feed`` the newest events of the window (``feed_total`` of them in all).
    """
    start = since or min((i.available_from for i in intervals), default=now - timedelta(days=30))
    start = min(start, now - SHORTEST_HISTORY)
    listed = {(s.source, s.model_id): s for s in shutdowns if s.vanished_at is None}
    axis = _axis(start, now, listed.values())
    by_model: dict[tuple[str, str], list[Interval]] = defaultdict(list)
    for interval in sorted(intervals, key=lambda i: i.available_from):
        by_model[interval.source, interval.model_id].append(interval)
    sources = sorted({key[0] for key in by_model} | {run.source for run in runs})
    timelines = _timelines(sources, by_model, marks, listed, axis, start, now)
    months, overdue = _calendar(listed.values(), now)
    return Overview(
        now=now,
        axis=axis,
        legend=_legend(timelines),
        sources=_summaries(sources, by_model, counts, runs, start, now),
        timelines=timelines,
        months=months,
        overdue=overdue,
        undated=sorted(undated, key=lambda u: (u.source, u.model_id)),
        feed=[
            FeedItem(e.occurred_at, e.source, e.model_id, e.kind, describe_change(e)) for e in feed
        ],
        feed_total=feed_total,
        ticks=axis.ticks(),
    )


def _axis(start: datetime, now: datetime, listed: Iterable[Shutdown]) -> Axis:
    """From ``start`` to now, and on to the furthest shutdown date within ``AHEAD_LIMIT``."""
    ahead = [s.shutdown_at for s in listed if now < s.shutdown_at <= now + AHEAD_LIMIT]
    if ahead:
        end = max(ahead)
        return Axis.spanning(start, now, end + (end - now) * 0.05)
    return Axis(start, now + (now - start) * 0.02)


def _timelines(
    sources: Sequence[str],
    by_model: Mapping[tuple[str, str], list[Interval]],
    marks: Sequence[Event],
    listed: Mapping[tuple[str, str], Shutdown],
    axis: Axis,
    start: datetime,
    now: datetime,
) -> list[SourceTimeline]:
    """Each source's rows: a model listed all along, with nothing to mark, is only named
    (``steady``); every other one gets its bars and marks."""
    events_by_model: dict[tuple[str, str], list[Event]] = defaultdict(list)
    for event in marks:
        events_by_model[event.source, event.model_id].append(event)
    timelines = {name: SourceTimeline(name, [], []) for name in sources}
    for key in sorted(by_model):
        spans = by_model[key]
        present = spans[-1].available_until is None
        shutdown = listed.get(key) if present else None
        events = events_by_model.get(key, [])
        if (
            len(spans) == 1
            and present
            and spans[0].available_from <= start
            and not events
            and shutdown is None
        ):
            timelines[key[0]].steady.append(key[1])
            continue
        bars, dots = _bars(spans, axis, now), _marks(events, axis)
        if shutdown is not None:
            more_bars, more_dots = _ahead(shutdown, axis, now)
            bars, dots = bars + more_bars, dots + more_dots
        timelines[key[0]].rows.append(TimelineRow(key[0], key[1], bars, dots, present))
    return [timelines[name] for name in sources]


def _summaries(
    sources: Sequence[str],
    by_model: Mapping[tuple[str, str], list[Interval]],
    counts: Mapping[tuple[str, str], int],
    runs: Sequence[Run],
    start: datetime,
    now: datetime,
) -> list[SourceSummary]:
    latest = {run.source: run for run in runs}
    summaries = []
    for name in sources:
        spans = [i for (s, _), group in by_model.items() if s == name for i in group]
        # The trend starts at the source's first sync (or the window's start), not before:
        # a day of zeros before it would read as a source that once listed nothing.
        first = max(start, min((i.available_from for i in spans), default=now))
        summaries.append(
            SourceSummary(
                source=name,
                present=sum(1 for i in spans if i.available_until is None),
                counts={kind: counts.get((name, kind), 0) for kind in MODEL_EVENT_KINDS},
                run=latest.get(name),
                daily=_daily(spans, first.date(), now.date()),
            )
        )
    return summaries


def _calendar(
    listed: Iterable[Shutdown], now: datetime
) -> tuple[list[Month], list[tuple[Shutdown, int]]]:
    """The listed models' shutdowns by month, and those whose date has passed (overdue)."""
    months: dict[str, Month] = {}
    overdue = []
    for shutdown in listed:
        left = days_left(shutdown.shutdown_at, now)
        if left < 0:
            overdue.append((shutdown, left))
            continue
        label = shutdown.shutdown_at.strftime("%B %Y")
        months.setdefault(shutdown.shutdown_at.strftime("%Y-%m"), Month(label, []))
        months[shutdown.shutdown_at.strftime("%Y-%m")].shutdowns.append((shutdown, left))
    for month in months.values():
        month.shutdowns.sort(
            key=lambda item: (item[0].shutdown_at, item[0].source, item[0].model_id)
        )
    overdue.sort(key=lambda item: (item[0].shutdown_at, item[0].source, item[0].model_id))
    return [months[key] for key in sorted(months)], overdue


def _legend(timelines: Sequence[SourceTimeline]) -> list[tuple[str, str]]:
    """The legend of what the timeline draws, and nothing it does not."""
    drawn = {m.kind for t in timelines for r in t.rows for m in r.marks}
    drawn |= {b.kind for t in timelines for r in t.rows for b in r.bars}
    if any(t.steady for t in timelines):
        drawn.add("listed")
    return [(kind, LEGEND[kind]) for kind in LEGEND if kind in drawn]
