"""``syncer doctor``: check the configuration, database, providers and alert channels."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import click

from syncer.cli.common import App
from syncer.errors import ConfigError

__all__ = ["doctor"]


@click.command()
@click.option(
    "--send-test",
    is_flag=True,
    help="Also send a test alert to each alert channel that passes its checks.",
)
@click.pass_obj
def doctor(app: App, send_test: bool) -> None:
    """Check this setup and say, for each problem, what to do; exit 1 if something is wrong.

    Nothing is written: the database is neither created nor migrated, and each provider
    gets one authenticated GET of its model list. Alert channels get nothing unless
    --send-test.

    \b
    Example:
      syncer doctor --send-test
    """
    from syncer.runtime.doctor import Finding, config_failure, diagnose

    app.configure_logging()
    findings: Iterator[Finding]
    try:
        findings = diagnose(app.settings(), send_test=send_test)
    except ConfigError as exc:
        findings = iter([config_failure(exc)])
    problems = warnings = 0
    for finding in findings:
        click.echo("\n".join(finding.lines()))
        problems += finding.status == "fail"
        warnings += finding.status == "warn"
    if problems:
        click.echo(f"{problems} problem(s), {warnings} warning(s): fix the FAIL lines above.")
        sys.exit(1)
    click.echo("no problems found" + (f", {warnings} warning(s)" if warnings else "") + ".")
