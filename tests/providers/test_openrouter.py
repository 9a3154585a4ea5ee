"""OpenRouter against a loopback server answering its documented shapes (providers.md §1.7)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pytest_httpserver import HTTPServer

from syncer.errors import HTTPStatusError
from tests.providers.kinds import body, by_id, client, listed

KEY = "sk-or-v1-TESTKEY0123456789abcdef"
MODELS = "/api/v1/models"
GPT_4O = {
    "id": "openai/gpt-4o-2024-05-13",
    "canonical_slug": "openai/gpt-4o-2024-05-13",
    "name": "OpenAI: GPT-4o (2024-05-13)",
    "created": 1715558400,
    "context_length": 128000,
    "pricing": {"prompt": "0.000005", "completion": "0.000015"},
    "top_provider": {"context_length": 128000, "max_completion_tokens": 4096},
    "expiration_date": "2026-10-23",
    "knowledge_cutoff": None,
}
SONNET = {
    "id": "anthropic/claude-sonnet-4.5",
    "name": "Anthropic: Claude Sonnet 4.5",
    "created": 1759161676,
    "top_provider": {"context_length": 1000000},
    "expiration_date": None,
}


def test_the_public_list_needs_no_key_and_follows_links_next(httpserver: HTTPServer) -> None:
    httpserver.expect_request(MODELS, query_string="output_modalities=all").respond_with_data(
        body(
            {
                "data": [GPT_4O],
                "links": {"next": "/api/v1/models?offset=1&limit=1"},
                "total_count": 2,
            }
        ),
        content_type="application/json",
    )
    httpserver.expect_request(
        MODELS, query_string="offset=1&limit=1&output_modalities=all"
    ).respond_with_data(
        body({"data": [SONNET], "links": {"next": None}}), content_type="application/json"
    )

    listing = listed(client(httpserver, "openrouter", prefix="/api/v1"))

    assert "Authorization" not in httpserver.log[0][0].headers
    models = by_id(listing)
    gpt = models["openai/gpt-4o-2024-05-13"]
    assert gpt.shutdown_at == datetime(2026, 10, 23, tzinfo=UTC)
    assert (gpt.display_name, gpt.context_length) == ("OpenAI: GPT-4o (2024-05-13)", 128000)
    # No top-level context_length: the top provider's.
    assert models["anthropic/claude-sonnet-4.5"].context_length == 1000000
    assert listing.warnings == []


def test_a_key_is_sent_as_bearer_and_an_error_keeps_openrouters_words(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request(MODELS).respond_with_data(
        body({"error": {"code": 401, "message": f"No auth credentials found for {KEY}"}}),
        status=401,
        content_type="application/json",
    )

    with pytest.raises(HTTPStatusError) as info:
        listed(client(httpserver, "openrouter", prefix="/api/v1", key=KEY))

    assert httpserver.log[0][0].headers["Authorization"] == f"Bearer {KEY}"
    assert str(info.value).endswith("(No auth credentials found for sk-or-***)")


def test_every_page_asks_for_all_output_modalities_whatever_links_next_keeps(
    httpserver: HTTPServer,
) -> None:
    """The spec says ``output_modalities`` defaults to text, and its own example next link
    (OpenRouterTeam/typescript-sdk .speakeasy/in.openapi.yaml @ cb9393a8, L14401) drops
    it: a page asked for without it would leave out every image and embedding model."""
    embedding = {
        "id": "openai/text-embedding-3-large",
        "name": "Text Embedding 3 Large",
        "created": 1706000000,
        "architecture": {"output_modalities": ["embeddings"]},
        "expiration_date": "2027-01-15",
    }
    image = {
        "id": "google/gemini-2.5-flash-image",
        "name": "Gemini 2.5 Flash Image",
        "created": 1759000000,
        "architecture": {"output_modalities": ["image", "text"]},
        "expiration_date": None,
    }
    pages = [
        ("output_modalities=all", [GPT_4O], "/api/v1/models?offset=1&limit=1"),
        (
            "offset=1&limit=1&output_modalities=all",
            [embedding],
            "/api/v1/models?output_modalities=all&offset=2&limit=1",
        ),
        ("output_modalities=all&offset=2&limit=1", [image], None),
    ]
    for query, data, following in pages:
        httpserver.expect_oneshot_request(MODELS, query_string=query).respond_with_data(
            body({"data": data, "links": {"next": following}, "total_count": 3}),
            content_type="application/json",
        )

    listing = listed(client(httpserver, "openrouter", prefix="/api/v1"))

    asked = [request.args.getlist("output_modalities") for request, _ in httpserver.log]
    assert asked == [["all"], ["all"], ["all"]]
    models = by_id(listing)
    assert list(models) == [GPT_4O["id"], embedding["id"], image["id"]]
    assert models[embedding["id"]].shutdown_at == datetime(2027, 1, 15, tzinfo=UTC)
