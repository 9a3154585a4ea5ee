"""The benchmark's data and its fake provider: pre-encoded JSON on a threaded loopback server.

The server answers from bytes encoded once up front, so what the benchmark measures is the
sync, not the server. Each data set is published under its own prefix
(``http://127.0.0.1:PORT/{name}/v1``), so a phase picks its list by its base URL and the
worker processes need no way to tell the server to switch. A data set may answer its list
after a delay, as a remote provider does; a thread per connection and a deep listen backlog
let a thousand sources be asked at once.

The whole-process benchmarks run it as a process of its own (``python provider.py``, which
prints its port when it is ready), so that the benchmark stays small: a child's peak memory,
as the kernel reports it, is never below the peak of the process that started it.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

#: Every CHURN_EVERY-th model is replaced in the churned list: 5%.
CHURN_EVERY = 20
#: The many-sources case: source i is served under ``/s{i:04d}/v1``.
SOURCE_PREFIX = "s"
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


def source_name(i: int) -> str:
    return f"{SOURCE_PREFIX}{i:04d}"


@dataclass(frozen=True)
class _Dataset:
    listing: bytes
    models: dict[str, bytes]
    delay: float = 0.0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: FakeProviderServer

    def do_GET(self) -> None:
        name, _, rest = self.path.partition("/")[2].partition("/")
        dataset = self.server.datasets.get(name)
        if dataset is not None and rest == "v1/models":
            if dataset.delay:
                time.sleep(dataset.delay)
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
    request_queue_size = 4096

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

    def publish(self, name: str, models: Sequence[dict[str, Any]], delay: float = 0.0) -> str:
        """Serve ``models`` under ``name``, each list ``delay`` seconds late; returns the base
        URL a source points at."""
        listing = json.dumps({"object": "list", "data": list(models)}).encode()
        by_id = {m["id"]: json.dumps(m).encode() for m in models}
        self.datasets[name] = _Dataset(listing, by_id, delay)
        return self.base_url(name)

    def base_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{name}/v1"


def main(argv: list[str] | None = None) -> int:
    """Serve the whole-process benchmarks' data until stdin closes or SIGTERM.

    ``/a{N}/v1``: N models; ``/b{N}/v1``: the same, churned; ``/s0000/v1`` ...: the many
    sources, each answering its list after ``--delay-ms``. Prints ``{"port": PORT}`` once
    everything is encoded.
    """
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--sizes", default="", help="comma-separated model counts")
    parser.add_argument("--sources", type=int, default=0)
    parser.add_argument("--models-per-source", type=int, default=100)
    parser.add_argument("--delay-ms", type=float, default=50.0)
    args = parser.parse_args(argv)
    with FakeProviderServer() as server:
        for n in (int(size) for size in args.sizes.split(",") if size):
            first = model_list(n)
            server.publish(f"a{n}", first)
            server.publish(f"b{n}", churned(first))
        per_source = model_list(args.models_per_source)
        for i in range(args.sources):
            server.publish(source_name(i), per_source, delay=args.delay_ms / 1000)
        print(json.dumps({"port": server.server_address[1]}), flush=True)
        sys.stdin.read()  # the benchmark closes our stdin (or ends us) when it is done
    return 0


if __name__ == "__main__":
    sys.exit(main())
