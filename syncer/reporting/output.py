"""Rows to text: an aligned table for people, JSON and CSV for programs.

JSON is one array of objects keyed by column name; CSV has a header row. Every value a
column of the schema can hold is written: times as ISO-8601 UTC with microseconds
(``2026-03-01T12:00:00.000000Z``), days as ``2026-03-01``, booleans as ``true``/``false``,
NULL as JSON ``null`` or an empty CSV cell, and nested values as JSON. A table is read by
people: its times have whole seconds (``2026-03-01T12:00:00Z``).

Cells hold outside text (a provider's ids and owners), so a table never shows a control or
bidirectional character (``redact.printable``), nor does CSV written to a terminal, and a CSV
text cell that a spreadsheet would run as a formula (one starting with ``=``, ``+``, ``-``,
``@``, a tab or a CR) starts with ``'`` instead, as OWASP advises, unless ``raw`` asks for
the bytes as stored.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from syncer.redact import printable
from syncer.timeutil import human_time, iso
from syncer.words import clip

__all__ = [
    "ALL_COLUMNS",
    "FORMATS",
    "FORMULA_STARTS",
    "MAX_CELL",
    "as_text",
    "choose_columns",
    "csv_cell",
    "render",
    "show_record",
]

FORMATS = ("table", "json", "csv")
MAX_CELL = 80
#: How a cell a spreadsheet would read as a formula starts (OWASP's "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The ``--columns`` name that asks for every column.
ALL_COLUMNS = "all"


def choose_columns(
    asked: Sequence[str], available: Sequence[str], default: Sequence[str] | None = None
) -> tuple[str, ...]:
    """The columns to print: those ``asked`` for (``all``: every one), in their order, else
    ``default``, else every one ``available``. ValueError names the unknown ones and lists
    what there is, so a typo is one usage error rather than an empty column."""
    if not asked:
        return tuple(available if default is None else default)
    if ALL_COLUMNS in asked:
        return tuple(available)
    unknown = [name for name in asked if name not in available]
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        raise ValueError(
            f"unknown column{'s' if len(unknown) > 1 else ''} {names}; "
            f"available: {', '.join(available)} (or {ALL_COLUMNS})"
        )
    return tuple(dict.fromkeys(asked))


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


def csv_cell(value: Any, *, raw: bool = False) -> str:
    """One value as a CSV cell: text a spreadsheet would run as a formula gets a leading
    ``'`` (shown, never evaluated), unless ``raw``. Numbers are numbers: ``-5`` stays."""
    text = as_text(value)
    if not raw and isinstance(value, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def render(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    fmt: str,
    *,
    raw: bool = False,
    terminal: bool = False,
) -> str:
    """``rows`` as ``fmt``; ``raw`` CSV keeps formula-like cells as they are, and CSV for a
    ``terminal`` has its control and bidirectional characters replaced."""
    if fmt == "json":
        shaped = [{c: row.get(c) for c in columns} for row in rows]
        return json.dumps(shaped, indent=2, default=_plain, ensure_ascii=False)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)  # RFC 4180: CRLF rows, so a lone CR in a cell gets quoted
        writer.writerow(columns)
        cells = [[csv_cell(row.get(c), raw=raw) for c in columns] for row in rows]
        if terminal:  # a terminal would act on them: CSV is not read by a program there
            cells = [[printable(cell) for cell in line] for line in cells]
        writer.writerows(cells)
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
        f"{key.ljust(width)}  {printable(_human(value))}" for key, value in row.items()
    )


def _cell(value: Any) -> str:
    return clip(printable(_human(value)), MAX_CELL)
