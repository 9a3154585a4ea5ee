"""Mistral against a loopback server answering its documented shapes (providers.md §1.8)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from syncer.errors import HTTPStatusError
from syncer.providers.mistral import PROFILE, fine_tune_family
from syncer.providers.profile import Family
from tests.providers.kinds import body, by_id, client, listed

KEY = "mistralTESTKEY0123456789abcdef"
MODELS = "/v1/models"


def test_lists_deprecations_their_replacement_and_context_length(httpserver: HTTPServer) -> None:
    httpserver.expect_request(MODELS).respond_with_data(
        body(
            {
                "object": "list",
                "data": [
                    {
                        "id": "mistral-medium-2508",
                        "object": "model",
                        "created": 1766520693,
                        "owned_by": "mistralai",
                        "type": "base",
                        "name": "mistral-medium-2508",
                        "max_context_length": 131072,
                        "aliases": ["mistral-medium-latest", "mistral-medium"],
                        "deprecation": None,
                        "deprecation_replacement_model": None,
                    },
                    {
                        "id": "magistral-medium-2509",
                        "object": "model",
                        "created": 1766520693,
                        "owned_by": "mistralai",
                        "type": "base",
                        "max_context_length": 128000,
                        "aliases": [],
                        "deprecation": "2026-07-31T12:00:00Z",
                        "deprecation_replacement_model": "mistral-medium-latest",
                    },
                    {
                        "id": "ft:open-mistral-7b:587a6b29:20240514:7e773925",
                        "object": "model",
                        "created": 1715700000,
                        "owned_by": "587a6b29",
                        "type": "fine-tuned",
                        "job": "7e773925-0000",
                        "root": "open-mistral-7b",
                        "archived": False,
                    },
                ],
            }
        ),
        content_type="application/json",
    )

    listing = listed(client(httpserver, "mistral", key=KEY))

    assert httpserver.log[0][0].headers["Authorization"] == f"Bearer {KEY}"
    models = by_id(listing)
    magistral = models["magistral-medium-2509"]
    assert magistral.shutdown_at == datetime(2026, 7, 31, 12, tzinfo=UTC)
    assert magistral.replacement == "mistral-medium-latest"
    assert magistral.context_length == 128000
    assert models["mistral-medium-2508"].shutdown_at is None
    assert models["ft:open-mistral-7b:587a6b29:20240514:7e773925"].is_fine_tuned
    assert not models["mistral-medium-2508"].is_fine_tuned


@pytest.mark.parametrize(
    ("model_id", "family"),
    [
        ("ft:open-mistral-7b:587a6b29:20240514:7e773925", Family("open-mistral-7b", "")),
        (
            "ft:open-mistral-7b:504267b8:20240620:MyCoach:29b5b062",
            Family("open-mistral-7b", "MyCoach"),
        ),
        ("ft:open-mistral-7b:504267b8:notadate:x:1", None),
        ("mistral-medium-2508", None),
    ],
)
def test_a_fine_tunes_family_skips_its_training_day(model_id: str, family: Family | None) -> None:
    assert fine_tune_family(model_id) == family


def test_retention_may_delete_mistral_fine_tunes_but_never_mistrals_own() -> None:
    assert PROFILE.retention
    assert PROFILE.fine_tunes.is_provider_owner("mistralai")


def test_an_error_gives_mistrals_message(httpserver: HTTPServer) -> None:
    httpserver.expect_request(MODELS).respond_with_data(
        body({"message": "Unauthorized", "request_id": "abc"}),
        status=401,
        content_type="application/json",
    )

    with pytest.raises(HTTPStatusError, match=r"the API key is wrong or missing \(Unauthorized\)$"):
        listed(client(httpserver, "mistral", key=KEY))


FIXTURES = Path(__file__).parent.parent / "conformance" / "fixtures"


def test_a_card_of_type_fine_tuned_is_a_fine_tune_whatever_its_id(
    httpserver: HTTPServer,
) -> None:
    # FTModelCard, as mistralai/platform-docs-public public/openapi.yaml @ 222f4ba9 defines
    # it (L13583 on), with an id that does not start with "ft:".
    answer = (FIXTURES / "mistral-fine-tuned-plain-id.json").read_text(encoding="utf-8")
    httpserver.expect_request(MODELS).respond_with_data(answer, content_type="application/json")

    [card] = listed(client(httpserver, "mistral", key=KEY)).records

    assert (card.model_id, card.is_fine_tuned) == ("support-coach-7e773925", True)
    # Retention reads stored ids alone: a fine-tune it cannot tell by its id is never a
    # candidate to delete.
    assert not PROFILE.fine_tunes.is_fine_tuned(card.model_id, {})


def test_an_answer_without_data_lists_no_model(httpserver: HTTPServer) -> None:
    # ModelList's data is optional in the spec (it has no required list).
    httpserver.expect_request(MODELS).respond_with_data(
        body({"object": "list"}), content_type="application/json"
    )

    assert listed(client(httpserver, "mistral", key=KEY)).records == []
