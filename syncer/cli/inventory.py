"""``syncer sources``, ``models``, ``models show``, ``events`` and ``runs``: the inventory."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from syncer.cli.common import (
    FORMAT_OPTION,
    LIMIT,
    App,
    CLIError,
    errors_to_exit_codes,
    moment_option,
    print_rows,
    require_sources,
)
from syncer.cli.reporting import models_as_of
from syncer.config.model import MODEL_EVENT_KINDS
from syncer.providers.profile import KINDS
from syncer.timeutil import utcnow

if TYPE_CHECKING:
    from syncer.providers.http import Client

__all__ = [
    "events",
    "models",
    "models_show",
    "runs",
]


@click.group(invoke_without_command=True)
@click.option("--source", "sources", multiple=True, metavar="NAME",
              help="Only this source (repeat for several).")
@click.option("--kind", type=click.Choice(KINDS), help="Only sources of this provider kind.")
@click.option("--all", "include_vanished", is_flag=True, help="Include vanished models.")
@click.option(
    "--as-of", metavar="TIME",
    help="The inventory as it was then: ISO-8601 date/date-time, or a span back like 7d.",
)
@click.option("--limit", type=LIMIT, help="At most this many models.")
@click.option("--used", is_flag=True,
              help="Only models a recorded scan found in use (`syncer scan --record`).")
@FORMAT_OPTION
@click.pass_context
@errors_to_exit_codes
def models(
    ctx: click.Context,
    sources: tuple[str, ...],
    kind: str | None,
    include_vanished: bool,
    as_of: str | None,
    limit: int | None,
    used: bool,
    fmt: str,
) -> None:
    """List the present inventory (`models show ID` for one model)."""
    if ctx.invoked_subcommand is not None:
        return
    from syncer.reporting import queries

    app: App = ctx.obj
    app.configure_logging()
    settings = app.settings()
    selected: list[str] | None = list(sources) or None
    if kind is not None:
        of_kind = [s.name for s in settings.sources if s.kind == kind]
        selected = of_kind if selected is None else [n for n in selected if n in of_kind]
    engine = require_sources(app.reader(settings), settings, sources)
    note = None
    if as_of is not None:
        profiles = {s.name: s.profile for s in settings.sources}
        rows, note = models_as_of(
            engine, as_of, source=selected, include_vanished=include_vanished, profiles=profiles
        )
    else:
        with engine.connect() as connection:
            rows = queries.models(
                connection, source=selected, include_vanished=include_vanished,
                limit=None if used else limit,
            )
    if note is not None:
        click.echo(note, err=True)
    rows, columns = _with_uses(engine, rows, queries.MODEL_COLUMNS, used=used)
    print_rows(rows[:limit], columns, fmt, explained=note is not None)


def _with_uses(
    engine: Any, rows: list[dict[str, Any]], columns: Sequence[str], *, used: bool
) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    """Each row with ``used_in``, its recorded uses (``syncer scan --record``); with
    ``used``, only the models that have some."""
    from syncer.scan.usages import usage_counts

    with engine.connect() as connection:
        counts = usage_counts(connection)
    rows = [{**row, "used_in": counts.get(row["model_id"], 0)} for row in rows]
    if used:
        rows = [row for row in rows if row["used_in"]]
    return rows, (*columns, "used_in")


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
                found = _live(client, model_id)
            if found is not None:
                rows.append({**found, "source": name})
        if len(rows) > 1:
            listed_by = ", ".join(row["source"] for row in rows)
            raise CLIError(
                f"{model_id!r} is listed by sources {listed_by}: choose one with --source", 2
            )
        where = "the provider"
    else:
        engine = require_sources(app.reader(settings), settings, [source])
        with engine.connect() as connection:
            rows = queries.model(connection, model_id, source)
        where = "the store"
    if not rows:
        raise CLIError(f"no model {model_id!r} in {where}")
    if fmt == "table":
        from syncer.reporting.output import show_record

        for row in rows:
            click.echo(show_record(row) + "\n")
        return
    print_rows(rows, list(dict.fromkeys(k for row in rows for k in row)), fmt)


def _live(client: Client, model_id: str) -> dict[str, Any] | None:
    """The provider's description of one model now: retrieved where the kind can address
    it, or found in its list."""
    if client.profile.can_retrieve(model_id):
        return client.retrieve(model_id)
    from syncer.sync.parse import parse_listing

    listing = parse_listing(client.list_pages().pages, None, client.profile)
    return next((r.raw for r in listing.records if r.model_id == model_id), None)


@click.command()
@click.option("--since", metavar="TIME", help="ISO-8601 date/date-time, or a span like 7d or 12h.")
@click.option("--kind", type=click.Choice(MODEL_EVENT_KINDS), help="Only this kind of event.")
@click.option("--model", "model_id", metavar="ID", help="Only this model.")
@click.option("--source", help="Only this source.")
@click.option("--limit", type=LIMIT, help="At most this many events.")
@FORMAT_OPTION
@click.pass_obj
@errors_to_exit_codes
def events(
    app: App, since: str | None, kind: str | None, model_id: str | None, source: str | None,
    limit: int | None, fmt: str,
) -> None:
    """The change log, newest first."""
    from syncer.reporting import queries

    app.configure_logging()
    moment = None if since is None else moment_option(since, "--since", utcnow())
    settings = app.settings()
    with require_sources(app.reader(settings), settings, [source]).connect() as connection:
        rows = queries.events(
            connection, since=moment, kind=kind, model_id=model_id, source=source, limit=limit
        )
    print_rows(rows, queries.EVENT_COLUMNS, fmt)


@click.command()
@click.option("--source", help="Only this source.")
@click.option("--status", type=click.Choice(["ok", "failed", "held"]), help="Only this status.")
@click.option("--limit", type=LIMIT, default=20, show_default=True)
@FORMAT_OPTION
@click.pass_obj
@errors_to_exit_codes
def runs(app: App, source: str | None, status: str | None, limit: int, fmt: str) -> None:
    """Recent sync runs with their status and error, newest first."""
    from syncer.reporting import queries

    app.configure_logging()
    settings = app.settings()
    with require_sources(app.reader(settings), settings, [source]).connect() as connection:
        rows = queries.runs(connection, source=source, status=status, limit=limit)
    print_rows(rows, queries.RUN_COLUMNS, fmt)
