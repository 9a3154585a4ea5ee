"""Validation of list pages into model records: strict about ids, tolerant elsewhere."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.errors import PayloadError, ProviderError
from syncer.providers.profile import profile_for
from syncer.sync.parse import (
    MAX_ID_LENGTH,
    parse_listing,
    parse_model,
    parse_timestamp,
)


def model(model_id: str, **fields: Any) -> dict[str, Any]:
    """A model object as OpenAI lists it."""
    listed = {"id": model_id, "object": "model", "created": 1686935002, "owned_by": "openai"}
    return {**listed, **fields}


def page(*items: Any) -> dict[str, Any]:
    return {"object": "list", "data": list(items)}


# --- a valid listing -----------------------------------------------------------------------------


def test_a_valid_page_becomes_records_in_listed_order_without_warnings() -> None:
    listing = parse_listing([page(model("gpt-4o"), model("whisper-1", owned_by="openai-internal"))])

    assert [r.model_id for r in listing.records] == ["gpt-4o", "whisper-1"]
    first, second = listing.records
    assert first.object == "model"
    assert first.created == 1686935002
    assert first.created_at == datetime(2023, 6, 16, 17, 3, 22, tzinfo=UTC)
    assert first.owned_by == "openai"
    assert first.shutdown_at is None
    assert second.owned_by == "openai-internal"
    assert listing.warnings == []


def test_records_of_every_page_are_joined_in_order() -> None:
    listing = parse_listing([page(model("a"), model("b")), page(model("c")), page()])

    assert [r.model_id for r in listing.records] == ["a", "b", "c"]
    assert listing.warnings == []


def test_no_pages_is_an_empty_listing() -> None:
    listing = parse_listing([])

    assert listing.records == []
    assert listing.warnings == []


def test_data_null_is_an_empty_list() -> None:
    listing = parse_listing([{"object": "list", "data": None}])

    assert listing.records == []
    assert listing.warnings == []


def test_data_null_on_a_later_page_keeps_the_earlier_records() -> None:
    listing = parse_listing([page(model("a")), {"data": None}])

    assert [r.model_id for r in listing.records] == ["a"]


def test_pages_may_be_any_iterable_such_as_a_generator() -> None:
    listing = parse_listing(page(model(str(i))) for i in range(3))

    assert [r.model_id for r in listing.records] == ["0", "1", "2"]


# --- the page's shape ----------------------------------------------------------------------------


def test_a_page_without_data_is_an_error_listing_its_keys() -> None:
    with pytest.raises(PayloadError) as caught:
        parse_listing([{"object": "list", "error": "nope"}])

    message = str(caught.value)
    assert "the response has no 'data' list" in message
    assert "error, object" in message


def test_an_empty_object_is_an_error_saying_it_has_no_keys() -> None:
    with pytest.raises(PayloadError, match=r"no 'data' list \(keys: none\)"):
        parse_listing([{}])


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({}, "an object"),
        ("models", "a string"),
        (3, "a number"),
        (True, "a boolean"),
    ],
)
def test_data_that_is_not_a_list_is_an_error_naming_what_it_is(data: Any, kind: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_listing([{"data": data}])

    assert str(caught.value) == f"the response: 'data' is {kind}, expected a list"


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ([], "a list"),
        ("<html>", "a string"),
        (None, "null"),
        (42, "a number"),
    ],
)
def test_a_page_that_is_not_an_object_is_an_error(body: Any, kind: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_listing([body])

    assert str(caught.value) == f"the response is {kind}, expected a JSON object"


def test_an_error_on_a_later_page_names_the_page() -> None:
    with pytest.raises(PayloadError, match=r"^page 3 has no 'data' list"):
        parse_listing([page(model("a")), page(model("b")), {"object": "list"}])


def test_payload_errors_are_provider_errors() -> None:
    with pytest.raises(ProviderError):
        parse_listing([[]])


# --- one item ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "kind"),
    [
        ("gpt-4o", "a string"),
        (["gpt-4o"], "a list"),
        (None, "null"),
        (7, "a number"),
    ],
)
def test_an_item_that_is_not_an_object_is_an_error_naming_its_position(
    item: Any, kind: str
) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_listing([page(model("a"), item)])

    assert str(caught.value) == f"the response: data[1] is {kind}, expected a model object"


@pytest.mark.parametrize(
    ("item", "got"),
    [
        ({"object": "model"}, "null"),
        ({"id": None}, "null"),
        ({"id": 42}, "a number"),
        ({"id": ["gpt-4o"]}, "a list"),
        ({"id": {"name": "gpt-4o"}}, "an object"),
        ({"id": True}, "a boolean"),
        ({"id": ""}, "a string"),
        ({"id": "   "}, "a string"),
    ],
    ids=["missing", "null", "int", "list", "object", "bool", "empty", "whitespace"],
)
def test_an_item_without_a_usable_string_id_is_an_error(item: Any, got: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_listing([page(model("a"), model("b"), item)])

    assert str(caught.value) == f"the response: data[2] has no string 'id' (got {got})"


def test_the_id_of_a_later_page_error_names_page_and_index() -> None:
    with pytest.raises(PayloadError, match=r"^page 2: data\[0\] has no string 'id'"):
        parse_listing([page(model("a")), page({"id": ""})])


def test_an_id_of_the_maximum_length_is_accepted() -> None:
    model_id = "m" * MAX_ID_LENGTH

    listing = parse_listing([page(model(model_id))])

    assert listing.records[0].model_id == model_id


def test_an_overlong_id_is_an_error_quoting_its_start() -> None:
    model_id = "m" * (MAX_ID_LENGTH + 1)

    with pytest.raises(PayloadError) as caught:
        parse_listing([page(model(model_id))])

    message = str(caught.value)
    assert "longer than 512 characters" in message
    assert repr("m" * 60) in message
    assert model_id not in message


@pytest.mark.parametrize("control", ["\x00", "\t", "\n", "\r", "\x1b", "\x1f", "\x7f"])
def test_an_id_with_a_control_character_is_an_error(control: str) -> None:
    with pytest.raises(PayloadError, match="control characters"):
        parse_listing([page(model(f"gpt{control}4o"))])


@pytest.mark.parametrize("control", ["\x80", "\x85", "\x9b", "\x9f"])
def test_an_id_with_a_c1_control_character_is_an_error(control: str) -> None:
    """Regression: only C0 controls and DEL were refused, so NEL (U+0085) passed as an id."""
    with pytest.raises(PayloadError, match="control characters"):
        parse_model({"id": f"gpt{control}4o"}, "data[0]")


def test_ids_with_punctuation_and_non_ascii_letters_are_accepted() -> None:
    ids = ["ft:gpt-4o-mini:acme::AbC", "meta-llama/llama-3.1-70b", "modèle-été", "a b"]

    listing = parse_listing([page(*(model(i) for i in ids))])

    assert [r.model_id for r in listing.records] == ids


def test_parse_model_reports_the_position_it_was_given() -> None:
    with pytest.raises(PayloadError, match=r"^page 9: data\[4\] is a list"):
        parse_model([], "page 9: data[4]")


# --- tolerated fields ----------------------------------------------------------------------------


def test_missing_created_and_owned_by_are_null_with_one_warning_each() -> None:
    listing = parse_listing([page({"id": "a"}, {"id": "b"}, model("c"), {"id": "d", "created": 1})])

    by_id = {r.model_id: r for r in listing.records}
    assert by_id["a"].created is None
    assert by_id["a"].created_at is None
    assert by_id["a"].owned_by is None
    assert by_id["d"].created == 1
    assert listing.warnings == [
        "2 model(s) have no 'created'; stored as null",
        "3 model(s) have no 'owned_by'; stored as null",
    ]


def test_missing_fields_are_counted_across_pages() -> None:
    pages = [page({"id": "a", "owned_by": "x"}), page({"id": "b", "owned_by": "x"})]

    listing = parse_listing(pages)

    assert listing.warnings == ["2 model(s) have no 'created'; stored as null"]


def test_explicit_null_created_and_owned_by_are_null_without_a_warning() -> None:
    listing = parse_listing([page({"id": "a", "created": None, "owned_by": None})])

    record = listing.records[0]
    assert (record.created, record.owned_by) == (None, None)
    assert listing.warnings == []


@pytest.mark.parametrize("created", ["1686935002", 1.5, True, False, [1], {"s": 1}])
def test_a_created_that_is_not_unix_seconds_is_null_with_a_warning(created: Any) -> None:
    record, warnings = parse_model(model("gpt-4o", created=created), "data[0]")

    assert record.created is None
    assert record.raw["created"] == created
    assert warnings == [f"model 'gpt-4o': 'created' is not unix seconds: {created!r}"]


def test_a_whole_float_created_is_read_as_integer_seconds() -> None:
    record, warnings = parse_model(model("gpt-4o", created=1686935002.0), "data[0]")

    assert record.created == 1686935002
    assert isinstance(record.created, int)
    assert warnings == []


def test_a_created_warning_reaches_the_listing() -> None:
    listing = parse_listing([page(model("gpt-4o", created="yesterday"))])

    assert listing.warnings == ["model 'gpt-4o': 'created' is not unix seconds: 'yesterday'"]


@pytest.mark.parametrize("owned_by", [3, ["openai"], {"org": "openai"}, True])
def test_an_owned_by_that_is_not_a_string_is_null_with_a_warning(owned_by: Any) -> None:
    record, warnings = parse_model(model("gpt-4o", owned_by=owned_by), "data[0]")

    assert record.owned_by is None
    assert warnings == [f"model 'gpt-4o': 'owned_by' is not a string: {owned_by!r}"]


def test_an_object_that_is_not_a_string_is_null() -> None:
    record, _ = parse_model(model("gpt-4o", object=5), "data[0]")

    assert record.object is None
    assert record.raw["object"] == 5


def test_unknown_fields_are_kept_verbatim_in_raw() -> None:
    item = model(
        "openrouter/auto",
        pricing={"prompt": "0.000001", "completion": "0"},
        context_length=128000,
        architecture={"modality": ["text", "image"], "tokenizer": None},
        permission=[],
    )

    record, warnings = parse_model(item, "data[0]")

    assert record.raw == item
    assert record.raw["pricing"] == {"prompt": "0.000001", "completion": "0"}
    assert warnings == []


def test_raw_is_a_copy_so_later_edits_to_the_input_do_not_leak_in() -> None:
    item = model("gpt-4o")

    record, _ = parse_model(item, "data[0]")
    item["owned_by"] = "someone else"

    assert record.raw["owned_by"] == "openai"


def test_records_compare_equal_by_value() -> None:
    first, _ = parse_model(model("gpt-4o"), "data[0]")
    second, _ = parse_model(model("gpt-4o"), "data[5]")

    assert first == second
    assert first != parse_model(model("gpt-4o", extra=1), "data[0]")[0]


# --- duplicates ----------------------------------------------------------------------------------


def test_duplicate_ids_keep_the_first_and_warn() -> None:
    listing = parse_listing(
        [page(model("a", owned_by="first"), model("b")), page(model("a", owned_by="second"))]
    )

    assert [r.model_id for r in listing.records] == ["a", "b"]
    assert listing.records[0].owned_by == "first"
    assert listing.warnings == ["duplicate model ids, first kept: 'a'"]


def test_duplicate_ids_within_one_page_keep_the_first() -> None:
    listing = parse_listing([page(model("a", owned_by="first"), model("a", owned_by="second"))])

    assert [(r.model_id, r.owned_by) for r in listing.records] == [("a", "first")]
    assert listing.warnings == ["duplicate model ids, first kept: 'a'"]


def test_many_duplicates_are_summarised_after_five() -> None:
    ids = [f"m{i}" for i in range(8)]

    listing = parse_listing([page(*(model(i) for i in ids)), page(*(model(i) for i in ids))])

    assert [r.model_id for r in listing.records] == ids
    assert listing.warnings == [
        "duplicate model ids, first kept: 'm0', 'm1', 'm2', 'm3', 'm4' and 3 more"
    ]


# --- shutdown dates ------------------------------------------------------------------------------


@pytest.mark.parametrize("field_name", ["shutdown_date", "expiration_date"])
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-06-01", datetime(2025, 6, 1, tzinfo=UTC)),
        (" 2025-06-01 ", datetime(2025, 6, 1, tzinfo=UTC)),
        ("2025-06-01T12:30:00Z", datetime(2025, 6, 1, 12, 30, tzinfo=UTC)),
        ("2025-06-01T12:30:00z", datetime(2025, 6, 1, 12, 30, tzinfo=UTC)),
        ("2025-06-01T12:30:00+02:00", datetime(2025, 6, 1, 10, 30, tzinfo=UTC)),
        ("2025-06-01T01:00:00-05:00", datetime(2025, 6, 1, 6, 0, tzinfo=UTC)),
        ("2025-06-01T12:30:00", datetime(2025, 6, 1, 12, 30, tzinfo=UTC)),
        ("2025-06-01T12:30:00.250Z", datetime(2025, 6, 1, 12, 30, 0, 250000, tzinfo=UTC)),
        (1748736000, datetime(2025, 6, 1, tzinfo=UTC)),
        (1748736000.5, datetime(2025, 6, 1, 0, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_shutdown_dates_are_read_as_aware_utc(
    field_name: str, value: Any, expected: datetime
) -> None:
    record, warnings = parse_model(model("gpt-4o", **{field_name: value}), "data[0]")

    assert record.shutdown_at == expected
    assert record.shutdown_at is not None
    assert record.shutdown_at.utcoffset() == timedelta(0)
    assert record.raw[field_name] == value
    assert warnings == []


@pytest.mark.parametrize("field_name", ["shutdown_date", "expiration_date"])
def test_a_null_shutdown_date_is_none_without_a_warning(field_name: str) -> None:
    record, warnings = parse_model(model("gpt-4o", **{field_name: None}), "data[0]")

    assert record.shutdown_at is None
    assert warnings == []


@pytest.mark.parametrize("field_name", ["shutdown_date", "expiration_date"])
@pytest.mark.parametrize(
    "value",
    [
        "soon",
        "",
        "2025-13-01",
        "2025-06-01T25:00:00Z",
        True,
        {"date": "2025-06-01"},
        ["x"],
        float("nan"),
        float("inf"),
        10**30,
    ],
)
def test_an_unreadable_shutdown_date_is_none_with_a_warning(field_name: str, value: Any) -> None:
    record, warnings = parse_model(model("gpt-4o", **{field_name: value}), "data[0]")

    assert record.shutdown_at is None
    assert record.raw[field_name] is value
    assert warnings == [f"model 'gpt-4o': cannot read {field_name} {value!r}"]


def test_an_unreadable_shutdown_date_reaches_the_listing_warnings() -> None:
    listing = parse_listing([page(model("gpt-4o", shutdown_date="soon"))])

    assert listing.records[0].shutdown_at is None
    assert listing.warnings == ["model 'gpt-4o': cannot read shutdown_date 'soon'"]


def test_openai_shutdown_date_wins_over_openrouter_expiration_date() -> None:
    item = model("gpt-4o", shutdown_date="2025-06-01", expiration_date="2026-01-01")

    record, _ = parse_model(item, "data[0]")

    assert record.shutdown_at == datetime(2025, 6, 1, tzinfo=UTC)


def test_expiration_date_is_used_when_shutdown_date_is_null() -> None:
    item = model("x/y", shutdown_date=None, expiration_date="2026-01-01")

    record, _ = parse_model(item, "data[0]")

    assert record.shutdown_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_parse_timestamp_of_none_is_none() -> None:
    assert parse_timestamp(None) is None


@pytest.mark.parametrize("value", [True, False, "soon", [2025], {"y": 2025}, b"2025-06-01"])
def test_parse_timestamp_rejects_what_is_not_a_date_with_value_error(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(value)


@settings(max_examples=100, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(9998, 12, 31),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-9, minutes=-30))]
        ),
    )
)
def test_parse_timestamp_reads_back_any_iso_date_time_as_the_same_utc_instant(
    moment: datetime,
) -> None:
    parsed = parse_timestamp(moment.isoformat())

    assert parsed == moment
    assert parsed is not None
    assert parsed.tzinfo == UTC


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=253402300799))
def test_parse_timestamp_reads_back_any_unix_seconds(seconds: int) -> None:
    parsed = parse_timestamp(seconds)

    assert parsed is not None
    assert parsed.tzinfo == UTC
    assert parsed == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)


@settings(max_examples=100, deadline=None)
@given(st.dates())
def test_parse_timestamp_reads_any_iso_date_as_midnight_utc(day: date) -> None:
    parsed = parse_timestamp(day.isoformat())

    assert parsed == datetime(day.year, day.month, day.day, tzinfo=UTC)


# --- fine-tunes ----------------------------------------------------------------------------------


def test_a_record_says_whether_it_is_a_fine_tune() -> None:
    tuned, _ = parse_model(model("ft:gpt-4o-mini-2024-07-18:acme:x:AbC"), "data[0]")
    base, _ = parse_model(model("gpt-4o"), "data[1]")

    assert tuned.is_fine_tuned
    assert not base.is_fine_tuned


# --- properties ----------------------------------------------------------------------------------

valid_ids = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40
).filter(lambda s: s.strip() != "")

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)

field_names = st.sampled_from(
    ["object", "created", "owned_by", "shutdown_date", "expiration_date", "pricing", "x-extra"]
)


@st.composite
def model_dicts(draw: st.DrawFn) -> list[dict[str, Any]]:
    ids = draw(st.lists(valid_ids, unique=True, max_size=12))
    return [{"id": i, **draw(st.dictionaries(field_names, json_values, max_size=5))} for i in ids]


@settings(max_examples=60, deadline=None)
@given(model_dicts(), st.integers(min_value=1, max_value=4))
def test_any_unique_valid_models_keep_every_id_in_order_and_raw_verbatim(
    items: list[dict[str, Any]], page_size: int
) -> None:
    pages = [page(*items[i : i + page_size]) for i in range(0, len(items), page_size)]

    listing = parse_listing(pages)

    assert [r.model_id for r in listing.records] == [item["id"] for item in items]
    assert [r.raw for r in listing.records] == items
    assert not any(w.startswith("duplicate") for w in listing.warnings)
    for record in listing.records:
        assert record.created is None or isinstance(record.created, int)
        assert record.owned_by is None or isinstance(record.owned_by, str)
        assert record.shutdown_at is None or record.shutdown_at.tzinfo == UTC


def test_a_vllm_card_keeps_its_fingerprint_when_only_its_regenerated_fields_move() -> None:
    vllm = profile_for("vllm")
    card = {
        "id": "m",
        "object": "model",
        "created": 1,
        "owned_by": "vllm",
        "max_model_len": 8,
        "permission": [{"id": "modelperm-a", "created": 1}],
    }
    again = {**card, "created": 2, "permission": [{"id": "modelperm-b", "created": 2}]}
    first = parse_listing([{"data": [card]}], None, vllm).records[0]

    listing = parse_listing([{"data": [again]}], {"m": first.digest}, vllm)

    # A record still, so its row keeps the fields as last listed; the same fingerprint.
    assert [r.digest for r in listing.records] == [first.digest] and listing.unchanged == []
    assert listing.records[0].raw["permission"] == [{"id": "modelperm-b", "created": 2}]
    assert first.created is None  # the request time is not the model's creation
    other = parse_listing([{"data": [{**card, "max_model_len": 16}]}], None, vllm).records[0]
    assert other.digest != first.digest


def test_a_kind_without_regenerated_fields_lists_an_unchanged_model_without_a_record() -> None:
    listed = model("gpt-4o")
    digest = parse_listing([{"data": [listed]}]).records[0].digest

    listing = parse_listing([{"data": [listed]}], {"gpt-4o": digest})

    assert (listing.records, listing.unchanged) == ([], ["gpt-4o"])
