"""Every replica counts intervals the same way, whenever it started."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from syncer.config.model import Schedule, Source
from syncer.runtime.slots import SlotTrigger, slot_start, trigger_for

MOMENT = datetime(2026, 3, 1, 12, 7, 31, tzinfo=UTC)


def test_an_interval_counts_from_the_clock_not_from_when_the_process_started() -> None:
    trigger = SlotTrigger(timedelta(minutes=15))
    later = MOMENT + timedelta(minutes=3, seconds=2)

    assert trigger.get_next_fire_time(None, MOMENT) == datetime(2026, 3, 1, 12, 15, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, later) == datetime(2026, 3, 1, 12, 15, tzinfo=UTC)
    assert slot_start(trigger, MOMENT) == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_jitter_delays_a_run_within_its_interval_and_never_drifts() -> None:
    trigger = SlotTrigger(timedelta(minutes=15), jitter=timedelta(hours=1))
    fire = trigger.get_next_fire_time(None, MOMENT)
    for _ in range(50):
        start = slot_start(trigger, fire)
        assert start.minute % 15 == 0 and start.second == 0
        assert fire - start <= timedelta(minutes=15) / 4  # jitter is capped at a quarter
        fire = trigger.get_next_fire_time(fire, fire)
    assert fire - MOMENT < timedelta(minutes=15 * 51)


def test_a_run_moved_earlier_returns_to_the_schedule_afterwards() -> None:
    trigger = SlotTrigger(timedelta(minutes=15))
    retried = datetime(2026, 3, 1, 12, 1, 3, tzinfo=UTC)

    assert trigger.get_next_fire_time(retried, retried) == datetime(2026, 3, 1, 12, 15, tzinfo=UTC)


def test_a_cron_interval_begins_at_its_latest_fire_time() -> None:
    trigger = CronTrigger.from_crontab("0 9,17 * * *", timezone=UTC)

    assert slot_start(trigger, MOMENT) == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert slot_start(trigger, MOMENT.replace(hour=3)) == datetime(2026, 2, 28, 17, tzinfo=UTC)
    assert slot_start(trigger, MOMENT.replace(hour=17, minute=0, second=0)) == MOMENT.replace(
        hour=17, minute=0, second=0
    )


def test_a_source_schedule_wins_over_the_global_one() -> None:
    schedule = Schedule(every=timedelta(hours=1), cron="0 * * * *")

    assert isinstance(trigger_for(Source("a", every=timedelta(minutes=5)), schedule), SlotTrigger)
    assert isinstance(trigger_for(Source("a"), schedule), CronTrigger)
