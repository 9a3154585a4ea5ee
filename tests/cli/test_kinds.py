"""One config, six provider kinds, one database: the inventory, the sources and the
cross-source report, end to end through the command line on SQLite and PostgreSQL.

Every provider is a loopback server answering its kind's documented shapes (paths, auth
headers, envelopes, paging); see tests/providers for each kind on its own.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from sqlalchemy import select, text
from werkzeug import Request, Response

from syncer.cli import cli
from syncer.db.engine import make_engine, read_session
from syncer.db.schema import Model

KEYS = {
    "OPENAI_API_KEY": "sk-proj-OPENAIKEY0123456789",
    "AZURE_OPENAI_API_KEY": "azurekey0123456789abcdef01234567",
    "ANTHROPIC_API_KEY": "sk-ant-api03-ANTHROPICKEY0123",
    "GEMINI_API_KEY": "AIzaGEMINIKEY0123456789abcdefghijk",
    "OPENROUTER_API_KEY": "sk-or-v1-OPENROUTERKEY0123",
    "MISTRAL_API_KEY": "mistralKEY0123456789abcdef",
}


class Providers:
    """Six providers behind one loopback server, each under its own path prefix."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.openai = [
            {
                "id": "gpt-4o",
                "object": "model",
                "created": 1715367049,
                "owned_by": "system",
                "shutdown_date": "2026-10-23",
            },
            {"id": "gpt-5.6", "object": "model", "created": 1780000000, "owned_by": "system"},
        ]
        self.azure = [
            {
                "id": "gpt-4o",
                "object": "model",
                "created": 1715367049,
                "owned_by": "system",
                "shutdown_date": "2026-11-30",
            },
        ]
        self.anthropic = [
            {
                "type": "model",
                "id": f"claude-{name}",
                "display_name": f"Claude {name.title()}",
                "created_at": "2025-10-15T00:00:00Z",
                "max_input_tokens": 200000,
            }
            for name in ("sonnet-4-6", "haiku-4-5", "opus-4-1", "opus-4")
        ]
        self.gemini = [
            {
                "name": "models/gemini-2.5-flash",
                "displayName": "Gemini 2.5 Flash",
                "inputTokenLimit": 1048576,
            },
            {
                "name": "models/gemini-2.5-pro",
                "displayName": "Gemini 2.5 Pro",
                "inputTokenLimit": 1048576,
            },
            {
                "name": "models/gemini-embedding-001",
                "displayName": "Gemini Embedding 001",
                "inputTokenLimit": 2048,
            },
        ]
        self.openrouter = [
            {
                "id": "openai/gpt-4o",
                "name": "OpenAI: GPT-4o",
                "created": 1715558400,
                "context_length": 128000,
                "expiration_date": "2026-10-01",
            },
            {
                "id": "google/gemini-2.5-flash",
                "name": "Google: Gemini 2.5 Flash",
                "created": 1750000000,
                "context_length": 1048576,
                "expiration_date": None,
            },
            {
                "id": "mistralai/magistral-medium-2509",
                "name": "Mistral: Magistral Medium",
                "created": 1758000000,
                "context_length": 128000,
                "expiration_date": None,
            },
        ]
        self.mistral = [
            {
                "id": "magistral-medium-2509",
                "object": "model",
                "created": 1766520693,
                "owned_by": "mistralai",
                "max_context_length": 128000,
                "deprecation": "2026-07-31T12:00:00Z",
                "deprecation_replacement_model": "mistral-medium-latest",
            },
            {
                "id": "mistral-medium-2508",
                "object": "model",
                "created": 1766520693,
                "owned_by": "mistralai",
                "max_context_length": 131072,
                "deprecation": None,
            },
        ]
        routes: dict[str, Callable[[Request], Response]] = {
            "/openai/v1/models": lambda r: self._page(r, "OPENAI_API_KEY", {"data": self.openai}),
            "/azure/openai/v1/models": lambda r: self._page(
                r, "AZURE_OPENAI_API_KEY", {"data": self.azure}
            ),
            "/anthropic/v1/models": self._anthropic,
            "/gemini/v1beta/models": self._gemini,
            "/openrouter/api/v1/models": self._openrouter,
            "/mistral/v1/models": lambda r: self._page(
                r, "MISTRAL_API_KEY", {"object": "list", "data": self.mistral}
            ),
        }
        for path, handler in routes.items():
            server.expect_request(path, method="GET").respond_with_handler(handler)
        server.expect_request(
            re.compile(r"^/gemini/v1beta/models/.+"), method="GET"
        ).respond_with_handler(self._gemini_one)
        server.expect_request("/gemini/v1beta/tunedModels", method="GET").respond_with_handler(
            lambda r: self._page(r, "GEMINI_API_KEY", {})
        )

    def url(self, prefix: str) -> str:
        return self.server.url_for(prefix)

    def requests(self, prefix: str) -> list[Request]:
        return [r for r, _ in self.server.log if r.path.startswith(prefix)]

    def _refused(self, request: Request, variable: str) -> Response | None:
        header, scheme = {
            "AZURE_OPENAI_API_KEY": ("api-key", ""),
            "ANTHROPIC_API_KEY": ("x-api-key", ""),
            "GEMINI_API_KEY": ("x-goog-api-key", ""),
        }.get(variable, ("Authorization", "Bearer "))
        if request.headers.get(header) == scheme + KEYS[variable]:
            return None
        return Response(
            '{"error": {"message": "bad key"}}', status=401, content_type="application/json"
        )

    def _page(self, request: Request, variable: str, answer: Any) -> Response:
        return self._refused(request, variable) or Response(
            json.dumps(answer), content_type="application/json"
        )

    def _anthropic(self, request: Request) -> Response:
        """Two models a page, so four models take two pages (and the test asks for both)."""
        if request.headers.get("anthropic-version") != "2023-06-01":
            return Response("{}", status=400)
        after = request.args.get("after_id")
        start = 0 if after is None else [m["id"] for m in self.anthropic].index(after) + 1
        page = self.anthropic[start : start + 2]
        more = start + 2 < len(self.anthropic)
        return self._page(
            request,
            "ANTHROPIC_API_KEY",
            {
                "data": page,
                "has_more": more,
                "first_id": page[0]["id"],
                "last_id": page[-1]["id"],
            },
        )

    def _gemini(self, request: Request) -> Response:
        start = int(request.args.get("pageToken", "0"))
        answer: dict[str, Any] = {"models": self.gemini[start : start + 2]}
        if start + 2 < len(self.gemini):
            answer["nextPageToken"] = str(start + 2)
        return self._page(request, "GEMINI_API_KEY", answer)

    def _gemini_one(self, request: Request) -> Response:
        name = request.path.removeprefix("/gemini/v1beta/")
        found = next((m for m in self.gemini if m["name"] == name), None)
        if found is None:
            return Response(
                '{"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}}',
                status=404,
            )
        return self._page(request, "GEMINI_API_KEY", found)

    def _openrouter(self, request: Request) -> Response:
        """The public list: no key needed; paged by links.next, one model a page."""
        offset = int(request.args.get("offset", "0"))
        answer: dict[str, Any] = {"data": self.openrouter[offset : offset + 1]}
        if offset + 1 < len(self.openrouter):
            answer["links"] = {"next": f"/openrouter/api/v1/models?offset={offset + 1}"}
        return Response(json.dumps(answer), content_type="application/json")


@pytest.fixture
def providers(httpserver: HTTPServer) -> Providers:
    return Providers(httpserver)


@pytest.fixture
def syncer(
    monkeypatch: pytest.MonkeyPatch, providers: Providers, database_url: str, tmp_path: Path
) -> Callable[..., Result]:
    """``syncer ARGS`` with a config of six kinds, the keys in their SDKs' variables."""
    for name in list(os.environ):
        ours = name.endswith("_API_KEY") or name.startswith(("OPENAI_", "SYNCER_"))
        if ours and name != "SYNCER_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    for name, key in KEYS.items():
        monkeypatch.setenv(name, key)
    monkeypatch.setenv("SYNCER_DATABASE_URL", database_url)
    config = tmp_path / "syncer.toml"
    config.write_text(
        f"""
[[sources]]
name = "openai"
base_url = "{providers.url("/openai/v1")}"

[[sources]]
name = "azure-eu"
kind = "azure"
base_url = "{providers.url("/azure")}"

[[sources]]
name = "claude"
kind = "anthropic"
base_url = "{providers.url("/anthropic/v1")}"

[[sources]]
name = "gem"
kind = "gemini"
base_url = "{providers.url("/gemini/v1beta")}"

[[sources]]
name = "openrouter"
kind = "openrouter"
base_url = "{providers.url("/openrouter/api/v1")}"

[[sources]]
name = "mistral"
kind = "mistral"
base_url = "{providers.url("/mistral/v1")}"
""",
        encoding="utf-8",
    )

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)

    return run


def rows(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    loaded: list[dict[str, Any]] = json.loads(result.stdout)
    return loaded


def test_six_kinds_sync_into_one_inventory(syncer: Callable[..., Result]) -> None:
    result = syncer("sync")

    assert result.exit_code == 0, result.output
    counts = {line.split(":")[0]: line.split()[1] for line in result.stdout.splitlines()}
    assert counts == {
        "openai": "2",
        "azure-eu": "1",
        "claude": "4",
        "gem": "3",
        "openrouter": "3",
        "mistral": "2",
    }
    claude = rows(syncer("models", "--kind", "anthropic", "--format", "json"))
    assert [(m["source"], m["model_id"], m["display_name"], m["context_length"]) for m in claude][
        :1
    ] == [("claude", "claude-haiku-4-5", "Claude Haiku-4-5", 200000)]
    assert {m["source"] for m in claude} == {"claude"} and len(claude) == 4
    picked = rows(syncer("models", "--source", "gem", "--source", "mistral", "--format", "json"))
    assert sorted(m["model_id"] for m in picked) == [
        "gemini-2.5-flash",
        "gemini-2.5-pro",
        "gemini-embedding-001",
        "magistral-medium-2509",
        "mistral-medium-2508",
    ]
    magistral = next(m for m in picked if m["model_id"] == "magistral-medium-2509")
    assert (magistral["shutdown_at"], magistral["replacement"]) == (
        "2026-07-31T12:00:00.000000Z",
        "mistral-medium-latest",
    )
    assert rows(syncer("models", "--kind", "cohere", "--format", "json")) == []


def test_sources_lists_each_kind_with_its_latest_sync_and_never_a_key(
    syncer: Callable[..., Result], providers: Providers
) -> None:
    syncer("sync")
    providers.mistral = []  # a held sync: the latest status is what sources shows
    syncer("sync", "--source", "mistral")

    listed = rows(syncer("sources", "--format", "json"))
    table = syncer("sources")

    assert [(s["name"], s["kind"], s["models"], s["last_status"]) for s in listed] == [
        ("openai", "openai", 2, "ok"),
        ("azure-eu", "azure", 1, "ok"),
        ("claude", "anthropic", 4, "ok"),
        ("gem", "gemini", 3, "ok"),
        ("openrouter", "openrouter", 3, "ok"),
        ("mistral", "mistral", 2, "held"),
    ]
    assert listed[2]["base_url"] == providers.url("/anthropic/v1")
    assert listed[2]["api_key_env"] == "ANTHROPIC_API_KEY" and listed[2]["key_set"] is True
    assert all(s["last_sync_at"].endswith("Z") for s in listed)
    for key in KEYS.values():
        assert key not in table.output and key not in json.dumps(listed)


def test_the_same_model_report_compares_sources_with_each_shutdown_date(
    syncer: Callable[..., Result],
) -> None:
    syncer("sync")

    report = rows(syncer("report", "same-models", "--format", "json"))

    offers = {(r["common_id"], r["source"]): (r["model_id"], r["shutdown_at"]) for r in report}
    assert offers == {
        ("gpt-4o", "azure-eu"): ("gpt-4o", "2026-11-30T00:00:00.000000Z"),
        ("gpt-4o", "openai"): ("gpt-4o", "2026-10-23T00:00:00.000000Z"),
        ("gpt-4o", "openrouter"): ("openai/gpt-4o", "2026-10-01T00:00:00.000000Z"),
        ("gemini-2.5-flash", "gem"): ("gemini-2.5-flash", None),
        ("gemini-2.5-flash", "openrouter"): ("google/gemini-2.5-flash", None),
        ("magistral-medium-2509", "mistral"): (
            "magistral-medium-2509",
            "2026-07-31T12:00:00.000000Z",
        ),
        ("magistral-medium-2509", "openrouter"): ("mistralai/magistral-medium-2509", None),
    }
    assert {r["sources"] for r in report if r["common_id"] == "gpt-4o"} == {3}
    only_gem = rows(syncer("report", "same-models", "--source", "gem", "--format", "json"))
    assert {r["common_id"] for r in only_gem} == {"gemini-2.5-flash"}
    assert {r["source"] for r in only_gem} == {"gem", "openrouter"}


def test_a_vanish_is_confirmed_where_the_kind_can_be_asked_and_believed_where_not(
    syncer: Callable[..., Result], providers: Providers, database_url: str
) -> None:
    syncer("sync")
    providers.gemini = providers.gemini[:2]
    providers.openrouter = providers.openrouter[:2]

    assert syncer("sync", "--source", "gem").exit_code == 0
    assert syncer("sync", "--source", "openrouter").exit_code == 0

    asked = [r.path for r in providers.requests("/gemini/v1beta/models/")]
    assert asked == ["/gemini/v1beta/models/gemini-embedding-001"]
    assert providers.requests("/openrouter/api/v1/models/") == []
    vanished = rows(syncer("events", "--kind", "vanished", "--format", "json"))
    assert sorted((e["source"], e["model_id"]) for e in vanished) == [
        ("gem", "gemini-embedding-001"),
        ("openrouter", "mistralai/magistral-medium-2509"),
    ]
    engine = make_engine(database_url)
    with read_session(engine) as session:
        stored = session.execute(text("SELECT raw FROM models")).scalars().all()
        kept = session.scalars(select(Model.model_id).where(Model.source == "gem")).all()
    engine.dispose()
    assert sorted(kept) == ["gemini-2.5-flash", "gemini-2.5-pro", "gemini-embedding-001"]
    for key in KEYS.values():
        assert all(key not in str(raw) for raw in stored)


@pytest.mark.parametrize(
    ("toml", "error"),
    [
        ('kind = "bedrock"', "sources[0].kind: unknown kind 'bedrock'"),
        ('kind = "azure"', "sources[0].base_url: required for kind 'azure'"),
        ('kind = "anthropic"\napi_key_env = "EMPTY_KEY"', "EMPTY_KEY is set but empty"),
    ],
)
def test_a_bad_kind_configuration_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, toml: str, error: str
) -> None:
    monkeypatch.setenv("EMPTY_KEY", "")
    config = tmp_path / "syncer.toml"
    config.write_text(f'[[sources]]\nname = "s"\n{toml}\n', encoding="utf-8")

    result = CliRunner().invoke(cli, ["--config", str(config), "sources"])

    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and error in result.stderr
    assert result.stderr.count("\n") == 1


def test_litellms_map_gives_dates_to_kinds_that_list_none_and_the_providers_win(
    syncer: Callable[..., Result], tmp_path: Path
) -> None:
    syncer("sync")
    prices = tmp_path / "model_prices_and_context_window.json"
    prices.write_text(
        json.dumps(
            {
                "sample_spec": {
                    "litellm_provider": "one of https://docs.litellm.ai/docs/providers",
                    "deprecation_date": "date when the model becomes deprecated",
                },
                "claude-opus-4": {
                    "litellm_provider": "anthropic",
                    "mode": "chat",
                    "deprecation_date": "2026-06-15",
                    "deprecation_source": "https://platform.claude.com/docs/en/about-claude/"
                    "model-deprecations",
                },
                "gpt-4o": {
                    "litellm_provider": "openai",
                    "mode": "chat",
                    "deprecation_date": "2026-03-31",
                },
                "gemini/gemini-2.5-pro": {
                    "litellm_provider": "gemini",
                    "deprecation_date": "2026-06-17",
                },
                "gemini/gemini-2.5-flash": {
                    "litellm_provider": "gemini",
                    "deprecation_date": "2026-09-01",
                },
                "bedrock/anthropic.claude-v2": {
                    "litellm_provider": "bedrock",
                    "deprecation_date": "2025-07-21",
                },
            }
        ),
        encoding="utf-8",
    )

    imported = syncer("deprecations", "import", str(prices))
    listed = rows(syncer("deprecations", "--format", "json"))
    changed = rows(syncer("events", "--kind", "shutdown_changed", "--format", "json"))

    assert imported.exit_code == 0, imported.output
    assert imported.stdout.strip() == (
        f"imported 4 shutdown date(s) from {prices}; 4 present model(s) got a new imported date"
    )
    assert imported.stderr.strip() == "skipped: 1 dated entries are for kinds no source has"
    by_model = {(r["source"], r["model_id"]): r for r in listed}
    opus = by_model["claude", "claude-opus-4"]
    assert (opus["shutdown_at"], opus["date_source"], opus["origin"]) == (
        "2026-06-15T00:00:00.000000Z",
        "imported",
        str(prices),
    )
    assert opus["source_url"].startswith("https://platform.claude.com/")
    assert by_model["gem", "gemini-2.5-pro"]["shutdown_at"] == "2026-06-17T00:00:00.000000Z"
    gpt = by_model["openai", "gpt-4o"]
    assert (gpt["shutdown_at"], gpt["date_source"], gpt["origin"]) == (
        "2026-10-23T00:00:00.000000Z",
        "provider",
        "provider",
    )
    assert sorted((e["source"], e["model_id"]) for e in changed) == [
        ("claude", "claude-opus-4"),
        ("gem", "gemini-2.5-flash"),
        ("gem", "gemini-2.5-pro"),
        ("openai", "gpt-4o"),
    ]
    assert all(e["details"]["date_source"] == "imported" for e in changed)
    compared = rows(syncer("report", "same-models", "--format", "json"))
    flash = {
        r["source"]: (r["shutdown_at"], r["date_source"])
        for r in compared
        if r["common_id"] == "gemini-2.5-flash"
    }
    assert flash == {"gem": ("2026-09-01T00:00:00.000000Z", "imported"), "openrouter": (None, None)}
    gpt_4o = {r["source"]: r["date_source"] for r in compared if r["common_id"] == "gpt-4o"}
    assert gpt_4o == {"openai": "provider", "azure-eu": "provider", "openrouter": "provider"}


def test_models_show_live_finds_a_model_in_the_list_where_the_kind_cannot_retrieve_one(
    syncer: Callable[..., Result], providers: Providers
) -> None:
    live = rows(
        syncer(
            "models",
            "show",
            "google/gemini-2.5-flash",
            "--source",
            "openrouter",
            "--live",
            "--format",
            "json",
        )
    )
    asked = rows(
        syncer("models", "show", "gemini-2.5-pro", "--source", "gem", "--live", "--format", "json")
    )

    assert [(r["source"], r["id"], r["name"]) for r in live] == [
        ("openrouter", "google/gemini-2.5-flash", "Google: Gemini 2.5 Flash")
    ]
    assert providers.requests("/openrouter/api/v1/models/") == []
    assert [(r["source"], r["name"]) for r in asked] == [("gem", "models/gemini-2.5-pro")]
    assert [r.path for r in providers.requests("/gemini/v1beta/models/")] == [
        "/gemini/v1beta/models/gemini-2.5-pro"
    ]
