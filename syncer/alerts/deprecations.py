"""Shutdown dates from beyond the provider: a CSV or TOML file of (id or glob, date, replacement).

Many providers list no dates at all, so ``syncer deprecations import`` loads them from a
file that people keep (from the provider's deprecation page). Parsing and matching are
pure; the provider's own date wins wherever it gives one. ``import_deprecations`` and
``load_deprecations`` are the shell: they write and read the ``deprecations`` table.
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from fnmatch import fnmatchcase
from pathlib import PurePath
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from syncer.db.schema import DeprecationEntry, deprecations_table
from syncer.errors import ConfigError
from syncer.sync.parse import parse_timestamp

__all__ = [
    "COLUMNS",
    "Deprecation",
    "effective",
    "import_deprecations",
    "load_deprecations",
    "match",
    "parse_deprecations",
]

#: Columns of a CSV file (a header row is required) and keys of a TOML ``[[deprecations]]``.
COLUMNS = ("model", "shutdown_date", "replacement", "source")
_REQUIRED = ("model", "shutdown_date")
_GLOB = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class Deprecation:
    """A shutdown date for the models ``model`` (an id or a glob) of the sources ``source``."""

    model: str
    shutdown_at: datetime
    replacement: str | None = None
    source: str = "*"


def _when(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time(), UTC)
    if isinstance(value, str) and value.strip():
        try:
            parsed = parse_timestamp(value)
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed
    raise ValueError(f"{value!r} is not a date like 2026-06-06")


def _entry(row: Mapping[str, Any], where: str) -> Deprecation:
    unknown = sorted(set(row) - set(COLUMNS))
    if unknown:
        expected = ", ".join(COLUMNS)
        raise ConfigError(f"{where}: unknown column {unknown[0]!r} (expected: {expected})")
    for key in _REQUIRED:
        if not isinstance(row.get(key), str | date) or row[key] == "":
            raise ConfigError(f"{where}: {key}: required")
    for key in ("model", "replacement", "source"):
        if row.get(key) is not None and not isinstance(row[key], str):
            raise ConfigError(f"{where}: {key}: expected a string, got {row[key]!r}")
    try:
        shutdown_at = _when(row["shutdown_date"])
    except ValueError as exc:
        raise ConfigError(f"{where}: shutdown_date: {exc}") from None
    return Deprecation(
        model=row["model"].strip(),
        shutdown_at=shutdown_at,
        replacement=(row.get("replacement") or "").strip() or None,
        source=(row.get("source") or "").strip() or "*",
    )


def _csv_rows(text: str, name: str) -> Iterable[tuple[str, Mapping[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise ConfigError(f"{name}: empty file; the first line names the columns: model,...")
    for row in reader:
        if None in row:
            raise ConfigError(f"{name}:{reader.line_num}: more values than columns")
        if any((value or "").strip() for value in row.values()):
            yield f"{name}:{reader.line_num}", {k.strip(): v for k, v in row.items()}


def _toml_rows(text: str, name: str) -> Iterable[tuple[str, Mapping[str, Any]]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: not valid TOML: {exc}") from None
    extra = sorted(set(data) - {"deprecations"})
    if extra:
        raise ConfigError(f"{name}: {extra[0]}: unknown key (expected [[deprecations]] tables)")
    tables = data.get("deprecations", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError(f"{name}: deprecations: expected [[deprecations]] tables")
    for index, table in enumerate(tables):
        yield f"{name}: deprecations[{index}]", table


def parse_deprecations(text: str, name: str) -> list[Deprecation]:
    """Read a ``.csv`` or ``.toml`` file's text; errors name the file and the line or table."""
    suffix = PurePath(name).suffix.lower()
    if suffix not in (".csv", ".toml"):
        raise ConfigError(f"{name}: expected a .csv or .toml file")
    rows = _csv_rows(text, name) if suffix == ".csv" else _toml_rows(text, name)
    seen: dict[tuple[str, str], str] = {}
    entries = []
    for where, row in rows:
        entry = _entry(row, where)
        first = seen.setdefault((entry.source, entry.model), where)
        if first != where:
            raise ConfigError(f"{where}: {entry.model!r} is listed twice (first at {first})")
        entries.append(entry)
    return entries


def _specificity(entry: Deprecation) -> tuple[bool, int, bool, int, str, str]:
    """Exact ids beat globs, longer globs beat shorter ones, then the same for sources."""
    return (
        not _GLOB & set(entry.model), len(entry.model),
        not _GLOB & set(entry.source), len(entry.source), entry.model, entry.source,
    )


def match(entries: Iterable[Deprecation], source: str, model_id: str) -> Deprecation | None:
    """The most specific entry for one model, if any."""
    found = [
        e for e in entries if fnmatchcase(source, e.source) and fnmatchcase(model_id, e.model)
    ]
    return max(found, key=_specificity, default=None)


def effective(
    provider_date: datetime | None, entry: Deprecation | None
) -> tuple[datetime | None, str | None, str | None]:
    """(shutdown date, where it came from, replacement): the provider's date wins."""
    replacement = entry.replacement if entry else None
    if provider_date is not None:
        return provider_date, "provider", replacement
    if entry is not None:
        return entry.shutdown_at, "imported", replacement
    return None, None, None


def load_deprecations(session: Session) -> list[Deprecation]:
    rows = session.execute(select(
        DeprecationEntry.model, DeprecationEntry.shutdown_at,
        DeprecationEntry.replacement, DeprecationEntry.source,
    ))
    return [Deprecation(*row) for row in rows]


def import_deprecations(
    session: Session, entries: Iterable[Deprecation], now: datetime, *, replace: bool = False
) -> int:
    """Upsert imported dates by (source, model); ``replace`` drops every other entry first."""
    rows = [
        {"source": e.source, "model": e.model, "shutdown_at": e.shutdown_at,
         "replacement": e.replacement, "imported_at": now}
        for e in entries
    ]
    if replace:
        session.execute(delete(deprecations_table))
    elif rows:
        key = tuple_(deprecations_table.c.source, deprecations_table.c.model)
        session.execute(delete(deprecations_table).where(
            key.in_([(r["source"], r["model"]) for r in rows])
        ))
    if rows:
        session.execute(deprecations_table.insert(), rows)
    return len(rows)
