"""Every mistake on the command line is one line on stderr starting ``Error:``, and exit 2."""

from __future__ import annotations

import pytest
from click.testing import Result

from tests.fakes import FakeProvider

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def assert_usage_error(result: Result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    error = lines[0]
    assert error.startswith("Error: "), result.stderr
    for word in words:
        assert word in error, (word, error)
    assert "Traceback" not in result.output


@pytest.fixture
def synced(invoke, provider: FakeProvider):  # type: ignore[no-untyped-def]
    provider.set("a", "b")
    assert invoke("sync").exit_code == 0
    return invoke


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("events", "--since", "99999999d"), ("--since", "before the year 1")),
        (("events", "--since", "0001-01-01T00:00:00+01:00"), ("--since", "out of range")),
        (("events", "--since", "9999-12-31T23:00:00-02:00"), ("--since", "out of range")),
        (("events", "--since", "99999999999999999999d"), ("--since", "too long")),
        (("models", "--as-of", "99999999d"), ("--as-of", "before the year 1")),
        (("diff", "99999999d"), ("FROM", "before the year 1")),
        (("diff", "1d", "0001-01-01T00:00:00+01:00"), ("TO", "out of range")),
        (("events", "--limit", "99999999999999999999"), ("--limit",)),
        (("runs", "--limit", "99999999999999999999"), ("--limit",)),
        (("alerts", "--limit", "99999999999999999999"), ("--limit",)),
        (("report", "changes", "--days", "99999999999"), ("--days",)),
    ],
)
def test_an_out_of_range_moment_or_limit_is_a_one_line_usage_error(
    synced,
    args: tuple[str, ...],
    words: tuple[str, ...],  # type: ignore[no-untyped-def]
) -> None:
    assert_usage_error(synced(*args), *words)


def test_the_extremes_that_do_fit_still_work(synced) -> None:  # type: ignore[no-untyped-def]
    assert synced("events", "--since", "0001-01-01T00:00:00Z").exit_code == 0
    assert synced("events", "--limit", "1000000000").exit_code == 0
    assert synced("models", "--as-of", "0001-01-02").exit_code == 0
    assert synced("diff", "0001-01-02").exit_code == 0


@SQLITE_ONLY
@pytest.mark.parametrize(
    "args",
    [
        ("nope",),
        ("events", "--kind", "lost"),
        ("report",),
        ("history",),
        ("events", "--limit", "-1"),
    ],
)
def test_click_usage_errors_are_one_line_too(invoke, args: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    result = invoke(*args)
    assert_usage_error(result, "--help")
