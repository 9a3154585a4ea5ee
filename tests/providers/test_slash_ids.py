"""Ids with ``/`` on the kinds whose retrieve endpoint cannot address them (Ollama, LiteLLM),
through the command line: ``models show --live`` finds them in the list, and their vanish
is confirmed by the list alone, while an id the endpoint can address is still asked about.

Ollama routes ``/v1/models/:model`` with ``gin.Default()`` (ollama/ollama server/routes.go
@ fb30760996871fa9460115c753afd2c60d4ab0f7, L1869 and L1920; gin v1.10.0 in its go.mod),
and gin routes on Go's decoded ``URL.Path`` unless ``UseRawPath`` is set (gin-gonic/gin
gin.go @ v1.10.0 = 75ccf94d605a05fe24817fc2f166f6f2959d5cea, ``handleHTTPRequest``):
``%2F`` is a ``/`` by then and ``:model`` one segment. LiteLLM's ``/v1/models/{model_id}``
is a plain path parameter (BerriAI/litellm litellm/proxy/proxy_server.py @ 9344afb2). Both
answer such an id 404.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from syncer.cli import cli
from tests.conftest import clear_settings_env

PLAIN = "llama3.2:latest"
SLASHED = {
    "ollama": "hf.co/bartowski/Qwen3-8B-GGUF:Q4_K_M",
    "litellm": "meta-llama/Llama-3.1-8B-Instruct",
}


class Router:
    """The list, and a retrieve route that, like the real routers, cannot see past a ``/``."""

    def __init__(self, server: HTTPServer, slashed: str) -> None:
        self.models: list[dict[str, Any]] = [
            {"id": model_id, "object": "model", "created": 1730000000, "owned_by": "library"}
            for model_id in (PLAIN, slashed)
        ]
        self.asked: list[str] = []
        server.expect_request("/v1/models").respond_with_handler(self._list)
        server.expect_request(re.compile(r"^/v1/models/.+")).respond_with_handler(self._one)

    def _list(self, request: Request) -> Response:
        return Response(
            json.dumps({"object": "list", "data": self.models}), content_type="application/json"
        )

    def _one(self, request: Request) -> Response:
        segment = request.path.removeprefix("/v1/models/")  # decoded, as gin routes on it
        self.asked.append(segment)
        found = next((m for m in self.models if m["id"] == segment and "/" not in segment), None)
        if found is None:
            return Response(
                json.dumps({"error": {"message": f"model '{segment}' not found"}}),
                status=404,
                content_type="application/json",
            )
        return Response(json.dumps(found), content_type="application/json")


@pytest.fixture(params=["ollama", "litellm"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def syncer(
    kind: str,
    httpserver: HTTPServer,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Result]:
    clear_settings_env(monkeypatch, "LITELLM_")
    monkeypatch.setenv("SYNCER_DATABASE_URL", database_url)
    config = tmp_path / "syncer.toml"
    config.write_text(
        f'[[sources]]\nname = "local"\nkind = "{kind}"\nbase_url = "{httpserver.url_for("/v1")}"\n',
        encoding="utf-8",
    )

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)

    return run


def test_models_show_live_finds_an_id_with_a_slash_in_the_list(
    kind: str, httpserver: HTTPServer, syncer: Callable[..., Result]
) -> None:
    router = Router(httpserver, SLASHED[kind])

    shown = syncer("models", "show", SLASHED[kind], "--live", "--format", "json")
    plain = syncer("models", "show", PLAIN, "--live", "--format", "json")

    assert shown.exit_code == 0, shown.output
    assert [(r["source"], r["id"]) for r in json.loads(shown.stdout)] == [("local", SLASHED[kind])]
    assert [r["id"] for r in json.loads(plain.stdout)] == [PLAIN]
    assert router.asked == [PLAIN]  # the id it can address is still retrieved


def test_a_vanished_id_with_a_slash_is_confirmed_by_the_list_alone(
    kind: str, httpserver: HTTPServer, syncer: Callable[..., Result]
) -> None:
    router = Router(httpserver, SLASHED[kind])
    assert syncer("sync").exit_code == 0
    router.models = [
        {"id": "qwen3:8b", "object": "model", "created": 1730000001, "owned_by": "library"},
        {"id": "gemma3:4b", "object": "model", "created": 1730000002, "owned_by": "library"},
    ]

    result = syncer("sync", "--accept-mass-change")

    assert result.exit_code == 0, result.output
    assert "2 models, 2 added, 2 vanished" in result.stdout
    assert router.asked == [PLAIN]
    vanished = json.loads(syncer("events", "--kind", "vanished", "--format", "json").stdout)
    assert sorted(e["model_id"] for e in vanished) == sorted([PLAIN, SLASHED[kind]])
