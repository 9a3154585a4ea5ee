"""The ``syncer`` command: parse, wire, print, map errors to exit codes.

Nothing else imports click but ``cli_alerts`` (the alert commands, registered here).
Heavy modules (SQLAlchemy, requests, APScheduler) are
imported inside the commands so ``syncer --help`` stays instant.
Exit codes: 0 success, 1 a sync failed or was held (or another runtime error),
2 usage or configuration error.
"""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from syncer.config.load import load_settings
from syncer.config.model import MODEL_EVENT_KINDS, Settings
from syncer.errors import SyncerError, first_line
from syncer.timeutil import parse_moment

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from syncer.providers.http import Client

F = TypeVar("F", bound=Callable[..., Any])
FORMAT_OPTION = click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
    show_default=True, help="Output format.",
)


class CLIError(click.ClickException):
    """A one-line error with its own exit code."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def errors_to_exit_codes(command: F) -> F:
    """Turn syncer's and the database's errors into one line on stderr and an exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sqlalchemy.exc import ArgumentError, SQLAlchemyError

        try:
            return command(*args, **kwargs)
        except SyncerError as exc:
            raise CLIError(str(exc), exc.exit_code) from None
        except ArgumentError as exc:
            raise CLIError(f"invalid database URL: {exc}", 2) from None
        except SQLAlchemyError as exc:
            raise CLIError(f"database error: {first_line(exc)}") from None

    return wrapper  # type: ignore[return-value]


@dataclass
class App:
    """What the group's options say, turned into settings and an engine on demand."""

    config_file: str | None
    database_url: str | None
    base_url: str | None
    verbosity: int

    def settings(self, **overrides: Any) -> Settings:
        return load_settings(
            config_file=self.config_file,
            database_url=self.database_url,
            base_url=self.base_url,
            **overrides,
        )

    def configure_logging(self, default: int = logging.WARNING) -> None:
        levels = {-1: logging.ERROR, 0: default, 1: logging.INFO, 2: logging.DEBUG}
        level = levels[max(-1, min(2, self.verbosity))]
        logging.basicConfig(
            level=level,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            datefmt="%Y-%m-%dT%H:%M:%SZ",
            stream=sys.stderr,
            force=True,
        )
        logging.Formatter.converter = time.gmtime
        if level > logging.DEBUG:
            logging.getLogger("apscheduler").setLevel(max(level, logging.WARNING))

    def engine(self, settings: Settings, *, upgrade: bool = False) -> Engine:
        """An engine on a database at the current schema: upgraded, or checked."""
        from syncer.db import migrate
        from syncer.db.engine import make_engine

        engine = make_engine(settings.database_url)
        click.get_current_context().call_on_close(engine.dispose)
        if upgrade:
            migrate.upgrade(engine)
        elif migrate.current_revision(engine) != migrate.head_revision():
            raise CLIError(
                "the database is not at the current schema (or is empty): run `syncer db upgrade`"
            )
        return engine

    def clients(self, settings: Settings, source: str | None) -> dict[str, Client]:
        """One client per selected source; refuses unsafe URLs before any connection."""
        from syncer.providers.http import Client

        return {s.name: Client(s, settings.http) for s in settings.select(source)}


def _print_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str) -> None:
    from syncer.reporting.output import render

    if not rows and fmt == "table":
        click.echo("(no rows)", err=True)
        return
    click.echo(render(rows, columns, fmt))


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_moment(text, datetime.now(UTC))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "config_file", metavar="FILE",
    help="TOML config file (default: $SYNCER_CONFIG; none: one source from the environment).",
)
@click.option(
    "--database-url", metavar="URL",
    help="SQLAlchemy URL (default: $SYNCER_DATABASE_URL or sqlite:///syncer.db).",
)
@click.option(
    "--base-url", metavar="URL",
    help="Provider base URL without [[sources]] (default: $OPENAI_BASE_URL or OpenAI).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors in the log.")
@click.version_option(package_name="syncer", prog_name="syncer")
@click.pass_context
def cli(
    ctx: click.Context,
    config_file: str | None,
    database_url: str | None,
    base_url: str | None,
    verbose: int,
    quiet: bool,
) -> None:
    """Keep an exact, queryable history of the models your API keys can use."""
    ctx.obj = App(config_file, database_url, base_url, -1 if quiet else verbose)


@cli.group()
def db() -> None:
    """Create or migrate the database schema."""


@db.command("upgrade")
@click.pass_obj
@errors_to_exit_codes
def db_upgrade(app: App) -> None:
    """Migrate the database to the current schema (creating it if empty)."""
    from syncer.db import migrate

    app.configure_logging()
    engine = app.engine(app.settings(), upgrade=True)
    click.echo(f"database at revision {migrate.current_revision(engine)} (head)")


@db.command("current")
@click.pass_obj
@errors_to_exit_codes
def db_current(app: App) -> None:
    """Show the database's schema revision."""
    from syncer.db import migrate
    from syncer.db.engine import make_engine

    app.configure_logging()
    engine = make_engine(app.settings().database_url)
    click.get_current_context().call_on_close(engine.dispose)
    current, head = migrate.current_revision(engine), migrate.head_revision()
    state = "head" if current == head else f"behind head {head}: run `syncer db upgrade`"
    click.echo(f"{current or 'empty'} ({state})")


@cli.command()
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
        click.echo(result.summary(), err=not result.ok)
        failed += not result.ok
    if settings.alerts:
        click.echo(dispatch_now(engine, settings).summary(), err=True)
    if failed:
        sys.exit(1)


@cli.command()
@click.option("--source", help="Run only this source.")
@click.option("--every", metavar="DURATION", help="Interval for every source, e.g. 15m or 1h.")
@click.option(
    "--metrics-port", type=click.IntRange(0, 65535), metavar="PORT",
    help="Serve Prometheus /metrics and /healthz on this port.",
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
    from syncer.config.model import Source
    from syncer.runtime.scheduler import run_forever
    from syncer.sync.run import Syncer

    app.configure_logging(default=logging.INFO)
    settings = app.settings(every=every)
    clients = app.clients(settings, source)
    rules = {n: r for n, r in settings.retention.items() if n in clients}
    engine = app.engine(settings, upgrade=True)

    def job(source: Source) -> None:
        try:
            Syncer(
                engine, clients[source.name], source.name, settings.policy,
                alerts=settings.alerts,
            ).run()
        except SyncerError as exc:
            logging.getLogger("syncer").error("sync %s: %s", source.name, exc)

    # Health and staleness cover the sources this process syncs, not the others.
    watched = replace(settings, sources=settings.select(source))
    with ExitStack() as stack:
        if metrics_port is not None:
            from syncer.runtime.metrics import serve

            stack.enter_context(serve(engine, watched, metrics_host, metrics_port))
        run_forever(
            settings.select(source), settings.schedule, job,
            retention={n: r.every for n, r in rules.items()},
            retention_job=retention_job(engine, settings, rules),
            periodic=alert_jobs(engine, watched),
        )


@cli.group(invoke_without_command=True)
@click.option("--source", help="Only this source.")
@click.option("--all", "include_vanished", is_flag=True, help="Include vanished models.")
@click.option(
    "--as-of", metavar="TIME",
    help="The inventory as it was then: ISO-8601 date/date-time, or a span back like 7d.",
)
@FORMAT_OPTION
@click.pass_context
@errors_to_exit_codes
def models(
    ctx: click.Context, source: str | None, include_vanished: bool, as_of: str | None, fmt: str
) -> None:
    """List the present inventory (`models show ID` for one model)."""
    if ctx.invoked_subcommand is not None:
        return
    from syncer.db.engine import read_session
    from syncer.reporting import queries

    app: App = ctx.obj
    app.configure_logging()
    engine = app.engine(app.settings())
    if as_of is not None:
        rows = models_as_of(engine, as_of, source=source, include_vanished=include_vanished)
    else:
        with read_session(engine) as session:
            rows = queries.models(session, source=source, include_vanished=include_vanished)
    _print_rows(rows, queries.MODEL_COLUMNS, fmt)


@models.command("show")
@click.argument("model_id")
@click.option("--source", help="Only this source.")
@click.option("--live", is_flag=True, help="Ask the provider now instead of the store.")
@FORMAT_OPTION
@click.pass_obj
@errors_to_exit_codes
def models_show(app: App, model_id: str, source: str | None, live: bool, fmt: str) -> None:
    """Show one model as stored (or, with --live, as the provider describes it now)."""
    from syncer.reporting import queries

    app.configure_logging()
    settings = app.settings()
    if live:
        rows = []
        for name, client in app.clients(settings, source).items():
            with client:
                found = client.retrieve(model_id)
            if found is not None:
                rows.append({"source": name, **found})
        where = "the provider"
    else:
        from syncer.db.engine import read_session

        with read_session(app.engine(settings)) as session:
            rows = queries.model(session, model_id, source)
        where = "the store"
    if not rows:
        raise CLIError(f"no model {model_id!r} in {where}")
    if fmt == "table":
        from syncer.reporting.output import as_text

        for row in rows:
            width = max(map(len, row))
            click.echo("\n".join(f"{k.ljust(width)}  {as_text(v)}" for k, v in row.items()) + "\n")
        return
    _print_rows(rows, list(dict.fromkeys(k for row in rows for k in row)), fmt)


@cli.command()
@click.option("--since", metavar="TIME", help="ISO-8601 date/date-time, or a span like 7d or 12h.")
@click.option("--kind", type=click.Choice(MODEL_EVENT_KINDS), help="Only this kind of event.")
@click.option("--model", "model_id", metavar="ID", help="Only this model.")
@click.option("--source", help="Only this source.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many events.")
@FORMAT_OPTION
@click.pass_obj
@errors_to_exit_codes
def events(
    app: App, since: str | None, kind: str | None, model_id: str | None, source: str | None,
    limit: int | None, fmt: str,
) -> None:
    """The change log, newest first."""
    from syncer.db.engine import read_session
    from syncer.reporting import queries

    app.configure_logging()
    moment = _since(since)
    with read_session(app.engine(app.settings())) as session:
        rows = queries.events(
            session, since=moment, kind=kind, model_id=model_id, source=source, limit=limit
        )
    _print_rows(rows, queries.EVENT_COLUMNS, fmt)


@cli.command()
@click.option("--source", help="Only this source.")
@click.option("--status", type=click.Choice(["ok", "failed", "held"]), help="Only this status.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@FORMAT_OPTION
@click.pass_obj
@errors_to_exit_codes
def runs(app: App, source: str | None, status: str | None, limit: int, fmt: str) -> None:
    """Recent sync runs with their status and error, newest first."""
    from syncer.db.engine import read_session
    from syncer.reporting import queries

    app.configure_logging()
    with read_session(app.engine(app.settings())) as session:
        rows = queries.runs(session, source=source, status=status, limit=limit)
    _print_rows(rows, queries.RUN_COLUMNS, fmt)


# The alert commands live in their own module, which imports this one: so they come last.
from syncer.cli.alerts import alert_jobs, alerts, deprecations, dispatch_now  # noqa: E402

cli.add_command(alerts)
cli.add_command(deprecations)

from syncer.cli.reporting import diff, history, models_as_of, report  # noqa: E402

cli.add_command(diff)
cli.add_command(history)
cli.add_command(report)

from syncer.cli.retention import retention, retention_job  # noqa: E402

cli.add_command(retention)


def main(argv: Sequence[str] | None = None) -> None:
    cli.main(args=argv, prog_name="syncer")
