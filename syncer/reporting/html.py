"""The HTML report: read the store in a fixed handful of statements, decide, render one file.

The page is self-contained: its CSS, SVG and the few lines of script that filter the
timeline are inline and its Content-Security-Policy forbids loading anything else, so it
opens the same from a laptop, a mail attachment or ``syncer run``'s ``/``, offline. The
policy allows that one script by its SHA-256, not any inline script: text a provider
managed to get into the page could not run.
Jinja2 is imported here only, so commands that print tables do not pay for it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from datetime import datetime
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from syncer.db.schema import ModelEvent, SyncRun
from syncer.reporting.history_queries import intervals_since
from syncer.reporting.overview import (
    FEED_LIMIT,
    MARK_KINDS,
    Event,
    Overview,
    Run,
    build_overview,
)
from syncer.reporting.shutdowns import read_shutdowns, read_undated
from syncer.words import counted

__all__ = ["REPORT_POLICY", "read_overview", "render_report", "report_html"]

#: The timeline filter, inlined as it is: the policy names its hash.
_SCRIPT = resources.files("syncer.reporting").joinpath("templates/report.js").read_text("utf-8")
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
#: Nothing the page does needs the network, and only its own script runs.
REPORT_POLICY = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{_SCRIPT_HASH}'"

EVENT_COLUMNS = (
    ModelEvent.source,
    ModelEvent.model_id,
    ModelEvent.kind,
    ModelEvent.occurred_at,
    ModelEvent.old_values,
    ModelEvent.new_values,
    ModelEvent.details,
)


def _events(session: Session, query: Any) -> list[Event]:
    return [Event(*row) for row in session.execute(query)]


def _runs(session: Session, source: str | None) -> list[Run]:
    latest = select(func.max(SyncRun.id)).group_by(SyncRun.source)
    ok = (
        select(SyncRun.source, func.max(SyncRun.finished_at))
        .where(SyncRun.status == "ok")
        .group_by(SyncRun.source)
    )
    if source is not None:
        latest, ok = latest.where(SyncRun.source == source), ok.where(SyncRun.source == source)
    last_ok = {name: finished for name, finished in session.execute(ok)}
    rows = session.execute(
        select(SyncRun.source, SyncRun.finished_at, SyncRun.status, SyncRun.error).where(
            SyncRun.id.in_(latest.scalar_subquery())
        )
    )
    return [Run(*row, last_ok_at=last_ok.get(row[0])) for row in rows]


def read_overview(
    session: Session, now: datetime, *, since: datetime | None = None, source: str | None = None
) -> Overview:
    """The report's content as of ``now`` for the window from ``since`` (None: all history)."""

    def window(query: Any) -> Any:
        if since is not None:
            query = query.where(ModelEvent.occurred_at >= since)
        return query if source is None else query.where(ModelEvent.source == source)

    counts = {
        (name, kind): count
        for name, kind, count in session.execute(
            window(
                select(ModelEvent.source, ModelEvent.kind, func.count()).group_by(
                    ModelEvent.source, ModelEvent.kind
                )
            )
        )
    }
    newest = window(select(*EVENT_COLUMNS)).order_by(
        ModelEvent.occurred_at.desc(), ModelEvent.id.desc()
    )
    return build_overview(
        now=now,
        since=since,
        intervals=intervals_since(session, since, source),
        marks=_events(
            session, window(select(*EVENT_COLUMNS).where(ModelEvent.kind.in_(MARK_KINDS)))
        ),
        counts=counts,
        feed=_events(session, newest.limit(FEED_LIMIT)),
        feed_total=sum(counts.values()),
        runs=_runs(session, source),
        shutdowns=read_shutdowns(session, source),
        undated=read_undated(session, source),
    )


@functools.cache
def _environment() -> Environment:
    """Built once per process: compiling the template costs more than rendering it."""
    environment = Environment(
        loader=PackageLoader("syncer.reporting", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["when"] = lambda moment: (
        "" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")
    )
    environment.filters["day"] = lambda moment: (
        "" if moment is None else moment.strftime("%Y-%m-%d")
    )
    environment.filters["count"] = lambda number: f"{number:,}"
    environment.filters["models"] = lambda number: counted(number, "model", f"{number:,}")
    return environment


def _sparkline(daily: list[tuple[Any, int]]) -> str:
    """The SVG polyline points of models present per day, on a 0..100 x 0..20 box."""
    if not daily:
        return ""
    if len(daily) == 1:  # one day of history: a level line, not a point nobody sees
        daily = daily * 2
    top = max(count for _, count in daily) or 1
    step = 100 / (len(daily) - 1)
    return " ".join(
        f"{i * step:.2f},{20 - 18 * count / top:.2f}" for i, (_, count) in enumerate(daily)
    )


def render_report(overview: Overview, *, title: str = "syncer: model availability") -> str:
    """The report as one HTML document."""
    template = _environment().get_template("report.html.j2")
    return template.render(
        title=title,
        policy=Markup(REPORT_POLICY),  # as sent in the header, quotes unescaped
        script=Markup(_SCRIPT),  # syncer's own file, hashed in the policy
        report=overview,
        today=overview.axis.at(overview.now),
        sparklines={s.source: _sparkline(s.daily) for s in overview.sources},
    )


def report_html(
    session: Session, now: datetime, *, since: datetime | None = None, source: str | None = None
) -> str:
    """Read and render: what ``syncer report html`` writes and ``/`` serves."""
    return render_report(read_overview(session, now, since=since, source=source))
