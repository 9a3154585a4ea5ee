"""``syncer doctor`` tells a new user what is wrong with a setup, and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import inspect

from syncer.cli import cli
from syncer.db import locks, migrate
from syncer.db.engine import make_engine
from tests.conftest import API_KEY, FakeProvider, clear_settings_env, closed_port
from tests.receivers import Receiver

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


def tables(database_url: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_working_setup_passes_and_names_each_part(
    doctor: Doctor, provider: FakeProvider, receiver: Receiver, database_url: str,
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
    provider.fail_next(401, '{"error": {"message": "Incorrect API key provided: '
                       + API_KEY + '", "code": "invalid_api_key"}}')
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
    assert "FAIL  database: " in out and "run `syncer db upgrade`" in out
    assert (f"FAIL  source wrongkey: GET {provider.base_url}/models: 401 Unauthorized: the API "
            "key is wrong or missing (Incorrect API key provided: sk-***)") in out
    assert "-> set WRONG_KEY to a valid API key for this provider" in out
    assert "FAIL  source down: " in out and "cannot connect: Connection refused" in out
    assert "WARN  source down: openai at http://127.0.0.1:" in out  # no key set for it
    assert "FAIL  alert hook: webhook: the variable HOOK_URL is not set" in out
    assert "-> set HOOK_URL where syncer runs" in out
    assert out.splitlines()[-1] == "4 problem(s), 1 warning(s): fix the FAIL lines above."
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
