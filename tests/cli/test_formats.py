"""Every command and report that prints rows, in JSON and CSV, on a database holding every
column type the schema has: timestamps, dates, JSON documents, booleans, numbers and NULL."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from syncer.reporting import reports
from tests.fakes import FakeProvider, closed_port, model
from tests.receivers import Receiver

#: JSON and CSV write every time with microseconds, in UTC, ending in Z.
MACHINE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
DATE = re.compile(r"^\d{4}-\d\d-\d\d$")
#: Columns that hold a calendar day rather than a moment.
DATE_COLUMNS = {"day"}


NOW = int(time.time())


def aged(model_id: str, days: float, **fields: Any) -> dict[str, Any]:
    return model(model_id, created=NOW - int(days * 86400), **fields)


@pytest.fixture
def full(invoke, provider: FakeProvider, receiver: Receiver, tmp_path: Path, monkeypatch):  # type: ignore[no-untyped-def]
    """A database with every kind of row: changed and vanished models, a fine-tune deleted by
    retention, a failed source, an imported shutdown date, delivered and pending alerts."""
    config = tmp_path / "syncer.toml"
    config.write_text(
        f"[http]\nmax_retries = 0\n\n"
        f'[[sources]]\nname = "openai"\nbase_url = "{provider.base_url}"\n'
        f'[sources.retention]\nmax_age = "90d"\ninclude = ["ft:*:acme:*"]\n\n'
        f'[[sources]]\nname = "down"\nbase_url = "http://127.0.0.1:{closed_port()}/v1"\n\n'
        # The same models under another name, so the cross-source report has rows.
        f'[[sources]]\nname = "mirror"\nkind = "vllm"\nbase_url = "{provider.base_url}"\n\n'
        '[[alerts]]\nname = "changes"\nwebhook_url_env = "HOOK_URL"\n\n'
        '[[alerts]]\nname = "countdown"\nkind = "shutdown"\nwebhook_url_env = "NOT_SET"\n'
    )
    monkeypatch.setenv("SYNCER_CONFIG", str(config))
    monkeypatch.setenv("HOOK_URL", receiver.url)
    provider.models = [
        aged("gpt-4o", 900, owned_by="system", shutdown_date="2027-01-01"),
        aged("ft:gpt-4o:acme:support:old", 400, owned_by="org-acme"),
        aged("ft:gpt-4o:acme:support:new", 200, owned_by="org-acme"),
        {"id": "bare", "object": "model"},  # no created, no owned_by: NULL columns
        aged("gone", 10),
    ]
    assert invoke("sync", "--source", "openai").exit_code == 0
    provider.models = [
        aged("gpt-4o", 900, owned_by="acme", shutdown_date="2027-01-01"),
        *provider.models[1:4],
        aged("new", 1),
    ]
    assert invoke("sync", "--source", "openai").exit_code == 0
    assert invoke("retention", "apply", "--yes").exit_code == 0, "deletes ...:old"
    assert invoke("sync").exit_code == 1, "the source 'down' fails"
    dates = tmp_path / "dates.csv"
    dates.write_text("model,shutdown_date,replacement,source\nbare,2026-12-01,gpt-4o,\n")
    assert invoke("deprecations", "import", str(dates)).exit_code == 0
    return invoke


def commands() -> list[tuple[str, ...]]:
    listing = [
        ("models",),
        ("models", "--all"),
        ("models", "--as-of", "0d", "--all"),
        ("models", "show", "gpt-4o"),
        ("models", "show", "bare"),
        ("events",),
        ("runs",),
        ("diff", "7d"),
        ("history", "gone"),
        ("history", "gpt-4o", "--intervals"),
        ("report", "--list"),
        ("retention", "plan", "--all", "--source", "openai"),
        ("alerts",),
        ("deprecations",),
        ("sources",),
    ]
    return listing + [("report", name) for name in reports.REPORTS]


def check_json_value(column: str, value: Any) -> None:
    assert isinstance(value, str | int | float | bool | dict | list | None), (column, value)
    if isinstance(value, str) and (column.endswith("_at") or column in DATE_COLUMNS):
        pattern = DATE if column in DATE_COLUMNS else MACHINE_TIME
        assert pattern.match(value), (column, value)


def test_every_command_prints_every_column_type_as_json_and_csv(full) -> None:  # type: ignore[no-untyped-def]
    seen: dict[str, set[type]] = {}
    for args in commands():
        printed = full(*args, "--format", "json")
        assert printed.exit_code == 0, (args, printed.output)
        rows = json.loads(printed.stdout)
        assert rows, args
        for row in rows:
            for column, value in row.items():
                check_json_value(column, value)
                seen.setdefault(column, set()).add(type(value))
        as_csv = full(*args, "--format", "csv")
        assert as_csv.exit_code == 0, (args, as_csv.output)
        table = list(csv.DictReader(io.StringIO(as_csv.stdout)))
        assert len(table) == len(rows), args
        for from_json, from_csv in zip(rows, table, strict=True):
            assert list(from_csv) == list(from_json), args
            for column, value in from_json.items():
                expected = (
                    ""
                    if value is None
                    else "true"
                    if value is True
                    else "false"
                    if value is False
                    else json.dumps(value, sort_keys=True, ensure_ascii=False)
                    if isinstance(value, dict | list)
                    else str(value)
                )
                assert from_csv[column] == expected, (args, column)
    # The data covered every type the schema has.
    assert {bool} <= seen["is_fine_tuned"]
    assert {dict} <= seen["raw"] and {dict} <= seen["details"]
    assert type(None) in seen["vanished_at"] and str in seen["vanished_at"]
    assert str in seen["day"]
    assert float in seen["days_available"] or int in seen["days_available"]


#: Tables, `models show`, messages and log lines give times to the second, ending in Z.
HUMAN_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
#: A time a person reads; one inside a JSON value (a changed event's old and new values,
#: quoted) is that document's data, shown as stored.
ANY_TIME = re.compile(r'(?<!")\d{4}-\d\d-\d\d[T ]\d\d:\d\d[^\s,;)"]*')


def times_in(text: str) -> list[str]:
    return ANY_TIME.findall(text)


def test_tables_and_models_show_write_times_to_the_second(full) -> None:  # type: ignore[no-untyped-def]
    found = []
    for args in commands():
        printed = full(*args)
        assert printed.exit_code == 0, (args, printed.output)
        found += times_in(printed.stdout)
    assert len(found) > 50
    assert [t for t in found if not HUMAN_TIME.match(t)] == []


def test_the_dispatch_log_writes_the_retry_time_to_the_second(
    full,
    provider: FakeProvider,
    receiver: Receiver,  # type: ignore[no-untyped-def]
) -> None:
    receiver.status = 500
    provider.models = [m for m in provider.models if m["id"] != "new"]
    result = full("sync", "--source", "openai")
    retry_lines = [line for line in result.stderr.splitlines() if "retry at" in line]
    assert retry_lines, result.stderr
    for line in retry_lines:
        stamp, _, rest = line.partition(" ")
        assert HUMAN_TIME.match(stamp), line
        assert [t for t in times_in(rest) if not HUMAN_TIME.match(t)] == [], line


def _normal(cell: str) -> Any:
    """One value as SQL clients and syncer's CSV both mean it, for comparing them."""
    if cell in ("", "NULL"):
        return None
    if cell in ("t", "true"):
        return True
    if cell in ("f", "false"):
        return False
    try:
        return round(float(cell), 3)
    except ValueError:
        pass
    try:
        zoned = re.sub(r"([+-]\d\d)$", r"\1:00", cell.replace("Z", "+00:00"))  # psql's +00
        moment = datetime.fromisoformat(zoned)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except ValueError:
        pass
    try:
        return json.loads(cell)
    except ValueError:
        return cell


def run_sql(database_url: str, sql: str) -> list[dict[str, Any]]:
    """The rows a user gets by pasting ``sql`` into the database's own client."""
    if database_url.startswith("sqlite:///"):
        command = ["sqlite3", "-csv", "-header", database_url.removeprefix("sqlite:///"), sql]
    else:
        command = [
            "psql",
            database_url.replace("+psycopg", ""),
            "--csv",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            "SET TIME ZONE 'UTC'",
            "-c",
            sql,
        ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and not done.stderr, done.stderr
    text = done.stdout.removeprefix("SET\n")
    return [{k: _normal(v) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]


@pytest.mark.parametrize(
    "options",
    [(), ("--source", "openai"), ("--source", "down"), ("--days", "2")],
    ids=["defaults", "source", "other-source", "days"],
)
def test_report_sql_runs_as_printed_in_the_database_in_use(
    full,
    database_url: str,
    options: tuple[str, ...],  # type: ignore[no-untyped-def]
) -> None:
    for name, report in reports.REPORTS.items():
        if "--days" in options and report.days is None:
            continue
        printed = full("report", name, "--sql", *options)
        assert printed.exit_code == 0, printed.output
        assert ":source" not in printed.stdout and ":since" not in printed.stdout
        ran = run_sql(database_url, printed.stdout)
        as_csv = full("report", name, *options, "--format", "csv")
        expected = [
            {k: _normal(v) for k, v in row.items()}
            for row in csv.DictReader(io.StringIO(as_csv.stdout))
        ]
        assert ran == expected, name
        if name == "changes" and options != ("--source", "down"):
            assert ran, "the data reaches every report"
