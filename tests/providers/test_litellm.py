"""A LiteLLM proxy's list on a loopback server (providers.md §1.18)."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from syncer.errors import HTTPStatusError
from tests.providers.kinds import body, by_id, client, listed

KEY = "sk-litellm-master-0123456789"


def test_the_proxys_owner_is_not_believed(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/models").respond_with_data(
        body(
            {
                "object": "list",
                "data": [
                    {
                        "id": "claude-sonnet",
                        "object": "model",
                        "created": 1677610602,
                        "owned_by": "openai",
                        "mode": "chat",
                        "max_input_tokens": 200000,
                        "max_output_tokens": 8192,
                    },
                ],
            }
        ),
        content_type="application/json",
    )

    listing = listed(client(httpserver, "litellm", key=KEY))

    sonnet = by_id(listing)["claude-sonnet"]
    assert (sonnet.owned_by, sonnet.context_length) == (None, 200000)
    assert sonnet.raw["owned_by"] == "openai"


def test_a_detail_error_gives_the_proxys_words(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/models/gone").respond_with_data(
        body({"detail": "The model `gone` does not exist or is not accessible"}),
        status=403,
        content_type="application/json",
    )

    with pytest.raises(HTTPStatusError, match=r"403 Forbidden: permission denied \(The model"):
        client(httpserver, "litellm", key=KEY).retrieve("gone")
