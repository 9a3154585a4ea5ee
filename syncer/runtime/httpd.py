"""The HTTP server behind ``syncer run --metrics-port``: few connections, each short-lived.

``wsgiref``'s threading server holds a thread and a descriptor per connection for as long as
the client likes: 118 idle sockets under a 120-descriptor limit left the daemon's syncs
failing with "Too many open files". This one accepts a connection only when one of
``max_connections`` slots is free (the others wait in the kernel's listen queue, holding no
descriptor of ours), and closes each connection ``timeout`` seconds after accepting it,
whatever the client is doing: idle, dripping a request byte by byte, or reading slowly.

An optional bearer token guards every path (``require_token``), but the ones named open.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

__all__ = ["QUEUE", "BoundedServer", "WSGIApp", "require_token"]

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Any], Iterable[bytes]]
#: Connections the kernel holds for us while every slot is busy.
QUEUE = 128
#: How often the accepting loop looks at the slots, the stop flag and the deadlines.
_TICK = 0.05


class _LogStream:
    """Where wsgiref writes the tracebacks of failed exchanges: the debug log, since a
    client that times out or hangs up is not an error of syncer's."""

    def write(self, text: str) -> None:
        if text.strip():
            log.debug("http: %s", text.rstrip())

    def flush(self) -> None:
        """Nothing is buffered."""


class _Handler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every few seconds would flood the log."""

    def get_stderr(self) -> Any:
        return _LogStream()


class BoundedServer(WSGIServer):
    """A WSGI server with at most ``max_connections`` connections, each at most ``timeout``
    seconds long. ``run`` serves until ``stop``."""

    request_queue_size = QUEUE

    def __init__(
        self, address: tuple[str, int], app: WSGIApp, *, max_connections: int, timeout: float
    ) -> None:
        super().__init__(address, _Handler)
        self.set_app(app)
        self._slots = threading.BoundedSemaphore(max_connections)
        self._timeout = timeout
        self._stopping = threading.Event()
        #: Each open connection and the monotonic time it must be closed by.
        self._open: dict[socket.socket, float] = {}
        self._lock = threading.Lock()

    def run(self) -> None:
        """Accept connections while a slot is free, each on its own thread, until ``stop``."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            while not self._stopping.is_set():
                self._cut_overdue()
                if not self._slots.acquire(timeout=_TICK):
                    continue
                if not selector.select(_TICK):
                    self._slots.release()
                    continue
                try:
                    connection, address = self.get_request()
                except OSError:  # the client left before we accepted it
                    self._slots.release()
                    continue
                connection.settimeout(self._timeout)
                with self._lock:
                    self._open[connection] = time.monotonic() + self._timeout
                threading.Thread(
                    target=self._serve,
                    args=(connection, address),
                    name="syncer-http",
                    daemon=True,
                ).start()

    def stop(self) -> None:
        """Stop accepting; connections in flight end by their deadline at the latest."""
        self._stopping.set()

    def _serve(self, connection: socket.socket, address: Any) -> None:
        try:
            self.finish_request(connection, address)
        except Exception as exc:  # a timeout or a client gone: theirs, not ours
            log.debug("http: %s from %s: %s", type(exc).__name__, address[0], exc)
        finally:
            with self._lock:
                del self._open[connection]
                self.shutdown_request(connection)
            self._slots.release()

    def _cut_overdue(self) -> None:
        """End the connections past their deadline: a shutdown wakes the thread blocked on
        them, which then closes the connection and frees its slot."""
        now = time.monotonic()
        with self._lock:
            for connection, deadline in self._open.items():
                if deadline <= now:
                    with contextlib.suppress(OSError):  # already shut down
                        connection.shutdown(socket.SHUT_RDWR)


def require_token(app: WSGIApp, token: str, open_paths: frozenset[str]) -> WSGIApp:
    """``app`` answering only requests with ``Authorization: Bearer TOKEN``, but on
    ``open_paths``."""
    expected = f"Bearer {token}".encode()

    def guarded(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "/") not in open_paths:
            # WSGI hands headers over as latin-1 text: this gives back the bytes sent.
            given = environ.get("HTTP_AUTHORIZATION", "").encode("latin-1")
            if not hmac.compare_digest(given, expected):
                start_response(
                    "401 Unauthorized",
                    [
                        ("Content-Type", "text/plain; charset=utf-8"),
                        ("WWW-Authenticate", 'Bearer realm="syncer"'),
                    ],
                )
                return [b"a bearer token is required: Authorization: Bearer TOKEN\n"]
        return app(environ, start_response)

    return guarded
