"""What an import decides, over plain data: no HTTP, no database (pure).

A fetch is conditional (``If-None-Match``, ``If-Modified-Since``) only when the document
applied last was read under the same configuration: LiteLLM's map gives dates to the
sources of each kind configured, so after a source is added the same document says more,
and a 304 would hide it. A document that comes back byte for byte the one applied last,
under the same configuration, is ``unchanged`` too, for servers that send no validators.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from syncer.timeutil import human_time

__all__ = [
    "FAILED",
    "OK",
    "UNCHANGED",
    "Applied",
    "Outcome",
    "conditional_headers",
    "config_digest",
    "digest",
    "is_unchanged",
    "lease_name",
]

OK, UNCHANGED, FAILED = "ok", "unchanged", "failed"
#: ``leases.name`` holds at most this many characters.
_LEASE_NAME_MAX = 128


@dataclass(frozen=True)
class Applied:
    """An origin's latest ``ok`` import: what the next fetch is compared with."""

    at: datetime
    etag: str | None
    last_modified: str | None
    body_digest: str | None
    config_digest: str | None
    #: The dates it stored, and how many of the origin's the table still holds: fewer when
    #: something else replaced them since (``import --replace``, another file's entry for
    #: the same model), and then the document must be applied again, 304 or not.
    entries: int
    held: int

    @property
    def intact(self) -> bool:
        return self.held == self.entries


@dataclass(frozen=True)
class Outcome:
    """One attempt, as recorded in ``import_runs`` and told to the user."""

    origin: str
    status: str
    started_at: datetime
    finished_at: datetime
    #: ``ok``: the dates stored, and the present models whose imported date moved.
    entries: int | None = None
    changed: int | None = None
    error: str | None = None
    #: ``unchanged``: why (the server's 304, or the same bytes), and since when.
    reason: str | None = None
    since: datetime | None = None
    #: What of the file was passed over, a sentence each.
    skipped: tuple[str, ...] = ()
    #: Countdown alerts the new dates queued.
    countdowns: int = 0
    etag: str | None = None
    last_modified: str | None = None
    body_digest: str | None = None
    config_digest: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != FAILED

    def summary(self) -> str:
        """The line a person reads about this attempt."""
        if self.status == FAILED:
            return f"import of {self.origin} failed: {self.error}; its last good import stays"
        if self.status == UNCHANGED:
            since = f" since the import at {human_time(self.since)}" if self.since else ""
            return f"{self.origin}: unchanged{since} ({self.reason})"
        line = f"imported {self.entries} shutdown date(s) from {self.origin}"
        if self.changed:
            line += f"; {self.changed} present model(s) got a new imported date"
        return line


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def config_digest(format: str, providers: Mapping[str, Sequence[str]]) -> str:
    """A fingerprint of what of the configuration reading a ``format`` file depends on:
    for LiteLLM's map, which sources each ``litellm_provider`` value gives dates to; for
    the others, nothing but the format."""
    if format != "litellm":
        return digest(format.encode())
    shape = {name: sorted(values) for name, values in sorted(providers.items())}
    return digest(json.dumps([format, shape]).encode())


def conditional_headers(applied: Applied | None, config: str) -> dict[str, str]:
    """The validators of the document applied last, when it was read as the next will be
    and its dates are still all there."""
    if applied is None or not applied.intact or applied.config_digest != config:
        return {}
    headers = {}
    if applied.etag:
        headers["If-None-Match"] = applied.etag
    if applied.last_modified:
        headers["If-Modified-Since"] = applied.last_modified
    return headers


def is_unchanged(applied: Applied | None, body: str, config: str) -> bool:
    """Whether a document is byte for byte the one applied last, read the same way."""
    return (
        applied is not None
        and applied.intact
        and applied.body_digest == body
        and applied.config_digest == config
    )


def lease_name(origin: str) -> str:
    """The lease one replica holds while it imports ``origin``: ``import:ORIGIN``, or, for
    an origin too long for ``leases.name``, its start and a digest of the whole."""
    name = f"import:{origin}"
    if len(name) <= _LEASE_NAME_MAX:
        return name
    tail = "~" + digest(origin.encode())[:16]
    return name[: _LEASE_NAME_MAX - len(tail)] + tail
