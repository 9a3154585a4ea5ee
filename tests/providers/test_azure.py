"""Azure OpenAI, v1 and classic, against a loopback server answering their shapes (§1.2-1.3)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pytest_httpserver import HTTPServer

from syncer.errors import HTTPStatusError
from syncer.lifecycle import is_ending
from tests.providers.kinds import body, by_id, client, listed

KEY = "0123456789abcdef0123456789abcdef"


def test_v1_lists_openai_shaped_models_with_the_api_key_header(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/openai/v1/models", query_string="").respond_with_data(
        body(
            {
                "object": "list",
                "data": [
                    {
                        "id": "gpt-4o-2024-05-13",
                        "object": "model",
                        "created": 1715367049,
                        "owned_by": "system",
                        "shutdown_date": "2026-10-23",
                    },
                    {
                        "id": "gpt-4o-mini-2024-07-18.ft-5fd1918ee65d4cd38a5dcf6835066ed7",
                        "object": "model",
                        "created": 1735689600,
                        "owned_by": "user",
                    },
                ],
            }
        ),
        content_type="application/json",
    )

    listing = listed(client(httpserver, "azure", prefix="", key=KEY))

    sent = httpserver.log[0][0].headers
    assert sent["api-key"] == KEY and "Authorization" not in sent
    models = by_id(listing)
    assert models["gpt-4o-2024-05-13"].shutdown_at == datetime(2026, 10, 23, tzinfo=UTC)
    assert models["gpt-4o-mini-2024-07-18.ft-5fd1918ee65d4cd38a5dcf6835066ed7"].is_fine_tuned


def test_classic_sends_the_api_version_and_reads_unix_deprecation_dates(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request(
        "/openai/models", query_string={"api-version": "2024-10-21"}
    ).respond_with_data(
        body(
            {
                "data": [
                    {
                        "status": "succeeded",
                        "capabilities": {"fine_tune": True, "inference": True},
                        "lifecycle_status": "generally-available",
                        "deprecation": {"fine_tune": 1677662127, "inference": 1709284527},
                        "id": "curie",
                        "created_at": 1646126127,
                        "object": "model",
                    },
                    {
                        "status": "succeeded",
                        "capabilities": {"fine_tune": False, "inference": True},
                        "lifecycle_status": "preview",
                        "deprecation": {"inference": 1751241600},
                        "id": "dall-e-3-3.0",
                        "created_at": 1691712000,
                        "object": "model",
                    },
                    {
                        "status": "succeeded",
                        "model": "curie",
                        "fine_tune": "ft-72a2792ef7d24ba7b82c7fe4a37e379f",
                        "capabilities": {"fine_tune": False, "inference": True},
                        "lifecycle_status": "generally-available",
                        "deprecation": {"inference": 1709284527},
                        "id": "curie.ft-72a2792ef7d24ba7b82c7fe4a37e379f",
                        "created_at": 1646126127,
                        "object": "model",
                    },
                ]
            }
        ),
        content_type="application/json",
    )

    listing = listed(client(httpserver, "azure", prefix="", key=KEY, api="classic"))

    models = by_id(listing)
    curie = models["curie"]
    assert curie.created_at == datetime.fromtimestamp(1646126127, UTC)
    assert curie.shutdown_at == datetime.fromtimestamp(1709284527, UTC)
    assert not curie.is_fine_tuned
    assert models["dall-e-3-3.0"].shutdown_at == datetime.fromtimestamp(1751241600, UTC)
    assert models["curie.ft-72a2792ef7d24ba7b82c7fe4a37e379f"].is_fine_tuned
    assert listing.warnings == []


def test_classic_asks_about_one_model_with_the_api_version_a_source_sets(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request(
        "/openai/models/curie", query_string={"api-version": "2024-06-01"}
    ).respond_with_data(body({"id": "curie"}), content_type="application/json")

    made = client(httpserver, "azure", prefix="", key=KEY, api="classic", api_version="2024-06-01")
    with made:
        assert made.retrieve("curie") == {"id": "curie"}


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            {
                "error": {
                    "code": "401",
                    "message": "Access denied due to invalid subscription key or "
                    "wrong API endpoint.",
                }
            },
            "Access denied due to invalid subscription key or wrong API endpoint.",
        ),
        (
            {
                "statusCode": 401,
                "message": "Unauthorized. Access token is missing, invalid, "
                "audience is incorrect (https://cognitiveservices.azure.com), or have expired.",
            },
            "Unauthorized. Access token is missing",
        ),
    ],
    ids=["resource", "gateway"],
)
def test_both_401_shapes_give_azures_own_message(
    httpserver: HTTPServer, error: dict[str, object], words: str
) -> None:
    httpserver.expect_request("/openai/v1/models").respond_with_data(
        body(error), status=401, content_type="application/json"
    )

    with pytest.raises(HTTPStatusError) as info:
        listed(client(httpserver, "azure", prefix="", key=KEY))

    assert "401 Unauthorized: the API key is wrong or missing (" in str(info.value)
    assert words in str(info.value)


#: Azure's model lifecycle statuses: the classic list's spec (azureopenai.json 2024-10-21,
#: ``LifeCycleStatus``, an open enum) and its management API's ``ModelLifecycleStatus``
#: (Azure/azure-rest-api-specs CognitiveServices.Management/models.tsp @ 2229e24d), with
#: whether each says the model is going.
AZURE_STATUSES = {
    "preview": False,
    "generally-available": False,
    "Stable": False,
    "Preview": False,
    "GenerallyAvailable": False,
    "Deprecating": True,
    "Deprecated": True,
    "Legacy": True,
}


def test_classic_statuses_are_stored_in_lower_case_and_only_the_ending_ones_say_so(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/openai/models").respond_with_data(
        body(
            {
                "data": [
                    {
                        "id": f"model-{n}",
                        "object": "model",
                        "created_at": 1646126127,
                        "lifecycle_status": status,
                        "deprecation": {},
                    }
                    for n, status in enumerate(AZURE_STATUSES)
                ]
            }
        ),
        content_type="application/json",
    )

    models = by_id(listed(client(httpserver, "azure", prefix="", key=KEY, api="classic")))

    stored = {
        status: models[f"model-{n}"].lifecycle_status for n, status in enumerate(AZURE_STATUSES)
    }
    assert stored == {status: status.lower() for status in AZURE_STATUSES}
    assert {s: is_ending(stored[s]) for s in AZURE_STATUSES} == AZURE_STATUSES
