"""``syncer deprecations import --url``: the scheduled import's code, once, through the CLI,
against a file on a loopback server (changed, unchanged, broken, gone)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import create_engine, select

from syncer.db.tables import deprecations_table, import_runs_table
from tests.fakes import FakeProvider, closed_port
from tests.imports.conftest import DatesFile

Invoke = Callable[..., Result]

FIRST = "model,shutdown_date,replacement\na,2027-01-01,b\nc,2027-03-03,\n"
SECOND = "model,shutdown_date,replacement\na,2027-02-02,b\n"


@pytest.fixture
def syncer(invoke: Invoke, config: Path, provider: FakeProvider) -> Invoke:
    """``syncer --config CONFIG ARGS``, after a first sync of models a, b and c."""
    provider.set("a", "b", "c")

    def run(*args: str) -> Result:
        return invoke("--config", str(config), *args)

    assert run("sync").exit_code == 0
    return run


def _dates(syncer: Invoke) -> dict[str, tuple[str | None, str | None]]:
    """Each present model's date in force (a day) and its origin, as `models` shows them."""
    listed = json.loads(syncer("models", "--format", "json").stdout)
    return {m["model_id"]: ((m["shutdown_at"] or "")[:10] or None, m["origin"]) for m in listed}


def _runs(database_url: str) -> list[dict[str, Any]]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = [
            dict(r._mapping)
            for r in connection.execute(select(import_runs_table).order_by(import_runs_table.c.id))
        ]
    engine.dispose()
    return rows


def _entries(database_url: str) -> set[tuple[str, str, str]]:
    engine = create_engine(database_url)
    d = deprecations_table.c
    with engine.connect() as connection:
        rows = {
            (m, w.date().isoformat(), o)
            for m, w, o in connection.execute(select(d.model, d.shutdown_at, d.origin))
        }
    engine.dispose()
    return rows


def test_a_changed_file_replaces_what_the_url_gave_before(
    syncer: Invoke, dates_file: DatesFile, database_url: str
) -> None:
    url = dates_file.url("dates.csv")
    dates_file.body = FIRST
    first = syncer("deprecations", "import", "--url", url)
    assert first.exit_code == 0, first.output
    assert first.stdout == (
        f"imported 2 shutdown date(s) from {url}; 2 present model(s) got a new imported date\n"
    )
    assert _dates(syncer) == {"a": ("2027-01-01", url), "b": (None, None), "c": ("2027-03-03", url)}

    first_etag = dates_file.etag
    dates_file.body = SECOND
    second = syncer("deprecations", "import", "--url", url)

    assert second.exit_code == 0, second.output
    assert second.stdout == (
        f"imported 1 shutdown date(s) from {url}; 2 present model(s) got a new imported date\n"
    )
    # c's entry left the file, so its date went with it: the URL's entries are the file's.
    assert _dates(syncer) == {"a": ("2027-02-02", url), "b": (None, None), "c": (None, None)}
    assert _entries(database_url) == {("a", "2027-02-02", url)}
    # The second fetch was conditional; the file had changed, so it came whole.
    assert "If-None-Match" not in dates_file.headers[0]
    assert dates_file.headers[1]["If-None-Match"] == first_etag
    assert dates_file.headers[1]["If-Modified-Since"] == DatesFile.LAST_MODIFIED
    runs = _runs(database_url)
    assert [(r["origin"], r["status"], r["entries"], r["changed"], r["error"]) for r in runs] == [
        (url, "ok", 2, 2, None),
        (url, "ok", 1, 2, None),
    ]
    assert runs[1]["etag"] == dates_file.etag
    events = json.loads(
        syncer("events", "--kind", "shutdown_changed", "--model", "c", "--format", "json").stdout
    )
    assert [(e["new_values"]["shutdown_at"], e["details"]["origin"]) for e in events] == [
        (None, url),
        ("2027-03-03T00:00:00.000000Z", url),
    ]


def test_an_unchanged_file_is_a_304_and_changes_nothing(
    syncer: Invoke, dates_file: DatesFile, database_url: str
) -> None:
    url = dates_file.url("dates.csv")
    dates_file.body = FIRST
    assert syncer("deprecations", "import", "--url", url).exit_code == 0
    before = _dates(syncer)

    again = syncer("deprecations", "import", "--url", url)

    assert again.exit_code == 0, again.output
    assert again.stdout.startswith(f"{url}: unchanged since the import at ")
    assert again.stdout.endswith(" (304 Not Modified)\n")
    sent = dates_file.headers[1]
    assert sent["If-None-Match"] == dates_file.etag
    assert sent["If-Modified-Since"] == DatesFile.LAST_MODIFIED
    assert _dates(syncer) == before
    runs = _runs(database_url)
    assert [(r["status"], r["entries"], r["error"]) for r in runs] == [
        ("ok", 2, None),
        ("unchanged", None, None),
    ]


def test_the_same_bytes_without_validators_are_unchanged_too(
    syncer: Invoke, dates_file: DatesFile, database_url: str
) -> None:
    """A server that sends no ETag: the digest of what was applied tells."""
    url = dates_file.url("dates.csv")
    dates_file.server.clear()  # the same file, served with no validators at all
    dates_file.server.expect_request("/files/dates.csv").respond_with_data(FIRST)

    first = syncer("deprecations", "import", "--url", url)
    again = syncer("deprecations", "import", "--url", url)

    assert first.exit_code == 0 and again.exit_code == 0, again.output
    assert again.stdout.endswith(" (the same content)\n")
    assert [r["status"] for r in _runs(database_url)] == ["ok", "unchanged"]


@pytest.mark.parametrize(
    "broken",
    [
        "model,shutdown_date\na,someday\n",
        "<html>rate limited</html>",
        "\xff\xfe not text",
    ],
)
def test_a_malformed_file_keeps_the_last_good_import_and_is_recorded(
    syncer: Invoke, dates_file: DatesFile, database_url: str, broken: str
) -> None:
    url = dates_file.url("dates.csv")
    dates_file.body = FIRST
    assert syncer("deprecations", "import", "--url", url).exit_code == 0
    before, entries = _dates(syncer), _entries(database_url)

    dates_file.body = broken
    failed = syncer("deprecations", "import", "--url", url)

    assert failed.exit_code == 1
    assert failed.stdout == ""
    assert failed.stderr.startswith(f"Error: import of {url} failed: {url}")
    assert failed.stderr.endswith("; its last good import stays\n")
    assert failed.stderr.count("\n") == 1
    assert _dates(syncer) == before and _entries(database_url) == entries
    last = _runs(database_url)[-1]
    assert last["status"] == "failed" and last["entries"] is None
    assert last["error"] == failed.stderr.removeprefix(
        f"Error: import of {url} failed: "
    ).removesuffix("; its last good import stays\n")
    # Fixed upstream, the next import applies it (the failure did not poison the validators).
    dates_file.body = SECOND
    assert syncer("deprecations", "import", "--url", url).exit_code == 0
    assert _dates(syncer)["a"] == ("2027-02-02", url)


def test_a_file_that_is_gone_keeps_the_last_good_import_and_is_recorded(
    syncer: Invoke, dates_file: DatesFile, database_url: str
) -> None:
    url = dates_file.url("dates.csv")
    dates_file.body = FIRST
    assert syncer("deprecations", "import", "--url", url).exit_code == 0
    before = _dates(syncer)
    dates_file.status = 404
    refused = f"http://127.0.0.1:{closed_port()}/dates.csv"

    gone = syncer("deprecations", "import", "--url", url)
    down = syncer("deprecations", "import", "--url", refused)

    assert gone.exit_code == 1
    assert gone.stderr == (
        f"Error: import of {url} failed: GET {url}: 404 Not Found: not found (Not Found); "
        "its last good import stays\n"
    )
    assert down.exit_code == 1
    assert down.stderr.startswith(
        f"Error: import of {refused} failed: GET {refused}: cannot connect: "
    )
    assert _dates(syncer) == before
    assert [(r["origin"], r["status"]) for r in _runs(database_url)] == [
        (url, "ok"),
        (url, "failed"),
        (refused, "failed"),
    ]


def test_a_token_in_the_url_is_never_shown_or_stored(
    syncer: Invoke, dates_file: DatesFile, database_url: str
) -> None:
    token = "ghp-SECRET-0123456789abcdef"
    url = dates_file.url("dates.csv", f"token={token}")
    shown = dates_file.url("dates.csv", "token=***")
    dates_file.body = FIRST
    imported = syncer("deprecations", "import", "--url", url)
    dates_file.status = 500
    dates_file.error_body = f"upstream said no to {token}"
    failed = syncer("deprecations", "import", "--url", url)

    assert imported.exit_code == 0 and failed.exit_code == 1
    assert shown in imported.stdout and shown in failed.stderr
    everything = json.dumps(_runs(database_url), default=str) + str(_entries(database_url))
    for text in (imported.output, failed.output, everything):
        assert token not in text


def test_litellms_map_by_url_gives_dates_to_the_sources_of_its_kinds(
    syncer: Invoke, dates_file: DatesFile
) -> None:
    url = dates_file.url("model_prices_and_context_window.json")
    dates_file.body = json.dumps(
        {
            "sample_spec": {"litellm_provider": "one of ...", "deprecation_date": "a date"},
            "a": {
                "litellm_provider": "openai",
                "deprecation_date": "2027-01-01",
                "deprecation_source": "https://example.com/deprecations",
            },
            "claude-2": {"litellm_provider": "anthropic", "deprecation_date": "2027-01-01"},
        }
    )

    result = syncer("deprecations", "import", "--url", url)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"imported 1 shutdown date(s) from {url}")
    assert result.stderr == "skipped: 1 dated entries are for kinds no source has\n"
    assert _dates(syncer)["a"] == ("2027-01-01", url)


@pytest.mark.parametrize(
    ("url", "error"),
    [
        (
            "http://example.com/dates.csv",
            "Error: --url: 'http://example.com/dates.csv' is plain http to another machine: use "
            "https (http only to localhost)\n",
        ),
        (
            "ftp://example.com/dates.csv",
            "Error: --url: 'ftp://example.com/dates.csv' is not an http(s) URL\n",
        ),
        (
            "https://example.com/dates",
            "Error: --url: 'https://example.com/dates' does not end in .json, .csv or .toml: give "
            "--format\n",
        ),
    ],
)
def test_a_url_that_cannot_be_imported_is_refused_before_any_connection(
    syncer: Invoke, url: str, error: str, database_url: str
) -> None:
    result = syncer("deprecations", "import", "--url", url)

    assert result.exit_code == 2
    assert result.stderr == error
    assert _runs(database_url) == []


def test_a_file_and_a_url_together_or_neither_is_a_usage_error(syncer: Invoke) -> None:
    both = syncer("deprecations", "import", "x.csv", "--url", "https://example.com/x.csv")
    neither = syncer("deprecations", "import")

    assert both.exit_code == neither.exit_code == 2
    assert both.stderr == neither.stderr == "Error: give a FILE or --url URL (one of them)\n"


def test_format_names_the_format_of_a_url_without_a_suffix(
    syncer: Invoke, dates_file: DatesFile
) -> None:
    url = dates_file.url("latest")
    dates_file.body = FIRST

    result = syncer("deprecations", "import", "--url", url, "--format", "csv")

    assert result.exit_code == 0, result.output
    assert _dates(syncer)["a"] == ("2027-01-01", url)


def test_a_file_over_its_size_limit_is_not_read_and_keeps_the_last_good_import(
    syncer: Invoke, dates_file: DatesFile, database_url: str, config: Path
) -> None:
    url = dates_file.url("dates.csv")
    dates_file.body = FIRST
    assert syncer("deprecations", "import", "--url", url).exit_code == 0
    before = _dates(syncer)
    # The configured table of this URL gives the limit, as it does to the scheduled import.
    config.write_text(
        config.read_text() + f'\n[[imports]]\nurl = "{url}"\nmax_response_size = "1KB"\n'
    )
    dates_file.body = FIRST + "".join(f"m{i},2027-01-01,\n" for i in range(100))

    failed = syncer("deprecations", "import", "--url", url)

    assert failed.exit_code == 1
    assert failed.stderr == (
        f"Error: import of {url} failed: GET {url}: the response is 1.6 KB, more than 1 KB "
        "(max_response_size); not read; its last good import stays\n"
    )
    assert _dates(syncer) == before
    assert _runs(database_url)[-1]["status"] == "failed"
