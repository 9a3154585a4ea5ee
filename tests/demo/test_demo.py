"""`syncer demo`: the recorded history goes through the real code into a database that
answers `--as-of` exactly as the recording says, on both databases."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from icalendar import Calendar
from sqlalchemy import Engine

from syncer.cli import cli
from tests.fakes import FakeProvider
from tests.receivers import Clock
from tests.reporting.report_history import sync_at


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def recorded() -> dict[str, Any]:
    text = resources.files("syncer.demo").joinpath("openai-history.json").read_text("utf-8")
    return json.loads(text)


def midnight(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.min, UTC)


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def expected(at: datetime) -> dict[str, str | None]:
    """Straight from the recording: what was listed at ``at``, with its announced date."""
    data = recorded()
    missing = {
        g["model"]
        for g in data["simulated"]["missing"]
        if moment(g["from"]) <= at < moment(g["until"])
    }
    listed = {}
    for entry in data["models"]:
        made = [(a, s) for a, s, _ in entry.get("dates", []) if midnight(a) <= at]
        shutdown = made[-1][1] if made else None
        gone = shutdown is not None and midnight(shutdown) <= at
        if midnight(entry["released"]) <= at and not gone and entry["id"] not in missing:
            listed[entry["id"]] = f"{shutdown}T00:00:00.000000Z" if shutdown else None
    return listed


def test_the_demo_answers_as_of_exactly_as_the_recording_says_and_leaves_a_report(
    database_url: str, tmp_path: Path
) -> None:
    report = tmp_path / "demo.html"
    result = run("demo", "--database-url", database_url, "-o", str(report))
    assert result.exit_code == 0, result.output

    moments = ["2023-08-01T00:00:00Z", "2024-01-04T06:00:00Z", "2024-08-21T00:00:00Z"]
    for at in moments:
        printed = run("--database-url", database_url, "models", "--as-of", at, "--format", "json")
        assert printed.exit_code == 0, printed.output
        rows = {row["model_id"]: row["shutdown_at"] for row in json.loads(printed.stdout)}
        assert rows == expected(moment(at)), at
    first, retired, flapping = (expected(moment(at)) for at in moments)
    assert first["gpt-3.5-turbo-0301"] == "2024-09-13T00:00:00.000000Z"
    assert "text-davinci-003" in first and "text-davinci-003" not in retired
    assert "whisper-1" not in flapping and "gpt-4o" in flapping

    assert "1 failed, 0 held" in result.stdout
    assert "alerts reached the local receiver" in result.stdout
    assert "2 of them paged at once for a model the demo app uses" in result.stdout
    assert (
        "    openai: text-davinci-002 retired (shutdown date 2024-01-04, date from the "
        "provider); replacement: gpt-3.5-turbo-instruct; used in 1 place: "
        "demo-app:app/complete.py:3"
    ) in result.stdout
    assert "of them were weekly digests; the busiest:" in result.stdout
    assert "    syncer digest for rule weekly: 14 vanished or retired" in result.stdout
    assert (
        "      • text-davinci-002: retired as announced for 2024-01-04 (replacement: "
        "gpt-3.5-turbo-instruct; date from the provider; used in 1 place: "
        "demo-app:app/complete.py:3)"
    ) in result.stdout
    assert "Retention plan: openai: 1 to delete" in result.stdout
    assert f"syncer --database-url {database_url} models --as-of" in result.stdout
    moves = run("--database-url", database_url, "history", "gpt-4-32k-0314", "--format", "json")
    kinds = [event["kind"] for event in json.loads(moves.stdout)]
    # Each move of the date: announced (imported), then listed by the provider, which also
    # changes its raw shutdown_date field.
    moved = ["shutdown_changed", "changed", "shutdown_changed"]
    assert kinds == ["added", *moved, *moved]
    page = report.read_text(encoding="utf-8")
    assert 'data-model="o1-mini"' in page and "October 2025" in page
    ics = run("--database-url", database_url, "deprecations", "--format", "ics").stdout_bytes
    summaries = {str(e["SUMMARY"]) for e in Calendar.from_ical(ics).walk("VEVENT")}
    assert "text-davinci-003 shuts down (openai)" in summaries
    assert "o1-mini shuts down (openai)" in summaries


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_demo_refuses_a_database_that_holds_data(
    engine: Engine, provider: FakeProvider, clock: Clock, database_url: str
) -> None:
    provider.set("gpt-4o")
    sync_at(engine, provider, clock)
    refused = run("demo", "--database-url", database_url)
    assert refused.exit_code == 2
    assert refused.stderr.startswith("Error: ") and "needs an empty database" in refused.stderr


def test_the_bundled_recording_is_small_and_says_where_its_facts_come_from() -> None:
    data = resources.files("syncer.demo").joinpath("openai-history.json")
    assert len(data.read_bytes()) < 1_000_000
    about = " ".join(recorded()["about"])
    assert "deprecations" in about and "reconstruction" in about and "invented" in about


def test_the_recording_says_what_openais_deprecations_page_says() -> None:
    """The entries issue 20 found wrong, as the page's history has them."""
    models = {entry["id"]: entry for entry in recorded()["models"]}
    for model_id in ("text-davinci-edit-001", "code-davinci-edit-001"):
        assert models[model_id]["dates"] == [["2023-07-06", "2024-01-04", "gpt-4o"]]
    for model_id in ("text-similarity-ada-001", "text-search-ada-doc-001"):
        assert models[model_id]["dates"] == [["2023-07-06", "2024-01-04", "text-embedding-3-small"]]
    assert models["gpt-3.5-turbo-0301"]["dates"] == [["2023-06-13", "2024-09-13", "gpt-3.5-turbo"]]
    assert "dates" not in models["gpt-4-0314"]
    assert "at earliest 2024-06-13" in models["gpt-4-0314"]["note"]
    assert "Invented for the demo" in " ".join(recorded()["about"])
