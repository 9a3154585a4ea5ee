"""The command line, black-box: exit codes, what is printed, what lands in the database."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fakes import API_KEY, FakeProvider, closed_port


def test_sync_prints_a_summary_and_the_inventory_is_listed(invoke, provider: FakeProvider) -> None:
    provider.set("gpt-4o", "gpt-4o-mini")
    result = invoke("sync")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("openai: 2 models, 2 added, 0 vanished, 0 reappeared")
    listed = json.loads(invoke("models", "--format", "json").stdout)
    assert [m["model_id"] for m in listed] == ["gpt-4o", "gpt-4o-mini"]
    assert listed[0]["first_seen_at"].endswith("Z")
    rows = list(csv.DictReader(io.StringIO(invoke("events", "--format", "csv").stdout)))
    assert {(r["kind"], r["model_id"]) for r in rows} == {
        ("added", "gpt-4o"),
        ("added", "gpt-4o-mini"),
    }
    table = invoke("runs").stdout.splitlines()
    assert table[0].split()[:4] == ["id", "source", "started_at", "status"]
    assert " ok " in table[2]


def test_failed_sync_exits_1_with_the_providers_message(invoke, provider: FakeProvider) -> None:
    provider.fail_next(
        401,
        '{"error": {"message": "Incorrect API key provided: sk-tes***cdef", '
        '"code": "invalid_api_key"}}',
    )
    result = invoke("sync")
    assert result.exit_code == 1
    assert "FAILED" in result.stderr and "401" in result.stderr
    assert API_KEY not in result.output
    failed = json.loads(invoke("runs", "--status", "failed", "--format", "json").stdout)
    assert len(failed) == 1 and "401" in failed[0]["error"]


def test_held_sync_exits_1_until_accepted(invoke, provider: FakeProvider) -> None:
    provider.set("a", "b", "c")
    invoke("sync")
    provider.set("a")
    held = invoke("sync")
    assert held.exit_code == 1
    assert "HELD" in held.stderr and "--accept-mass-change" in held.stderr
    assert invoke("sync", "--accept-mass-change").exit_code == 0
    vanished = json.loads(invoke("events", "--kind", "vanished", "--format", "json").stdout)
    assert sorted(e["model_id"] for e in vanished) == ["b", "c"]
    everything = json.loads(invoke("models", "--all", "--format", "json").stdout)
    assert len(everything) == 3


def test_models_show_prints_the_stored_and_the_live_model(invoke, provider: FakeProvider) -> None:
    provider.set("gpt-4o", "ft:gpt-4o:acme:x@1:abc")
    invoke("sync")
    shown = invoke("models", "show", "ft:gpt-4o:acme:x@1:abc", "--format", "json")
    stored = json.loads(shown.stdout)
    assert stored[0]["is_fine_tuned"] is True
    assert stored[0]["raw"]["owned_by"] == "openai"
    live = invoke("models", "show", "ft:gpt-4o:acme:x@1:abc", "--live")
    assert live.exit_code == 0
    assert "owned_by" in live.stdout
    assert provider.requests[-1].path == "/v1/models/ft:gpt-4o:acme:x@1:abc"
    missing = invoke("models", "show", "nope")
    assert missing.exit_code == 1
    assert "no model 'nope' in the store" in missing.stderr


def test_models_show_live_warns_when_the_answer_is_for_another_id(
    invoke, provider: FakeProvider
) -> None:
    """Prism, a mock server, answers any id with ``"id": "string"``."""
    provider.set("gpt-4o")
    provider.server.expect_oneshot_request("/v1/models/gpt-4o").respond_with_json(
        {"id": "string", "object": "model", "created": 0, "owned_by": "string"}
    )
    provider.server.expect_oneshot_request("/v1/models/gpt-4o").respond_with_json({"x": 1})

    other = invoke("models", "show", "gpt-4o", "--live")
    no_id = invoke("models", "show", "gpt-4o", "--live")
    same = invoke("models", "show", "gpt-4o", "--live")

    assert other.exit_code == no_id.exit_code == same.exit_code == 0
    assert other.stderr == (
        "Warning: openai: asked for 'gpt-4o', the provider's answer is for 'string': it may "
        "not know this model\n"
    )
    assert "'gpt-4o', the provider's answer is for no valid id: " in no_id.stderr
    assert "string" in other.stdout and same.stderr == ""


def test_events_filters_by_time_kind_and_model(invoke, provider: FakeProvider) -> None:
    provider.set("a", "b")
    invoke("sync")
    recent = json.loads(
        invoke("events", "--since", "1h", "--model", "a", "--format", "json").stdout
    )
    assert [(e["kind"], e["model_id"]) for e in recent] == [("added", "a")]
    assert json.loads(invoke("events", "--since", "2999-01-01", "--format", "json").stdout) == []
    bad = invoke("events", "--since", "last tuesday")
    assert bad.exit_code == 2
    assert "not a time" in bad.stderr


def test_bad_config_is_one_line_naming_file_and_key(invoke, tmp_path: Path) -> None:
    config = tmp_path / "syncer.toml"
    config.write_text('[[sources]]\nname = "x"\nevery = "soon"\n')
    result = invoke("--config", str(config), "sync")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"Error: {config}: sources[0].every: 'soon' is not a duration like '15m', '12h' or '7d'"
    ]


def test_plain_http_to_another_host_is_refused_before_connecting(invoke) -> None:
    result = invoke("--base-url", "http://models.example.invalid/v1", "sync")
    assert result.exit_code == 2
    assert "HTTPS" in result.stderr or "https" in result.stderr
    assert "models.example.invalid" in result.stderr


def test_reading_an_empty_database_says_to_upgrade(invoke, database_url: str) -> None:
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).touch()  # an empty file, not a missing one
    result = invoke("models")
    assert result.exit_code == 1
    assert "syncer db upgrade" in result.stderr
    assert invoke("db", "upgrade").exit_code == 0
    assert invoke("db", "current").stdout.strip().endswith("(head)")
    assert invoke("models").exit_code == 0


def test_unknown_source_is_a_usage_error(invoke) -> None:
    result = invoke("sync", "--source", "nope")
    assert result.exit_code == 2
    assert "unknown source 'nope'" in result.stderr


def test_run_syncs_on_schedule_and_stops_cleanly_on_sigterm(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """A source that is down fails its own runs and never stops the other source."""
    provider.set("a", "b")
    config = tmp_path / "syncer.toml"
    config.write_text(
        f'[schedule]\nevery = "1s"\njitter = 0\n\n[http]\nmax_retries = 0\n\n'
        f'[[sources]]\nname = "local"\nbase_url = "{provider.base_url}"\n\n'
        f'[[sources]]\nname = "down"\nbase_url = "http://127.0.0.1:{closed_port()}/v1"\n'
    )
    database = tmp_path / "run.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SYNCER_"))} | {
        "OPENAI_API_KEY": API_KEY
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "syncer",
            "--config",
            str(config),
            "--database-url",
            f"sqlite:///{database}",
            "run",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _list_requests(provider) < 3:
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert "stopped" in stderr
    assert API_KEY not in stderr
    assert _list_requests(provider) >= 3
    runs = subprocess.run(
        [
            sys.executable,
            "-m",
            "syncer",
            "--database-url",
            f"sqlite:///{database}",
            "runs",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    statuses = [(r["source"], r["status"]) for r in json.loads(runs.stdout)]
    assert statuses.count(("local", "ok")) >= 3
    assert ("down", "failed") in statuses
    assert {status for source, status in statuses if source == "local"} == {"ok"}


def _list_requests(provider: FakeProvider) -> int:
    return sum(r.path == "/v1/models" for r in provider.requests)


def test_help_lists_the_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "syncer", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("sync", "run", "models", "events", "runs", "db"):
        assert f"  {command} " in result.stdout


def test_models_show_live_with_the_id_in_two_sources_asks_for_one(
    invoke, provider: FakeProvider, tmp_path: Path
) -> None:
    config = tmp_path / "syncer.toml"
    config.write_text(
        f'[[sources]]\nname = "east"\nbase_url = "{provider.base_url}"\n\n'
        f'[[sources]]\nname = "west"\nbase_url = "{provider.base_url}"\n'
    )
    provider.set("gpt-4o")
    both = invoke("--config", str(config), "models", "show", "gpt-4o", "--live")
    one = invoke(
        "--config",
        str(config),
        "models",
        "show",
        "gpt-4o",
        "--live",
        "--source",
        "west",
        "--format",
        "json",
    )
    assert both.exit_code == 2
    assert both.stderr.strip().splitlines()[-1] == (  # after the test server's request log
        "Error: 'gpt-4o' is listed by sources east, west: choose one with --source"
    )
    assert one.exit_code == 0, one.output
    assert [row["source"] for row in json.loads(one.stdout)] == ["west"]


def test_models_show_shows_when_retention_deleted_a_model(invoke, provider: FakeProvider) -> None:
    provider.set("gpt-4o")
    invoke("sync")
    shown = json.loads(invoke("models", "show", "gpt-4o", "--format", "json").stdout)
    table = invoke("models", "show", "gpt-4o").stdout
    assert "deleted_at" in shown[0] and shown[0]["deleted_at"] is None
    assert any(line.startswith("deleted_at ") for line in table.splitlines())


def test_models_takes_a_limit(invoke, provider: FakeProvider) -> None:
    provider.set("a", "b", "c")
    invoke("sync")
    listed = json.loads(invoke("models", "--limit", "2", "--format", "json").stdout)
    then = json.loads(invoke("models", "--as-of", "0d", "--limit", "1", "--format", "json").stdout)
    assert [m["model_id"] for m in listed] == ["a", "b"]
    assert [m["model_id"] for m in then] == ["a"]
    assert len(json.loads(invoke("models", "--limit", "0", "--format", "json").stdout)) == 3


def test_models_as_of_in_the_future_is_a_usage_error(invoke, provider: FakeProvider) -> None:
    provider.set("a")
    invoke("sync")
    result = invoke("models", "--as-of", "2999-01-01")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "Error: Invalid value for --as-of: '2999-01-01' is in the future"
    )


def test_models_as_of_before_the_first_sync_says_when_the_history_starts(
    invoke, provider: FakeProvider
) -> None:
    provider.set("a")
    invoke("sync")
    (first,) = json.loads(invoke("events", "--format", "json").stdout)
    result = invoke("models", "--as-of", "2000-01-01")
    as_json = invoke("models", "--as-of", "2000-01-01", "--format", "json")
    started = first["occurred_at"][:19] + "Z"
    assert result.exit_code == 0
    assert result.stderr.strip() == f"(no rows: the history starts at {started}, the first sync)"
    assert json.loads(as_json.stdout) == []
    assert started in as_json.stderr


def test_sources_shows_which_replica_holds_a_sync_lease_until_it_is_freed(
    invoke, provider: FakeProvider, database_url: str
) -> None:
    from syncer.db import locks
    from syncer.db.engine import make_engine

    provider.set("gpt-4o")
    invoke("sync")
    engine = make_engine(database_url)
    try:
        with locks.lease(engine, "sync:openai", holder="web-1:7") as claim:
            held = json.loads(invoke("sources", "--format", "json").stdout)
            table = invoke("sources", "-c", "name,lease_holder,lease_until").stdout.splitlines()
        freed = json.loads(invoke("sources", "--format", "json").stdout)
    finally:
        engine.dispose()

    assert claim.mine
    assert held[0]["lease_holder"] == "web-1:7"
    assert held[0]["lease_until"].endswith("Z")
    assert table[0].split()[-2:] == ["lease_holder", "lease_until"]
    assert "web-1:7" in table[2]
    assert (freed[0]["lease_holder"], freed[0]["lease_until"]) == (None, None)
