"""The pure alert decisions: rule matching, shutdown countdowns, stale sources, the payload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.alerts.decide import (
    PAYLOAD_VERSION,
    RETIRED_WINDOW,
    Alert,
    Health,
    Mark,
    ModelState,
    StaleMark,
    countdown,
    crossed,
    days_left,
    event_alerts,
    event_kind,
    is_stale,
    probe_alert,
    stale_after,
    stale_plan,
)
from syncer.config.model import ALERT_EVENT_KINDS, AlertRule, Channel
from syncer.scan.places import InUse, Place

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(days=30)
HOOK = Channel("webhook", "HOOK_URL")


def rule(name: str = "r", kind: str = "events", **fields: Any) -> AlertRule:
    return AlertRule(name=name, kind=kind, channel=HOOK, **fields)


def state(model_id: str, shutdown_at: datetime | None = None, **fields: Any) -> ModelState:
    values = {"present": True, "first_seen_at": EARLIER, "shutdown_at": shutdown_at, **fields}
    if shutdown_at is not None:
        values.setdefault("date_source", "provider")
    return ModelState(model_id, **values)


def event(kind: str, model_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "source": "openai",
        "model_id": model_id,
        "kind": kind,
        "occurred_at": NOW,
        "sync_run_id": 7,
        "old_values": None,
        "new_values": None,
        "details": None,
        **fields,
    }


# --- which kind an event reports -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("shutdown_at", "expected"),
    [
        (None, "vanished"),
        (NOW - timedelta(days=400), "retired"),
        (NOW, "retired"),
        (NOW + RETIRED_WINDOW, "retired"),
        (NOW + RETIRED_WINDOW + timedelta(seconds=1), "vanished"),
    ],
)
def test_a_vanishing_near_or_after_its_shutdown_date_is_retired_not_a_surprise(
    shutdown_at: datetime | None, expected: str
) -> None:
    assert event_kind("vanished", state("m", shutdown_at, present=False), NOW) == expected


@pytest.mark.parametrize("kind", ["added", "reappeared", "changed", "deleted"])
def test_other_event_kinds_are_reported_as_they_are_even_with_a_past_date(kind: str) -> None:
    assert event_kind(kind, state("m", NOW - timedelta(days=1)), NOW) == kind


def test_a_vanished_model_without_a_known_state_is_vanished() -> None:
    assert event_kind("vanished", None, NOW) == "vanished"


# --- events rules --------------------------------------------------------------------------------


def test_an_events_rule_fires_once_per_matching_event_with_the_event_itself() -> None:
    rules = [rule("new", kinds=("added",))]
    events = [event("added", "gpt-5"), event("vanished", "gpt-3")]
    models = {"gpt-5": state("gpt-5", first_seen_at=NOW), "gpt-4o": state("gpt-4o")}

    (alert,) = event_alerts(rules, "openai", events, models, NOW)

    assert (alert.rule, alert.kind, alert.source, alert.model_id) == (
        "new",
        "added",
        "openai",
        "gpt-5",
    )
    assert alert.summary == "openai: gpt-5 added"
    assert alert.event == {
        "kind": "added",
        "occurred_at": NOW,
        "sync_run_id": 7,
        "old_values": None,
        "new_values": None,
        "details": None,
    }


def test_the_first_sync_of_a_source_raises_no_added_alerts() -> None:
    rules = [rule(kinds=("added",))]
    models = {m: state(m, first_seen_at=NOW) for m in ("a", "b")}

    events = [event("added", "a"), event("added", "b")]

    assert event_alerts(rules, "openai", events, models, NOW) == []


def test_a_sync_that_adds_next_to_older_models_raises_added_alerts() -> None:
    models = {"a": state("a"), "b": state("b", first_seen_at=NOW)}

    alerts = event_alerts([rule(kinds=("added",))], "openai", [event("added", "b")], models, NOW)

    assert [a.model_id for a in alerts] == ["b"]


def test_rules_filter_by_source_and_by_id_glob() -> None:
    rules = [
        rule("ours", models=("ft:*:acme:*",)),
        rule("4o", models=("gpt-4o*",), sources=("openai",)),
        rule("elsewhere", sources=("azure",)),
    ]
    events = [event("vanished", "ft:gpt-4o:acme:x:1"), event("vanished", "gpt-4o-mini")]

    alerts = event_alerts(rules, "openai", events, {}, NOW)

    assert [(a.rule, a.model_id) for a in alerts] == [
        ("ours", "ft:gpt-4o:acme:x:1"),
        ("4o", "gpt-4o-mini"),
    ]


def test_a_retired_model_is_reported_as_retired_with_its_date_and_replacement() -> None:
    gone = state("gpt-4-0613", NOW - timedelta(days=1), present=False, replacement="gpt-4o")

    (alert,) = event_alerts(
        [rule(kinds=("retired",))],
        "openai",
        [event("vanished", "gpt-4-0613")],
        {"gpt-4-0613": gone},
        NOW,
    )

    assert alert.kind == "retired"
    assert alert.summary == (
        "openai: gpt-4-0613 retired (shutdown date 2026-02-28, date from the provider); "
        "replacement: gpt-4o"
    )
    assert alert.shutdown is not None
    assert alert.shutdown["replacement"] == "gpt-4o"
    assert alert.shutdown["days_left"] == -1


def test_a_rule_for_vanished_does_not_get_retirements_and_vice_versa() -> None:
    dated = state("old", NOW, present=False)
    events = [event("vanished", "old"), event("vanished", "surprise")]
    rules = [rule("v", kinds=("vanished",)), rule("r", kinds=("retired",))]

    alerts = event_alerts(rules, "openai", events, {"old": dated}, NOW)

    assert [(a.rule, a.model_id, a.kind) for a in alerts] == [
        ("r", "old", "retired"),
        ("v", "surprise", "vanished"),
    ]
    assert alerts[1].summary == "openai: surprise vanished without a known shutdown date"


def test_a_change_summary_names_the_fields_with_old_and_new_values() -> None:
    change = event(
        "changed",
        "gpt-4o",
        old_values={"owned_by": "openai", "a": 1, "b": 2, "c": 3},
        new_values={"owned_by": "acme", "a": 2, "b": 3, "c": 4},
    )

    (alert,) = event_alerts([rule()], "openai", [change], {}, NOW)

    assert alert.summary == "openai: gpt-4o changed: a 1 → 2, b 2 → 3, c 3 → 4 and 1 more"
    assert alert.event is not None and alert.event["new_values"]["owned_by"] == "acme"


def test_countdown_and_stale_rules_ignore_events() -> None:
    rules = [rule("c", "shutdown"), rule("s", "stale")]

    assert event_alerts(rules, "openai", [event("vanished", "x")], {}, NOW) == []


rule_strategy = st.builds(
    lambda i, kinds, sources, models: rule(
        f"r{i}",
        kinds=tuple(kinds) or ALERT_EVENT_KINDS,
        sources=tuple(sources),
        models=tuple(models),
    ),
    st.integers(0, 99),
    st.lists(st.sampled_from(ALERT_EVENT_KINDS), unique=True, max_size=3),
    st.lists(st.sampled_from(["openai", "azure"]), unique=True, max_size=2),
    st.lists(st.sampled_from(["gpt-*", "ft:*", "*mini", "o1"]), unique=True, max_size=2),
)
event_strategy = st.builds(
    event,
    st.sampled_from(["added", "vanished", "reappeared", "changed", "deleted"]),
    st.sampled_from(["gpt-4o", "gpt-4o-mini", "ft:gpt-4o:acme:x:1", "o1", "dall-e-3"]),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(rule_strategy, max_size=4),
    st.lists(event_strategy, max_size=6),
    st.sampled_from(["openai", "azure"]),
    st.booleans(),
)
def test_every_alert_is_one_matching_rule_event_pair_and_every_pair_has_one_alert(
    rules: list[AlertRule], events: list[dict[str, Any]], source: str, dated: bool
) -> None:
    shutdown = NOW - timedelta(days=1) if dated else None
    models = {e["model_id"]: state(e["model_id"], shutdown) for e in events}

    alerts = event_alerts(rules, source, events, models, NOW)

    def reported(e: dict[str, Any]) -> str:
        return "retired" if e["kind"] == "vanished" and dated else e["kind"]

    expected = [
        (r.name, e["model_id"], reported(e))
        for e in events
        for r in rules
        if reported(e) in r.kinds
        and (not r.sources or source in r.sources)
        and (not r.models or any(fnmatchcase(e["model_id"], g) for g in r.models))
    ]
    assert [(a.rule, a.model_id, a.kind) for a in alerts] == expected


# --- the shutdown countdown ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("remaining", "left"),
    [
        (timedelta(days=30), 30),
        (timedelta(days=30, seconds=1), 31),
        (timedelta(days=29, hours=23), 30),
        (timedelta(seconds=1), 1),
        (timedelta(0), 0),
        (-timedelta(hours=1), 0),
        (-timedelta(days=1), -1),
    ],
)
def test_days_left_rounds_up_to_whole_days(remaining: timedelta, left: int) -> None:
    assert days_left(NOW + remaining, NOW) == left


@pytest.mark.parametrize(
    ("remaining", "reached"),
    [
        (timedelta(days=91), []),
        (timedelta(days=90), [90]),
        (timedelta(days=30, seconds=1), [90]),
        (timedelta(days=30), [30, 90]),
        (timedelta(days=5), [7, 30, 90]),
        (timedelta(hours=2), [1, 7, 30, 90]),
        (timedelta(0), [0, 1, 7, 30, 90]),
        (-timedelta(days=100), [0, 1, 7, 30, 90]),
    ],
)
def test_a_threshold_is_reached_when_at_most_that_many_days_remain(
    remaining: timedelta, reached: list[int]
) -> None:
    assert crossed((90, 30, 7, 1), NOW + remaining, NOW) == reached


def test_a_model_first_seen_close_to_its_date_alerts_once_for_the_tightest_threshold() -> None:
    date = NOW + timedelta(days=5)

    plan = countdown([rule(kind="shutdown")], "openai", [state("gpt-4-0613", date)], [], NOW)

    (alert,) = plan.alerts
    assert alert.kind == "shutdown"
    assert alert.summary == (
        "openai: gpt-4-0613 shuts down in 5 days (2026-03-06, date from the provider)"
    )
    assert alert.shutdown == {
        "shutdown_at": date,
        "days_left": 5,
        "threshold_days": 7,
        "replacement": None,
        "date_source": "provider",
        "origin": None,
        "source_url": None,
        "status": None,
    }
    assert sorted(m.threshold_days for m in plan.new_marks) == [7, 30, 90]
    assert plan.obsolete_marks == []


def test_marked_thresholds_do_not_fire_again_and_the_next_one_does() -> None:
    date = NOW + timedelta(days=5)
    rules = [rule(kind="shutdown")]
    first = countdown(rules, "openai", [state("m", date)], [], NOW)

    soon = NOW + timedelta(hours=1)
    again = countdown(rules, "openai", [state("m", date)], first.new_marks, soon)
    later = NOW + timedelta(days=4, hours=1)
    last_day = countdown(rules, "openai", [state("m", date)], first.new_marks, later)

    assert again.alerts == [] and again.new_marks == []
    assert [a.shutdown["threshold_days"] for a in last_day.alerts if a.shutdown] == [1]
    assert last_day.alerts[0].summary == (
        "openai: m shuts down in 1 day (2026-03-06, date from the provider)"
    )


def test_a_moved_date_starts_the_countdown_over_and_forgets_the_old_marks() -> None:
    old, new = NOW + timedelta(days=20), NOW + timedelta(days=60)
    rules = [rule(kind="shutdown")]
    marks = countdown(rules, "openai", [state("m", old)], [], NOW).new_marks

    moved = countdown(rules, "openai", [state("m", new)], marks, NOW)

    assert [a.shutdown["threshold_days"] for a in moved.alerts if a.shutdown] == [90]
    assert moved.alerts[0].shutdown["shutdown_at"] == new
    assert sorted(moved.obsolete_marks, key=lambda m: m.threshold_days) == sorted(
        marks, key=lambda m: m.threshold_days
    )


def test_a_date_that_passed_while_the_model_is_listed_alerts_once_more() -> None:
    date = NOW - timedelta(hours=1)
    rules = [rule(kind="shutdown", thresholds=(7,))]
    marks = [Mark("r", "openai", "m", 7, date)]

    plan = countdown(rules, "openai", [state("m", date, replacement="gpt-4o")], marks, NOW)

    (alert,) = plan.alerts
    assert alert.summary == (
        "openai: m reached its shutdown date 2026-03-01 (date from the provider) and is still "
        "listed; replacement: gpt-4o"
    )
    assert [m.threshold_days for m in plan.new_marks] == [0]


def test_countdowns_skip_vanished_undated_and_unmatched_models_and_forget_gone_ones() -> None:
    date = NOW + timedelta(days=3)
    models = [
        state("gone", date, present=False),
        state("undated"),
        state("gpt-4o", date),
        state("ft:x", date),
    ]
    stale_mark = Mark("r", "openai", "gone", 7, date)
    other_source = Mark("r", "azure", "gone", 7, date)

    plan = countdown(
        [rule(kind="shutdown", models=("gpt-*",))],
        "openai",
        models,
        [stale_mark, other_source],
        NOW,
    )

    assert [a.model_id for a in plan.alerts] == ["gpt-4o"]
    assert plan.obsolete_marks == [stale_mark]


def test_countdowns_are_soonest_first_and_per_rule() -> None:
    models = [state("late", NOW + timedelta(days=20)), state("soon", NOW + timedelta(days=2))]
    rules = [rule("a", "shutdown"), rule("b", "shutdown", thresholds=(3,)), rule("e")]

    plan = countdown(rules, "openai", models, [], NOW)

    assert [(a.rule, a.model_id) for a in plan.alerts] == [
        ("a", "soon"),
        ("a", "late"),
        ("b", "soon"),
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(1, 120), min_size=1, max_size=4, unique=True),
    st.integers(-5, 200),
    st.lists(st.integers(0, 72 * 24), max_size=12),
)
def test_over_any_timeline_each_threshold_fires_at_most_once_and_all_reached_ones_are_marked(
    thresholds: list[int], days_ahead: int, steps: list[int]
) -> None:
    date = NOW + timedelta(days=days_ahead)
    rules = [rule(kind="shutdown", thresholds=tuple(sorted(thresholds, reverse=True)))]
    marks: set[Mark] = set()
    fired: list[int] = []
    moment = NOW
    for hours in [0, *steps]:
        moment += timedelta(hours=hours)
        plan = countdown(rules, "openai", [state("m", date)], marks, moment)
        assert len(plan.alerts) <= 1
        fired += [a.shutdown["threshold_days"] for a in plan.alerts if a.shutdown]
        marks |= set(plan.new_marks)
        assert {m.threshold_days for m in marks} == set(crossed(thresholds, date, moment))
    assert len(fired) == len(set(fired))
    assert fired == sorted(fired, reverse=True)


# --- stale sources -------------------------------------------------------------------------------


def health(last_ok: datetime | None, first: datetime | None = EARLIER, source: str = "openai"):
    return Health(source, timedelta(minutes=15), last_ok, first)


def test_a_source_is_stale_after_three_intervals_without_success_by_default() -> None:
    limit = stale_after([], "openai", timedelta(minutes=15))

    assert limit == timedelta(minutes=45)
    assert not is_stale(health(NOW - timedelta(minutes=45)), limit, NOW)
    assert is_stale(health(NOW - timedelta(minutes=45, seconds=1)), limit, NOW)


def test_the_tightest_stale_rule_for_a_source_sets_its_limit() -> None:
    rules = [
        rule("a", "stale", stale_after=timedelta(hours=2)),
        rule("b", "stale", stale_after=timedelta(hours=1), sources=("azure",)),
        rule("c", "stale", stale_after=timedelta(minutes=30), sources=("openai",)),
        rule("d", "stale"),
    ]

    assert stale_after(rules, "openai", timedelta(hours=1)) == timedelta(minutes=30)
    assert stale_after(rules, "azure", timedelta(hours=1)) == timedelta(hours=1)
    assert stale_after(rules[:1], "other", timedelta(hours=1)) == timedelta(hours=2)


def test_a_source_that_never_ran_is_not_stale_and_one_that_never_succeeded_is() -> None:
    limit = timedelta(hours=1)

    assert not is_stale(health(None, None), limit, NOW)
    assert is_stale(health(None, NOW - timedelta(hours=2)), limit, NOW)
    assert not is_stale(health(None, NOW - timedelta(minutes=5)), limit, NOW)


def test_a_stale_source_alerts_once_then_recovers_once() -> None:
    rules = [rule("s", "stale", stale_after=timedelta(hours=1))]
    last_ok = NOW - timedelta(hours=3)

    first = stale_plan(rules, [health(last_ok)], [], NOW)
    second = stale_plan(rules, [health(last_ok)], first.new_marks, NOW + timedelta(hours=1))
    recovered = stale_plan(rules, [health(NOW)], first.new_marks, NOW)

    (alert,) = first.alerts
    assert alert.kind == "stale"
    assert alert.summary == (
        "openai: no successful sync for 3h since its last success (2026-03-01T09:00:00Z); "
        "stale after 1h"
    )
    assert alert.stale == {
        "last_success_at": last_ok,
        "stale_after_seconds": 3600,
        "previous_success_at": None,
    }
    assert first.new_marks == [StaleMark("s", "openai", last_ok)]
    assert second.alerts == [] and second.new_marks == []
    (back,) = recovered.alerts
    assert back.kind == "recovered"
    assert back.stale is not None and back.stale["previous_success_at"] == last_ok
    assert recovered.recovered == first.new_marks


def test_stale_rules_watch_only_their_sources_and_use_three_intervals_without_a_limit() -> None:
    rules = [rule("s", "stale", sources=("azure",)), rule("t", "stale"), rule("e")]
    sources = [
        health(NOW - timedelta(minutes=50), source="openai"),
        health(NOW - timedelta(minutes=40), source="azure"),
    ]

    plan = stale_plan(rules, sources, [], NOW)

    assert [(a.rule, a.source) for a in plan.alerts] == [("t", "openai")]
    assert "never" not in plan.alerts[0].summary
    assert "stale after 45m" in plan.alerts[0].summary


def test_a_source_that_never_succeeded_says_so() -> None:
    plan = stale_plan([rule("s", "stale")], [health(None, NOW - timedelta(days=1))], [], NOW)

    assert "since its first attempt" in plan.alerts[0].summary
    assert plan.new_marks == [StaleMark("s", "openai", None)]


# --- the payload ---------------------------------------------------------------------------------


def test_the_document_is_version_1_with_every_key_and_utc_times() -> None:
    alert = Alert(
        rule="r",
        kind="shutdown",
        summary="s",
        source="openai",
        model_id="m",
        shutdown={"shutdown_at": NOW, "days_left": 0},
    )

    document = alert.document("id-1", NOW)

    assert document == {
        "version": PAYLOAD_VERSION,
        "id": "id-1",
        "rule": "r",
        "kind": "shutdown",
        "created_at": "2026-03-01T12:00:00.000000Z",
        "source": "openai",
        "model_id": "m",
        "summary": "s",
        "event": None,
        "shutdown": {"shutdown_at": "2026-03-01T12:00:00.000000Z", "days_left": 0},
        "stale": None,
        "replacement": None,
        "in_use": None,
    }
    assert PAYLOAD_VERSION == 1


def test_the_probe_alert_names_its_rule_and_matches_nothing() -> None:
    probe = probe_alert(rule("slack-team"))

    assert (probe.kind, probe.summary) == ("test", "syncer: test alert for rule slack-team")
    assert probe.source is None and probe.model_id is None


# --- the models in use ---------------------------------------------------------------------------


def uses(*entries: tuple[str, str, int, str]) -> InUse:
    return InUse(
        (Place(repository, path, line), model_id) for repository, path, line, model_id in entries
    )


def test_an_in_use_rule_fires_only_for_models_a_recorded_scan_found_in_use() -> None:
    found = uses(("api", "app/llm.py", 12, "openai/gpt-4o"), ("web", "src/chat.ts", 3, "o1"))
    events = [event("vanished", "gpt-4o"), event("vanished", "gpt-4-0613"), event("vanished", "o1")]
    rules = [rule("page", kinds=("vanished",), in_use=True), rule("all", kinds=("vanished",))]

    alerts = event_alerts(rules, "openai", events, {}, NOW, found)

    assert [(a.rule, a.model_id) for a in alerts] == [
        ("page", "gpt-4o"),
        ("all", "gpt-4o"),
        ("all", "gpt-4-0613"),
        ("page", "o1"),
        ("all", "o1"),
    ]
    assert alerts[0].summary == (
        "openai: gpt-4o vanished without a known shutdown date; used in 1 place: api:app/llm.py:12"
    ), "the finding as written (openai/gpt-4o) counts for the listed id"
    assert alerts[0].in_use == {
        "count": 1,
        "places": [{"repository": "api", "path": "app/llm.py", "line": 12}],
    }
    assert alerts[2].in_use == {"count": 0, "places": []}, "known not to be in use"
    assert alerts[2].summary == "openai: gpt-4-0613 vanished without a known shutdown date"


def test_without_a_recorded_scan_in_use_rules_fire_for_nothing_and_alerts_say_nothing_of_use() -> (
    None
):
    rules = [rule("page", in_use=True), rule("all"), rule("soon", "shutdown", in_use=True)]
    models = [state("gpt-4o", NOW + timedelta(days=3))]

    alerts = event_alerts(rules, "openai", [event("vanished", "gpt-4o")], {}, NOW, InUse())
    plan = countdown(rules, "openai", models, [], NOW, InUse())

    assert [(a.rule, a.in_use) for a in alerts] == [("all", None)]
    assert plan.alerts == [] and plan.new_marks == []
    assert alerts[0].document("id", NOW)["in_use"] is None


def test_a_model_used_in_many_places_names_three_and_counts_the_rest() -> None:
    found = uses(
        *[("api", f"m{i}.py", i, "gpt-4o") for i in range(1, 26)],
        ("api", "m1.py", 1, "gpt-4o:free"),
    )

    (alert,) = event_alerts([rule()], "openai", [event("vanished", "gpt-4o")], {}, NOW, found)

    assert alert.summary.endswith(
        "; used in 25 places: api:m1.py:1, api:m10.py:10, api:m11.py:11, and 22 more"
    ), "a place is counted once however the id is written there"
    assert alert.in_use is not None
    assert alert.in_use["count"] == 25 and len(alert.in_use["places"]) == 20


def test_an_in_use_countdown_counts_down_only_models_in_use_and_says_where() -> None:
    found = uses(("api", "app.py", 7, "gpt-4-0613"))
    models = [state("gpt-4-0613", NOW + timedelta(days=5)), state("o1", NOW + timedelta(days=5))]

    plan = countdown([rule("soon", "shutdown", in_use=True)], "openai", models, [], NOW, found)

    (alert,) = plan.alerts
    assert alert.model_id == "gpt-4-0613" and alert.used
    assert alert.summary == (
        "openai: gpt-4-0613 shuts down in 5 days (2026-03-06, date from the provider); "
        "used in 1 place: api:app.py:7"
    )
    assert {m.model_id for m in plan.new_marks} == {"gpt-4-0613"}
