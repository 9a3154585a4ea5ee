"""Rows to text: an aligned table for people, JSON and CSV for programs.

JSON is one array of objects keyed by column name; CSV has a header row. Both carry
times as ISO-8601 UTC and nested values as JSON, so they load cleanly elsewhere.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from syncer.timeutil import iso

__all__ = [
    "FORMATS",
    "MAX_CELL",
    "as_text",
    "render",
]

FORMATS = ("table", "json", "csv")
MAX_CELL = 80
#: Control characters would break a table's alignment or reach the terminal as escapes.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):  # the ``day`` of ``syncer report daily``
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def as_text(value: Any) -> str:
    """One value as a person or a spreadsheet reads it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=_json_default, ensure_ascii=False)
    return str(value)


def render(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str) -> str:
    if fmt == "json":
        shaped = [{c: row.get(c) for c in columns} for row in rows]
        return json.dumps(shaped, indent=2, default=_json_default, ensure_ascii=False)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)  # RFC 4180: CRLF rows, so a lone CR in a cell gets quoted
        writer.writerow(columns)
        writer.writerows([as_text(row.get(c)) for c in columns] for row in rows)
        return buffer.getvalue().removesuffix("\r\n")
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, datetime):
        value = value.replace(microsecond=0)  # a table is read by people: seconds suffice
    text = _CONTROL.sub(" ", as_text(value))
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"
