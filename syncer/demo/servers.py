"""The demo's two loopback servers: a provider replaying the recording, and an alert receiver.

Both are the standard library's threaded HTTP server on 127.0.0.1 and an ephemeral port,
so the demo needs no network, no key and nothing installed beyond syncer.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import unquote, urlsplit

from syncer.demo.history import History

__all__ = ["AlertReceiver", "ReplayProvider"]


class _Server:
    """A threaded HTTP server on 127.0.0.1 serving one handler class until closed."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"syncer-demo-{handler.__name__}",
            daemon=True,
        )
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Quiet(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """The demo prints its own progress; a line per request would bury it."""

    def reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ReplayProvider(_Server):
    """``GET /v1/models`` and ``GET /v1/models/{id}`` as the recording says at ``now()``."""

    def __init__(self, history: History, now: Callable[[], datetime]) -> None:
        class Handler(_Quiet):
            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                listing = history.listing(now())
                if listing is None:
                    self.reply(
                        503,
                        {
                            "error": {
                                "message": "The server is overloaded (simulated outage)",
                                "code": None,
                            }
                        },
                    )
                elif path == "/v1/models":
                    self.reply(200, {"object": "list", "data": listing})
                elif path.startswith("/v1/models/"):
                    wanted = unquote(path.removeprefix("/v1/models/"))
                    found = next((m for m in listing if m["id"] == wanted), None)
                    if found is None:
                        message = f"The model '{wanted}' does not exist"
                        self.reply(404, {"error": {"message": message, "code": None}})
                    else:
                        self.reply(200, found)
                else:
                    self.reply(404, {"error": {"message": "not found", "code": None}})

        super().__init__(Handler)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"


class AlertReceiver(_Server):
    """Accepts syncer's webhook alerts and keeps their documents, in order of arrival."""

    def __init__(self) -> None:
        self.alerts: list[dict[str, Any]] = []
        received = self.alerts
        lock = threading.Lock()

        class Handler(_Quiet):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                document = json.loads(self.rfile.read(length) or b"{}")
                with lock:
                    received.append(document)
                self.reply(200, {"ok": True})

        super().__init__(Handler)
