"""What a found id means, and whether it fails the scan (pure).

A written id is looked up as written, then without its prefixes and suffixes
(``matcher.candidates``); the records of every source that ever listed it decide:

- ``vanished``: some source listed it and none does now;
- ``shutting-down``: listed, with a shutdown date in force (days left may be negative);
- ``deprecated``: listed, with no date, and its lifecycle status says it is going
  (``lifecycle.ENDING``: deprecated, inactive, archived, ...), as ``syncer deprecations`` lists it;
- ``not-listed``: no source has ever listed it (a family pattern found it, or only an
  imported date names it);
- ``ok``: listed, no date.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from syncer.lifecycle import is_ending
from syncer.scan.inventory import Imported, Inventory, ModelRecord
from syncer.scan.matcher import candidates, is_id, normalise
from syncer.timeutil import days_until

__all__ = [
    "DEFAULT_FAIL_ON",
    "VERDICTS",
    "Finding",
    "Index",
    "Policy",
    "Verdict",
    "Waiver",
    "count",
    "failing",
    "parse_fail_on",
]

VERDICTS = ("vanished", "shutting-down", "deprecated", "not-listed", "ok")
DEFAULT_FAIL_ON = "vanished,shutting-down:30d"
_THRESHOLD = re.compile(r"^shutting-down:(\d{1,5})d$")


@dataclass(frozen=True, slots=True)
class Verdict:
    """The verdict on one id, with what a reader needs to act on it."""

    kind: str
    #: The id as the inventory has it (the written text when no source lists it).
    model_id: str
    sources: tuple[str, ...] = ()
    shutdown_at: datetime | None = None
    #: Whole days from the scan to the shutdown date (negative once it passed).
    days_left: int | None = None
    origin: str | None = None
    replacement: str | None = None
    vanished_at: datetime | None = None

    @property
    def advice(self) -> str:
        """One line: what happened, and what to do."""
        use = f"; use {self.replacement} instead" if self.replacement else ""
        listed = ", ".join(self.sources)
        if self.kind == "vanished":
            when = self.vanished_at.date().isoformat() if self.vanished_at else "?"
            return f"no longer listed by {listed} (vanished {when}){use or '; replace it'}"
        if self.kind == "shutting-down":
            when = self.shutdown_at.date().isoformat() if self.shutdown_at else "?"
            days = self.days_left or 0
            left = f"in {days} days" if days >= 0 else f"passed {-days} days ago"
            return f"shuts down {when} ({left}; date from {self.origin}){use}"
        if self.kind == "deprecated":
            return f"deprecated by {listed}, no shutdown date yet{use}"
        if self.kind == "not-listed":
            dated = ""
            if self.shutdown_at is not None:
                dated = f"; an import dates its shutdown {self.shutdown_at.date().isoformat()}"
            return (
                "no configured source lists it (a typo, or a model your keys cannot use)"
                + dated
                + use
            )
        return f"listed by {listed}"


@dataclass(frozen=True, slots=True)
class Waiver:
    """An accepted use of an id (``.syncer-scan.toml``): it does not fail the scan until
    ``expires``; ``path`` (a gitignore-style glob) limits it to some files."""

    id: str
    reason: str
    expires: date
    path: str | None = None
    #: Where it is written, for messages: ``.syncer-scan.toml: waivers[0]``.
    where: str = ""


@dataclass(frozen=True, slots=True)
class Finding:
    """One place an id is used."""

    path: str
    line: int
    column: int
    #: The text as written (prefixes and suffixes included).
    text: str
    verdict: Verdict
    #: The waiver that accepts this use, if one does.
    waiver: Waiver | None = None


class Index:
    """An inventory arranged for lookups by written id."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self._by_id: dict[str, list[ModelRecord]] = {}
        self._by_key: dict[str, list[ModelRecord]] = {}
        for record in inventory.models:
            self._by_id.setdefault(record.model_id, []).append(record)
            self._by_key.setdefault(normalise(record.model_id), []).append(record)
        self._imported: dict[str, list[Imported]] = {}
        for entry in inventory.deprecations:
            if is_id(entry.model) and not set("*?[") & set(entry.model):
                self._imported.setdefault(entry.model, []).append(entry)
                self._imported.setdefault(normalise(entry.model), []).append(entry)

    def known_ids(self) -> set[str]:
        """Every id the matcher should find as written: listed ever, or dated by an import."""
        return set(self._by_id) | set(self._imported)

    def _records(self, written: str) -> list[ModelRecord]:
        for candidate in candidates(written):
            if candidate in self._by_id:
                return self._by_id[candidate]
        return self._by_key.get(normalise(written), [])

    def judge(self, written: str, now: datetime) -> Verdict:
        records = self._records(written)
        if not records:
            return self._unlisted(written)
        present = [r for r in records if r.vanished_at is None]
        if not present:
            return _vanished(records, now)
        return _listed(records[0].model_id, present, now)

    def _unlisted(self, written: str) -> Verdict:
        """Not listed anywhere: with the earliest imported date for it, if any."""
        entries = next((self._imported[c] for c in candidates(written) if c in self._imported), [])
        entry = min(entries, key=lambda e: e.shutdown_at, default=None)
        if entry is None:
            return Verdict("not-listed", normalise(written))
        return Verdict(
            "not-listed",
            entry.model,
            shutdown_at=entry.shutdown_at,
            origin=entry.origin,
            replacement=entry.replacement,
        )


def _vanished(records: Sequence[ModelRecord], now: datetime) -> Verdict:
    """Gone from every source: the facts of the last one it vanished from."""
    last = max(records, key=lambda r: r.vanished_at or now)
    return Verdict(
        "vanished",
        records[0].model_id,
        tuple(sorted({r.source for r in records})),
        shutdown_at=last.shutdown_at,
        origin=last.shutdown_origin,
        replacement=next((r.replacement for r in records if r.replacement), None),
        vanished_at=last.vanished_at,
    )


def _listed(model_id: str, present: Sequence[ModelRecord], now: datetime) -> Verdict:
    """Listed by some source: the earliest shutdown date decides, then the status."""
    sources = tuple(sorted({r.source for r in present}))
    dated = [r for r in present if r.shutdown_at is not None]
    if dated:
        first = min(dated, key=lambda r: r.shutdown_at or now)
        assert first.shutdown_at is not None
        return Verdict(
            "shutting-down",
            model_id,
            sources,
            first.shutdown_at,
            days_until(first.shutdown_at, now),
            first.shutdown_origin,
            first.replacement,
        )
    replacement = next((r.replacement for r in present if r.replacement), None)
    # The one rule every output follows (an exported snapshot's status may be read
    # from a file, hence the lower case).
    if any(is_ending((r.lifecycle_status or "").lower()) for r in present):
        return Verdict("deprecated", model_id, sources, replacement=replacement)
    return Verdict("ok", model_id, sources, replacement=replacement)


@dataclass(frozen=True, slots=True)
class Policy:
    """Which verdicts fail a scan: a set of kinds, ``shutting-down`` within ``days`` (None:
    whatever the date)."""

    kinds: frozenset[str]
    days: int | None = None

    def fails(self, verdict: Verdict) -> bool:
        if verdict.kind not in self.kinds:
            return False
        if verdict.kind == "shutting-down" and self.days is not None:
            return verdict.days_left is not None and verdict.days_left <= self.days
        return True


def parse_fail_on(text: str) -> Policy:
    """``vanished,shutting-down:30d``: ValueError naming the part it cannot read."""
    kinds: set[str] = set()
    days = None
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        threshold = _THRESHOLD.match(part)
        if threshold is not None:
            kinds.add("shutting-down")
            days = int(threshold[1])
        elif part in VERDICTS[:-1]:
            kinds.add(part)
        else:
            allowed = ", ".join((*VERDICTS[:-1], "shutting-down:Nd"))
            raise ValueError(f"{part!r} is not a verdict (expected: {allowed})")
    if (
        "shutting-down" in kinds
        and days is not None
        and "shutting-down" in text.replace(f"shutting-down:{days}d", "")
    ):
        days = None  # a bare ``shutting-down`` beside a threshold means any date
    return Policy(frozenset(kinds), days)


def count(findings: Iterable[Finding]) -> dict[str, int]:
    """Findings per verdict, in ``VERDICTS`` order (zeros left out)."""
    found: dict[str, int] = {}
    for finding in findings:
        found[finding.verdict.kind] = found.get(finding.verdict.kind, 0) + 1
    return {kind: found[kind] for kind in VERDICTS if kind in found}


def failing(findings: Sequence[Finding], policy: Policy) -> list[Finding]:
    """The findings that fail the policy: a waived one does not."""
    return [f for f in findings if f.waiver is None and policy.fails(f.verdict)]
