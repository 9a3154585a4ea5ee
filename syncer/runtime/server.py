"""The web server of ``syncer run --metrics-port PORT``: ``/metrics``, ``/healthz``, the
HTML report at ``/``, ``/shutdowns.ics`` and ``/inventory.json``, on a background thread.

What it serves is read elsewhere: the metrics and the health in ``metrics``, the pages in
``reporting.web``; this module routes the paths and runs the server.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from syncer.config.model import Settings
from syncer.errors import ConfigError
from syncer.reporting.web import (
    CALENDAR_PATH,
    INVENTORY_PATH,
    REPORT_PATH,
    CachedPage,
    calendar_page,
    inventory_page,
    report_page,
)
from syncer.runtime.httpd import BoundedServer, WSGIApp, require_token
from syncer.runtime.metrics import SyncerCollector, family, health
from syncer.timeutil import utcnow

__all__ = ["HEALTH_PATH", "RenderCollector", "serve"]

log = logging.getLogger(__name__)


HEALTH_PATH = "/healthz"


class RenderCollector(Collector):
    """How many times this process rendered each page: a page is rendered once per change,
    so a count that grows with every request would show the cache failing."""

    def __init__(self, pages: Iterable[CachedPage]) -> None:
        self.pages = tuple(pages)

    def collect(self) -> Iterable[Metric]:
        yield family(
            CounterMetricFamily,
            "syncer_page_renders",
            "Renders of each page by this process since it started",
            ["page"],
            {page.name: page.renders for page in self.pages},
        )


def _app(engine: Engine, settings: Settings, now: Callable[[], datetime]) -> WSGIApp:
    pages = {
        REPORT_PATH: report_page(),
        CALENDAR_PATH: calendar_page(),
        INVENTORY_PATH: inventory_page(),
    }
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SyncerCollector(engine, settings, now))
    registry.register(RenderCollector(pages.values()))
    metrics = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == HEALTH_PATH:
            status, body = health(engine, settings, now())
            text = json.dumps(body).encode()
            reason = "200 OK" if status == 200 else "503 Service Unavailable"
            start_response(reason, [("Content-Type", "application/json")])
            return [text]
        if path == "/metrics":
            served: Iterable[bytes] = metrics(environ, start_response)
            return served
        if path in pages:
            status_line, headers, content = pages[path].get(
                engine, now(), environ.get("HTTP_IF_NONE_MATCH")
            )
            start_response(status_line, headers)
            return [content]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found: try /, /shutdowns.ics, /inventory.json, /metrics or /healthz\n"]

    server = settings.server
    if server.token is None:
        return app
    return require_token(app, server.token, frozenset({HEALTH_PATH} if server.open_healthz else ()))


@contextmanager
def serve(
    engine: Engine,
    settings: Settings,
    host: str | None,
    port: int,
    now: Callable[[], datetime] = utcnow,
) -> Iterator[tuple[str, int]]:
    """Serve ``/metrics``, ``/healthz``, the report at ``/`` and ``/shutdowns.ics`` on a
    background thread; yields (host, port). ``host`` None: ``[http] host``.

    An address that cannot be listened on (taken, not this machine's, not an address) is a
    ``ConfigError`` naming it: it is what the command line or the config said. So is a
    ``[http] token_env`` whose variable is unset: serving without the token would open
    what the file meant to close.
    """
    config = settings.server
    if config.token_env is not None and config.token is None:
        raise ConfigError(
            f"[http] token_env: {config.token_env} is not set; set it to the token, or "
            "remove token_env to serve without one"
        )
    host = config.host if host is None else host
    try:
        server = BoundedServer(
            (host, port),
            _app(engine, settings, now),
            max_connections=config.max_connections,
            timeout=config.timeout,
        )
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(
            f"--metrics-host/--metrics-port: cannot listen on {host}:{port}: {reason}"
        ) from None
    thread = threading.Thread(target=server.run, name="syncer-metrics", daemon=True)
    thread.start()
    address = server.server_address
    log.info("metrics on http://%s:%s/metrics", address[0], address[1])
    try:
        yield str(address[0]), int(address[1])
    finally:
        server.stop()
        thread.join()
        server.server_close()
