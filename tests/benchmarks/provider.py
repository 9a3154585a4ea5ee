"""The benchmark's data and its fake provider: pre-encoded JSON on a threaded loopback server.

The server answers from bytes encoded once up front, so what the benchmark measures is the
sync, not the server. Each data set is published under its own prefix
(``http://127.0.0.1:PORT/{name}/v1``), so a phase picks its list by its base URL and the
worker processes need no way to tell the server to switch.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

#: Every CHURN_EVERY-th model is replaced in the churned list: 5%.
CHURN_EVERY = 20
_NOT_FOUND = b'{"error": {"message": "The model does not exist", "code": "model_not_found"}}'


def model_list(n: int, generation: int = 0) -> list[dict[str, Any]]:
    """``n`` fine-tunes of about 118 bytes each, as OpenAI lists them; deterministic."""
    return [
        {
            "id": f"ft:gpt-4o-mini-2024-07-18:acme:g{generation}:{i:07d}",
            "object": "model",
            "created": 1_700_000_000 + i,
            "owned_by": "acme-corp",
        }
        for i in range(n)
    ]


def churned(models: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same list with one model in CHURN_EVERY replaced by a new one."""
    kept = [m for i, m in enumerate(models) if i % CHURN_EVERY]
    return kept + model_list(len(models) - len(kept), generation=1)


@dataclass(frozen=True)
class _Dataset:
    listing: bytes
    models: dict[str, bytes]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: FakeProviderServer

    def do_GET(self) -> None:
        name, _, rest = self.path.partition("/")[2].partition("/")
        dataset = self.server.datasets.get(name)
        if dataset is not None and rest == "v1/models":
            self._send(200, dataset.listing)
        elif dataset is not None and rest.startswith("v1/models/"):
            body = dataset.models.get(unquote(rest.removeprefix("v1/models/")))
            self._send(404, _NOT_FOUND) if body is None else self._send(200, body)
        else:
            self._send(404, _NOT_FOUND)

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: a request log would cost more than the answer."""


class FakeProviderServer(ThreadingHTTPServer):
    """``GET /{name}/v1/models`` and ``GET /{name}/v1/models/{id}`` for published lists."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.datasets: dict[str, _Dataset] = {}
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def __enter__(self) -> FakeProviderServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()
        self.server_close()

    def publish(self, name: str, models: Sequence[dict[str, Any]]) -> str:
        """Serve ``models`` under ``name``; returns the base URL a source points at."""
        listing = json.dumps({"object": "list", "data": list(models)}).encode()
        by_id = {m["id"]: json.dumps(m).encode() for m in models}
        self.datasets[name] = _Dataset(listing, by_id)
        return f"http://127.0.0.1:{self.server_address[1]}/{name}/v1"
