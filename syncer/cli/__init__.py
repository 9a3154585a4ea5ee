"""The ``syncer`` command: the group, its global options, and every command registered."""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence
from typing import Any

import click

from syncer import DISTRIBUTION
from syncer.cli.alerts import alerts, deprecations
from syncer.cli.common import App
from syncer.cli.db import db
from syncer.cli.demo import demo
from syncer.cli.doctor import doctor
from syncer.cli.inventory import events, models, runs
from syncer.cli.reporting import diff, history, report
from syncer.cli.retention import retention
from syncer.cli.scan import inventory, scan
from syncer.cli.sources import sources_command
from syncer.cli.sync import run, sync

__all__ = ["OneLineErrors", "cli", "main"]


class OneLineErrors(click.Group):
    """click's group, except that a usage error is one line like every other error.

    The README promises one line on stderr starting ``Error:``; click would print the usage
    and a hint first. The line ends with where to read more.
    """

    def main(  # type: ignore[override]
        self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> Any:
        if extra.get("standalone_mode", True) is False:
            return super().main(args, prog_name, **extra)
        try:
            code = super().main(args, prog_name, **{**extra, "standalone_mode": False})
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx is not None else "syncer"
            click.echo(f"Error: {exc.format_message()} (see `{command} --help`)", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    metavar="FILE",
    help="TOML config file (default: $SYNCER_CONFIG, else ./syncer.toml if present; none: one "
    "source from the environment).",
)
@click.option(
    "--database-url",
    metavar="URL",
    help="SQLAlchemy URL (default: $SYNCER_DATABASE_URL or sqlite:///syncer.db).",
)
@click.option(
    "--base-url",
    metavar="URL",
    help="Provider base URL without [[sources]] (default: $OPENAI_BASE_URL or OpenAI).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors in the log.")
@click.version_option(package_name=DISTRIBUTION, prog_name="syncer")
@click.pass_context
def cli(
    ctx: click.Context,
    config_file: str | None,
    database_url: str | None,
    base_url: str | None,
    verbose: int,
    quiet: bool,
) -> None:
    """Keep an exact, queryable history of the models your API keys can use.

    \b
    Example:
      syncer --config syncer.toml sync
    """
    ctx.obj = App(config_file, database_url, base_url, -1 if quiet else verbose)


for command in (
    db,
    sync,
    run,
    sources_command,
    models,
    events,
    runs,
    diff,
    history,
    report,
    retention,
    alerts,
    deprecations,
    demo,
    doctor,
    scan,
    inventory,
):
    cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="syncer")
    finally:
        # The process is ending: what it holds is freed anyway, and freezing it spares the
        # interpreter's last garbage collections a walk through every object SQLAlchemy and
        # a sync made, which is long after a sync of a large inventory.
        gc.freeze()
