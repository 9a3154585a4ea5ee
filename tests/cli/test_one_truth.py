"""One truth about each model's lifecycle (issue 20): every output gives the same shutdown
date, origin and replacement for every model, on SQLite and PostgreSQL.

One database of six kinds holds provider dates (OpenAI, Azure, OpenRouter, Mistral), dates
imported from LiteLLM's map with and without its vendor prefixes (for kinds that list dates
and kinds that list none), a glob from a file of our own, conflicts where the provider's date
wins, a date the provider moves, one an import moves, one the provider clears and one an
import clears. Then the CLI (table-less formats), the views, the canned reports, the HTML
report, the calendar, ``/shutdowns.ics``, ``/metrics`` and the alert payloads are read, and
each must say what ``syncer.lifecycle`` decided and stored.
"""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.request
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from icalendar import Calendar
from sqlalchemy import text

from syncer.config.load import load_settings
from syncer.db.engine import make_engine
from syncer.runtime.metrics import serve
from tests.cli import test_kinds
from tests.cli.test_kinds import Providers, rows

# The six providers and the ``syncer`` runner of the six-kind tests.
providers = test_kinds.providers
syncer = test_kinds.syncer

#: (date, origin, replacement) of a model; None for each when no date is in force.
Truth = tuple[str | None, str | None, str | None]


@pytest.fixture
def outputs(
    syncer: Callable[..., Result], providers: Providers, tmp_path: Path
) -> tuple[Callable[..., Result], dict[tuple[str, str], Truth], Path]:
    """The database of the scenario above, the ``syncer`` runner and what must be true."""
    config = next(tmp_path.glob("*.toml"))
    config.write_text(config.read_text(encoding="utf-8") + """
[[alerts]]
name = "countdown"
kind = "shutdown"
thresholds = [100000]
webhook_url_env = "UNSET_HOOK_URL"
""", encoding="utf-8")
    assert syncer("sync").exit_code == 0
    prices = tmp_path / "model_prices_and_context_window.json"
    prices.write_text(json.dumps({
        "claude-opus-4": {"litellm_provider": "anthropic", "deprecation_date": "2027-06-15",
                          "deprecation_source": "https://platform.claude.com/deprecations"},
        "gemini/gemini-2.5-pro": {"litellm_provider": "gemini", "deprecation_date": "2027-06-17"},
        "openai/gpt-5.6": {"litellm_provider": "openai", "deprecation_date": "2027-01-15"},
        "gpt-4o": {"litellm_provider": "openai", "deprecation_date": "2026-03-31"},
        "azure/gpt-4o": {"litellm_provider": "azure", "deprecation_date": "2026-03-01"},
    }), encoding="utf-8")
    first, second = tmp_path / "deps.csv", tmp_path / "deps-2.csv"
    first.write_text(
        "model,shutdown_date,replacement,source,source_url\n"
        "claude-haiku*,2027-03-01,claude-haiku-5,claude,https://example.com/haiku\n"
        "mistral-medium-2508,2027-02-01,mistral-medium-latest,mistral,\n",
        encoding="utf-8",
    )
    second.write_text(
        "model,shutdown_date,replacement,source,source_url\n"
        "claude-haiku*,2027-04-01,claude-haiku-5,claude,https://example.com/haiku\n",
        encoding="utf-8",
    )
    assert syncer("deprecations", "import", str(prices)).exit_code == 0
    assert syncer("deprecations", "import", str(first)).exit_code == 0
    # The provider moves one date and clears another (with its replacement).
    providers.openai[0]["shutdown_date"] = "2026-12-23"
    providers.mistral[0]["deprecation"] = None
    providers.mistral[0]["deprecation_replacement_model"] = None
    assert syncer("sync").exit_code == 0
    # An import moves the glob's date and, replacing every entry, clears mistral-medium's;
    # LiteLLM's map is then imported again.
    assert syncer("deprecations", "import", "--replace", str(second)).exit_code == 0
    assert syncer("deprecations", "import", str(prices)).exit_code == 0
    truth: dict[tuple[str, str], Truth] = {
        ("openai", "gpt-4o"): ("2026-12-23", "provider", None),
        ("openai", "gpt-5.6"): ("2027-01-15", str(prices), None),
        ("azure-eu", "gpt-4o"): ("2026-11-30", "provider", None),
        ("claude", "claude-opus-4"): ("2027-06-15", str(prices), None),
        ("claude", "claude-haiku-4-5"): ("2027-04-01", str(second), "claude-haiku-5"),
        ("gem", "gemini-2.5-pro"): ("2027-06-17", str(prices), None),
        ("openrouter", "openai/gpt-4o"): ("2026-10-01", "provider", None),
    }
    for source, model_id in (
        ("claude", "claude-sonnet-4-6"), ("claude", "claude-opus-4-1"),
        ("gem", "gemini-2.5-flash"), ("gem", "gemini-embedding-001"),
        ("openrouter", "google/gemini-2.5-flash"),
        ("openrouter", "mistralai/magistral-medium-2509"),
        ("mistral", "magistral-medium-2509"), ("mistral", "mistral-medium-2508"),
    ):
        truth[source, model_id] = (None, None, None)
    return syncer, truth, config


def dated(truth: dict[tuple[str, str], Truth]) -> dict[tuple[str, str], Truth]:
    return {key: value for key, value in truth.items() if value[0] is not None}


def day(value: Any) -> str | None:
    return None if value is None else str(value)[:10]


def by_model(
    found: list[dict[str, Any]], date_key: str = "shutdown_at", origin_key: str = "origin",
) -> dict[tuple[str, str], Truth]:
    return {
        (r["source"], r["model_id"]): (day(r[date_key]), r[origin_key] or None,
                                       r["replacement"] or None)
        for r in found
    }


def calendar_truth(feed: bytes) -> dict[tuple[str, str], Truth]:
    """Each event's model, date, origin and replacement, read back from its text."""
    found = {}
    for event in Calendar.from_ical(feed).walk("VEVENT"):
        model_id, source = re.fullmatch(r"(.+) shuts down \((.+)\)", str(event["SUMMARY"])).groups()
        lines = str(event["DESCRIPTION"]).splitlines()
        imported = [line.removeprefix("Imported from: ")[:-1] for line in lines
                    if line.startswith("Imported from: ")]
        (replacement,) = [line.removeprefix("Replacement: ")[:-1] for line in lines
                          if line.startswith("Replacement: ")]
        found[source, model_id] = (
            event.decoded("DTSTART").isoformat(),
            imported[0] if imported else "provider",
            None if replacement == "none announced" else replacement,
        )
    return found


def html_truth(page: str) -> dict[tuple[str, str], Truth]:
    """The shutdown calendar's rows of the HTML report."""
    found = {}
    for row in re.findall(r'<tr class="shutdown"[^>]*>(.*?)</tr>', page, re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>",
                                                                         row, re.S)]
        shutdown, model_id, source, _, replacement, origin = cells
        origin = re.sub(r"^imported from (.*?)( \(.*\))?$", r"\1", origin)
        found[source, model_id] = (shutdown, origin, replacement or None)
    return found


def test_every_output_gives_the_same_date_origin_and_replacement_for_every_model(
    outputs: tuple[Callable[..., Result], dict[tuple[str, str], Truth], Path],
    database_url: str,
) -> None:
    syncer, truth, config = outputs
    expected = dated(truth)

    # The CLI.
    assert by_model(rows(syncer("models", "--format", "json"))) == truth
    for source, model_id in truth:
        (shown,) = rows(syncer("models", "show", model_id, "--source", source, "--format",
                               "json"))
        assert by_model([shown])[source, model_id] == truth[source, model_id]
    listed = rows(syncer("deprecations", "--format", "json"))
    assert by_model(listed) == expected
    assert [(r["source"], r["model_id"]) for r in listed] == sorted(
        expected, key=lambda key: (expected[key][0] or "", *key)
    )
    as_csv = syncer("deprecations", "--format", "csv")
    assert by_model(list(csv.DictReader(io.StringIO(as_csv.stdout)))) == expected
    ics = syncer("deprecations", "--format", "ics").stdout_bytes
    assert calendar_truth(ics) == expected
    report = rows(syncer("report", "shutdowns", "--days", "100000", "--format", "json"))
    assert by_model(report, origin_key="date_origin") == expected
    same = rows(syncer("report", "same-models", "--format", "json"))
    assert by_model(same, origin_key="date_origin") == {
        (r["source"], r["model_id"]): truth[r["source"], r["model_id"]] for r in same
    }
    assert {r["common_id"] for r in same} >= {"gpt-4o", "gemini-2.5-flash"}
    page = syncer("report", "html", "-o", "-").stdout
    assert html_truth(page) == expected

    # Plain SQL: the views.
    engine = make_engine(database_url)
    with engine.connect() as connection:
        current = connection.execute(text(
            "SELECT source, model_id, shutdown_at, date_origin AS origin, replacement "
            "FROM current_models"
        )).mappings().all()
        offers = connection.execute(text(
            "SELECT source, model_id, shutdown_at, date_origin AS origin, replacement "
            "FROM model_offers"
        )).mappings().all()
        payloads = connection.execute(text(
            "SELECT payload FROM alert_outbox ORDER BY id"
        )).scalars().all()
    engine.dispose()
    assert by_model([dict(r) for r in current]) == truth
    assert by_model([dict(r) for r in offers]) == truth

    # The webhook payloads: the latest countdown alert of each model.
    latest: dict[tuple[str, str], Truth] = {}
    for payload in payloads:
        document = json.loads(payload) if isinstance(payload, str) else payload
        block = document["shutdown"]
        latest[document["source"], document["model_id"]] = (
            day(block["shutdown_at"]), block["origin"], block["replacement"],
        )
    assert {key: latest[key] for key in expected} == expected

    # The server: /shutdowns.ics and /metrics.
    settings = load_settings(config_file=config)
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    with serve(engine, settings, "127.0.0.1", 0, now=lambda: now) as (host, port):
        with urllib.request.urlopen(f"http://{host}:{port}/shutdowns.ics", timeout=10) as answer:
            served = answer.read()
        with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=10) as answer:
            metrics = answer.read().decode()
    engine.dispose()
    assert calendar_truth(served) == expected
    left = _days_left(metrics)
    assert set(left) == set(expected)
    for key, days in left.items():
        shutdown = expected[key][0]
        assert shutdown is not None
        assert (now + timedelta(days=days)).date() == date.fromisoformat(shutdown)


def _days_left(metrics: str) -> dict[tuple[str, str], float]:
    """``syncer_model_shutdown_days_left`` by (source, model_id), whatever the label order."""
    found = {}
    for labels, value in re.findall(
        r"^syncer_model_shutdown_days_left\{([^}]*)\} (\S+)$", metrics, re.M
    ):
        pairs = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        found[pairs["source"], pairs["model_id"]] = float(value)
    return found
