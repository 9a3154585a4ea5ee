"""Rows to text: an aligned table for people, JSON and CSV for programs.

JSON is one array of objects keyed by column name; CSV has a header row. Every value a
column of the schema can hold is written: times as ISO-8601 UTC with microseconds
(``2026-03-01T12:00:00.000000Z``), days as ``2026-03-01``, booleans as ``true``/``false``,
NULL as JSON ``null`` or an empty CSV cell, and nested values as JSON. A table is read by
people: its times have whole seconds (``2026-03-01T12:00:00Z``).
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from syncer.timeutil import human_time, iso

__all__ = ["FORMATS", "MAX_CELL", "as_text", "render", "show_record"]

FORMATS = ("table", "json", "csv")
MAX_CELL = 80
#: Control characters would break a table's alignment or reach the terminal as escapes.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _plain(value: Any) -> Any:
    """A value JSON can hold as it is (``datetime`` before ``date``: it is one)."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):  # PostgreSQL's NUMERIC, e.g. a ROUND() in a view
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=_plain, ensure_ascii=False)


def as_text(value: Any) -> str:
    """One value as a spreadsheet reads it (a CSV cell)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return _json(value)
    if isinstance(value, str | int | float):
        return str(value)
    return str(_plain(value))


def _human(value: Any) -> str:
    """One value as a person reads it in a table: times to the second."""
    if isinstance(value, datetime):
        return human_time(value)
    return as_text(value)


def render(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str) -> str:
    if fmt == "json":
        shaped = [{c: row.get(c) for c in columns} for row in rows]
        return json.dumps(shaped, indent=2, default=_plain, ensure_ascii=False)
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


def show_record(row: dict[str, Any]) -> str:
    """One row as ``key  value`` lines, for a person reading one record (``models show``)."""
    width = max(map(len, row))
    return "\n".join(
        f"{key.ljust(width)}  {_CONTROL.sub(' ', _human(value))}" for key, value in row.items()
    )


def _cell(value: Any) -> str:
    text = _CONTROL.sub(" ", _human(value))
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"
