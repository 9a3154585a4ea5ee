"""The inventory snapshot: export, its JSON Schema, the round trip, and scanning against a
file, a URL and ``syncer run``'s ``/inventory.json``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
from click.testing import Result
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine

from syncer.config.load import load_settings
from syncer.config.model import Settings
from syncer.runtime.server import serve
from syncer.scan.inventory import from_document, to_document

from .conftest import EXPECTED, write_tree
from .test_scan_cli import findings

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "syncer" / "scan" / "inventory-v1.schema.json").read_text()
)


def export(invoke: Callable[..., Result], tmp_path: Path) -> dict[str, Any]:
    target = tmp_path / "inventory.json"
    result = invoke("inventory", "export", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == f"{target}: 9 models of 1 sources"
    document: dict[str, Any] = json.loads(target.read_text())
    return document


@pytest.mark.usefixtures("synced")
def test_an_export_is_valid_against_its_schema_and_reads_back_unchanged(
    invoke: Callable[..., Result], tmp_path: Path
) -> None:
    document = export(invoke, tmp_path)
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    assert to_document(from_document(document, "inventory.json")) == document
    by_id = {m["model_id"]: m for m in document["models"]}
    assert by_id["text-davinci-003"]["vanished_at"] is not None
    assert by_id["gpt-4-32k"]["shutdown_origin"] == "provider"
    assert by_id["text-embedding-ada-002"]["shutdown_origin"].endswith("deps.csv")
    assert by_id["text-embedding-ada-002"]["replacement"] == "text-embedding-3-small"
    assert [d["model"] for d in document["deprecations"]] == ["text-embedding-ada-002"]
    assert [s["name"] for s in document["sources"]] == ["openai"]


@pytest.mark.usefixtures("synced")
def test_an_export_replaces_its_target_in_one_step_and_never_writes_through_a_symlink(
    invoke: Callable[..., Result], tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("theirs")
    link = tmp_path / "linked.json"
    link.symlink_to(victim)
    target = tmp_path / "inventory.json"
    target.write_text("old snapshot")
    target.chmod(0o640)

    with target.open() as reader:
        assert invoke("inventory", "export", "-o", str(link)).exit_code == 0
        assert export(invoke, tmp_path)["format"] == "syncer-inventory"
        assert reader.read() == "old snapshot"  # the old file was replaced, not rewritten

    assert victim.read_text() == "theirs"
    assert not link.is_symlink() and json.loads(link.read_text())["version"] == 1
    assert target.stat().st_mode & 0o777 == 0o640
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_the_schema_refuses_what_a_reader_would_refuse() -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    good = {
        "format": "syncer-inventory",
        "version": 1,
        "exported_at": "2026-03-01T12:00:00.000000Z",
        "sources": [],
        "models": [],
        "deprecations": [],
    }
    validator.validate(good)
    for bad in (
        {**good, "version": 2},
        {**good, "exported_at": "yesterday"},
        {**good, "models": [{"source": "a"}]},
    ):
        assert not validator.is_valid(bad)


@pytest.mark.usefixtures("synced")
def test_a_scan_against_the_export_finds_what_a_scan_against_the_database_finds(
    invoke: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export(invoke, tmp_path)
    tree = write_tree(tmp_path / "repo")
    (tree / "inventory.json").write_text((tmp_path / "inventory.json").read_text())
    monkeypatch.chdir(tree)
    monkeypatch.setenv("SYNCER_DATABASE_URL", "sqlite:////nonexistent/syncer.db")
    from_file = invoke("scan", "--all", "--inventory", "inventory.json")
    assert findings(from_file.stdout) == EXPECTED  # the inventory file itself is not scanned
    assert from_file.exit_code == 1


def test_a_scan_reads_an_inventory_url_and_run_serves_one(
    invoke: Callable[..., Result],
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    httpserver: HTTPServer,
) -> None:
    invoke("sync")  # the provider lists nothing: an empty inventory
    with serve(engine, Settings(), "127.0.0.1", 0) as (host, port):
        served = requests.get(f"http://{host}:{port}/inventory.json", timeout=5)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "application/json"
    jsonschema.Draft202012Validator(SCHEMA).validate(served.json())
    document = {
        **served.json(),
        "models": [
            {
                "source": "openai",
                "model_id": "command-r",
                "first_seen_at": served.json()["exported_at"],
                "last_seen_at": None,
                "vanished_at": None,
                "shutdown_at": None,
                "shutdown_origin": None,
                "replacement": "command-a",
                "lifecycle_status": "deprecated",
            }
        ],
    }
    httpserver.expect_request("/inventory.json").respond_with_json(document)
    (tmp_path / "app.py").write_text('MODEL = "command-r"\n')
    monkeypatch.chdir(tmp_path)
    result = invoke(
        "scan", "--inventory", httpserver.url_for("/inventory.json"), "--fail-on", "deprecated"
    )
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1].split() == [
        "!",
        "1:10",
        "command-r",
        "deprecated",
        "deprecated",
        "by",
        "openai,",
        "no",
        "shutdown",
        "date",
        "yet;",
        "use",
        "command-a",
        "instead",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Error: missing.json: cannot read it: No such file or directory"),
        ("{", "Error: missing.json: not valid JSON"),
        (
            '{"format": "syncer-inventory", "version": 9}',
            "Error: missing.json: inventory version 9: this syncer reads version 1",
        ),
        (
            '{"format": "syncer-inventory", "version": 1, "exported_at": "2026-01-01T00:00:00Z", '
            '"models": [{"source": "a"}]}',
            "Error: missing.json: models[0].model_id: expected a non-empty string",
        ),
        ("[]", "Error: missing.json: (top): expected an object"),
    ],
)
def test_an_unreadable_inventory_exits_2_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None, message: str
) -> None:
    from click.testing import CliRunner

    from syncer.cli import cli

    monkeypatch.chdir(tmp_path)
    if content is not None:
        (tmp_path / "missing.json").write_text(content)
    result = CliRunner().invoke(cli, ["scan", "--inventory", "missing.json"])
    assert result.exit_code == 2
    assert result.stderr.startswith(message)


def test_an_inventory_url_must_be_https_unless_local(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from syncer.cli import cli

    result = CliRunner().invoke(
        cli, ["scan", str(tmp_path), "--inventory", "http://user:pw@example.com/i.json?t=s"]
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: http://example.com/i.json: an inventory URL must be "
        "https:// (http only to localhost)\n"
    )


def test_no_database_is_an_inventory_error_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from syncer.cli import cli

    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'none.db'}"
    result = CliRunner().invoke(cli, ["--database-url", url, "scan"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: inventory: ")
    assert not (tmp_path / "none.db").exists()


def test_a_document_round_trips_through_plain_data() -> None:
    document = {
        "format": "syncer-inventory",
        "version": 1,
        "exported_at": "2026-03-01T12:00:00.000000Z",
        "sources": [{"name": "openai", "listed_at": None}],
        "models": [
            {
                "source": "openai",
                "model_id": "gpt-4",
                "first_seen_at": "2025-03-01T12:00:00.000000Z",
                "last_seen_at": None,
                "vanished_at": "2026-01-01T00:00:00.000000Z",
                "shutdown_at": None,
                "shutdown_origin": None,
                "replacement": "gpt-4o",
                "lifecycle_status": None,
            }
        ],
        "deprecations": [
            {
                "model": "gpt-4-*",
                "source": "*",
                "shutdown_at": "2026-06-06T00:00:00.000000Z",
                "replacement": None,
                "origin": None,
            }
        ],
    }
    inventory = from_document(document, "x")
    assert inventory.exported_at == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert to_document(inventory) == document


@pytest.mark.parametrize("table", ["http", "server"])
def test_a_scan_sends_the_servers_token_from_its_settings(
    invoke: Callable[..., Result],
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    table: str,
) -> None:
    """Issue 22: ``syncer run``'s server behind ``token_env`` answers the scan only when the
    scan's own settings name the token, whichever table holds the key; the token is never
    printed."""
    token = "scan-token-0123456789abcdef"
    invoke("sync")
    (tmp_path / "conf").mkdir()  # not ./syncer.toml, which a scan in tmp_path would read
    config = tmp_path / "conf" / "syncer.toml"
    config.write_text(f'[{table}]\ntoken_env = "SCAN_HTTP_TOKEN"\n', encoding="utf-8")
    monkeypatch.setenv("SCAN_HTTP_TOKEN", token)
    (tmp_path / "app.py").write_text('MODEL = "gpt-4o"\n')
    monkeypatch.chdir(tmp_path)
    settings = load_settings(config_file=config)
    with serve(engine, settings, "127.0.0.1", 0) as (host, port):
        url = f"http://{host}:{port}/inventory.json"
        with_token = invoke("--config", str(config), "scan", "app.py", "--inventory", url)
        without = invoke("scan", "app.py", "--inventory", url)
        monkeypatch.setenv("SCAN_HTTP_TOKEN", "not-the-token")
        wrong = invoke("--config", str(config), "scan", "app.py", "--inventory", url)
        monkeypatch.delenv("SCAN_HTTP_TOKEN")
        unset = invoke("--config", str(config), "scan", "app.py", "--inventory", url)

    assert with_token.exit_code == 0, with_token.output
    assert "1 file" in with_token.stderr
    assert (without.exit_code, without.stderr) == (
        2,
        (
            f"Error: {url}: HTTP 401: the server wants a token: set [http] token_env to the "
            "variable that holds it, as the server's configuration does\n"
        ),
    )
    assert (wrong.exit_code, wrong.stderr.splitlines()[-1]) == (
        2,
        f"Error: {url}: HTTP 401: the server refused the token in SCAN_HTTP_TOKEN",
    )
    assert (unset.exit_code, unset.stderr.splitlines()[-1]) == (
        2,
        (
            f"Error: {url}: HTTP 401: the server wants a token: [http] token_env names "
            "SCAN_HTTP_TOKEN, which is not set"
        ),
    )
    for result in (with_token, without, wrong, unset):
        assert token not in result.output
