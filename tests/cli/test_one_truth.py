"""One truth about each model's lifecycle (issues 19 and 20): every output gives the same
shutdown date, origin and replacement for every model, and shows the same models deprecated
without a date, on SQLite and PostgreSQL.

One database of six kinds holds provider dates (OpenAI, Azure, OpenRouter, Mistral), dates
imported from LiteLLM's map with and without its vendor prefixes (for kinds that list dates
and kinds that list none), a glob from a file of our own, conflicts where the provider's date
wins, a date the provider moves, one an import moves, one the provider clears and one an
import clears; and two Mistral fine-tunes archived with no date (one from the start, one by
a later sync: a ``status_changed`` event). Then the CLI (table-less formats), the views, the
canned reports, the HTML report, the calendar, ``/shutdowns.ics``, ``/metrics``, the scan
and the alert payloads are read, and each must say what ``syncer.lifecycle`` decided and
stored.
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
from syncer.reporting.calendar import event_uid
from syncer.runtime.server import serve
from tests.cli import test_kinds
from tests.cli.test_kinds import Providers, rows

# The six providers and the ``syncer`` runner of the six-kind tests.
providers = test_kinds.providers
syncer = test_kinds.syncer

#: (date, origin, replacement) of a model; None for each when no date is in force.
Truth = tuple[str | None, str | None, str | None]
Key = tuple[str, str]
#: Two Mistral fine-tunes (FTModelCard, ``archived``): one archived from the start, one
#: archived by the provider between two syncs.
ARCHIVED, LATER = (
    "ft:open-mistral-7b:acme:20260101:old:aa11",
    "ft:open-mistral-7b:acme:20260102:new:bb22",
)


@pytest.fixture
def outputs(
    syncer: Callable[..., Result], providers: Providers, tmp_path: Path
) -> tuple[Callable[..., Result], dict[Key, Truth], dict[Key, str], Path]:
    """The database of the scenario above, the ``syncer`` runner, what must be true and the
    models deprecated without a date (with their status)."""
    providers.mistral += [
        {
            "id": model_id,
            "object": "model",
            "created": 1767225600,
            "owned_by": "acme",
            "type": "fine-tuned",
            "archived": archived,
            "deprecation": None,
        }
        for model_id, archived in ((ARCHIVED, True), (LATER, False))
    ]
    config = next(tmp_path.glob("*.toml"))
    config.write_text(
        config.read_text(encoding="utf-8")
        + """
[[alerts]]
name = "countdown"
kind = "shutdown"
thresholds = [100000]
webhook_url_env = "UNSET_HOOK_URL"
""",
        encoding="utf-8",
    )
    assert syncer("sync").exit_code == 0
    prices = tmp_path / "model_prices_and_context_window.json"
    prices.write_text(
        json.dumps(
            {
                "claude-opus-4": {
                    "litellm_provider": "anthropic",
                    "deprecation_date": "2027-06-15",
                    "deprecation_source": "https://platform.claude.com/deprecations",
                },
                "gemini/gemini-2.5-pro": {
                    "litellm_provider": "gemini",
                    "deprecation_date": "2027-06-17",
                },
                "openai/gpt-5.6": {"litellm_provider": "openai", "deprecation_date": "2027-01-15"},
                "gpt-4o": {"litellm_provider": "openai", "deprecation_date": "2026-03-31"},
                "azure/gpt-4o": {"litellm_provider": "azure", "deprecation_date": "2026-03-01"},
            }
        ),
        encoding="utf-8",
    )
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
    providers.mistral[-1]["archived"] = True
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
        ("claude", "claude-sonnet-4-6"),
        ("claude", "claude-opus-4-1"),
        ("gem", "gemini-2.5-flash"),
        ("gem", "gemini-embedding-001"),
        ("openrouter", "google/gemini-2.5-flash"),
        ("openrouter", "mistralai/magistral-medium-2509"),
        ("mistral", "magistral-medium-2509"),
        ("mistral", "mistral-medium-2508"),
        ("mistral", ARCHIVED),
        ("mistral", LATER),
    ):
        truth[source, model_id] = (None, None, None)
    undated = {("mistral", ARCHIVED): "archived", ("mistral", LATER): "archived"}
    return syncer, truth, undated, config


def dated(truth: dict[tuple[str, str], Truth]) -> dict[tuple[str, str], Truth]:
    return {key: value for key, value in truth.items() if value[0] is not None}


def day(value: Any) -> str | None:
    """The day of a time, None for none (CSV writes none as an empty cell)."""
    return None if value is None or value == "" else str(value)[:10]


def by_model(
    found: list[dict[str, Any]],
    date_key: str = "shutdown_at",
    origin_key: str = "origin",
) -> dict[tuple[str, str], Truth]:
    return {
        (r["source"], r["model_id"]): (
            day(r[date_key]),
            r[origin_key] or None,
            r["replacement"] or None,
        )
        for r in found
    }


def calendar_undated(feed: bytes) -> dict[Key, tuple[str, str]]:
    """The events of models deprecated without a date: (status, day) by model, each with
    the model's one UID."""
    found = {}
    for event in Calendar.from_ical(feed).walk("VEVENT"):
        summary = re.fullmatch(r"(.+) (\w+), no shutdown date \((.+)\)", str(event["SUMMARY"]))
        if summary is None:
            continue
        model_id, status, source = summary.groups()
        assert str(event["UID"]) == event_uid(source, model_id)
        assert "no shutdown date known" in str(event["DESCRIPTION"])
        found[source, model_id] = (status, event.decoded("DTSTART").isoformat())
    return found


def calendar_truth(feed: bytes) -> dict[tuple[str, str], Truth]:
    """Each shutdown event's model, date, origin and replacement, read back from its text."""
    found = {}
    for event in Calendar.from_ical(feed).walk("VEVENT"):
        summary = re.fullmatch(r"(.+) shuts down \((.+)\)", str(event["SUMMARY"]))
        if summary is None:
            continue
        model_id, source = summary.groups()
        lines = str(event["DESCRIPTION"]).splitlines()
        imported = [
            line.removeprefix("Imported from: ")[:-1]
            for line in lines
            if line.startswith("Imported from: ")
        ]
        (replacement,) = [
            line.removeprefix("Replacement: ")[:-1]
            for line in lines
            if line.startswith("Replacement: ")
        ]
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
        cells = [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        shutdown, model_id, source, _, replacement, origin = cells
        origin = re.sub(r"^imported from (.*?)( \(.*\))?$", r"\1", origin)
        found[source, model_id] = (shutdown, origin, replacement or None)
    return found


def html_undated(page: str) -> dict[Key, tuple[str, str]]:
    """The report's "deprecated, no date known" rows: (status, since) by model."""
    found = {}
    for row in re.findall(r'<tr class="undated"[^>]*>(.*?)</tr>', page, re.S):
        status, model_id, source, since, _ = [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        found[source, model_id] = (status, since)
    return found


def test_every_output_gives_the_same_date_origin_and_replacement_for_every_model(
    outputs: tuple[Callable[..., Result], dict[Key, Truth], dict[Key, str], Path],
    database_url: str,
) -> None:
    syncer, truth, undated, config = outputs
    expected = dated(truth)
    # ``syncer deprecations``: the dated models, then those deprecated without a date.
    listed_truth = {**expected, **dict.fromkeys(undated, (None, None, None))}
    # The day each undated model's status was learnt: its status_changed event, else its
    # first sighting, as the CLI prints them.
    changed = {
        (e["source"], e["model_id"]): day(e["occurred_at"])
        for e in rows(syncer("events", "--kind", "status_changed", "--format", "json"))
    }
    assert set(changed) == {("mistral", LATER)}
    since = {
        key: changed.get(key) or day(m["first_seen_at"])
        for m in rows(syncer("models", "--format", "json"))
        if (key := (m["source"], m["model_id"])) in undated
    }
    undated_days = {key: (status, since[key]) for key, status in undated.items()}

    # The CLI.
    models = rows(syncer("models", "--format", "json"))
    assert by_model(models) == truth
    assert {
        (m["source"], m["model_id"]): m["status"] for m in models if m["status"] is not None
    } == undated
    for source, model_id in truth:
        (shown,) = rows(syncer("models", "show", model_id, "--source", source, "--format", "json"))
        assert by_model([shown])[source, model_id] == truth[source, model_id]
    listed = rows(syncer("deprecations", "--format", "json"))
    assert by_model(listed) == listed_truth
    assert [(r["source"], r["model_id"]) for r in listed] == sorted(
        expected, key=lambda key: (expected[key][0] or "", *key)
    ) + sorted(undated)
    assert {
        (r["source"], r["model_id"]): r["status"] for r in listed if r["shutdown_at"] is None
    } == undated
    as_csv = list(csv.DictReader(io.StringIO(syncer("deprecations", "--format", "csv").stdout)))
    assert by_model(as_csv) == listed_truth
    ics = syncer("deprecations", "--format", "ics").stdout_bytes
    assert calendar_truth(ics) == expected
    assert calendar_undated(ics) == undated_days
    report = rows(syncer("report", "shutdowns", "--days", "100000", "--format", "json"))
    assert by_model(report, origin_key="date_origin") == listed_truth
    assert [(r["source"], r["model_id"]) for r in report][-len(undated) :] == sorted(undated)
    assert {
        (r["source"], r["model_id"]): r["lifecycle_status"]
        for r in report
        if r["shutdown_at"] is None
    } == undated
    same = rows(syncer("report", "same-models", "--format", "json"))
    assert by_model(same, origin_key="date_origin") == {
        (r["source"], r["model_id"]): truth[r["source"], r["model_id"]] for r in same
    }
    assert {r["common_id"] for r in same} >= {"gpt-4o", "gemini-2.5-flash"}
    page = syncer("report", "html", "-o", "-").stdout
    assert html_truth(page) == expected
    assert html_undated(page) == undated_days

    # The scan: an id deprecated without a date is ``deprecated``.
    (tree := config.parent / "code").mkdir()
    (tree / "train.py").write_text(f'MODEL = "{ARCHIVED}"\n', encoding="utf-8")
    scanned = syncer("scan", str(tree), "--format", "json", "--fail-on", "vanished")
    assert [(f["model_id"], f["verdict"]) for f in json.loads(scanned.stdout)["findings"]] == [
        (ARCHIVED, "deprecated")
    ]

    # Plain SQL: the views.
    engine = make_engine(database_url)
    with engine.connect() as connection:
        current = (
            connection.execute(
                text(
                    "SELECT source, model_id, shutdown_at, date_origin AS origin, replacement, "
                    "lifecycle_status FROM current_models"
                )
            )
            .mappings()
            .all()
        )
        offers = (
            connection.execute(
                text(
                    "SELECT source, model_id, shutdown_at, date_origin AS origin, replacement "
                    "FROM model_offers"
                )
            )
            .mappings()
            .all()
        )
        payloads = (
            connection.execute(text("SELECT payload FROM alert_outbox ORDER BY id")).scalars().all()
        )
    engine.dispose()
    assert by_model([dict(r) for r in current]) == truth
    assert {
        (r["source"], r["model_id"]): r["lifecycle_status"]
        for r in current
        if r["lifecycle_status"] is not None
    } == undated
    assert by_model([dict(r) for r in offers]) == truth

    # The webhook payloads: the latest countdown alert of each model.
    latest: dict[tuple[str, str], Truth] = {}
    for payload in payloads:
        document = json.loads(payload) if isinstance(payload, str) else payload
        block = document["shutdown"]
        latest[document["source"], document["model_id"]] = (
            day(block["shutdown_at"]),
            block["origin"],
            block["replacement"],
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
    assert calendar_undated(served) == undated_days
    assert _per_source(metrics, "syncer_models_deprecated_without_date") == {
        source: float(sum(1 for key in undated if key[0] == source))
        for source in {key[0] for key in truth}
    }
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


def _per_source(metrics: str, name: str) -> dict[str, float]:
    """A per-source gauge's values by source."""
    return {
        source: float(value)
        for source, value in re.findall(rf'^{name}{{source="([^"]*)"}} (\S+)$', metrics, re.M)
    }
