"""How often a source is expected to sync, which sets when it counts as stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syncer.alerts.stale import expected_interval
from syncer.config.model import Schedule, Source

MONDAY = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("source", "schedule", "interval"),
    [
        (Source("s"), Schedule(), timedelta(minutes=15)),
        (Source("s"), Schedule(every=timedelta(hours=2)), timedelta(hours=2)),
        (Source("s", every=timedelta(minutes=5)), Schedule(cron="0 * * * *"), timedelta(minutes=5)),
        (Source("s"), Schedule(cron="*/10 * * * *"), timedelta(minutes=10)),
        (Source("s", cron="0 9 * * 1-5"), Schedule(), timedelta(days=3)),
    ],
    ids=["default", "global every", "own every beats global cron", "cron", "weekday cron"],
)
def test_the_expected_interval_follows_the_schedule_and_a_crons_longest_gap(
    source: Source, schedule: Schedule, interval: timedelta
) -> None:
    assert expected_interval(source, schedule, MONDAY) == interval


def test_jitter_does_not_change_the_expected_interval() -> None:
    schedule = Schedule(every=timedelta(minutes=20), jitter=timedelta(minutes=5))

    assert expected_interval(Source("s"), schedule, MONDAY) == timedelta(minutes=20)
