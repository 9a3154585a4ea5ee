"""The pure reconstruction of the past: no database, no server."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.providers.mistral import PROFILE as MISTRAL
from syncer.reporting.history import (
    Current,
    Interval,
    Snapshot,
    inventory,
    net_changes,
    place_events,
    roll_back,
    snapshot,
)
from syncer.sync.diff import field_changes

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def interval(
    number: int,
    start: float,
    end: float | None,
    model_id: str = "a",
    source: str = "s",
    ended_by: str = "vanished",
) -> Interval:
    return Interval(
        source,
        model_id,
        number,
        at(start),
        None if end is None else at(end),
        "added" if number == 1 else "reappeared",
        None if end is None else ended_by,
    )


def current(model_id: str = "a", last_seen: float = 100, **raw: Any) -> Current:
    return Current("s", model_id, {"id": model_id, **raw}, at(last_seen))


listed_json = st.dictionaries(
    st.sampled_from(["owned_by", "created", "shutdown_date", "note"]),
    st.one_of(st.none(), st.integers(0, 3), st.sampled_from(["openai", "acme"])),
    max_size=4,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(listed_json, min_size=1, max_size=6))
def test_rolling_back_later_changes_gives_each_earlier_listing_back(
    versions: list[dict[str, Any]],
) -> None:
    changes = [field_changes(old, new)[0] for old, new in itertools.pairwise(versions)]
    for k, version in enumerate(versions):
        rolled = roll_back(versions[-1], reversed(changes[k:]))
        assert field_changes(rolled, version) == ({}, {})


def test_rolling_back_nothing_copies_the_listing() -> None:
    raw = {"id": "a", "owned_by": "openai"}
    rolled = roll_back(raw, [])
    assert rolled == raw and rolled is not raw


def test_a_model_not_yet_met_has_no_snapshot() -> None:
    assert snapshot(current(), [interval(1, 5, None)], [], at(4)) is None


def test_presence_starts_at_the_interval_start_and_ends_at_its_end() -> None:
    intervals = [interval(1, 5, 10), interval(2, 20, None)]
    states = {h: snapshot(current(), intervals, [], at(h)) for h in (5, 9.9, 10, 19.9, 20, 99)}
    assert {h: s.present for h, s in states.items() if s} == {
        5: True,
        9.9: True,
        10: False,
        19.9: False,
        20: True,
        99: True,
    }
    assert states[10] is not None and states[10].vanished_at == at(10)
    assert states[10].ended_by == "vanished"
    assert all(s is not None and s.first_seen_at == at(5) for s in states.values())


def test_last_seen_is_exact_when_it_has_not_moved_since_the_moment() -> None:
    gone = snapshot(current(last_seen=8), [interval(1, 5, 10)], [], at(50), last_sync=at(49))
    assert gone is not None and gone.last_seen_at == at(8)


def test_last_seen_that_moved_on_is_the_last_sync_by_then_or_before_the_end() -> None:
    intervals = [interval(1, 5, 10), interval(2, 20, None)]
    present = snapshot(current(last_seen=100), intervals, [], at(30), last_sync=at(29))
    absent = snapshot(
        current(last_seen=100),
        intervals,
        [],
        at(15),
        last_sync=at(14),
        seen_before={at(10): at(9)},
    )
    assert present is not None and present.last_seen_at == at(29)
    assert absent is not None and absent.last_seen_at == at(9)
    unknown = snapshot(current(last_seen=100), intervals, [], at(15))
    assert unknown is not None and unknown.last_seen_at == at(5)


def test_a_row_is_derived_from_the_json_as_a_sync_derives_it() -> None:
    shot = snapshot(
        current(
            "ft:gpt-4o:acme::1", owned_by="acme", created=1686935002, shutdown_date="2026-06-06"
        ),
        [interval(1, 5, None, model_id="ft:gpt-4o:acme::1")],
        [{"owned_by": "openai", "shutdown_date": None}],
        at(6),
    )
    assert shot is not None
    assert shot.row() == {
        "source": "s",
        "model_id": "ft:gpt-4o:acme::1",
        "owned_by": "openai",
        "created_at": datetime.fromtimestamp(1686935002, UTC),
        "is_fine_tuned": True,
        "shutdown_at": None,
        "first_seen_at": at(5),
        "last_seen_at": at(5),
        "vanished_at": None,
        "display_name": None,
        "context_length": None,
        "replacement": None,
        "origin": None,
        "status": None,
    }


def test_a_row_reads_the_json_as_its_sources_kind_does() -> None:
    shot = snapshot(
        current(
            "magistral",
            deprecation="2026-07-31T12:00:00Z",
            max_context_length=128000,
            deprecation_replacement_model="mistral-medium-latest",
        ),
        [interval(1, 5, None, model_id="magistral")],
        [],
        at(6),
    )
    assert shot is not None

    row = shot.row(MISTRAL)

    assert row["shutdown_at"] == datetime(2026, 7, 31, 12, tzinfo=UTC)
    assert (row["context_length"], row["replacement"]) == (128000, "mistral-medium-latest")


def test_inventory_keeps_the_order_of_the_rows_and_undoes_each_models_own_changes() -> None:
    currents = [current("b", owned_by="acme"), current("a", owned_by="acme"), current("z")]
    intervals = [interval(1, 1, None, "a"), interval(1, 2, None, "b"), interval(1, 50, None, "z")]
    later = [("s", "a", {"owned_by": "openai"})]
    shots = inventory(currents, intervals, later, at(10), last_sync={"s": at(9)})
    assert [(s.model_id, s.raw.get("owned_by")) for s in shots] == [("b", "acme"), ("a", "openai")]


def test_inventory_asks_for_the_last_sync_before_the_presence_ended() -> None:
    shots = inventory(
        [current("a")],
        [interval(1, 1, 5), interval(2, 20, None)],
        [],
        at(10),
        seen_before_end={("s", at(5)): at(4)},
    )
    assert [s.last_seen_at for s in shots] == [at(4)]


def shot(model_id: str, present: bool, ended_by: str = "vanished", **raw: Any) -> Snapshot:
    return Snapshot(
        "s",
        model_id,
        {"id": model_id, **raw},
        present,
        at(0),
        at(1),
        None if present else at(1),
        None if present else ended_by,
    )


def test_net_changes_name_every_kind_of_difference_and_skip_the_rest() -> None:
    before = [
        shot("gone", True),
        shot("deleted", True),
        shot("back", False),
        shot("same", True, owned_by="x"),
        shot("moved", True, owned_by="x"),
        shot("absent", False),
    ]
    after = [
        shot("gone", False),
        shot("deleted", False, ended_by="deleted"),
        shot("back", True),
        shot("same", True, owned_by="x"),
        shot("moved", True, owned_by="y"),
        shot("absent", False),
        shot("new", True),
    ]
    rows = net_changes(before, after)
    assert [(r["model_id"], r["change"]) for r in rows] == [
        ("gone", "vanished"),
        ("deleted", "deleted"),
        ("back", "reappeared"),
        ("moved", "changed"),
        ("new", "added"),
    ]
    moved = rows[3]
    assert (moved["old_values"], moved["new_values"]) == ({"owned_by": "x"}, {"owned_by": "y"})
    assert net_changes(after, after) == []


def test_events_are_placed_in_the_interval_they_belong_to_per_source() -> None:
    intervals = [interval(1, 1, 5), interval(2, 8, None), interval(1, 0, None, source="t")]
    events = [
        {"source": "s", "occurred_at": at(h), "kind": k}
        for h, k in ((1, "added"), (3, "changed"), (5, "vanished"), (8, "reappeared"))
    ] + [
        {"source": "t", "occurred_at": at(0), "kind": "added"},
        {"source": "u", "occurred_at": at(0), "kind": "changed"},
    ]
    placed = place_events(events, intervals)
    assert [(e["source"], e["kind"], e["interval_number"]) for e in placed] == [
        ("s", "added", 1),
        ("s", "changed", 1),
        ("s", "vanished", 1),
        ("s", "reappeared", 2),
        ("t", "added", 1),
        ("u", "changed", None),
    ]
    assert placed[2]["available_until"] == at(5)
    assert placed[3]["available_from"] == at(8)
