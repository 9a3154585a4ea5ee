"""The inventory a scan checks ids against, as plain data, and its JSON snapshot (pure).

``syncer inventory export`` writes it, ``syncer scan --inventory FILE|URL`` reads it back,
and ``syncer run`` serves it at ``/inventory.json``: CI rarely reaches the production
database. The document is versioned (``format`` and ``version``) and described by
``inventory-v1.schema.json`` beside this module (a test validates exports against it); a
reader refuses a version it does not know rather than guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from syncer.errors import SyncerError
from syncer.timeutil import iso

__all__ = [
    "FORMAT",
    "VERSION",
    "Imported",
    "Inventory",
    "InventoryError",
    "ModelRecord",
    "SourceRecord",
    "from_document",
    "to_document",
]

FORMAT = "syncer-inventory"
VERSION = 1


class InventoryError(SyncerError):
    """The inventory cannot be read: not there, not JSON, not a version this syncer knows."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """A source that has synced: its name, and when its latest successful sync listed."""

    name: str
    listed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """One id a source has ever listed, with its effective lifecycle."""

    source: str
    model_id: str
    first_seen_at: datetime
    last_seen_at: datetime | None
    #: None while the source lists it.
    vanished_at: datetime | None
    #: The shutdown date in force, where it came from (``provider``, or the import's
    #: origin: a file name or URL) and the replacement in force.
    shutdown_at: datetime | None = None
    shutdown_origin: str | None = None
    replacement: str | None = None
    #: The provider's lifecycle status (``deprecated``, ``preview``, ...), None if it says none.
    lifecycle_status: str | None = None


@dataclass(frozen=True, slots=True)
class Imported:
    """An imported shutdown date for an exact id (globs match no written id)."""

    model: str
    source: str
    shutdown_at: datetime
    replacement: str | None
    origin: str | None


@dataclass(frozen=True, slots=True)
class Inventory:
    """Everything a scan needs to know: every id ever listed and every imported date."""

    exported_at: datetime
    sources: tuple[SourceRecord, ...]
    models: tuple[ModelRecord, ...]
    deprecations: tuple[Imported, ...] = ()


def _time(value: datetime | None) -> str | None:
    return None if value is None else iso(value)


def to_document(inventory: Inventory) -> dict[str, Any]:
    """The JSON document of an inventory, sorted so that two exports of one state are equal."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": iso(inventory.exported_at),
        "sources": [
            {"name": s.name, "listed_at": _time(s.listed_at)}
            for s in sorted(inventory.sources, key=lambda s: s.name)
        ],
        "models": [
            {
                "source": m.source,
                "model_id": m.model_id,
                "first_seen_at": iso(m.first_seen_at),
                "last_seen_at": _time(m.last_seen_at),
                "vanished_at": _time(m.vanished_at),
                "shutdown_at": _time(m.shutdown_at),
                "shutdown_origin": m.shutdown_origin,
                "replacement": m.replacement,
                "lifecycle_status": m.lifecycle_status,
            }
            for m in sorted(inventory.models, key=lambda m: (m.source, m.model_id))
        ],
        "deprecations": [
            {
                "model": d.model,
                "source": d.source,
                "shutdown_at": iso(d.shutdown_at),
                "replacement": d.replacement,
                "origin": d.origin,
            }
            for d in sorted(inventory.deprecations, key=lambda d: (d.source, d.model))
        ],
    }


class _Reader:
    """Typed access to one object of the document; errors say where."""

    def __init__(self, data: Any, where: str, name: str) -> None:
        if not isinstance(data, Mapping):
            raise InventoryError(f"{name}: {where}: expected an object")
        self.data, self.where, self.name = data, where, name

    def _fail(self, key: str, expected: str) -> InventoryError:
        return InventoryError(f"{self.name}: {self.where}.{key}: expected {expected}")

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str) or not value:
            raise self._fail(key, "a non-empty string")
        return value

    def optional_text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise self._fail(key, "a string or null")
        return value

    def time(self, key: str) -> datetime:
        value = self.optional_time(key)
        if value is None:
            raise self._fail(key, "a time")
        return value

    def optional_time(self, key: str) -> datetime | None:
        value = self.data.get(key)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise self._fail(key, "an ISO-8601 time like 2026-03-01T12:00:00Z") from None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    def items(self, key: str) -> list[Any]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise self._fail(key, "an array")
        return value


def from_document(data: Any, name: str) -> Inventory:
    """Read a document written by ``to_document`` (``name`` says where it came from)."""
    top = _Reader(data, "(top)", name)
    if top.data.get("format") != FORMAT:
        raise InventoryError(f'{name}: not a syncer inventory (no "format": "{FORMAT}")')
    if top.data.get("version") != VERSION:
        raise InventoryError(
            f"{name}: inventory version {top.data.get('version')!r}: this syncer reads "
            f"version {VERSION} (upgrade syncer, or export with the same version)"
        )
    sources = []
    for index, item in enumerate(top.items("sources")):
        row = _Reader(item, f"sources[{index}]", name)
        sources.append(SourceRecord(row.text("name"), row.optional_time("listed_at")))
    models = []
    for index, item in enumerate(top.items("models")):
        row = _Reader(item, f"models[{index}]", name)
        models.append(
            ModelRecord(
                source=row.text("source"),
                model_id=row.text("model_id"),
                first_seen_at=row.time("first_seen_at"),
                last_seen_at=row.optional_time("last_seen_at"),
                vanished_at=row.optional_time("vanished_at"),
                shutdown_at=row.optional_time("shutdown_at"),
                shutdown_origin=row.optional_text("shutdown_origin"),
                replacement=row.optional_text("replacement"),
                lifecycle_status=row.optional_text("lifecycle_status"),
            )
        )
    deprecations = []
    for index, item in enumerate(top.items("deprecations")):
        row = _Reader(item, f"deprecations[{index}]", name)
        deprecations.append(
            Imported(
                row.text("model"),
                row.text("source"),
                row.time("shutdown_at"),
                row.optional_text("replacement"),
                row.optional_text("origin"),
            )
        )
    return Inventory(top.time("exported_at"), tuple(sources), tuple(models), tuple(deprecations))
