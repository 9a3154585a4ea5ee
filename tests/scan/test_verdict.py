"""Verdicts over plain data, and the --fail-on policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syncer.scan.inventory import Imported, Inventory, ModelRecord
from syncer.scan.verdict import Index, Policy, Verdict, parse_fail_on

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SEEN = datetime(2025, 1, 1, tzinfo=UTC)


def record(model_id: str, source: str = "openai", **fields: Any) -> ModelRecord:
    return ModelRecord(source, model_id, SEEN, NOW, **{"vanished_at": None, **fields})


INDEX = Index(
    Inventory(
        NOW,
        (),
        (
            record("gpt-4o"),
            record("gpt-4", vanished_at=NOW - timedelta(days=10)),
            record(
                "gpt-4-32k",
                shutdown_at=NOW + timedelta(days=20),
                shutdown_origin="provider",
                replacement="gpt-4o",
            ),
            record(
                "gpt-4-32k",
                source="azure",
                shutdown_at=NOW + timedelta(days=90),
                shutdown_origin="deps.csv",
            ),
            record(
                "command-r", source="cohere", lifecycle_status="deprecated", replacement="command-a"
            ),
            record("openai/gpt-4o-mini", source="openrouter"),
        ),
        (Imported("gpt-3.5-turbo-0301", "*", NOW - timedelta(days=400), "gpt-4o", "deps.csv"),),
    )
)


def test_each_verdict() -> None:
    assert INDEX.judge("gpt-4o", NOW).kind == "ok"
    vanished = INDEX.judge("gpt-4", NOW)
    assert (vanished.kind, vanished.sources, vanished.vanished_at) == (
        "vanished",
        ("openai",),
        NOW - timedelta(days=10),
    )
    shutting = INDEX.judge("gpt-4-32k", NOW)
    assert (
        shutting.kind,
        shutting.days_left,
        shutting.origin,
        shutting.replacement,
        shutting.sources,
    ) == ("shutting-down", 20, "provider", "gpt-4o", ("azure", "openai"))
    assert INDEX.judge("command-r", NOW).kind == "deprecated"
    assert INDEX.judge("gpt-9", NOW) == Verdict("not-listed", "gpt-9")


def test_an_id_only_an_import_dates_is_not_listed_with_its_date() -> None:
    verdict = INDEX.judge("gpt-3.5-turbo-0301", NOW)
    assert (verdict.kind, verdict.replacement) == ("not-listed", "gpt-4o")
    assert "an import dates its shutdown 2025-04-27" in verdict.advice


def test_prefixed_and_unprefixed_ids_find_the_same_records() -> None:
    assert INDEX.judge("openai/gpt-4o", NOW).model_id == "gpt-4o"
    assert INDEX.judge("gpt-4o-mini", NOW).sources == ("openrouter",)
    assert INDEX.judge("openrouter/openai/gpt-4o-mini:free", NOW).model_id == "openai/gpt-4o-mini"


def test_the_advice_names_the_replacement() -> None:
    assert INDEX.judge("gpt-4-32k", NOW).advice == (
        "shuts down 2026-06-21 (in 20 days; date from provider); use gpt-4o instead"
    )
    assert INDEX.judge("command-r", NOW).advice == (
        "deprecated by cohere, no shutdown date yet; use command-a instead"
    )


def test_the_default_policy_fails_vanished_and_shutdowns_within_30_days() -> None:
    policy = parse_fail_on("vanished,shutting-down:30d")
    assert policy == Policy(frozenset({"vanished", "shutting-down"}), 30)
    assert policy.fails(Verdict("shutting-down", "x", days_left=30))
    assert not policy.fails(Verdict("shutting-down", "x", days_left=31))
    assert not policy.fails(Verdict("not-listed", "x"))
    assert parse_fail_on("shutting-down").fails(Verdict("shutting-down", "x", days_left=999))
    assert parse_fail_on("not-listed,deprecated").kinds == {"not-listed", "deprecated"}


@pytest.mark.parametrize("text", ["vanish", "shutting-down:30", "shutting-down:d", "ok"])
def test_a_policy_that_names_no_verdict_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a verdict"):
        parse_fail_on(text)
