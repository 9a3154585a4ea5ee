"""The reporting commands: ``diff``, ``history``, ``report`` (``report html``), ``models --as-of``.

Like the rest of the CLI: parse, call one library function, print; heavy modules are
imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click_default_group import DefaultGroup

from syncer.cli.common import (
    DAYS,
    FORMAT_OPTION,
    MOMENT_HELP,
    App,
    CLIError,
    chosen_columns,
    errors_to_exit_codes,
    moment_option,
    print_rows,
    require_sources,
)
from syncer.cli.complete import complete_reports, complete_sources
from syncer.timeutil import utcnow

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from click.shell_completion import CompletionItem
    from sqlalchemy import Engine

    from syncer.providers.profile import Profile

__all__ = [
    "EVENT_HISTORY_TABLE",
    "INTERVAL_TABLE",
    "diff",
    "history",
    "models_as_of",
    "report",
    "report_html",
    "report_query",
]

#: The columns ``history``'s table shows unless ``--columns`` says otherwise.
EVENT_HISTORY_TABLE = ("source", "occurred_at", "kind", "old_values", "new_values")
INTERVAL_TABLE = (
    "source",
    "interval_number",
    "available_from",
    "available_until",
    "days_available",
    "started_by",
    "ended_by",
)


def models_as_of(
    engine: Engine,
    as_of: str,
    *,
    source: Sequence[str] | None,
    include_vanished: bool,
    profiles: Mapping[str, Profile],
) -> tuple[list[dict[str, Any]], str | None]:
    """The rows of ``syncer models --as-of AS_OF`` (``profiles`` are the sources' kinds), and
    when there are none because the moment is before the first sync, a note that says so (a
    bare "no rows" reads as "no models")."""
    from syncer.reporting import history_queries
    from syncer.timeutil import human_time

    now = utcnow()
    moment = moment_option(as_of, "--as-of", now)
    if moment > now:
        raise click.BadParameter(
            f"{as_of!r} is in the future; the inventory is known up to now", param_hint="--as-of"
        )
    with history_queries.snapshot_session(engine) as session:
        rows = history_queries.models_as_of(
            session,
            moment,
            source=source,
            include_vanished=include_vanished,
            profiles=profiles,
        )
        started = None if rows else history_queries.history_start(session, source)
    if rows or (started is not None and moment >= started):
        return rows, None
    if started is None:
        return rows, "(no rows: nothing has been synced yet)"
    return rows, f"(no rows: the history starts at {human_time(started)}, the first sync)"


@click.command()
@click.argument("start", metavar="FROM")
@click.argument("end", metavar="[TO]", required=False)
@click.option("--source", help="Only this source.", shell_complete=complete_sources)
@FORMAT_OPTION
@click.pass_obj
@errors_to_exit_codes
def diff(app: App, start: str, end: str | None, source: str | None, fmt: str) -> None:
    """What was added, reappeared, vanished or changed between FROM and TO (default now).

    FROM and TO are ISO-8601 dates or date-times (UTC unless they say otherwise) or spans
    back from now like 7d. The difference is net: a model that left and came back
    unchanged in between is not listed (`syncer events --since` shows every step).

    \b
    Example:
      syncer diff 7d --source openai
    """
    from syncer.reporting import history_queries
    from syncer.reporting.history import DIFF_COLUMNS

    app.configure_logging()
    now = utcnow()
    begin = moment_option(start, "FROM", now)
    finish = now if end is None else moment_option(end, "TO", now)
    if begin > finish:
        raise click.BadParameter(f"FROM ({start}) is after TO ({end or 'now'})", param_hint="FROM")
    settings = app.settings()
    engine = require_sources(app.reader(settings), settings, [source])
    with history_queries.snapshot_session(engine) as session:
        rows = history_queries.diff(session, begin, finish, source=source)
    print_rows(rows, DIFF_COLUMNS, fmt)


@click.command()
@click.argument("model_id", metavar="MODEL")
@click.option("--source", help="Only this source.", shell_complete=complete_sources)
@click.option(
    "--intervals", is_flag=True, help="One row per availability interval instead of per event."
)
@FORMAT_OPTION
@click.pass_obj
@errors_to_exit_codes
def history(app: App, model_id: str, source: str | None, intervals: bool, fmt: str) -> None:
    """Every event of one model, each with the availability interval it belongs to.

    \b
    Example:
      syncer history gpt-4o --intervals
    """
    from syncer.reporting import history_queries

    app.configure_logging()
    settings = app.settings()
    engine = require_sources(app.reader(settings), settings, [source])
    with history_queries.snapshot_session(engine) as session:
        columns: tuple[str, ...]
        table: tuple[str, ...]
        if intervals:
            rows = history_queries.model_intervals(session, model_id, source)
            columns, table = history_queries.INTERVAL_COLUMNS, INTERVAL_TABLE
        else:
            rows = history_queries.model_events(session, model_id, source)
            columns, table = history_queries.EVENT_HISTORY_COLUMNS, EVENT_HISTORY_TABLE
    if not rows:
        raise CLIError(f"no history for model {model_id!r}")
    print_rows(rows, columns, fmt, default=table)


class _Reports(DefaultGroup):
    """``report``: ``syncer report NAME`` runs ``report query NAME``, so completing after
    ``report`` offers the reports' names beside the subcommands."""

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        from click.shell_completion import CompletionItem

        names = complete_reports(ctx, None, incomplete)
        return [*super().shell_complete(ctx, incomplete), *map(CompletionItem, names)]


@click.group(cls=_Reports, default="query", default_if_no_args=True)
def report() -> None:
    """Canned reports (`syncer report NAME`, see `--list`) and the HTML report (`report html`).

    `syncer report NAME ...` is short for `syncer report query NAME ...`.

    \b
    Example:
      syncer report changes --days 7
    """


@click.command("query")
@click.argument("name", required=False, shell_complete=complete_reports)
@click.option("--list", "list_reports", is_flag=True, help="List the reports, one line each.")
@click.option("--days", type=DAYS, help="The report's window in days (see --list).")
@click.option("--source", help="Only this source.", shell_complete=complete_sources)
@click.option(
    "--sql",
    "show_sql",
    is_flag=True,
    help="Print the report's SQL for this database, options filled in; do not run it.",
)
@FORMAT_OPTION
@click.pass_obj
@errors_to_exit_codes
def report_query(
    app: App,
    name: str | None,
    list_reports: bool,
    days: int | None,
    source: str | None,
    show_sql: bool,
    fmt: str,
) -> None:
    """Run a canned report: a named SQL query over the reporting views.

    \b
    Example:
      syncer report query shutdowns --days 90 --sql
    """
    from syncer.reporting import reports

    if list_reports:
        listed = [
            {"name": r.name, "days": r.days, "summary": r.summary} for r in reports.REPORTS.values()
        ]
        columns = ("name", "days", "summary")
        # A table without --columns is a list to read, one report a line, no header.
        if fmt == "table" and not chosen_columns(columns, fmt, default=()):
            width = max(len(r.name) for r in reports.REPORTS.values())
            click.echo(
                "\n".join(f"{r.name.ljust(width)}  {r.summary}" for r in reports.REPORTS.values())
            )
        else:
            print_rows(listed, columns, fmt)
        return
    if name is None:
        raise click.UsageError("name a report, or see them all with `syncer report --list`")
    chosen = reports.REPORTS.get(name)
    if chosen is None:
        known = ", ".join(reports.REPORTS)
        raise click.BadParameter(f"no report {name!r}; one of: {known}", param_hint="NAME")
    if days is not None and chosen.days is None:
        raise click.BadParameter(f"report {name!r} takes no --days", param_hint="--days")
    app.configure_logging()
    settings = app.settings()
    if show_sql:
        from syncer.db.engine import dialect_name

        app.configured(settings, source, stored_ok=True)
        dialect = dialect_name(settings.database_url)
        click.echo(reports.sql_text(chosen, dialect, now=utcnow(), days=days, source=source))
        return
    from syncer.db.engine import read_session

    with read_session(require_sources(app.reader(settings), settings, [source])) as session:
        rows = reports.run(session, chosen, now=utcnow(), days=days, source=source)
    print_rows(rows, chosen.columns, fmt)


@click.command("html")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default="syncer-report.html",
    show_default=True,
    help="Where to write it (- for stdout).",
)
@click.option("--source", help="Only this source.", shell_complete=complete_sources)
@click.option(
    "--since", metavar="TIME", help=f"Start of the window (default: all history); {MOMENT_HELP}."
)
@click.pass_obj
@errors_to_exit_codes
def report_html(app: App, output: Path, source: str | None, since: str | None) -> None:
    """Write a self-contained HTML report: sources, availability timeline, shutdowns, changes.

    \b
    Example:
      syncer report html -o report.html --since 30d
    """
    from syncer.reporting import history_queries
    from syncer.reporting.html import report_html as render

    app.configure_logging()
    now = utcnow()
    start = None if since is None else moment_option(since, "--since", now)
    settings = app.settings()
    engine = require_sources(app.reader(settings), settings, [source])
    with history_queries.snapshot_session(engine) as session:
        page = render(session, now, since=start, source=source)
    if str(output) == "-":
        click.echo(page, nl=False)
        return
    from syncer.files import write_atomically

    try:
        write_atomically(output, page)
    except OSError as exc:
        raise CLIError(f"{output}: cannot write: {exc.strerror or exc}") from None
    size = len(page.encode()) / 1e6
    click.echo(f"wrote {output} ({size:.1f} MB): open it in a browser", err=True)


report.add_command(report_query)
report.add_command(report_html)
