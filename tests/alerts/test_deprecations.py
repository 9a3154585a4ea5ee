"""Imported shutdown dates: reading CSV and TOML files, and which entry applies to a model."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from fnmatch import fnmatchcase

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncer.alerts.deprecations import parse_deprecations, parse_litellm
from syncer.errors import ConfigError
from syncer.lifecycle import Deprecation, match

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
        ("d.csv", "model,date\nx,2026-01-01\n", "d.csv:1: unknown column 'date'"),
        ("d.csv", "model,shutdown_date\nx,\n", "d.csv:2: shutdown_date: required"),
        ("d.csv", "model,shutdown_date\n,2026-01-01\n", "d.csv:2: model: required"),
        ("d.csv", "model,shutdown_date\nx,soon\n", "d.csv:2: shutdown_date: 'soon' is not a date"),
        ("d.csv", "model,shutdown_date\nx,2026-13-01\n", "d.csv:2: shutdown_date: '2026-13-01'"),
        ("d.csv", "model,shutdown_date\nx,2026-01-01,extra\n", "d.csv:2: more values than"),
        (
            "d.csv",
            "model,shutdown_date\nx,2026-01-01\ny,2026-01-01\nx,2026-02-01\n",
            "d.csv:4: 'x' is listed twice (first at d.csv:2)",
        ),
        ("d.toml", "[[deprecations]\n", "d.toml: not valid TOML"),
        ("d.toml", "[other]\n", "d.toml: other: unknown key"),
        ("d.toml", "deprecations = 1\n", "d.toml: deprecations: expected [[deprecations]]"),
        (
            "d.toml",
            "[[deprecations]]\nmodel = 3\nshutdown_date = 2026-01-01\n",
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


# --- LiteLLM's model map -------------------------------------------------------------------------

LITELLM = {
    "sample_spec": {
        "max_tokens": "LEGACY parameter. set to max_output_tokens if provider specifies it.",
        "litellm_provider": "one of https://docs.litellm.ai/docs/providers",
        "deprecation_date": "date when the model becomes deprecated in the format YYYY-MM-DD",
    },
    "gpt-4o-2024-05-13": {
        "litellm_provider": "openai",
        "mode": "chat",
        "max_input_tokens": 128000,
        "deprecation_date": "2026-10-23",
        "deprecation_source": "https://developers.openai.com/api/docs/deprecations",
    },
    "gpt-4o": {"litellm_provider": "openai", "mode": "chat", "max_input_tokens": 128000},
    "azure/gpt-4o-2024-05-13": {
        "litellm_provider": "azure",
        "mode": "chat",
        "deprecation_date": "2026-11-30",
        "deprecation_source": "https://learn.microsoft.com/azure/ai-foundry/openai/concepts/"
        "model-retirements",
    },
    "claude-3-opus-20240229": {
        "litellm_provider": "anthropic",
        "mode": "chat",
        "deprecation_date": "2026-01-05",
    },
    "openrouter/openai/gpt-4o-2024-05-13": {
        "litellm_provider": "openrouter",
        "deprecation_date": "2026-10-01",
    },
    "gemini/gemini-1.5-pro": {
        "litellm_provider": "gemini",
        "deprecation_date": "2025-09-24",
    },
    "bedrock/anthropic.claude-v2": {
        "litellm_provider": "bedrock",
        "deprecation_date": "2025-07-21",
    },
    "mistral/odd[model]": {"litellm_provider": "mistral", "deprecation_date": "soon"},
}
PROVIDERS = {
    "openai": ("openai",),
    "azure-eu": ("azure",),
    "azure-us": ("azure",),
    "claude": ("anthropic",),
    "openrouter": ("openrouter",),
    "gem": ("gemini",),
    "mistral": ("mistral",),
}


def litellm(data: object = LITELLM) -> list[Deprecation]:
    return parse_litellm(json.dumps(data), "prices.json", PROVIDERS).entries


def test_a_litellm_entry_applies_to_every_source_of_its_providers_kind() -> None:
    entries = litellm()

    def dated(source: str, model_id: str) -> tuple[str, str | None] | None:
        entry = match(entries, source, model_id)
        return None if entry is None else (entry.shutdown_at.date().isoformat(), entry.source_url)

    assert dated("openai", "gpt-4o-2024-05-13") == (
        "2026-10-23",
        "https://developers.openai.com/api/docs/deprecations",
    )
    assert dated("openai", "gpt-4o") is None
    assert (
        dated("azure-eu", "gpt-4o-2024-05-13")
        == dated("azure-us", "gpt-4o-2024-05-13")
        == ("2026-11-30", LITELLM["azure/gpt-4o-2024-05-13"]["deprecation_source"])
    )
    assert dated("claude", "claude-3-opus-20240229") == ("2026-01-05", None)
    assert dated("openrouter", "openai/gpt-4o-2024-05-13") == ("2026-10-01", None)
    assert dated("gem", "gemini-1.5-pro") == ("2025-09-24", None)
    assert dated("gem", "gemini/gemini-1.5-pro") is None
    assert dated("claude", "gpt-4o-2024-05-13") is None


def test_litellm_entries_nobody_configured_or_with_no_date_are_counted_not_kept() -> None:
    found = parse_litellm(json.dumps(LITELLM), "prices.json", PROVIDERS)

    assert found.unmatched == 1  # bedrock
    assert found.unreadable == ["mistral/odd[model]"]
    assert all(e.source != "*" for e in found.entries)


def test_a_litellm_key_with_glob_characters_matches_only_itself() -> None:
    entries = litellm(
        {"mistral/m[1]*": {"litellm_provider": "mistral", "deprecation_date": "2026-06-06"}}
    )

    assert match(entries, "mistral", "m[1]*") is not None
    assert match(entries, "mistral", "m1x") is None


@pytest.mark.parametrize("text", ["[]", '{"gpt-4o": {"mode": "chat"}}', "{not json"])
def test_a_file_that_is_not_litellms_map_is_an_error_naming_it(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^prices\.json: not"):
        parse_litellm(text, "prices.json", PROVIDERS)


@given(
    st.lists(st.sampled_from(["gpt-4o", "gpt-*", "gpt-4?", "*", "o1", "o[13]"]), max_size=8),
    st.lists(st.sampled_from(["openai", "azure-eu", "*", "azure-*"]), min_size=8, max_size=8),
    st.sampled_from(["gpt-4o", "gpt-41", "o1", "o3", "claude"]),
    st.sampled_from(["openai", "azure-eu"]),
)
def test_the_indexed_matcher_finds_what_trying_every_entry_finds(
    models: list[str], sources: list[str], model_id: str, source: str
) -> None:
    entries = [Deprecation(m, JUNE, f"{m}@{s}", s) for m, s in zip(models, sources, strict=False)]
    brute = [e for e in entries if fnmatchcase(source, e.source) and fnmatchcase(model_id, e.model)]
    expected = max(
        brute,
        key=lambda e: (
            not set("*?[") & set(e.model),
            len(e.model),
            not set("*?[") & set(e.source),
            len(e.source),
            e.model,
            e.source,
        ),
        default=None,
    )

    assert match(entries, source, model_id) == expected
