"""What every command shares: the app object, errors to exit codes, the format option, printing.

Commands are thin: parse, call one library function, print. Heavy modules (SQLAlchemy,
requests, APScheduler) are imported inside the commands so ``syncer --help`` stays instant.
Exit codes: 0 success, 1 a sync failed or was held (or another runtime error), 2 usage or
configuration error.
"""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from syncer.config.load import load_settings
from syncer.config.model import NO_CONFIG_FILE, Settings
from syncer.errors import SyncerError, first_line
from syncer.redact import Redactor, printable
from syncer.timeutil import parse_moment

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from syncer.providers.http import Client

__all__ = [
    "COLUMNS_OPTION",
    "DAYS",
    "FORMAT_OPTION",
    "LIMIT",
    "MOMENT_HELP",
    "RAW_OPTION",
    "App",
    "CLIError",
    "chosen_columns",
    "deliver_now",
    "errors_to_exit_codes",
    "limit_option",
    "moment_option",
    "print_rows",
    "require_sources",
]

log = logging.getLogger("syncer")

MOMENT_HELP = "ISO-8601 date or date-time (UTC unless it says otherwise), or a span back like 7d"
#: ``--limit N`` of every listing: a count the databases' integers hold with room to spare;
#: 0 is "no limit".
LIMIT = click.IntRange(min=0, max=1_000_000_000)
#: ``--days N`` of the reports: a window that stays inside the years a timestamp can hold.
DAYS = click.IntRange(min=1, max=100_000)

F = TypeVar("F", bound=Callable[..., Any])
#: Where ``--raw`` is kept for ``print_rows``, so no command needs a parameter for it.
_RAW = "syncer.raw_csv"
#: Where ``--columns`` is kept for ``print_rows``, the same way.
_COLUMNS = "syncer.columns"


def _remember_raw(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    ctx.meta[_RAW] = value
    return value


RAW_OPTION = click.option(
    "--raw",
    is_flag=True,
    expose_value=False,
    callback=_remember_raw,
    help="With --format csv: every cell exactly as stored, without the ' that keeps a "
    "spreadsheet from running a cell as a formula.",
)
_FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="Output format.",
)


def _remember_columns(
    ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    names = tuple(name.strip() for given in value for name in given.split(",") if name.strip())
    ctx.meta[_COLUMNS] = names
    return names


COLUMNS_OPTION = click.option(
    "--columns",
    "-c",
    multiple=True,
    metavar="NAMES",
    expose_value=False,
    callback=_remember_columns,
    help="Only these columns, in this order: comma-separated or repeated; 'all' for every "
    "one. Default: every column in JSON and CSV, the narrower set shown in a table.",
)


def FORMAT_OPTION(command: F) -> F:
    """``--format table|json|csv``, ``--raw`` and ``--columns``."""
    return COLUMNS_OPTION(RAW_OPTION(_FORMAT(command)))


def _all_at_zero(_ctx: click.Context, _param: click.Parameter, value: int | None) -> int | None:
    return None if value == 0 else value


def limit_option(default: int | None, noun: str) -> Callable[[F], F]:
    """``--limit N`` of a listing: ``default`` rows unless told (None: every row), 0 for all.
    ``print_rows`` says when the limit cut rows off."""
    told = f"default {default}, " if default is not None else ""
    return click.option(
        "--limit",
        type=LIMIT,
        default=default,
        metavar="N",
        callback=_all_at_zero,
        help=f"At most N {noun} ({told}0 for all).",
    )


class CLIError(click.ClickException):
    """A one-line error with its own exit code; outside text in it cannot drive the terminal."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(printable(message))
        self.exit_code = exit_code  # type: ignore[misc]  # click reads it per instance


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
    #: Scrubs the secrets of the settings loaded from every log line, at any verbosity.
    redactor: Redactor = field(default_factory=Redactor)

    def settings(self, **overrides: Any) -> Settings:
        settings = load_settings(
            config_file=self.config_file,
            database_url=self.database_url,
            base_url=self.base_url,
            **overrides,
        )
        self.redactor.add(settings.secrets)
        if settings.config_file is not None:
            log.info("configuration file: %s", settings.config_file)
        else:
            log.info(NO_CONFIG_FILE)
        return settings

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
        for handler in logging.getLogger().handlers:
            handler.addFilter(self.redactor)
        logging.Formatter.converter = time.gmtime
        # Libraries' INFO lines (APScheduler's job chatter, Alembic's nine lines per start)
        # are for debugging: below -vv, only their warnings. syncer logs its own line instead.
        for name in ("apscheduler", "alembic"):
            quiet = max(level, logging.WARNING) if level > logging.DEBUG else logging.NOTSET
            logging.getLogger(name).setLevel(quiet)

    def open_engine(
        self,
        settings: Settings,
        *,
        read_only: bool = False,
        long_lived: bool = False,
        connections: int = 5,
    ) -> Engine:
        """An engine that has not connected yet, disposed of when the command ends;
        ``long_lived`` for a command that runs until stopped, ``connections`` for one that
        runs that many syncs at once (see ``make_engine``)."""
        from syncer.db.engine import make_engine

        engine = make_engine(
            settings.database_url,
            read_only=read_only,
            long_lived=long_lived,
            connections=connections,
        )
        click.get_current_context().call_on_close(engine.dispose)
        return engine

    def engine(self, settings: Settings, *, upgrade: bool = False, connections: int = 5) -> Engine:
        """An engine on a database at the current schema: upgraded, or checked."""
        return self.ready(self.open_engine(settings, connections=connections), upgrade=upgrade)

    def reader(self, settings: Settings) -> Engine:
        """For the commands that only read: the database must exist and be at the current
        schema, and SQLite is opened read-only (nothing is created, a read-only copy works)."""
        return self.ready(self.open_engine(settings, read_only=True))

    def reader_if_synced(self, settings: Settings) -> Engine | None:
        """``reader``, or None (said on stderr) when nothing was synced yet: no SQLite file
        at the path, or an empty database. For a command that has something to say anyway."""
        from syncer.db.revision import current_revision
        from syncer.errors import NoDatabaseError

        try:
            engine = self.open_engine(settings, read_only=True)
        except NoDatabaseError as exc:
            click.echo(f"({exc})", err=True)
            return None
        if current_revision(engine) is None:
            click.echo("(the database is empty: `syncer sync` fills it)", err=True)
            return None
        return self.ready(engine)

    def ready(self, engine: Engine, *, upgrade: bool = False) -> Engine:
        """``engine``, its database brought to the current schema (or checked to be there).

        Alembic is imported only when there is something to migrate."""
        from syncer.db.revision import HEAD, current_revision

        before = current_revision(engine)
        if before == HEAD:
            return engine
        if not upgrade:
            raise CLIError(
                "the database is not at the current schema (or is empty): run `syncer db upgrade`"
            )
        from syncer.db import migrate

        migrate.upgrade(engine)
        after = current_revision(engine)
        if before is None:
            log.info("database created at revision %s", after)
        else:
            log.info("database migrated from revision %s to %s", before, after)
        return engine

    def configured(self, settings: Settings, name: str | None, *, stored_ok: bool = False) -> None:
        """Refuse a ``--source`` that is not configured (or, with ``stored_ok``, stored),
        naming the configured and the stored sources as the read commands do.

        A configured name costs nothing; another reads the stored names, if there is a
        database to read them from (``report --sql`` needs none).
        """
        configured = [s.name for s in settings.sources]
        if name is None or name in configured:
            return
        from sqlalchemy.exc import SQLAlchemyError

        from syncer.errors import SourceError
        from syncer.sync.sources import stored_sources, unknown_source

        try:
            with self.open_engine(settings, read_only=True).connect() as connection:
                stored = stored_sources(connection)
        except (SyncerError, SQLAlchemyError):
            stored = []
        if name not in stored:
            raise SourceError(f"{unknown_source(name, configured, stored)}{settings.no_file_note}")
        if not stored_ok:
            raise SourceError(
                f"source {name!r} is stored but not configured (configured: "
                f"{', '.join(configured)}): add it to the configuration to reach its provider"
            )

    def clients(self, settings: Settings, source: str | None) -> dict[str, Client]:
        """One client per selected source; refuses unsafe URLs before any connection."""
        from syncer.providers.http import Client

        self.configured(settings, source)
        return {
            s.name: Client(s.endpoint(), settings.http, secrets=settings.secrets)
            for s in settings.select(source)
        }


def require_sources(engine: Engine, settings: Settings, names: Iterable[str | None]) -> Engine:
    """``engine``, once every ``--source`` given names a configured or a stored source.

    A typo would otherwise print "(no rows)" and exit 0, as if the source had nothing. A
    configured name is not looked up; another costs one statement.
    """
    configured = [s.name for s in settings.sources]
    unknown = [name for name in names if name is not None and name not in configured]
    if unknown:
        from syncer.sync.sources import require_known

        with engine.connect() as connection:
            require_known(connection, unknown, configured)
    return engine


def deliver_now(app: App, engine: Engine, settings: Settings) -> None:
    """Deliver the alerts a command just wrote; say so only when something was sent or
    failed (and with ``-q`` only when something failed)."""
    if not settings.alerts:
        return
    from syncer.alerts.delivery import dispatch_once

    report = dispatch_once(
        engine,
        settings.alerts,
        settings.schedule.lease,
        report_url=settings.http.public_url,
        secrets=settings.secrets,
    )
    troubled = report.retrying or report.failed
    if report.attempted and (troubled or app.verbosity >= 0):
        click.echo(report.summary(), err=True)


def chosen_columns(
    columns: Sequence[str], fmt: str, default: Sequence[str] | None = None
) -> tuple[str, ...]:
    """The columns ``--columns`` asks for, else every one of ``columns``, or in a table the
    command's narrower ``default``; an unknown name is a usage error listing them all."""
    from syncer.reporting.output import choose_columns

    context = click.get_current_context()
    try:
        return choose_columns(
            context.meta.get(_COLUMNS, ()), columns, default if fmt == "table" else None
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc), context, param_hint="--columns") from None


def print_rows(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    fmt: str,
    *,
    explained: bool = False,
    default: Sequence[str] | None = None,
    total: int | None = None,
) -> None:
    """``rows`` in ``fmt``, in the columns ``chosen_columns`` picks (``default``: a table's
    own); an empty table says ``(no rows)`` on stderr, unless the caller already
    ``explained`` why there are none. CSV's cells are neutralised unless ``--raw``. When a
    limit cut the ``total`` rows short, stderr says so, whatever the format: a program would
    otherwise take a first page for the whole."""
    from syncer.reporting.output import render

    context = click.get_current_context()
    raw = bool(context.meta.get(_RAW))
    if raw and fmt != "csv":
        raise click.UsageError("--raw applies only to --format csv", context)
    chosen = chosen_columns(columns, fmt, default)
    if not rows and fmt == "table":
        if not explained:
            click.echo("(no rows)", err=True)
        return
    terminal = sys.stdout.isatty()
    click.echo(render(rows, chosen, fmt, raw=raw, terminal=terminal))
    if total is not None and total > len(rows):
        click.echo(f"(showing {len(rows)} of {total}; --limit 0 for all)", err=True)


def moment_option(text: str, hint: str, now: datetime) -> datetime:
    """A TIME given on the command line, or a usage error that names where it was given."""
    try:
        return parse_moment(text, now)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=hint) from None
