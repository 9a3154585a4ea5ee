"""Delivery on demand and channel checks, through the CLI: `alerts dispatch --now`,
`alerts retry --all`, and `doctor` looking at (and with --send-test, trying) each channel."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from syncer.db import migrate
from syncer.db.engine import make_engine
from tests.fakes import API_KEY, FakeProvider
from tests.receivers import Receiver

Invoke = Callable[..., Result]


@pytest.fixture
def setup(
    invoke: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    provider: FakeProvider,
    receiver: Receiver,
    tmp_path: Path,
) -> Invoke:
    config = tmp_path / "syncer.toml"
    config.write_text(
        f'[http]\nmax_retries = 0\n\n[[sources]]\nname = "openai"\n'
        f'base_url = "{provider.base_url}"\n\n'
        '[[alerts]]\nname = "changes"\nkinds = ["vanished"]\nwebhook_url_env = "HOOK_URL"\n'
    )
    monkeypatch.setenv("SYNCER_CONFIG", str(config))
    monkeypatch.delenv("OPENAI_BASE_URL")
    monkeypatch.setenv("HOOK_URL", receiver.url)
    return invoke


def outbox(invoke: Invoke) -> list[dict[str, object]]:
    result = invoke("alerts", "--format", "json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


def test_dispatch_now_delivers_an_alert_waiting_for_its_retry_time(
    setup: Invoke, provider: FakeProvider, receiver: Receiver
) -> None:
    provider.set("a", "b")
    assert setup("sync").exit_code == 0
    receiver.status = 503
    provider.set("a")
    assert setup("sync").exit_code == 0  # its alert is refused: retried in 30 s
    receiver.status = 200

    waiting = setup("alerts", "dispatch")
    now = setup("alerts", "dispatch", "--now")

    assert waiting.stdout.strip() == "alerts: 0 delivered, 0 to retry later, 0 failed"
    assert (now.exit_code, now.stdout.strip()) == (
        0,
        "alerts: 1 delivered, 0 to retry later, 0 failed",
    )
    assert [d["model_id"] for d in receiver.documents] == ["b"]
    assert [(r["status"], r["attempts"]) for r in outbox(setup)] == [("delivered", 2)]


def test_dispatch_now_still_delivers_each_rule_in_order_and_stops_at_a_refusal(
    setup: Invoke, provider: FakeProvider, receiver: Receiver
) -> None:
    provider.set("a", "b", "c", "d")
    assert setup("sync").exit_code == 0
    receiver.status = 503
    provider.set("a", "d")
    setup("sync")  # b is refused; c waits behind it
    receiver.status = 200
    receiver.statuses = [200, 503]

    now = setup("alerts", "dispatch", "--now")

    assert now.exit_code == 1
    assert now.stdout.strip() == "alerts: 1 delivered, 1 to retry later, 0 failed"
    assert [d["model_id"] for d in receiver.documents] == ["b"]
    assert [(r["summary"], r["status"]) for r in outbox(setup)] == [
        ("openai: c vanished without a known shutdown date", "pending"),
        ("openai: b vanished without a known shutdown date", "delivered"),
    ]


def test_retry_all_makes_pending_alerts_due_now_with_fresh_attempts(
    setup: Invoke, provider: FakeProvider, receiver: Receiver
) -> None:
    provider.set("a", "b")
    setup("sync")
    receiver.status = 503
    provider.set("a")
    setup("sync")
    receiver.status = 200

    failed_only = setup("alerts", "retry")
    both = setup("alerts", "retry", "--all")
    delivered = setup("alerts", "dispatch")

    assert failed_only.stdout.strip() == "0 failed alert(s) queued again"
    assert both.stdout.strip() == "0 failed alert(s) queued again, 1 pending alert(s) due now"
    assert delivered.stdout.strip() == "alerts: 1 delivered, 0 to retry later, 0 failed"
    assert [(r["status"], r["attempts"]) for r in outbox(setup)] == [("delivered", 1)]


# --- doctor ---------------------------------------------------------------------------------------


@pytest.fixture
def receivers() -> Iterator[dict[str, Receiver]]:
    ends = {name: Receiver(f"/{name}") for name in ("hook", "slack", "apprise")}
    yield ends
    for end in ends.values():
        end.close()


CHANNELS = (
    '[[alerts]]\nname = "hook"\nwebhook_url_env = "HOOK_URL"\n\n'
    '[[alerts]]\nname = "chat"\nkind = "shutdown"\nslack_webhook_url_env = "SLACK_URL"\n\n'
    '[[alerts]]\nname = "page"\nkind = "stale"\napprise_url_env = "APPRISE_URL"\n'
)


@pytest.fixture
def doctor(
    invoke: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    provider: FakeProvider,
    tmp_path: Path,
    database_url: str,
) -> Invoke:
    provider.set("gpt-4o")
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    engine.dispose()
    config = tmp_path / "syncer.toml"
    config.write_text(
        f'[[sources]]\nname = "openai"\nbase_url = "{provider.base_url}"\n\n{CHANNELS}'
    )
    monkeypatch.setenv("SYNCER_CONFIG", str(config))
    monkeypatch.delenv("OPENAI_BASE_URL")
    return invoke


def alert_lines(result: Result) -> list[str]:
    return [
        line
        for line in result.output.splitlines()
        if line.startswith(("OK    alert ", "FAIL  alert ", "      -> set"))
    ]


def test_doctor_fails_a_variable_that_holds_the_wrong_kind_of_url_without_showing_it(
    doctor: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_URL", "not-a-url")
    monkeypatch.setenv("SLACK_URL", "https://chat.example.com/services/s3cr3t")
    monkeypatch.setenv("APPRISE_URL", "nope://s3cr3t@example.com")

    result = doctor("doctor")

    assert result.exit_code == 1
    assert alert_lines(result) == [
        "FAIL  alert hook: webhook: the URL in HOOK_URL is not an http(s) URL",
        "      -> set HOOK_URL to your receiver's https URL",
        "FAIL  alert chat: slack: the URL in SLACK_URL is not a Slack incoming webhook "
        "(expected https://hooks.slack.com/services/...)",
        "      -> set SLACK_URL to the Slack app's incoming webhook URL "
        "(https://hooks.slack.com/services/...)",
        "FAIL  alert page: apprise: the URL in APPRISE_URL is not a URL Apprise can read "
        "(scheme nope://)",
        "      -> set APPRISE_URL to an Apprise URL, e.g. mailto://... or pagerduty://... "
        "(see Apprise's list of services)",
    ]
    assert "s3cr3t" not in result.output and "not-a-url" not in result.output


def test_doctor_passes_good_urls_and_sends_nothing_without_send_test(
    doctor: Invoke, monkeypatch: pytest.MonkeyPatch, receivers: dict[str, Receiver]
) -> None:
    monkeypatch.setenv("HOOK_URL", receivers["hook"].url)
    monkeypatch.setenv("SLACK_URL", receivers["slack"].url)
    monkeypatch.setenv("APPRISE_URL", receivers["apprise"].url.replace("http://", "json://"))

    result = doctor("doctor")

    assert result.exit_code == 0, result.output
    assert alert_lines(result) == [
        "OK    alert hook: events rule to webhook via HOOK_URL",
        "OK    alert chat: shutdown rule to slack via SLACK_URL",
        "OK    alert page: stale rule to apprise via APPRISE_URL",
    ]
    assert all(not end.accepted for end in receivers.values())


def test_doctor_send_test_scrubs_every_configured_secret_from_a_receivers_answer(
    doctor: Invoke, monkeypatch: pytest.MonkeyPatch, receivers: dict[str, Receiver]
) -> None:
    """Slack's error page quotes the other channels' URLs and the source's key: none of
    them is this channel's own secret, and each is scrubbed all the same."""
    hook = receivers["hook"].url + "?token=H00KTOKEN-secret"
    monkeypatch.setenv("HOOK_URL", hook)
    monkeypatch.setenv("SLACK_URL", receivers["slack"].url)
    monkeypatch.setenv("APPRISE_URL", receivers["apprise"].url.replace("http://", "json://"))
    receivers["slack"].status = 400
    receivers["slack"].refusal = f"bad: use {hook} or key {API_KEY}"

    result = doctor("doctor", "--send-test")

    (line,) = [line for line in alert_lines(result) if "alert chat" in line]
    assert line.startswith(
        "FAIL  alert chat: the test alert was not taken: slack: HTTP 400: bad: use "
    )
    assert "H00KTOKEN" not in result.output and API_KEY not in result.output


def test_doctor_send_test_sends_a_test_alert_to_each_channel(
    doctor: Invoke, monkeypatch: pytest.MonkeyPatch, receivers: dict[str, Receiver]
) -> None:
    monkeypatch.setenv("HOOK_URL", receivers["hook"].url)
    monkeypatch.setenv("SLACK_URL", receivers["slack"].url)
    monkeypatch.setenv("APPRISE_URL", receivers["apprise"].url.replace("http://", "json://"))
    receivers["slack"].status = 404

    result = doctor("doctor", "--send-test")

    assert result.exit_code == 1
    lines = alert_lines(result)
    (hook_id,) = [d["id"] for d in receivers["hook"].documents]
    assert lines[0] == (
        f"OK    alert hook: events rule to webhook via HOOK_URL: test alert {hook_id} delivered"
    )
    assert lines[1] == (
        "FAIL  alert chat: the test alert was not taken: slack: HTTP 404: receiver is down"
    )
    assert lines[2].startswith(
        "OK    alert page: stale rule to apprise via APPRISE_URL: test alert "
    )
    assert receivers["hook"].documents[0]["kind"] == "test"
    (apprise,) = receivers["apprise"].documents
    assert apprise["title"] == "syncer: test"
    assert apprise["message"] == "syncer: test alert for rule page"
    assert "check the receiver behind SLACK_URL, then `syncer alerts test chat`" in result.output
