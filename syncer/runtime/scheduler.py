"""APScheduler wiring for ``syncer run``: one sync job per source (plus its retention job).

Each source is its own job, so one that fails or hangs never delays the others;
``max_instances=1`` and ``coalesce`` keep a slow sync from piling up runs, and SIGINT or
SIGTERM lets the sync in flight finish before the process exits.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from syncer.config.model import Schedule, Source

log = logging.getLogger(__name__)

#: The first retention run waits this long (at most its interval), so the first sync is done.
RETENTION_DELAY = timedelta(minutes=1)


@dataclass(frozen=True)
class Periodic:
    """A job that belongs to no source (alert delivery, the stale check), on an interval."""

    id: str
    every: timedelta
    job: Callable[[], object]


def trigger_for(source: Source, schedule: Schedule) -> BaseTrigger:
    """A source's own ``every``/``cron`` wins over the global schedule."""
    cron = source.cron or (None if source.every else schedule.cron)
    every = source.every or schedule.every
    # Jitter spreads replicas apart, but never by more than a quarter of the interval.
    jitter = min(schedule.jitter, every / 4).total_seconds() or None
    if cron:
        return CronTrigger.from_crontab(cron, timezone=UTC)
    return IntervalTrigger(seconds=every.total_seconds(), timezone=UTC, jitter=jitter)


def build_scheduler(
    sources: tuple[Source, ...],
    schedule: Schedule,
    job: Callable[[Source], object],
    retention: Mapping[str, timedelta] | None = None,
    retention_job: Callable[[Source], object] | None = None,
    periodic: Sequence[Periodic] = (),
) -> BackgroundScheduler:
    """A sync job per source, and a retention job (on its own interval) per source that has one."""
    scheduler = BackgroundScheduler(timezone=UTC)
    for source in sources:
        interval = (retention or {}).get(source.name)
        if interval is None or retention_job is None:
            continue
        scheduler.add_job(
            retention_job,
            IntervalTrigger(seconds=interval.total_seconds(), timezone=UTC),
            args=[source],
            id=f"retention:{source.name}",
            name=f"retention {source.name}",
            next_run_time=datetime.now(UTC) + min(interval, RETENTION_DELAY),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(1, int(min(interval, timedelta(hours=1)).total_seconds() // 2)),
        )
    for source in sources:
        every = source.every or schedule.every
        scheduler.add_job(
            job,
            trigger_for(source, schedule),
            args=[source],
            id=f"sync:{source.name}",
            name=f"sync {source.name}",
            next_run_time=datetime.now(UTC),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(1, int(min(every, timedelta(hours=1)).total_seconds() // 2)),
        )
    for extra in periodic:
        scheduler.add_job(
            extra.job,
            IntervalTrigger(seconds=extra.every.total_seconds(), timezone=UTC),
            id=extra.id,
            name=extra.id,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(1, int(extra.every.total_seconds())),
        )
    return scheduler


def run_forever(
    sources: tuple[Source, ...],
    schedule: Schedule,
    job: Callable[[Source], object],
    stop: threading.Event | None = None,
    retention: Mapping[str, timedelta] | None = None,
    retention_job: Callable[[Source], object] | None = None,
    periodic: Sequence[Periodic] = (),
) -> None:
    """Run the jobs until SIGINT/SIGTERM (or ``stop`` is set), then shut down cleanly."""
    stop = stop or threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("received %s: stopping after the syncs in flight", signal.Signals(signum).name)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
    scheduler = build_scheduler(sources, schedule, job, retention, retention_job, periodic)
    scheduler.start()
    names = ", ".join(s.name for s in sources)
    log.info("syncer running: %s; stop with Ctrl-C or SIGTERM", names)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        scheduler.shutdown(wait=True)
        log.info("syncer stopped")
