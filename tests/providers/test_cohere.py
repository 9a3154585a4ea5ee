"""Cohere against a loopback server answering its documented shapes (providers.md §1.14)."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from syncer.errors import HTTPStatusError
from tests.providers.kinds import body, by_id, client, listed

KEY = "co-TESTKEY0123456789abcdef"
MODELS = "/v1/models"


def test_models_are_keyed_by_name_over_several_pages_of_tokens(httpserver: HTTPServer) -> None:
    pages = [
        (
            {"page_size": "1000"},
            {
                "models": [
                    {
                        "name": "command-a-03-2025",
                        "endpoints": ["chat"],
                        "finetuned": False,
                        "context_length": 256000,
                        "default_endpoints": ["chat"],
                    }
                ],
                "next_page_token": "p2",
            },
        ),
        (
            {"page_size": "1000", "page_token": "p2"},
            {
                "models": [
                    {
                        "name": "embed-v4.0",
                        "endpoints": ["embed"],
                        "finetuned": False,
                        "context_length": 128000,
                    }
                ],
                "next_page_token": "p3",
            },
        ),
        (
            {"page_size": "1000", "page_token": "p3"},
            {
                "models": [{"name": "acme-support-ft", "endpoints": ["chat"], "finetuned": True}],
                "next_page_token": "",
            },
        ),
    ]
    for query, answer in pages:
        httpserver.expect_request(MODELS, query_string=query).respond_with_data(
            body(answer), content_type="application/json"
        )

    listing = listed(client(httpserver, "cohere", key=KEY))

    assert httpserver.log[0][0].headers["Authorization"] == f"Bearer {KEY}"
    models = by_id(listing)
    assert list(models) == ["command-a-03-2025", "embed-v4.0", "acme-support-ft"]
    assert models["command-a-03-2025"].context_length == 256000
    assert models["acme-support-ft"].is_fine_tuned
    assert not models["embed-v4.0"].is_fine_tuned
    assert listing.warnings == []


def test_an_error_gives_coheres_message(httpserver: HTTPServer) -> None:
    httpserver.expect_request(MODELS).respond_with_data(
        body({"message": "invalid api token"}), status=401, content_type="application/json"
    )

    with pytest.raises(HTTPStatusError, match=r"401 Unauthorized: .*\(invalid api token\)$"):
        listed(client(httpserver, "cohere", key=KEY))
