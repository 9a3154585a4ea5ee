"""``syncer db``: create, migrate and inspect the database schema."""

from __future__ import annotations

import click

from syncer.cli.common import App, errors_to_exit_codes

__all__ = [
    "db",
    "db_copy",
    "db_current",
    "db_upgrade",
]


@click.group()
def db() -> None:
    """Create or migrate the database schema.

    \b
    Example:
      syncer db upgrade
    """


@db.command("upgrade")
@click.pass_obj
@errors_to_exit_codes
def db_upgrade(app: App) -> None:
    """Migrate the database to the current schema (creating it if empty).

    \b
    Example:
      syncer --database-url postgresql://syncer@db.example.com/syncer db upgrade
    """
    from syncer.db.revision import current_revision

    app.configure_logging()
    engine = app.engine(app.settings(), upgrade=True)
    click.echo(f"database at revision {current_revision(engine)} (head)")


@db.command("current")
@click.pass_obj
@errors_to_exit_codes
def db_current(app: App) -> None:
    """Show the database's schema revision.

    \b
    Example:
      syncer --database-url sqlite:///syncer.db db current
    """
    from syncer.db.revision import HEAD, current_revision

    app.configure_logging()
    engine = app.open_engine(app.settings(), read_only=True)
    current = current_revision(engine)
    state = "head" if current == HEAD else f"behind head {HEAD}: run `syncer db upgrade`"
    click.echo(f"{current or 'empty'} ({state})")


@db.command("copy")
@click.option(
    "--to",
    "target_url",
    required=True,
    metavar="URL",
    help="The database to copy into (empty; created tables and all).",
)
@click.pass_obj
@errors_to_exit_codes
def db_copy(app: App, target_url: str) -> None:
    """Copy this database, history and all, into another one (SQLite to PostgreSQL).

    Stop `syncer run` first: a sync during the copy would be missing from the target.

    \b
    Example:
      syncer db copy --to postgresql://syncer@db.example.com/syncer
    """
    from syncer.db.copy import copy_database
    from syncer.db.engine import make_engine

    app.configure_logging()
    source = app.open_engine(app.settings())
    target = make_engine(target_url)
    click.get_current_context().call_on_close(target.dispose)
    click.echo(copy_database(source, target).summary())
