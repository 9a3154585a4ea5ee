"""What a sync changes: stored state + fetched records -> changes (pure).

Everything here is a decision over plain data, so it is tested exhaustively without a
server or a database; ``sync.run`` does the I/O around it.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from syncer.errors import PayloadError
from syncer.providers.profile import Profile
from syncer.sync.parse import ModelRecord, compared, parse_model

__all__ = [
    "Change",
    "Diff",
    "ShutdownMove",
    "StatusMove",
    "StoredModel",
    "compute_diff",
    "field_changes",
    "mass_vanish_reason",
    "same_json",
    "shutdown_moves",
    "status_moves",
]


@dataclass(frozen=True, slots=True)
class StoredModel:
    """What the store knows of one model: its last listed JSON and whether it is present.

    The store may hand ``raw`` over as JSON text with its ``digest``: a model whose digest
    matches the listed one is unchanged without its text ever being decoded.
    """

    model_id: str
    #: None when the store did not read it: only a model listed with another digest needs it.
    raw: Mapping[str, Any] | str | None
    present: bool
    digest: str | None = None

    def document(self) -> Mapping[str, Any]:
        if self.raw is None:
            raise LookupError(f"the stored JSON of {self.model_id!r} was not read")
        decoded: Mapping[str, Any] = json.loads(self.raw) if isinstance(self.raw, str) else self.raw
        return decoded


@dataclass(frozen=True, slots=True)
class Change:
    """A model whose listed fields differ: only the differing top-level fields are kept,
    with the stored document they differ from."""

    record: ModelRecord
    old_values: dict[str, Any]
    new_values: dict[str, Any]
    before: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class ShutdownMove:
    """A model whose provider-listed shutdown date was set, moved or cleared."""

    model_id: str
    old: datetime | None
    new: datetime | None


@dataclass
class Diff:
    added: list[ModelRecord] = field(default_factory=list)
    reappeared: list[ModelRecord] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    #: Listed JSON differs only in ways that are no change of value (a key now null, keys
    #: in another order): the row is rewritten, no event recorded.
    refreshed: list[ModelRecord] = field(default_factory=list)
    #: Present in the store, absent from the list: vanished once confirmed.
    missing: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def writes(self) -> list[ModelRecord]:
        """Every record whose row must be inserted or rewritten, once each."""
        changed = [c.record for c in self.changed]
        rows = {r.model_id: r for r in (*self.added, *self.reappeared, *changed, *self.refreshed)}
        return list(rows.values())

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.reappeared or self.changed or self.refreshed or self.missing)


def same_json(a: Any, b: Any) -> bool:
    """Equality as JSON sees it: unlike Python's ``==``, ``true`` is not ``1``."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same_json, a, b))
    return bool(a == b)


def field_changes(
    old: Mapping[str, Any], new: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The top-level fields whose values differ; an absent field counts as null."""
    keys = sorted(set(old) | set(new))
    differing = [k for k in keys if not same_json(old.get(k), new.get(k))]
    return {k: old.get(k) for k in differing}, {k: new.get(k) for k in differing}


def compute_diff(
    stored: Mapping[str, StoredModel],
    fetched: Sequence[ModelRecord],
    unchanged: Collection[str] = (),
    regenerated: Collection[str] = (),
) -> Diff:
    """Compare a complete, de-duplicated list with the stored state of the same source.

    ``unchanged`` are ids the list holds exactly as stored, present (``parse_listing``
    found them so and made no record): they are listed, and only counted. ``regenerated``
    are the fields the kind's server makes anew for every answer (``Profile.regenerated``):
    they are not compared, and a present model listed again has its row rewritten without
    an event, so its ``raw`` holds them as last listed.
    """
    result = Diff(unchanged=len(unchanged))
    listed: set[str] = set(unchanged)
    for record in fetched:
        listed.add(record.model_id)
        before = stored.get(record.model_id)
        if before is None:
            result.added.append(record)
            continue
        if not before.present:
            result.reappeared.append(record)
        if before.digest == record.digest:  # the same JSON: the stored one need not be decoded
            result.unchanged += before.present
            if regenerated and before.present:
                result.refreshed.append(record)
            continue
        document = before.document()
        old, new = compared(document, regenerated), compared(record.raw, regenerated)
        if same_json(old, new):
            if regenerated and before.present:
                result.refreshed.append(record)
            elif before.digest is None or not before.present:
                result.unchanged += before.present
            else:  # the same JSON spelt otherwise (keys reordered): store it, so digests match
                result.refreshed.append(record)
            continue
        old_values, new_values = field_changes(old, new)
        if old_values:
            result.changed.append(Change(record, old_values, new_values, document))
        elif before.present:
            result.refreshed.append(record)
    # Listed ids first: a stored model is looked at only if the list left it out.
    result.missing = sorted(
        model_id for model_id in stored if model_id not in listed and stored[model_id].present
    )
    return result


def shutdown_moves(changes: Sequence[Change], profile: Profile) -> list[ShutdownMove]:
    """The changes that moved a model's shutdown date, as the source's kind reads it.

    Only a change of a field the kind reads a date from is looked at; the stored document
    is read again as it was read when stored, so a moved date is told from a new field.
    """
    roots = {name.split(".")[0] for name in profile.fields.shutdown}
    moves = []
    for change in changes:
        if not roots & change.new_values.keys():
            continue
        try:
            old = parse_model(change.before, repr(change.record.model_id), profile)[0].shutdown_at
        except PayloadError:
            old = None
        if old != change.record.shutdown_at:
            moves.append(ShutdownMove(change.record.model_id, old, change.record.shutdown_at))
    return moves


@dataclass(frozen=True, slots=True)
class StatusMove:
    """A model whose provider-listed lifecycle status was set, changed or cleared."""

    model_id: str
    old: str | None
    new: str | None


def status_moves(changes: Sequence[Change], profile: Profile) -> list[StatusMove]:
    """The changes that moved a model's lifecycle status, as the source's kind reads it."""
    if profile.fields.status is None:
        return []
    root = profile.fields.status.split(".")[0]
    moves = []
    for change in changes:
        if root not in change.new_values:
            continue
        try:
            old = parse_model(change.before, repr(change.record.model_id), profile)[0]
        except PayloadError:
            continue
        if old.lifecycle_status != change.record.lifecycle_status:
            moves.append(
                StatusMove(
                    change.record.model_id, old.lifecycle_status, change.record.lifecycle_status
                )
            )
    return moves


def mass_vanish_reason(present: int, listed: int, missing: int, share: float) -> str | None:
    """Why a list looks like an outage rather than news, or None when it looks real.

    An empty list against a non-empty inventory, or one that would vanish more than
    ``share`` of what is present, is far more often a wrong key or a bad deploy.
    """
    if present and not listed:
        return f"the provider listed no models, but {present} are present"
    if present and missing / present > share:
        return (
            f"{missing} of {present} present models ({missing / present:.0%}) would vanish, "
            f"more than the {share:.0%} allowed"
        )
    return None
