"""JSON as syncer reads and writes it: what orjson decodes is exactly what ``json`` would."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.jsontext import Undecoded, decode_json, decode_page, document, encode_json, json_bytes

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(values)
def test_decoding_gives_what_json_gives_and_encoding_gives_it_back(value: Any) -> None:
    text = json.dumps(value).encode()

    decoded = decode_json(text)

    assert repr(decoded) == repr(json.loads(text))  # 1 stays 1, 1.0 stays 1.0, big ints exact
    assert repr(json.loads(encode_json(decoded))) == repr(decoded)


def test_an_integer_beyond_64_bits_stays_an_exact_integer() -> None:
    big = 123456789012345678901234567890
    assert decode_json(f'{{"created": {big}}}'.encode()) == {"created": big}
    assert json_bytes(big) is None
    assert encode_json({"n": big}) == f'{{"n": {big}}}'


@pytest.mark.parametrize(
    "text",
    [b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}', b'{"a": 1e400}', b"", b"{", b"<html>"],
)
def test_what_no_database_stores_is_not_json(text: bytes) -> None:
    with pytest.raises(ValueError):
        decode_json(text)


@pytest.mark.parametrize("at", [0, (1 << 20) - 25, (1 << 20) - 10, (1 << 20) - 1, 3 << 20])
def test_a_long_integer_is_found_wherever_it_sits_in_a_large_body(at: int) -> None:
    """Also across the edge of the slices the check looks at (1 MiB each)."""
    big = 123456789012345678901234567890
    body = b"[" + b" " * at + str(big).encode() + b", " + b"7" * 10 + b"]"

    assert decode_json(body)[0] == big


def test_a_page_leaves_its_models_undecoded_and_decodes_the_rest() -> None:
    page = decode_page(b'{"data": [{"id": "a"}, {"id": "b", "n": 1}], "has_more": false}', "data")

    assert page["has_more"] is False
    assert [bytes(m) for m in page["data"]] == [b'{"id": "a"}', b'{"id": "b", "n": 1}']
    assert [document(m) for m in page["data"]] == [{"id": "a"}, {"id": "b", "n": 1}]
    assert decode_page(b'[{"id": "a"}]', None)[0] == Undecoded(b'{"id": "a"}')


@pytest.mark.parametrize(
    "text", [b'{"data": null}', b'{"data": 3}', b"[1, 2]", b'"x"', b'{"other": []}']
)
def test_a_page_of_another_shape_is_decoded_whole_for_the_caller_to_judge(text: bytes) -> None:
    assert decode_page(text, "data") == json.loads(text)
