"""Finding ids in text: boundaries, prefixes, families, and time bounded on hostile input."""

from __future__ import annotations

import time

import pytest

from syncer.scan.matcher import Matcher, candidates, normalise

KNOWN = [
    "gpt-4",
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-3.5-turbo",
    "claude-3-5-sonnet-20240620",
    "o3",
    "mistral",
    "openai/gpt-4o",
    "meta-llama/Llama-3-8b-chat-hf",
    "ft:gpt-4o-mini:acme::abc123",
    "llama3.2:latest",
]


def found(text: str, known: list[str] = KNOWN) -> list[tuple[str, bool]]:
    return [(m.written, m.unknown) for m in Matcher(known).find(text.encode())]


def test_a_shorter_id_does_not_match_inside_a_longer_one() -> None:
    assert found('a = "gpt-4o"; b = "gpt-4"; c = "gpt-4o-mini"') == [
        ("gpt-4o", False),
        ("gpt-4", False),
        ("gpt-4o-mini", False),
    ]
    assert found("use xgpt-4 or gpt-4_turbo or gpt-4-x1 here") == []


def test_a_trailing_period_is_not_part_of_the_id_but_an_inner_dot_is() -> None:
    assert found("We moved off gpt-4. Then gpt-3.5-turbo.") == [
        ("gpt-4", False),
        ("gpt-3.5-turbo", False),
    ]


def test_prefixes_and_suffixes_are_kept_as_written() -> None:
    text = (
        'm1 = "openai/gpt-4o"\nm2 = "models/gpt-4"\nm3 = "openrouter/openai/gpt-4o:free"\n'
        'm4 = "us.anthropic.claude-3-5-sonnet-20240620-v1:0"\n'
        'm5 = "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0"\nm6 = "azure/gpt-4o-mini"'
    )
    assert [w for w, _ in found(text)] == [
        "openai/gpt-4o",
        "models/gpt-4",
        "openrouter/openai/gpt-4o:free",
        "us.anthropic.claude-3-5-sonnet-20240620-v1:0",
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
        "azure/gpt-4o-mini",
    ]


def test_candidates_strip_one_layer_at_a_time() -> None:
    assert candidates("openrouter/openai/gpt-4o:free") == [
        "openrouter/openai/gpt-4o:free",
        "openai/gpt-4o:free",
        "gpt-4o:free",
        "gpt-4o",
    ]
    assert normalise("us.anthropic.claude-3-5-sonnet-20240620-v1:0") == "claude-3-5-sonnet-20240620"
    assert normalise("models/gemini-1.5-pro") == "gemini-1.5-pro"
    assert normalise("ft:gpt-4o-mini:acme::abc123") == "ft:gpt-4o-mini:acme::abc123"


def test_an_id_written_without_the_routers_prefix_is_found() -> None:
    assert found('model: "Llama-3-8b-chat-hf"') == [("Llama-3-8b-chat-hf", False)]


def test_unknown_ids_of_a_family_are_found_only_as_values() -> None:
    text = (
        'model = "gpt-9-turbo"\nMODEL=claude-opus-7\nmodel: gemini-9.0-pro\n'
        "we will try gpt-9-turbo someday\n"
        '{"claude-code": "^1.0", "x": "@anthropic-ai/claude-code"}\n'
    )
    assert found(text) == [("gpt-9-turbo", True), ("claude-opus-7", True), ("gemini-9.0-pro", True)]


def test_plain_word_ids_count_only_as_values() -> None:
    text = 'o3 = compute()\nmistral is a wind\nmodel = "o3"\nMODEL=mistral\n'
    assert found(text) == [("o3", False), ("mistral", False)]


def test_known_ids_count_anywhere_even_in_prose_and_comments() -> None:
    assert found("# TODO: migrate from gpt-3.5-turbo, see ft:gpt-4o-mini:acme::abc123") == [
        ("gpt-3.5-turbo", False),
        ("ft:gpt-4o-mini:acme::abc123", False),
    ]


def test_an_ollama_tag_and_an_id_at_the_very_start_of_a_file() -> None:
    assert found("gpt-4o\nmodel: llama3.2:latest\nmodel: llama3.2") == [
        ("gpt-4o", False),
        ("llama3.2:latest", False),
        ("llama3.2", False),
    ]


@pytest.mark.parametrize(
    "line",
    [
        "gpt-" * 250_000,
        "gpt-4" + "-4" * 500_000,
        '"' + "a." * 500_000,
        '"claude-' + "x" * 1_000_000,
        "=o1" * 100_000,
        '"' + "gpt-4o-mini:" * 80_000,
        ("anthropic." * 100_000) + "claude-3-5-sonnet-20240620",
    ],
)
def test_hostile_long_lines_take_time_in_proportion_to_their_length(line: str) -> None:
    matcher = Matcher(KNOWN)
    data = line.encode()
    started = time.perf_counter()
    list(matcher.find(data))
    assert time.perf_counter() - started < 15  # catastrophic backtracking takes hours
