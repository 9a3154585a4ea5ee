"""APScheduler wiring for ``syncer run``: the jobs of ``jobs`` on their triggers, nothing more.

Each source is its own job, so one that fails never stops the others; ``max_instances=1``
and ``coalesce`` keep a slow sync from piling up runs, and SIGINT or SIGTERM lets the syncs
in flight finish before the process exits.

The syncs share a pool of ``[sync] workers`` threads: a thousand sources due at the same
minute run that many at a time, within their grace time, instead of waiting behind
APScheduler's default ten threads. The other jobs (delivery, the stale check, retention)
have threads of their own, so they never wait behind the syncs; a source whose provider
hangs holds one sync thread until its timeouts end it.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from syncer.config.model import DEFAULT_WORKERS, Schedule
from syncer.runtime.jobs import Job
from syncer.runtime.slots import trigger_for
from syncer.timeutil import utcnow

__all__ = ["build_scheduler", "run_forever"]

log = logging.getLogger(__name__)


def _grace(interval: timedelta) -> int:
    """How late a run may start and still run: half its interval, at most half an hour."""
    return max(1, int(min(interval, timedelta(hours=1)).total_seconds() // 2))


def _fire(scheduler: BackgroundScheduler, job: Job) -> Callable[[], None]:
    """``job.run``, and its next run moved earlier when it asks to run again sooner."""

    def fire() -> None:
        again = job.run()
        if again is None:
            return
        try:
            scheduled = scheduler.get_job(job.id)
            if scheduled is not None and (
                scheduled.next_run_time is None or again < scheduled.next_run_time
            ):
                scheduler.modify_job(job.id, next_run_time=again)
        except JobLookupError:
            pass  # the scheduler is shutting down

    return fire


def build_scheduler(
    jobs: Sequence[Job], schedule: Schedule, workers: int = DEFAULT_WORKERS
) -> BackgroundScheduler:
    """Each job on its trigger: a source's own schedule, or the job's fixed interval.

    The syncs run ``workers`` at a time (at most one thread per sync job); every other job
    has a thread of its own.
    """
    syncs = sum(job.source is not None for job in jobs)
    scheduler = BackgroundScheduler(timezone=UTC, executors={
        "syncs": ThreadPoolExecutor(max(1, min(workers, syncs))),
        "default": ThreadPoolExecutor(max(1, len(jobs) - syncs)),
    })
    now = utcnow()
    for job in jobs:
        if job.source is not None:
            trigger = trigger_for(job.source, schedule)
            interval = schedule.of(job.source)[0] or schedule.every
        else:
            assert job.every is not None, "a job without a source has its own interval"
            trigger = IntervalTrigger(seconds=job.every.total_seconds(), timezone=UTC)
            interval = job.every
        scheduler.add_job(
            _fire(scheduler, job), trigger, id=job.id, name=job.id, next_run_time=now + job.delay,
            coalesce=True, max_instances=1, misfire_grace_time=_grace(interval),
            executor="syncs" if job.source is not None else "default",
        )
    return scheduler


def _named(jobs: Sequence[Job], workers: int) -> str:
    """The sources synced, by name; past ten of them, how many (a line, not a page)."""
    names = [job.source.name for job in jobs if job.source is not None]
    if len(names) <= 10:
        return ", ".join(names)
    return f"{', '.join(names[:3])} and {len(names) - 3} more sources, {workers} at a time"


def run_forever(
    jobs: Sequence[Job], schedule: Schedule, stop: threading.Event | None = None,
    workers: int = DEFAULT_WORKERS,
) -> None:
    """Run the jobs until SIGINT/SIGTERM (or ``stop`` is set), then shut down cleanly."""
    stop = stop or threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("received %s: stopping after the syncs in flight", signal.Signals(signum).name)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
    scheduler = build_scheduler(jobs, schedule, workers)
    scheduler.start()
    log.info("syncer running: %s; stop with Ctrl-C or SIGTERM", _named(jobs, workers))
    try:
        while not stop.wait(0.5):
            pass
    finally:
        scheduler.shutdown(wait=True)
        log.info("syncer stopped")
