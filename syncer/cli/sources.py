"""``syncer sources``: the configured sources, and ``rename`` / ``retire`` for the stored ones.

Parse, call one function of ``sync.sources``, print.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

import click

from syncer.cli.common import FORMAT_OPTION, App, errors_to_exit_codes, print_rows
from syncer.cli.complete import complete_sources
from syncer.timeutil import utcnow

if TYPE_CHECKING:
    from sqlalchemy import Connection

__all__ = [
    "SOURCE_TABLE",
    "sources_command",
    "sources_rename",
    "sources_retire",
    "warn_unconfigured",
]


def warn_unconfigured(app: App, connection: Connection, configured: Collection[str]) -> None:
    """One line on stderr per source the database holds and the configuration does not name
    (none with ``-q``): left alone, its models would stay present for ever."""
    from syncer.sync.sources import unconfigured, unconfigured_warning

    if app.verbosity < 0:
        return
    for name, present in unconfigured(connection, configured).items():
        text, fix = unconfigured_warning(name, present)
        click.echo(f"Warning: {text}: {fix}", err=True)


#: The columns a table shows unless ``--columns`` says otherwise (what fits 120 columns).
SOURCE_TABLE = ("name", "kind", "base_url", "key_set", "last_sync_at", "last_status", "models")


@click.group("sources", invoke_without_command=True)
@FORMAT_OPTION
@click.pass_context
@errors_to_exit_codes
def sources_command(ctx: click.Context, fmt: str) -> None:
    """The configured sources: kind, base URL, latest sync, present models and which replica
    holds the sync lease now (never a key); `rename` and `retire` for stored ones. Before the
    first sync, each is listed as never synced.

    \b
    Example:
      syncer sources -c name,last_status,models
    """
    if ctx.invoked_subcommand is not None:
        return
    from syncer.reporting import queries

    app: App = ctx.obj
    app.configure_logging()
    settings = app.settings()
    engine = app.reader_if_synced(settings)
    if engine is None:  # before the first sync: what is configured, each never synced
        rows = queries.sources(None, settings.sources, utcnow())
    else:
        with engine.connect() as connection:
            rows = queries.sources(connection, settings.sources, utcnow())
            warn_unconfigured(app, connection, [s.name for s in settings.sources])
    print_rows(rows, queries.SOURCE_COLUMNS, fmt, default=SOURCE_TABLE)


@sources_command.command("rename")
@click.argument("old", shell_complete=complete_sources)
@click.argument("new")
@click.pass_obj
@errors_to_exit_codes
def sources_rename(app: App, old: str, new: str) -> None:
    """Move the whole history of source OLD to NEW (rename it in the configuration first).

    Every row of every table keyed by source, and its leases, in one transaction; refused
    when NEW already has data or OLD is still configured.

    \b
    Example:
      syncer sources rename openai openai-us
    """
    from syncer.sync.sources import rename

    app.configure_logging()
    settings = app.settings()
    configured = [s.name for s in settings.sources]
    renamed = rename(app.engine(settings), old, new, configured, utcnow())
    click.echo(renamed.summary())
    if new not in configured:
        click.echo(
            f"Warning: source {new!r} is not in the configuration either: add it there "
            "before the next sync",
            err=True,
        )


@sources_command.command("retire")
@click.argument("name", shell_complete=complete_sources)
@click.pass_obj
@errors_to_exit_codes
def sources_retire(app: App, name: str) -> None:
    """End source NAME, which the configuration no longer names: its present models leave
    the inventory (a `source_retired` event each); its history stays queryable.

    \b
    Example:
      syncer sources retire old-azure
    """
    from syncer.sync.sources import retire

    app.configure_logging()
    settings = app.settings()
    count = retire(app.engine(settings), name, [s.name for s in settings.sources], utcnow())
    models = "1 model" if count == 1 else f"{count} models"
    click.echo(
        f"retired source {name!r}: {models} left the present inventory; its history "
        f"stays (`syncer events --source {name}`)"
    )
