"""The report and the shutdown calendar as HTTP pages, served by ``syncer run --metrics-port``.

A page is rendered at most once per change: each request reads a few maxima that grow with
every change of what the pages show (the latest sync run, the latest model event, the
imported dates) and, within the same minute and with nothing changed, gets the page already
rendered. Rendering the report of 20,000 dated models took 4.4 s and 52 MB per request;
now a request that changes nothing costs one small query. A page is at most a minute old
(it says "as of" to the minute) and never older than the last committed change. A
database error is a 503 with a short text body, never a traceback: the page may be public.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Hashable
from datetime import datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from syncer.db.tables import deprecations_table, events_table, runs_table
from syncer.reporting.history_queries import snapshot_session

__all__ = [
    "CALENDAR_PATH",
    "INVENTORY_PATH",
    "REPORT_PATH",
    "CachedPage",
    "Page",
    "calendar_page",
    "change_key",
    "inventory_page",
    "report_page",
]

REPORT_PATH = "/"
CALENDAR_PATH = "/shutdowns.ics"
#: The inventory snapshot ``syncer scan --inventory URL`` reads (``syncer inventory export``).
INVENTORY_PATH = "/inventory.json"

log = logging.getLogger(__name__)

#: (status line, headers, body) for a WSGI ``start_response``.
Page = tuple[str, list[tuple[str, str]], bytes]
#: Renders a page from a snapshot as of a moment: (its headers, its body).
Render = Callable[[Session, datetime], tuple[list[tuple[str, str]], bytes]]


def change_key(session: Session) -> Hashable:
    """What grows with every change the pages show, in one statement: every sync adds a run,
    every change of a model an event (retention's deletions too), every import a date."""
    row = session.execute(
        select(
            select(func.max(runs_table.c.id)).scalar_subquery(),
            select(func.max(events_table.c.id)).scalar_subquery(),
            select(func.count()).select_from(deprecations_table).scalar_subquery(),
            select(func.max(deprecations_table.c.imported_at)).scalar_subquery(),
        )
    ).one()
    return tuple(row)


class CachedPage:
    """One page, rendered again only when its ``change_key`` or the minute moves on.

    Requests that arrive while it renders wait for that render instead of starting their
    own. ``renders`` counts the renders, for ``/metrics``.
    """

    def __init__(self, name: str, render: Render) -> None:
        self.name = name
        self.renders = 0
        self._render = render
        self._lock = threading.Lock()
        self._key: Hashable | None = None
        self._headers: list[tuple[str, str]] = []
        self._body = b""
        self._etag = ""

    def get(self, engine: Engine, now: datetime, if_none_match: str | None = None) -> Page:
        """The page as of ``now``'s minute; 304 when the client holds it already."""
        minute = now.replace(second=0, microsecond=0)
        with self._lock:
            try:
                with snapshot_session(engine) as session:
                    key = (change_key(session), minute)
                    if key != self._key:
                        self._headers, self._body = self._render(session, minute)
                        self._etag = f'"{hashlib.sha256(self._body).hexdigest()[:32]}"'
                        self._key = key
                        self.renders += 1
            except SQLAlchemyError as exc:
                log.error("%s: cannot read the database: %s", self.name, type(exc).__name__)
                body = f"{self.name}: the database cannot be read just now\n".encode()
                return (
                    "503 Service Unavailable",
                    [("Content-Type", "text/plain; charset=utf-8")],
                    body,
                )
            headers, body, etag = self._headers, self._body, self._etag
        # The client asks again each time (no-cache) and gets a body only when it changed.
        validators = [("ETag", etag), ("Cache-Control", "no-cache")]
        if if_none_match is not None and etag in {t.strip() for t in if_none_match.split(",")}:
            return "304 Not Modified", validators, b""
        return "200 OK", [*headers, *validators], body


def _report(session: Session, now: datetime) -> tuple[list[tuple[str, str]], bytes]:
    from syncer.reporting.html import REPORT_POLICY, report_html

    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Security-Policy", REPORT_POLICY),
    ]
    return headers, report_html(session, now).encode()


def _calendar(session: Session, now: datetime) -> tuple[list[tuple[str, str]], bytes]:
    from syncer.reporting.calendar import shutdown_calendar
    from syncer.reporting.shutdowns import read_shutdowns, read_undated

    headers = [
        ("Content-Type", "text/calendar; charset=utf-8"),
        ("Content-Disposition", 'inline; filename="shutdowns.ics"'),
    ]
    return headers, shutdown_calendar(read_shutdowns(session), now, read_undated(session))


def report_page() -> CachedPage:
    """The HTML report, for ``/``."""
    return CachedPage("report", _report)


def calendar_page() -> CachedPage:
    """The shutdown calendar, for ``/shutdowns.ics``."""
    return CachedPage("calendar", _calendar)


def _inventory(session: Session, now: datetime) -> tuple[list[tuple[str, str]], bytes]:
    import orjson

    from syncer.scan.inventory import to_document
    from syncer.scan.store import read_inventory

    document = to_document(read_inventory(session, now))
    return [("Content-Type", "application/json")], orjson.dumps(document)


def inventory_page() -> CachedPage:
    """The inventory snapshot, for ``/inventory.json``."""
    return CachedPage("inventory", _inventory)
