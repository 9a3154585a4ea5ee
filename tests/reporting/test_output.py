"""Rows to text: an aligned table for people, JSON and CSV for programs."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.reporting.output import FORMATS, FORMULA_STARTS, MAX_CELL, as_text, render

COLUMNS = ["model_id", "owned_by", "first_seen", "present", "raw"]
SEEN = datetime(2025, 6, 1, 8, 30, 15, tzinfo=UTC)
ROWS: list[dict[str, Any]] = [
    {
        "model_id": "gpt-4o",
        "owned_by": "system",
        "first_seen": SEEN,
        "present": True,
        "raw": {"id": "gpt-4o", "created": 1715367049, "tags": ["chat", "vision"]},
    },
    {
        "model_id": "ft:gpt-4o-mini-2024-07-18:acme:x:AbC",
        "owned_by": None,
        "first_seen": datetime(2025, 6, 2, tzinfo=UTC),
        "present": False,
        "raw": {"id": "ft:gpt-4o-mini-2024-07-18:acme:x:AbC"},
    },
]


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# --- json ----------------------------------------------------------------------------------------


def test_json_is_one_array_of_objects_keyed_by_the_columns_in_order() -> None:
    loaded = json.loads(render(ROWS, COLUMNS, "json"))

    assert isinstance(loaded, list)
    assert len(loaded) == 2
    assert all(list(row) == COLUMNS for row in loaded)
    assert loaded[0]["model_id"] == "gpt-4o"
    assert loaded[0]["present"] is True
    assert loaded[1]["owned_by"] is None


def test_json_writes_times_as_iso_8601_utc_with_z() -> None:
    loaded = json.loads(render(ROWS, COLUMNS, "json"))

    assert [row["first_seen"] for row in loaded] == [
        "2025-06-01T08:30:15.000000Z",
        "2025-06-02T00:00:00.000000Z",
    ]
    assert datetime.fromisoformat(loaded[0]["first_seen"]) == SEEN


def test_json_writes_a_day_as_an_iso_date() -> None:
    # Regression: `syncer report daily --format json` failed on its `day` column.
    loaded = json.loads(render([{"day": date(2025, 6, 1)}], ["day"], "json"))
    assert loaded == [{"day": "2025-06-01"}]


def test_json_writes_days_and_numerics_of_the_database_as_json_values() -> None:
    rows = [{"day": date(2026, 3, 1), "share": Decimal("0.250"), "count": Decimal("7")}]

    assert json.loads(render(rows, ["day", "share", "count"], "json")) == [
        {"day": "2026-03-01", "share": 0.25, "count": 7}
    ]


def test_json_keeps_nested_values_as_json_not_as_strings() -> None:
    loaded = json.loads(render(ROWS, COLUMNS, "json"))

    assert loaded[0]["raw"] == {"id": "gpt-4o", "created": 1715367049, "tags": ["chat", "vision"]}


def test_json_writes_times_inside_nested_values_as_iso_utc() -> None:
    rows = [{"event": {"at": SEEN, "ids": ["a"]}}]

    assert json.loads(render(rows, ["event"], "json")) == [
        {"event": {"at": "2025-06-01T08:30:15.000000Z", "ids": ["a"]}}
    ]


def test_json_gives_null_for_a_missing_column_and_drops_unlisted_keys() -> None:
    rows = [{"model_id": "a", "secret_column": "x"}]

    assert json.loads(render(rows, ["model_id", "owned_by"], "json")) == [
        {"model_id": "a", "owned_by": None}
    ]


def test_json_keeps_non_ascii_text_readable() -> None:
    text = render([{"model_id": "modèle-été"}], ["model_id"], "json")

    assert "modèle-été" in text
    assert json.loads(text) == [{"model_id": "modèle-été"}]


def test_json_of_no_rows_is_an_empty_array() -> None:
    assert render([], COLUMNS, "json") == "[]"


def test_json_refuses_a_value_it_cannot_write() -> None:
    with pytest.raises(TypeError, match="cannot write object as JSON"):
        render([{"x": object()}], ["x"], "json")


# --- csv -----------------------------------------------------------------------------------------


def test_csv_has_a_header_and_round_trips_through_dictreader() -> None:
    text = render(ROWS, COLUMNS, "csv")

    assert text.splitlines()[0] == "model_id,owned_by,first_seen,present,raw"
    assert read_csv(text) == [
        {
            "model_id": "gpt-4o",
            "owned_by": "system",
            "first_seen": "2025-06-01T08:30:15.000000Z",
            "present": "true",
            "raw": '{"created": 1715367049, "id": "gpt-4o", "tags": ["chat", "vision"]}',
        },
        {
            "model_id": "ft:gpt-4o-mini-2024-07-18:acme:x:AbC",
            "owned_by": "",
            "first_seen": "2025-06-02T00:00:00.000000Z",
            "present": "false",
            "raw": '{"id": "ft:gpt-4o-mini-2024-07-18:acme:x:AbC"}',
        },
    ]


def test_csv_nested_values_are_json_that_loads_back() -> None:
    (row,) = read_csv(render(ROWS[:1], COLUMNS, "csv"))

    assert json.loads(row["raw"]) == ROWS[0]["raw"]


def test_csv_quotes_commas_quotes_and_newlines_so_they_round_trip() -> None:
    tricky = 'a, "quoted"\nsecond line'

    assert read_csv(render([{"note": tricky, "n": 1}], ["note", "n"], "csv")) == [
        {"note": tricky, "n": "1"}
    ]


@pytest.mark.parametrize("value", ["acme\rlabs", "\r", "ends with\r"])
def test_raw_csv_quotes_a_carriage_return_so_it_round_trips(value: str) -> None:
    assert read_csv(render([{"owner": value, "n": 1}], ["owner", "n"], "csv", raw=True)) == [
        {"owner": value, "n": "1"}
    ]


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("http://127.0.0.1:9/x","Click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A2)",
        "\tx",
        "\r=1",
    ],
)
def test_csv_text_a_spreadsheet_would_run_as_a_formula_starts_with_a_quote(value: str) -> None:
    assert read_csv(render([{"owner": value, "n": -5}], ["owner", "n"], "csv")) == [
        {"owner": "'" + value, "n": "-5"}
    ]
    assert read_csv(render([{"owner": value}], ["owner"], "csv", raw=True)) == [{"owner": value}]


def test_csv_on_a_terminal_shows_no_control_or_bidi_character() -> None:
    text = render([{"owner": "acme\x1b]0;pwned\x07\u202egnp.exe"}], ["owner"], "csv", terminal=True)

    assert text == "owner\r\nacme ]0;pwned  gnp.exe"


def test_csv_of_no_rows_is_only_the_header() -> None:
    text = render([], COLUMNS, "csv")

    assert text == "model_id,owned_by,first_seen,present,raw"
    assert read_csv(text) == []


def test_csv_keeps_a_row_of_one_empty_cell() -> None:
    assert read_csv(render([{"a": None}, {"a": ""}], ["a"], "csv")) == [{"a": ""}, {"a": ""}]


def test_csv_rows_end_in_crlf_as_rfc_4180_says_with_none_after_the_last() -> None:
    text = render(ROWS, COLUMNS, "csv")

    assert not text.endswith("\n")
    assert text.count("\r\n") == len(ROWS)


# No carriage returns: see test_csv_quotes_a_carriage_return_so_it_round_trips.
cell_values = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"))
    | st.datetimes(timezones=st.just(UTC))
    | st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3)
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.text(alphabet="abcdefgh_", min_size=1, max_size=6), min_size=1, max_size=4, unique=True
    ),
    st.data(),
)
def test_raw_csv_round_trips_any_rows_through_dictreader(
    columns: list[str], data: st.DataObject
) -> None:
    rows = data.draw(st.lists(st.fixed_dictionaries({c: cell_values for c in columns}), max_size=5))

    read = read_csv(render(rows, columns, "csv", raw=True))

    assert read == [{c: as_text(row[c]) for c in columns} for row in rows]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.fixed_dictionaries({"a": cell_values, "b": st.text()}), max_size=5))
def test_csv_cells_are_the_values_with_only_formulas_behind_a_quote(
    rows: list[dict[str, Any]],
) -> None:
    read = read_csv(render(rows, ["a", "b"], "csv"))

    for row, got in zip(rows, read, strict=True):
        for column, value in row.items():
            text = as_text(value)
            formula = isinstance(value, str) and text.startswith(FORMULA_STARTS)
            assert got[column] == ("'" + text if formula else text)


# --- table ---------------------------------------------------------------------------------------


def test_table_has_a_header_a_rule_and_one_line_per_row() -> None:
    lines = render(ROWS, COLUMNS, "table").splitlines()

    assert len(lines) == 2 + len(ROWS)
    assert lines[0].split() == COLUMNS
    assert set(lines[1].replace("  ", "")) == {"-"}
    assert lines[2].startswith("gpt-4o ")
    assert lines[3].startswith("ft:gpt-4o-mini-2024-07-18:acme:x:AbC ")


def test_table_aligns_every_column_under_its_header() -> None:
    rows = [
        {"id": "a", "owner": "system", "n": 1},
        {"id": "a-much-longer-id", "owner": "", "n": 22},
        {"id": "mid-length", "owner": "openai-internal", "n": 333},
    ]

    lines = render(rows, ["id", "owner", "n"], "table").splitlines()

    assert lines == [
        "id                owner            n",
        "----------------  ---------------  ---",
        "a                 system           1",
        "a-much-longer-id                   22",
        "mid-length        openai-internal  333",
    ]


def test_table_shows_times_booleans_nulls_and_nested_values_as_text() -> None:
    lines = render([*ROWS[:1], {"model_id": "x"}], COLUMNS, "table").splitlines()

    assert "2025-06-01T08:30:15Z" in lines[2]
    assert " true " in lines[2]
    assert '{"created": 1715367049' in lines[2]
    assert lines[3] == "x"


def test_table_shows_times_to_the_second_where_json_keeps_the_microseconds() -> None:
    rows = [{"at": datetime(2025, 6, 1, 8, 30, 15, 123456, tzinfo=UTC)}]

    assert render(rows, ["at"], "table").splitlines()[2] == "2025-06-01T08:30:15Z"
    assert json.loads(render(rows, ["at"], "json")) == [{"at": "2025-06-01T08:30:15.123456Z"}]


def test_table_truncates_long_cells_with_an_ellipsis() -> None:
    long = "x" * (MAX_CELL + 50)

    lines = render([{"id": long, "n": 1}], ["id", "n"], "table").splitlines()

    cell = "x" * (MAX_CELL - 1) + "…"
    assert lines[2] == f"{cell}  1"
    assert lines[1] == "-" * MAX_CELL + "  -"


def test_table_keeps_a_cell_of_exactly_the_maximum_width() -> None:
    exact = "y" * MAX_CELL

    lines = render([{"id": exact}], ["id"], "table").splitlines()

    assert lines[2] == exact


def test_table_puts_a_multi_line_value_on_one_line() -> None:
    lines = render([{"note": "first\nsecond"}], ["note"], "table").splitlines()

    assert lines == ["note", "------------", "first second"]


@pytest.mark.parametrize("control", ["\t", "\r", "\r\n", "\x1b"])
def test_table_keeps_other_control_characters_out_of_the_aligned_line(control: str) -> None:
    text = render([{"owner": f"acme{control}labs", "n": 1}], ["owner", "n"], "table")

    header, _, line = text.split("\n")
    assert line.isprintable()
    assert line.rindex("1") == header.rindex("n")


def test_table_lines_have_no_trailing_spaces() -> None:
    text = render([{"a": "x", "b": None}, {"a": "longer", "b": "y"}], ["a", "b"], "table")

    assert all(line == line.rstrip() for line in text.splitlines())


def test_table_of_no_rows_is_the_header_and_rule() -> None:
    assert render([], ["model_id", "owned_by"], "table") == "model_id  owned_by\n--------  --------"


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.text(alphabet="abc", min_size=1, max_size=5), min_size=1, max_size=4, unique=True),
    st.data(),
)
def test_table_starts_every_column_at_the_same_offset_on_every_line(
    columns: list[str], data: st.DataObject
) -> None:
    words = st.text(alphabet="xyz-", min_size=1, max_size=MAX_CELL + 20)
    rows = data.draw(st.lists(st.fixed_dictionaries({c: words for c in columns}), max_size=5))

    lines = render(rows, columns, "table").splitlines()

    widths = [len(part) for part in lines[1].split("  ")]
    assert len(widths) == len(columns)
    assert all(w <= MAX_CELL for w in widths)
    starts = [sum(widths[:i]) + 2 * i for i in range(len(columns))]
    header_and_rows = [columns] + [[row[c] for c in columns] for row in rows]
    for line, values in zip([lines[0], *lines[2:]], header_and_rows, strict=True):
        for start, width, value in zip(starts, widths, values, strict=True):
            shown = value if len(value) <= MAX_CELL else value[: MAX_CELL - 1] + "…"
            assert line[start : start + width].rstrip() == shown
            assert start == 0 or line[start - 2 : start] == "  "


# --- formats -------------------------------------------------------------------------------------


def test_the_formats_are_table_json_and_csv() -> None:
    assert FORMATS == ("table", "json", "csv")


@pytest.mark.parametrize("fmt", ["xml", "JSON", "", "tsv"])
def test_an_unknown_format_is_a_value_error_listing_the_formats(fmt: str) -> None:
    with pytest.raises(ValueError) as caught:
        render(ROWS, COLUMNS, fmt)

    assert str(caught.value) == f"unknown format {fmt!r}; expected one of table, json, csv"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (1.5, "1.5"),
        ("plain", "plain"),
        (SEEN, "2025-06-01T08:30:15.000000Z"),
        ({"b": 1, "a": SEEN}, '{"a": "2025-06-01T08:30:15.000000Z", "b": 1}'),
        (["é", None], '["é", null]'),
        (date(2026, 3, 1), "2026-03-01"),
        (Decimal("2.500"), "2.5"),
        (Decimal("3"), "3"),
    ],
)
def test_as_text_writes_each_kind_of_value_as_people_and_spreadsheets_read_it(
    value: Any, text: str
) -> None:
    assert as_text(value) == text
