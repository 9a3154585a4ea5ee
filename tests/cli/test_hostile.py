"""Hostile text from a provider or a file, through the real CLI: it reaches Slack, Apprise,
a spreadsheet, a terminal and the database as text, never as a mention, a link, a formula
or an escape sequence (issue 21, items 2 to 4)."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import FakeProvider
from tests.processes import clean_env
from tests.receivers import Receiver

#: The issue's listed id: a live mention and a link in Slack's own message format.
PHISH = "<!channel> <https://127.0.0.1:9/phish|Click to re-auth>"
#: Clears the screen and retitles the terminal window.
ESCAPES = "\x1b[2J\x1b]0;pwned\x07"
RTL_OVERRIDE = "\u202e"


def alert_config(tmp_path: Path, provider: FakeProvider, channel: str) -> Path:
    config = tmp_path / "syncer.toml"
    config.write_text(
        f'[http]\nmax_retries = 0\n\n[[sources]]\nname = "openai"\n'
        f'base_url = "{provider.base_url}"\n\n'
        f'[[alerts]]\nname = "added"\nkinds = ["added"]\n{channel}_url_env = "CHANNEL_URL"\n'
    )
    return config


def sync_in_the_hostile_id(invoke: Any, provider: FakeProvider) -> None:
    provider.set("gpt-4o")
    assert invoke("sync").exit_code == 0  # the first sync records the inventory: no alert
    provider.set("gpt-4o", PHISH)
    result = invoke("sync")
    assert result.exit_code == 0, result.output
    assert "1 delivered" in result.stderr


def test_a_hostile_id_reaches_slack_as_text_not_as_a_mention_or_a_link(
    invoke: Any,
    provider: FakeProvider,
    receiver: Receiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SYNCER_CONFIG", str(alert_config(tmp_path, provider, "slack_webhook")))
    monkeypatch.delenv("OPENAI_BASE_URL")
    monkeypatch.setenv("CHANNEL_URL", receiver.url)

    sync_in_the_hostile_id(invoke, provider)

    (document,) = receiver.documents
    assert document == {
        "text": "openai: &lt;!channel&gt; &lt;https://127.0.0.1:9/phish|Click to re-auth&gt; added"
    }


def test_a_hostile_id_reaches_an_apprise_service_as_plain_text(
    invoke: Any,
    provider: FakeProvider,
    receiver: Receiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("apprise")
    monkeypatch.setenv("SYNCER_CONFIG", str(alert_config(tmp_path, provider, "apprise")))
    monkeypatch.delenv("OPENAI_BASE_URL")
    # A service that renders HTML: Apprise escapes plain text for it, never passes markup on.
    monkeypatch.setenv("CHANNEL_URL", receiver.url.replace("http://", "json://") + "?format=html")

    sync_in_the_hostile_id(invoke, provider)

    (document,) = receiver.documents
    message = document["message"].replace("&nbsp;", " ")
    assert "<" not in message and ">" not in message
    assert "&lt;!channel&gt; &lt;https://127.0.0.1:9/phish|Click to re-auth&gt;" in message


FORMULAS = ['=HYPERLINK("https://127.0.0.1:9/x","Click")', "+1+1", "-1+1", "@SUM(1)"]
OWNER = "=cmd|'/C calc'!A0"


def test_every_csv_output_neutralises_formulas_and_raw_gives_the_bytes(
    invoke: Any, provider: FakeProvider
) -> None:
    provider.models = [
        {"id": text, "object": "model", "created": 1, "owned_by": OWNER} for text in FORMULAS
    ]
    provider.models.append({"id": "tabbed", "object": "model", "created": 1, "owned_by": "\t@x"})
    assert invoke("sync").exit_code == 0

    def cells(*args: str) -> set[str]:
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()[1:]
        return {cell for line in lines for cell in line.split(",")}

    neutral = cells("models", "--format", "csv")
    raw = cells("models", "--format", "csv", "--raw")
    events = cells("events", "--format", "csv")

    assert not {c.strip('"') for c in neutral | events} & {*FORMULAS, OWNER, "\t@x"}
    assert {f"'{OWNER}", "'\t@x", "'+1+1", "'-1+1", "'@SUM(1)"} <= neutral
    assert "'+1+1" in events
    assert {OWNER, "\t@x", "+1+1", "-1+1", "@SUM(1)"} <= raw
    table_raw = invoke("models", "--raw")
    assert table_raw.exit_code == 2
    assert "--raw applies only to --format csv" in table_raw.stderr


def test_a_providers_error_message_cannot_drive_the_terminal_nor_be_stored_raw(
    invoke: Any, provider: FakeProvider
) -> None:
    error = {"error": {"message": f"bad key{ESCAPES}{RTL_OVERRIDE}", "code": "invalid_api_key"}}
    provider.fail_next(401, json.dumps(error))

    failed = invoke("sync")
    runs = invoke("runs", "--format", "json")

    assert failed.exit_code == 1
    assert "bad key" in failed.stderr
    (run,) = json.loads(runs.stdout)
    assert "bad key" in run["error"]
    for text in (failed.output, run["error"]):
        assert "\x1b" not in text and "\x07" not in text and RTL_OVERRIDE not in text


def test_a_redirects_location_is_printed_without_its_escapes(
    invoke: Any, provider: FakeProvider
) -> None:
    provider.fail_next(302, "", Location=f"https://127.0.0.1:9/v1{ESCAPES}")

    failed = invoke("sync")

    assert failed.exit_code == 1
    assert "redirect to https://127.0.0.1:9/v1" in failed.stderr
    assert "\x1b" not in failed.output and "\x07" not in failed.output


def test_tables_show_no_bidi_override_and_no_escape(invoke: Any, provider: FakeProvider) -> None:
    provider.set(f"gpt-4o{RTL_OVERRIDE}lmth.exe", owned_by=f"acme{ESCAPES}")
    assert invoke("sync").exit_code == 0

    table = invoke("models").stdout
    shown = invoke("models", "show", f"gpt-4o{RTL_OVERRIDE}lmth.exe").stdout

    assert "gpt-4o lmth.exe" in table and "acme" in table
    for text in (table, shown):
        assert RTL_OVERRIDE not in text and "\x1b" not in text and "\x07" not in text


def test_csv_on_a_terminal_prints_no_escape(
    provider: FakeProvider, tmp_path: Path, database_url: str
) -> None:
    provider.set("gpt-4o", owned_by=f"acme{ESCAPES}{RTL_OVERRIDE}")
    env = clean_env(OPENAI_BASE_URL=provider.base_url, SYNCER_DATABASE_URL=database_url)
    synced = subprocess.run(
        [sys.executable, "-m", "syncer", "sync"], env=env, capture_output=True, timeout=60
    )
    assert synced.returncode == 0, synced.stderr

    leader, follower = pty.openpty()
    done = subprocess.run(
        [sys.executable, "-m", "syncer", "models", "--format", "csv"],
        env=env,
        stdout=follower,
        stderr=subprocess.PIPE,
        timeout=60,
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the other end is closed and drained
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)

    assert done.returncode == 0, done.stderr
    assert b"acme" in shown
    assert b"\x1b" not in shown and b"\x07" not in shown
    assert RTL_OVERRIDE.encode() not in shown


def test_an_import_files_skipped_key_is_printed_without_its_escapes(
    invoke: Any, tmp_path: Path
) -> None:
    prices = tmp_path / "model_prices_and_context_window.json"
    prices.write_text(
        json.dumps(
            {
                f"gpt-4{ESCAPES}": {"litellm_provider": "openai", "deprecation_date": "soon"},
            }
        )
    )

    result = invoke("deprecations", "import", str(prices))

    assert result.exit_code == 0, result.output
    assert "unreadable deprecation_date (first: gpt-4" in result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
