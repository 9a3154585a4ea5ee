"""What ``syncer run`` does: the job list, built from the settings in one place.

Every job runs behind one guard: a failure of one run is one log line (a database error
without SQLAlchemy's statement dump), never a crash of the daemon and never a stop of the
other jobs. The scheduler only wires these jobs to APScheduler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from syncer.config.model import Settings, Source
from syncer.errors import SyncerError, first_line
from syncer.timeutil import utcnow

__all__ = [
    "DISPATCH_EVERY",
    "RETENTION_DELAY",
    "STALE_CHECK_EVERY",
    "Job",
    "build_jobs",
    "guard",
]

log = logging.getLogger("syncer")

#: How often ``syncer run`` delivers pending alerts and looks for stale sources.
DISPATCH_EVERY = timedelta(seconds=15)
STALE_CHECK_EVERY = timedelta(minutes=1)
#: The first retention run waits this long (at most its interval), so the first sync is done.
RETENTION_DELAY = timedelta(minutes=1)


@dataclass(frozen=True)
class Job:
    """One scheduled job: an id (unique per process), what it runs, and when.

    ``source`` is the source whose schedule it follows (its own ``every``/``cron``, else the
    global one); a job without one runs every ``every``, first after ``delay``.
    """

    id: str
    run: Callable[[], None]
    source: Source | None = None
    every: timedelta | None = None
    delay: timedelta = timedelta(0)


def guard(name: str, work: Callable[[], object]) -> Callable[[], None]:
    """``work`` as a job that logs its failure as one line instead of raising."""

    def job() -> None:
        try:
            work()
        except SyncerError as exc:
            log.error("%s: %s", name, exc)
        except SQLAlchemyError as exc:
            log.error("%s: database error: %s", name, first_line(exc))

    return job


def _sync(engine: Engine, settings: Settings, source: Source) -> Callable[[], object]:
    from syncer.providers.http import Client
    from syncer.sync.run import Syncer

    syncer = Syncer(
        engine, Client(source, settings.http), source.name, settings.policy,
        alerts=settings.alerts,
    )

    def sync() -> None:
        result = syncer.run()
        log.log(logging.INFO if result.ok else logging.ERROR, "sync %s", result.summary())

    return sync


def _retention(engine: Engine, settings: Settings, source: Source) -> Callable[[], object]:
    from syncer.retention.apply import run_scheduled

    rule = settings.retention[source.name]
    return lambda: run_scheduled(engine, source, rule, settings.http, alerts=settings.alerts)


def build_jobs(engine: Engine, settings: Settings, sources: Sequence[Source]) -> list[Job]:
    """Every job for ``sources``: a sync each, a retention run for those with a rule, and,
    when alert rules exist, delivery and the stale check (over the same sources)."""
    jobs = [
        Job(f"sync:{s.name}", guard(f"sync {s.name}", _sync(engine, settings, s)), source=s)
        for s in sources
    ]
    for source in sources:
        rule = settings.retention.get(source.name)
        if rule is not None:
            jobs.append(Job(
                f"retention:{source.name}",
                guard(f"retention {source.name}", _retention(engine, settings, source)),
                every=rule.every, delay=min(rule.every, RETENTION_DELAY),
            ))
    if settings.alerts:
        from syncer.alerts.delivery import Dispatcher
        from syncer.alerts.stale import check_stale

        dispatcher = Dispatcher(engine, settings.alerts)
        jobs.append(Job("alerts:dispatch", guard("alerts", dispatcher.dispatch),
                        every=DISPATCH_EVERY, delay=DISPATCH_EVERY))
        jobs.append(Job("alerts:stale", guard(
            "stale check", lambda: check_stale(engine, settings, utcnow())
        ), every=STALE_CHECK_EVERY, delay=STALE_CHECK_EVERY))
    return jobs
