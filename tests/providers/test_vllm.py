"""vLLM's OpenAI-compatible list on a loopback server (providers.md §1.17)."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from syncer.errors import HTTPStatusError
from tests.providers.kinds import body, by_id, client, listed

KEY = "vllm-local-key"


def test_an_adapter_is_a_fine_tune_of_its_parent(httpserver: HTTPServer) -> None:
    permission = [{"id": "modelperm-1", "object": "model_permission", "allow_sampling": True}]
    httpserver.expect_request("/v1/models").respond_with_data(body({"object": "list", "data": [
        {"id": "meta-llama/Llama-3.1-8B-Instruct", "object": "model", "created": 1732000000,
         "owned_by": "vllm", "root": "meta-llama/Llama-3.1-8B-Instruct", "parent": None,
         "max_model_len": 131072, "permission": permission},
        {"id": "sql-lora", "object": "model", "created": 1732000000, "owned_by": "vllm",
         "root": "/adapters/sql-lora", "parent": "meta-llama/Llama-3.1-8B-Instruct",
         "max_model_len": None, "permission": []},
    ]}), content_type="application/json")

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
