"""The import's decisions, over plain data (no server, no database)."""

from __future__ import annotations

from datetime import UTC, datetime

from syncer.imports.plan import (
    Applied,
    conditional_headers,
    config_digest,
    is_unchanged,
    lease_name,
)

AT = datetime(2026, 12, 1, tzinfo=UTC)
LITELLM = config_digest("litellm", {"openai": ["openai"]})


def _applied(**changes: object) -> Applied:
    fields: dict[str, object] = {
        "at": AT,
        "etag": '"v1"',
        "last_modified": "Tue, 01 Dec 2026 10:00:00 GMT",
        "body_digest": "b1",
        "config_digest": LITELLM,
        "entries": 3,
        "held": 3,
    }
    return Applied(**{**fields, **changes})  # type: ignore[arg-type]


def test_a_fetch_sends_back_the_validators_of_the_document_applied_last() -> None:
    assert conditional_headers(_applied(), LITELLM) == {
        "If-None-Match": '"v1"',
        "If-Modified-Since": "Tue, 01 Dec 2026 10:00:00 GMT",
    }
    assert conditional_headers(_applied(etag=None), LITELLM) == {
        "If-Modified-Since": "Tue, 01 Dec 2026 10:00:00 GMT",
    }
    assert conditional_headers(None, LITELLM) == {}


def test_a_new_source_of_a_litellm_kind_makes_the_next_fetch_unconditional() -> None:
    more = config_digest("litellm", {"openai": ["openai"], "claude": ["anthropic"]})

    assert more != LITELLM
    assert conditional_headers(_applied(), more) == {}
    assert not is_unchanged(_applied(), "b1", more)
    # A CSV's entries name their sources themselves: the configuration does not matter.
    assert config_digest("csv", {}) == config_digest("csv", {"openai": ["openai"]})


def test_dates_replaced_since_by_something_else_are_fetched_and_applied_again() -> None:
    replaced = _applied(held=0)

    assert conditional_headers(replaced, LITELLM) == {}
    assert not is_unchanged(replaced, "b1", LITELLM)
    assert is_unchanged(_applied(), "b1", LITELLM)
    assert not is_unchanged(_applied(), "b2", LITELLM)


def test_a_lease_name_fits_the_leases_table_whatever_the_url() -> None:
    short = "https://example.com/dates.csv"
    long = "https://example.com/" + "x" * 300 + ".csv"

    assert lease_name(short) == f"import:{short}"
    assert len(lease_name(long)) == 128
    assert lease_name(long) != lease_name(long + "?")
