"""``syncer sources``, ``models``, ``models show``, ``events`` and ``runs``: the inventory."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from syncer.cli.common import (
    FORMAT_OPTION,
    App,
    CLIError,
    chosen_columns,
    errors_to_exit_codes,
    limit_option,
    moment_option,
    print_rows,
    require_sources,
)
from syncer.cli.complete import complete_sources
from syncer.cli.reporting import models_as_of
from syncer.config.model import MODEL_EVENT_KINDS, Settings
from syncer.providers.profile import KINDS
from syncer.timeutil import utcnow

if TYPE_CHECKING:
    from syncer.providers.http import Client

__all__ = [
    "EVENT_TABLE",
    "MODEL_TABLE",
    "RUN_TABLE",
    "events",
    "models",
    "models_show",
    "runs",
]


#: The columns a table shows unless ``--columns`` says otherwise: what fits 120 terminal
#: columns for the usual ids. ``--all`` shows vanished_at instead of owned_by, ``--used``
#: adds used_in.
MODEL_TABLE = ("source", "model_id", "owned_by", "created_at", "shutdown_at", "status")
EVENT_TABLE = ("occurred_at", "source", "model_id", "kind", "old_values", "new_values")
RUN_TABLE = (
    "id",
    "source",
    "started_at",
    "status",
    "models_seen",
    "added",
    "vanished",
    "reappeared",
    "changed",
    "error",
)


@click.group(invoke_without_command=True)
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="NAME",
    shell_complete=complete_sources,
    help="Only this source (repeat for several).",
)
@click.option(
    "--model",
    "patterns",
    multiple=True,
    metavar="ID",
    help="Only models with this id or glob, e.g. 'gpt-4o*' (repeat for several): "
    "each one's sources together.",
)
@click.option("--kind", type=click.Choice(KINDS), help="Only sources of this provider kind.")
@click.option("--all", "include_vanished", is_flag=True, help="Include vanished models.")
@click.option(
    "--as-of",
    metavar="TIME",
    help="The inventory as it was then: ISO-8601 date/date-time, or a span back like 7d.",
)
@limit_option(None, "models")
@click.option(
    "--used",
    is_flag=True,
    help="Only models a recorded scan found in use (`syncer scan --record`).",
)
@FORMAT_OPTION
@click.pass_context
@errors_to_exit_codes
def models(
    ctx: click.Context,
    sources: tuple[str, ...],
    patterns: tuple[str, ...],
    kind: str | None,
    include_vanished: bool,
    as_of: str | None,
    limit: int | None,
    used: bool,
    fmt: str,
) -> None:
    """List the present inventory (`models show ID` for one model).

    \b
    Example:
      syncer models --model 'gpt-4o*' -c model_id,source,shutdown_at
    """
    if ctx.invoked_subcommand is not None:
        return
    from syncer.reporting import queries

    app: App = ctx.obj
    app.configure_logging()
    settings = app.settings()
    selected = _selected(settings, sources, kind)
    engine = require_sources(app.reader(settings), settings, sources)
    note = None
    if as_of is not None:
        profiles = {s.name: s.profile for s in settings.sources}
        rows, note = models_as_of(
            engine, as_of, source=selected, include_vanished=include_vanished, profiles=profiles
        )
        rows = _matching(rows, patterns)
        total = len(rows)
    else:
        with engine.connect() as connection:
            page = queries.models(
                connection,
                source=selected,
                include_vanished=include_vanished,
                model=patterns,
                limit=None if used else limit,
            )
        rows, total = page.rows, page.total
    if note is not None:
        click.echo(note, err=True)
    rows, columns = _with_uses(engine, rows, queries.MODEL_COLUMNS, used=used)
    if used:
        total = len(rows)
    unmatched = _unmatched(patterns, rows, total)
    for pattern in unmatched:
        click.echo(f"(no model matches {pattern!r})", err=True)
    print_rows(
        rows[:limit],
        columns,
        fmt,
        explained=note is not None or bool(unmatched),
        default=_model_table(include_vanished=include_vanished, used=used),
        total=total,
    )


def _selected(settings: Settings, sources: tuple[str, ...], kind: str | None) -> list[str] | None:
    """The sources named, narrowed to those of ``kind``; None for all."""
    selected: list[str] | None = list(sources) or None
    if kind is not None:
        of_kind = [s.name for s in settings.sources if s.kind == kind]
        selected = of_kind if selected is None else [n for n in selected if n in of_kind]
    return selected


def _matching(rows: list[dict[str, Any]], patterns: Sequence[str]) -> list[dict[str, Any]]:
    """The past inventory's rows the ``--model`` patterns match, as the store would order them."""
    from syncer.reporting import queries

    if not patterns:
        return rows
    return sorted(
        (r for r in rows if queries.matches(r["model_id"], patterns)),
        key=lambda r: (r["model_id"], r["source"]),
    )


def _unmatched(patterns: Sequence[str], rows: list[dict[str, Any]], total: int) -> list[str]:
    """The patterns no row matches, when every row is shown (else one may match a later page)."""
    from syncer.reporting import queries

    if total != len(rows):
        return []
    return [p for p in patterns if not any(queries.matches(row["model_id"], [p]) for row in rows)]


def _model_table(*, include_vanished: bool, used: bool) -> tuple[str, ...]:
    """``models``' table columns: with vanished models, when each vanished instead of its
    owner; with ``--used``, the count of uses."""
    shown = [c for c in MODEL_TABLE if not (include_vanished and c == "owned_by")]
    if include_vanished:
        shown.insert(-1, "vanished_at")
    return (*shown, *(["used_in"] if used else []))


def _with_uses(
    engine: Any, rows: list[dict[str, Any]], columns: Sequence[str], *, used: bool
) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    """Each row with ``used_in``, its recorded uses (``syncer scan --record``); with
    ``used``, only the models that have some."""
    from syncer.scan.matcher import normalise
    from syncer.scan.usages import usage_counts

    with engine.connect() as connection:
        counts = usage_counts(connection)
    rows = [{**row, "used_in": counts.get(normalise(row["model_id"]), 0)} for row in rows]
    if used:
        rows = [row for row in rows if row["used_in"]]
    return rows, (*columns, "used_in")


@models.command("show")
@click.argument("model_id")
@click.option("--source", help="Only this source.", shell_complete=complete_sources)
@click.option("--live", is_flag=True, help="Ask the provider now instead of the store.")
@FORMAT_OPTION
@click.pass_obj
@errors_to_exit_codes
def models_show(app: App, model_id: str, source: str | None, live: bool, fmt: str) -> None:
    """Show one model as stored (or, with --live, as the provider describes it now).

    \b
    Example:
      syncer models show gpt-4o --source openai --live
    """
    from syncer.reporting import queries

    app.configure_logging()
    settings = app.settings()
    if live:
        rows = []
        for name, client in app.clients(settings, source).items():
            with client:
                found = _live(client, model_id)
            if found is not None:
                _warn_if_another(name, client, model_id, found)
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
    columns = list(dict.fromkeys(k for row in rows for k in row))
    if fmt == "table":
        from syncer.reporting.output import show_record

        shown = chosen_columns(columns, fmt)
        for row in rows:
            click.echo(show_record({c: row.get(c) for c in shown}) + "\n")
        return
    print_rows(rows, columns, fmt)


def _warn_if_another(name: str, client: Client, asked: str, found: dict[str, Any]) -> None:
    """Say when the provider described another model than the one asked for: a mock server
    (Prism answers any id with ``"id": "string"``) or a gateway that maps ids."""
    from syncer.errors import PayloadError
    from syncer.redact import printable
    from syncer.sync.parse import parse_model

    try:
        said = repr(parse_model(found, "the answer", client.profile)[0].model_id)
    except PayloadError:
        said = "no valid id"
    if said != repr(asked):
        click.echo(
            printable(
                f"Warning: {name}: asked for {asked!r}, the provider's answer is "
                f"for {said}: it may not know this model"
            ),
            err=True,
        )


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
@click.option("--source", help="Only this source.", shell_complete=complete_sources)
@limit_option(50, "events")
@FORMAT_OPTION
@click.pass_obj
@errors_to_exit_codes
def events(
    app: App,
    since: str | None,
    kind: str | None,
    model_id: str | None,
    source: str | None,
    limit: int | None,
    fmt: str,
) -> None:
    """The change log, newest first.

    \b
    Example:
      syncer events --since 7d --kind vanished --limit 0
    """
    from syncer.reporting import queries

    app.configure_logging()
    moment = None if since is None else moment_option(since, "--since", utcnow())
    settings = app.settings()
    with require_sources(app.reader(settings), settings, [source]).connect() as connection:
        page = queries.events(
            connection, since=moment, kind=kind, model_id=model_id, source=source, limit=limit
        )
    print_rows(page.rows, queries.EVENT_COLUMNS, fmt, default=EVENT_TABLE, total=page.total)


@click.command()
@click.option("--source", help="Only this source.", shell_complete=complete_sources)
@click.option("--status", type=click.Choice(["ok", "failed", "held"]), help="Only this status.")
@limit_option(20, "runs")
@FORMAT_OPTION
@click.pass_obj
@errors_to_exit_codes
def runs(app: App, source: str | None, status: str | None, limit: int | None, fmt: str) -> None:
    """Recent sync runs with their status and error, newest first.

    \b
    Example:
      syncer runs --status failed --limit 5
    """
    from syncer.reporting import queries

    app.configure_logging()
    settings = app.settings()
    with require_sources(app.reader(settings), settings, [source]).connect() as connection:
        page = queries.runs(connection, source=source, status=status, limit=limit)
    print_rows(page.rows, queries.RUN_COLUMNS, fmt, default=RUN_TABLE, total=page.total)
