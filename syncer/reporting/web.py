"""The report and the shutdown calendar as HTTP pages, served by ``syncer run --metrics-port``.

Each request reads the database afresh, like a scrape of ``/metrics``, so the page and the
feed are never older than the last committed sync. A database error is a 503 with a short
text body, never a traceback: the page may be public.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from syncer.reporting.timeline import snapshot_session

__all__ = ["CALENDAR_PATH", "REPORT_PATH", "Page", "calendar_page", "report_page"]

REPORT_PATH = "/"
CALENDAR_PATH = "/shutdowns.ics"

log = logging.getLogger(__name__)

#: (status line, headers, body) for a WSGI ``start_response``.
Page = tuple[str, list[tuple[str, str]], bytes]


def _unavailable(what: str, exc: SQLAlchemyError) -> Page:
    log.error("%s: cannot read the database: %s", what, type(exc).__name__)
    body = f"{what}: the database cannot be read just now\n".encode()
    return "503 Service Unavailable", [("Content-Type", "text/plain; charset=utf-8")], body


def report_page(engine: Engine, now: datetime) -> Page:
    from syncer.reporting.html import REPORT_POLICY, report_html

    try:
        with snapshot_session(engine) as session:
            page = report_html(session, now)
    except SQLAlchemyError as exc:
        return _unavailable("report", exc)
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Security-Policy", REPORT_POLICY),
        ("Cache-Control", "no-store"),
    ]
    return "200 OK", headers, page.encode()


def calendar_page(engine: Engine, now: datetime) -> Page:
    from syncer.reporting.calendar import shutdown_calendar
    from syncer.reporting.shutdowns import read_shutdowns

    try:
        with snapshot_session(engine) as session:
            shutdowns = read_shutdowns(session)
    except SQLAlchemyError as exc:
        return _unavailable("calendar", exc)
    headers = [
        ("Content-Type", "text/calendar; charset=utf-8"),
        ("Content-Disposition", 'inline; filename="shutdowns.ics"'),
    ]
    return "200 OK", headers, shutdown_calendar(shutdowns, now)
