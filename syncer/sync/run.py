"""One sync of one source: fetch -> validate -> diff -> one transaction.

This module owns the transaction and the per-source lock. Either the whole result of a
sync commits (model rows, events and the run row together) or none of it does, and a
failure is recorded as a ``failed`` run so the history shows the gap.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Row, bindparam, func, select
from sqlalchemy.exc import SQLAlchemyError

from syncer.config.model import SyncPolicy
from syncer.db import locks
from syncer.db.engine import write_transaction
from syncer.db.lifecycle import load_matcher
from syncer.db.tables import events_table, runs_table
from syncer.errors import ProviderError, StoreError, first_line
from syncer.lifecycle import Matcher
from syncer.providers.profile import Profile
from syncer.redact import printable
from syncer.sync import store
from syncer.sync.diff import (
    Diff,
    compute_diff,
    mass_vanish_reason,
    shutdown_moves,
    status_moves,
)
from syncer.sync.parse import PARSER_VERSION, ParsedListing, parse_listing
from syncer.timeutil import iso, utcnow
from syncer.words import counted

__all__ = [
    "DEFAULT_POLICY",
    "OnSynced",
    "Provider",
    "SyncResult",
    "Syncer",
    "confirm_vanished",
]

log = logging.getLogger(__name__)

DEFAULT_POLICY = SyncPolicy()
#: Vanish checks in flight at once, on the source's one client (its connection pool).
CONFIRM_AT_ONCE = 4


#: What a sync calls in its own transaction once its run row and events are written: with the
#: connection, the source, those events (none when the list was the last one applied: shutdown
#: countdowns still move on) and the moment. The alert recording (``alerts.hook``) is one; the
#: sync itself knows nothing of alerts.
OnSynced = Callable[[Connection, str, Sequence[Mapping[str, Any]], datetime], None]


class Provider(Protocol):
    """What a sync needs from the provider (``providers.http.Client`` in production)."""

    #: How the source's lists read (``providers.profile``).
    profile: Profile

    def list_pages(self, applied: Callable[[str], bool] | None = None) -> Any: ...

    def retrieve(self, model_id: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class SyncResult:
    source: str
    status: str
    started_at: datetime
    duration: float
    models_seen: int = 0
    added: int = 0
    vanished: int = 0
    reappeared: int = 0
    changed: int = 0
    error: str | None = None
    run_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def summary(self) -> str:
        """The one line a person reads after a sync."""
        if self.status == "failed":
            return f"{self.source}: FAILED after {self.duration:.2f}s: {self.error}"
        if self.status == "held":
            return f"{self.source}: HELD, nothing changed: {self.error}"
        return (
            f"{self.source}: {counted(self.models_seen, 'model')}, {self.added} added, "
            f"{self.vanished} vanished, {self.reappeared} reappeared, {self.changed} changed "
            f"in {self.duration:.2f}s"
        )


@dataclass
class _Confirmation:
    vanished: list[str]
    kept: list[str]


@dataclass
class _Plan:
    """What a sync decided from one read of the stored state."""

    #: What the state was read after (``_Look``): if it moved, decide again.
    fingerprint: tuple[Any, ...]
    parsed: ParsedListing
    diff: Diff
    #: Why the list is held, or None.
    held: str | None
    #: How many models the state held as present.
    present: int = 0
    confirmed: _Confirmation = field(default_factory=lambda: _Confirmation([], []))


@dataclass(frozen=True)
class _Look:
    """The source's last applied list, and what its stored state was read after."""

    digest: str | None
    models_seen: int | None
    #: The source's latest run and event: every write to its models adds one or the other
    #: (a sync its run, retention an event), so an equal fingerprint means an equal state.
    fingerprint: tuple[Any, ...]


def _look_statement() -> Any:
    """``_look``'s statement, built once: with many small sources, building it per call was
    a large share of a sync's CPU."""
    run, event = runs_table.c, events_table.c
    source = bindparam("source", type_=run.source.type)
    latest_ok = (
        select(run.id)
        .where(run.source == source, run.status == "ok")
        .order_by(run.id.desc())
        .limit(1)
        .correlate(None)
        .scalar_subquery()
    )

    def latest(column: Any) -> Any:
        return select(column).where(run.id == latest_ok).correlate(None).scalar_subquery()

    def last(column: Any, where: Any) -> Any:
        return select(func.max(column)).where(where).correlate(None).scalar_subquery()

    return select(
        latest(run.list_digest),
        latest(run.models_seen),
        last(run.id, run.source == source),
        last(event.id, event.source == source),
    )


_LOOK = _look_statement()


def _look(connection: Connection, source: str) -> _Look:
    """``_Look`` in one statement, as a sync asks twice: before and under its lock."""
    digest, models_seen, last_run, last_event = connection.execute(_LOOK, {"source": source}).one()
    return _Look(digest, models_seen, (last_run, last_event))


def confirm_vanished(
    provider: Provider, missing: list[str], limit: int, source: str = ""
) -> _Confirmation:
    """Ask the provider about models missing from its list before calling them vanished.

    A 404 confirms; a model the provider still describes was listed wrongly; an error
    leaves it present until the next sync. Past ``limit`` checks the list is believed, and
    for an id the kind's retrieve endpoint cannot address (``Profile.retrievable``). The
    checks are asked a few at a time: twenty round trips one after another are seconds.
    """
    asked = [m for m in missing if provider.profile.can_retrieve(m)][:limit]
    believed = set(missing).difference(asked)
    result = _Confirmation(vanished=[m for m in missing if m in believed], kept=[])
    if not asked:
        return result

    def ask(model_id: str) -> dict[str, Any] | ProviderError | None:
        try:
            return provider.retrieve(model_id)
        except ProviderError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=min(CONFIRM_AT_ONCE, len(asked))) as pool:
        answers = list(pool.map(ask, asked))
    for model_id, found in zip(asked, answers, strict=True):
        if isinstance(found, ProviderError):
            log.warning(
                "%scannot confirm that %r vanished, kept until next sync: %s",
                f"{source}: " if source else "",
                model_id,
                found,
            )
            result.kept.append(model_id)
            continue
        if found is None:
            result.vanished.append(model_id)
        else:
            log.warning(
                "%s%r is missing from the list but the provider still has it",
                f"{source}: " if source else "",
                model_id,
            )
            result.kept.append(model_id)
    return result


def _events(
    diff: Diff, vanished: list[str], source: str, run_id: int, now: datetime, profile: Profile
) -> list[dict[str, Any]]:
    # One executemany takes its columns from the first row: every row has every key.
    base = {
        "source": source,
        "occurred_at": now,
        "sync_run_id": run_id,
        "old_values": None,
        "new_values": None,
        "details": None,
    }
    events: list[dict[str, Any]] = []
    events += [{**base, "model_id": r.model_id, "kind": "added"} for r in diff.added]
    events += [{**base, "model_id": r.model_id, "kind": "reappeared"} for r in diff.reappeared]
    events += [
        {
            **base,
            "model_id": c.record.model_id,
            "kind": "changed",
            "old_values": c.old_values,
            "new_values": c.new_values,
        }
        for c in diff.changed
    ]
    # A moved date is news of its own, beside the ``changed`` event that shows the raw field.
    events += [
        {
            **base,
            "model_id": move.model_id,
            "kind": "shutdown_changed",
            "old_values": {"shutdown_at": iso(move.old) if move.old else None},
            "new_values": {"shutdown_at": iso(move.new) if move.new else None},
            "details": {"date_source": "provider"},
        }
        for move in shutdown_moves(diff.changed, profile)
    ]
    # So is a moved lifecycle status (Cohere's ``is_deprecated``, Groq's ``active``, ...).
    events += [
        {
            **base,
            "model_id": move.model_id,
            "kind": "status_changed",
            "old_values": {"lifecycle_status": move.old},
            "new_values": {"lifecycle_status": move.new},
            "details": None,
        }
        for move in status_moves(diff.changed, profile)
    ]
    events += [{**base, "model_id": m, "kind": "vanished"} for m in vanished]
    return events


class Syncer:
    """Runs syncs of one source against one database."""

    def __init__(
        self,
        engine: Engine,
        provider: Provider,
        source: str,
        policy: SyncPolicy = DEFAULT_POLICY,
        *,
        now: Callable[[], datetime] = utcnow,
        on_synced: OnSynced | None = None,
    ) -> None:
        self.engine = engine
        self.provider = provider
        self.source = source
        self.policy = policy
        self.now = now
        self.on_synced = on_synced

    def run(self) -> SyncResult:
        """Sync once; never raises for a provider or database failure, records it.

        The caller reports the result (``syncer sync`` prints it, ``syncer run`` logs it),
        so a failure is said once.
        """
        started_at = self.now()
        clock = time.monotonic()
        try:
            with self.engine.connect() as connection:
                look = _look(connection, self.source)
            listing = self.provider.list_pages(lambda raw: self._digest(raw) == look.digest)
        except SQLAlchemyError as exc:
            return self._fail(started_at, clock, f"database error: {first_line(exc)}")
        except ProviderError as exc:
            return self._fail(started_at, clock, str(exc))
        try:
            result = self._apply(listing, self._digest(listing.digest), look, started_at, clock)
        except SQLAlchemyError as exc:
            return self._fail(started_at, clock, f"database error: {first_line(exc)}")
        except ProviderError as exc:
            return self._fail(started_at, clock, str(exc))
        return result

    def _digest(self, raw: str) -> str:
        """A listing's digest as applied: the parser and the profile that read the list are
        part of it (OpenAI's digests stay as they were before kinds, like ``raw_digest``'s)."""
        parsed_as = self.provider.profile.name
        version = PARSER_VERSION if parsed_as == "openai" else f"{PARSER_VERSION}:{parsed_as}"
        return hashlib.sha256(f"{version}:{raw}".encode()).hexdigest()

    def _apply(
        self, listing: Any, digest: str, before: _Look, started_at: datetime, clock: float
    ) -> SyncResult:
        """Apply a listing in one transaction; the list is decoded and parsed only if it is
        not the last one.

        A list whose digest is the last applied one was parsed and validated then, with the
        same parser (``PARSER_VERSION`` is in the digest), so it is not parsed again. The
        vanish checks are asked before the lock is taken (``_plan``): on SQLite the lock is
        the whole database's, and a slow provider must not hold up every other source.
        """
        plan = self._plan(listing, digest, before)
        source = self.source
        with write_transaction(self.engine) as connection:
            locks.lock_source(connection, source)
            now = self.now()
            look = _look(connection, source)
            if look.digest == digest:
                store.record_listing(connection, source, now)
                run = store.add_run(
                    connection,
                    source=source,
                    started_at=started_at,
                    finished_at=self.now(),
                    status="ok",
                    models_seen=look.models_seen,
                    added=0,
                    vanished=0,
                    reappeared=0,
                    changed=0,
                    list_digest=digest,
                )
                self._synced(connection, [], now)  # countdowns move on
                return self._result(run, clock)
            if plan is None or plan.fingerprint != look.fingerprint:
                # Another writer committed since: decide again on what it left, with the
                # answers already given (an id not asked about stays present for now).
                asked = plan.confirmed.vanished if plan is not None else []
                plan = self._decide(connection, listing.pages, look.fingerprint)
                plan.confirmed = _Confirmation(
                    vanished=[m for m in plan.diff.missing if m in set(asked)],
                    kept=[m for m in plan.diff.missing if m not in set(asked)],
                )
            for warning in plan.parsed.warnings:
                log.warning("%s: %s", source, warning)
            listed, diff, confirmed = plan.parsed.listed, plan.diff, plan.confirmed
            if plan.held is not None:
                run = store.add_run(
                    connection,
                    source=source,
                    started_at=started_at,
                    finished_at=self.now(),
                    status="held",
                    models_seen=listed,
                    error=plan.held,
                )
                return self._result(run, clock)

            writes = diff.writes
            # The imported dates, read only when a row is written: an unchanged model keeps
            # the lifecycle stored with it (an import rewrites what it moves).
            matcher = load_matcher(connection) if writes else Matcher(())
            store.upsert_models(connection, source, writes, now, matcher)
            store.mark_vanished(connection, source, diff.missing, now)
            if plan.present:
                store.relist_present(connection, source)
            store.record_listing(connection, source, now)
            # A model the provider still has (or could not say) stays present; it keeps
            # when it was last listed (``seen_until``), as this list did not have it.
            store.mark_vanished(connection, source, confirmed.kept, None)
            run = store.add_run(
                connection,
                source=source,
                started_at=started_at,
                finished_at=self.now(),
                status="ok",
                models_seen=listed,
                added=len(diff.added),
                vanished=len(confirmed.vanished),
                reappeared=len(diff.reappeared),
                changed=len(diff.changed),
                list_digest=None if confirmed.kept else digest,
            )
            events = _events(diff, confirmed.vanished, source, run.id, now, self.provider.profile)
            store.insert_events(connection, events)
            self._synced(connection, events, now)
            return self._result(run, clock)

    def _synced(
        self, connection: Connection, events: Sequence[Mapping[str, Any]], now: datetime
    ) -> None:
        """Hand the committed-to-be events to the caller's hook, in this transaction, so what
        it writes (the alerts) exists exactly when the sync commits."""
        if self.on_synced is not None:
            self.on_synced(connection, self.source, events, now)

    def _plan(self, listing: Any, digest: str, before: _Look) -> _Plan | None:
        """Decide from a read of the stored state, then ask about the vanished, unlocked.

        ``before`` was read before the list was fetched, so before the state: a commit in
        between shows as a changed fingerprint under the lock. None when the list is the
        last one applied (nothing to decide).
        """
        if before.digest == digest:
            return None
        with self.engine.connect() as connection, connection.begin():
            plan = self._decide(connection, listing.pages, before.fingerprint)
        if plan.held is None:
            plan.confirmed = confirm_vanished(
                self.provider, plan.diff.missing, self.policy.confirm_vanish_limit, self.source
            )
        return plan

    def _decide(
        self, connection: Connection, pages: list[Any], fingerprint: tuple[Any, ...]
    ) -> _Plan:
        # No run and no event of the source: nothing of it was ever stored (a first sync).
        first = fingerprint == (None, None)
        state = store.StoredState((), ()) if first else store.load_state(connection, self.source)
        known = state.present_digests()
        parsed = parse_listing(pages, known, self.provider.profile)
        store.load_documents(connection, self.source, state, state.differing(parsed.records))
        diff = compute_diff(
            state, parsed.records, parsed.unchanged, self.provider.profile.regenerated
        )
        reason = mass_vanish_reason(
            len(known), parsed.listed, len(diff.missing), self.policy.mass_vanish_share
        )
        if reason and not self.policy.accept_mass_change:
            reason += "; if this is real, run `syncer sync --accept-mass-change`"
        else:
            reason = None
        return _Plan(fingerprint, parsed, diff, reason, len(known))

    def _result(self, run: Row[Any], clock: float) -> SyncResult:
        return SyncResult(
            source=run.source,
            status=run.status,
            started_at=run.started_at,
            duration=time.monotonic() - clock,
            models_seen=run.models_seen or 0,
            added=run.added or 0,
            vanished=run.vanished or 0,
            reappeared=run.reappeared or 0,
            changed=run.changed or 0,
            error=run.error,
            run_id=run.id,
        )

    def _fail(self, started_at: datetime, clock: float, error: str) -> SyncResult:
        error = printable(error)  # it may quote the provider, and is shown on terminals later
        try:
            with write_transaction(self.engine) as connection:
                run = store.add_run(
                    connection,
                    source=self.source,
                    started_at=started_at,
                    finished_at=self.now(),
                    status="failed",
                    error=error,
                )
                result = self._result(run, clock)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"{self.source}: sync failed ({error}) and the failure could not be recorded: "
                f"{first_line(exc)}"
            ) from None
        return result
