"""``syncer scan``: where a codebase uses model ids, checked against the inventory; and
``syncer inventory export``, the snapshot a CI job scans against.

Exit codes: 0 clean, 1 the policy failed (``--fail-on``), 2 a usage or inventory error.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from syncer.cli.common import App, CLIError, errors_to_exit_codes
from syncer.timeutil import utcnow

if TYPE_CHECKING:
    from syncer.scan.inventory import Inventory

__all__ = ["inventory", "inventory_export", "scan"]

DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres")


def _inventory(app: App, where: str | None, now: datetime) -> Inventory:
    """The inventory from a snapshot file or URL, or else from the configured database;
    every failure to get one is exit 2."""
    from sqlalchemy.exc import SQLAlchemyError

    from syncer.errors import SyncerError, first_line
    from syncer.scan.load import load_inventory
    from syncer.scan.store import read_inventory

    scheme = (where or "").split(":", 1)[0].split("+", 1)[0]
    if where is not None and scheme not in DATABASE_SCHEMES:
        return load_inventory(where)
    if where is not None:
        app.database_url = where
    try:
        engine = app.reader(app.settings())
        with engine.connect() as connection:
            return read_inventory(connection, now)
    except CLIError as exc:
        raise CLIError(f"inventory: {exc.message}", 2) from None
    except SyncerError as exc:
        raise CLIError(f"inventory: {exc}", 2) from None
    except SQLAlchemyError as exc:
        raise CLIError(f"inventory: database error: {first_line(exc)}", 2) from None


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--inventory", "where", metavar="FILE|URL",
    help="An inventory snapshot (`syncer inventory export`), an https:// URL serving one, or a "
    "database URL (default: the configured database).",
)
@click.option(
    "--fail-on", default="vanished,shutting-down:30d", show_default=True, metavar="VERDICTS",
    help="Verdicts that fail the scan, comma-separated: vanished, shutting-down (or "
    "shutting-down:Nd, within N days), deprecated, not-listed.",
)
@click.option("--format", "fmt", type=click.Choice(["text"]), default="text", show_default=True,
              help="Output format.")
@click.option("--all", "show_all", is_flag=True, help="Show ok findings too.")
@click.option("--include", multiple=True, metavar="GLOB",
              help="Only files matching this gitignore-style glob (repeatable).")
@click.option("--exclude", multiple=True, metavar="GLOB",
              help="Skip files matching this gitignore-style glob (repeatable).")
@click.pass_context
@errors_to_exit_codes
def scan(
    ctx: click.Context, paths: tuple[Path, ...], where: str | None, fail_on: str, fmt: str,
    show_all: bool, include: tuple[str, ...], exclude: tuple[str, ...],
) -> None:
    """Find the model ids files use (default: the current directory) and check each against
    the inventory: vanished, shutting-down, deprecated, not-listed or ok."""
    from syncer.scan.report import render_text, summary
    from syncer.scan.run import scan_files
    from syncer.scan.verdict import Index, failing, parse_fail_on
    from syncer.scan.walk import Walk

    app: App = ctx.obj
    app.configure_logging()
    try:
        policy = parse_fail_on(fail_on)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--fail-on") from None
    now = utcnow()
    index = Index(_inventory(app, where, now))
    skip = frozenset({Path(where).resolve()}) if where and Path(where).exists() else frozenset()
    walk = Walk(include, exclude, skip)
    result = scan_files(walk.files(list(paths) or [Path(".")]), index, now)
    failed = failing(result.findings, policy)
    shown = [f for f in result.findings if show_all or f.verdict.kind != "ok"]
    if shown:
        click.echo(render_text(shown, failed))
    hidden = len(result.findings) - len(shown)
    click.echo(summary(result.findings, failed, result.files, hidden, fail_on), err=True)
    if failed:
        ctx.exit(1)


@click.group()
def inventory() -> None:
    """The inventory as a snapshot for `syncer scan --inventory`."""


@inventory.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write the snapshot here (default: standard output).")
@click.pass_obj
@errors_to_exit_codes
def inventory_export(app: App, output: Path | None) -> None:
    """Write the inventory as a versioned JSON snapshot: sources, every id ever listed
    (first and last seen, vanished), effective shutdown dates with origin and replacement,
    lifecycle status, imported dates."""
    import orjson

    from syncer.scan.inventory import to_document
    from syncer.scan.store import read_inventory

    app.configure_logging()
    with app.reader(app.settings()).connect() as connection:
        snapshot = read_inventory(connection, utcnow())
    body = orjson.dumps(to_document(snapshot), option=orjson.OPT_INDENT_2) + b"\n"
    if output is None:
        click.echo(body.decode(), nl=False)
        return
    partial = output.with_name(output.name + ".partial")
    try:
        partial.write_bytes(body)
        partial.replace(output)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise CLIError(f"{output}: cannot write it: {exc.strerror}", 1) from None
    click.echo(f"{output}: {len(snapshot.models)} models of {len(snapshot.sources)} sources",
               err=True)
