"""The fakes tests talk to: a provider on a real loopback HTTP server whose model list a test
edits, the model objects it serves, a test API key, and a port nothing listens on."""

from __future__ import annotations

import json
import re
import socket
import threading
from typing import Any
from urllib.parse import unquote

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

__all__ = ["API_KEY", "FakeProvider", "closed_port", "model"]

API_KEY = "sk-test-SECRET-0123456789abcdef"


def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def model(model_id: str, **fields: Any) -> dict[str, Any]:
    """A model object as OpenAI lists it."""
    listed = {"id": model_id, "object": "model", "created": 1686935002, "owned_by": "openai"}
    return {**listed, **fields}


class FakeProvider:
    """A provider on a real loopback HTTP server whose model list a test edits.

    Serves ``GET /v1/models`` (paged when ``page_size`` is set), ``GET /v1/models/{id}``,
    ``DELETE /v1/models/{id}`` (removes the model from the list) and records every request,
    so tests assert what the provider really received.
    """

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.models: list[dict[str, Any]] = []
        self.page_size: int | None = None
        self.retrieve_status: dict[str, int] = {}
        #: Responses served, in order, before the list itself: failures to inject.
        self.queue: list[Response] = []
        #: DELETE answers by model id (e.g. 403, 500) instead of deleting.
        self.delete_status: dict[str, int] = {}
        #: The error message of such an answer, by model id, instead of the usual one.
        self.delete_message: dict[str, str] = {}
        #: The raw, undecoded path of every DELETE received, in order.
        self.delete_paths: list[str] = []
        #: The ids this provider really deleted, in order.
        self.deleted: list[str] = []
        #: Hold the Nth DELETE (from 1) until ``release`` is set: before deleting anything
        #: (then answer 503), or after deleting when ``block_after_delete`` is set.
        self.block_delete: int | None = None
        self.block_after_delete = False
        self.delete_blocked = threading.Event()
        self.release = threading.Event()
        #: Hold the next GET /models/{id} until ``release`` is set: a slow vanish check.
        self.hold_retrieve = False
        self.retrieve_held = threading.Event()
        server.expect_request("/v1/models", method="GET").respond_with_handler(self._list)
        server.expect_request(re.compile(r"^/v1/models/.+"), method="DELETE").respond_with_handler(
            self._delete
        )
        server.expect_request(re.compile(r"^/v1/models/.+"), method="GET").respond_with_handler(
            self._retrieve
        )

    @property
    def base_url(self) -> str:
        return self.server.url_for("/v1")

    def set(self, *ids: str, **fields: Any) -> None:
        self.models = [model(i, **fields) for i in ids]

    def fail_next(self, status: int, body: str = "", **headers: str) -> None:
        content_type = "application/json" if body.startswith("{") else "text/html"
        response = Response(body, status=status, headers=headers, content_type=content_type)
        self.queue.append(response)

    @property
    def requests(self) -> list[Request]:
        return [request for request, _ in self.server.log]

    def _list(self, request: Request) -> Response:
        if self.queue:
            return self.queue.pop(0)
        after = request.args.get("after")
        start = 0
        if after is not None:
            start = next(i for i, m in enumerate(self.models) if m["id"] == after) + 1
        end = len(self.models) if self.page_size is None else start + self.page_size
        page = self.models[start:end]
        body: dict[str, Any] = {"object": "list", "data": page}
        if self.page_size is not None:
            body["has_more"] = end < len(self.models)
            body["last_id"] = page[-1]["id"] if page else None
        return Response(json.dumps(body), content_type="application/json")

    def _retrieve(self, request: Request) -> Response:
        model_id = request.path.removeprefix("/v1/models/")
        if self.hold_retrieve:
            self.hold_retrieve = False
            self.retrieve_held.set()
            self.release.wait(30)
        status = self.retrieve_status.get(model_id)
        if status is None:
            status = 200 if any(m["id"] == model_id for m in self.models) else 404
        if status == 200:
            found = next((m for m in self.models if m["id"] == model_id), model(model_id))
            return Response(json.dumps(found), content_type="application/json")
        error = {"error": {"message": f"The model '{model_id}' does not exist", "code": None}}
        return Response(json.dumps(error), status=status, content_type="application/json")

    def _delete(self, request: Request) -> Response:
        raw = request.environ["RAW_URI"]
        self.delete_paths.append(raw)
        model_id = unquote(raw.removeprefix("/v1/models/"))
        held = len(self.delete_paths) == self.block_delete
        if held and not self.block_after_delete:
            self.delete_blocked.set()
            self.release.wait(30)
            return Response("held, not deleted", status=503)
        status = self.delete_status.get(model_id)
        if status is None:
            status = 200 if any(m["id"] == model_id for m in self.models) else 404
        if status == 200:
            self.models = [m for m in self.models if m["id"] != model_id]
            self.deleted.append(model_id)
            if held:
                self.delete_blocked.set()
                self.release.wait(30)
            body = {"id": model_id, "object": "model", "deleted": True}
            return Response(json.dumps(body), content_type="application/json")
        message = self.delete_message.get(model_id) or {
            403: "You have insufficient permissions for this operation.",
            404: f"The model '{model_id}' does not exist",
        }.get(status, "Internal error")
        error = {"error": {"message": message, "code": None}}
        return Response(json.dumps(error), status=status, content_type="application/json")
