"""``syncer sync`` and ``syncer run``: ports, logging, the schedule, many sources at once."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from syncer.cli import cli
from syncer.db.engine import make_engine, read_session
from syncer.db.revision import HEAD
from syncer.db.schema import ModelEvent, SyncRun
from tests.conftest import clear_settings_env
from tests.fakes import API_KEY, FakeProvider, closed_port
from tests.gate import GateProvider
from tests.processes import clean_env, run_until, syncer

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (DEBUG|INFO) ")


def one_error_line(stderr: str) -> str:
    """The one line of the error; `run` logs at INFO by default, so info lines may precede it."""
    lines = [line for line in stderr.strip().splitlines() if not LOG_LINE.match(line)]
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    return lines[0]


def own_lines(stderr: str) -> list[str]:
    """syncer's lines, without the in-process test servers' request log."""
    return [line for line in stderr.splitlines() if " werkzeug: " not in line]


@pytest.fixture
def taken_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_run_with_the_metrics_port_taken_is_one_line_naming_the_address(
    provider: FakeProvider, tmp_path: Path, taken_port: int
) -> None:
    database = tmp_path / "syncer.db"
    result = syncer(
        "--base-url",
        provider.base_url,
        "--database-url",
        f"sqlite:///{database}",
        "run",
        "--metrics-port",
        str(taken_port),
        "--metrics-host",
        "127.0.0.1",
    )
    assert result.returncode == 2, result.stderr
    line = one_error_line(result.stderr)
    assert f"127.0.0.1:{taken_port}" in line and "in use" in line
    assert not database.exists(), "nothing changed"
    assert provider.requests == []


def test_run_with_a_metrics_host_this_machine_does_not_have_is_one_line(
    provider: FakeProvider, tmp_path: Path
) -> None:
    result = syncer(
        "--base-url",
        provider.base_url,
        "--database-url",
        f"sqlite:///{tmp_path / 'x.db'}",
        "run",
        "--metrics-port",
        "0",
        "--metrics-host",
        "192.0.2.1",
    )
    assert result.returncode == 2, result.stderr
    assert "192.0.2.1:0" in one_error_line(result.stderr)


def test_run_with_a_metrics_host_that_is_not_an_address_is_one_line(
    provider: FakeProvider, tmp_path: Path
) -> None:
    result = syncer(
        "--base-url",
        provider.base_url,
        "--database-url",
        f"sqlite:///{tmp_path / 'x.db'}",
        "run",
        "--metrics-port",
        "0",
        "--metrics-host",
        "no such host.invalid",
        env=clean_env(),
    )
    assert result.returncode == 2, result.stderr
    assert "no such host.invalid" in one_error_line(result.stderr)


@SQLITE_ONLY
@pytest.mark.parametrize("verbosity", [(), ("-q",), ("-v",)], ids=["default", "-q", "-v"])
def test_a_failed_sync_is_one_error_line_once(invoke, provider: FakeProvider, verbosity) -> None:  # type: ignore[no-untyped-def]
    provider.fail_next(403, '{"error": {"message": "upstream broke"}}')
    result = invoke(*verbosity, "--base-url", provider.base_url, "sync")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if "upstream broke" in line]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("Error: openai: FAILED after "), result.stderr
    assert result.stdout == ""


@SQLITE_ONLY
def test_a_held_sync_is_one_error_line_once(invoke, provider: FakeProvider) -> None:  # type: ignore[no-untyped-def]
    provider.set("a", "b", "c")
    invoke("sync")
    provider.set("a")
    result = invoke("sync")
    assert result.exit_code == 1
    assert [line for line in result.stderr.splitlines() if "HELD" in line] == [
        line for line in result.stderr.splitlines() if line.startswith("Error: openai: HELD")
    ]
    assert len(own_lines(result.stderr)) == 1, result.stderr


def test_run_every_applies_to_every_source_even_one_with_its_own_cron(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """The source says once a year; ``run --every 1s`` says every second, and wins."""
    provider.set("a")
    config = tmp_path / "syncer.toml"
    config.write_text(
        "[schedule]\njitter = 0\n\n"
        f'[[sources]]\nname = "yearly"\nbase_url = "{provider.base_url}"\ncron = "0 0 1 1 *"\n\n'
        f'[[sources]]\nname = "hourly"\nbase_url = "{provider.base_url}"\nevery = "1h"\n'
    )
    database = tmp_path / "run.db"
    code, stderr = run_until(
        [
            "--config",
            str(config),
            "--database-url",
            f"sqlite:///{database}",
            "run",
            "--every",
            "1s",
        ],
        lambda _: sum(r.path == "/v1/models" for r in provider.requests) >= 6,
    )
    assert code == 0, stderr
    runs = json.loads(
        syncer("--database-url", f"sqlite:///{database}", "runs", "--format", "json").stdout
    )
    per_source = {name: sum(r["source"] == name for r in runs) for name in ("yearly", "hourly")}
    assert per_source["yearly"] >= 2 and per_source["hourly"] >= 2, (per_source, stderr)


@SQLITE_ONLY
def test_syncer_toml_in_the_current_directory_is_used_and_named_at_v(
    invoke,
    provider: FakeProvider,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    (tmp_path / "syncer.toml").write_text(
        f'[[sources]]\nname = "local"\nbase_url = "{provider.base_url}"\n'
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPENAI_BASE_URL")
    provider.set("a")
    result = invoke("-v", "sync")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("local: 1 model,")
    assert "configuration file: syncer.toml" in result.stderr
    quiet = invoke("sync")
    assert "configuration file" not in quiet.stderr


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("alerts", "test", "nope"), "unknown alert rule 'nope'"),
        (("sync", "--source", "nope"), "unknown source 'nope'"),
        (("retention", "plan"), "no retention rule"),
    ],
)
def test_errors_about_missing_rules_or_sources_say_no_file_was_loaded(
    invoke,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args,
    words,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(*args)
    assert result.exit_code == 2
    (line,) = own_lines(result.stderr)
    assert line.startswith(f"Error: {words}") and "no configuration file loaded" in line, line


@SQLITE_ONLY
def test_a_404_for_the_list_suggests_checking_the_base_urls_path(
    invoke,
    provider: FakeProvider,  # type: ignore[no-untyped-def]
) -> None:
    provider.server.expect_request("/models").respond_with_data("not found", status=404)
    result = invoke("--base-url", provider.server.url_for(""), "sync")
    assert result.exit_code == 1
    (line,) = [line for line in own_lines(result.stderr) if line.startswith("Error:")]
    assert line.endswith(
        "404 Not Found: not found (not found); is the base URL's path right? "
        "OpenAI-compatible APIs usually end in /v1"
    ), line


@SQLITE_ONLY
def test_a_401_without_a_key_names_the_variable_to_set(
    invoke,
    provider: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    provider.fail_next(401, '{"error": {"message": "You didn\'t provide an API key."}}')
    result = invoke("sync")
    assert result.exit_code == 1
    (line,) = [line for line in own_lines(result.stderr) if line.startswith("Error:")]
    assert "401 Unauthorized: no API key is set: set OPENAI_API_KEY" in line, line


def test_a_name_that_does_not_resolve_fails_at_once_without_retries(tmp_path: Path) -> None:
    """In a network namespace of its own (only loopback), no name resolves: no query leaves."""
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("cannot create a network namespace here (needs root or user namespaces)")
    result = subprocess.run(
        [
            "unshare",
            "-n",
            sys.executable,
            "-m",
            "syncer",
            "--base-url",
            "https://models.syncer-test.invalid/v1",
            "--database-url",
            f"sqlite:///{tmp_path / 'x.db'}",
            "sync",
        ],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert "cannot resolve the host models.syncer-test.invalid" in line, line
    assert "gave up after" not in line and "retry" not in result.stderr
    took = re.search(r"FAILED after (\d+\.\d+)s", line)
    assert took and float(took[1]) < 2, "retries would have waited seconds"


def test_run_starts_with_what_a_person_needs_not_alembics_lines(
    provider: FakeProvider, tmp_path: Path
) -> None:
    provider.set("a")
    args = [
        "--base-url",
        provider.base_url,
        "--database-url",
        f"sqlite:///{tmp_path / 'run.db'}",
        "run",
        "--every",
        "1h",
    ]

    code, first = run_until(args, lambda stderr: "sync openai: " in stderr)
    again, second = run_until(args, lambda stderr: "sync openai: " in stderr)

    assert code == again == 0, (first, second)
    assert "alembic" not in first + second
    assert f"INFO syncer: database created at revision {HEAD}" in first
    assert "sync openai: 1 model," in first
    assert "database created" not in second and "migrated" not in second, "not news at head"
    (skipped,) = [line for line in second.splitlines() if "sync openai: skipped" in line]
    assert re.search(r"synced successfully at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", skipped)


@SQLITE_ONLY
def test_sync_says_nothing_about_alerts_when_there_was_nothing_to_deliver(
    invoke,
    provider: FakeProvider,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    from tests.receivers import Receiver

    receiver = Receiver()
    try:
        config = tmp_path / "syncer.toml"
        config.write_text(
            f'[[sources]]\nname = "openai"\nbase_url = "{provider.base_url}"\n\n'
            '[[alerts]]\nname = "changes"\nwebhook_url_env = "HOOK_URL"\n'
        )
        monkeypatch.setenv("HOOK_URL", receiver.url)
        monkeypatch.delenv("OPENAI_BASE_URL")
        provider.set("a")
        first = invoke("--config", str(config), "sync")
        provider.set("a", "b")
        quiet = invoke("--config", str(config), "-q", "sync")
        provider.set("a", "b", "c")
        told = invoke("--config", str(config), "sync")
    finally:
        receiver.close()
    assert "alerts:" not in first.stderr, "nothing to deliver: nothing to say"
    assert "alerts:" not in quiet.stderr, "-q: errors only"
    assert "alerts: 1 delivered, 0 to retry later, 0 failed" in told.stderr
    assert len(receiver.documents) == 2


def many_sources(tmp_path: Path, gate: GateProvider, extra: str = "") -> Path:
    """A configuration file with every source of ``gate``, in its order."""
    config = tmp_path / "many.toml"
    config.write_text(
        extra
        + "".join(
            f'[[sources]]\nname = "{name}"\nbase_url = "{gate.base_url(name)}"\n'
            'api_key_env = "GATE_KEY"\n\n'
            for name in gate.lists
        )
    )
    return config


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Callable[..., Result]:
    """``syncer ARGS`` in-process on the test database, with the gate provider's key."""
    clear_settings_env(monkeypatch)
    monkeypatch.setenv("GATE_KEY", API_KEY)
    monkeypatch.setenv("SYNCER_DATABASE_URL", database_url)
    return lambda *args: CliRunner().invoke(cli, list(args), catch_exceptions=False)


def events_by_source(database_url: str) -> dict[str, set[tuple[str, str]]]:
    engine = make_engine(database_url)
    try:
        with read_session(engine) as session:
            rows = session.execute(
                select(ModelEvent.source, ModelEvent.model_id, ModelEvent.kind)
            ).all()
    finally:
        engine.dispose()
    found: dict[str, set[tuple[str, str]]] = {}
    for source, model_id, kind in rows:
        found.setdefault(source, set()).add((model_id, kind))
    return found


def runs_by_source(database_url: str) -> dict[str, list[str]]:
    engine = make_engine(database_url)
    try:
        with read_session(engine) as session:
            rows = session.execute(
                select(SyncRun.source, SyncRun.status).order_by(SyncRun.id)
            ).all()
    finally:
        engine.dispose()
    found: dict[str, list[str]] = {}
    for source, status in rows:
        found.setdefault(source, []).append(status)
    return found


def lists_of(count: int) -> dict[str, list[str]]:
    return {f"p{i}": [f"p{i}-model-{j}" for j in range(3)] for i in range(count)}


def test_sync_runs_the_sources_at_once_and_each_gets_its_own_events(
    run_cli: Callable[..., Result], database_url: str, tmp_path: Path
) -> None:
    """Every list is held until all eight are asked for: only syncs that overlap finish
    without waiting out the provider's patience, and ``peak`` says they did."""
    with GateProvider(lists_of(8), gate=8, reverse=True) as gate:
        result = run_cli("--config", str(many_sources(tmp_path, gate)), "sync")
    assert result.exit_code == 0, result.stderr
    assert gate.peak == 8, "all eight lists were asked for at once"
    assert gate.answered == list(reversed(gate.lists)), "the answers came back last first"
    names = [line.split(":")[0] for line in result.stdout.splitlines()]
    assert names == list(gate.lists), "the summaries keep the sources' order"
    assert all("3 models, 3 added" in line for line in result.stdout.splitlines())
    assert events_by_source(database_url) == {
        name: {(model_id, "added") for model_id in ids} for name, ids in gate.lists.items()
    }
    assert runs_by_source(database_url) == {name: ["ok"] for name in gate.lists}


def test_a_failing_source_among_many_fails_alone(
    run_cli: Callable[..., Result], database_url: str, tmp_path: Path
) -> None:
    with GateProvider(lists_of(6), gate=6) as gate:
        gate.status["p2"] = 403
        result = run_cli("--config", str(many_sources(tmp_path, gate)), "sync")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and errors[0].startswith("Error: p2: FAILED after "), result.stderr
    assert "p2 is broken" in errors[0]
    ok = [name for name in gate.lists if name != "p2"]
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ok
    assert runs_by_source(database_url) == {
        name: ["failed" if name == "p2" else "ok"] for name in gate.lists
    }
    assert events_by_source(database_url) == {
        name: {(model_id, "added") for model_id in gate.lists[name]} for name in ok
    }


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("args", "extra", "bound"),
    [
        (("sync", "--jobs", "2"), "", 2),
        (("sync",), "[sync]\nworkers = 3\n\n", 3),
        (("sync", "-j", "1"), "[sync]\nworkers = 3\n\n", 1),
    ],
    ids=["--jobs", "[sync] workers", "--jobs wins"],
)
def test_sync_runs_at_most_the_configured_number_of_sources_at_once(
    run_cli: Callable[..., Result],
    tmp_path: Path,
    args: tuple[str, ...],
    extra: str,
    bound: int,
) -> None:
    """The gate opens once ``bound`` lists are in flight: one more would show in ``peak``."""
    with GateProvider(lists_of(5), gate=bound, patience=2.0) as gate:
        result = run_cli("--config", str(many_sources(tmp_path, gate, extra)), *args)
    assert result.exit_code == 0, result.stderr
    assert gate.peak == bound
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == list(gate.lists)


@SQLITE_ONLY
@pytest.mark.parametrize("value", ["0", "-1", "2.5", '"many"', "true"])
def test_a_workers_setting_that_is_not_a_positive_count_is_a_configuration_error(
    run_cli: Callable[..., Result], tmp_path: Path, value: str
) -> None:
    config = tmp_path / "syncer.toml"
    config.write_text(f"[sync]\nworkers = {value}\n")
    result = run_cli("--config", str(config), "sync")
    assert result.exit_code == 2
    assert "sync.workers:" in result.stderr, result.stderr


def test_a_closed_port_is_one_error_line_per_failed_sync_and_the_retries_show_at_v(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clear_settings_env(monkeypatch)
    config = tmp_path / "syncer.toml"
    config.write_text(
        "[http]\nmax_retries = 3\nbackoff_base = 0.01\nbackoff_max = 0.01\n\n"
        f'[[sources]]\nname = "down"\nbase_url = "http://127.0.0.1:{closed_port()}/v1"\n'
    )
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("SYNCER_DATABASE_URL", f"sqlite:///{tmp_path / 'syncer.db'}")

    quiet = CliRunner().invoke(cli, ["--config", str(config), "sync"])
    verbose = CliRunner().invoke(cli, ["--config", str(config), "-v", "sync"])

    assert quiet.exit_code == verbose.exit_code == 1
    assert len(quiet.stderr.splitlines()) == 1
    assert quiet.stderr.startswith("Error: down: FAILED")
    assert "cannot connect" in quiet.stderr and "(gave up after 4 attempts)" in quiet.stderr
    retries = [line for line in verbose.stderr.splitlines() if "; retry " in line]
    assert len(retries) == 3
    assert " INFO syncer.providers.http: GET http://127.0.0.1:" in retries[0]


def test_litellms_answer_to_a_wrong_key_says_the_key_may_be_wrong(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, provider: FakeProvider
) -> None:
    """A LiteLLM proxy without a database answers any key but its master key with a 400
    about a missing database."""
    clear_settings_env(monkeypatch)
    provider.fail_next(
        400,
        '{"error": {"message": "No connected db.", '
        '"type": "no_db_connection", "param": null, "code": "400"}}',
    )
    config = tmp_path / "syncer.toml"
    config.write_text(
        f'[[sources]]\nname = "proxy"\nkind = "litellm"\n'
        f'base_url = "{provider.base_url}"\napi_key_env = "PROXY_KEY"\n'
    )
    monkeypatch.setenv("PROXY_KEY", "sk-not-the-master-key")
    monkeypatch.setenv("SYNCER_DATABASE_URL", f"sqlite:///{tmp_path / 'syncer.db'}")

    result = CliRunner().invoke(cli, ["--config", str(config), "sync"])

    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("Error: proxy: FAILED after ")
    assert result.stderr.endswith(
        f": GET {provider.base_url}/models: 400 Bad Request: the key may be wrong: a LiteLLM "
        "proxy without a database answers this to every key but its master key "
        "(No connected db.)\n"
    )
