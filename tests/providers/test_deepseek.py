"""DeepSeek against a loopback server answering its documented shape (providers.md §1.11)."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from syncer.errors import HTTPStatusError
from tests.providers.kinds import body, by_id, client, listed

KEY = "sk-deepseekTESTKEY0123456789"


def test_a_list_without_created_gives_no_warning(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/models").respond_with_data(
        body(
            {
                "object": "list",
                "data": [
                    {"id": "deepseek-chat", "object": "model", "owned_by": "deepseek"},
                    {"id": "deepseek-reasoner", "object": "model", "owned_by": "deepseek"},
                ],
            }
        ),
        content_type="application/json",
    )

    listing = listed(client(httpserver, "deepseek", prefix="", key=KEY))

    assert list(by_id(listing)) == ["deepseek-chat", "deepseek-reasoner"]
    assert by_id(listing)["deepseek-chat"].owned_by == "deepseek"
    assert listing.warnings == []


def test_an_error_gives_deepseeks_message_without_the_key(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/models").respond_with_data(
        body(
            {
                "error": {
                    "message": f"Authentication Fails, Your api key: {KEY} is invalid",
                    "type": "authentication_error",
                    "code": "invalid_request_error",
                }
            }
        ),
        status=401,
        content_type="application/json",
    )

    with pytest.raises(HTTPStatusError) as info:
        listed(client(httpserver, "deepseek", prefix="", key=KEY))

    assert str(info.value).endswith("(Authentication Fails, Your api key: sk-*** is invalid)")
