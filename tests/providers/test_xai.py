"""xAI against a loopback server answering its documented shape (providers.md §1.13)."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from syncer.errors import HTTPStatusError
from tests.providers.kinds import body, by_id, client, listed

KEY = "xai-TESTKEY0123456789abcdef"


def test_an_openai_shaped_list_with_bearer_auth(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/models").respond_with_data(
        body(
            {
                "object": "list",
                "data": [
                    {"id": "grok-4", "object": "model", "created": 1752019200, "owned_by": "xai"},
                    {
                        "id": "grok-3-mini",
                        "object": "model",
                        "created": 1743724800,
                        "owned_by": "xai",
                    },
                ],
            }
        ),
        content_type="application/json",
    )

    listing = listed(client(httpserver, "xai", key=KEY))

    assert httpserver.log[0][0].headers["Authorization"] == f"Bearer {KEY}"
    assert list(by_id(listing)) == ["grok-4", "grok-3-mini"]


def test_an_error_gives_xais_message_without_the_key(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/models").respond_with_data(
        body(
            {
                "code": "Client specified an invalid argument",
                "error": f"Incorrect API key provided: xa***ef. {KEY}",
            }
        ),
        status=400,
        content_type="application/json",
    )

    with pytest.raises(HTTPStatusError) as info:
        listed(client(httpserver, "xai", key=KEY))

    assert str(info.value).endswith("400 Bad Request: Incorrect API key provided: xa***ef. xai-***")
