"""Digests decided on plain data: fire times across timezones and DST, netting, groups, caps."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syncer.alerts.decide import Alert
from syncer.alerts.digest import (
    DIGEST_VERSION,
    Held,
    compose,
    fire_times,
    latest_fire,
    net,
    next_fire,
    render,
    urgent,
)
from syncer.config.model import AlertRule, Channel, Urgency

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
_ids = itertools.count(1)


def rule(**fields: Any) -> AlertRule:
    channel = Channel(fields.pop("channel", "webhook"), "HOOK_URL", "http://127.0.0.1/")
    return AlertRule(
        name="weekly",
        kind=fields.pop("kind", "events"),
        channel=channel,
        deliver="digest",
        schedule=fields.pop("schedule", "0 9 * * MON"),
        **fields,
    )


def held(
    kind: str,
    model: str | None = "gpt-4",
    *,
    source: str = "openai",
    at: datetime = T0,
    event: dict[str, Any] | None = None,
    shutdown: dict[str, Any] | None = None,
) -> Held:
    alert_id = f"a{next(_ids)}"
    alert = Alert(
        rule="weekly",
        kind=kind,
        summary=f"{source}: {model} {kind}",
        source=source,
        model_id=model,
        event=event,
        shutdown=shutdown,
    )
    return Held(alert_id, at, alert.document(alert_id, at))


def moved(model: str, old: str | None, new: str | None, at: datetime) -> Held:
    return held(
        "shutdown_changed",
        model,
        at=at,
        event={
            "kind": "shutdown_changed",
            "old_values": {"shutdown_at": old},
            "new_values": {"shutdown_at": new},
        },
    )


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


# --- when a digest fires -------------------------------------------------------------------------


def test_a_monday_digest_in_paris_follows_the_clocks_across_the_spring_change() -> None:
    fires = list(
        fire_times(
            "0 9 * * MON",
            "Europe/Paris",
            datetime(2026, 3, 16, tzinfo=UTC),
            datetime(2026, 4, 7, tzinfo=UTC),
        )
    )

    assert fires == [
        datetime(2026, 3, 16, 8, 0, tzinfo=UTC),  # 9:00 CET
        datetime(2026, 3, 23, 8, 0, tzinfo=UTC),
        datetime(2026, 3, 30, 7, 0, tzinfo=UTC),  # 9:00 CEST, after 29 March
        datetime(2026, 4, 6, 7, 0, tzinfo=UTC),
    ]
    assert all(f.tzinfo == UTC for f in fires)


def test_the_default_timezone_is_utc_and_new_york_changes_on_its_own_date() -> None:
    utc = list(
        fire_times(
            "0 9 * * *", "UTC", datetime(2026, 3, 7, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC)
        )
    )
    new_york = list(
        fire_times(
            "0 9 * * *",
            "America/New_York",
            datetime(2026, 3, 7, tzinfo=UTC),
            datetime(2026, 3, 10, tzinfo=UTC),
        )
    )

    assert [f.hour for f in utc] == [9, 9, 9]
    assert [f.hour for f in new_york] == [14, 13, 13]  # EST, then EDT from 8 March


def test_a_daily_digest_at_an_hour_the_clocks_repeat_fires_once() -> None:
    fires = list(
        fire_times(
            "30 2 * * *",
            "Europe/Paris",
            datetime(2026, 10, 24, tzinfo=UTC),
            datetime(2026, 10, 27, tzinfo=UTC),
        )
    )

    assert fires == [
        datetime(2026, 10, 24, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # the first 2:30; the second is skipped
        datetime(2026, 10, 26, 1, 30, tzinfo=UTC),
    ]


def test_a_daily_digest_at_an_hour_the_clocks_skip_still_fires_that_day() -> None:
    fires = list(
        fire_times(
            "30 2 * * *",
            "Europe/Paris",
            datetime(2026, 3, 28, tzinfo=UTC),
            datetime(2026, 3, 31, tzinfo=UTC),
        )
    )

    assert [f.date().day for f in fires] == [28, 29, 30]
    assert fires[1] == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 3:30 CEST: there is no 2:30


def test_missed_fire_times_fold_into_the_latest_and_the_window_is_half_open() -> None:
    three_weeks = T0 + timedelta(weeks=3)

    assert latest_fire("0 9 * * MON", "UTC", T0, three_weeks) == three_weeks
    assert latest_fire("0 9 * * MON", "UTC", T0, three_weeks - timedelta(seconds=1)) == (
        T0 + timedelta(weeks=2)
    )
    assert latest_fire("0 9 * * MON", "UTC", T0, T0) is None, "the start is not in the window"
    assert next_fire("0 9 * * MON", "UTC", T0) == T0 + timedelta(weeks=1)


# --- what cannot wait ----------------------------------------------------------------------------


def test_immediate_if_takes_out_what_meets_every_condition_of_one_clause() -> None:
    r = rule(
        immediate_if=(Urgency(kinds=("vanished", "retired"), in_use=True), Urgency(days_left=7))
    )
    soon = {"shutdown_at": T0 + timedelta(days=5), "days_left": 5}
    later = {"shutdown_at": T0 + timedelta(days=40), "days_left": 40}

    assert urgent(r, held("vanished").document, in_use=True)
    assert not urgent(r, held("vanished").document, in_use=False)
    assert not urgent(r, held("added").document, in_use=True)
    assert urgent(r, held("changed", shutdown=soon).document)
    assert not urgent(r, held("changed", shutdown=later).document)
    assert not urgent(rule(), held("vanished").document, in_use=True), "no clause, no hurry"


# --- netting -------------------------------------------------------------------------------------


def test_a_model_added_then_gone_in_the_window_is_one_line_or_none() -> None:
    window = [held("added", "flash"), held("vanished", "flash", at=T0 + hours(30))]

    (item,) = net(window)

    assert item.kind == "added_gone" and item.group == "added"
    assert item.text == "flash: added, and gone again (2026-03-03)"
    assert item.alert_ids == tuple(h.alert_id for h in window)
    assert net(window, drop_transient=True) == []


def test_a_date_moved_twice_shows_the_final_date_and_moved_back_shows_nothing() -> None:
    twice = [
        moved("gpt-4", None, "2026-06-06T00:00:00Z", T0),
        moved("gpt-4", "2026-06-06T00:00:00Z", "2026-07-01T00:00:00Z", T0 + hours(5)),
    ]
    back = [
        moved("o1", "2026-06-06T00:00:00Z", "2026-07-01T00:00:00Z", T0),
        moved("o1", "2026-07-01T00:00:00Z", "2026-06-06T00:00:00Z", T0 + hours(5)),
    ]

    (item,) = net(twice)

    assert item.text == "gpt-4: shutdown date none → 2026-07-01"
    assert item.kind == "shutdown_changed" and len(item.alert_ids) == 2
    assert net(back) == []


def test_changes_merge_per_field_and_a_change_of_a_model_now_gone_is_dropped() -> None:
    first = {
        "kind": "changed",
        "old_values": {"owned_by": "a", "context_length": 8},
        "new_values": {"owned_by": "b", "context_length": 16},
    }
    second = {"kind": "changed", "old_values": {"owned_by": "b"}, "new_values": {"owned_by": "a"}}
    window = [
        held("changed", "m", event=first),
        held("changed", "m", at=T0 + hours(1), event=second),
    ]

    (item,) = net(window)

    assert item.text == "m: changed: context_length 8 → 16"
    gone = [held("changed", "m", event=first), held("vanished", "m", at=T0 + hours(1))]
    assert [i.kind for i in net(gone)] == ["vanished"]


def test_vanished_then_back_is_one_line_and_a_countdown_keeps_its_tightest_alert() -> None:
    blip = [held("vanished", "whisper-1"), held("reappeared", "whisper-1", at=T0 + hours(2))]
    countdowns = [
        held(
            "shutdown",
            "gpt-4",
            shutdown={
                "shutdown_at": T0 + timedelta(days=25),
                "days_left": 30,
                "threshold_days": 30,
            },
        ),
        held(
            "shutdown",
            "gpt-4",
            at=T0 + timedelta(days=20),
            shutdown={"shutdown_at": T0 + timedelta(days=25), "days_left": 5, "threshold_days": 7},
        ),
    ]

    assert [(i.kind, i.text) for i in net(blip)] == [
        ("vanished_back", "whisper-1: vanished, and back again"),
    ]
    (countdown,) = net(countdowns)
    assert countdown.alert_ids == (countdowns[0].alert_id, countdowns[1].alert_id)
    assert countdown.occurred_at == T0 + timedelta(days=20)


def test_stale_then_recovered_is_one_line_per_source() -> None:
    window = [
        held("stale", None, source="groq"),
        held("recovered", None, source="groq", at=T0 + hours(3)),
        held("stale", None, source="xai"),
    ]

    assert sorted((i.source, i.kind) for i in net(window)) == [
        ("groq", "stale_recovered"),
        ("xai", "stale"),
    ]


# --- the document ---------------------------------------------------------------------------------


def dated(model: str, days: int, source: str = "openai", **shutdown: Any) -> Held:
    return held(
        "shutdown",
        model,
        source=source,
        shutdown={
            "shutdown_at": T0 + timedelta(days=days),
            "days_left": days,
            "threshold_days": 30,
            **shutdown,
        },
    )


def test_a_digest_groups_by_source_then_kind_soonest_shutdown_first() -> None:
    window = [
        held("added", "new-model", source="openai"),
        dated("later", 20, replacement="gpt-4o", date_source="provider"),
        dated("sooner", 3, date_source="imported", origin="litellm.json"),
        held("vanished", "gone", source="anthropic"),
    ]
    end = T0 + timedelta(weeks=1)

    document = compose(
        rule(),
        net(window),
        alert_id="d1",
        start=T0,
        end=end,
        now=end,
        covered=[h.alert_id for h in window],
    )

    assert document["version"] == DIGEST_VERSION == 2
    assert (document["kind"], document["id"], document["rule"]) == ("digest", "d1", "weekly")
    assert [s["source"] for s in document["sources"]] == ["anthropic", "openai"]
    openai = document["sources"][1]
    assert [g["group"] for g in openai["groups"]] == ["shutting_down", "added"]
    shutting = openai["groups"][0]
    assert [i["model_id"] for i in shutting["items"]] == ["sooner", "later"]
    later = shutting["items"][1]
    assert (later["replacement"], later["date_source"], later["days_left"]) == (
        "gpt-4o",
        "provider",
        13,
    )
    assert "replacement: gpt-4o" in later["text"] and "date from the provider" in later["text"]
    assert "date imported from litellm.json" in shutting["items"][0]["text"]
    assert document["summary"] == (
        "syncer digest for rule weekly: 2 shutting down, 1 vanished or retired, 1 added"
    )
    assert document["alerts"] == [h.alert_id for h in window]
    assert document["window"] == {
        "start": "2026-03-02T09:00:00.000000Z",
        "end": "2026-03-09T09:00:00.000000Z",
        "timezone": "UTC",
    }


def test_each_group_is_capped_with_the_count_of_the_rest_and_the_report_link() -> None:
    window = [held("added", f"m{n:02}") for n in range(13)]

    document = compose(
        rule(digest_limit=5),
        net(window),
        alert_id="d",
        start=None,
        end=T0,
        now=T0,
        covered=[],
        report_url="https://syncer.example.com/",
    )

    (group,) = document["sources"][0]["groups"]
    assert (group["total"], group["more"], len(group["items"])) == (13, 8, 5)
    assert document["text"].splitlines()[-1] == "  … and 8 more: https://syncer.example.com/"
    assert document["report_url"] == "https://syncer.example.com/"


def test_the_text_reads_as_a_message_with_local_times() -> None:
    window = [dated("gpt-4-0613", 12, replacement="gpt-4o", date_source="provider")]
    r = rule(timezone="Europe/Paris")

    document = compose(
        r,
        net(window),
        alert_id="d",
        start=T0,
        end=T0 + timedelta(weeks=1),
        now=T0 + timedelta(weeks=1),
        covered=[],
    )

    assert document["text"] == (
        "syncer digest for rule weekly: 1 shutting down\n"
        "2026-03-02 10:00 → 2026-03-09 10:00 (Europe/Paris)\n"
        "\n"
        "openai\n"
        "  Shutting down (1)\n"
        "  • gpt-4-0613: shuts down 2026-03-14 (5 days left; replacement: gpt-4o; "
        "date from the provider)"
    )


def test_an_empty_window_says_nothing_happened() -> None:
    document = compose(rule(), [], alert_id="d", start=T0, end=T0, now=T0, covered=[])

    assert document["summary"] == "syncer digest for rule weekly: nothing happened"
    assert document["sources"] == [] and document["total"] == 0


@pytest.mark.parametrize("limit", [300, 1000, 5000])
def test_a_long_digest_is_cut_at_a_line_within_the_channels_limit(limit: int) -> None:
    window = [
        held("added", f"model-{n:04}-with-a-long-name", source=f"s{n % 7}") for n in range(700)
    ]
    document = compose(
        rule(digest_limit=1000), net(window), alert_id="d", start=None, end=T0, now=T0, covered=[]
    )

    text = render(document, limit)

    assert len(text) <= limit
    last = text.splitlines()[-1]
    shown = sum(1 for line in text.splitlines() if line.startswith("  • "))
    assert last == (
        f"… and {700 - shown} more, cut to fit this channel (the webhook document lists them all)"
    )


def test_a_digest_item_says_where_its_model_is_used_as_its_latest_alert_did() -> None:
    where = {
        "count": 2,
        "places": [
            {"repository": "api", "path": "app.py", "line": 3},
            {"repository": "web", "path": "chat.ts", "line": 8},
        ],
    }
    alert = Alert(
        rule="weekly",
        kind="vanished",
        summary="s",
        source="openai",
        model_id="gpt-4o",
        in_use=where,
    )
    window = [Held("a1", T0, alert.document("a1", T0))]

    document = compose(
        rule(), net(window), alert_id="d", start=None, end=T0, now=T0, covered=["a1"]
    )

    (item,) = document["sources"][0]["groups"][0]["items"]
    assert item["in_use"] == where
    assert item["text"] == (
        "gpt-4o: vanished without a known shutdown date "
        "(used in 2 places: api:app.py:3, web:chat.ts:8)"
    )
