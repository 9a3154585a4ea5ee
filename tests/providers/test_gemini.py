"""Gemini's native API against a loopback server answering its documented shapes (§1.5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from werkzeug import Response

from syncer.cli import cli
from syncer.config.load import load_settings
from syncer.errors import HTTPStatusError
from tests.conftest import clear_settings_env
from tests.providers.kinds import body, by_id, client, listed

KEY = "AIzaSyTESTKEY-0123456789abcdefghijklm"
MODELS = "/v1beta/models"
TUNED = "/v1beta/tunedModels"
FIXTURES = Path(__file__).parent.parent / "conformance" / "fixtures"
FLASH = {
    "name": "models/gemini-2.5-flash",
    "baseModelId": "gemini-2.5-flash",
    "version": "001",
    "displayName": "Gemini 2.5 Flash",
    "inputTokenLimit": 1048576,
    "outputTokenLimit": 65536,
    "supportedGenerationMethods": ["generateContent", "countTokens"],
    "thinking": True,
}
EMBEDDING = {
    "name": "models/gemini-embedding-001",
    "version": "001",
    "displayName": "Gemini Embedding 001",
    "inputTokenLimit": 2048,
    "outputTokenLimit": 1,
    "supportedGenerationMethods": ["embedContent"],
}


def test_sends_the_goog_key_and_follows_page_tokens_until_none_comes(
    httpserver: HTTPServer,
) -> None:
    pages = [
        ({"pageSize": "1000"}, {"models": [FLASH], "nextPageToken": "Ch5tb2RlbHMv"}),
        (
            {"pageSize": "1000", "pageToken": "Ch5tb2RlbHMv"},
            {"models": [EMBEDDING], "nextPageToken": "second"},
        ),
        (
            {"pageSize": "1000", "pageToken": "second"},
            {"models": [{"name": "models/gemma-3-27b-it", "displayName": "Gemma 3 27B"}]},
        ),
    ]
    for query, answer in pages:
        httpserver.expect_request(MODELS, query_string=query).respond_with_data(
            body(answer), content_type="application/json"
        )
    httpserver.expect_request(TUNED).respond_with_data("{}", content_type="application/json")

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
    httpserver.expect_request(TUNED).respond_with_data("{}", content_type="application/json")

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
    error = {
        "error": {
            "code": 400,
            "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                }
            ],
        }
    }
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


def test_tuned_models_are_read_after_the_base_models_paged_the_same_way(
    httpserver: HTTPServer,
) -> None:
    # A tunedModels page as google/ai/generativelanguage/v1beta/tuned_model.proto and
    # model_service.proto define it (googleapis/googleapis; see the table in docs/providers.md).
    tuned = json.loads((FIXTURES / "gemini-tuned.json").read_text(encoding="utf-8"))
    first, second = tuned["tunedModels"][:2], tuned["tunedModels"][2:]
    httpserver.expect_request(MODELS).respond_with_data(
        body({"models": [FLASH]}), content_type="application/json"
    )
    httpserver.expect_request(TUNED, query_string={"pageSize": "1000"}).respond_with_data(
        body({"tunedModels": first, "nextPageToken": "more"}), content_type="application/json"
    )
    httpserver.expect_request(
        TUNED, query_string={"pageSize": "1000", "pageToken": "more"}
    ).respond_with_data(body({"tunedModels": second}), content_type="application/json")

    listing = listed(client(httpserver, "gemini", prefix="/v1beta", key=KEY))

    assert all(r.headers["x-goog-api-key"] == KEY for r, _ in httpserver.log)
    models = by_id(listing)
    assert list(models) == ["gemini-2.5-flash", *(m["name"] for m in tuned["tunedModels"])]
    translator = models["tunedModels/sentence-translator-u3b7m"]
    assert (translator.is_fine_tuned, translator.display_name) == (True, "Sentence Translator")
    assert translator.raw["baseModel"] == "models/gemini-1.5-flash-001-tuning"
    assert not models["gemini-2.5-flash"].is_fine_tuned
    assert listing.warnings == []


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"GOOGLE_API_KEY": "AIza-google", "GEMINI_API_KEY": "AIza-gemini"}, "GOOGLE_API_KEY"),
        ({"GEMINI_API_KEY": "AIza-gemini"}, "GEMINI_API_KEY"),
        ({"GOOGLE_API_KEY": "", "GEMINI_API_KEY": "AIza-gemini"}, "GEMINI_API_KEY"),
        ({"GOOGLE_API_KEY": "AIza-google"}, "GOOGLE_API_KEY"),
    ],
    ids=["both-google-wins", "gemini-alone", "empty-google", "google-alone"],
)
def test_the_key_is_read_as_the_official_sdk_reads_it(
    tmp_path: Path, env: dict[str, str], variable: str
) -> None:
    """googleapis/python-genai google/genai/_api_client.py @ 79f0d746, get_env_api_key:
    GOOGLE_API_KEY, else GEMINI_API_KEY; an empty value is none."""
    config = tmp_path / "syncer.toml"
    config.write_text('[[sources]]\nname = "gem"\nkind = "gemini"\n', encoding="utf-8")

    (source,) = load_settings(config_file=config, env=env).sources

    assert (source.api_key_env, source.api_key) == (variable, env[variable])


def test_a_vanished_tuned_model_is_confirmed_by_the_list_alone(
    httpserver: HTTPServer, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GET /v1beta/models/{id} does not serve a tuned model: asking it would prove nothing."""
    clear_settings_env(monkeypatch, "GOOGLE_", "GEMINI_")
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    monkeypatch.setenv("SYNCER_DATABASE_URL", database_url)
    tuned = {"name": "tunedModels/sentence-translator-u3b7m", "state": "ACTIVE"}
    listed = {"models": [FLASH, EMBEDDING], "tunedModels": [tuned]}
    httpserver.expect_request(MODELS).respond_with_handler(
        lambda r: Response(body({"models": listed["models"]}), content_type="application/json")
    )
    httpserver.expect_request(TUNED).respond_with_handler(
        lambda r: Response(
            body({"tunedModels": listed["tunedModels"]}), content_type="application/json"
        )
    )
    httpserver.expect_request(f"{MODELS}/gemini-embedding-001").respond_with_data(
        body({"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}}),
        status=404,
        content_type="application/json",
    )
    config = tmp_path / "syncer.toml"
    config.write_text(
        f'[[sources]]\nname = "gem"\nkind = "gemini"\n'
        f'base_url = "{httpserver.url_for("/v1beta")}"\n',
        encoding="utf-8",
    )

    def syncer(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)

    assert syncer("sync").exit_code == 0
    listed.update(models=[FLASH], tunedModels=[])
    result = syncer("sync", "--accept-mass-change")

    assert result.exit_code == 0, result.output
    assert "1 model, 0 added, 2 vanished" in result.stdout
    asked = [r.path for r, _ in httpserver.log if r.path.startswith(f"{MODELS}/")]
    assert asked == [f"{MODELS}/gemini-embedding-001"]
