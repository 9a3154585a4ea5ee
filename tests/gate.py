"""A provider of many sources on one threaded loopback server that proves syncs overlapped.

Each source ``NAME`` is served at ``/NAME/v1/models``. A list request is held until
``gate`` of them are in flight at once (or ``patience`` runs out), so a test learns from
``peak`` how many syncs really ran together, without timing anything: a sequential sync
never has two requests in flight, however fast or slow the machine is.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["GateProvider", "JSONHandler"]


class JSONHandler(BaseHTTPRequestHandler):
    """A quiet HTTP/1.1 handler that answers JSON: the base of the test providers here."""

    protocol_version = "HTTP/1.1"

    def send_json(self, status: int, document: Any) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request lines are not what a test reads."""


class _Handler(JSONHandler):
    server: GateProvider

    def setup(self) -> None:
        super().setup()
        self.server.connected(+1)

    def finish(self) -> None:
        super().finish()
        self.server.connected(-1)

    def do_GET(self) -> None:
        name, _, rest = self.path.lstrip("/").partition("/")
        if rest != "v1/models" or name not in self.server.lists:
            self.send_json(404, {"error": {"message": "not found", "code": None}})
            return
        self.server.hold(name)
        status = self.server.status.get(name, 200)
        if status != 200:
            self.send_json(status, {"error": {"message": f"{name} is broken", "code": None}})
            return
        models = [
            {"id": i, "object": "model", "created": 1686935002, "owned_by": name}
            for i in self.server.lists[name]
        ]
        self.send_json(200, {"object": "list", "data": models})


class GateProvider(ThreadingHTTPServer):
    """Sources by name, each with its list of model ids (and an error status, if set)."""

    daemon_threads = True

    def __init__(
        self,
        lists: Mapping[str, Sequence[str]],
        gate: int,
        *,
        reverse: bool = False,
        patience: float = 5.0,
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lists = dict(lists)
        self.gate, self.reverse, self.patience = gate, reverse, patience
        #: An HTTP status a source answers instead of its list.
        self.status: dict[str, int] = {}
        #: The most list requests that were in flight at once.
        self.peak = 0
        #: The order in which the sources were answered.
        self.answered: list[str] = []
        #: Connections the clients hold open now (kept alive or not).
        self.connections = 0
        self._in_flight = 0
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def __enter__(self) -> GateProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()
        self.server_close()

    def base_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{name}/v1"

    def connected(self, change: int) -> None:
        with self._changed:
            self.connections += change
            self._changed.notify_all()

    def wait_connections(self, count: int, timeout: float = 10.0) -> bool:
        """Whether the clients hold exactly ``count`` connections open within ``timeout``."""
        with self._changed:
            return self._changed.wait_for(lambda: self.connections == count, timeout)

    def hold(self, name: str) -> None:
        """Wait until ``gate`` requests are in flight; with ``reverse``, then answer the
        sources in the reverse of their order (the gate must let all of them in)."""
        with self._changed:
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
            self._changed.notify_all()
            self._changed.wait_for(lambda: self.peak >= self.gate, self.patience)
            if self.reverse:
                names = list(self.lists)
                after = names[names.index(name) + 1 :]
                self._changed.wait_for(
                    lambda: all(n in self.answered for n in after), self.patience
                )
            self.answered.append(name)
            self._in_flight -= 1
            self._changed.notify_all()
