"""``syncer demo``: run the real code on a recorded history, then say what to try next.

Parse, call ``syncer.demo.run_demo``, print.
"""

from __future__ import annotations

import logging
import shlex
from pathlib import Path

import click

from syncer.cli.common import App, errors_to_exit_codes

__all__ = ["demo"]

DEFAULT_DATABASE = "syncer-demo.db"
DEFAULT_REPORT = "syncer-demo.html"


@click.command()
@click.option(
    "--database-url",
    "demo_url",
    metavar="URL",
    help=f"An empty database for the demo (default: sqlite:///{DEFAULT_DATABASE}).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_REPORT,
    show_default=True,
    help="Where to write the HTML report.",
)
@click.pass_obj
@errors_to_exit_codes
def demo(app: App, demo_url: str | None, output: Path) -> None:
    """Replay two years of OpenAI's model list through syncer, with no key and no network.

    A provider and an alert receiver start on 127.0.0.1; a simulated clock steps through
    the recorded syncs; the real client, sync, alerts and retention plan run on them. It
    leaves a database and an HTML report, and prints commands to try on them.

    \b
    Example:
      syncer demo -o demo.html
    """
    from syncer.demo import run_demo

    # The demo prints a line per sync that changed something, failures included: the log
    # would say the same again, with today's time on it.
    app.configure_logging(default=logging.CRITICAL)
    url = demo_url or app.database_url or f"sqlite:///{DEFAULT_DATABASE}"
    result = run_demo(url, output, progress=click.echo)
    history, statuses = result.history, result.statuses()
    plan = result.plan
    click.echo(
        f"\nReplayed {len(result.syncs)} syncs of {history.source}'s model list from "
        f"{history.start:%Y-%m-%d} to {history.end:%Y-%m-%d} ({statuses['ok']} ok, "
        f"{statuses['failed']} failed, {statuses['held']} held); "
        f"{len(result.alerts)} alerts reached the local receiver."
    )
    if result.pages:
        first = result.pages[0]["summary"]
        click.echo(
            f"{len(result.pages)} of them paged at once for a model the demo app uses "
            f"(the scan recorded its files); the first:\n    {first}"
        )
    if result.digests:
        busiest = max(result.digests, key=lambda d: (d["total"], d["created_at"]))
        click.echo(f"{len(result.digests)} of them were weekly digests; the busiest:\n")
        click.echo("\n".join(f"    {line}" for line in busiest["text"].splitlines()) + "\n")
    if plan is not None:
        click.echo(f"Retention plan: {plan.summary(history.source)}")
    click.echo(f"Database: {url}\nReport:   {output} (open it in a browser)\n\nTry next:")
    prefix = f"syncer --database-url {shlex.quote(url)}"
    moments = [f"{t:%Y-%m-%dT%H:%M:%SZ}" for t in history.try_at]
    for line in (
        *(f"{prefix} models --as-of {m}" for m in moments),
        f"{prefix} history gpt-3.5-turbo-0301",
        f"{prefix} models --used --as-of {moments[0]}" if moments else "",
        f"{prefix} deprecations",
        f"{prefix} events --kind vanished",
        f"{prefix} diff {moments[0]} {moments[-1]}" if moments else "",
        f"{prefix} report html -o report.html",
        f"{prefix} deprecations --format ics > shutdowns.ics",
    ):
        if line:
            click.echo(f"  {line}")
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        click.echo(
            f"  datasette {shlex.quote(path)} -m docs/datasette.yml"
            "   (pip install 'model-syncer[datasette]')"
        )
