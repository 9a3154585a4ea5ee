"""The ``syncer alerts`` and ``syncer deprecations`` commands.

Parse, wire, print: the work is done by ``syncer.alerts`` (outbox, delivery, deprecations).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from syncer.cli.common import (
    COLUMNS_OPTION,
    FORMAT_OPTION,
    RAW_OPTION,
    App,
    CLIError,
    errors_to_exit_codes,
    limit_option,
    print_rows,
    require_sources,
)
from syncer.cli.complete import complete_rules, complete_sources
from syncer.config.model import IMPORT_FORMATS, Settings
from syncer.errors import ConfigError
from syncer.redact import printable
from syncer.timeutil import utcnow

if TYPE_CHECKING:
    from syncer.config.model import AlertRule

__all__ = [
    "ALERT_TABLE",
    "SHUTDOWN_TABLE",
    "alerts",
    "alerts_dispatch",
    "alerts_retry",
    "alerts_test",
    "deprecations",
    "deprecations_import",
]

#: The columns a table shows unless ``--columns`` says otherwise (what fits 120 columns).
ALERT_TABLE = ("created_at", "rule", "kind", "status", "summary")
SHUTDOWN_TABLE = (
    "source",
    "model_id",
    "shutdown_at",
    "days_left",
    "replacement",
    "origin",
    "status",
)


def _rule(settings: Settings, name: str) -> AlertRule:
    for rule in settings.alerts:
        if rule.name == name:
            return rule
    known = ", ".join(r.name for r in settings.alerts) or "none configured"
    raise ConfigError(f"unknown alert rule {name!r} (rules: {known}){settings.no_file_note}")


@click.group(invoke_without_command=True)
@click.option(
    "--status",
    type=click.Choice(["pending", "delivered", "failed", "held", "digested"]),
    help="Only alerts with this status.",
)
@click.option("--rule", help="Only this rule's alerts.", shell_complete=complete_rules)
@limit_option(50, "alerts")
@FORMAT_OPTION
@click.pass_context
@errors_to_exit_codes
def alerts(
    ctx: click.Context, status: str | None, rule: str | None, limit: int | None, fmt: str
) -> None:
    """The alert outbox, newest first (`alerts dispatch` delivers, `alerts test` tries a rule).

    \b
    Example:
      syncer alerts --status failed --limit 10
    """
    if ctx.invoked_subcommand is not None:
        return
    from syncer.reporting import queries

    app: App = ctx.obj
    app.configure_logging()
    with app.reader(app.settings()).connect() as connection:
        page = queries.alerts(connection, status=status, rule=rule, limit=limit)
    print_rows(page.rows, queries.ALERT_COLUMNS, fmt, default=ALERT_TABLE, total=page.total)


@alerts.command("test")
@click.argument("name", shell_complete=complete_rules)
@click.pass_obj
@errors_to_exit_codes
def alerts_test(app: App, name: str) -> None:
    """Send a test alert straight to rule NAME's channel (not through the outbox).

    \b
    Example:
      syncer alerts test page
    """
    from syncer.alerts.delivery import Sender, send_probe

    app.configure_logging()
    settings = app.settings()
    rule = _rule(settings, name)
    sender = Sender(secrets=settings.secrets)
    try:
        alert_id = send_probe(rule, sender, utcnow())
    finally:
        sender.close()
    click.echo(f"sent test alert {alert_id} to rule {name} ({rule.channel.kind})")


@alerts.command("dispatch")
@click.option(
    "--now",
    "now_all",
    is_flag=True,
    help="Deliver every pending alert now, also those waiting for their retry time.",
)
@click.pass_obj
@errors_to_exit_codes
def alerts_dispatch(app: App, now_all: bool) -> None:
    """Look for stale sources and deliver the pending alerts that are due, now.

    Delivered alerts older than `[outbox] keep_delivered` are pruned afterwards.
    Exits 1 when some alert could not be delivered (it is retried later, or failed).

    \b
    Example:
      syncer alerts dispatch --now
    """
    from syncer.alerts.delivery import dispatch_once
    from syncer.alerts.prune import prune_outbox
    from syncer.alerts.stale import check_stale

    app.configure_logging()
    settings = app.settings()
    engine = app.engine(settings, upgrade=True)
    check_stale(engine, settings, utcnow())
    report = dispatch_once(
        engine,
        settings.alerts,
        settings.schedule.lease,
        now_all=now_all,
        report_url=settings.http.public_url,
        secrets=settings.secrets,
    )
    click.echo(report.summary())
    pruned = prune_outbox(
        engine,
        settings.outbox_keep,
        utcnow(),
        [r.name for r in settings.alerts],
        [s.name for s in settings.sources],
    )
    if pruned.alerts or pruned.marks:
        click.echo(pruned.summary())
    if report.retrying or report.failed:
        sys.exit(1)


@alerts.command("retry")
@click.option("--rule", help="Only this rule's alerts.", shell_complete=complete_rules)
@click.option(
    "--all",
    "pending",
    is_flag=True,
    help="Also pending alerts waiting for their retry time: due now.",
)
@click.pass_obj
@errors_to_exit_codes
def alerts_retry(app: App, rule: str | None, pending: bool) -> None:
    """Queue failed alerts again (after fixing the receiver), with fresh attempts.

    \b
    Example:
      syncer alerts retry --rule page --all
    """
    from syncer.alerts.outbox import requeue_failed
    from syncer.db.engine import write_session

    app.configure_logging()
    engine = app.engine(app.settings())
    with write_session(engine) as session, session.begin():
        counts = requeue_failed(session, utcnow(), rule, pending=pending)
    line = f"{counts['failed']} failed alert(s) queued again"
    if pending:
        line += f", {counts['pending']} pending alert(s) due now"
    click.echo(line)


@click.group(invoke_without_command=True)
@click.option("--source", help="Only this source.", shell_complete=complete_sources)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "ics"]),
    default="table",
    show_default=True,
    help="Output format; ics: an iCalendar file with an event per shutdown, vanished models "
    "too, and one per model deprecated with no date, on the day its status was learnt.",
)
@RAW_OPTION
@COLUMNS_OPTION
@click.pass_context
@errors_to_exit_codes
def deprecations(ctx: click.Context, source: str | None, fmt: str) -> None:
    """Present models with a known shutdown date, soonest first, then those whose lifecycle
    status says they are going with no date known (`import FILE` adds dates).

    \b
    Example:
      syncer deprecations --source openai -c model_id,shutdown_at,days_left
    """
    if ctx.invoked_subcommand is not None:
        return
    from syncer.db.engine import read_session
    from syncer.reporting import queries

    app: App = ctx.obj
    app.configure_logging()
    settings = app.settings()
    engine = require_sources(app.reader(settings), settings, [source])
    if fmt == "ics":
        from syncer.reporting.calendar import shutdown_calendar
        from syncer.reporting.shutdowns import read_shutdowns, read_undated

        with read_session(engine) as session:
            dated, undated = read_shutdowns(session, source), read_undated(session, source)
        click.echo(shutdown_calendar(dated, utcnow(), undated), nl=False)
        return
    with read_session(engine) as session:
        rows = queries.shutdowns(session, utcnow(), source)
    print_rows(rows, queries.SHUTDOWN_COLUMNS, fmt, default=SHUTDOWN_TABLE)


@deprecations.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option(
    "--url",
    metavar="URL",
    help="Import from this URL (https, or http to localhost) instead of a FILE.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(IMPORT_FORMATS),
    help="The file's format, when its name does not end in .json, .csv or .toml.",
)
@click.option("--replace", is_flag=True, help="Drop every imported date not in FILE (or URL).")
@click.pass_obj
@errors_to_exit_codes
def deprecations_import(
    app: App, file: Path | None, url: str | None, fmt: str | None, replace: bool
) -> None:
    """Load shutdown dates from a CSV or TOML FILE (model, shutdown_date, replacement, source,
    source_url), or from LiteLLM's model_prices_and_context_window.json as it is.

    `model` is an id or a glob like `gpt-4-*`; the provider's own date wins where both exist.
    A LiteLLM entry applies to the configured sources of its `litellm_provider`'s kind.
    With `--url`, the file is fetched as `[[imports]]` fetches it on a schedule: its
    entries replace those it gave before, and the attempt is recorded in `import_runs`.

    \b
    Example:
      syncer deprecations import model_prices_and_context_window.json
    """
    app.configure_logging()
    if (file is None) == (url is None):
        raise CLIError("give a FILE or --url URL (one of them)", 2)
    settings = app.settings()
    if url is not None:
        _import_url(app, settings, url, fmt, replace)
        return
    assert file is not None
    _import_file(app, settings, file, fmt, replace)


def _import_file(app: App, settings: Settings, file: Path, fmt: str | None, replace: bool) -> None:
    from syncer.alerts.deprecations import import_deprecations, parse_document
    from syncer.alerts.outbox import record_countdowns
    from syncer.config.imports import format_of
    from syncer.db.engine import write_session
    from syncer.db.locks import lock_sources

    fmt = fmt or format_of(str(file))
    if fmt is None:
        raise CLIError(f"{file}: expected a .csv or .toml file, or LiteLLM's .json", 2)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"{file}: cannot read: {getattr(exc, 'strerror', None) or exc}", 2) from None
    providers = {s.name: s.profile.litellm_providers for s in settings.sources}
    parsed = parse_document(text, str(file), fmt, providers)
    engine = app.engine(settings, upgrade=True)
    names = [s.name for s in settings.sources]
    now = utcnow()
    with write_session(engine) as session, session.begin():
        lock_sources(session, names)
        result = import_deprecations(
            session, parsed.entries, now, replace=replace, origin=str(file)
        )
        alerts = record_countdowns(session, settings.alerts, names, now)
    line = f"imported {result.entries} shutdown date(s) from {file}"
    if result.events:
        line += f"; {len(result.events)} present model(s) got a new imported date"
    click.echo(line)
    _tell(alerts, parsed.skipped)


def _import_url(app: App, settings: Settings, url: str, fmt: str | None, replace: bool) -> None:
    """The scheduled import's own code, once: the configured `[[imports]]` table of this
    URL if there is one (its format and limits), else the URL with the defaults."""
    from dataclasses import replace as replaced

    from syncer.config.imports import format_of, url_problem
    from syncer.config.model import ImportSpec
    from syncer.imports.run import run_leased
    from syncer.redact import shown_url

    problem = url_problem(url)
    if problem is not None:
        raise CLIError(f"--url: {shown_url(url)!r} {problem}", 2)
    spec = next((s for s in settings.imports if s.url == url), None)
    fmt = fmt or (spec.format if spec else format_of(url))
    if fmt is None:
        raise CLIError(
            f"--url: {shown_url(url)!r} does not end in .json, .csv or .toml: give --format", 2
        )
    spec = replaced(spec, format=fmt) if spec else ImportSpec(format=fmt, url=url)
    engine = app.engine(settings, upgrade=True)
    outcome = run_leased(engine, spec, settings, replace=replace, wait=settings.schedule.lease)
    if not outcome.ok:
        click.echo(f"Error: {outcome.summary()}", err=True)
        sys.exit(1)
    click.echo(outcome.summary())
    _tell(outcome.countdowns, outcome.skipped)


def _tell(alerts: int, skipped: Sequence[str]) -> None:
    if alerts:
        click.echo(f"{alerts} countdown alert(s) queued: `syncer alerts dispatch` delivers them")
    for note in skipped:
        click.echo(f"skipped: {printable(note)}", err=True)  # it may quote the file's keys
