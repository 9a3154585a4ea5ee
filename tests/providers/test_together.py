"""Together against a loopback server answering its documented bare array (§1.9)."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from syncer.errors import HTTPStatusError, PayloadError
from tests.providers.kinds import body, by_id, client, listed

KEY = "tgp_v1_TESTKEY0123456789abcdef"
MODELS = "/v1/models"


def test_a_bare_array_is_the_list(httpserver: HTTPServer) -> None:
    httpserver.expect_request(MODELS).respond_with_data(
        body(
            [
                {
                    "id": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
                    "object": "model",
                    "created": 1733443200,
                    "type": "chat",
                    "display_name": "Llama 3.3 70B Instruct Turbo",
                    "organization": "Meta",
                    "license": "llama",
                    "context_length": 131072,
                    "pricing": {
                        "hourly": 0,
                        "input": 0.88,
                        "output": 0.88,
                        "base": 0,
                        "finetune": 0,
                    },
                },
                {
                    "id": "BAAI/bge-large-en-v1.5",
                    "object": "model",
                    "created": 1692896905,
                    "type": "embedding",
                    "display_name": "BAAI-Bge-Large-1p5",
                    "organization": "BAAI",
                    "context_length": 512,
                },
            ]
        ),
        content_type="application/json",
    )

    listing = listed(client(httpserver, "together", key=KEY))

    llama = by_id(listing)["meta-llama/Llama-3.3-70B-Instruct-Turbo"]
    assert (llama.display_name, llama.context_length, llama.owned_by) == (
        "Llama 3.3 70B Instruct Turbo",
        131072,
        "Meta",
    )
    assert listing.warnings == []


def test_an_object_where_the_array_belongs_is_a_payload_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request(MODELS).respond_with_json({"data": []})

    with pytest.raises(PayloadError, match="expected a JSON array, got an object"):
        listed(client(httpserver, "together", key=KEY))


def test_an_error_gives_togethers_message(httpserver: HTTPServer) -> None:
    httpserver.expect_request(MODELS).respond_with_data(
        body(
            {
                "error": {
                    "message": "Invalid API key provided. You can find your API key at https://api.together.xyz.",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            }
        ),
        status=401,
        content_type="application/json",
    )

    with pytest.raises(HTTPStatusError, match=r"\(Invalid API key provided\. You can find"):
        listed(client(httpserver, "together", key=KEY))
