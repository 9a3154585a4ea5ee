"""When each source is due: triggers whose intervals every replica agrees on.

An interval schedule counts from the Unix epoch, not from when a process started, so
``every = "15m"`` means :00, :15, :30 and :45 (plus jitter) on every replica alike, as a cron
schedule does. That shared clock is what lets a replica tell whether the interval it is in
already had its sync (``slot_start``), whichever replica ran it.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from syncer.config.model import Schedule, Source

__all__ = ["SlotTrigger", "slot_start", "trigger_for"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: How far back ``slot_start`` looks for a cron schedule's last fire time at most.
_CRON_HORIZON = timedelta(days=800)


class SlotTrigger(BaseTrigger):  # type: ignore[misc]
    """Fires at the start of each ``interval`` counted from the epoch, delayed by up to
    ``jitter`` (at most a quarter of the interval, so a run stays in its own interval).

    APScheduler's ``IntervalTrigger`` counts from the previous (jittered) run instead, so its
    runs drift apart from one process to the next.
    """

    def __init__(self, interval: timedelta, jitter: timedelta = timedelta(0)) -> None:
        self.interval = interval
        self.jitter = min(jitter, interval / 4)

    def slot(self, moment: datetime) -> datetime:
        """The start of the interval ``moment`` is in."""
        return EPOCH + self.interval * math.floor((moment - EPOCH) / self.interval)

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        if previous_fire_time is None:
            start = self.slot(now)
            start = start if start == now else start + self.interval
        else:
            start = self.slot(previous_fire_time) + self.interval
        spread = random.uniform(0, self.jitter.total_seconds()) if self.jitter else 0.0
        return start + timedelta(seconds=spread)

    def __str__(self) -> str:
        return f"every {self.interval} from the epoch, jitter {self.jitter}"


def trigger_for(source: Source, schedule: Schedule) -> BaseTrigger:
    """The source's schedule as ``Schedule.of`` decides it."""
    every, cron = schedule.of(source)
    if cron:
        return CronTrigger.from_crontab(cron, timezone=UTC)
    assert every is not None
    return SlotTrigger(every, schedule.jitter)


def slot_start(trigger: BaseTrigger, now: datetime) -> datetime:
    """When the interval ``now`` is in began: the schedule's latest fire time, jitter aside."""
    if isinstance(trigger, SlotTrigger):
        return trigger.slot(now)
    span = timedelta(minutes=1)
    first = trigger.get_next_fire_time(None, now - span)
    while (first is None or first > now) and span < _CRON_HORIZON:
        span *= 2
        first = trigger.get_next_fire_time(None, now - span)
    if first is None or first > now:
        return now - span  # a schedule that fires less than once in two years
    fire: datetime = first
    while True:
        later = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
        if later is None or later > now:
            return fire
        fire = later
