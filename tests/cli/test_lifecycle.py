"""The lifecycle status of Cohere, Groq and Azure classic, and the stored lifecycle in force,
through the command line on SQLite and PostgreSQL.

The loopback providers answer as each kind's own spec or SDK says: Cohere's
``GetModelResponse.is_deprecated`` (cohere-ai/cohere-developer-experience @ e814c8a1,
``cohere-openapi.yaml`` L28242), Groq's ``active`` (groq/groq-python ``types/model.py``),
Azure classic's ``lifecycle_status`` (Azure/azure-rest-api-specs, AzureOpenAI authoring
2024-10-21 ``examples/get_models.json``, copied in ../shared/specs/fixtures/azure-classic.json).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from sqlalchemy import text
from werkzeug import Response

from syncer.cli import cli
from syncer.db.engine import make_engine

KEYS = {
    "CO_API_KEY": "co-KEY0123456789",
    "GROQ_API_KEY": "gsk_KEY0123456789",
    "AZURE_OPENAI_API_KEY": "azurekey0123456789abcdef01234567",
}


class Providers:
    def __init__(self, server: HTTPServer) -> None:
        self.cohere: list[dict[str, Any]] = [
            {
                "name": "command-r-08-2024",
                "endpoints": ["chat"],
                "finetuned": False,
                "context_length": 128000,
                "is_deprecated": False,
            },
            {
                "name": "command-light",
                "endpoints": ["generate"],
                "finetuned": False,
                "context_length": 4096,
                "is_deprecated": True,
            },
        ]
        self.groq: list[dict[str, Any]] = [
            {
                "id": "llama-3.3-70b-versatile",
                "object": "model",
                "created": 1733447754,
                "owned_by": "Meta",
                "active": True,
                "context_window": 131072,
                "public_apps": None,
            },
            {
                "id": "gemma2-9b-it",
                "object": "model",
                "created": 1693721698,
                "owned_by": "Google",
                "active": False,
                "context_window": 8192,
                "public_apps": None,
            },
        ]
        self.azure: list[dict[str, Any]] = [
            {
                "status": "succeeded",
                "lifecycle_status": "generally-available",
                "deprecation": {"fine_tune": 1677662127, "inference": 1709284527},
                "id": "curie",
                "created_at": 1646126127,
                "object": "model",
            },
            {
                "status": "succeeded",
                "lifecycle_status": "preview",
                "deprecation": {"inference": 1751241600},
                "id": "dall-e-3-3.0",
                "created_at": 1691712000,
                "object": "model",
            },
        ]
        server.expect_request("/cohere/v1/models").respond_with_handler(
            lambda r: self._json({"models": self.cohere, "next_page_token": ""})
        )
        server.expect_request("/groq/openai/v1/models").respond_with_handler(
            lambda r: self._json({"object": "list", "data": self.groq})
        )
        server.expect_request("/azure/openai/models").respond_with_handler(
            lambda r: self._json({"data": self.azure, "object": "list"})
        )
        self.server = server

    @staticmethod
    def _json(answer: Any) -> Response:
        return Response(json.dumps(answer), content_type="application/json")


@pytest.fixture
def providers(httpserver: HTTPServer) -> Providers:
    return Providers(httpserver)


@pytest.fixture
def syncer(
    monkeypatch: pytest.MonkeyPatch, providers: Providers, database_url: str, tmp_path: Path
) -> Callable[..., Result]:
    for name in list(os.environ):
        if name.endswith("_API_KEY") or (
            name.startswith("SYNCER_") and name != "SYNCER_TEST_POSTGRES_URL"
        ):
            monkeypatch.delenv(name)
    for name, key in KEYS.items():
        monkeypatch.setenv(name, key)
    monkeypatch.setenv("SYNCER_DATABASE_URL", database_url)
    monkeypatch.setenv("HOOK_URL", providers.server.url_for("/hook"))
    url = providers.server.url_for
    config = tmp_path / "syncer.toml"
    config.write_text(
        f"""
[[sources]]
name = "cohere"
kind = "cohere"
base_url = "{url("/cohere/v1")}"

[[sources]]
name = "groq"
kind = "groq"
base_url = "{url("/groq/openai/v1")}"

[[sources]]
name = "azure"
kind = "azure"
api = "classic"
base_url = "{url("/azure")}"

[[alerts]]
name = "statuses"
kinds = ["status_changed"]
webhook_url_env = "HOOK_URL"
""",
        encoding="utf-8",
    )

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--config", str(config), *args])

    return run


def rows(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return found


def statuses(database_url: str) -> dict[tuple[str, str], Any]:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        found = {
            (source, model_id): status
            for source, model_id, status in connection.execute(
                text("SELECT source, model_id, lifecycle_status FROM current_models")
            )
        }
    engine.dispose()
    return found


def test_each_kinds_lifecycle_field_is_stored_as_its_status(
    syncer: Callable[..., Result], database_url: str
) -> None:
    assert syncer("sync").exit_code == 0

    assert statuses(database_url) == {
        ("cohere", "command-r-08-2024"): None,
        ("cohere", "command-light"): "deprecated",
        ("groq", "llama-3.3-70b-versatile"): None,
        ("groq", "gemma2-9b-it"): "inactive",
        ("azure", "curie"): "generally-available",
        ("azure", "dall-e-3-3.0"): "preview",
    }


def test_a_model_deprecated_without_a_date_is_listed_as_such(
    syncer: Callable[..., Result],
) -> None:
    syncer("sync")

    listed = rows(syncer("deprecations", "--format", "json"))

    undated = [
        (r["source"], r["model_id"], r["status"]) for r in listed if r["shutdown_at"] is None
    ]
    assert undated == [
        ("cohere", "command-light", "deprecated"),
        ("groq", "gemma2-9b-it", "inactive"),
    ]
    # Azure's dates are listed first, with their status beside them.
    assert [(r["model_id"], r["status"]) for r in listed if r["shutdown_at"] is not None] == [
        ("curie", "generally-available"),
        ("dall-e-3-3.0", "preview"),
    ]


def test_a_changed_status_is_an_event_of_its_own_and_alert_rules_fire_on_it(
    syncer: Callable[..., Result], providers: Providers, database_url: str
) -> None:
    syncer("sync")
    providers.cohere[0]["is_deprecated"] = True
    providers.groq[1]["active"] = True

    assert syncer("sync").exit_code == 0
    events = rows(syncer("events", "--kind", "status_changed", "--format", "json"))
    queued = rows(syncer("alerts", "--format", "json"))

    assert sorted(
        (
            e["source"],
            e["model_id"],
            e["old_values"]["lifecycle_status"],
            e["new_values"]["lifecycle_status"],
        )
        for e in events
    ) == [
        ("cohere", "command-r-08-2024", None, "deprecated"),
        ("groq", "gemma2-9b-it", "inactive", None),
    ]
    assert sorted(a["summary"] for a in queued) == [
        "cohere: command-r-08-2024 status none → deprecated",
        "groq: gemma2-9b-it status inactive → none",
    ]
    assert statuses(database_url)["groq", "gemma2-9b-it"] is None


def test_an_imported_glob_date_is_in_the_views_and_report_shutdowns_as_in_deprecations(
    syncer: Callable[..., Result], tmp_path: Path, database_url: str
) -> None:
    syncer("sync")
    dates = tmp_path / "deps.csv"
    dates.write_text(
        "model,shutdown_date,replacement,source,source_url\n"
        "command-*,2026-09-15,command-a-03-2025,cohere,https://docs.cohere.com/docs/deprecations\n",
        encoding="utf-8",
    )

    assert syncer("deprecations", "import", str(dates)).exit_code == 0
    listed = rows(syncer("deprecations", "--source", "cohere", "--format", "json"))
    report = rows(
        syncer("report", "shutdowns", "--days", "100000", "--source", "cohere", "--format", "json")
    )
    engine = make_engine(database_url)
    with engine.connect() as connection:
        viewed = connection.execute(
            text(
                "SELECT model_id, shutdown_at, date_source, date_origin, replacement "
                "FROM current_models WHERE source = 'cohere' ORDER BY model_id"
            )
        ).all()
    engine.dispose()

    assert [
        (r["model_id"], r["shutdown_at"][:10], r["origin"], r["replacement"]) for r in listed
    ] == [
        ("command-light", "2026-09-15", str(dates), "command-a-03-2025"),
        ("command-r-08-2024", "2026-09-15", str(dates), "command-a-03-2025"),
    ]
    assert [(r["model_id"], r["shutdown_at"][:10]) for r in report] == [
        ("command-light", "2026-09-15"),
        ("command-r-08-2024", "2026-09-15"),
    ]
    assert [(m, str(d)[:10], s, o, r) for m, d, s, o, r in viewed] == [
        ("command-light", "2026-09-15", "imported", str(dates), "command-a-03-2025"),
        ("command-r-08-2024", "2026-09-15", "imported", str(dates), "command-a-03-2025"),
    ]
