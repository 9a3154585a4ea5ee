"""Alert receivers on real loopback HTTP servers, and a clock tests move by hand."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    """``now`` for the code under test: it moves only when the test says so."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class _QuickServer(HTTPServer):
    """Stops in milliseconds rather than the half second of the default poll interval."""

    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=0.01)


class Receiver:
    """A webhook endpoint on 127.0.0.1 that records what it accepted.

    ``status`` other than 200 makes it refuse (as a receiver that is down behind a proxy
    does); ``statuses`` are answered first, one per request; ``stop`` closes the port.
    """

    def __init__(self, path: str = "/hook") -> None:
        self.server = _QuickServer(host="127.0.0.1", port=0)
        self.path = path
        self.status = 200
        self.statuses: list[int] = []
        #: What a refusal says; ``{url}`` is replaced by the URL requested (as error pages do).
        self.refusal = "receiver is down"
        self.accepted: list[tuple[bytes, dict[str, str]]] = []
        self.refused = 0
        #: Seconds each answer takes, as a slow receiver's do.
        self.delay = 0.0
        self.server.expect_request(path, method="POST").respond_with_handler(self._handle)
        self.server.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}{self.path}"

    @property
    def documents(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body, _ in self.accepted]

    def _handle(self, request: Request) -> Response:
        time.sleep(self.delay)
        status = self.statuses.pop(0) if self.statuses else self.status
        if status != 200:
            self.refused += 1
            return Response(self.refusal.replace("{url}", request.url), status=status)
        self.accepted.append((request.get_data(), dict(request.headers)))
        return Response("ok")

    def close(self) -> None:
        if self.server.is_running():
            self.server.stop()
        self.server.check_assertions()
