"""Ollama's OpenAI-compatible list on a loopback server (providers.md §1.16)."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from syncer.errors import HTTPStatusError
from tests.providers.kinds import body, by_id, client, listed


def test_lists_pulled_models_without_a_key(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/models").respond_with_data(
        body(
            {
                "object": "list",
                "data": [
                    {
                        "id": "llama3.2:latest",
                        "object": "model",
                        "created": 1730000000,
                        "owned_by": "library",
                    },
                    {
                        "id": "hf.co/bartowski/Qwen3-8B-GGUF:Q4_K_M",
                        "object": "model",
                        "created": 1735000000,
                        "owned_by": "bartowski",
                    },
                ],
            }
        ),
        content_type="application/json",
    )

    listing = listed(client(httpserver, "ollama"))

    assert "Authorization" not in httpserver.log[0][0].headers
    models = by_id(listing)
    assert models["llama3.2:latest"].owned_by == "library"
    qwen = models["hf.co/bartowski/Qwen3-8B-GGUF:Q4_K_M"]
    assert (qwen.created, qwen.owned_by, qwen.context_length) == (1735000000, "bartowski", None)


def test_data_null_is_an_empty_list(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/models").respond_with_data(
        '{"object":"list","data":null}', content_type="application/json"
    )

    assert listed(client(httpserver, "ollama")).records == []


def test_an_error_gives_ollamas_message(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/models").respond_with_data(
        body({"error": {"message": "model store unavailable", "type": "api_error"}}),
        status=500,
        content_type="application/json",
    )

    with pytest.raises(HTTPStatusError, match=r"500 Internal Server Error: model store unavail"):
        listed(client(httpserver, "ollama"))
