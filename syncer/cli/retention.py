"""The ``syncer retention`` commands: ``plan`` shows, ``apply`` deletes.

Parse, wire, print. The decisions are ``retention.plan``'s; the deletions ``retention.apply``'s.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from syncer.cli.common import (
    FORMAT_OPTION,
    App,
    CLIError,
    deliver_now,
    errors_to_exit_codes,
    print_rows,
)
from syncer.cli.complete import complete_sources
from syncer.config.model import RetentionRule, Settings
from syncer.timeutil import utcnow

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from syncer.retention.plan import RetentionPlan

__all__ = [
    "retention",
    "retention_apply",
    "retention_plan",
]


@click.group()
def retention() -> None:
    """Delete stale fine-tuned models by a rule: `plan` shows what, `apply` does it.

    \b
    Example:
      syncer retention plan --source openai
    """


def _rules_for(app: App, settings: Settings, source: str | None) -> dict[str, RetentionRule]:
    rules = dict(settings.retention)
    if source is not None:
        app.configured(settings, source)
        if source not in rules:
            raise CLIError(
                f"source {source!r} has no retention rule: add [retention]{settings.no_file_note}",
                2,
            )
        return {source: rules[source]}
    if not rules:
        raise CLIError(
            f"no retention rule: add a [retention] table to the config file{settings.no_file_note}",
            2,
        )
    return rules


def _retention_plans(
    engine: Engine, settings: Settings, rules: dict[str, RetentionRule]
) -> tuple[dict[str, RetentionPlan], bool]:
    """Each source's plan, with its one-line summary on stderr; True when a source refused."""
    from syncer.errors import RetentionError
    from syncer.retention.apply import plan_source

    plans: dict[str, RetentionPlan] = {}
    refused = False
    for name, rule in rules.items():
        try:
            fine_tunes = settings.source(name).profile.fine_tunes
            plan = plan_source(engine, name, rule, utcnow(), fine_tunes)
        except RetentionError as exc:
            click.echo(f"Error: {exc}", err=True)
            refused = True
            continue
        plans[name] = plan
        click.echo(plan.summary(name), err=True)
    return plans, refused


@retention.command("plan")
@click.option("--source", help="Only this source.", shell_complete=complete_sources)
@click.option("--all", "show_all", is_flag=True, help="Also list models that are not fine-tunes.")
@FORMAT_OPTION
@click.pass_obj
@errors_to_exit_codes
def retention_plan(app: App, source: str | None, show_all: bool, fmt: str) -> None:
    """What `apply` would delete and why, and why each other fine-tune stays. Deletes nothing.

    \b
    Example:
      syncer retention plan --all --format csv
    """
    from syncer.retention.plan import PLAN_COLUMNS
    from syncer.timeutil import format_duration

    app.configure_logging()
    settings = app.settings()
    rules = _rules_for(app, settings, source)
    plans, refused = _retention_plans(app.reader(settings), settings, rules)
    if not plans:  # every source refused, each with its one error line: nothing else to say
        sys.exit(1)
    rows = [row for name, plan in plans.items() for row in plan.rows(name, everything=show_all)]
    print_rows(rows, PLAN_COLUMNS, fmt)
    for name in plans:
        rule = rules[name]
        every = format_duration(rule.every)
        scheduled = (
            f"applies this rule every {every} (apply = true)"
            if rule.apply
            else "only logs this plan (apply = false)"
        )
        click.echo(f"{name}: `syncer run` {scheduled}", err=True)
    if refused:
        sys.exit(1)


@retention.command("apply")
@click.option("--source", help="Only this source.", shell_complete=complete_sources)
@click.option("--yes", is_flag=True, help="Delete without asking (required without a terminal).")
@click.pass_obj
@errors_to_exit_codes
def retention_apply(app: App, source: str | None, yes: bool) -> None:
    """Delete the planned models at the provider; each is a `deleted` event at once.

    \b
    Example:
      syncer retention apply --source openai --yes
    """
    from syncer.providers.http import Client
    from syncer.retention.apply import Deletion, apply_plan
    from syncer.retention.plan import PLAN_COLUMNS

    app.configure_logging()
    settings = app.settings()
    rules = _rules_for(app, settings, source)
    clients = {
        name: Client(settings.source(name).endpoint(), settings.http, secrets=settings.secrets)
        for name in rules
    }
    for client in clients.values():
        click.get_current_context().call_on_close(client.close)
    engine = app.engine(settings)
    plans, failed = _retention_plans(engine, settings, rules)
    plans = {name: plan for name, plan in plans.items() if plan.deletions}
    total = sum(len(plan.deletions) for plan in plans.values())
    if total and not yes:
        rows = [r for n, p in plans.items() for r in p.rows(n) if r["action"] == "delete"]
        print_rows(rows, PLAN_COLUMNS, "table")
        if not sys.stdin.isatty():
            raise CLIError("not a terminal and no --yes: nothing deleted (add --yes to delete)")
        if not click.confirm(f"Delete these {total} models?", default=False):
            raise CLIError("nothing deleted")

    def show(outcome: Deletion) -> None:
        line = f"{outcome.result} {outcome.model_id}"
        failure = outcome.result == "failed"
        click.echo(f"{line}: {outcome.message}" if failure else line, err=failure)

    for name, plan in plans.items():
        if len(plan.deletions) > 5 and sys.stdout.isatty():
            with click.progressbar(length=len(plan.deletions), label=name) as bar:
                report = apply_plan(
                    engine,
                    clients[name],
                    name,
                    plan,
                    on_outcome=lambda _: bar.update(1),
                    alerts=settings.alerts,
                    lease=settings.schedule.lease,
                )
            for outcome in report.outcomes:
                if outcome.result == "failed":
                    show(outcome)
        else:
            report = apply_plan(
                engine,
                clients[name],
                name,
                plan,
                on_outcome=show,
                alerts=settings.alerts,
                lease=settings.schedule.lease,
            )
        click.echo(report.summary(), err=not report.ok)
        failed = failed or not report.ok
    deliver_now(app, engine, settings)
    if failed:
        sys.exit(1)
