"""vLLM's OpenAI-compatible list on a loopback server (providers.md §1.17)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from syncer.cli import cli
from syncer.errors import HTTPStatusError
from tests.conftest import clear_settings_env
from tests.providers.kinds import body, by_id, client, listed

KEY = "vllm-local-key"


def test_an_adapter_is_a_fine_tune_of_its_parent(httpserver: HTTPServer) -> None:
    permission = [{"id": "modelperm-1", "object": "model_permission", "allow_sampling": True}]
    httpserver.expect_request("/v1/models").respond_with_data(
        body(
            {
                "object": "list",
                "data": [
                    {
                        "id": "meta-llama/Llama-3.1-8B-Instruct",
                        "object": "model",
                        "created": 1732000000,
                        "owned_by": "vllm",
                        "root": "meta-llama/Llama-3.1-8B-Instruct",
                        "parent": None,
                        "max_model_len": 131072,
                        "permission": permission,
                    },
                    {
                        "id": "sql-lora",
                        "object": "model",
                        "created": 1732000000,
                        "owned_by": "vllm",
                        "root": "/adapters/sql-lora",
                        "parent": "meta-llama/Llama-3.1-8B-Instruct",
                        "max_model_len": None,
                        "permission": [],
                    },
                ],
            }
        ),
        content_type="application/json",
    )

    listing = listed(client(httpserver, "vllm", key=KEY))

    assert httpserver.log[0][0].headers["Authorization"] == f"Bearer {KEY}"
    models = by_id(listing)
    base, adapter = models["meta-llama/Llama-3.1-8B-Instruct"], models["sql-lora"]
    assert (base.context_length, base.is_fine_tuned) == (131072, False)
    assert (adapter.context_length, adapter.is_fine_tuned) == (None, True)
    assert adapter.raw["parent"] == "meta-llama/Llama-3.1-8B-Instruct"


def test_a_server_started_with_a_key_refuses_none(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/models").respond_with_data(
        body({"error": "Unauthorized"}), status=401, content_type="application/json"
    )

    with pytest.raises(HTTPStatusError, match=r"401 Unauthorized: .* \(Unauthorized\)$"):
        listed(client(httpserver, "vllm"))


class RegeneratingServer:
    """A vLLM server as its code builds ``GET /v1/models``: every answer makes each card's
    ``created`` (the request time) and ``permission`` (a new ``modelperm-`` id) anew
    (vllm-project/vllm, vllm/entrypoints/openai/engine/protocol.py @ d7e52523, ``ModelCard``
    and ``ModelPermission``)."""

    def __init__(self, server: HTTPServer) -> None:
        self.answers = 0
        self.max_model_len = 131072
        server.expect_request("/v1/models").respond_with_handler(self._list)

    def _list(self, request: Request) -> Response:
        self.answers += 1
        now = 1796675143 + self.answers

        def card(model_id: str, parent: str | None, length: int | None) -> dict[str, Any]:
            return {
                "id": model_id,
                "object": "model",
                "created": now,
                "owned_by": "vllm",
                "root": model_id if parent is None else f"/adapters/{model_id}",
                "parent": parent,
                "max_model_len": length,
                "permission": [
                    {
                        "id": f"modelperm-{uuid.uuid4().hex}",
                        "object": "model_permission",
                        "created": now,
                        "allow_create_engine": False,
                        "allow_sampling": True,
                        "allow_logprobs": True,
                        "allow_search_indices": False,
                        "allow_view": True,
                        "allow_fine_tuning": False,
                        "organization": "*",
                        "group": None,
                        "is_blocking": False,
                    }
                ],
            }

        base = "meta-llama/Llama-3.1-8B-Instruct"
        answer = {
            "object": "list",
            "data": [
                card(base, None, self.max_model_len),
                card("sql-lora", base, None),
            ],
        }
        return Response(json.dumps(answer), content_type="application/json")


def test_a_vllm_server_that_remakes_its_cards_on_every_answer_records_no_change(
    httpserver: HTTPServer, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = RegeneratingServer(httpserver)
    clear_settings_env(monkeypatch, "VLLM_")
    monkeypatch.setenv("SYNCER_DATABASE_URL", database_url)
    config = tmp_path / "syncer.toml"
    config.write_text(
        f'[[sources]]\nname = "gpu"\nkind = "vllm"\nbase_url = "{httpserver.url_for("/v1")}"\n',
        encoding="utf-8",
    )

    def syncer(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)

    first, second, third = syncer("sync"), syncer("sync"), syncer("sync")
    server.max_model_len = 65536
    fourth = syncer("sync")

    assert server.answers == 4
    assert first.stdout.startswith("gpu: 2 models, 2 added, 0 vanished, 0 reappeared, 0 changed")
    for unchanged in (second, third):
        assert unchanged.exit_code == 0, unchanged.output
        assert "2 models, 0 added, 0 vanished, 0 reappeared, 0 changed" in unchanged.stdout
    assert "2 models, 0 added, 0 vanished, 0 reappeared, 1 changed" in fourth.stdout
    events = json.loads(syncer("events", "--format", "json").stdout)
    assert sorted(e["kind"] for e in events) == ["added", "added", "changed"]
    changed = next(e for e in events if e["kind"] == "changed")
    # The real change alone: the regenerated fields are never part of one.
    assert (changed["old_values"], changed["new_values"]) == (
        {"max_model_len": 131072},
        {"max_model_len": 65536},
    )
    shown = syncer("models", "show", "meta-llama/Llama-3.1-8B-Instruct", "--format", "json")
    [base] = json.loads(shown.stdout)
    # The row holds the cards as last listed, and no request time as the model's creation.
    assert base["raw"]["created"] == 1796675143 + 4
    assert base["raw"]["permission"][0]["created"] == 1796675143 + 4
    assert base["created_at"] is None and base["context_length"] == 65536
