"""Digests let a sync skip what did not change; skipping must never change what it decides."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.errors import HTTPStatusError
from syncer.jsontext import decode_page
from syncer.providers.profile import profile_for
from syncer.sync import run as sync
from syncer.sync.diff import StoredModel, compute_diff
from syncer.sync.parse import CREATED_RANGE, ModelRecord, parse_listing, parse_model, raw_digest

# --- raw_digest ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ({"a": 1}, {"a": True}),
        ({"a": 1}, {"a": 1.0}),
        ({"a": 0}, {"a": False}),
        ({"a": None}, {}),
        ({"a": "1"}, {"a": 1}),
        ({"a": [1, 2]}, {"a": [2, 1]}),
        ({"a": {"b": 1}}, {"a": {"b": "1"}}),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}),  # key order: the row is rewritten, no event
    ],
)
def test_json_that_differs_in_type_value_or_order_has_another_digest(
    one: dict[str, Any], other: dict[str, Any]
) -> None:
    assert raw_digest(one) != raw_digest(other)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
bodies = st.dictionaries(st.sampled_from(["object", "owned_by", "created", "x", "é"]), json_values)


@settings(max_examples=200, deadline=None)
@given(bodies)
def test_equal_json_built_apart_has_the_same_digest(body: dict[str, Any]) -> None:
    assert raw_digest(body) == raw_digest(json.loads(json.dumps(body)))


@pytest.mark.parametrize("created", [10**20, CREATED_RANGE.stop, CREATED_RANGE.start - 1])
def test_a_created_no_timestamp_can_hold_is_a_warning(created: int) -> None:
    record, warnings = parse_model({"id": "m", "created": created}, "data[0]")

    assert record.created is None
    assert warnings == [f"model 'm': 'created' is not unix seconds: {created!r}"]


# --- parse_listing(known=...) ------------------------------------------------------------------

listed_items = st.lists(
    st.builds(
        lambda i, body: {"id": f"m{i}", **body},
        st.integers(0, 6),
        st.dictionaries(
            st.sampled_from(["object", "owned_by", "created"]),
            st.none() | st.integers(0, 3) | st.sampled_from(["a", "b"]),
        ),
    ),
    max_size=10,
)


@settings(max_examples=300, deadline=None)
@given(listed_items, st.data())
def test_skipping_known_models_changes_nothing_but_what_is_parsed(
    items: list[dict[str, Any]], data: st.DataObject
) -> None:
    full = parse_listing([{"data": items}])
    # Some ids known with their true digest, some with a stale one.
    known = {
        r.model_id: r.digest if data.draw(st.booleans()) else "stale"
        for r in full.records
        if data.draw(st.booleans())
    }

    skipping = parse_listing([{"data": items}], known)

    by_id = {r.model_id: r for r in full.records}
    assert skipping.unchanged == [m for m in by_id if known.get(m) == by_id[m].digest]
    assert skipping.records == [r for r in full.records if r.model_id not in skipping.unchanged]
    assert skipping.listed == len(full.records)
    assert [w for w in skipping.warnings if "have no" in w or "duplicate" in w] == [
        w for w in full.warnings if "have no" in w or "duplicate" in w
    ]


@settings(max_examples=300, deadline=None)
@given(listed_items, st.data())
def test_a_diff_with_known_models_skipped_is_the_same_diff(
    items: list[dict[str, Any]], data: st.DataObject
) -> None:
    full = parse_listing([{"data": items}])
    stored = {}
    for r in full.records:
        if data.draw(st.booleans()):
            raw = r.raw if data.draw(st.booleans()) else {**r.raw, "object": "other"}
            stored[r.model_id] = StoredModel(
                r.model_id, raw, data.draw(st.booleans()), raw_digest(raw)
            )
    stored["gone"] = StoredModel("gone", {"id": "gone"}, True, raw_digest({"id": "gone"}))
    known = {m: s.digest for m, s in stored.items() if s.present}

    skipping = parse_listing([{"data": items}], known)
    fast = compute_diff(stored, skipping.records, skipping.unchanged)
    slow = compute_diff(stored, full.records)

    assert fast == slow


@settings(max_examples=300, deadline=None)
@given(listed_items, st.data())
def test_undecoded_models_listed_as_stored_are_unchanged_and_the_rest_read_as_decoded(
    items: list[dict[str, Any]], data: st.DataObject
) -> None:
    page = decode_page(json.dumps({"data": items}).encode(), "data")
    decoded = parse_listing([{"data": items}])
    full = parse_listing([page])
    known = {
        r.model_id: r.digest if data.draw(st.booleans()) else "stale"
        for r in full.records
        if data.draw(st.booleans())
    }

    skipping = parse_listing([page], known)

    by_id = {r.model_id: r for r in full.records}
    assert [(r.model_id, r.raw) for r in full.records] == [
        (r.model_id, r.raw) for r in decoded.records
    ]
    assert full.warnings == decoded.warnings
    assert skipping.unchanged == [m for m in by_id if known.get(m) == by_id[m].digest]
    assert skipping.records == [r for r in full.records if r.model_id not in skipping.unchanged]


@settings(max_examples=500, deadline=None)
@given(listed_items, st.integers(1, 4), st.data())
def test_pages_read_by_digest_keep_the_first_listing_of_each_id(
    items: list[dict[str, Any]], page_size: int, data: st.DataObject
) -> None:
    # Ids repeat within and across pages, as the same or other JSON: whichever listing of
    # an id comes first decides, whether it is stored as it is (unchanged) or not (a record).
    alone = [
        parse_listing([decode_page(json.dumps({"data": [i]}).encode(), "data")]).records[0]
        for i in items
    ]
    known = {r.model_id: r.digest for r in alone if data.draw(st.booleans())}
    pages = [
        decode_page(json.dumps({"data": items[i : i + page_size]}).encode(), "data")
        for i in range(0, len(items), page_size)
    ]

    listing = parse_listing(pages, known)

    first: dict[str, ModelRecord] = {}
    for record in alone:
        first.setdefault(record.model_id, record)
    unchanged = [m for m, r in first.items() if known.get(m) == r.digest]
    assert listing.unchanged == unchanged
    assert listing.records == [r for m, r in first.items() if m not in unchanged]
    assert [r.digest for r in listing.records] == [
        r.digest for m, r in first.items() if m not in unchanged
    ]
    repeated: list[str] = []
    for index, record in enumerate(alone):
        if any(r.model_id == record.model_id for r in alone[:index]):
            repeated.append(record.model_id)
    more = f" and {len(repeated) - 5} more" if len(repeated) > 5 else ""
    assert [w for w in listing.warnings if w.startswith("duplicate")] == (
        [f"duplicate model ids, first kept: {', '.join(map(repr, repeated[:5]))}{more}"]
        if repeated
        else []
    )


def test_a_stored_document_is_decoded_only_when_its_digest_differs() -> None:
    listed = ModelRecord("m", {"id": "m", "owned_by": "openai"})
    same = StoredModel("m", "not JSON: never decoded", True, listed.digest)
    other = StoredModel("m", '{"id": "m", "owned_by": "acme"}', True, "0" * 32)

    assert compute_diff({"m": same}, [listed]).unchanged == 1
    changed = compute_diff({"m": other}, [listed]).changed
    assert [(c.old_values, c.new_values) for c in changed] == [
        ({"owned_by": "acme"}, {"owned_by": "openai"})
    ]


# --- confirm_vanished ---------------------------------------------------------------------------


class ScriptedProvider:
    """A provider that answers each vanish check as scripted: a model, None (404) or an error."""

    profile = profile_for("openai")

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def list_pages(self) -> Any:
        raise NotImplementedError

    def retrieve(self, model_id: str) -> dict[str, Any] | None:
        self.asked.append(model_id)
        answer = self.answers.get(model_id)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_vanish_checks_keep_what_the_provider_still_has_or_cannot_say() -> None:
    missing = [f"m{i:02d}" for i in range(12)]
    provider = ScriptedProvider(
        {
            "m03": {"id": "m03"},
            "m07": HTTPStatusError("GET /models/m07: 500 Internal Server Error", status=500),
        }
    )

    result = sync.confirm_vanished(provider, missing, limit=10)

    assert sorted(provider.asked) == missing[:10]
    assert result.kept == ["m03", "m07"]
    assert result.vanished == ["m10", "m11", *(m for m in missing[:10] if m not in result.kept)]
