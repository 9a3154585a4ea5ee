"""What a sync changes, decided over plain data: stored state + fetched list -> diff."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.sync.diff import Diff, StoredModel, compute_diff, field_changes, mass_vanish_reason
from syncer.sync.parse import ModelRecord


def raw(model_id: str, **fields: Any) -> dict[str, Any]:
    listed = {"id": model_id, "object": "model", "created": 1686935002, "owned_by": "openai"}
    return {**listed, **fields}


def record(model_id: str, **fields: Any) -> ModelRecord:
    body = raw(model_id, **fields)
    return ModelRecord(model_id=model_id, raw=body, owned_by=body.get("owned_by"))


def stored(model_id: str, present: bool = True, **fields: Any) -> StoredModel:
    return StoredModel(model_id=model_id, raw=raw(model_id, **fields), present=present)


def state(*models: StoredModel) -> dict[str, StoredModel]:
    return {m.model_id: m for m in models}


def ids(records: Sequence[ModelRecord]) -> list[str]:
    return [r.model_id for r in records]


# --- compute_diff --------------------------------------------------------------------------------


def test_first_sync_adds_every_listed_model_in_order() -> None:
    fetched = [record("gpt-4o"), record("babbage-002"), record("whisper-1")]

    diff = compute_diff({}, fetched)

    assert ids(diff.added) == ["gpt-4o", "babbage-002", "whisper-1"]
    assert diff.added == fetched
    assert (diff.reappeared, diff.changed, diff.refreshed, diff.missing) == ([], [], [], [])
    assert diff.unchanged == 0
    assert diff.writes == fetched
    assert not diff.is_empty


def test_first_sync_of_an_empty_list_is_empty() -> None:
    diff = compute_diff({}, [])

    assert diff == Diff()
    assert diff.is_empty
    assert diff.writes == []


def test_an_identical_list_changes_nothing_and_counts_unchanged() -> None:
    diff = compute_diff(state(stored("a"), stored("b")), [record("a"), record("b")])

    assert diff.is_empty
    assert diff.unchanged == 2
    assert diff.writes == []


def test_listing_order_does_not_matter() -> None:
    diff = compute_diff(state(stored("a"), stored("b")), [record("b"), record("a")])

    assert diff.is_empty
    assert diff.unchanged == 2


def test_a_vanished_model_listed_again_reappeared() -> None:
    diff = compute_diff(state(stored("a"), stored("b", present=False)), [record("a"), record("b")])

    assert ids(diff.reappeared) == ["b"]
    assert diff.added == []
    assert diff.changed == []
    assert diff.unchanged == 1
    assert ids(diff.writes) == ["b"]
    assert not diff.is_empty


def test_an_owner_change_keeps_only_the_differing_field() -> None:
    diff = compute_diff(state(stored("a", owned_by="system")), [record("a", owned_by="acme")])

    assert len(diff.changed) == 1
    change = diff.changed[0]
    assert change.record.model_id == "a"
    assert change.record.raw["owned_by"] == "acme"
    assert change.old_values == {"owned_by": "system"}
    assert change.new_values == {"owned_by": "acme"}
    assert diff.unchanged == 0
    assert ids(diff.writes) == ["a"]


def test_several_fields_changing_are_all_reported() -> None:
    before = stored("a", owned_by="system", created=1)
    after = record("a", owned_by="acme", created=2, context_length=8192)

    change = compute_diff(state(before), [after]).changed[0]

    assert change.old_values == {"context_length": None, "created": 1, "owned_by": "system"}
    assert change.new_values == {"context_length": 8192, "created": 2, "owned_by": "acme"}


def test_a_field_that_appears_is_a_change_from_null() -> None:
    diff = compute_diff(state(stored("a")), [record("a", shutdown_date="2025-06-01")])

    change = diff.changed[0]
    assert change.old_values == {"shutdown_date": None}
    assert change.new_values == {"shutdown_date": "2025-06-01"}


def test_a_field_that_disappears_is_a_change_to_null() -> None:
    diff = compute_diff(state(stored("a", shutdown_date="2025-06-01")), [record("a")])

    change = diff.changed[0]
    assert change.old_values == {"shutdown_date": "2025-06-01"}
    assert change.new_values == {"shutdown_date": None}


def test_a_nested_change_is_reported_as_its_whole_top_level_field() -> None:
    before = stored("a", pricing={"prompt": "1", "completion": "2"})
    after = record("a", pricing={"prompt": "1", "completion": "3"})

    change = compute_diff(state(before), [after]).changed[0]

    assert change.old_values == {"pricing": {"prompt": "1", "completion": "2"}}
    assert change.new_values == {"pricing": {"prompt": "1", "completion": "3"}}


@pytest.mark.parametrize(
    ("old_fields", "new_fields"),
    [({}, {"shutdown_date": None}), ({"shutdown_date": None}, {})],
    ids=["key-now-null", "null-key-dropped"],
)
def test_a_key_that_only_turns_null_or_absent_is_refreshed_not_changed(
    old_fields: dict[str, Any], new_fields: dict[str, Any]
) -> None:
    diff = compute_diff(state(stored("a", **old_fields)), [record("a", **new_fields)])

    assert ids(diff.refreshed) == ["a"]
    assert diff.changed == []
    assert diff.unchanged == 0
    assert ids(diff.writes) == ["a"]
    assert not diff.is_empty


def test_a_present_model_missing_from_the_list_is_missing_sorted() -> None:
    before = state(stored("zeta"), stored("alpha"), stored("mid"), stored("kept"))

    diff = compute_diff(before, [record("kept")])

    assert diff.missing == ["alpha", "mid", "zeta"]
    assert diff.unchanged == 1
    assert diff.writes == []
    assert not diff.is_empty


def test_vanished_models_missing_again_are_not_missing_again() -> None:
    before = state(stored("gone", present=False), stored("kept"))

    diff = compute_diff(before, [record("kept")])

    assert diff.missing == []
    assert diff.is_empty


def test_an_empty_list_makes_every_present_model_missing() -> None:
    diff = compute_diff(state(stored("b"), stored("a"), stored("c", present=False)), [])

    assert diff.missing == ["a", "b"]


def test_a_model_that_reappears_and_changes_is_written_once() -> None:
    before = state(stored("a", present=False, owned_by="system"))

    diff = compute_diff(before, [record("a", owned_by="acme")])

    assert ids(diff.reappeared) == ["a"]
    assert [c.record.model_id for c in diff.changed] == ["a"]
    assert diff.changed[0].old_values == {"owned_by": "system"}
    assert ids(diff.writes) == ["a"]
    assert diff.writes[0].raw["owned_by"] == "acme"


def test_a_model_that_reappears_with_a_null_key_is_reappeared_not_refreshed() -> None:
    diff = compute_diff(state(stored("a", present=False)), [record("a", extra=None)])

    assert ids(diff.reappeared) == ["a"]
    assert diff.refreshed == []
    assert diff.changed == []
    assert ids(diff.writes) == ["a"]


def test_a_mixed_sync_sorts_every_model_into_its_category() -> None:
    before = state(
        stored("same"),
        stored("owner", owned_by="system"),
        stored("back", present=False),
        stored("gone"),
        stored("long-gone", present=False),
        stored("nulled"),
    )
    fetched = [
        record("new"),
        record("same"),
        record("owner", owned_by="acme"),
        record("back"),
        record("nulled", extra=None),
    ]

    diff = compute_diff(before, fetched)

    assert ids(diff.added) == ["new"]
    assert ids(diff.reappeared) == ["back"]
    assert [c.record.model_id for c in diff.changed] == ["owner"]
    assert ids(diff.refreshed) == ["nulled"]
    assert diff.missing == ["gone"]
    assert diff.unchanged == 1
    assert ids(diff.writes) == ["new", "back", "owner", "nulled"]


@pytest.mark.parametrize(("old", "new"), [(1, True), (0, False)])
def test_a_value_changing_json_type_is_a_change(old: Any, new: Any) -> None:
    diff = compute_diff(state(stored("a", flag=old)), [record("a", flag=new)])

    assert [c.record.model_id for c in diff.changed] == ["a"]
    assert diff.changed[0].old_values == {"flag": old}
    assert diff.changed[0].new_values == {"flag": new}


# --- field_changes -------------------------------------------------------------------------------


def test_field_changes_of_equal_objects_is_empty() -> None:
    assert field_changes({"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1}) == ({}, {})


def test_field_changes_counts_an_absent_field_as_null() -> None:
    assert field_changes({"a": None}, {}) == ({}, {})
    assert field_changes({}, {"a": 1}) == ({"a": None}, {"a": 1})
    assert field_changes({"a": 1}, {}) == ({"a": 1}, {"a": None})


def test_field_changes_keeps_only_the_differing_fields_in_key_order() -> None:
    old, new = field_changes({"z": 1, "a": 1, "same": 0}, {"z": 2, "a": 2, "same": 0})

    assert list(old) == ["a", "z"]
    assert old == {"a": 1, "z": 1}
    assert new == {"a": 2, "z": 2}


# --- mass_vanish_reason --------------------------------------------------------------------------


def test_an_empty_list_against_present_models_is_held() -> None:
    reason = mass_vanish_reason(present=12, listed=0, missing=12, share=0.5)

    assert reason == "the provider listed no models, but 12 are present"


def test_an_empty_list_is_held_even_when_any_share_may_vanish() -> None:
    assert mass_vanish_reason(present=1, listed=0, missing=1, share=1.0) is not None


def test_nothing_present_is_never_held() -> None:
    assert mass_vanish_reason(present=0, listed=0, missing=0, share=0.5) is None
    assert mass_vanish_reason(present=0, listed=30, missing=0, share=0.5) is None


def test_no_missing_models_is_not_held() -> None:
    assert mass_vanish_reason(present=10, listed=10, missing=0, share=0.1) is None


@pytest.mark.parametrize(
    ("present", "missing", "share"),
    [(10, 5, 0.5), (10, 3, 0.3), (10, 7, 0.7), (4, 1, 0.25), (3, 3, 1.0), (100, 1, 0.01)],
)
def test_exactly_the_allowed_share_vanishing_is_not_held(
    present: int, missing: int, share: float
) -> None:
    listed = present - missing + 1

    assert mass_vanish_reason(present, listed, missing, share) is None


def test_more_than_the_allowed_share_vanishing_is_held_with_the_numbers() -> None:
    reason = mass_vanish_reason(present=10, listed=4, missing=6, share=0.5)

    assert reason == "6 of 10 present models (60%) would vanish, more than the 50% allowed"


def test_one_model_above_the_share_is_held() -> None:
    reason = mass_vanish_reason(present=200, listed=100, missing=101, share=0.5)

    assert reason is not None
    assert "101 of 200" in reason


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=1, max_value=10_000),
    st.data(),
    st.integers(min_value=1, max_value=100),
)
def test_held_exactly_when_the_list_is_empty_or_more_than_the_share_vanishes(
    present: int, data: st.DataObject, percent: int
) -> None:
    missing = data.draw(st.integers(min_value=0, max_value=present))
    listed = data.draw(st.integers(min_value=0, max_value=present * 2))
    share = percent / 100

    reason = mass_vanish_reason(present, listed, missing, share)

    assert (reason is not None) == (listed == 0 or missing * 100 > percent * present)


# --- properties over random states ---------------------------------------------------------------

MODEL_IDS = ["a", "b", "c", "d", "e", "f", "g"]
# No bools or floats: 1 == True == 1.0 in Python, see test_a_value_changing_json_type_is_a_change.
values = st.none() | st.integers(min_value=0, max_value=2) | st.sampled_from(["x", "y"])
field_keys = st.sampled_from(["owned_by", "created", "extra"])
bodies = st.dictionaries(field_keys, values, max_size=3)


@st.composite
def stored_states(draw: st.DrawFn) -> dict[str, StoredModel]:
    chosen = draw(st.lists(st.sampled_from(MODEL_IDS), unique=True))
    return {
        i: StoredModel(model_id=i, raw={"id": i, **draw(bodies)}, present=draw(st.booleans()))
        for i in chosen
    }


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict[str, StoredModel], list[ModelRecord]]:
    """A stored state and a fetched list that often lists the same models, nearly the same,
    so that unchanged, refreshed and changed models all turn up, not only added ones."""
    before = draw(stored_states())
    fetched = []
    for i in draw(st.lists(st.sampled_from(MODEL_IDS), unique=True)):
        old = dict(before[i].raw) if i in before else None
        how = draw(st.sampled_from(["fresh", "same", "null", "drop-nulls", "edit"]))
        if old is None or how == "fresh":
            body = {"id": i, **draw(bodies)}
        elif how == "same":
            body = old
        elif how == "null":
            body = {**old, draw(field_keys): None}
        elif how == "drop-nulls":
            body = {k: v for k, v in old.items() if v is not None}
        else:
            body = {**old, draw(field_keys): draw(values)}
        fetched.append(ModelRecord(model_id=i, raw=body))
    return before, fetched


def apply(before: Mapping[str, StoredModel], diff: Diff) -> dict[str, StoredModel]:
    """What the store does with a diff: write the rows, mark the missing ones vanished."""
    after = dict(before)
    for row in diff.writes:
        after[row.model_id] = StoredModel(row.model_id, row.raw, present=True)
    for model_id in diff.missing:
        after[model_id] = replace(after[model_id], present=False)
    return after


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_every_fetched_model_lands_in_exactly_the_category_its_state_calls_for(
    scenario: tuple[dict[str, StoredModel], list[ModelRecord]],
) -> None:
    before, fetched = scenario
    diff = compute_diff(before, fetched)

    added = ids(diff.added)
    reappeared = ids(diff.reappeared)
    changed = [c.record.model_id for c in diff.changed]
    refreshed = ids(diff.refreshed)
    unchanged = 0
    for row in fetched:
        old = before.get(row.model_id)
        values_differ = old is not None and field_changes(old.raw, row.raw) != ({}, {})
        assert (row.model_id in added) == (old is None)
        assert (row.model_id in reappeared) == (old is not None and not old.present)
        assert (row.model_id in changed) == values_differ
        assert (row.model_id in refreshed) == (
            old is not None and old.present and old.raw != row.raw and not values_differ
        )
        unchanged += old is not None and old.present and old.raw == row.raw
    for category in (added, reappeared, changed, refreshed):
        assert len(category) == len(set(category))
    assert set(added).isdisjoint(reappeared + changed + refreshed)
    assert set(refreshed).isdisjoint(reappeared + changed)
    assert diff.unchanged == unchanged
    fetched_ids = {r.model_id for r in fetched}
    assert diff.missing == sorted(
        i for i, m in before.items() if m.present and i not in fetched_ids
    )


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_changes_carry_only_the_differing_fields_with_their_old_and_new_values(
    scenario: tuple[dict[str, StoredModel], list[ModelRecord]],
) -> None:
    before, fetched = scenario
    for change in compute_diff(before, fetched).changed:
        old = before[change.record.model_id].raw
        new = change.record.raw
        assert change.old_values
        assert set(change.old_values) == set(change.new_values)
        for key in set(old) | set(new):
            if old.get(key) == new.get(key):
                assert key not in change.old_values
            else:
                assert change.old_values[key] == old.get(key)
                assert change.new_values[key] == new.get(key)


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_writes_hold_each_fetched_record_that_is_not_unchanged_once(
    scenario: tuple[dict[str, StoredModel], list[ModelRecord]],
) -> None:
    before, fetched = scenario
    diff = compute_diff(before, fetched)

    written = ids(diff.writes)
    assert len(written) == len(set(written))
    expected = {
        r.model_id
        for r in fetched
        if r.model_id not in before
        or not before[r.model_id].present
        or before[r.model_id].raw != r.raw
    }
    assert set(written) == expected
    fetched_by_id = {r.model_id: r for r in fetched}
    assert all(w is fetched_by_id[w.model_id] for w in diff.writes)


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_applying_the_diff_yields_the_fetched_state_and_a_second_diff_is_empty(
    scenario: tuple[dict[str, StoredModel], list[ModelRecord]],
) -> None:
    before, fetched = scenario
    after = apply(before, compute_diff(before, fetched))

    fetched_ids = {r.model_id for r in fetched}
    expected = {i: replace(m, present=False) for i, m in before.items() if i not in fetched_ids}
    expected |= {r.model_id: StoredModel(r.model_id, r.raw, present=True) for r in fetched}
    assert after == expected
    again = compute_diff(after, fetched)
    assert again.is_empty
    assert again.writes == []
    assert again.unchanged == len(fetched)


# --- fields a server regenerates on every answer (vLLM) -----------------------------------------


def test_regenerated_fields_make_no_change_but_the_row_is_rewritten_as_last_listed() -> None:
    regenerated = {"created", "permission"}
    before = stored("base", created=1, permission=[{"id": "modelperm-a"}])
    listed = record("base", created=2, permission=[{"id": "modelperm-b"}])

    diff = compute_diff(state(before), [listed], regenerated=regenerated)

    assert diff.changed == [] and diff.added == []
    assert ids(diff.writes) == ["base"]  # raw keeps the regenerated fields as last listed


def test_a_real_change_beside_regenerated_fields_names_only_the_real_field() -> None:
    before = stored("base", created=1, max_model_len=131072)
    listed = record("base", created=2, max_model_len=65536)

    diff = compute_diff(state(before), [listed], regenerated={"created"})

    [change] = diff.changed
    assert (change.old_values, change.new_values) == (
        {"max_model_len": 131072},
        {"max_model_len": 65536},
    )


def test_without_regenerated_fields_a_new_created_is_a_change() -> None:
    diff = compute_diff(state(stored("base", created=1)), [record("base", created=2)])

    assert [c.old_values for c in diff.changed] == [{"created": 1}]
