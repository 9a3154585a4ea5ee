"""``syncer doctor`` tells a new user what is wrong with a setup, and changes nothing."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from sqlalchemy import inspect
from werkzeug import Request, Response

from syncer.cli import cli
from syncer.db import locks, migrate
from syncer.db.engine import make_engine
from tests.conftest import clear_settings_env
from tests.fakes import API_KEY, FakeProvider, closed_port
from tests.mounts import freeze, tmpfs
from tests.receivers import Receiver

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
#: What doctor advises for a provider it cannot reach, or that does not answer in time.
UNREACHABLE = (
    "      -> is the server at {} up and reachable from here? Behind a proxy, set HTTPS_PROXY"
)

Doctor = Callable[..., Result]


@pytest.fixture
def doctor(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Doctor:
    """``syncer [--config FILE] doctor`` with only the variables a test sets."""
    clear_settings_env(monkeypatch)
    monkeypatch.setenv("SYNCER_DATABASE_URL", database_url)

    def run(config: Path | None = None, **env: str) -> Result:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        args = ["--config", str(config)] if config else []
        return CliRunner().invoke(cli, [*args, "doctor"], catch_exceptions=False)

    return run


def source(name: str, base_url: str, *lines: str) -> str:
    return "\n".join([f'[[sources]]\nname = "{name}"\nbase_url = "{base_url}"', *lines, ""])


def migrated(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    engine.dispose()


@pytest.fixture
def slow_provider() -> Iterator[str]:
    """The base URL of a provider that takes 10 s to answer its list."""
    released = threading.Event()

    def hang(_request: Request) -> Response:
        released.wait(10)
        return Response('{"object": "list", "data": []}', content_type="application/json")

    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/v1/models").respond_with_handler(hang)
    server.start()
    yield server.url_for("/v1")
    released.set()
    server.clear()
    server.stop()


def tables(database_url: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_working_setup_passes_and_names_each_part(
    doctor: Doctor,
    provider: FakeProvider,
    receiver: Receiver,
    database_url: str,
    tmp_path: Path,
) -> None:
    provider.set("gpt-4o", "o1")
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    with locks.lease(engine, "sync:openai", holder="web-1:7"):
        pass
    engine.dispose()
    config = tmp_path / "syncer.toml"
    config.write_text(
        f'[[sources]]\nname = "openai"\nbase_url = "{provider.base_url}"\n'
        'api_key_env = "MY_KEY"\n\n'
        '[[alerts]]\nname = "hook"\nkind = "events"\nwebhook_url_env = "HOOK_URL"\n'
        'secret_env = "HOOK_SECRET"\n'
    )

    result = doctor(config, MY_KEY=API_KEY, HOOK_URL=receiver.url, HOOK_SECRET="s3cr3t-value")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"OK    config: loaded {config}: 1 source(s): openai" in lines
    assert f"OK    source openai: openai at {provider.base_url}, key from MY_KEY" in lines
    answered = f"OK    source openai: {provider.base_url} answered with 2 models; the key works"
    assert answered in lines
    assert "OK    lease sync:openai: free (last held by web-1:7)" in lines
    assert "OK    alert hook: events rule to webhook (signed) via HOOK_URL" in lines
    assert "WARN  source openai: never synced" in lines
    assert any(line.startswith("OK    database: ") and "(current)" in line for line in lines)
    assert lines[-1] == "no problems found, 1 warning(s)."
    for secret in (API_KEY, receiver.url, "s3cr3t-value"):
        assert secret not in result.output
    # One authenticated GET of the list, nothing else.
    assert [(r.method, r.path) for r in provider.requests] == [("GET", "/v1/models")]
    assert provider.requests[0].headers["Authorization"] == f"Bearer {API_KEY}"


def test_a_broken_setup_gets_one_finding_and_one_fix_per_problem(
    doctor: Doctor, provider: FakeProvider, database_url: str, tmp_path: Path
) -> None:
    provider.fail_next(
        401,
        '{"error": {"message": "Incorrect API key provided: '
        + API_KEY
        + '", "code": "invalid_api_key"}}',
    )
    config = tmp_path / "syncer.toml"
    config.write_text(
        f'[[sources]]\nname = "wrongkey"\nbase_url = "{provider.base_url}"\n'
        'api_key_env = "WRONG_KEY"\n\n'
        f'[[sources]]\nname = "down"\nbase_url = "http://127.0.0.1:{closed_port()}/v1"\n\n'
        '[[alerts]]\nname = "hook"\nkind = "events"\nwebhook_url_env = "HOOK_URL"\n'
    )

    result = doctor(config, WRONG_KEY=API_KEY)

    assert result.exit_code == 1
    out = result.output
    if database_url.startswith("sqlite"):  # no file yet: the first sync creates it
        assert "WARN  database: " in out and "`syncer sync` will create it" in out
    else:
        assert "FAIL  database: " in out and "run `syncer db upgrade`" in out
    assert (
        f"FAIL  source wrongkey: GET {provider.base_url}/models: 401 Unauthorized: the API "
        "key is wrong or missing (Incorrect API key provided: sk-***)"
    ) in out
    assert "-> set WRONG_KEY to a valid API key for this provider" in out
    assert "FAIL  source down: " in out and "cannot connect: Connection refused" in out
    assert "WARN  source down: openai at http://127.0.0.1:" in out  # no key set for it
    assert "FAIL  alert hook: webhook: the variable HOOK_URL is not set" in out
    assert "-> set HOOK_URL where syncer runs" in out
    counts = "3 problem(s), 2" if database_url.startswith("sqlite") else "4 problem(s), 1"
    assert out.splitlines()[-1] == f"{counts} warning(s): fix the FAIL lines above."
    assert API_KEY not in out
    assert "Traceback" not in out
    # Nothing was created or migrated.
    if database_url.startswith("sqlite"):
        assert not Path(database_url.removeprefix("sqlite:///")).exists()
    else:
        assert tables(database_url) == []


def test_an_empty_database_is_reported_and_left_empty(
    doctor: Doctor, provider: FakeProvider, database_url: str
) -> None:
    provider.set("gpt-4o")
    engine = make_engine(database_url)
    with engine.connect():
        pass  # the file exists (SQLite), with no tables
    engine.dispose()

    result = doctor(OPENAI_BASE_URL=provider.base_url, OPENAI_API_KEY=API_KEY)

    assert result.exit_code == 1
    assert "reachable, but empty (no syncer schema)" in result.output
    assert "-> run `syncer db upgrade`" in result.output
    assert tables(database_url) == []


def test_a_bad_config_file_is_one_finding(doctor: Doctor, tmp_path: Path) -> None:
    config = tmp_path / "syncer.toml"
    config.write_text('[schedule]\nevery = "soon"\n')

    result = doctor(config)

    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        f"FAIL  config: {config}: schedule.every: 'soon' is not a duration like "
        "'15m', '12h' or '7d'"
    )


def test_a_refused_connection_is_advised_to_check_the_server(
    doctor: Doctor, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    config = tmp_path / "syncer.toml"
    config.write_text(source("down", url))

    result = doctor(config)

    assert result.exit_code == 1
    lines = result.output.splitlines()
    at = lines.index(f"FAIL  source down: GET {url}/models: cannot connect: Connection refused")
    assert lines[at + 1] == UNREACHABLE.format(url)


def test_a_provider_that_does_not_answer_in_time_is_advised_to_check_the_server(
    doctor: Doctor, slow_provider: str, tmp_path: Path
) -> None:
    config = tmp_path / "syncer.toml"
    config.write_text("[http]\nread_timeout = 0.3\n\n" + source("slow", slow_provider))

    result = doctor(config)

    assert result.exit_code == 1
    lines = result.output.splitlines()
    at = lines.index(f"FAIL  source slow: GET {slow_provider}/models: timed out after 0.3 s")
    assert lines[at + 1] == UNREACHABLE.format(slow_provider)


def test_a_provider_whose_words_mention_tls_is_not_advised_about_certificates(
    doctor: Doctor, provider: FakeProvider, tmp_path: Path
) -> None:
    """The advice follows the kind of failure, not the words: a page that talks of a
    certificate is still a page that is not a model list."""
    provider.fail_next(200, "<html>TLS certificate expired</html>")
    config = tmp_path / "syncer.toml"
    config.write_text(source("proxy", provider.base_url))

    result = doctor(config)

    assert result.exit_code == 1
    lines = result.output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("FAIL  source proxy: "))
    assert lines[at].endswith("is not JSON (text/html): <html>TLS certificate expired</html>")
    assert lines[at + 1] == (
        "      -> the provider does not answer as an OpenAI-compatible "
        "list: check base_url and kind"
    )


def test_an_ollama_source_needs_no_key_and_is_not_told_to_set_one(
    doctor: Doctor, provider: FakeProvider, database_url: str, tmp_path: Path
) -> None:
    provider.set("llama3.2:latest", "qwen3:8b")
    migrated(database_url)
    config = tmp_path / "syncer.toml"
    config.write_text(source("local", provider.base_url, 'kind = "ollama"'))

    result = doctor(config)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"OK    source local: ollama at {provider.base_url}, no key (ollama takes none)" in lines
    assert f"OK    source local: {provider.base_url} answered with 2 models" in lines
    assert "API_KEY" not in result.output
    assert "Authorization" not in provider.requests[0].headers


@SQLITE_ONLY
def test_before_the_first_sync_a_missing_sqlite_file_is_a_warning_and_stays_missing(
    doctor: Doctor, provider: FakeProvider, database_url: str
) -> None:
    provider.set("gpt-4o")

    result = doctor(OPENAI_BASE_URL=provider.base_url, OPENAI_API_KEY=API_KEY)

    assert result.exit_code == 0, result.output
    path = Path(database_url.removeprefix("sqlite:///"))
    lines = result.output.splitlines()
    assert (
        f"WARN  database: {database_url}: no database file at {path} yet: `syncer sync` "
        "will create it"
    ) in lines
    assert lines[-1] == "no problems found, 1 warning(s)."
    assert not path.exists()


@SQLITE_ONLY
def test_a_sqlite_file_on_a_read_only_filesystem_gets_sqlite_advice(
    doctor: Doctor, provider: FakeProvider, database_url: str, tmp_path: Path
) -> None:
    provider.set("gpt-4o")
    migrated(database_url)
    with tmpfs(tmp_path / "snapshot") as snapshot:
        shutil.copy(database_url.removeprefix("sqlite:///"), snapshot / "syncer.db")
        freeze(snapshot)
        url = f"sqlite:///{snapshot / 'syncer.db'}"

        result = doctor(
            SYNCER_DATABASE_URL=url, OPENAI_BASE_URL=provider.base_url, OPENAI_API_KEY=API_KEY
        )

    assert result.exit_code == 1
    lines = result.output.splitlines()
    at = lines.index(
        f"FAIL  database: {url}: {snapshot} is on a read-only filesystem: "
        f"`syncer sync` cannot write {snapshot / 'syncer.db'}"
    )
    assert lines[at + 1] == (
        "      -> set database_url to a file on a writable filesystem; "
        "the read commands (models, report) can still read this one"
    )
    assert lines[at + 2].startswith(f"OK    database: {url}: reachable, schema at revision ")
    assert "WARN  source openai: never synced" in lines  # the history is still read
    assert "psql" not in result.output


@SQLITE_ONLY
def test_a_sqlite_file_that_cannot_be_created_is_a_problem_before_the_first_sync(
    doctor: Doctor, provider: FakeProvider, tmp_path: Path
) -> None:
    provider.set("gpt-4o")
    with tmpfs(tmp_path / "snapshot") as snapshot:
        freeze(snapshot)
        url = f"sqlite:///{snapshot / 'syncer.db'}"

        result = doctor(
            SYNCER_DATABASE_URL=url, OPENAI_BASE_URL=provider.base_url, OPENAI_API_KEY=API_KEY
        )

    assert result.exit_code == 1
    assert (
        f"FAIL  database: {url}: {snapshot} is on a read-only filesystem: `syncer sync` "
        f"cannot create {snapshot / 'syncer.db'}"
    ) in result.output.splitlines()
