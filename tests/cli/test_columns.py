"""Answers that fit a terminal: ``--columns`` on every command that prints rows, tables that
fit 120 columns, default limits that say when they cut rows off, and ``models --model``
across sources, through the real CLI on a real database."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from syncer.cli.inventory import EVENT_TABLE, MODEL_TABLE
from syncer.reporting import queries
from tests.fakes import FakeProvider

Invoke = Callable[..., Result]

#: Ids as long as the usual ones get: OpenAI's longest dated ids.
LONG_IDS = ("gpt-4o-mini-realtime-preview-2024-12-17", "gpt-4o-2024-11-20", "o1-mini")

#: Every command that prints rows, with what it needs to find some.
ROW_COMMANDS = [
    ("sources",),
    ("models",),
    ("models", "show", "o1-mini"),
    ("events",),
    ("runs",),
    ("diff", "1d"),
    ("history", "o1-mini"),
    ("history", "o1-mini", "--intervals"),
    ("report", "changes"),
    ("report", "--list"),
    ("alerts",),
    ("deprecations",),
]


@pytest.fixture
def synced(invoke: Invoke, provider: FakeProvider) -> Invoke:
    provider.set(*LONG_IDS, owned_by="openai-internal")
    assert invoke("sync").exit_code == 0
    return invoke


def header(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()[0].split()


def test_the_models_table_fits_120_columns_and_json_keeps_every_column(synced: Invoke) -> None:
    table = synced("models")
    listed = json.loads(synced("models", "--format", "json").stdout)

    assert header(table) == list(MODEL_TABLE)
    assert max(len(line) for line in table.stdout.splitlines()) <= 120
    assert list(listed[0]) == [*queries.MODEL_COLUMNS, "used_in"]


@pytest.mark.parametrize("command", [("sources",), ("events",), ("runs",), ("deprecations",)])
def test_each_listing_table_fits_120_columns(synced: Invoke, command: tuple[str, ...]) -> None:
    result = synced(*command)

    assert result.exit_code == 0, result.output
    assert max(map(len, result.stdout.splitlines() or [""])) <= 120


def test_columns_choose_and_order_what_is_printed_in_every_format(synced: Invoke) -> None:
    comma = synced("models", "--columns", "model_id,source")
    repeated = synced("models", "-c", "model_id", "-c", "source")
    rows = json.loads(synced("models", "-c", "model_id,shutdown_at", "--format", "json").stdout)
    csv_header = synced("models", "-c", "status,model_id", "--format", "csv").stdout.splitlines()[0]
    everything = synced("models", "-c", "all")

    assert header(comma) == header(repeated) == ["model_id", "source"]
    assert rows[0] == {"model_id": "gpt-4o-2024-11-20", "shutdown_at": None}
    assert csv_header == "status,model_id"
    assert header(everything) == [*queries.MODEL_COLUMNS, "used_in"]


def test_an_unknown_column_is_exit_2_listing_the_available_ones(synced: Invoke) -> None:
    result = synced("runs", "-c", "id,nope")

    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(
        "Error: Invalid value for --columns: unknown column 'nope'; available: "
        f"{', '.join(queries.RUN_COLUMNS)} (or all) (see `"
    )


@pytest.mark.parametrize("command", ROW_COMMANDS, ids=" ".join)
def test_every_command_that_prints_rows_takes_columns(
    synced: Invoke, command: tuple[str, ...]
) -> None:
    chosen = synced(*command, "-c", "all", "--format", "json")
    wrong = synced(*command, "-c", "no_such_column")

    assert chosen.exit_code == 0, chosen.output
    assert wrong.exit_code == 2
    assert "unknown column 'no_such_column'; available: " in wrong.stderr


def test_models_show_prints_the_chosen_fields_of_the_record(synced: Invoke) -> None:
    result = synced("models", "show", "o1-mini", "-c", "model_id,owned_by")

    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["model_id", "o1-mini", "owned_by", "openai-internal"]


def test_events_shows_50_by_default_says_what_it_cut_and_limit_0_shows_all(
    invoke: Invoke, provider: FakeProvider
) -> None:
    provider.set(*(f"m{i:03}" for i in range(60)))
    invoke("sync")

    cut = invoke("events", "--format", "json")
    table = invoke("events")
    everything = invoke("events", "--limit", "0", "--format", "json")
    fewer = invoke("events", "--limit", "60")

    assert len(json.loads(cut.stdout)) == 50
    assert cut.stderr == table.stderr == "(showing 50 of 60; --limit 0 for all)\n"
    assert header(table) == list(EVENT_TABLE)
    assert len(json.loads(everything.stdout)) == 60
    assert everything.stderr == fewer.stderr == ""


def test_runs_says_when_its_default_limit_of_20_cut_rows(
    invoke: Invoke, provider: FakeProvider
) -> None:
    provider.set("a")
    for _ in range(21):
        invoke("sync")

    result = invoke("runs")

    assert len(result.stdout.splitlines()) == 2 + 20
    assert result.stderr == "(showing 20 of 21; --limit 0 for all)\n"
    assert len(invoke("runs", "--limit", "0").stdout.splitlines()) == 2 + 21


def test_models_model_finds_each_match_with_every_source_that_lists_it(
    invoke: Invoke, provider: FakeProvider, other_provider: FakeProvider, tmp_path: Path
) -> None:
    provider.set("gpt-4o", "gpt-4o-mini", "gpt-4.1", "o1")
    other_provider.set("gpt-4o", "o1", "text-embedding-3")
    config = tmp_path / "syncer.toml"
    config.write_text(
        f'[[sources]]\nname = "openai"\nbase_url = "{provider.base_url}"\n\n'
        f'[[sources]]\nname = "azure-eu"\nbase_url = "{other_provider.base_url}"\n'
    )
    run = lambda *args: invoke("--config", str(config), *args)  # noqa: E731
    assert run("sync").exit_code == 0

    found = json.loads(
        run("models", "--model", "gpt-4o*", "--model", "o1", "--format", "json").stdout
    )
    table = run("models", "--model", "gpt-4o*", "-c", "model_id,source")
    none = run("models", "--model", "claude-*", "--model", "gpt-5?")

    assert [(m["model_id"], m["source"]) for m in found] == [
        ("gpt-4o", "azure-eu"),
        ("gpt-4o", "openai"),
        ("gpt-4o-mini", "openai"),
        ("o1", "azure-eu"),
        ("o1", "openai"),
    ]
    assert table.stdout.splitlines()[2:] == [
        "gpt-4o       azure-eu",
        "gpt-4o       openai",
        "gpt-4o-mini  openai",
    ]
    assert none.exit_code == 0
    assert none.stderr.splitlines() == [
        "(no model matches 'claude-*')",
        "(no model matches 'gpt-5?')",
    ]


def test_models_model_matches_case_and_literal_characters_exactly(
    invoke: Invoke, provider: FakeProvider
) -> None:
    provider.set("GPT-4o", "gpt_4o", "gpt%4o", "gpt-4o", "ft:gpt-4o:[x]")
    invoke("sync")

    def found(*patterns: str) -> list[str]:
        args = [arg for p in patterns for arg in ("--model", p)]
        return [
            m["model_id"] for m in json.loads(invoke("models", *args, "--format", "json").stdout)
        ]

    assert found("gpt-4o") == ["gpt-4o"]
    assert found("gpt_4o") == ["gpt_4o"]
    assert found("gpt%4o") == ["gpt%4o"]
    assert found("gpt[-_]4o") == ["gpt-4o", "gpt_4o"]
    assert found("ft:*[[]x]") == ["ft:gpt-4o:[x]"]
    assert found("G*") == ["GPT-4o"]
