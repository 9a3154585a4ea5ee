"""A file of dates on a real loopback HTTP server, as raw.githubusercontent.com serves one:
an ``ETag`` and a ``Last-Modified`` with each body, ``304`` to a request that sends them
back while the file is the same."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.fakes import FakeProvider


class DatesFile:
    """The document a test edits (``body``), or breaks (``status``); every request's headers
    are kept, so a test asserts what the server really received."""

    LAST_MODIFIED = "Tue, 01 Dec 2026 10:00:00 GMT"

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.body = ""
        #: Answer this status (and ``error_body``) instead of the file.
        self.status: int | None = None
        self.error_body = "Not Found"
        self.headers: list[dict[str, str]] = []
        server.expect_request(re.compile("^/files/.*")).respond_with_handler(self._serve)

    def url(self, name: str, query: str = "") -> str:
        return self.server.url_for(f"/files/{name}") + (f"?{query}" if query else "")

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body.encode()).hexdigest()[:16] + '"'

    def _serve(self, request: Request) -> Response:
        self.headers.append(dict(request.headers))
        if self.status is not None:
            return Response(self.error_body, status=self.status, content_type="text/plain")
        validators = {"ETag": self.etag, "Last-Modified": self.LAST_MODIFIED}
        if request.headers.get("If-None-Match") == self.etag:
            return Response(status=304, headers=validators)
        return Response(self.body, headers=validators, content_type="text/plain")


@pytest.fixture
def dates_file() -> Iterator[DatesFile]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield DatesFile(server)
    server.clear()
    server.stop()


@pytest.fixture
def config(tmp_path: Path, provider: FakeProvider) -> Path:
    """A source on the fake provider, no retries (a refused connection fails at once)."""
    path = tmp_path / "syncer.toml"
    path.write_text(
        "[http]\nmax_retries = 0\n\n"
        f'[[sources]]\nname = "openai"\nbase_url = "{provider.base_url}"\n'
    )
    return path
