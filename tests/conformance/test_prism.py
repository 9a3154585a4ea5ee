"""The five providers' own OpenAPI documents served by Prism, statically and dynamically.

Prism (npm ``@stoplight/prism-cli``, installed by ``.ci/run`` into ``.ci/node``) answers
each list request as the spec says: in static mode with the spec's example (or one built
from its schema), in dynamic mode with one generated from the schema, deterministically
(``--seed``); a source's ``Prefer: dynamic=true`` header picks the mode, so one Prism per
spec serves both. Prism ignores a spec's ``servers`` base path, so each document is served
with its paths under that path (``specs/*.yaml`` are the shared copies; see
``README.md`` beside them). syncer must store whatever a spec-valid answer holds, verbatim, and
record no change on a second sync; where the answer cannot be a list syncer can store, it
fails with one clear line, stores nothing and records a failed run.

Prism keeps no state between requests, so on its own it cannot page: with a seed every
answer is the same page (Cohere's ``next_page_token`` never changes, and syncer refuses a
provider that never stops paging), and OpenRouter's example has no ``links``. The paging of
those two kinds is proved by ``test_paging_against_the_spec``: a loopback router in front
of the same Prism serves page 1 as Prism's static answer and forwards syncer's request for
page 2, as syncer sends it, to Prism's dynamic mode (Prism validates its query against the
spec's parameters: a wrong one is a 422 or 400, and the sync fails). The router changes
only the paging field, to what the spec itself says: OpenRouter's page 1 gets the link of
the spec's own ``ModelsListResponse`` example, and the last page says it is the last
(Cohere: no ``next_page_token``, optional in its schema; OpenRouter: ``links.next`` null).
Every page served is validated against the spec's response schema.

Without Prism these tests skip, unless SYNCER_REQUIRE_PRISM=1 (CI), where they fail.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import pytest
import requests
import yaml
from click.testing import CliRunner, Result
from jsonschema import Draft202012Validator
from pytest_httpserver import HTTPServer
from sqlalchemy import text
from werkzeug import Request, Response

from syncer.cli import cli
from syncer.db.engine import make_engine
from syncer.providers.profile import profile_for
from syncer.words import counted
from tests.conftest import POSTGRES_VARIABLE
from tests.fakes import closed_port

pytestmark = pytest.mark.slow

SPECS = Path(__file__).parent / "specs"
PRISM = Path(__file__).parents[2] / ".ci" / "node" / "node_modules" / ".bin" / "prism"
KEY = "sk-conformance-0123456789"
STARTUP = 120.0


@dataclass(frozen=True)
class Spec:
    kind: str
    #: What syncer does with each mode's answer: None, it stores the models; else the words
    #: of the one line it fails with.
    static: str | None
    dynamic: str | None
    #: The seed of its generated answers (a generated answer is the same for every request).
    seed: str = "7"


SPEC_CASES = [
    Spec("openai", None, None),
    # The list example (public/openapi.yaml L937-955) is a bare array, against ModelList.
    Spec("mistral", "expected a JSON object, got a list", None),
    # Prism answers every page with the same next_page_token (the schema's "string", or a
    # generated one): a provider that never stops paging is refused, not followed forever.
    # test_paging_against_the_spec pages it.
    Spec("cohere", "pagination did not advance", "pagination did not advance"),
    # The operation's example has no links (the schema requires them): one page. Seed 4
    # generates a last page (links.next null); most seeds generate a links.next that is
    # not a path the spec serves. test_paging_against_the_spec pages it.
    Spec("openrouter", None, None, seed="4"),
    Spec("together", None, None),
]


def prism_binary() -> Path | None:
    if PRISM.exists():
        return PRISM
    if os.environ.get("SYNCER_REQUIRE_PRISM") == "1":
        pytest.fail(f"SYNCER_REQUIRE_PRISM=1 but Prism is not installed at {PRISM}")
    return None


def served_document(kind: str, folder: Path) -> Path:
    """The spec with its paths under its servers' base path, which Prism ignores."""
    document = yaml.safe_load((SPECS / f"{kind}.yaml").read_text(encoding="utf-8"))
    base = urlsplit(document["servers"][0]["url"]).path.rstrip("/")
    document["paths"] = {base + path: item for path, item in document["paths"].items()}
    served = folder / f"{kind}.json"
    served.write_text(json.dumps(document), encoding="utf-8")
    return served


class Prisms:
    """One Prism per spec for the session, started together on first use."""

    def __init__(self, binary: Path, folder: Path) -> None:
        self.urls: dict[str, str] = {}
        #: Each Prism's root (its paths are the spec's under the servers' base path).
        self.roots: dict[str, str] = {}
        self.documents: dict[str, Any] = {}
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[IO[bytes]] = []
        ports = {}
        for spec in SPEC_CASES:
            document = served_document(spec.kind, folder)
            self.documents[spec.kind] = json.loads(document.read_text(encoding="utf-8"))
            port = closed_port()
            ports[spec.kind] = port
            log = (folder / f"{spec.kind}.log").open("wb")
            self.logs.append(log)
            self.processes.append(
                subprocess.Popen(
                    [
                        str(binary),
                        "mock",
                        "-h",
                        "127.0.0.1",
                        "-p",
                        str(port),
                        "--seed",
                        spec.seed,
                        "-v",
                        "warn",
                        str(document),
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            # The kind's own base path, under which its list path is the spec's served path.
            base = urlsplit(profile_for(spec.kind).default_base_url or "").path.rstrip("/")
            self.roots[spec.kind] = f"http://127.0.0.1:{port}"
            self.urls[spec.kind] = f"http://127.0.0.1:{port}{base}"
        deadline = time.monotonic() + STARTUP
        for kind, port in ports.items():
            while not _listening(port):
                if time.monotonic() > deadline:
                    self.close()
                    pytest.fail(f"Prism did not start for {kind} in {STARTUP:.0f} s")
                time.sleep(0.2)

    def close(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self.logs:
            log.close()


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="session")
def prisms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prisms]:
    binary = prism_binary()
    if binary is None:
        pytest.skip("Prism is not installed (bash .ci/run installs it into .ci/node)")
    started = Prisms(binary, tmp_path_factory.mktemp("prism"))
    yield started
    started.close()


@pytest.fixture
def syncer(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> Callable[..., Callable[..., Result]]:
    for name in list(os.environ):
        ours = name.endswith("_API_KEY") or name.startswith(("OPENAI_", "SYNCER_"))
        if ours and name != POSTGRES_VARIABLE:
            monkeypatch.delenv(name)
    monkeypatch.setenv("SYNCER_DATABASE_URL", database_url)

    def configure(kind: str, base_url: str, dynamic: bool | None) -> Callable[..., Result]:
        """A source of ``kind``; ``dynamic`` None: no ``Prefer`` header (the router's)."""
        variable = profile_for(kind).key_env
        assert variable is not None
        monkeypatch.setenv(variable, KEY)  # Prism answers 401 to a request without one
        config = tmp_path / "syncer.toml"
        prefer = (
            ""
            if dynamic is None
            else (f'headers = {{ Prefer = "dynamic={str(dynamic).lower()}" }}\n')
        )
        config.write_text(
            f'[[sources]]\nname = "src"\nkind = "{kind}"\nbase_url = "{base_url}"\n{prefer}',
            encoding="utf-8",
        )
        config.chmod(0o600)  # headers are secrets: readable by others, the config adds a warning

        def run(*args: str) -> Result:
            return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)

        return run

    return configure


def prism_answer(kind: str, base_url: str, dynamic: bool) -> Any:
    """What Prism answers the list request, as syncer sends it (the seed makes it the same)."""
    profile = profile_for(kind)
    response = requests.get(
        base_url + profile.list_path,
        params=dict(profile.list_query),
        timeout=30,
        headers={"Authorization": f"Bearer {KEY}", "Prefer": f"dynamic={str(dynamic).lower()}"},
    )
    response.raise_for_status()
    return response.json()


def stored_raw(database_url: str) -> dict[str, Any]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT model_id, raw FROM model_state WHERE source = 'src'")
            ).all()
    finally:
        engine.dispose()
    return {model_id: raw if isinstance(raw, dict) else json.loads(raw) for model_id, raw in rows}


@pytest.mark.parametrize("dynamic", [False, True], ids=["static", "dynamic"])
@pytest.mark.parametrize("spec", SPEC_CASES, ids=lambda spec: spec.kind)
def test_a_prism_answer_is_stored_verbatim_or_refused_in_one_line(
    spec: Spec,
    dynamic: bool,
    prisms: Prisms,
    syncer: Callable[..., Callable[..., Result]],
    database_url: str,
) -> None:
    base_url = prisms.urls[spec.kind]
    run = syncer(spec.kind, base_url, dynamic)
    failure = spec.dynamic if dynamic else spec.static

    first = run("sync")

    if failure is not None:
        assert first.exit_code == 1, first.output
        [line] = first.output.strip().splitlines()
        assert line.startswith("Error: src: FAILED") and failure in line, line
        assert KEY not in first.output
        assert stored_raw(database_url) == {}
        runs = json.loads(run("runs", "--format", "json").stdout)
        assert [r["status"] for r in runs] == ["failed"]
        return
    body = prism_answer(spec.kind, base_url, dynamic)
    profile = profile_for(spec.kind)
    listed = body if profile.items is None else body[profile.items]
    assert first.exit_code == 0, first.output
    assert listed, "Prism listed no model"
    key = profile.fields.id
    assert as_numbers(stored_raw(database_url)) == as_numbers(
        {model[key]: model for model in listed}
    )
    second = run("sync")
    models = counted(len(listed), "model")
    assert f"src: {models}, 0 added, 0 vanished, 0 reappeared, 0 changed" in (second.stdout), (
        second.output
    )


def as_numbers(value: Any) -> Any:
    """``value`` with every number a float: PostgreSQL's jsonb keeps a number, not how it
    was written, so Prism's generated ``1.8602866357503833e+38`` reads back as the integer
    186028663575038330000000000000000000000 (the same number)."""
    if isinstance(value, dict):
        return {name: as_numbers(item) for name, item in value.items()}
    if isinstance(value, list):
        return [as_numbers(item) for item in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


@dataclass(frozen=True)
class Paging:
    """How a kind's list says there is a next page, as its spec writes it."""

    kind: str
    #: The list response's schema in the spec.
    schema: str
    #: Page 1 as the router serves it, from Prism's static answer and the spec's document.
    first: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]
    #: The last page, from Prism's dynamic answer to syncer's request for it.
    last: Callable[[dict[str, Any]], dict[str, Any]]


def _cohere_last(page: dict[str, Any]) -> dict[str, Any]:
    """``next_page_token`` is optional in ListModelsResponse: without it, no next page."""
    return {name: value for name, value in page.items() if name != "next_page_token"}


def _openrouter_first(page: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """The operation's example lacks ``links`` and ``total_count``, which its schema
    requires: the schema's own example gives them (``links.next``:
    ``/api/v1/models?offset=500&limit=500``)."""
    schema = document["components"]["schemas"]["ModelsListResponse"]
    return {**{name: schema["example"][name] for name in schema["required"]}, **page}


PAGING_CASES = [
    Paging("cohere", "ListModelsResponse", lambda page, document: page, _cohere_last),
    # ModelsListResponse.links.next: "URL for the next page of results, or null if this is
    # the last page".
    Paging(
        "openrouter",
        "ModelsListResponse",
        _openrouter_first,
        lambda page: {**page, "links": {**page["links"], "next": None}},
    ),
]


def response_validator(document: dict[str, Any], schema: str) -> Draft202012Validator:
    """The spec's response schema (OpenAPI 3.1: JSON Schema 2020-12), its refs resolved in
    the document."""
    return Draft202012Validator(
        {"$ref": f"#/components/schemas/{schema}", "components": document["components"]}
    )


class PagingRouter:
    """Page 1: Prism's static answer; every later request, as syncer sent it: Prism's
    dynamic answer, marked as the last page. Each page is checked against the spec."""

    def __init__(self, server: HTTPServer, prisms: Prisms, paging: Paging) -> None:
        self.prism = prisms.roots[paging.kind]
        self.document = prisms.documents[paging.kind]
        self.paging = paging
        self.validator = response_validator(self.document, paging.schema)
        #: (query, page served) of every request, in order.
        self.served: list[tuple[dict[str, str], dict[str, Any]]] = []
        #: Why a page was not valid by the spec's schema (then it is answered 500).
        self.invalid: list[str] = []
        server.expect_request(
            urlsplit(profile_for(paging.kind).default_base_url or "").path
            + profile_for(paging.kind).list_path
        ).respond_with_handler(self._page)

    def _page(self, request: Request) -> Response:
        first = not any(name in request.args for name in ("page_token", "offset", "limit"))
        answer = requests.get(
            self.prism + request.path,
            params=list(request.args.items(multi=True)),
            headers={
                "Authorization": request.headers.get("Authorization", ""),
                "Prefer": f"dynamic={str(not first).lower()}",
            },
            timeout=30,
        )
        if answer.status_code != 200:  # Prism refused the request: the spec's parameters
            return Response(
                answer.content, status=answer.status_code, content_type="application/json"
            )
        body = answer.json()
        page = self.paging.first(body, self.document) if first else self.paging.last(body)
        errors = [error.message for error in self.validator.iter_errors(page)]
        if errors:
            self.invalid += errors
            return Response("not valid by the spec", status=500)
        self.served.append((dict(request.args), page))
        return Response(json.dumps(page), content_type="application/json")


@pytest.mark.parametrize("paging", PAGING_CASES, ids=lambda paging: paging.kind)
def test_paging_against_the_spec(
    paging: Paging,
    prisms: Prisms,
    httpserver: HTTPServer,
    syncer: Callable[..., Callable[..., Result]],
    database_url: str,
) -> None:
    router = PagingRouter(httpserver, prisms, paging)
    base = urlsplit(profile_for(paging.kind).default_base_url or "").path.rstrip("/")
    run = syncer(paging.kind, httpserver.url_for(base), None)

    first = run("sync")

    assert router.invalid == []
    assert first.exit_code == 0, first.output[-2000:]
    queries = [query for query, _ in router.served]
    if paging.kind == "cohere":
        # page_size=1000, then page 1's next_page_token, as the spec's parameters say.
        token = router.served[0][1]["next_page_token"]
        assert queries == [{"page_size": "1000"}, {"page_size": "1000", "page_token": token}]
    else:
        # The spec's example link drops output_modalities; syncer keeps it on the link.
        assert queries == [
            {"output_modalities": "all"},
            {"offset": "500", "limit": "500", "output_modalities": "all"},
        ]
    profile = profile_for(paging.kind)
    key, items = profile.fields.id, profile.items
    assert items is not None
    listed = [model for _, page in router.served for model in page[items]]
    assert len({model[key] for model in listed}) == len(listed) > 1
    assert as_numbers(stored_raw(database_url)) == as_numbers(
        {model[key]: model for model in listed}
    )
    second = run("sync")
    models = counted(len(listed), "model")
    assert f"src: {models}, 0 added, 0 vanished, 0 reappeared, 0 changed" in (second.stdout), (
        second.output
    )
