"""The one rule that decides a model's lifecycle in force (``syncer.lifecycle.decide``)."""

from __future__ import annotations

from datetime import UTC, datetime

from syncer.lifecycle import Deprecation, Lifecycle, decide

JUNE = datetime(2026, 6, 6, tzinfo=UTC)
MAY = datetime(2026, 5, 1, tzinfo=UTC)
ENTRY = Deprecation(
    "gpt-4-0613", JUNE, "gpt-4o", source_url="https://example.com/d", origin="deps.csv"
)


def test_the_providers_date_wins_and_says_so_with_the_imported_replacement_kept() -> None:
    assert decide(MAY, None, None, ENTRY) == Lifecycle(
        MAY, "provider", "provider", None, "gpt-4o", None
    )


def test_an_imported_date_names_its_origin_and_the_page_it_cites() -> None:
    assert decide(None, None, None, ENTRY) == Lifecycle(
        JUNE, "imported", "deps.csv", "https://example.com/d", "gpt-4o", None
    )


def test_the_providers_named_replacement_wins_over_an_imported_one() -> None:
    assert decide(None, "gpt-4.1", None, ENTRY).replacement == "gpt-4.1"
    assert decide(MAY, "gpt-4.1", None, ENTRY).replacement == "gpt-4.1"


def test_the_status_is_the_providers_own_with_or_without_a_date() -> None:
    assert decide(None, None, "deprecated", None) == Lifecycle(status="deprecated")
    assert decide(None, None, "inactive", ENTRY).status == "inactive"
    assert decide(None, None, None, None) == Lifecycle()
