"""APScheduler wiring for ``syncer run``: the jobs of ``jobs`` on their triggers, nothing more.

Each source is its own job, so one that fails never stops the others; ``max_instances=1``
and ``coalesce`` keep a slow sync from piling up runs. SIGINT or SIGTERM stops the scheduler
at once and gives the jobs in flight ``[run] stop_timeout`` to finish (``stopping``); no job
starts after it, not even one already queued for a worker thread.

The syncs share a pool of ``[sync] workers`` threads: a thousand sources due at the same
minute run that many at a time, within their grace time, instead of waiting behind
APScheduler's default ten threads. The other jobs (delivery, the stale check, retention)
have threads of their own, so they never wait behind the syncs; a source whose provider
hangs holds one sync thread until its timeouts end it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from syncer.config.model import DEFAULT_STOP_TIMEOUT, DEFAULT_WORKERS, Schedule
from syncer.runtime.jobs import Job
from syncer.runtime.slots import trigger_for
from syncer.runtime.stopping import POLL, Signals, wait_until
from syncer.timeutil import duration_text, utcnow

__all__ = ["InFlight", "Stopped", "build_scheduler", "run_forever"]

log = logging.getLogger(__name__)


def _grace(interval: timedelta) -> int:
    """How late a run may start and still run: half its interval, at most half an hour."""
    return max(1, int(min(interval, timedelta(hours=1)).total_seconds() // 2))


class InFlight:
    """The jobs running now, by id; once closed, no job starts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: Counter[str] = Counter()
        self._closed = False

    def enter(self, job_id: str) -> bool:
        """Count the job in, unless closed; whether it may run."""
        with self._lock:
            if self._closed:
                return False
            self._running[job_id] += 1
            return True

    def leave(self, job_id: str) -> None:
        with self._lock:
            self._running -= Counter({job_id: 1})

    def close(self) -> None:
        with self._lock:
            self._closed = True

    def ids(self) -> list[str]:
        with self._lock:
            return sorted(self._running)


@dataclass(frozen=True)
class Stopped:
    """How ``run_forever`` ended: the jobs it abandoned (none: a clean stop), and the exit
    code that says so (128 + the signal's number)."""

    abandoned: tuple[str, ...] = ()
    exit_code: int = 0


def _fire(scheduler: BackgroundScheduler, job: Job, in_flight: InFlight) -> Callable[[], None]:
    """``job.run`` unless stopping, and its next run moved earlier when it asks to run again
    sooner."""

    def fire() -> None:
        if not in_flight.enter(job.id):
            return  # queued for a worker thread before the stop: it does not start now
        try:
            again = job.run()
        finally:
            in_flight.leave(job.id)
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
    jobs: Sequence[Job],
    schedule: Schedule,
    workers: int = DEFAULT_WORKERS,
    in_flight: InFlight | None = None,
) -> BackgroundScheduler:
    """Each job on its trigger: a source's own schedule, or the job's fixed interval.

    The syncs run ``workers`` at a time (at most one thread per sync job); every other job
    has a thread of its own.
    """
    in_flight = in_flight or InFlight()
    syncs = sum(job.source is not None for job in jobs)
    scheduler = BackgroundScheduler(
        timezone=UTC,
        executors={
            "syncs": ThreadPoolExecutor(max(1, min(workers, syncs))),
            "default": ThreadPoolExecutor(max(1, len(jobs) - syncs)),
        },
    )
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
            _fire(scheduler, job, in_flight),
            trigger,
            id=job.id,
            name=job.id,
            next_run_time=now + job.delay,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=_grace(interval),
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
    jobs: Sequence[Job],
    schedule: Schedule,
    stop: threading.Event | None = None,
    workers: int = DEFAULT_WORKERS,
    stop_timeout: timedelta = DEFAULT_STOP_TIMEOUT,
) -> Stopped:
    """Run the jobs until SIGINT/SIGTERM (or ``stop`` is set), then stop within
    ``stop_timeout``: what is still running then, or at a second signal, is abandoned (the
    caller ends the process, see ``stopping``)."""
    stop = stop or threading.Event()
    in_flight = InFlight()
    with Signals() as signals:
        scheduler = build_scheduler(jobs, schedule, workers, in_flight)
        scheduler.start()
        log.info("syncer running: %s; stop with Ctrl-C or SIGTERM", _named(jobs, workers))
        while not (stop.is_set() or signals.received):
            time.sleep(POLL)
        in_flight.close()
        scheduler.shutdown(wait=False)
        running = in_flight.ids()
        if running:
            log.info(
                "received %s: stopping; waiting up to %s for %s in flight (a second "
                "SIGINT or SIGTERM stops at once)",
                signals.name,
                duration_text(stop_timeout),
                ", ".join(running),
            )
        if not wait_until(lambda: not in_flight.ids(), signals, stop_timeout.total_seconds()):
            abandoned = tuple(in_flight.ids())
            why = (
                f"received {signals.name} again"
                if signals.forced
                else f"stop_timeout ({duration_text(stop_timeout)}) passed"
            )
            log.error(
                "%s: exiting without waiting for %s; an unfinished sync rolls back and "
                "is done again at the next start",
                why,
                ", ".join(abandoned),
            )
            return Stopped(abandoned, signals.exit_code)
    log.info("syncer stopped")
    return Stopped()
