"""What the HTML report decides to show, over plain data: no database, no browser."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from syncer.reporting.history import Interval
from syncer.reporting.overview import (
    LEGEND,
    MARK_KINDS,
    Axis,
    Event,
    Overview,
    build_overview,
)
from syncer.reporting.shutdowns import Shutdown

NOW = datetime(2026, 6, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def interval(model_id: str, start: datetime, until: datetime | None = None) -> Interval:
    return Interval("openai", model_id, 1, start, until, "added", "vanished" if until else None)


def overview(
    intervals: list[Interval], marks: Sequence[Event] = (), shutdowns: Sequence[Shutdown] = ()
) -> Overview:
    return build_overview(
        now=NOW,
        since=None,
        intervals=intervals,
        marks=list(marks),
        counts={},
        feed=[],
        feed_total=0,
        runs=[],
        shutdowns=list(shutdowns),
    )


def test_models_listed_throughout_collapse_and_the_others_get_a_row() -> None:
    start = NOW - 100 * DAY
    quiet = [interval(f"m{n}", start) for n in range(5000)]
    result = overview([*quiet, interval("late", start + 50 * DAY), interval("gone", start, NOW)])
    (timeline,) = result.timelines
    assert [row.model_id for row in timeline.rows] == ["gone", "late"]
    assert len(timeline.steady) == 5000
    assert result.sources[0].present == 5001


def test_a_model_with_a_shutdown_date_always_gets_a_row_that_reaches_the_date() -> None:
    start = NOW - 100 * DAY
    date = Shutdown("openai", "m1", NOW + 30 * DAY, "m2", "provider", start, None)
    result = overview([interval("m1", start), interval("m2", start)], shutdowns=[date])
    (row,) = result.timelines[0].rows
    ahead = [b for b in row.bars if b.kind == "ahead"]
    (mark,) = [m for m in row.marks if m.kind == "shutdown"]
    assert ahead and ahead[0].left == result.axis.at(NOW)
    assert mark.left == result.axis.at(NOW + 30 * DAY) < 99
    assert "replacement m2" in mark.title
    assert [m.label for m in result.months] == ["July 2026"]


def test_a_model_that_flaps_all_day_gets_a_bounded_number_of_marks() -> None:
    start = NOW - 365 * DAY
    every = timedelta(hours=6)
    flaps = [
        Event("openai", "m", "changed", start + n * every, {"x": n}, {"x": n + 1})
        for n in range(4 * 365)
    ]
    (row,) = overview([interval("m", start)], flaps).timelines[0].rows
    assert 0 < len(row.marks) <= 400
    assert any("more changed nearby" in m.title for m in row.marks)


def test_the_axis_reaches_a_year_ahead_at_most_and_labels_months() -> None:
    start = NOW - 60 * DAY
    far = Shutdown("openai", "m", NOW + 900 * DAY, None, "provider", start, None)
    result = overview([interval("m", start)], shutdowns=[far])
    assert result.axis.end <= NOW + 400 * DAY
    assert [label for _, label in Axis(datetime(2026, 1, 15, tzinfo=UTC), NOW).ticks()] == [
        "2026-02",
        "2026-03",
        "2026-04",
        "2026-05",
    ]


def test_a_day_of_history_beside_a_date_months_ahead_gets_its_share_of_the_axis() -> None:
    start = NOW - timedelta(hours=20)
    date = Shutdown("openai", "m1", NOW + 200 * DAY, None, "provider", start, None)
    result = overview([interval("m1", start), interval("m2", start)], shutdowns=[date])
    assert result.axis.at(NOW) == 30.0  # MIN_SHARE, not the 0.4 % a single scale gives
    (row,) = result.timelines[0].rows
    (listed,) = [b for b in row.bars if b.kind == "listed"]
    assert (listed.left, listed.width) == (0.0, 30.0)
    labels = [label for _, label in result.ticks]
    assert "06:00" in labels and "2026-06-01" not in labels  # that is now
    assert "2026-07" in labels and "2026-12" in labels


def test_years_of_history_and_a_year_ahead_share_one_scale() -> None:
    start = NOW - 730 * DAY
    date = Shutdown("openai", "m1", NOW + 300 * DAY, None, "provider", start, None)
    result = overview([interval("m1", start)], shutdowns=[date])
    assert result.axis.now is None
    assert 65 < result.axis.at(NOW) < 75


def test_a_past_date_of_a_listed_model_is_drawn_inside_the_axis_and_says_so() -> None:
    start = NOW - 2 * DAY
    date = Shutdown("openai", "m1", NOW - 700 * DAY, None, "provider", start, None)
    (row,) = overview([interval("m1", start)], shutdowns=[date]).timelines[0].rows
    (mark,) = row.marks
    assert mark.left == 1.0
    assert mark.title == "shut down on 2024-07-01, still listed"


def test_every_kind_drawn_is_in_the_legend_and_only_those() -> None:
    start = NOW - 10 * DAY
    moved = Event(
        "openai",
        "m1",
        "shutdown_changed",
        start + DAY,
        {"shutdown_at": None},
        {"shutdown_at": "2026-09-01"},
    )
    retired = Event("openai", "m2", "source_retired", start + 2 * DAY)
    result = overview(
        [interval("m1", start), interval("m2", start, start + 2 * DAY)], [moved, retired]
    )
    assert [kind for kind, _ in result.legend] == [
        "listed",
        "shutdown_changed",
        "source_retired",
    ]
    assert set(MARK_KINDS) <= set(LEGEND)
