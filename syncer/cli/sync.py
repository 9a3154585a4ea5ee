"""``syncer sync`` (once, now) and ``syncer run`` (on a schedule, until stopped)."""

from __future__ import annotations

import logging
import sys
from contextlib import ExitStack
from dataclasses import replace

import click

from syncer.cli.common import App, deliver_now, errors_to_exit_codes

__all__ = [
    "run",
    "sync",
]


@click.command()
@click.option("--source", help="Sync only this source.")
@click.option(
    "--accept-mass-change", is_flag=True,
    help="Apply a list that would vanish most models (held otherwise).",
)
@click.pass_obj
@errors_to_exit_codes
def sync(app: App, source: str | None, accept_mass_change: bool) -> None:
    """Sync every source (or one) now and print a summary line per source."""
    from syncer.sync.run import Syncer

    app.configure_logging()
    settings = app.settings(accept_mass_change=accept_mass_change)
    clients = app.clients(settings, source)
    engine = app.engine(settings, upgrade=True)
    failed = 0
    for name, client in clients.items():
        with client:
            result = Syncer(engine, client, name, settings.policy, alerts=settings.alerts).run()
        summary = result.summary()
        click.echo(summary if result.ok else f"Error: {summary}", err=not result.ok)
        failed += not result.ok
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
    "--metrics-host", default="0.0.0.0", show_default=True, help="Address for --metrics-port."
)
@click.pass_obj
@errors_to_exit_codes
def run(
    app: App, source: str | None, every: str | None, metrics_port: int | None, metrics_host: str
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
    engine = app.open_engine(watched)
    jobs = build_jobs(engine, watched, watched.sources)  # refuses unsafe URLs before connecting
    with ExitStack() as stack:
        if metrics_port is not None:  # a port that is taken stops the start before any change
            from syncer.runtime.metrics import serve

            stack.enter_context(serve(engine, watched, metrics_host, metrics_port))
        app.ready(engine, upgrade=True)
        run_forever(jobs, watched.schedule)
