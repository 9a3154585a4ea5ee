"""``syncer sync`` (once, now) and ``syncer run`` (on a schedule, until stopped)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import ExitStack
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, NoReturn

import click

from syncer.cli.common import App, deliver_now, errors_to_exit_codes
from syncer.cli.complete import complete_sources
from syncer.cli.sources import warn_unconfigured
from syncer.runtime.stopping import POLL, Signals, exit_now, wait_until
from syncer.timeutil import duration_text
from syncer.words import counted

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from syncer.config.model import Settings
    from syncer.providers.http import Client
    from syncer.sync.run import SyncResult

__all__ = [
    "run",
    "sync",
]

log = logging.getLogger(__name__)

#: The most an abandoning ``syncer run`` spends freeing its leases before it exits.
LEASE_FREEING = 2.0


class _Syncs:
    """Each source's sync, ``workers`` at a time, collected in the sources' order.

    The providers' answers are what a sync mostly waits for, so they overlap; the database
    writes still queue, one transaction per source under its lock.
    """

    def __init__(
        self, engine: Engine, settings: Settings, clients: Mapping[str, Client], workers: int
    ) -> None:
        from syncer.alerts.hook import alert_hook
        from syncer.sync.run import Syncer

        on_synced = alert_hook(settings.alerts)

        def one(name: str, client: Client) -> SyncResult:
            with client:
                return Syncer(engine, client, name, settings.policy, on_synced=on_synced).run()

        self.pool = ThreadPoolExecutor(
            max_workers=max(1, min(workers, len(clients))), thread_name_prefix="syncer-sync"
        )
        self.futures = {
            name: self.pool.submit(one, name, client) for name, client in clients.items()
        }
        self.taken = 0

    def in_order(self, signals: Signals) -> Iterator[SyncResult]:
        """Each result as soon as it and every one before it are in, until a signal."""
        for future in list(self.futures.values())[self.taken :]:
            while not signals.received and not future.done():
                wait([future], timeout=POLL)
            if signals.received:
                return
            self.taken += 1
            yield future.result()

    def stop(self, signals: Signals, timeout: float) -> Iterator[SyncResult]:
        """No sync starts any more; those in flight have `timeout` seconds to finish (until
        a second signal). Then the results not yet taken that are in, in order."""
        self.pool.shutdown(wait=False, cancel_futures=True)
        rest = list(self.futures.values())[self.taken :]
        wait_until(lambda: all(f.done() for f in rest), signals, timeout)
        for future in rest:
            if future.done() and not future.cancelled():
                yield future.result()

    def running(self) -> list[str]:
        return [name for name, f in self.futures.items() if f.running()]

    def not_done(self) -> list[str]:
        return [name for name, f in self.futures.items() if not f.done() or f.cancelled()]

    def close(self) -> None:
        # After an error the syncs not started yet are dropped; those in flight end.
        self.pool.shutdown(wait=True, cancel_futures=True)


def _say(result: SyncResult) -> bool:
    """Print a result's summary line; whether it failed."""
    summary = result.summary()
    click.echo(summary if result.ok else f"Error: {summary}", err=not result.ok)
    return not result.ok


def _interrupted(syncs: _Syncs, signals: Signals, timeout: timedelta) -> NoReturn:
    """Stop on SIGINT/SIGTERM: the summaries of the syncs that finish within `timeout` (or
    before a second signal), the sources left unsynced, and 128 + the signal's number.

    Alerts the finished syncs wrote stay in the outbox, for the next delivery.
    """
    running = syncs.running()
    if running:
        click.echo(
            f"{signals.name}: stopping; waiting up to {duration_text(timeout)} for "
            f"{', '.join(running)} ({signals.name} again stops at once)",
            err=True,
        )
    for result in syncs.stop(signals, timeout.total_seconds()):
        _say(result)
    left = syncs.not_done()
    if not left:
        click.echo(f"Interrupted by {signals.name}: every source synced", err=True)
        sys.exit(signals.exit_code)
    abandoned = set(syncs.running())
    names = [f"{name} (abandoned, rolled back)" if name in abandoned else name for name in left]
    click.echo(
        f"Interrupted by {signals.name}: {counted(len(left), 'source')} not synced: "
        f"{', '.join(names)}",
        err=True,
    )
    exit_now(signals.exit_code)


@click.command()
@click.option("--source", help="Sync only this source.", shell_complete=complete_sources)
@click.option(
    "--accept-mass-change",
    is_flag=True,
    help="Apply a list that would vanish most models (held otherwise).",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    metavar="N",
    help="Sync this many sources at once (default: [sync] workers, 16).",
)
@click.pass_obj
@errors_to_exit_codes
def sync(app: App, source: str | None, accept_mass_change: bool, jobs: int | None) -> None:
    """Sync every source (or one) now and print a summary line per source, in their order.

    Sources sync concurrently, a bounded number at a time (`--jobs`, `[sync] workers`).

    \b
    Example:
      syncer sync --source openai --jobs 4
    """
    app.configure_logging()
    settings = app.settings(accept_mass_change=accept_mass_change)
    clients = app.clients(settings, source)
    workers = min(jobs or settings.workers, len(clients))
    engine = app.engine(settings, upgrade=True, connections=max(1, workers))
    syncs = _Syncs(engine, settings, clients, workers)
    failed = 0
    with Signals() as signals:
        try:
            for result in syncs.in_order(signals):
                failed += _say(result)
            if signals.received:
                _interrupted(syncs, signals, settings.stop_timeout)
        finally:
            if not signals.received:
                syncs.close()
    with engine.connect() as connection:
        warn_unconfigured(app, connection, [s.name for s in settings.sources])
    deliver_now(app, engine, settings)
    if failed:
        sys.exit(1)


@click.command()
@click.option("--source", help="Run only this source.", shell_complete=complete_sources)
@click.option("--every", metavar="DURATION", help="Interval for every source, e.g. 15m or 1h.")
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    metavar="PORT",
    help="Serve /metrics (Prometheus), /healthz, the HTML report (/) and /shutdowns.ics.",
)
@click.option(
    "--metrics-host",
    metavar="ADDR",
    help="Address for --metrics-port (default: [http] host, else 127.0.0.1: this machine "
    "only; 0.0.0.0 for every interface).",
)
@click.pass_obj
@errors_to_exit_codes
def run(
    app: App,
    source: str | None,
    every: str | None,
    metrics_port: int | None,
    metrics_host: str | None,
) -> None:
    """Sync on a schedule in the foreground until SIGINT or SIGTERM.

    A stop waits up to `[run] stop_timeout` (20s) for the work in flight; a second
    SIGINT or SIGTERM stops at once. An abandoned sync rolls back and is redone at the next
    start.

    A source with a retention rule also gets a retention run on the rule's `every`: it
    deletes only when the rule says `apply = true`, and otherwise logs the plan. Each
    `[[imports]]` file of shutdown dates is imported at start and every `every`.

    \b
    Example:
      syncer run --every 15m --metrics-port 9464
    """
    from syncer.db import locks
    from syncer.runtime.jobs import build_jobs, import_jobs
    from syncer.runtime.scheduler import run_forever
    from syncer.runtime.stopping import exit_now

    app.configure_logging(default=logging.INFO)
    settings = app.settings(every=every)
    # Health and staleness cover the sources this process syncs, not the others.
    app.configured(settings, source)
    watched = replace(settings, sources=settings.select(source))
    engine = app.open_engine(watched, long_lived=True, connections=watched.workers)
    jobs = build_jobs(engine, watched, watched.sources)  # refuses unsafe URLs before connecting
    jobs += import_jobs(engine, settings)
    with ExitStack() as stack:
        if metrics_port is not None:  # a port that is taken stops the start before any change
            from syncer.runtime.server import serve

            stack.enter_context(serve(engine, watched, metrics_host, metrics_port))
        app.ready(engine, upgrade=True)
        stopped = run_forever(
            jobs, watched.schedule, workers=watched.workers, stop_timeout=watched.stop_timeout
        )
        if stopped.abandoned:
            freed = locks.free_held(timeout=LEASE_FREEING)
            if freed:
                log.info(
                    "freed the leases of %s: another replica or the next start takes them now",
                    ", ".join(freed),
                )
            exit_now(stopped.exit_code)
