"""Gemini's native API against a loopback server answering its documented shapes (§1.5)."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from syncer.errors import HTTPStatusError
from tests.providers.kinds import body, by_id, client, listed

KEY = "AIzaSyTESTKEY-0123456789abcdefghijklm"
MODELS = "/v1beta/models"
FLASH = {
    "name": "models/gemini-2.5-flash", "baseModelId": "gemini-2.5-flash", "version": "001",
    "displayName": "Gemini 2.5 Flash", "inputTokenLimit": 1048576, "outputTokenLimit": 65536,
    "supportedGenerationMethods": ["generateContent", "countTokens"], "thinking": True,
}
EMBEDDING = {
    "name": "models/gemini-embedding-001", "version": "001", "displayName": "Gemini Embedding 001",
    "inputTokenLimit": 2048, "outputTokenLimit": 1, "supportedGenerationMethods": ["embedContent"],
}


def test_sends_the_goog_key_and_follows_page_tokens_until_none_comes(
    httpserver: HTTPServer,
) -> None:
    pages = [
        ({"pageSize": "1000"}, {"models": [FLASH], "nextPageToken": "Ch5tb2RlbHMv"}),
        ({"pageSize": "1000", "pageToken": "Ch5tb2RlbHMv"},
         {"models": [EMBEDDING], "nextPageToken": "second"}),
        ({"pageSize": "1000", "pageToken": "second"},
         {"models": [{"name": "models/gemma-3-27b-it", "displayName": "Gemma 3 27B"}]}),
    ]
    for query, answer in pages:
        httpserver.expect_request(MODELS, query_string=query).respond_with_data(
            body(answer), content_type="application/json"
        )

    listing = listed(client(httpserver, "gemini", prefix="/v1beta", key=KEY))

    assert httpserver.log[0][0].headers["x-goog-api-key"] == KEY
    assert "Authorization" not in httpserver.log[0][0].headers
    models = by_id(listing)
    assert list(models) == ["gemini-2.5-flash", "gemini-embedding-001", "gemma-3-27b-it"]
    flash = models["gemini-2.5-flash"]
    assert (flash.display_name, flash.context_length) == ("Gemini 2.5 Flash", 1048576)
    assert flash.raw["name"] == "models/gemini-2.5-flash"
    assert flash.created is None and flash.owned_by is None
    assert listing.warnings == []


def test_an_empty_answer_without_models_is_an_empty_list(httpserver: HTTPServer) -> None:
    httpserver.expect_request(MODELS).respond_with_data("{}", content_type="application/json")

    assert listed(client(httpserver, "gemini", prefix="/v1beta", key=KEY)).records == []


def test_a_vanished_model_is_asked_about_by_its_id_without_the_prefix(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request(f"{MODELS}/gemini-2.5-flash").respond_with_data(
        body(FLASH), content_type="application/json"
    )

    with client(httpserver, "gemini", prefix="/v1beta", key=KEY) as made:
        assert made.retrieve("gemini-2.5-flash") == FLASH


@pytest.mark.parametrize("wrapped", [False, True], ids=["native", "list-wrapped"])
def test_a_bad_key_is_a_400_said_to_be_the_key(httpserver: HTTPServer, wrapped: bool) -> None:
    error = {"error": {
        "code": 400, "message": "API key not valid. Please pass a valid API key.",
        "status": "INVALID_ARGUMENT",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                     "reason": "API_KEY_INVALID", "domain": "googleapis.com"}],
    }}
    httpserver.expect_request(MODELS).respond_with_data(
        body([error] if wrapped else error), status=400, content_type="application/json"
    )

    with pytest.raises(HTTPStatusError) as info:
        listed(client(httpserver, "gemini", prefix="/v1beta", key=KEY))

    assert str(info.value).endswith(
        "400 Bad Request: the API key is wrong or missing "
        "(API key not valid. Please pass a valid API key.)"
    )
    assert info.value.code == "API_KEY_INVALID"
    assert KEY not in str(info.value)
