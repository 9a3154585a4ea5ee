"""Every kind against a loopback server answering exactly as its provider's spec or SDK says.

Each test runs the real ``syncer sync`` on a SQLite file and on PostgreSQL against the
kind's fixture (``fixtures/``, copied from the session's shared specs; the comment beside
each case names the repository, path and commit it was built from), served in several
pages where the provider pages, and asserts that every listed model is stored with the
spec's fields in their columns and that a second sync of the same answer records no
change. What a shutdown date becomes is in the ``shutdown_at`` of each expected row.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from syncer.cli import cli
from syncer.words import counted
from tests.conftest import POSTGRES_VARIABLE

FIXTURES = Path(__file__).parent / "fixtures"
Handler = Callable[[Request], Response]


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def at(value: int | str | None) -> str | None:
    """A time as ``syncer models --format json`` writes it: unix seconds or an ISO date."""
    if value is None:
        return None
    moment = (
        datetime.fromtimestamp(value, UTC)
        if isinstance(value, int)
        else datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        if "T" in value
        else datetime.fromisoformat(value).replace(tzinfo=UTC)
    )
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row(
    owned_by: str | None = None,
    created: int | str | None = None,
    fine_tuned: bool = False,
    shutdown: int | str | None = None,
    name: str | None = None,
    context: int | None = None,
    replacement: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """The columns a listed model fills, as ``syncer models --format json`` shows them
    (``status``: the lifecycle status the kind's lifecycle field becomes)."""
    return {
        "owned_by": owned_by,
        "created_at": at(created),
        "is_fine_tuned": fine_tuned,
        "shutdown_at": at(shutdown),
        "display_name": name,
        "context_length": context,
        "replacement": replacement,
        "status": status,
    }


def answer(body: Any) -> Response:
    return Response(json.dumps(body), content_type="application/json")


def whole(name: str) -> Handler:
    """A kind that does not page: its whole list in one answer."""
    body = fixture(name)
    return lambda request: answer(body)


def after_id(name: str, size: int) -> Handler:
    """Anthropic (model_list_params.py): ``after_id`` the last id, while ``has_more``."""
    models = fixture(name)["data"]

    def serve(request: Request) -> Response:
        after = request.args.get("after_id")
        start = 0 if after is None else [m["id"] for m in models].index(after) + 1
        page = models[start : start + size]
        return answer(
            {
                "data": page,
                "has_more": start + size < len(models),
                "first_id": page[0]["id"],
                "last_id": page[-1]["id"],
            }
        )

    return serve


def page_token(name: str, items: str, token: str, param: str, size: int) -> Handler:
    """Gemini (``nextPageToken``/``pageToken``) and Cohere (``next_page_token``/``page_token``):
    an opaque token, left out on the last page."""
    models = fixture(name)[items]

    def serve(request: Request) -> Response:
        start = int(request.args.get(param, "0"))
        body: dict[str, Any] = {items: models[start : start + size]}
        if start + size < len(models):
            body[token] = str(start + size)
        return answer(body)

    return serve


def openrouter(name: str, path: str) -> Handler:
    """OpenRouter: ``output_modalities`` defaults to text (the spec, L34108-34113), and
    ``links.next`` pages by offset and limit, dropping the parameter as the spec's own
    example link does (L14401)."""
    models = fixture(name)["data"]

    def serve(request: Request) -> Response:
        listed = models
        if request.args.get("output_modalities") != "all":
            listed = [m for m in models if "text" in m["architecture"]["output_modalities"]]
        offset = int(request.args.get("offset", "0"))
        following = f"{path}?offset={offset + 1}&limit=1" if offset + 1 < len(listed) else None
        return answer(
            {
                "data": listed[offset : offset + 1],
                "links": {"next": following},
                "total_count": len(listed),
            }
        )

    return serve


def vllm(name: str) -> Handler:
    """vLLM builds every card per request: ``created`` is the request time and each
    ``permission`` has a new id (ModelCard, ModelPermission)."""
    body = fixture(name)
    answers = [0]

    def serve(request: Request) -> Response:
        answers[0] += 1
        now = 1796675143 + answers[0]
        for card in body["data"]:
            card["created"] = now
            for permission in card["permission"]:
                permission.update(id=f"modelperm-{answers[0]:032x}", created=now)
        return answer(body)

    return serve


@dataclass(frozen=True)
class Case:
    kind: str
    #: The path of the base URL on the loopback server (the provider's own base path).
    prefix: str
    #: Path under the server -> handler.
    routes: dict[str, Handler]
    #: Every model the answers list, by id, with the columns it must fill.
    expected: dict[str, dict[str, Any]]
    api: str | None = None
    #: Requests the provider pages over, at least (several pages where it pages).
    pages: int = 1


CASES = [
    # openai/openai-openapi openapi.yaml @ f85dbe22: GET /models (L8731), Model (L44370-44410).
    Case(
        "openai",
        "/v1",
        {"/v1/models": whole("openai.json")},
        {
            "model-id-0": row("organization-owner", 1686935002),
            "model-id-1": row("organization-owner", 1686935002),
            "model-id-2": row("openai", 1686935002, shutdown="2026-10-23"),
        },
    ),
    # Azure v1 (/openai/v1/models): OpenAI's Model with shutdown_date, as Microsoft documents
    # it (learn.microsoft.com, open-ai-models-retrieve-model; no public repository holds it).
    Case(
        "azure",
        "",
        {"/openai/v1/models": whole("azure-v1.json")},
        {
            "gpt-4o-2024-05-13": row("system", 1715558400, shutdown="2026-10-23"),
            "gpt-4.1": row("system", 1744588800),
        },
        api="v1",
    ),
    # Azure/azure-rest-api-specs specification/cognitiveservices/data-plane/AzureOpenAI/
    # authoring/stable/2024-10-21/examples/get_models.json @ 2131830c, verbatim.
    Case(
        "azure",
        "",
        {"/openai/models": whole("azure-classic.json")},
        {
            "curie": row(None, 1646126127, shutdown=1709284527, status="generally-available"),
            "curie.ft-72a2792ef7d24ba7b82c7fe4a37e379f": row(
                None,
                1646126127,
                fine_tuned=True,
                shutdown=1709284527,
                status="generally-available",
            ),
        },
        api="classic",
    ),
    # anthropics/anthropic-sdk-python src/anthropic/types/model_info.py @ e3010356 (and
    # model_list_params.py): created_at RFC 3339, the epoch when the date is unknown.
    Case(
        "anthropic",
        "/v1",
        {"/v1/models": after_id("anthropic.json", 2)},
        {
            "claude-sonnet-4-6": row(
                None, "2026-02-17T00:00:00Z", name="Claude Sonnet 4.6", context=1000000
            ),
            "claude-haiku-4-5-20251001": row(None, "2025-10-15T00:00:00Z", name="Claude Haiku 4.5"),
            "claude-3-haiku-20240307": row(None, None, name="Claude Haiku 3"),
        },
        pages=2,
    ),
    # googleapis/googleapis google/ai/generativelanguage/v1beta/model.proto and
    # tuned_model.proto @ 99b25248, model_service.proto @ 79c1b132 (ListModels,
    # ListTunedModels: page_size, page_token, next_page_token).
    Case(
        "gemini",
        "/v1beta",
        {
            "/v1beta/models": page_token("gemini.json", "models", "nextPageToken", "pageToken", 2),
            "/v1beta/tunedModels": page_token(
                "gemini-tuned.json", "tunedModels", "nextPageToken", "pageToken", 2
            ),
        },
        {
            "gemini-2.5-flash": row(name="Gemini 2.5 Flash", context=1048576),
            "gemini-2.5-pro": row(name="Gemini 2.5 Pro", context=1048576),
            "gemini-embedding-001": row(name="Gemini Embedding 001", context=2048),
            "tunedModels/sentence-translator-u3b7m": row(
                fine_tuned=True, name="Sentence Translator"
            ),
            "tunedModels/number-generator-model-dzvx2k": row(
                fine_tuned=True, name="number generator model"
            ),
            "tunedModels/az2mb0bpw6i": row(fine_tuned=True),
        },
        pages=4,
    ),
    # OpenRouterTeam/typescript-sdk .speakeasy/in.openapi.yaml @ cb9393a8: GET /models
    # (L34052), Model.expiration_date (L14065), links.next (L14401).
    Case(
        "openrouter",
        "/api/v1",
        {
            "/api/v1/models": openrouter("openrouter.json", "/api/v1/models"),
        },
        {
            "openai/gpt-4": row(
                None, 1692901234, shutdown="2026-10-23", name="GPT-4", context=8192
            ),
            "google/gemini-2.5-flash-image": row(
                None,
                1759000000,
                shutdown="2026-12-01",
                name="Gemini 2.5 Flash Image",
                context=32768,
            ),
            "openai/text-embedding-3-small": row(
                None, 1706140800, shutdown="2026-11-30", name="Text Embedding 3 Small", context=8192
            ),
        },
        pages=3,
    ),
    # mistralai/platform-docs-public public/openapi.yaml @ 222f4ba9: ModelList (L13810),
    # BaseModelCard (L13583), FTModelCard.
    Case(
        "mistral",
        "/v1",
        {"/v1/models": whole("mistral.json")},
        {
            "mistral-medium-2508": row("mistralai", 1766520693, context=131072),
            "magistral-medium-2509": row(
                "mistralai",
                1766520693,
                shutdown="2026-07-31T12:00:00Z",
                context=128000,
                replacement="mistral-medium-latest",
            ),
            "ft:open-mistral-7b:587a6b29:20240514:7e773925": row(
                "587a6b29", 1756746619, fine_tuned=True
            ),
        },
    ),
    # togethercomputer/openapi openapi.yaml @ 090263aa: GET /models (L1593), ModelInfoList
    # (L10630): a bare array.
    Case(
        "together",
        "/v1",
        {"/v1/models": whole("together.json")},
        {
            "Austism/chronos-hermes-13b": row(
                "Austism", 1692896905, name="Chronos Hermes (13B)", context=2048
            ),
        },
    ),
    # groq/groq-python src/groq/types/model.py @ ee9c1032, with the API reference's
    # active, context_window and public_apps.
    Case(
        "groq",
        "/openai/v1",
        {"/openai/v1/models": whole("groq.json")},
        {
            "llama-3.3-70b-versatile": row("Meta", 1733447754, context=131072),
        },
    ),
    # DeepSeek's "Lists Models" API page (api-docs.deepseek.com; no public repository):
    # OpenAI's shape without created.
    Case(
        "deepseek",
        "",
        {"/models": whole("deepseek.json")},
        {
            "deepseek-chat": row("deepseek"),
            "deepseek-reasoner": row("deepseek"),
        },
    ),
    # xai-org/xai-proto proto/xai/api/v1/models.proto @ 626a3a3f, as the OpenAI-compatible
    # GET /v1/models lists it.
    Case(
        "xai",
        "/v1",
        {"/v1/models": whole("xai.json")},
        {
            "grok-2": row("xai", 1714521600),
        },
    ),
    # cohere-ai/cohere-developer-experience cohere-openapi.yaml @ e814c8a1: GET /v1/models
    # (L20386), GetModelResponse (L28231), ListModelsResponse (L28311).
    Case(
        "cohere",
        "/v1",
        {
            "/v1/models": page_token("cohere.json", "models", "next_page_token", "page_token", 2),
        },
        {
            "command-a-03-2025": row(context=256000),
            # GetModelResponse.is_deprecated (L28242): true is the status "deprecated".
            "command-r-03-2024": row(context=128000, status="deprecated"),
            "embed-v4.0": row(context=128000),
        },
        pages=2,
    ),
    # ollama/ollama openai/openai.go @ fb30760996871fa94601
    # 15c753afd2c60d4ab0f7 (2026-08-21), ToListCompletion (L450): id, object, created
    # (ModifiedAt), owned_by (model.ParseName(id).Namespace: "library" for official models).
    Case(
        "ollama",
        "/v1",
        {"/v1/models": whole("ollama.json")},
        {
            "llama3.2:latest": row("library", 1730000000),
            "hf.co/bartowski/Qwen3-8B-GGUF:Q4_K_M": row("bartowski", 1735000000),
        },
    ),
    # vllm-project/vllm vllm/entrypoints/openai/engine/protocol.py @ d7e52523, ModelCard
    # and ModelPermission, built anew for every request.
    Case(
        "vllm",
        "/v1",
        {"/v1/models": vllm("vllm.json")},
        {
            "meta-llama/Llama-3.1-8B-Instruct": row("vllm", context=131072),
            "sql-lora": row("vllm", fine_tuned=True),
        },
    ),
    # BerriAI/litellm litellm/proxy/proxy_server.py @ 9344afb2, model_list: a constant
    # created and owned_by "openai" for every model (neither stored as the model's).
    Case(
        "litellm",
        "/v1",
        {"/v1/models": whole("litellm.json")},
        {
            "gpt-4o": row(context=128000),
            "meta-llama/Llama-3.1-8B-Instruct": row(),
        },
    ),
]


def case_id(case: Case) -> str:
    return f"{case.kind}-{case.api}" if case.api else case.kind


@pytest.fixture
def syncer(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> Callable[[Case, str], Callable[..., Result]]:
    """``syncer ARGS`` with one source of the case's kind at ``base_url``, no key."""
    for name in list(os.environ):
        ours = name.endswith("_API_KEY") or name.startswith(("OPENAI_", "SYNCER_"))
        if ours and name != POSTGRES_VARIABLE:
            monkeypatch.delenv(name)
    monkeypatch.setenv("SYNCER_DATABASE_URL", database_url)

    def configure(case: Case, base_url: str, **extra: str) -> Callable[..., Result]:
        config = tmp_path / "syncer.toml"
        lines = ["[[sources]]", 'name = "src"', f'kind = "{case.kind}"', f'base_url = "{base_url}"']
        lines += [f'api = "{case.api}"'] if case.api else []
        lines += [f"{key} = {value}" for key, value in extra.items()]
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")

        def run(*args: str) -> Result:
            return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)

        return run

    return configure


def stored(run: Callable[..., Result]) -> dict[str, dict[str, Any]]:
    shown = run("models", "--format", "json")
    assert shown.exit_code == 0, shown.output
    return {m["model_id"]: {k: m[k] for k in row()} for m in json.loads(shown.stdout)}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_every_listed_model_is_stored_as_the_spec_says_and_a_resync_changes_nothing(
    case: Case, httpserver: HTTPServer, syncer: Callable[..., Callable[..., Result]]
) -> None:
    for path, handler in case.routes.items():
        httpserver.expect_request(path, method="GET").respond_with_handler(handler)
    run = syncer(case, httpserver.url_for(case.prefix).rstrip("/"))

    first = run("sync")
    second = run("sync")

    assert first.exit_code == 0, first.output
    listed = len(case.expected)
    models = counted(listed, "model")
    assert first.stdout.startswith(f"src: {models}, {listed} added, 0 vanished"), first.output
    assert len(httpserver.log) >= 2 * case.pages
    assert stored(run) == case.expected
    assert second.exit_code == 0, second.output
    assert f"src: {models}, 0 added, 0 vanished, 0 reappeared, 0 changed" in (second.stdout)
    events = json.loads(run("events", "--format", "json").stdout)
    assert sorted(e["kind"] for e in events) == ["added"] * listed
