"""The alert and deprecation commands, black-box: exit codes, output, what receivers get."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from tests.fakes import API_KEY, FakeProvider, closed_port
from tests.processes import clean_env, start
from tests.receivers import Receiver

SECRET = "whsec-cli-0123456789"


def config_text(provider: FakeProvider, extra: str = "") -> str:
    return (
        f'[http]\nmax_retries = 0\n\n[[sources]]\nname = "openai"\n'
        f'base_url = "{provider.base_url}"\n\n'
        '[[alerts]]\nname = "changes"\nkinds = ["added", "vanished"]\n'
        'webhook_url_env = "HOOK_URL"\nsecret_env = "HOOK_SECRET"\n\n'
        '[[alerts]]\nname = "countdown"\nkind = "shutdown"\nslack_webhook_url_env = "SLACK_URL"\n'
        + extra
    )


@pytest.fixture
def invoke(
    invoke,  # type: ignore[no-untyped-def]  # conftest's, with a config of two alert rules
    monkeypatch: pytest.MonkeyPatch,
    provider: FakeProvider,
    receiver: Receiver,
    tmp_path: Path,
):  # type: ignore[no-untyped-def]
    """Run ``syncer ARGS`` in-process with two rules whose channels are ``receiver``."""
    config = tmp_path / "syncer.toml"
    config.write_text(config_text(provider))
    monkeypatch.setenv("SYNCER_CONFIG", str(config))
    monkeypatch.delenv("OPENAI_BASE_URL")
    monkeypatch.setenv("HOOK_URL", receiver.url)
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    monkeypatch.setenv("SLACK_URL", receiver.url)
    return invoke


def listed(invoke, *args: str) -> list[dict]:  # type: ignore[no-untyped-def]
    result = invoke("alerts", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_sync_delivers_its_alerts_at_once_and_alerts_lists_them(
    invoke, provider: FakeProvider, receiver: Receiver
) -> None:
    provider.set("a", "b", "c")
    first = invoke("sync")
    provider.set("a", "b", "d")
    second = invoke("sync")

    assert first.exit_code == second.exit_code == 0
    assert "alerts:" not in first.stderr, "nothing to deliver, nothing said"
    assert "alerts: 2 delivered, 0 to retry later, 0 failed" in second.stderr
    assert [(d["kind"], d["model_id"]) for d in receiver.documents] == [
        ("added", "d"),
        ("vanished", "c"),
    ]
    body, headers = receiver.accepted[0]
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Syncer-Signature-256"] == f"sha256={expected}"
    rows = listed(invoke)
    assert [(r["kind"], r["status"], r["attempts"]) for r in rows] == [
        ("vanished", "delivered", 1),
        ("added", "delivered", 1),
    ]
    assert rows[0]["summary"] == "openai: c vanished without a known shutdown date"
    assert rows[0]["alert_id"] == receiver.documents[1]["id"]
    assert listed(invoke, "--status", "pending") == []
    assert invoke("alerts", "--rule", "countdown").stderr.strip() == "(no rows)"


def test_a_rejected_alert_fails_and_retry_sends_it_once_the_receiver_is_fixed(
    invoke, provider: FakeProvider, receiver: Receiver
) -> None:
    provider.set("a", "b")
    invoke("sync")
    receiver.status = 400
    provider.set("a", "b", "c")
    assert invoke("sync").exit_code == 0

    (failed,) = listed(invoke, "--status", "failed")
    nothing_due = invoke("alerts", "dispatch")
    invoke("alerts", "retry")
    still_rejected = invoke("alerts", "dispatch")
    receiver.status = 200
    requeued = invoke("alerts", "retry", "--rule", "changes")
    delivered = invoke("alerts", "dispatch")

    assert failed["last_error"] == "webhook: HTTP 400: receiver is down"
    assert (nothing_due.exit_code, nothing_due.stdout.strip()) == (
        0,
        "alerts: 0 delivered, 0 to retry later, 0 failed",
    )
    assert still_rejected.exit_code == 1
    assert requeued.stdout.strip() == "1 failed alert(s) queued again"
    assert (delivered.exit_code, delivered.stdout.strip()) == (
        0,
        "alerts: 1 delivered, 0 to retry later, 0 failed",
    )
    assert [d["model_id"] for d in receiver.documents] == ["c"]


def test_alerts_test_sends_a_probe_to_the_rules_channel(
    invoke, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = invoke("alerts", "test", "countdown")
    unknown = invoke("alerts", "test", "nope")
    monkeypatch.delenv("HOOK_URL")
    unset = invoke("alerts", "test", "changes")

    assert sent.exit_code == 0, sent.output
    assert sent.stdout.startswith("sent test alert ") and "to rule countdown (slack)" in sent.stdout
    assert receiver.documents == [{"text": "syncer: test alert for rule countdown"}]
    assert unknown.exit_code == 2
    assert unknown.stderr.strip() == (
        "Error: unknown alert rule 'nope' (rules: changes, countdown)"
    )
    assert unset.exit_code == 1
    assert unset.stderr.strip() == "Error: webhook: the environment variable HOOK_URL is not set"


def test_deprecations_import_dates_and_list_present_models_soonest_first(
    invoke, provider: FakeProvider, tmp_path: Path
) -> None:
    today = datetime.now(UTC).date()
    dates = tmp_path / "dates.csv"
    dates.write_text(
        "model,shutdown_date,replacement\n"
        f"gpt-4-*,{today + timedelta(days=40)},gpt-4o\n"
        f"text-*,{today + timedelta(days=400)},\n"
    )
    provider.set("gpt-4-0613", "gpt-4o", "o1-preview")
    provider.models[2]["shutdown_date"] = str(today + timedelta(days=10))

    imported = invoke("deprecations", "import", str(dates))
    invoke("sync")
    rows = json.loads(invoke("deprecations", "--format", "json").stdout)

    assert imported.stdout.strip() == f"imported 2 shutdown date(s) from {dates}"
    assert [(r["model_id"], r["days_left"], r["replacement"], r["date_source"]) for r in rows] == [
        ("o1-preview", 10, None, "provider"),
        ("gpt-4-0613", 40, "gpt-4o", "imported"),
    ]


def test_a_bad_deprecations_file_is_a_usage_error_naming_the_line(invoke, tmp_path: Path) -> None:
    dates = tmp_path / "dates.csv"
    dates.write_text("model,shutdown_date\ngpt-4,someday\n")

    result = invoke("deprecations", "import", str(dates))
    missing = invoke("deprecations", "import", str(tmp_path / "none.toml"))

    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"Error: {dates}:2: shutdown_date: 'someday' is not a date like 2026-06-06"
    )
    assert missing.exit_code == 2
    assert "none.toml: cannot read: No such file or directory" in missing.stderr


def test_run_serves_metrics_and_healthz_until_sigterm(
    provider: FakeProvider, receiver: Receiver, tmp_path: Path
) -> None:
    provider.set("a", "b")
    port = closed_port()
    config = tmp_path / "syncer.toml"
    config.write_text('[schedule]\nevery = "1s"\njitter = 0\n\n' + config_text(provider))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SYNCER_"))} | {
        "OPENAI_API_KEY": API_KEY,
        "HOOK_URL": receiver.url,
        "SLACK_URL": receiver.url,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "syncer",
            "--config",
            str(config),
            "--database-url",
            f"sqlite:///{tmp_path / 'run.db'}",
            "run",
            "--metrics-port",
            str(port),
            "--metrics-host",
            "127.0.0.1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        health = _wait_for_health(f"http://127.0.0.1:{port}/healthz")
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    finally:
        process.kill()

    assert process.returncode == 0, stderr
    assert health == {
        "status": "ok",
        "sources": {"openai": health["sources"]["openai"]},
        "imports": {},
    }
    assert 'syncer_models_present{source="openai"} 2.0' in metrics
    assert receiver.url not in stderr and API_KEY not in stderr


def _wait_for_health(url: str) -> dict:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            response = requests.get(url, timeout=2)
            if (
                response.status_code == 200
                and response.json()["sources"]["openai"]["last_success_at"]
            ):
                return response.json()
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise AssertionError("syncer run never reported healthy")


def test_two_dispatchers_at_once_send_each_alert_once(
    invoke, provider: FakeProvider, receiver: Receiver, database_url: str
) -> None:
    provider.set("a")
    invoke("sync")
    receiver.status = 400
    provider.set("a", *(f"new-{i}" for i in range(6)))
    invoke("sync")
    assert invoke("alerts", "retry").stdout.startswith("6 failed alert(s)")
    receiver.status = 200
    receiver.delay = 0.2  # slow enough that the two dispatchers overlap
    env = clean_env(SYNCER_CONFIG=os.environ["SYNCER_CONFIG"], SYNCER_DATABASE_URL=database_url)
    dispatchers = [start(["alerts", "dispatch"], env=env) for _ in range(2)]
    results = [process.communicate(timeout=60) for process in dispatchers]

    assert [process.returncode for process in dispatchers] == [0, 0], results
    sent = [document["id"] for document in receiver.documents]
    assert len(sent) == 6 and len(set(sent)) == 6, sorted(sent)
    assert {r["status"] for r in listed(invoke)} == {"delivered"}


def test_imported_dates_raise_their_countdown_alerts_without_waiting_for_a_sync(
    invoke, provider: FakeProvider, receiver: Receiver, tmp_path: Path
) -> None:
    """The import writes the alerts; `alerts dispatch` from cron delivers them."""
    provider.set("gpt-4-0613", "gpt-4o")
    invoke("sync")
    synced = len(provider.requests)
    dates = tmp_path / "dates.csv"
    soon = datetime.now(UTC).date() + timedelta(days=20)
    dates.write_text(f"model,shutdown_date,replacement\ngpt-4-0613,{soon},gpt-4o\n")

    imported = invoke("deprecations", "import", str(dates))
    pending = listed(invoke, "--rule", "countdown")
    dispatched = invoke("alerts", "dispatch")

    assert imported.exit_code == 0, imported.output
    assert [(a["kind"], a["status"]) for a in pending] == [("shutdown", "pending")]
    assert "gpt-4-0613 shuts down in 20 days" in pending[0]["summary"]
    assert dispatched.stdout.strip() == "alerts: 1 delivered, 0 to retry later, 0 failed"
    assert [d["text"] for d in receiver.documents] == [pending[0]["summary"]]
    assert len(provider.requests) == synced, "no sync was needed"


def test_days_left_to_a_shutdown_are_rounded_the_same_everywhere(
    invoke, provider: FakeProvider, receiver: Receiver
) -> None:
    """50 days and 12 hours left: 51 whole days, as the countdown alert counts them."""
    when = datetime.now(UTC) + timedelta(days=50, hours=12)
    provider.set("old", shutdown_date=when.isoformat())
    invoke("sync")

    (listed_date,) = json.loads(invoke("deprecations", "--format", "json").stdout)
    (reported,) = json.loads(invoke("report", "shutdowns", "--format", "json").stdout)
    (alert,) = listed(invoke, "--rule", "countdown")

    assert listed_date["days_left"] == reported["days_to_shutdown"] == 51
    assert "shuts down in 51 days" in alert["summary"]


def test_alerts_test_with_a_malformed_url_says_it_is_not_valid_without_quoting_it(
    invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_URL", "hooks.example.com/T0PSECRET")
    result = invoke("alerts", "test", "changes")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: webhook: the URL in HOOK_URL is not a valid http(s) URL"
    )


def test_every_alert_names_the_replacement_and_where_the_shutdown_date_comes_from(
    invoke,
    provider: FakeProvider,
    receiver: Receiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider.set("gpt-4-0613", "gpt-4o")
    invoke("sync")
    shutdown = (datetime.now(UTC) + timedelta(days=20)).date()
    (tmp_path / "deps.csv").write_text(
        f"model,shutdown_date,replacement\ngpt-4-0613,{shutdown},gpt-4o\n"
    )
    monkeypatch.chdir(tmp_path)
    imported = invoke("deprecations", "import", "deps.csv")
    invoke("alerts", "dispatch")
    provider.set("gpt-4o")
    invoke("sync")

    assert imported.exit_code == 0, imported.output
    countdown, vanished = receiver.documents
    assert countdown["text"].startswith("openai: gpt-4-0613 shuts down in ")
    assert countdown["text"].endswith(
        f"({shutdown}, date imported from deps.csv); replacement: gpt-4o"
    ), "Slack's text"
    assert vanished["summary"] == (
        f"openai: gpt-4-0613 vanished before its shutdown date {shutdown} "
        "(date imported from deps.csv); replacement: gpt-4o"
    )
    assert vanished["replacement"] == vanished["shutdown"]["replacement"] == "gpt-4o"
    assert vanished["shutdown"]["origin"] == "deps.csv"
