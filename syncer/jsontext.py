"""JSON as syncer reads it from providers and writes it to the database, fast and exact.

A list page is read with its models left undecoded (``msgspec.Raw``, each model's bytes as
sent): a sync fingerprints those bytes and decodes only the models it has not stored as they
are, so a large inventory with little churn decodes little. orjson decodes and encodes
faster than ``json`` (docs/performance.md has the figures). It is exact for what it
decodes (its integers fit 64 bits, it reads no NaN or Infinity), so what syncer stores and
fingerprints is what the provider sent. Where it would not be exact, ``json`` takes over.
"""

from __future__ import annotations

import json
import math
from typing import Any

import msgspec
import orjson

__all__ = [
    "Undecoded",
    "decode_json",
    "decode_page",
    "document",
    "encode_json",
    "json_bytes",
    "json_kind",
]

#: One value of a page left as its JSON bytes; ``document`` decodes it.
Undecoded = msgspec.Raw
_TOP = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ITEMS = msgspec.json.Decoder(list[msgspec.Raw])

#: orjson reads an integer beyond 64 bits as a float (below -2**63 that is 19 digits): a body
#: with a run of 19 digits is read by ``json``. Found by mapping digits to "1" and the rest to
#: " " and looking for nineteen "1"s, in slices: a regex takes far longer over a long list.
_DIGITS = bytes(0x31 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_RUN = b"1" * 19
_SLICE = 1 << 20


def _has_long_number(content: bytes) -> bool:
    if len(content) <= _SLICE:  # one model, decoded on its own: no slices to make
        return _RUN in content.translate(_DIGITS)
    return any(
        _RUN in content[start : start + _SLICE + len(_RUN) - 1].translate(_DIGITS)
        for start in range(0, len(content), _SLICE)
    )


def _not_a_number(text: str) -> Any:
    raise ValueError(f"{text} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if value in (math.inf, -math.inf):
        raise ValueError(f"{text} is beyond what a number can hold")
    return value


def decode_json(content: bytes) -> Any:
    """A JSON body. A run of 19 digits anywhere, or anything orjson refuses, sends it to
    ``json``, which keeps big integers and raises the errors callers report; NaN, Infinity
    and numbers past a float's range are refused there as not JSON (no database stores
    them). Raises ValueError (or RecursionError) for what is not JSON."""
    if not _has_long_number(content):
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            pass
    return json.loads(content, parse_constant=_not_a_number, parse_float=_finite)


def decode_page(content: bytes, items: str | None) -> Any:
    """A list page whose models (``body[items]``, or the body itself when ``items`` is None)
    are left as ``Undecoded``; the rest of the page is decoded. A page of another shape (not
    an object, no list under ``items``) is decoded whole, for the caller to say what is
    wrong; what is not JSON raises ValueError as ``decode_json`` does."""
    try:
        if items is None:
            return _ITEMS.decode(content)
        top = _TOP.decode(content)
        page: dict[str, Any] = {key: value for key, value in top.items() if key != items}
        for key, value in page.items():
            page[key] = document(value)
        if items in top:
            page[items] = _ITEMS.decode(top[items])
        return page
    except msgspec.ValidationError:
        return decode_json(content)
    except msgspec.DecodeError:
        return decode_json(content)  # raises what is wrong, as for any body


def document(value: Any) -> Any:
    """``value``, decoded if it was left ``Undecoded``."""
    return decode_json(bytes(value)) if type(value) is Undecoded else value


def json_bytes(value: Any) -> bytes | None:
    """``value`` as compact UTF-8 JSON, or None where orjson cannot write it exactly (an
    integer beyond 64 bits): the caller falls back to ``json`` or ``repr``."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return None


def encode_json(value: Any) -> str:
    """``value`` as JSON text, for a JSON column."""
    encoded = json_bytes(value)
    return json.dumps(value) if encoded is None else encoded.decode()


def json_kind(value: Any) -> str:
    """What a decoded JSON value is, for a message: "an object", "a list", "null", ..."""
    if value is None:
        return "null"
    kinds = {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }
    return kinds.get(type(value), f"a {type(value).__name__}")
