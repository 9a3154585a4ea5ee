"""What ``syncer run`` does: the job list, built from the settings in one place.

Every job runs behind one guard: a failure of one run is one log line (a database error
without SQLAlchemy's statement dump), never a crash of the daemon and never a stop of the
other jobs. The scheduler only wires these jobs to APScheduler.

The guard is also where replicas share the work. Syncs and the stale check run under a
lease, so each runs in one replica at a time (retention and delivery take their own); a
sync also skips when the interval it is in already had a successful sync, by any replica
(or ``syncer sync``). A replica that finds a sync's lease held asks to run again when that
lease runs out: if the holder died, it takes over then instead of an interval later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from syncer.config.model import ImportSpec, Settings, Source
from syncer.db import locks
from syncer.db.tables import runs_table
from syncer.errors import SyncerError, first_line
from syncer.runtime.slots import SlotTrigger, slot_start, trigger_for
from syncer.timeutil import human_time, utcnow

__all__ = [
    "DISPATCH_EVERY",
    "PRUNE_EVERY",
    "RETENTION_DELAY",
    "STALE_CHECK_EVERY",
    "Job",
    "Lease",
    "build_jobs",
    "guard",
    "import_jobs",
]

log = logging.getLogger("syncer")

#: How often ``syncer run`` delivers pending alerts and looks for stale sources.
DISPATCH_EVERY = timedelta(seconds=15)
STALE_CHECK_EVERY = timedelta(minutes=1)
#: How often ``syncer run`` prunes delivered alerts past ``[outbox] keep_delivered``.
PRUNE_EVERY = timedelta(hours=1)
#: The first retention run waits this long (at most its interval), so the first sync is done.
RETENTION_DELAY = timedelta(minutes=1)
#: A replica that waits for another's lease tries again no sooner than this.
RETRY_FLOOR = timedelta(seconds=0.5)


@dataclass(frozen=True)
class Job:
    """One scheduled job: an id (unique per process), what it runs, and when.

    ``source`` is the source whose schedule it follows (its own ``every``/``cron``, else the
    global one); a job without one runs every ``every``, first after ``delay``. ``run``
    returns a moment to run again before the schedule says, or None.
    """

    id: str
    run: Callable[[], datetime | None]
    source: Source | None = None
    every: timedelta | None = None
    delay: timedelta = timedelta(0)


@dataclass(frozen=True)
class Lease:
    """Run a job in one replica at a time, under the lease ``name``.

    ``done``, asked once the lease is held, says why this run is not needed (another
    replica already did the work), or None. With ``retry``, a replica that finds the lease
    held runs again when it runs out.
    """

    engine: Engine
    name: str
    period: timedelta
    done: Callable[[], str | None] | None = None
    retry: bool = False


def guard(
    name: str, work: Callable[[], object], lease: Lease | None = None
) -> Callable[[], datetime | None]:
    """``work`` as a job that logs its failure as one line instead of raising."""

    def job() -> datetime | None:
        try:
            if lease is None:
                work()
                return None
            return _leased(name, work, lease)
        except SyncerError as exc:
            log.error("%s: %s", name, exc)
        except SQLAlchemyError as exc:
            log.error("%s: database error: %s", name, first_line(exc))
        return None

    return job


def _leased(name: str, work: Callable[[], object], lease: Lease) -> datetime | None:
    with locks.lease(lease.engine, lease.name, lease.period) as claim:
        if not claim.mine:
            log.info(
                "%s: skipped: replica %s is on it (lease until %s)",
                name,
                claim.holder,
                human_time(claim.expires_at),
            )
            return max(claim.expires_at, utcnow() + RETRY_FLOOR) if lease.retry else None
        why = lease.done() if lease.done is not None else None
        if why is not None:
            log.info("%s: skipped: %s", name, why)
            return None
        work()
    return None


def _synced_already(engine: Engine, settings: Settings, source: Source) -> Callable[[], str | None]:
    """Whether the interval we are in already had a successful sync of ``source``.

    Whoever ran it started it at or after the interval's start by its own clock, as every
    replica counts intervals the same way (``slots``).
    """
    trigger = trigger_for(source, settings.schedule)
    runs = runs_table.c

    def done() -> str | None:
        began = slot_start(trigger, utcnow())
        with engine.connect() as connection:
            run = connection.execute(
                select(runs.id, runs.started_at)
                .where(runs.source == source.name, runs.status == "ok", runs.started_at >= began)
                .order_by(runs.id.desc())
                .limit(1)
            ).first()
        if run is None:
            return None
        return (
            f"synced successfully at {human_time(run.started_at)} (run {run.id}), "
            f"in the interval that began at {human_time(began)}"
        )

    return done


def _sync(engine: Engine, settings: Settings, source: Source) -> Callable[[], object]:
    from syncer.alerts.hook import alert_hook
    from syncer.providers.http import Client
    from syncer.sync.run import Syncer

    # Refuses an unsafe URL now, before any connection.
    Client(source.endpoint(), settings.http).close()

    on_synced = alert_hook(settings.alerts)

    def sync() -> None:
        # A client per run: between runs no connection stays open, as a thousand sources'
        # idle keep-alive sockets would reach a 1,024 open-files limit.
        with Client(source.endpoint(), settings.http, secrets=settings.secrets) as client:
            result = Syncer(engine, client, source.name, settings.policy, on_synced=on_synced).run()
        log.log(logging.INFO if result.ok else logging.ERROR, "sync %s", result.summary())

    return sync


def _retention(engine: Engine, settings: Settings, source: Source) -> Callable[[], object]:
    from syncer.retention.apply import run_scheduled

    rule = settings.retention[source.name]
    return lambda: run_scheduled(
        engine,
        source,
        rule,
        settings.http,
        alerts=settings.alerts,
        lease=settings.schedule.lease,
        secrets=settings.secrets,
    )


def _imported_already(engine: Engine, spec: ImportSpec) -> Callable[[], str | None]:
    """Whether the interval we are in (counted from the epoch, as every replica counts it)
    already had an import of ``spec`` that left its dates as the file says."""
    slots = SlotTrigger(spec.every)

    def done() -> str | None:
        from syncer.imports.store import done_since

        began = slots.slot(utcnow())
        with engine.connect() as connection:
            run = done_since(connection, spec.origin, began)
        if run is None:
            return None
        return (
            f"imported ({run.status}) at {human_time(run.started_at)}, in the interval "
            f"that began at {human_time(began)}"
        )

    return done


def _import(engine: Engine, settings: Settings, spec: ImportSpec) -> Callable[[], object]:
    def work() -> None:
        from syncer.imports.run import run_import

        outcome = run_import(engine, spec, settings)
        log.log(logging.INFO if outcome.ok else logging.ERROR, "%s", outcome.summary())

    return work


def import_jobs(engine: Engine, settings: Settings) -> list[Job]:
    """An import job per ``[[imports]]`` table, first at start, then every ``every``, each
    under its lease and skipped in an interval that already had one (by any replica).

    ``settings`` are the whole configuration's, whatever ``run --source`` watches: a
    LiteLLM map's dates go to every configured source of each kind.
    """
    from syncer.imports.plan import lease_name

    period = settings.schedule.lease
    return [
        Job(
            f"import:{spec.origin}",
            guard(
                f"import {spec.origin}",
                _import(engine, settings, spec),
                Lease(
                    engine, lease_name(spec.origin), period, _imported_already(engine, spec), True
                ),
            ),
            every=spec.every,
        )
        for spec in settings.imports
    ]


def build_jobs(engine: Engine, settings: Settings, sources: Sequence[Source]) -> list[Job]:
    """Every job for ``sources``: a sync each, a retention run for those with a rule, and,
    when alert rules exist, delivery and the stale check (over the same sources)."""
    period = settings.schedule.lease
    jobs = [
        Job(
            f"sync:{s.name}",
            guard(
                f"sync {s.name}",
                _sync(engine, settings, s),
                Lease(engine, f"sync:{s.name}", period, _synced_already(engine, settings, s), True),
            ),
            source=s,
        )
        for s in sources
    ]
    for source in sources:
        rule = settings.retention.get(source.name)
        if rule is not None:
            jobs.append(
                Job(
                    f"retention:{source.name}",
                    guard(f"retention {source.name}", _retention(engine, settings, source)),
                    every=rule.every,
                    delay=min(rule.every, RETENTION_DELAY),
                )
            )
    if settings.alerts:
        from syncer.alerts.delivery import Dispatcher
        from syncer.alerts.prune import prune_outbox
        from syncer.alerts.stale import check_stale

        dispatcher = Dispatcher(
            engine,
            settings.alerts,
            lease=period,
            report_url=settings.http.public_url,
            secrets=settings.secrets,
        )
        jobs.append(
            Job(
                "alerts:dispatch",
                guard("alerts", dispatcher.dispatch),
                every=DISPATCH_EVERY,
                delay=DISPATCH_EVERY,
            )
        )
        jobs.append(
            Job(
                "alerts:stale",
                guard(
                    "stale check",
                    lambda: check_stale(engine, settings, utcnow()),
                    Lease(engine, "alerts-stale", period),
                ),
                every=STALE_CHECK_EVERY,
                delay=STALE_CHECK_EVERY,
            )
        )
        jobs.append(
            Job(
                "alerts:prune",
                guard(
                    "outbox prune",
                    lambda: prune_outbox(
                        engine,
                        settings.outbox_keep,
                        utcnow(),
                        [r.name for r in settings.alerts],
                        [s.name for s in settings.sources],
                    ),
                    Lease(engine, "alerts-prune", period),
                ),
                every=PRUNE_EVERY,
                delay=STALE_CHECK_EVERY,
            )
        )
    return jobs
