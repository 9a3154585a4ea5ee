"""Shutdown dates from beyond the provider: a file of (id or glob, date, replacement, source).

Many providers list no dates at all, so ``syncer deprecations import`` loads them from a
file that people keep (a CSV or TOML file written from the provider's deprecation page), or
from LiteLLM's ``model_prices_and_context_window.json`` as it is published. Parsing and
the rule that decides what is in force is ``syncer.lifecycle``'s.
``import_deprecations`` and ``load_deprecations`` are the shell: they write and read the
``deprecations`` table, and an import records the dates it moves as events.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from syncer.config.imports import format_of
from syncer.config.reader import array_of_tables
from syncer.db.lifecycle import refresh
from syncer.db.schema import DeprecationEntry, Model
from syncer.db.tables import deprecations_table
from syncer.errors import ConfigError
from syncer.lifecycle import Deprecation, Matcher, is_glob
from syncer.sync.parse import parse_timestamp
from syncer.sync.store import insert_events
from syncer.timeutil import iso

__all__ = [
    "COLUMNS",
    "Deprecation",
    "ImportResult",
    "LiteLLMImport",
    "Parsed",
    "import_deprecations",
    "load_deprecations",
    "parse_deprecations",
    "parse_document",
    "parse_litellm",
]

#: Columns of a CSV file (a header row is required) and keys of a TOML ``[[deprecations]]``.
COLUMNS = ("model", "shutdown_date", "replacement", "source", "source_url")
_REQUIRED = ("model", "shutdown_date")


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
    for key in ("model", "replacement", "source", "source_url"):
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
        source_url=(row.get("source_url") or "").strip() or None,
    )


def _csv_rows(text: str, name: str) -> Iterable[tuple[str, Mapping[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise ConfigError(f"{name}: empty file; the first line names the columns: model,...")
    # Checked before any row: a header alone (or an error page served as the file) must
    # not pass for a file with no dates.
    header = {field.strip() for field in reader.fieldnames}
    for column in sorted(header - set(COLUMNS)) or [c for c in _REQUIRED if c not in header]:
        problem = "unknown" if column not in _REQUIRED else "missing"
        raise ConfigError(
            f"{name}:1: {problem} column {column!r} (expected: "
            f"{', '.join(COLUMNS)}; model and shutdown_date required)"
        )
    for row in reader:
        if None in row:
            raise ConfigError(f"{name}:{reader.line_num}: more values than columns")
        if any((value or "").strip() for value in row.values()):
            yield f"{name}:{reader.line_num}", {k.strip(): v for k, v in row.items()}


def _toml_rows(text: str, name: str) -> Iterable[tuple[str, Mapping[str, Any]]]:
    tables = array_of_tables(text, name, "deprecations")
    for index, table in enumerate(tables):
        yield f"{name}: deprecations[{index}]", table


def parse_deprecations(text: str, name: str, format: str | None = None) -> list[Deprecation]:
    """Read a CSV or TOML file's text (``format``, else the name's suffix says which);
    errors name the file and the line or table."""
    format = format or format_of(name)
    if format not in ("csv", "toml"):
        raise ConfigError(f"{name}: expected a .csv or .toml file")
    rows = _csv_rows(text, name) if format == "csv" else _toml_rows(text, name)
    seen: dict[tuple[str, str], str] = {}
    entries = []
    for where, row in rows:
        entry = _entry(row, where)
        first = seen.setdefault((entry.source, entry.model), where)
        if first != where:
            raise ConfigError(f"{where}: {entry.model!r} is listed twice (first at {first})")
        entries.append(entry)
    return entries


@dataclass(frozen=True)
class LiteLLMImport:
    """The entries LiteLLM's map gives the configured sources, and what was passed over."""

    entries: list[Deprecation]
    #: Dated entries whose ``litellm_provider`` no configured source's kind maps.
    unmatched: int
    #: Entries whose ``deprecation_date`` is not a date (the file is community-kept).
    unreadable: list[str]


def _escaped(model_id: str) -> str:
    """An id as a glob that matches only itself: LiteLLM keys are ids, never patterns."""
    return "".join(f"[{c}]" if is_glob(c) else c for c in model_id)


def parse_litellm(text: str, name: str, providers: Mapping[str, Sequence[str]]) -> LiteLLMImport:
    """The dated entries of LiteLLM's ``model_prices_and_context_window.json``, as it is.

    ``providers`` maps each configured source to the ``litellm_provider`` values of its
    kind. An entry applies to every source of its provider, by its key, without the
    ``{litellm_provider}/`` prefix where the key has one (``gpt-4o`` is ``gpt-4o`` on OpenAI,
    ``azure/gpt-4o`` is ``gpt-4o`` on Azure, ``openrouter/openai/gpt-4o`` is ``openai/gpt-4o``
    on OpenRouter). Its ``deprecation_source`` is kept as the entry's ``source_url``.
    """
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{name}: not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not any(
        isinstance(v, dict) and "litellm_provider" in v for v in data.values()
    ):
        raise ConfigError(
            f"{name}: not LiteLLM's model_prices_and_context_window.json "
            "(an object of models with litellm_provider)"
        )
    sources_of: dict[str, list[str]] = {}
    for source, values in providers.items():
        for value in values:
            sources_of.setdefault(value, []).append(source)
    entries: dict[tuple[str, str], Deprecation] = {}
    unmatched = 0
    unreadable: list[str] = []
    for key, spec in data.items():
        # ``sample_spec`` documents the fields (its values are descriptions, not data).
        if key == "sample_spec" or not isinstance(spec, dict) or not spec.get("deprecation_date"):
            continue
        provider = spec.get("litellm_provider")
        if not isinstance(provider, str) or provider not in sources_of:
            unmatched += 1
            continue
        try:
            shutdown_at = _when(spec["deprecation_date"])
        except ValueError:
            unreadable.append(key)
            continue
        url = spec.get("deprecation_source")
        model_id = key.removeprefix(f"{provider}/")
        for source in sources_of[provider]:
            entries[source, model_id] = Deprecation(
                _escaped(model_id),
                shutdown_at,
                None,
                source,
                url if isinstance(url, str) and url else None,
            )
    return LiteLLMImport(list(entries.values()), unmatched, unreadable)


@dataclass(frozen=True)
class Parsed:
    """A file's entries, and what of it was passed over, one sentence each (``skipped``)."""

    entries: list[Deprecation]
    skipped: tuple[str, ...] = ()


def parse_document(
    text: str, name: str, format: str, providers: Mapping[str, Sequence[str]]
) -> Parsed:
    """A file of dates in one of ``IMPORT_FORMATS``: LiteLLM's map (``providers`` as
    ``parse_litellm`` takes them), a CSV or a TOML file. Errors (``ConfigError``) name the
    file and, where there is one, the line."""
    if format != "litellm":
        return Parsed(parse_deprecations(text, name, format))
    litellm = parse_litellm(text, name, providers)
    skipped = []
    if litellm.unmatched:
        skipped.append(f"{litellm.unmatched} dated entries are for kinds no source has")
    if litellm.unreadable:
        skipped.append(
            f"{len(litellm.unreadable)} entries have an unreadable deprecation_date "
            f"(first: {litellm.unreadable[0]})"
        )
    return Parsed(litellm.entries, tuple(skipped))


def load_deprecations(session: Session) -> list[Deprecation]:
    rows = session.execute(
        select(
            DeprecationEntry.model,
            DeprecationEntry.shutdown_at,
            DeprecationEntry.replacement,
            DeprecationEntry.source,
            DeprecationEntry.source_url,
            DeprecationEntry.origin,
        )
    )
    return [Deprecation(*row) for row in rows]


@dataclass(frozen=True)
class ImportResult:
    """What an import stored, and the ``shutdown_changed`` events it recorded."""

    entries: int
    events: list[dict[str, Any]]


def _imported_dates(session: Session) -> dict[tuple[str, str], tuple[Deprecation | None, Any]]:
    """Each present model's imported entry (None: no date) and the provider's own date."""
    matcher = Matcher(load_deprecations(session))
    rows = session.execute(
        select(Model.source, Model.model_id, Model.shutdown_at)
        .where(Model.vanished_at.is_(None))
        .order_by(Model.source, Model.model_id)  # the events' order, on every database
    )
    return {
        (name, model_id): (matcher.match(name, model_id) if matcher else None, provider)
        for name, model_id, provider in rows
    }


def import_deprecations(
    session: Session,
    entries: Iterable[Deprecation],
    now: datetime,
    *,
    replace: bool = False,
    origin: str,
    replace_origin: bool = False,
) -> ImportResult:
    """Upsert imported dates by (source, model), ``origin`` naming the file or URL they came
    from (required: every imported date says where it came from); ``replace`` drops every
    other entry first, ``replace_origin`` the other entries of the same origin (an import
    from a URL or ``[[imports]]``: the file is the whole of what its origin says). The
    stored lifecycle of every model the import moves is rewritten in the same transaction
    (``syncer.db.lifecycle.refresh``).

    A present model whose imported date the import sets, moves or clears gets a
    ``shutdown_changed`` event (``details.date_source`` is ``imported``), in the import's
    transaction, whether or not the provider's own date wins over it. These events raise
    no event alerts (a first import would announce hundreds of dates); the caller queues
    the countdowns the new dates call for (``outbox.record_countdowns``).
    """
    if not origin.strip():
        raise ConfigError("an import must say where its dates came from (a file name or URL)")
    rows = [
        {
            "source": e.source,
            "model": e.model,
            "shutdown_at": e.shutdown_at,
            "replacement": e.replacement,
            "imported_at": now,
            "origin": origin,
            "source_url": e.source_url,
        }
        for e in entries
    ]
    before = _imported_dates(session)
    if replace:
        session.execute(delete(deprecations_table))
    elif replace_origin:
        session.execute(delete(deprecations_table).where(deprecations_table.c.origin == origin))
    if rows and not replace:
        key = tuple_(deprecations_table.c.source, deprecations_table.c.model)
        session.execute(
            delete(deprecations_table).where(key.in_([(r["source"], r["model"]) for r in rows]))
        )
    if rows:
        session.execute(deprecations_table.insert(), rows)
    events = []
    for (name, model_id), (entry, provider) in _imported_dates(session).items():
        previous = before.get((name, model_id), (None, None))[0]
        old = previous.shutdown_at if previous else None
        new = entry.shutdown_at if entry else None
        if old == new:
            continue
        cited = entry or previous
        events.append(
            {
                "source": name,
                "model_id": model_id,
                "kind": "shutdown_changed",
                "occurred_at": now,
                "sync_run_id": None,
                "old_values": {"shutdown_at": iso(old) if old else None},
                "new_values": {"shutdown_at": iso(new) if new else None},
                "details": {
                    "date_source": "imported",
                    "origin": cited.origin if cited else None,
                    "source_url": cited.source_url if cited else None,
                    "provider_shutdown_at": iso(provider) if provider else None,
                },
            }
        )
    insert_events(session, events)
    refresh(session)
    return ImportResult(len(rows), events)
