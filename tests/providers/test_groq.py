"""Groq against a loopback server answering its documented shape (providers.md §1.10)."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from syncer.errors import HTTPStatusError, PayloadError
from tests.providers.kinds import body, by_id, client, listed

KEY = "gsk_TESTKEY0123456789abcdef"
MODELS = "/openai/v1/models"


def test_context_window_is_the_context_length_and_active_stays_in_raw(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request(MODELS).respond_with_data(
        body(
            {
                "object": "list",
                "data": [
                    {
                        "id": "llama-3.3-70b-versatile",
                        "object": "model",
                        "created": 1733447754,
                        "owned_by": "Meta",
                        "active": True,
                        "context_window": 131072,
                        "public_apps": None,
                        "max_completion_tokens": 32768,
                    },
                    {
                        "id": "whisper-large-v3-turbo",
                        "object": "model",
                        "created": 1728413088,
                        "owned_by": "OpenAI",
                        "active": False,
                        "public_apps": None,
                    },
                ],
            }
        ),
        content_type="application/json",
    )

    listing = listed(client(httpserver, "groq", prefix="/openai/v1", key=KEY))

    models = by_id(listing)
    assert models["llama-3.3-70b-versatile"].context_length == 131072
    assert models["whisper-large-v3-turbo"].context_length is None
    assert models["whisper-large-v3-turbo"].raw["active"] is False


def test_a_list_that_claims_more_pages_is_refused_rather_than_cut_short(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request(MODELS).respond_with_json({"data": [], "has_more": True})

    with pytest.raises(PayloadError, match="documented as one page"):
        listed(client(httpserver, "groq", prefix="/openai/v1", key=KEY))


def test_an_echoed_key_is_masked(httpserver: HTTPServer) -> None:
    httpserver.expect_request(MODELS).respond_with_data(
        body(
            {
                "error": {
                    "message": "Invalid API Key gsk_TESTK***cdef",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            }
        ),
        status=401,
        content_type="application/json",
    )

    with pytest.raises(HTTPStatusError) as info:
        listed(client(httpserver, "groq", prefix="/openai/v1", key=KEY))

    assert str(info.value).endswith("(Invalid API Key gsk_***)")
