"""Imported shutdown dates: reading CSV and TOML files, and which entry applies to a model."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncer.alerts.deprecations import Deprecation, effective, match, parse_deprecations
from syncer.errors import ConfigError

JUNE = datetime(2026, 6, 6, tzinfo=UTC)


def csv(text: str) -> list[Deprecation]:
    return parse_deprecations(textwrap.dedent(text).lstrip(), "dates.csv")


def test_a_csv_file_reads_ids_globs_dates_replacements_and_sources() -> None:
    entries = csv(
        """
        model,shutdown_date,replacement,source
        gpt-4-0613,2026-06-06,gpt-4o,
        claude-2*,2026-07-01T12:00:00Z,,anthropic
        """
    )

    assert entries == [
        Deprecation("gpt-4-0613", JUNE, "gpt-4o", "*"),
        Deprecation("claude-2*", datetime(2026, 7, 1, 12, tzinfo=UTC), None, "anthropic"),
    ]


def test_optional_csv_columns_may_be_left_out_and_blank_lines_are_skipped() -> None:
    assert csv("model,shutdown_date\n\ngpt-4-0613,2026-06-06\n,\n") == [
        Deprecation("gpt-4-0613", JUNE)
    ]


def test_a_toml_file_reads_date_literals_and_strings() -> None:
    text = textwrap.dedent(
        """
        [[deprecations]]
        model = "gpt-4-0613"
        shutdown_date = 2026-06-06
        replacement = "gpt-4o"

        [[deprecations]]
        model = "text-*"
        shutdown_date = "2026-06-06T00:00:00+02:00"
        source = "openai"
        """
    )

    entries = parse_deprecations(text, "dates.toml")

    assert entries == [
        Deprecation("gpt-4-0613", JUNE, "gpt-4o"),
        Deprecation("text-*", datetime(2026, 6, 5, 22, tzinfo=UTC), None, "openai"),
    ]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("d.json", "{}", "d.json: expected a .csv or .toml file"),
        ("d.csv", "", "d.csv: empty file"),
        ("d.csv", "model,date\nx,2026-01-01\n", "d.csv:2: unknown column 'date'"),
        ("d.csv", "model,shutdown_date\nx,\n", "d.csv:2: shutdown_date: required"),
        ("d.csv", "model,shutdown_date\n,2026-01-01\n", "d.csv:2: model: required"),
        ("d.csv", "model,shutdown_date\nx,soon\n", "d.csv:2: shutdown_date: 'soon' is not a date"),
        ("d.csv", "model,shutdown_date\nx,2026-13-01\n", "d.csv:2: shutdown_date: '2026-13-01'"),
        ("d.csv", "model,shutdown_date\nx,2026-01-01,extra\n", "d.csv:2: more values than"),
        (
            "d.csv", "model,shutdown_date\nx,2026-01-01\ny,2026-01-01\nx,2026-02-01\n",
            "d.csv:4: 'x' is listed twice (first at d.csv:2)",
        ),
        ("d.toml", "[[deprecations]\n", "d.toml: not valid TOML"),
        ("d.toml", "[other]\n", "d.toml: other: unknown key"),
        ("d.toml", "deprecations = 1\n", "d.toml: deprecations: expected [[deprecations]]"),
        (
            "d.toml", "[[deprecations]]\nmodel = 3\nshutdown_date = 2026-01-01\n",
            "d.toml: deprecations[0]: model: ",
        ),
        (
            "d.toml",
            "[[deprecations]]\nmodel = 'x'\nshutdown_date = 2026-01-01\nreplacement = 1\n",
            "d.toml: deprecations[0]: replacement: expected a string, got 1",
        ),
    ],
)
def test_a_bad_file_is_a_one_line_error_naming_the_file_and_the_line(
    name: str, text: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_deprecations(text, name)

    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_an_exact_id_beats_a_glob_and_a_longer_glob_beats_a_shorter_one() -> None:
    entries = [
        Deprecation("gpt-*", JUNE, "a"),
        Deprecation("gpt-4-*", JUNE, "b"),
        Deprecation("gpt-4-0613", JUNE, "c"),
        Deprecation("gpt-4-0613", JUNE, "d", source="azure"),
    ]

    def found(source: str, model_id: str) -> str | None:
        entry = match(entries, source, model_id)
        return entry.replacement if entry else None

    assert found("openai", "gpt-4-0613") == "c"
    assert found("azure", "gpt-4-0613") == "d"
    assert found("openai", "gpt-4-0314") == "b"
    assert found("openai", "gpt-3.5-turbo") == "a"
    assert found("openai", "o1") is None


@given(st.permutations(["gpt-*", "gpt-4-*", "gpt-4-0613", "*"]))
def test_the_entry_that_applies_does_not_depend_on_the_file_order(order: list[str]) -> None:
    entries = [Deprecation(model, JUNE, model) for model in order]

    entry = match(entries, "openai", "gpt-4-0613")

    assert entry is not None and entry.model == "gpt-4-0613"


def test_the_providers_date_wins_and_the_imported_replacement_is_kept() -> None:
    provider = datetime(2026, 5, 1, tzinfo=UTC)
    entry = Deprecation("gpt-4-0613", JUNE, "gpt-4o")

    assert effective(provider, entry) == (provider, "provider", "gpt-4o")
    assert effective(None, entry) == (JUNE, "imported", "gpt-4o")
    assert effective(provider, None) == (provider, "provider", None)
    assert effective(None, None) == (None, None, None)
