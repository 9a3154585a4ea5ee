"""The Prometheus rules, checked by promtool and loaded into a real Prometheus that scrapes a
real ``syncer run --metrics-port`` syncing a loopback provider.

Debian's ``prometheus`` package provides both binaries. Without them these tests skip, unless
SYNCER_REQUIRE_PROMETHEUS=1 (CI), where they fail instead. The live test scrapes and evaluates
every second, with each rule's ``for:`` cut to 0s in a copy of the rules, so alerts fire in
seconds; ``promtool test rules`` checks the real ``for:`` durations.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.fakes import closed_port, model
from tests.processes import clean_env, start, syncer

DEPLOY = Path(__file__).parents[2] / "deploy"
RULES = DEPLOY / "prometheus" / "syncer-rules.yml"
DASHBOARD = DEPLOY / "grafana" / "syncer-dashboard.json"


def binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("SYNCER_REQUIRE_PROMETHEUS") == "1":
            pytest.fail(f"SYNCER_REQUIRE_PROMETHEUS=1 but {name} is not installed")
        pytest.skip(f"{name} is not installed (Debian's prometheus package)")
    return found


def test_rules_pass_promtool_check_and_their_unit_tests() -> None:
    promtool = binary("promtool")
    checked = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(
        [promtool, "test", "rules", "syncer-rules.test.yml"],
        cwd=RULES.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


class Provider:
    """``GET /v1/models`` on a loopback server: three models, two of them dated, until
    ``failing`` is set (then 500)."""

    def __init__(self, server: HTTPServer, today: date) -> None:
        self.failing = False
        self.models = [
            model("gpt-4-0613", shutdown_date=(today + timedelta(days=3)).isoformat()),
            model("o1", shutdown_date=(today + timedelta(days=20)).isoformat()),
            model("unused-0301", shutdown_date=(today + timedelta(days=3)).isoformat()),
            model("gpt-4o"),
        ]
        server.expect_request("/v1/models").respond_with_handler(self._list)

    def _list(self, request: Request) -> Response:
        if self.failing:
            return Response("down", status=500)
        body = {"object": "list", "data": self.models}
        return Response(json.dumps(body), content_type="application/json")


@dataclass
class Stack:
    prometheus: str
    provider: Provider

    def query(self, promql: str) -> list[dict[str, Any]]:
        response = requests.get(
            f"{self.prometheus}/api/v1/query", params={"query": promql}, timeout=5
        )
        assert response.status_code == 200, response.text
        result: list[dict[str, Any]] = response.json()["data"]["result"]
        return result

    def firing(self) -> set[tuple[str, str]]:
        """(alert name, its source or model label) of every firing alert."""
        response = requests.get(f"{self.prometheus}/api/v1/alerts", timeout=5)
        return {
            (
                alert["labels"]["alertname"],
                alert["labels"].get("model", alert["labels"].get("source", "")),
            )
            for alert in response.json()["data"]["alerts"]
            if alert["state"] == "firing"
        }


def wait_for(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = check()
        except requests.ConnectionError:
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def fast_rules(path: Path) -> None:
    """The rules with every ``for:`` at 0s: the same expressions, firing at once."""
    document = yaml.safe_load(RULES.read_text())
    for group in document["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = "0s"
    path.write_text(yaml.safe_dump(document))


@pytest.fixture
def stack(tmp_path: Path, httpserver: HTTPServer) -> Iterator[Stack]:
    prometheus = binary("prometheus")
    provider = Provider(httpserver, datetime.now(UTC).date())
    config = tmp_path / "syncer.toml"
    config.write_text(
        '[schedule]\nevery = "1s"\njitter = 0\n\n[http]\nmax_retries = 0\n\n'
        f'[[sources]]\nname = "openai"\nbase_url = "{httpserver.url_for("/v1")}"\n\n'
        # Its URL's variable is unset: the alerts wait in the outbox, for syncer_alerts.
        '[[alerts]]\nname = "countdown"\nkind = "shutdown"\n'
        'webhook_url_env = "SYNCER_TEST_UNSET_HOOK"\n\n'
        # Syncs every second would go stale after 3 s of a busy machine: not what is tested.
        '[[alerts]]\nname = "health"\nkind = "stale"\nstale_after = "1h"\n'
        'webhook_url_env = "SYNCER_TEST_UNSET_HOOK"\n'
    )
    config.chmod(0o600)
    database = f"sqlite:///{tmp_path / 'syncer.db'}"
    common = ("--config", str(config), "--database-url", database)
    synced = syncer(*common, "sync")
    assert synced.returncode == 0, synced.stderr
    code = tmp_path / "app"
    code.mkdir()
    (code / "main.py").write_text('CHAT = "gpt-4-0613"\nREASONING = "o1"\n')
    scanned = syncer(*common, "scan", "--record", "--repository", "app", str(code))
    assert scanned.returncode in (0, 1), scanned.stderr  # 1: the shutting-down policy failed

    metrics_port, prometheus_port = closed_port(), closed_port()
    rules = tmp_path / "rules.yml"
    fast_rules(rules)
    (tmp_path / "prometheus.yml").write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [str(rules)],
                "scrape_configs": [
                    {
                        "job_name": "syncer",
                        "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}],
                    }
                ],
            }
        )
    )
    daemon = start(
        [*common, "run", "--metrics-host", "127.0.0.1", "--metrics-port", str(metrics_port)],
        env=clean_env(),
    )
    server = subprocess.Popen(
        [
            prometheus,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{prometheus_port}",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{prometheus_port}"
        wait_for(
            lambda: requests.get(f"{base}/-/ready", timeout=2).status_code == 200,
            "Prometheus to be ready",
        )
        yield Stack(base, provider)
    finally:
        for process in (server, daemon):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()


def test_prometheus_scrapes_syncer_and_fires_the_shutdown_and_failing_source_alerts(
    stack: Stack,
) -> None:
    shutdowns = wait_for(
        lambda: stack.query("syncer_model_shutdown_timestamp_seconds"), "the shutdown series"
    )
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert {s["metric"]["model"]: float(s["value"][1]) for s in shutdowns} == {
        "gpt-4-0613": (today + timedelta(days=3)).timestamp(),
        "o1": (today + timedelta(days=20)).timestamp(),
        "unused-0301": (today + timedelta(days=3)).timestamp(),
    }
    wait_for(lambda: stack.query('up{job="syncer"} == 1'), "a successful scrape")
    assert {s["metric"]["model"] for s in stack.query("syncer_model_uses")} == {"gpt-4-0613", "o1"}

    wait_for(
        lambda: (
            {
                ("ModelInUseShutsDownWithin7Days", "gpt-4-0613"),
                ("ModelInUseShutsDownWithin30Days", "o1"),
            }
            <= stack.firing()
        ),
        "the in-use shutdown alerts",
    )
    assert ("SyncerSourceFailing", "openai") not in stack.firing()
    assert not any(label == "unused-0301" for _, label in stack.firing())

    stack.provider.failing = True
    wait_for(
        lambda: ("SyncerSourceFailing", "openai") in stack.firing(), "the failing source alert"
    )


def dashboard_queries() -> dict[str, str]:
    """Every PromQL expression of the dashboard, by panel title and query letter."""
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["schemaVersion"] == 39
    return {
        f"{panel['title']} {target['refId']}": target["expr"]
        for panel in dashboard["panels"]
        for target in panel["targets"]
    }


def test_the_dashboard_is_importable_as_is() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    (variable,) = dashboard["templating"]["list"]
    assert (variable["name"], variable["type"], variable["query"]) == (
        "datasource",
        "datasource",
        "prometheus",
    )
    for panel in dashboard["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], panel["title"]
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])


def test_every_dashboard_query_returns_data_from_a_live_prometheus(stack: Stack) -> None:
    queries = dashboard_queries()
    assert len(queries) >= 10
    empty = dict(queries)

    def all_answered() -> bool:
        for name, expr in list(empty.items()):
            if stack.query(expr):
                del empty[name]
        return not empty

    try:
        wait_for(all_answered, "every dashboard query to return data")
    except AssertionError:
        raise AssertionError(f"no data for {empty}") from None
