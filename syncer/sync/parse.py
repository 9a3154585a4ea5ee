"""Validation of the provider's list pages into plain model records (pure).

Strict where safety needs it (every model has a sane string id, because ids end up in
URLs and deletions), tolerant elsewhere: fields the API documents may be missing, and
fields it does not document are kept verbatim in ``raw`` so nothing is lost. Where the
list and each field sit is the source's provider profile's business (``Profile.items``,
``Profile.fields``); this module applies it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from hashlib import blake2b
from typing import Any

from syncer.errors import PayloadError
from syncer.jsontext import Undecoded, document, json_bytes, json_kind
from syncer.providers.openai import PROFILE as OPENAI
from syncer.providers.profile import Fields, Profile
from syncer.redact import CONTROL

__all__ = [
    "CREATED_RANGE",
    "MAX_ID_LENGTH",
    "PARSER_VERSION",
    "ModelRecord",
    "ParsedListing",
    "compared",
    "fingerprint",
    "listed_digest",
    "parse_listing",
    "parse_model",
    "parse_timestamp",
    "raw_digest",
]

#: Part of every digest, the list's and each model's: a syncer that reads lists differently
#: re-applies an unchanged list and parses every model again. Change it with the parser.
#: 3: Mistral's ``type: fine-tuned``, vLLM's and LiteLLM's ``created`` no longer read as a
#: creation time, Ollama's context length no longer read (issue 19): stored rows take it.
#: 4: each kind's lifecycle status (``Fields.status``) read into ``lifecycle_status``.
PARSER_VERSION = "4"
MAX_ID_LENGTH = 512
#: The unix seconds a timestamp can hold (years 1 to 9999); beyond, ``created`` is not a time.
CREATED_RANGE = range(-62_135_596_800, 253_402_300_800)
_PERSON = f"syncer{PARSER_VERSION}".encode()


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """One model as the provider listed it."""

    model_id: str
    raw: dict[str, Any] = field(compare=True)
    object: str | None = None
    created: int | None = None
    owned_by: str | None = None
    shutdown_at: datetime | None = None
    #: By the kind's rule (``FineTunes.is_fine_tuned``).
    is_fine_tuned: bool = False
    display_name: str | None = None
    context_length: int | None = None
    replacement: str | None = None
    #: The provider's lifecycle status, by the kind's ``Fields.status`` (None: it says none).
    lifecycle_status: str | None = None
    #: The profile that read it (``Profile.name``): part of the digest.
    parsed_as: str = field(default="openai", repr=False, compare=False)
    #: Fingerprint of the model as listed (``listed_digest`` of its bytes, else ``raw_digest``
    #: of ``raw``): a sync compares it with the stored one instead of reading every stored
    #: document back.
    digest: str = field(default="", repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.digest:
            object.__setattr__(self, "digest", raw_digest(self.raw, self.parsed_as))

    @property
    def created_at(self) -> datetime | None:
        return None if self.created is None else datetime.fromtimestamp(self.created, UTC)


@dataclass(frozen=True)
class ParsedListing:
    records: list[ModelRecord]
    warnings: list[str]
    #: Ids listed exactly as stored (see ``parse_listing``), not parsed again.
    unchanged: list[str] = field(default_factory=list)

    @property
    def listed(self) -> int:
        """How many distinct models the provider listed."""
        return len(self.records) + len(self.unchanged)


def raw_digest(raw: Mapping[str, Any], parsed_as: str = "openai") -> str:
    """A fingerprint of a listed model: equal digests mean the same JSON, key order and all.

    It hashes the model's compact JSON (``jsontext.json_bytes``), exact for what syncer
    decodes (``True`` is not ``1``, ``1`` is not ``1.0``), and ``repr`` where orjson cannot
    write it. Keyed by ``PARSER_VERSION`` and by the profile that reads it (``Profile.name``;
    OpenAI's digests are unsalted), so a new parser, or a source whose kind changed, sees
    every stored model as new to it and fills its columns again.
    """
    text = json_bytes(raw)
    return listed_digest(b"repr:" + repr(raw).encode() if text is None else text, parsed_as)


def compared(raw: Mapping[str, Any], regenerated: Collection[str]) -> Mapping[str, Any]:
    """A listed model as syncer compares it: without the fields its server regenerates on
    every answer (``Profile.regenerated``)."""
    if not regenerated:
        return raw
    return {key: value for key, value in raw.items() if key not in regenerated}


def fingerprint(raw: Mapping[str, Any], profile: Profile) -> str:
    """The digest of a listed model as ``profile`` compares it (``compared``): a vLLM card
    whose ``created`` and ``permission`` are new on every answer keeps one fingerprint."""
    return raw_digest(compared(raw, profile.regenerated), profile.name)


def listed_digest(listed: bytes | Undecoded, parsed_as: str = "openai") -> str:
    """The fingerprint of a model listed as these JSON bytes (see ``raw_digest``): a model
    listed byte for byte as stored is unchanged without being decoded."""
    hasher = _hasher(parsed_as).copy()
    hasher.update(listed)
    return hasher.hexdigest()


def _hasher(parsed_as: str) -> blake2b:
    """The keyed BLAKE2b every digest of a profile's models starts from: copying it costs
    half of making one from its keywords, once per listed model."""
    return _keyed(_PERSON, b"" if parsed_as == "openai" else parsed_as.encode()[:16])


@cache
def _keyed(person: bytes, salt: bytes) -> blake2b:
    return blake2b(digest_size=16, person=person, salt=salt)


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


class _Invalid(Exception):
    """What is wrong with one entry; the caller says where the entry was."""


def parse_model(
    item: Any, position: str, profile: Profile = OPENAI
) -> tuple[ModelRecord, list[str]]:
    """Validate one listed model; ``position`` says where it was, for messages."""
    try:
        return _parse_model(item, _model_id(item, profile.fields), profile)
    except _Invalid as problem:
        raise PayloadError(f"{position} {problem}") from None


def _model_id(item: Any, fields: Fields) -> str:
    """The entry's id, checked: the one thing every listed model must get right."""
    if type(item) is not dict and not isinstance(item, Mapping):
        raise _Invalid(f"is {json_kind(item)}, expected a model object")
    model_id = item.get(fields.id)
    if not isinstance(model_id, str) or not model_id.strip():
        raise _Invalid(f"has no string {fields.id!r} (got {json_kind(model_id)})")
    if fields.id_prefix and model_id.startswith(fields.id_prefix):
        model_id = model_id[len(fields.id_prefix) :]
        if not model_id.strip():
            raise _Invalid(f"has an empty {fields.id!r} after {fields.id_prefix!r}")
    if len(model_id) > MAX_ID_LENGTH or CONTROL.search(model_id):
        raise _Invalid(
            f"has an id longer than {MAX_ID_LENGTH} characters or with control "
            f"characters: {model_id[:60]!r}"
        )
    return model_id


def _parse_model(
    item: Mapping[str, Any], model_id: str, profile: Profile, digest: str = ""
) -> tuple[ModelRecord, list[str]]:
    # Runs once per listed model: a sync of 100,000 models spends its parsing time here.
    fields = profile.fields
    if profile.regenerated and not digest:
        digest = fingerprint(item, profile)
    created = item.get(fields.created) if fields.created else None
    owned_by = item.get(fields.owned_by) if fields.owned_by else None
    obj = item.get(fields.object) if fields.object else None
    fine_tuned = profile.fine_tunes.is_fine_tuned(model_id, item)
    if (
        fields.plain
        and (created is None or (type(created) is int and created in CREATED_RANGE))
        and (owned_by is None or type(owned_by) is str)
    ):  # a well-formed model has nothing to convert or warn about: the common case, done fast
        for name in fields.shutdown:  # a loop, not all(): no generator per model
            if item.get(name) is not None:
                break
        else:
            obj = obj if isinstance(obj, str) else None
            return ModelRecord(
                model_id,
                dict(item),
                obj,
                created,
                owned_by,
                None,
                fine_tuned,
                parsed_as=profile.name,
                digest=digest,
            ), []
    warnings: list[str] = []
    created = _created(created, fields, model_id, warnings)
    if owned_by is not None and not isinstance(owned_by, str):
        warnings.append(f"model {model_id!r}: {fields.owned_by!r} is not a string: {owned_by!r}")
        owned_by = None
    record = ModelRecord(
        model_id=model_id,
        raw=dict(item),
        object=obj if isinstance(obj, str) else None,
        created=created,
        owned_by=owned_by,
        shutdown_at=_shutdown(item, fields, model_id, warnings),
        is_fine_tuned=fine_tuned,
        display_name=_string(item, fields.display_name, model_id, warnings),
        context_length=_length(item, fields.context_length, model_id, warnings),
        replacement=_string(item, fields.replacement, model_id, warnings),
        lifecycle_status=_status(item, fields, model_id, warnings),
        parsed_as=profile.name,
        digest=digest,
    )
    return record, warnings


def _created(value: Any, fields: Fields, model_id: str, warnings: list[str]) -> int | None:
    """The creation time as unix seconds, read as the kind writes it; None, with a warning,
    for a value that is not one."""
    if fields.created_as == "rfc3339" and isinstance(value, str):
        value = _rfc3339_seconds(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if value is None or (
        isinstance(value, int) and not isinstance(value, bool) and value in CREATED_RANGE
    ):
        return value
    warnings.append(
        f"model {model_id!r}: {fields.created!r} is not a time: {value!r}"
        if fields.created_as == "rfc3339"
        else f"model {model_id!r}: {fields.created!r} is not unix seconds: {value!r}"
    )
    return None


def _shutdown(
    item: Mapping[str, Any], fields: Fields, model_id: str, warnings: list[str]
) -> datetime | None:
    """The first of the kind's shutdown fields that is set, as a time (a warning if not)."""
    for name in fields.shutdown:
        value = _get(item, name)
        if value is not None:
            try:
                return parse_timestamp(value)
            except (ValueError, OverflowError, OSError):
                warnings.append(f"model {model_id!r}: cannot read {name} {value!r}")
            return None
    return None


def _get(item: Mapping[str, Any], path: str) -> Any:
    """``item[path]``; a dotted path reaches into nested objects (None where one is missing)."""
    if "." not in path:
        return item.get(path)
    value: Any = item
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _rfc3339_seconds(text: str) -> Any:
    """Unix seconds of an RFC 3339 time; the epoch means unknown (Anthropic's documented use)."""
    try:
        moment = parse_timestamp(text)
    except (ValueError, OverflowError):
        return text  # reported by the caller as not a time
    seconds = None if moment is None else int(moment.timestamp())
    return None if seconds == 0 else seconds


def _string(item: Mapping[str, Any], path: str | None, model_id: str, warnings: list[str]) -> Any:
    if path is None:
        return None
    value = _get(item, path)
    if value is None or isinstance(value, str):
        return value
    warnings.append(f"model {model_id!r}: {path!r} is not a string: {value!r}")
    return None


def _status(
    item: Mapping[str, Any], fields: Fields, model_id: str, warnings: list[str]
) -> str | None:
    """The lifecycle status the kind's field says: a string as it is, a flag by its meaning."""
    if fields.status is None:
        return None
    value = _get(item, fields.status)
    if value is None:
        return None
    if fields.status_flags is not None:
        if type(value) is bool:
            return fields.status_flags.get(value)
    elif isinstance(value, str):
        return value.strip().lower() or None
    warnings.append(f"model {model_id!r}: {fields.status!r} is not a lifecycle status: {value!r}")
    return None


def _length(
    item: Mapping[str, Any], paths: tuple[str, ...], model_id: str, warnings: list[str]
) -> int | None:
    """The first of ``paths`` that holds a whole number of tokens."""
    for path in paths:
        value = _get(item, path)
        if value is None:
            continue
        if type(value) is int and 0 < value < 2**63:
            return value
        warnings.append(f"model {model_id!r}: {path!r} is not a token count: {value!r}")
        return None
    return None


def parse_listing(
    pages: Iterable[Any],
    known: Mapping[str, str | None] | None = None,
    profile: Profile = OPENAI,
) -> ParsedListing:
    """Turn every page of a list response into one list of records, or say what is wrong.

    ``known`` maps the ids of models stored as present to their digests: a model listed
    exactly as stored lands in ``unchanged`` without being parsed again, and one left
    ``Undecoded`` on its page (``jsontext.decode_page``) without even being decoded, which is
    most of the work when little of a large inventory changed.
    """
    reader = _Reader(known or {}, profile)
    for page_number, body in enumerate(pages, start=1):
        where = f"page {page_number}" if page_number > 1 else "the response"
        data = _items(body, where, profile.items, profile.items_optional, reader.more_items)
        if data is None:
            continue
        digests = reader.digests(data)
        if digests is None or not reader.by_digest(data, digests, where):
            for index, item in enumerate(data):
                reader.entry(item, index, where, digests[index] if digests else None)
    return reader.listing()


class _Reader:
    """What ``parse_listing`` has read so far, page after page, in the order listed.

    A model id listed twice is kept where it was first listed (the rest are reported as
    duplicates), so the order decides; ``entry`` reads one entry in order. ``by_digest``
    reads a whole page at once, which is most of a large unchanged inventory, and gives the
    page back to ``entry``, with its digests, when an id on it was listed twice.
    """

    def __init__(self, known: Mapping[str, str | None], profile: Profile) -> None:
        self.known, self.profile, self.fields = known, profile, profile.fields
        # A model listed as the very bytes stored is that model, unchanged: found by digest.
        self.stored_as = dict(zip(known.values(), known.keys(), strict=True))
        self.hasher = _hasher(profile.name)
        self.records: list[ModelRecord] = []
        self.unchanged: list[str] = []
        self.seen: set[str] = set()
        self.warnings: list[str] = []
        self.duplicates: list[str] = []
        self.missing = {key: 0 for key in (self.fields.created, self.fields.owned_by) if key}
        #: Where the models sit on a page of one of the profile's further lists.
        self.more_items = tuple(key for _, key in profile.more_lists)

    def digests(self, data: list[Any]) -> list[str] | None:
        """The digest of each entry of a page whose entries are all ``Undecoded``, else None
        (and None for a kind with regenerated fields, whose bytes differ on every answer)."""
        if not data or type(data[0]) is not Undecoded or self.profile.regenerated:
            return None
        copy = self.hasher.copy
        digests = []
        for item in data:  # listed_digest, inlined: this runs once per model
            if type(item) is not Undecoded:
                return None
            hasher = copy()
            hasher.update(item)
            digests.append(hasher.hexdigest())
        return digests

    def by_digest(self, data: list[Any], digests: list[str], where: str) -> bool:
        """Read a page of ``Undecoded`` entries at once; False (nothing read) for one that
        lists an id twice or one already read."""
        found = list(map(self.stored_as.get, digests))
        unchanged = [model_id for model_id in found if model_id is not None]
        ids = set(unchanged)
        if len(ids) != len(unchanged) or not self.seen.isdisjoint(ids):
            return False
        others = [
            (index, *self._decoded(data[index], index, where))
            for index, model_id in enumerate(found)
            if model_id is None
        ]
        if any(model_id in ids for _, _, model_id in others):
            return False
        self.seen |= ids
        self.unchanged += unchanged
        for index, item, model_id in others:
            self._read(item, model_id, digests[index], index, where)
        return True

    def entry(self, item: Any, index: int, where: str, digest: str | None = None) -> None:
        """Read the entry at ``index`` of a page, in the order listed (``digest``: its
        digest, if already made)."""
        if type(item) is not Undecoded or self.profile.regenerated:
            digest = ""
        elif digest is None:
            digest = listed_digest(item, self.profile.name)
        if digest:
            model_id = self.stored_as.get(digest)
            if model_id is not None and model_id not in self.seen:
                self.seen.add(model_id)
                self.unchanged.append(model_id)
                return
        self._read(*self._decoded(item, index, where), digest, index, where)

    def _decoded(self, item: Any, index: int, where: str) -> tuple[Any, str]:
        """The entry decoded, and its id, checked."""
        try:
            item = document(item)
        except (ValueError, RecursionError):
            raise PayloadError(f"{where}: {self._at(index)} is not JSON") from None
        try:
            return item, _model_id(item, self.fields)
        except _Invalid as problem:
            raise PayloadError(f"{where}: {self._at(index)} {problem}") from None

    def _read(self, item: Any, model_id: str, digest: str, index: int, where: str) -> None:
        """Keep a decoded entry: parsed, unless it was decoded by the provider's client and
        is stored as it is (no digest of its bytes to tell). A kind with regenerated fields
        always makes a record: its row keeps them as last listed (``compute_diff``)."""
        seen = self.seen
        record, notes = None, None
        try:
            if (
                not self.known
                or model_id in seen
                or digest
                or self.profile.regenerated
                or self.known.get(model_id) != raw_digest(item, self.profile.name)
            ):
                record, notes = _parse_model(item, model_id, self.profile, digest)
        except _Invalid as problem:
            raise PayloadError(f"{where}: {self._at(index)} {problem}") from None
        if notes:
            self.warnings.extend(notes)
        for key in self.missing:
            if key not in item:
                self.missing[key] += 1
        if model_id in seen:
            self.duplicates.append(model_id)
            return
        seen.add(model_id)
        if record is None:
            self.unchanged.append(model_id)
        else:
            self.records.append(record)

    def _at(self, index: int) -> str:
        return f"{self.profile.items or ''}[{index}]"

    def listing(self) -> ParsedListing:
        warnings = list(self.warnings)
        for key, count in self.missing.items():
            if count:
                warnings.append(f"{count} model(s) have no '{key}'; stored as null")
        if self.duplicates:
            shown = ", ".join(repr(d) for d in self.duplicates[:5])
            more = f" and {len(self.duplicates) - 5} more" if len(self.duplicates) > 5 else ""
            warnings.append(f"duplicate model ids, first kept: {shown}{more}")
        return ParsedListing(self.records, warnings, self.unchanged)


def _items(
    body: Any, where: str, key: str | None, optional: bool, more: tuple[str, ...] = ()
) -> list[Any] | None:
    """The page's models: ``body[key]``, or the body itself for a kind that lists bare arrays;
    on a page of a further list (``Profile.more_lists``), under that list's own key.

    A null list is an empty one (Ollama sends ``"data": null`` when it has no models).
    """
    if key is not None and isinstance(body, Mapping) and key not in body:
        key = next((other for other in more if other in body), key)
    if key is None:
        if not isinstance(body, list):
            raise PayloadError(f"{where} is {json_kind(body)}, expected a JSON array of models")
        return body
    if not isinstance(body, Mapping):
        raise PayloadError(f"{where} is {json_kind(body)}, expected a JSON object")
    if key not in body:
        if optional:
            return None
        raise PayloadError(f"{where} has no {key!r} list (keys: {_keys(body)})")
    data = body[key]
    if data is not None and not isinstance(data, list):
        raise PayloadError(f"{where}: {key!r} is {json_kind(data)}, expected a list")
    return data


def _keys(body: Mapping[str, Any]) -> str:
    return ", ".join(sorted(map(str, body))[:10]) or "none"
