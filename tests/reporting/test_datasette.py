"""docs/datasette.yml: current with the reports, and every canned query runs in a real Datasette."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from syncer.cli import cli
from syncer.reporting.datasette import DATABASES, metadata
from syncer.reporting.reports import REPORTS
from tests.fakes import closed_port

yaml = pytest.importorskip("yaml")
pytest.importorskip("datasette", reason="the datasette extra is not installed")

METADATA = Path(__file__).resolve().parents[2] / "docs" / "datasette.yml"
#: Every report's window wide enough to hold the demo's history.
DAYS = "3650"


def test_the_metadata_file_is_the_generated_one() -> None:
    assert yaml.safe_load(METADATA.read_text(encoding="utf-8")) == metadata(), (
        "regenerate it: python -m syncer.reporting.datasette > docs/datasette.yml"
    )
    assert set(metadata()["databases"]) == set(DATABASES)


@pytest.fixture(scope="module")
def datasette(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Datasette on 127.0.0.1 over a SQLite file named as users name theirs: syncer.db."""
    folder = tmp_path_factory.mktemp("datasette")
    database = folder / "syncer.db"
    result = CliRunner().invoke(
        cli, ["demo", "--database-url", f"sqlite:///{database}", "-o", str(folder / "d.html")]
    )
    assert result.exit_code == 0, result.output
    port = closed_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "datasette",
            "serve",
            str(database),
            "-m",
            str(METADATA),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            # `daily` over the demo's years has more than Datasette's default 1,000 rows.
            "--setting",
            "max_returned_rows",
            "5000",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(f"{base}/-/versions.json", timeout=1)
                break
            except requests.ConnectionError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                time.sleep(0.1)
        yield base, database
    finally:
        server.terminate()
        server.communicate(timeout=10)  # reaps it and closes its stderr pipe


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_every_canned_query_answers_as_syncer_report_does(datasette, name: str) -> None:  # type: ignore[no-untyped-def]
    base, database = datasette
    report = REPORTS[name]
    params = {"_shape": "array", "source": ""}
    if report.days is not None:
        params["days"] = DAYS
    response = requests.get(f"{base}/syncer/{name}.json", params=params, timeout=30)
    assert response.status_code == 200, response.text
    rows = response.json()
    args = ["--database-url", f"sqlite:///{database}", "report", name, "--format", "json"]
    if report.days is not None:
        args += ["--days", DAYS]
    printed = json.loads(CliRunner().invoke(cli, args).stdout)
    key = [
        c for c in ("source", "model_id", "day", "base_model", "owned_by") if c in report.columns
    ]
    assert [[r[c] for c in key] for r in rows] == [[r[c] for c in key] for r in printed]
    if name in ("changes", "owners", "daily"):
        assert rows, f"{name}: the demo's history should give rows"
    default = requests.get(f"{base}/syncer/{name}.json", params={"_shape": "array"}, timeout=30)
    assert default.status_code == 200, default.text
