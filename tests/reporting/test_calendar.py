"""The shutdown calendar: `deprecations --format ics` and `/shutdowns.ics`, parsed back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from icalendar import Calendar
from sqlalchemy import Engine

from syncer.alerts.deprecations import Deprecation, import_deprecations
from syncer.config.model import HTTPSettings, Settings, Source
from syncer.db.engine import make_engine, read_session, write_session
from syncer.providers.http import Client
from syncer.reporting.calendar import CALENDAR_DESCRIPTION, event_uid, shutdown_calendar
from syncer.reporting.shutdowns import (
    Shutdown,
    Undated,
    date_set_at,
    read_shutdowns,
    read_undated,
    status_set_at,
)
from syncer.runtime.server import serve
from syncer.sync.run import Syncer
from tests.fakes import API_KEY, FakeProvider, model
from tests.receivers import Clock
from tests.reporting.report_history import sync_at

DAY = timedelta(days=1)


def events(ics: bytes) -> dict[str, Calendar]:
    """The calendar's events by summary; parsing it back is the validation."""
    calendar = Calendar.from_ical(ics)
    assert str(calendar["VERSION"]) == "2.0"
    return {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}


def shutdown(model_id: str, day: datetime, **fields: object) -> Shutdown:
    values = {
        "source": "openai",
        "model_id": model_id,
        "shutdown_at": day,
        "replacement": "gpt-4o",
        "date_source": "provider",
        "set_at": day - 90 * DAY,
        "vanished_at": None,
        **fields,
    }
    return Shutdown(**values)  # type: ignore[arg-type]


def test_each_shutdown_is_one_all_day_event_with_replacement_and_countdown() -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    ics = shutdown_calendar(
        [
            shutdown("gpt-4-0613", datetime(2026, 6, 6, tzinfo=UTC)),
            shutdown(
                "o1-mini",
                datetime(2026, 3, 2, tzinfo=UTC),
                replacement=None,
                date_source="imported",
            ),
        ],
        now,
    )
    found = events(ics)
    assert sorted(found) == ["gpt-4-0613 shuts down (openai)", "o1-mini shuts down (openai)"]
    gpt4 = found["gpt-4-0613 shuts down (openai)"]
    assert gpt4.decoded("DTSTART") == datetime(2026, 6, 6).date()
    assert gpt4.decoded("DTEND") == datetime(2026, 6, 7).date()
    assert str(gpt4["UID"]) == event_uid("openai", "gpt-4-0613")
    assert str(gpt4["DESCRIPTION"]).splitlines() == [
        "openai: gpt-4-0613 shuts down on 2026-06-06: 97 days left (as of 2026-03-01).",
        "Replacement: gpt-4o.",
        "Date from: the provider's model list.",
    ]
    o1 = str(found["o1-mini shuts down (openai)"]["DESCRIPTION"])
    assert "1 day left" in o1 and "none announced" in o1 and "imported deprecations file" in o1
    assert b"\r\n" in ics and Calendar.from_ical(ics)["X-WR-CALNAME"]


def test_the_feed_passes_a_strict_validator_and_asks_for_a_refresh_in_a_duration() -> None:
    """``ical`` (not the library that wrote the feed) parses it strictly: every property's
    value type, required properties, dates and date-times."""
    from ical.calendar_stream import IcsCalendarStream

    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    ics = shutdown_calendar(
        [
            shutdown("gpt-4-0613", datetime(2026, 6, 6, tzinfo=UTC)),
            shutdown(
                "text-davinci-003",
                datetime(2024, 1, 4, tzinfo=UTC),
                replacement=None,
                date_source="imported",
                vanished_at=datetime(2024, 1, 4, 6, tzinfo=UTC),
            ),
        ],
        now,
    )
    parsed = IcsCalendarStream.calendar_from_ics(ics.decode())
    assert sorted(e.summary or "" for e in parsed.events) == [
        "gpt-4-0613 shuts down (openai)",
        "text-davinci-003 shuts down (openai)",
    ]
    assert all(e.dtstart < e.dtend for e in parsed.events)
    undated = Undated(
        "cohere",
        "command-r-03-2024",
        "deprecated",
        None,
        datetime(2026, 2, 1, 9, tzinfo=UTC),
        datetime(2026, 2, 1, 9, tzinfo=UTC),
    )
    with_undated = shutdown_calendar([], now, [undated]).decode()
    (event,) = IcsCalendarStream.calendar_from_ics(with_undated).events
    assert event.summary == "command-r-03-2024 deprecated, no shutdown date (cohere)"
    assert event.dtstart == datetime(2026, 2, 1).date()
    lines = ics.decode().splitlines()
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT6H" in lines
    assert "X-PUBLISHED-TTL:PT6H" in lines


def test_a_past_shutdown_says_when_it_shut_down_not_how_long_ago() -> None:
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    ics = shutdown_calendar([shutdown("gpt-4-0613", datetime(2024, 1, 4, tzinfo=UTC))], now)
    (event,) = events(ics).values()
    assert str(event["DESCRIPTION"]).splitlines()[0] == (
        "openai: gpt-4-0613 shut down on 2024-01-04."
    )


def test_a_later_revision_of_a_date_counts_every_move_but_ignores_other_changes() -> None:
    first = datetime(2026, 1, 1, tzinfo=UTC)
    changes = [
        (first + 5 * DAY, {"owned_by": "openai"}, {"owned_by": "system"}),
        (first + 9 * DAY, {"shutdown_date": None}, {"shutdown_date": "2026-06-06"}),
    ]
    assert date_set_at(first, changes, None) == first + 9 * DAY
    assert date_set_at(first, changes[:1], None) == first
    assert date_set_at(first, changes, first + 20 * DAY) == first + 20 * DAY


def test_a_status_is_learnt_when_it_last_changed_and_set_when_anything_shown_moved() -> None:
    first = datetime(2026, 1, 1, tzinfo=UTC)
    assert status_set_at(first, [], first) == (first, first)
    assert status_set_at(first, [first + 3 * DAY], first + 5 * DAY) == (
        first + 3 * DAY,
        first + 5 * DAY,
    )


def sync_groq(engine: Engine, provider: FakeProvider, clock: Clock) -> None:
    """A sync of a Groq source (its ``active: false`` is the status ``inactive``)."""
    source = Source(name="groq", kind="groq", base_url=provider.base_url, api_key=API_KEY)
    with Client(source.endpoint(), HTTPSettings(max_retries=0)) as client:
        assert Syncer(engine, client, "groq", now=clock).run().ok


def test_a_model_deprecated_without_a_date_has_its_event_on_the_day_its_status_was_learnt(
    engine: Engine, provider: FakeProvider, clock: Clock, invoke
) -> None:
    """Issue 19: the calendar shows what ``syncer deprecations`` lists; when a date comes,
    the model's one event moves to it, and back to the status day if the date goes."""
    provider.models = [model("llama-guard-3", active=True), model("llama-3.3", active=True)]
    sync_groq(engine, provider, clock)
    clock.advance(days=3)
    learnt = clock.now
    provider.models[0]["active"] = False
    sync_groq(engine, provider, clock)
    clock.advance(days=1)
    undated = events(invoke("deprecations", "--format", "ics").stdout_bytes)

    (summary,) = undated
    assert summary == "llama-guard-3 inactive, no shutdown date (groq)"
    event = undated[summary]
    assert str(event["UID"]) == event_uid("groq", "llama-guard-3")
    assert event.decoded("DTSTART") == learnt.date()
    assert str(event["CATEGORIES"].cats[0]) == "model deprecated"
    assert str(event["DESCRIPTION"]).splitlines()[0] == (
        "groq: llama-guard-3 is inactive, with no shutdown date known."
    )
    assert (
        str(
            Calendar.from_ical(invoke("deprecations", "--format", "ics").stdout_bytes)[
                "X-WR-CALDESC"
            ]
        )
        == CALENDAR_DESCRIPTION
    )

    def imported(entries: list[Deprecation]) -> dict[str, Calendar]:
        with write_session(engine) as session, session.begin():
            import_deprecations(session, entries, clock.now, replace=True, origin="deps.csv")
        with read_session(engine) as session:
            return events(
                shutdown_calendar(read_shutdowns(session), clock.now, read_undated(session))
            )

    dated = imported([Deprecation("llama-guard-3", datetime(2027, 1, 15, tzinfo=UTC))])
    clock.advance(hours=1)
    cleared = imported([])
    moved = dated["llama-guard-3 shuts down (groq)"]
    back = cleared["llama-guard-3 inactive, no shutdown date (groq)"]
    assert str(moved["UID"]) == str(back["UID"]) == str(event["UID"])
    assert int(event["SEQUENCE"]) < int(moved["SEQUENCE"]) < int(back["SEQUENCE"])
    assert moved.decoded("DTSTART") == datetime(2027, 1, 15).date()
    assert back.decoded("DTSTART") == learnt.date()


def test_a_moved_provider_date_keeps_its_uid_with_a_higher_sequence(
    engine: Engine, provider: FakeProvider, clock: Clock, invoke
) -> None:
    provider.models = [model("gpt-4-0613", shutdown_date="2026-06-06"), model("gpt-4o")]
    sync_at(engine, provider, clock)
    before = events(invoke("deprecations", "--format", "ics").stdout_bytes)
    clock.advance(days=3)
    provider.models = [model("gpt-4-0613", shutdown_date="2026-09-01"), model("gpt-4o")]
    sync_at(engine, provider, clock)
    after = events(invoke("deprecations", "--format", "ics").stdout_bytes)

    assert list(before) == list(after) == ["gpt-4-0613 shuts down (openai)"]
    was, now = before["gpt-4-0613 shuts down (openai)"], after["gpt-4-0613 shuts down (openai)"]
    assert str(now["UID"]) == str(was["UID"])
    assert int(now["SEQUENCE"]) > int(was["SEQUENCE"])
    assert now.decoded("DTSTART") == datetime(2026, 9, 1).date()
    assert now.decoded("LAST-MODIFIED") == clock.now


def test_an_imported_date_moved_by_a_new_import_keeps_its_uid(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    provider.models = [model("claude-2.1"), model("gpt-4o")]
    sync_at(engine, provider, clock)

    def imported(day: str) -> Calendar:
        entry = Deprecation(
            "claude-2*", datetime.fromisoformat(f"{day}T00:00:00+00:00"), "claude-sonnet-4"
        )
        with write_session(engine) as session, session.begin():
            import_deprecations(session, [entry], clock.now, origin="deps.csv")
        with read_session(engine) as session:
            (event,) = events(shutdown_calendar(read_shutdowns(session), clock.now)).values()
        return event

    first = imported("2026-07-21")
    clock.advance(hours=1)
    moved = imported("2026-08-01")
    assert str(moved["UID"]) == str(first["UID"]) == event_uid("openai", "claude-2.1")
    assert int(moved["SEQUENCE"]) > int(first["SEQUENCE"])
    assert "Replacement: claude-sonnet-4." in str(moved["DESCRIPTION"])


def test_a_retired_model_keeps_its_event_so_calendars_keep_the_past(
    engine: Engine, provider: FakeProvider, clock: Clock, invoke
) -> None:
    provider.models = [model("gpt-4-0613", shutdown_date="2026-03-05"), model("a"), model("b")]
    sync_at(engine, provider, clock)
    clock.advance(days=5)
    provider.models = [model("a"), model("b")]
    sync_at(engine, provider, clock)
    (event,) = events(invoke("deprecations", "--format", "ics").stdout_bytes).values()
    assert f"No longer listed since {clock.now:%Y-%m-%d}." in str(event["DESCRIPTION"])
    assert invoke("deprecations").stderr.strip() == "(no rows)"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_run_serves_the_calendar_and_the_report_beside_metrics(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    provider.models = [model("gpt-4-0613", shutdown_date="2026-06-06"), model("gpt-4o")]
    sync_at(engine, provider, clock)
    with serve(engine, Settings(), "127.0.0.1", 0, now=clock) as (host, port):
        ics = requests.get(f"http://{host}:{port}/shutdowns.ics", timeout=5)
        page = requests.get(f"http://{host}:{port}/", timeout=5)
        clock.advance(days=1)
        sync_at(engine, provider, clock)
        fresh = requests.get(f"http://{host}:{port}/", timeout=5)
    assert ics.status_code == 200 and ics.headers["Content-Type"].startswith("text/calendar")
    assert list(events(ics.content)) == ["gpt-4-0613 shuts down (openai)"]
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert 'data-model="gpt-4-0613"' in page.text
    assert f"As of {clock.now:%Y-%m-%d %H:%M} UTC" in fresh.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_pages_say_503_when_the_database_cannot_be_read(engine: Engine, clock: Clock) -> None:
    broken = make_engine("sqlite:////nonexistent/dir/syncer.db")
    with serve(broken, Settings(), "127.0.0.1", 0, now=clock) as (host, port):
        for path in ("/", "/shutdowns.ics"):
            response = requests.get(f"http://{host}:{port}{path}", timeout=5)
            assert response.status_code == 503
            assert "cannot be read" in response.text and "Traceback" not in response.text
    broken.dispose()


def test_a_lone_carriage_return_from_a_provider_cannot_start_a_calendar_line() -> None:
    # Issue 21 item 13: icalendar before 7.3.0 wrote a lone CR raw, and a reader that breaks
    # lines at a bare CR saw an injected property; pyproject's floor excludes those releases.
    # A replacement is provider text (Mistral's deprecation_replacement_model, an import file).
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    hostile = shutdown(
        "gpt-4-0613", datetime(2026, 6, 6, tzinfo=UTC), replacement="gpt-4o\rX-INJECTED:1"
    )

    ics = shutdown_calendar([hostile], now)

    assert b"\r" not in ics.replace(b"\r\n", b"")
    (event,) = events(ics).values()
    assert "X-INJECTED" not in event
