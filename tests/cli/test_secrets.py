"""No secret reaches any output, at any verbosity: a webhook URL's path and query, a key in a
provider URL's query string, the API key. Scanned across stderr at -vv (urllib3's own debug
lines included), stdout, every table of the database and /metrics."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import MetaData, create_engine, select
from werkzeug import Response

from tests.fakes import API_KEY, FakeProvider, closed_port
from tests.processes import clean_env, start, syncer
from tests.receivers import Receiver

PATH_SECRET = "T0PSECRETPATH4f9a"
QUERY_SECRET = "Q0SECRETKEY7c21"
PAGE_SECRET = "P4GESECRET9d3e"
SIGNING_SECRET = "whsec-S1GNSECRET"
SECRETS = (PATH_SECRET, QUERY_SECRET, PAGE_SECRET, SIGNING_SECRET, API_KEY)


@pytest.fixture
def hook() -> Any:
    endpoint = Receiver(path=f"/services/{PATH_SECRET}")
    yield endpoint
    endpoint.close()


def assert_clean(where: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret} in {where}:\n{text}"


def every_row(database_url: str) -> str:
    engine = create_engine(database_url)
    tables = MetaData()
    tables.reflect(engine)
    with engine.connect() as connection:
        dump = [
            repr(row) for table in tables.sorted_tables for row in connection.execute(select(table))
        ]
    engine.dispose()
    assert any("sync_runs" in t.name for t in tables.sorted_tables)
    return "\n".join(dump)


def test_no_secret_reaches_any_output_at_any_verbosity(
    provider: FakeProvider, hook: Receiver, tmp_path: Path, database_url: str
) -> None:
    config = tmp_path / "syncer.toml"
    config.write_text(
        "[http]\nmax_retries = 0\n\n"
        f'[[sources]]\nname = "openai"\nbase_url = "{provider.base_url}"\n\n'
        '[[alerts]]\nname = "changes"\nwebhook_url_env = "HOOK_URL"\nsecret_env = "HOOK_SECRET"\n'
    )
    env = clean_env(
        HOOK_URL=f"{hook.url}?key={QUERY_SECRET}",
        HOOK_SECRET=SIGNING_SECRET,
        SYNCER_CONFIG=str(config),
        SYNCER_DATABASE_URL=database_url,
    )
    outputs: list[tuple[str, str]] = []

    def run(*args: str, code: int | None = 0) -> Any:
        done = syncer(*args, env=env)
        outputs.append((f"syncer {' '.join(args)}", done.stdout + done.stderr))
        if code is not None:
            assert done.returncode == code, done.stderr
        return done

    provider.set("a", "b")
    run("-vv", "sync")
    # The provider pages with a key in its next-page URL, then fails on that page.
    page = {
        "object": "list",
        "data": [{"id": "a", "object": "model"}],
        "next": f"/v1/models?key={PAGE_SECRET}&page=2",
    }
    provider.queue += [Response(json.dumps(page), content_type="application/json")]
    provider.queue += [Response(f"bad key {PAGE_SECRET}", status=500)]
    run("-vv", "sync", code=1)
    # A receiver whose error page quotes the URL it was called with, key and all.
    hook.status = 404
    hook.refusal = "no hook at {url}"
    provider.set("a", "c")
    run("-vv", "sync")
    run("-vv", "alerts", "test", "changes", code=1)
    run("alerts")
    run("-vv", "alerts", "--format", "json")
    run("-v", "runs", "--format", "csv")
    run("-q", "runs")
    hook.status = 200
    run("-vv", "alerts", "retry")
    run("-vv", "alerts", "dispatch")
    run("-vv", "alerts", "test", "changes")
    assert hook.refused >= 2 and len(hook.accepted) >= 2, "the secret URL was really used"
    failed = json.loads(run("alerts", "--format", "json").stdout)
    assert any(a["attempts"] for a in failed)

    port = closed_port()
    daemon = start(
        ["-vv", "run", "--metrics-port", str(port), "--metrics-host", "127.0.0.1"], env=env
    )
    try:
        metrics = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "syncer_alerts" not in metrics:
            try:
                metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).text
            except requests.ConnectionError:
                time.sleep(0.1)
        daemon.send_signal(signal.SIGTERM)
        out, err = daemon.communicate(timeout=15)
    finally:
        daemon.kill()
    assert "syncer_alerts" in metrics
    outputs += [("syncer -vv run", out + err), ("/metrics", metrics), ("/healthz", health)]

    assert any("urllib3" in text for _, text in outputs), "urllib3's debug lines were on"
    for where, text in outputs:
        assert_clean(where, text)
    assert_clean("the database", every_row(database_url))
