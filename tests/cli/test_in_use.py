"""Alerts for the models in use, as a user sets them up: ``syncer scan --record`` in a
repository, rules with ``in_use = true``, ``syncer sync``; receivers on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result

from tests.fakes import FakeProvider
from tests.receivers import Receiver


@pytest.fixture
def receivers() -> Iterator[dict[str, Receiver]]:
    ends = {name: Receiver() for name in ("hook", "slack", "apprise")}
    yield ends
    for end in ends.values():
        end.close()


@pytest.fixture
def run(
    invoke,  # type: ignore[no-untyped-def]  # conftest's
    monkeypatch: pytest.MonkeyPatch,
    provider: FakeProvider,
    other_provider: FakeProvider,
    receivers: dict[str, Receiver],
    tmp_path: Path,
):  # type: ignore[no-untyped-def]
    """``syncer ARGS`` with two sources (``router`` lists ids as ``openai/gpt-4o``) and three
    rules: a page for models in use, a digest that sends those at once, an Apprise pager."""
    config = tmp_path / "syncer.toml"
    config.write_text(
        f"[http]\nmax_retries = 0\n\n"
        f'[[sources]]\nname = "openai"\nbase_url = "{provider.base_url}"\n\n'
        f'[[sources]]\nname = "router"\nbase_url = "{other_provider.base_url}"\n\n'
        '[[alerts]]\nname = "page"\nkinds = ["vanished", "retired"]\nin_use = true\n'
        'webhook_url_env = "HOOK_URL"\n\n'
        '[[alerts]]\nname = "monday"\ndeliver = "digest"\nschedule = "0 9 * * MON"\n'
        'slack_webhook_url_env = "SLACK_URL"\n'
        'immediate_if = { kinds = ["vanished"], in_use = true }\n\n'
        '[[alerts]]\nname = "pager"\nkinds = ["vanished"]\nin_use = true\n'
        'apprise_url_env = "APPRISE_URL"\n'
    )
    config.chmod(0o600)
    monkeypatch.setenv("SYNCER_CONFIG", str(config))
    monkeypatch.delenv("OPENAI_BASE_URL")
    monkeypatch.setenv("HOOK_URL", receivers["hook"].url)
    monkeypatch.setenv("SLACK_URL", receivers["slack"].url)
    monkeypatch.setenv("APPRISE_URL", receivers["apprise"].url.replace("http://", "json://"))
    return invoke


def in_use_lines(result: Result) -> list[str]:
    lines = result.output.splitlines()
    return [
        line
        for i, line in enumerate(lines)
        if "models in use" in line
        or (i and "models in use" in lines[i - 1] and line.startswith("      -> "))
    ]


def test_in_use_rules_fire_for_the_models_the_latest_scan_found_and_say_where(
    run,
    provider: FakeProvider,
    other_provider: FakeProvider,
    receivers: dict[str, Receiver],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider.set("gpt-4o", "o1", "gpt-4-0613", "o3", "gpt-4.1")
    other_provider.set("openai/gpt-4o")
    assert run("sync").exit_code == 0
    unscanned = run("doctor")
    repository = tmp_path / "api"
    repository.mkdir()
    (repository / "app.py").write_text('import openai\n\nMODEL = "openai/gpt-4o"\n')
    monkeypatch.chdir(repository)
    scanned = run("scan", "--record", "--repository", "api")
    with_scan = run("doctor")
    provider.set("gpt-4-0613", "o3", "gpt-4.1")  # gpt-4o (used as openai/gpt-4o) and o1 go
    synced = run("sync")

    assert unscanned.exit_code == 0, unscanned.output
    assert in_use_lines(unscanned) == [
        "WARN  models in use: no use of a model is recorded (model_usages is empty: no "
        "`syncer scan --record` yet, or none found a model id): in_use in rule(s) "
        "page, monday, pager matches nothing, so they fire for nothing",
        "      -> run `syncer scan --record --repository NAME` in each repository that uses "
        "models, on a schedule",
    ]
    assert scanned.exit_code == 0, scanned.output
    assert "recorded 1 use of model ids in api" in scanned.stderr
    (ok,) = in_use_lines(with_scan)
    assert ok.startswith(
        "OK    models in use: 1 use recorded in 1 repository (latest scan: api at "
    )
    assert synced.exit_code == 0, synced.output
    where = "used in 1 place: api:app.py:3"
    (page,) = receivers["hook"].documents
    assert (page["rule"], page["model_id"]) == ("page", "gpt-4o")
    assert page["summary"] == f"openai: gpt-4o vanished without a known shutdown date; {where}"
    assert page["in_use"] == {
        "count": 1,
        "places": [{"repository": "api", "path": "app.py", "line": 3}],
    }
    (slack,) = receivers["slack"].documents
    assert slack["text"] == page["summary"], "the digest rule sent it at once: immediate_if"
    (pager,) = receivers["apprise"].documents
    assert pager["message"] == page["summary"]
    monday = json.loads(run("alerts", "--rule", "monday", "--format", "json").stdout)
    assert sorted((row["status"], row["summary"].split(" vanished")[0]) for row in monday) == [
        ("delivered", "openai: gpt-4o"),
        ("held", "openai: o1"),
    ], "o1 is in no repository: it waits for Monday's digest"
