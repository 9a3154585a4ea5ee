"""``syncer scan``: where a codebase uses model ids, checked against the inventory; and
``syncer inventory export``, the snapshot a CI job scans against.

Exit codes: 0 clean, 1 the policy failed (``--fail-on``), 2 a usage or inventory error.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from syncer.cli.common import App, CLIError, errors_to_exit_codes
from syncer.timeutil import utcnow

if TYPE_CHECKING:
    from syncer.scan.inventory import Inventory
    from syncer.scan.verdict import Finding, Policy, Waiver

__all__ = ["inventory", "inventory_export", "scan"]

DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres")


def _inventory(app: App, where: str | None, now: datetime) -> Inventory:
    """The inventory from a snapshot file or URL, or else from the configured database;
    every failure to get one is exit 2."""
    scheme = (where or "").split(":", 1)[0].split("+", 1)[0]
    if where is not None and scheme not in DATABASE_SCHEMES:
        from syncer.scan.load import is_url, load_inventory

        # A URL may be a syncer run whose server wants its token: the one the settings
        # read from [http] token_env (or the deprecated [server] table), as the server does.
        if not is_url(where):
            return load_inventory(where)
        server = app.settings().server
        return load_inventory(where, server.token, server.token_env)
    # Only a scan of the database pays for SQLAlchemy's import.
    from sqlalchemy.exc import SQLAlchemyError

    from syncer.errors import SyncerError, first_line
    from syncer.scan.store import read_inventory

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
    "--inventory",
    "where",
    metavar="FILE|URL",
    envvar="SYNCER_INVENTORY",
    help="An inventory snapshot (`syncer inventory export`), an https:// URL serving one, or a "
    "database URL (default: $SYNCER_INVENTORY, else the configured database).",
)
@click.option(
    "--fail-on",
    default="vanished,shutting-down:30d",
    show_default=True,
    metavar="VERDICTS",
    help="Verdicts that fail the scan, comma-separated: vanished, shutting-down (or "
    "shutting-down:Nd, within N days), deprecated, not-listed.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif", "github"]),
    default="text",
    show_default=True,
    help="text (grouped by file), json (versioned), sarif (2.1.0, for code scanning) or "
    "github (workflow annotations, and a summary to $GITHUB_STEP_SUMMARY when set).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write the report here instead of standard output.",
)
@click.option(
    "--waivers",
    "waivers_file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Accepted uses of ids, each until a date (default: .syncer-scan.toml at the root of "
    "the git repository scanned, else of the current directory, if present); its path globs "
    "are relative to that root.",
)
@click.option("--all", "show_all", is_flag=True, help="Show ok findings too.")
@click.option(
    "--record",
    is_flag=True,
    help="Store every finding in the database's model_usages table, replacing the "
    "repository's previous ones (needs --repository).",
)
@click.option("--repository", metavar="NAME", help="The repository --record stores the uses of.")
@click.option(
    "--include",
    multiple=True,
    metavar="GLOB",
    help="Only files matching this gitignore-style glob (repeatable).",
)
@click.option(
    "--exclude",
    multiple=True,
    metavar="GLOB",
    help="Skip files matching this gitignore-style glob (repeatable).",
)
@click.pass_context
@errors_to_exit_codes
def scan(
    ctx: click.Context,
    paths: tuple[Path, ...],
    where: str | None,
    fail_on: str,
    fmt: str,
    output: Path | None,
    waivers_file: Path | None,
    show_all: bool,
    record: bool,
    repository: str | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
) -> None:
    """Find the model ids files use (default: the current directory) and check each against
    the inventory: vanished, shutting-down, deprecated, not-listed or ok.

    \b
    Example:
      syncer scan . --fail-on vanished,shutting-down:30d --format github
    """
    from syncer.scan.report import summary
    from syncer.scan.run import scan_files
    from syncer.scan.verdict import Index, failing
    from syncer.scan.waivers import apply_waivers
    from syncer.scan.walk import Walk, scan_base

    app: App = ctx.obj
    app.configure_logging()
    policy = _policy(fail_on, record, repository)
    now = utcnow()
    base = scan_base(paths[0] if paths else Path("."))
    waivers = _waivers(waivers_file, base)
    index = Index(_inventory(app, where, now))
    skip = {Path(p).resolve() for p in (where, output) if p and Path(p).exists()}
    walk = Walk(include, exclude, frozenset(skip))
    result = scan_files(walk.files(list(paths) or [Path(".")]), index, now)
    applied = apply_waivers(result.findings, waivers, now.date(), _located(base))
    failed = failing(applied.findings, policy)
    shown = [f for f in applied.findings if show_all or f.verdict.kind != "ok"]
    hidden = len(applied.findings) - len(shown)
    line = summary(applied.findings, failed, result.files, hidden, fail_on, len(applied.expired))
    report = _render(fmt, shown, failed, files=result.files, fail_on=fail_on, now=now)
    _emit(report, output)
    if fmt == "github":
        _step_summary(shown, failed, line)
    if record and repository:
        _record(app, repository.strip(), applied.findings, now)
    _warn_waivers(applied.unused, applied.expired)
    click.echo(line, err=True)
    if failed or applied.expired:
        ctx.exit(1)


def _policy(fail_on: str, record: bool, repository: str | None) -> Policy:
    """``--fail-on`` parsed, once the options are known to fit together."""
    from syncer.scan.verdict import parse_fail_on

    try:
        policy = parse_fail_on(fail_on)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--fail-on") from None
    if record and not (repository or "").strip():
        raise click.UsageError("--record needs --repository NAME")
    return policy


def _emit(report: str, output: Path | None) -> None:
    if output is not None:
        _write(output, report)
    elif report:
        click.echo(report)


def _warn_waivers(unused: Sequence[Waiver], expired: Sequence[Waiver]) -> None:
    for waiver in unused:
        click.echo(f"warning: {waiver.where}: the waiver for {waiver.id} matched nothing", err=True)
    for waiver in expired:
        click.echo(
            f"{waiver.where}: the waiver for {waiver.id} expired on {waiver.expires} "
            f"({waiver.reason}): remove it, or renew it with a new date",
            err=True,
        )


def _record(app: App, repository: str, findings: Sequence[Finding], now: datetime) -> None:
    """Replace the repository's recorded uses with these, in one transaction."""
    from syncer.scan.usages import record_usages

    engine = app.engine(app.settings())
    with engine.begin() as connection:
        stored = record_usages(connection, repository, findings, now)
    click.echo(
        f"recorded {stored} use{'' if stored == 1 else 's'} of model ids in {repository}", err=True
    )


def _waivers(given: Path | None, base: Path) -> list[Waiver]:
    """The waivers of the file given, or of ``base``'s .syncer-scan.toml when it exists
    (named from the current directory in messages)."""
    from syncer.scan.waivers import FILE_NAME, parse_waivers

    path = given if given is not None else Path(os.path.relpath(base / FILE_NAME))
    if given is None and not path.is_file():
        return []
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"{path}: cannot read it: {exc}", 2) from None
    return parse_waivers(text, str(path))


def _located(base: Path) -> Callable[[str], str | None]:
    """A finding's file as the waivers' path globs see it: from ``base``; None outside it."""

    def located(shown: str) -> str | None:
        relative = Path(os.path.relpath(Path(shown).resolve(), base)).as_posix()
        return None if relative.startswith("../") else relative

    return located


def _render(
    fmt: str,
    shown: list[Finding],
    failed: list[Finding],
    *,
    files: int,
    fail_on: str,
    now: datetime,
) -> str:
    import orjson

    from syncer.scan import report

    if fmt == "text":
        return report.render_text(shown, failed)
    if fmt == "github":
        return report.render_github(shown, failed)
    if fmt == "json":
        document = report.to_json(shown, failed, files=files, fail_on=fail_on, scanned_at=now)
    else:
        from syncer import __version__
        from syncer.scan.sarif import to_sarif

        document = to_sarif(shown, failed, __version__)
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()


def _step_summary(shown: list[Finding], failed: list[Finding], line: str) -> None:
    """Append the summary to the file GitHub Actions names, when it names one."""
    import os

    from syncer.scan.report import step_summary

    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    try:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(step_summary(shown, failed, line))
    except OSError as exc:
        raise CLIError(f"$GITHUB_STEP_SUMMARY: cannot write {target}: {exc.strerror}", 2) from None


def _write(output: Path, text: str) -> None:
    """Write a whole file or none (a reader never sees half of it), never through a symlink
    (``files.write_atomically``)."""
    from syncer.files import write_atomically

    try:
        write_atomically(output, text)
    except OSError as exc:
        raise CLIError(f"{output}: cannot write it: {exc.strerror or exc}", 2) from None


@click.group()
def inventory() -> None:
    """The inventory as a snapshot for `syncer scan --inventory`.

    \b
    Example:
      syncer inventory export -o inventory.json
    """


@inventory.command("export")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write the snapshot here (default: standard output).",
)
@click.pass_obj
@errors_to_exit_codes
def inventory_export(app: App, output: Path | None) -> None:
    """Write the inventory as a versioned JSON snapshot: sources, every id ever listed
    (first and last seen, vanished), effective shutdown dates with origin and replacement,
    lifecycle status, imported dates.

    \b
    Example:
      syncer inventory export -o inventory.json
    """
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
    _write(output, body.decode())
    click.echo(
        f"{output}: {len(snapshot.models)} models of {len(snapshot.sources)} sources", err=True
    )
