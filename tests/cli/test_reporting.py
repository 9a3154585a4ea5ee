"""The reporting commands, black-box: `models --as-of`, `diff`, `history` and `report`."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from syncer.reporting import reports
from tests.fakes import FakeProvider, model


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


#: For tests of the command wiring: the SQL underneath is tested on both databases elsewhere.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def without_last_seen(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "last_seen_at"} for row in rows]


@pytest.fixture
def two_syncs(invoke, provider: FakeProvider) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """a and b, then a changes owner, b vanishes and c arrives; what was printed between."""
    provider.models = [model("a"), model("b")]
    assert invoke("sync").exit_code == 0
    between = datetime.now(UTC).isoformat()
    printed = as_json(invoke("models", "--all", "--format", "json"))
    provider.models = [model("a", owned_by="acme"), model("c")]
    assert invoke("sync").exit_code == 0
    return {"between": between, "printed": printed}


def test_models_as_of_prints_what_models_printed_then(invoke, two_syncs) -> None:
    then = as_json(invoke("models", "--all", "--as-of", two_syncs["between"], "--format", "json"))
    assert without_last_seen(then) == without_last_seen(two_syncs["printed"])
    present = as_json(invoke("models", "--format", "json"))
    assert [(m["model_id"], m["owned_by"]) for m in present] == [("a", "acme"), ("c", "openai")]
    before = invoke("models", "--as-of", "2000-01-01")
    assert before.exit_code == 0
    assert before.stderr.startswith("(no rows: the history starts at ")
    table = invoke("models", "--as-of", "0d").stdout.splitlines()
    assert table[0].split()[:3] == ["source", "model_id", "owned_by"]


@SQLITE_ONLY
def test_models_as_of_an_unreadable_time_is_a_usage_error(invoke, two_syncs) -> None:
    result = invoke("models", "--as-of", "last tuesday")
    assert result.exit_code == 2
    assert "--as-of" in result.stderr and "not a time" in result.stderr


@SQLITE_ONLY
def test_diff_lists_what_changed_between_two_moments(invoke, two_syncs) -> None:
    rows = list(
        csv.DictReader(io.StringIO(invoke("diff", two_syncs["between"], "--format", "csv").stdout))
    )
    assert [(r["model_id"], r["change"]) for r in rows] == [
        ("a", "changed"),
        ("b", "vanished"),
        ("c", "added"),
    ]
    assert json.loads(rows[0]["old_values"]) == {"owned_by": "openai"}
    assert json.loads(rows[0]["new_values"]) == {"owned_by": "acme"}
    backwards = invoke("diff", "0d", two_syncs["between"])
    assert backwards.exit_code == 2
    assert "is after TO" in backwards.stderr


@SQLITE_ONLY
def test_history_shows_every_event_and_interval_of_one_model(
    invoke, two_syncs, provider: FakeProvider
) -> None:
    provider.models = [model("a"), model("b"), model("c")]
    invoke("sync")
    events = as_json(invoke("history", "b", "--format", "json"))
    assert [(e["kind"], e["interval_number"]) for e in events] == [
        ("added", 1),
        ("vanished", 1),
        ("reappeared", 2),
    ]
    intervals = as_json(invoke("history", "b", "--intervals", "--format", "json"))
    assert [(i["started_by"], i["ended_by"]) for i in intervals] == [
        ("added", "vanished"),
        ("reappeared", None),
    ]
    assert intervals[0]["available_until"].endswith("Z")
    assert intervals[0]["days_available"] >= 0
    missing = invoke("history", "nope")
    assert missing.exit_code == 1
    assert "no history for model 'nope'" in missing.stderr


@SQLITE_ONLY
def test_report_list_names_every_report_on_one_line_each(invoke) -> None:
    lines = invoke("report", "--list").stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(reports.REPORTS)
    listed = as_json(invoke("report", "--list", "--format", "json"))
    assert [r["name"] for r in listed] == list(reports.REPORTS)


def test_reports_print_in_every_format(invoke, two_syncs) -> None:
    owners = as_json(invoke("report", "owners", "--format", "json"))
    assert [(r["owned_by"], r["models"]) for r in owners] == [("acme", 1), ("openai", 1)]
    changes = list(
        csv.DictReader(
            io.StringIO(invoke("report", "changes", "--days", "1", "--format", "csv").stdout)
        )
    )
    assert len(changes) == 5
    assert changes[0]["occurred_at"].endswith("Z")
    table = invoke("report", "owners", "--source", "openai").stdout.splitlines()
    assert table[0].split() == list(reports.REPORTS["owners"].columns)


@SQLITE_ONLY
def test_report_sql_prints_the_query_without_a_database(invoke) -> None:
    result = invoke("--database-url", "sqlite:////nonexistent/x.db", "report", "daily", "--sql")
    assert result.exit_code == 0
    assert "FROM inventory_daily d" in result.stdout
    assert re.search(r"WHERE d\.day >= '\d{4}-\d\d-\d\d' AND", result.stdout)
    assert not Path("/nonexistent").exists()


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("report",), "name a report"),
        (("report", "nope"), "no report 'nope'; one of: changes"),
        (("report", "owners", "--days", "3"), "report 'owners' takes no --days"),
        (("report", "changes", "--days", "0"), "--days"),
    ],
)
def test_report_usage_errors_exit_2(invoke, args: tuple[str, ...], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.stderr
