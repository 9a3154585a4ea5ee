"""``syncer sync`` (once, now) and ``syncer run`` (on a schedule, until stopped)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import replace
from typing import TYPE_CHECKING

import click

from syncer.cli.common import App, deliver_now, errors_to_exit_codes
from syncer.cli.sources import warn_unconfigured

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from syncer.config.model import Settings
    from syncer.providers.http import Client
    from syncer.sync.run import SyncResult

__all__ = [
    "run",
    "sync",
]


def _results(
    engine: Engine, settings: Settings, clients: Mapping[str, Client], workers: int
) -> Iterator[SyncResult]:
    """Each source's sync, ``workers`` at a time, yielded in the sources' order.

    The providers' answers are what a sync mostly waits for, so they overlap; the database
    writes still queue, one transaction per source under its lock. A result is yielded as
    soon as it and every result before it are in, so the summary lines keep their order.
    """
    from syncer.sync.run import Syncer

    def one(name: str, client: Client) -> SyncResult:
        with client:
            return Syncer(engine, client, name, settings.policy, alerts=settings.alerts).run()

    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(clients))),
                              thread_name_prefix="syncer-sync")
    try:
        futures = [pool.submit(one, name, client) for name, client in clients.items()]
        for future in futures:
            yield future.result()
    finally:
        # On an error (or Ctrl-C) the syncs not started yet are dropped; those in flight end.
        pool.shutdown(wait=True, cancel_futures=True)


@click.command()
@click.option("--source", help="Sync only this source.")
@click.option(
    "--accept-mass-change", is_flag=True,
    help="Apply a list that would vanish most models (held otherwise).",
)
@click.option(
    "--jobs", "-j", type=click.IntRange(min=1), metavar="N",
    help="Sync this many sources at once (default: [sync] workers, 16).",
)
@click.pass_obj
@errors_to_exit_codes
def sync(app: App, source: str | None, accept_mass_change: bool, jobs: int | None) -> None:
    """Sync every source (or one) now and print a summary line per source, in their order.

    Sources sync concurrently, a bounded number at a time (``--jobs``, ``[sync] workers``).
    """
    app.configure_logging()
    settings = app.settings(accept_mass_change=accept_mass_change)
    clients = app.clients(settings, source)
    workers = min(jobs or settings.workers, len(clients))
    engine = app.engine(settings, upgrade=True, connections=max(1, workers))
    failed = 0
    for result in _results(engine, settings, clients, workers):
        summary = result.summary()
        click.echo(summary if result.ok else f"Error: {summary}", err=not result.ok)
        failed += not result.ok
    with engine.connect() as connection:
        warn_unconfigured(app, connection, [s.name for s in settings.sources])
    deliver_now(app, engine, settings)
    if failed:
        sys.exit(1)


@click.command()
@click.option("--source", help="Run only this source.")
@click.option("--every", metavar="DURATION", help="Interval for every source, e.g. 15m or 1h.")
@click.option(
    "--metrics-port", type=click.IntRange(0, 65535), metavar="PORT",
    help="Serve /metrics (Prometheus), /healthz, the HTML report (/) and /shutdowns.ics.",
)
@click.option(
    "--metrics-host", metavar="ADDR",
    help="Address for --metrics-port (default: [server] host, else 127.0.0.1: this machine "
    "only; 0.0.0.0 for every interface).",
)
@click.pass_obj
@errors_to_exit_codes
def run(
    app: App, source: str | None, every: str | None, metrics_port: int | None,
    metrics_host: str | None,
) -> None:
    """Sync on a schedule in the foreground until SIGINT or SIGTERM.

    A source with a retention rule also gets a retention run on the rule's ``every``: it
    deletes only when the rule says ``apply = true``, and otherwise logs the plan.
    """
    from syncer.runtime.jobs import build_jobs
    from syncer.runtime.scheduler import run_forever

    app.configure_logging(default=logging.INFO)
    settings = app.settings(every=every)
    # Health and staleness cover the sources this process syncs, not the others.
    watched = replace(settings, sources=settings.select(source))
    engine = app.open_engine(watched, long_lived=True, connections=watched.workers)
    jobs = build_jobs(engine, watched, watched.sources)  # refuses unsafe URLs before connecting
    with ExitStack() as stack:
        if metrics_port is not None:  # a port that is taken stops the start before any change
            from syncer.runtime.metrics import serve

            stack.enter_context(serve(engine, watched, metrics_host, metrics_port))
        app.ready(engine, upgrade=True)
        run_forever(jobs, watched.schedule, workers=watched.workers)
