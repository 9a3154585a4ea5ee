"""Validation of the provider's list pages into plain model records (pure).

Strict where safety needs it (every model has a sane string ``id``, because ids end up
in URLs and deletions), tolerant elsewhere: fields the API documents may be missing,
and fields it does not document are kept verbatim in ``raw`` so nothing is lost.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from .errors import PayloadError

MAX_ID_LENGTH = 512
#: Where providers announce a model's shutdown: OpenAI, then OpenRouter.
SHUTDOWN_FIELDS = ("shutdown_date", "expiration_date")


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """One model as the provider listed it."""

    model_id: str
    raw: dict[str, Any] = field(compare=True)
    object: str | None = None
    created: int | None = None
    owned_by: str | None = None
    shutdown_at: datetime | None = None

    @property
    def created_at(self) -> datetime | None:
        return None if self.created is None else datetime.fromtimestamp(self.created, UTC)

    @property
    def is_fine_tuned(self) -> bool:
        return is_fine_tuned(self.model_id)


@dataclass(frozen=True)
class ParsedListing:
    records: list[ModelRecord]
    warnings: list[str]


def is_fine_tuned(model_id: str) -> bool:
    """True for fine-tunes: ``ft:base:org:suffix:id`` and the legacy ``base:ft-org-date``."""
    return model_id.startswith("ft:") or ":ft-" in model_id


def parse_timestamp(value: Any) -> datetime | None:
    """Read a date the way providers write one: unix seconds, an ISO date or date-time.

    Raises ValueError for anything else, so the caller can say which model was odd.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a date")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValueError(f"{value!r} is not a date")


def parse_model(item: Any, position: str) -> tuple[ModelRecord, list[str]]:
    """Validate one entry of ``data``; ``position`` says where it was, for messages."""
    if not isinstance(item, Mapping):
        raise PayloadError(f"{position} is {_kind(item)}, expected a model object")
    model_id = item.get("id")
    if not isinstance(model_id, str) or not model_id.strip():
        raise PayloadError(f"{position} has no string 'id' (got {_kind(model_id)})")
    if len(model_id) > MAX_ID_LENGTH or any(unicodedata.category(c) == "Cc" for c in model_id):
        raise PayloadError(
            f"{position} has an id longer than {MAX_ID_LENGTH} characters or with control "
            f"characters: {model_id[:60]!r}"
        )
    warnings: list[str] = []
    created = item.get("created")
    if isinstance(created, float) and created.is_integer():
        created = int(created)
    if created is not None and (isinstance(created, bool) or not isinstance(created, int)):
        warnings.append(f"model {model_id!r}: 'created' is not unix seconds: {created!r}")
        created = None
    owned_by = item.get("owned_by")
    if owned_by is not None and not isinstance(owned_by, str):
        warnings.append(f"model {model_id!r}: 'owned_by' is not a string: {owned_by!r}")
        owned_by = None
    obj = item.get("object")
    shutdown_at = None
    for name in SHUTDOWN_FIELDS:
        if item.get(name) is not None:
            try:
                shutdown_at = parse_timestamp(item[name])
            except (ValueError, OverflowError, OSError):
                warnings.append(f"model {model_id!r}: cannot read {name} {item[name]!r}")
            break
    record = ModelRecord(
        model_id=model_id,
        raw=dict(item),
        object=obj if isinstance(obj, str) else None,
        created=created,
        owned_by=owned_by,
        shutdown_at=shutdown_at,
    )
    return record, warnings


def parse_listing(pages: Iterable[Any]) -> ParsedListing:
    """Turn every page of a list response into one list of records, or say what is wrong."""
    records: dict[str, ModelRecord] = {}
    warnings: list[str] = []
    duplicates: list[str] = []
    missing: dict[str, int] = {"created": 0, "owned_by": 0}
    for page_number, body in enumerate(pages, start=1):
        where = f"page {page_number}" if page_number > 1 else "the response"
        if not isinstance(body, Mapping):
            raise PayloadError(f"{where} is {_kind(body)}, expected a JSON object")
        if "data" not in body:
            raise PayloadError(f"{where} has no 'data' list (keys: {_keys(body)})")
        data = body["data"]
        if data is None:
            continue
        if not isinstance(data, list):
            raise PayloadError(f"{where}: 'data' is {_kind(data)}, expected a list")
        for index, item in enumerate(data):
            record, notes = parse_model(item, f"{where}: data[{index}]")
            warnings.extend(notes)
            for key in missing:
                missing[key] += key not in item
            if record.model_id in records:
                duplicates.append(record.model_id)
                continue
            records[record.model_id] = record
    for key, count in missing.items():
        if count:
            warnings.append(f"{count} model(s) have no '{key}'; stored as null")
    if duplicates:
        shown = ", ".join(repr(d) for d in duplicates[:5])
        more = f" and {len(duplicates) - 5} more" if len(duplicates) > 5 else ""
        warnings.append(f"duplicate model ids, first kept: {shown}{more}")
    return ParsedListing(list(records.values()), warnings)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), f"a {type(value).__name__}"
    )


def _keys(body: Mapping[str, Any]) -> str:
    return ", ".join(sorted(map(str, body))[:10]) or "none"
