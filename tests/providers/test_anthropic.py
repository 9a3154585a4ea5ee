"""Anthropic against a loopback server answering the documented shapes (providers.md §1.4)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pytest_httpserver import HTTPServer

from syncer.errors import HTTPStatusError
from tests.providers.kinds import body, by_id, client, listed

KEY = "sk-ant-api03-SECRETKEY0123456789"
MODELS = "/v1/models"


def model(model_id: str, **fields: object) -> dict[str, object]:
    return {
        "type": "model",
        "id": model_id,
        "display_name": model_id.title(),
        "created_at": "2025-10-15T00:00:00Z",
        **fields,
    }


def test_sends_the_key_and_version_headers_and_follows_after_id_over_three_pages(
    httpserver: HTTPServer,
) -> None:
    pages = {
        "": (
            [
                model(
                    "claude-sonnet-4-6",
                    display_name="Claude Sonnet 4.6",
                    created_at="2026-02-17T00:00:00Z",
                    max_input_tokens=1_000_000,
                    max_tokens=64_000,
                ),
                model("claude-haiku-4-5-20251001", display_name="Claude Haiku 4.5"),
            ],
            True,
        ),
        "claude-haiku-4-5-20251001": ([model("claude-opus-4-1")], True),
        "claude-opus-4-1": (
            [model("claude-3-haiku-20240307", created_at="1970-01-01T00:00:00Z")],
            False,
        ),
    }
    for after, (data, more) in pages.items():
        query = {"limit": "1000", **({"after_id": after} if after else {})}
        httpserver.expect_request(MODELS, query_string=query).respond_with_data(
            body(
                {
                    "data": data,
                    "has_more": more,
                    "first_id": data[0]["id"],
                    "last_id": data[-1]["id"],
                }
            ),
            content_type="application/json",
        )

    listing = listed(client(httpserver, "anthropic", key=KEY))

    sent = httpserver.log[0][0].headers
    assert sent["x-api-key"] == KEY
    assert sent["anthropic-version"] == "2023-06-01"
    assert "Authorization" not in sent
    assert len(httpserver.log) == 3
    models = by_id(listing)
    assert list(models) == [
        "claude-sonnet-4-6",
        "claude-haiku-4-5-20251001",
        "claude-opus-4-1",
        "claude-3-haiku-20240307",
    ]
    sonnet = models["claude-sonnet-4-6"]
    assert sonnet.display_name == "Claude Sonnet 4.6"
    assert sonnet.context_length == 1_000_000
    assert sonnet.created_at == datetime(2026, 2, 17, tzinfo=UTC)
    assert sonnet.object == "model" and sonnet.owned_by is None and sonnet.shutdown_at is None
    # "May be set to an epoch value if the release date is unknown".
    assert models["claude-3-haiku-20240307"].created is None
    assert models["claude-haiku-4-5-20251001"].context_length is None
    assert listing.warnings == []


def test_a_bad_key_gives_anthropics_own_message_without_the_key(httpserver: HTTPServer) -> None:
    httpserver.expect_request(MODELS).respond_with_data(
        body(
            {
                "type": "error",
                "error": {"type": "authentication_error", "message": f"invalid x-api-key {KEY}"},
                "request_id": "req_011",
            }
        ),
        status=401,
        content_type="application/json",
    )

    with pytest.raises(HTTPStatusError) as info:
        listed(client(httpserver, "anthropic", key=KEY))

    assert str(info.value).endswith(
        "401 Unauthorized: the API key is wrong or missing (invalid x-api-key sk-ant-***)"
    )
    assert info.value.code == "authentication_error"
