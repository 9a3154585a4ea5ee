"""One import of a file of dates: fetch, parse, apply with its record in one transaction.

Whatever goes wrong before the transaction commits (the server is down or answers an
error, the body is too large or late, the file is not what its format says) leaves the
dates of the last good import as they are and records a ``failed`` attempt with a one-line
error, secrets masked. ``syncer run`` and ``deprecations import --url`` both come here, so
both are recorded alike; each holds the import's lease (``import:ORIGIN``), so two replicas
never import the same file at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine

from syncer.alerts.deprecations import import_deprecations, parse_document
from syncer.alerts.outbox import record_countdowns
from syncer.config.model import ImportSpec, Settings
from syncer.db import locks
from syncer.db.engine import write_session, write_transaction
from syncer.errors import ConfigError, ProviderError, first_line
from syncer.imports import store
from syncer.imports.fetch import fetch
from syncer.imports.plan import (
    FAILED,
    OK,
    UNCHANGED,
    Applied,
    Outcome,
    conditional_headers,
    config_digest,
    digest,
    is_unchanged,
    lease_name,
)
from syncer.redact import printable, scrub
from syncer.timeutil import human_time, utcnow

__all__ = ["BusyError", "run_import", "run_leased"]

log = logging.getLogger(__name__)


class BusyError(ProviderError):
    """Another replica holds the import's lease: it is importing the same file now."""


def run_import(
    engine: Engine,
    spec: ImportSpec,
    settings: Settings,
    *,
    replace: bool = False,
    now: Callable[[], datetime] = utcnow,
) -> Outcome:
    """Import ``spec`` once and record the attempt; ``replace`` also drops every entry of
    every other origin, and fetches without validators (the dates must all be written)."""
    started = now()
    providers = {s.name: s.profile.litellm_providers for s in settings.sources}
    config = config_digest(spec.format, providers)
    with engine.connect() as connection:
        last = store.applied(connection, spec.origin)
    headers = {} if replace else conditional_headers(last, config)
    try:
        document = fetch(spec, settings.http, headers, settings.secrets)
        if document.body is None:
            return _unchanged(engine, spec, started, now(), last, "304 Not Modified")
        body = digest(document.body)
        if not replace and is_unchanged(last, body, config):
            return _unchanged(engine, spec, started, now(), last, "the same content")
        try:
            text = document.body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ConfigError(f"{spec.origin}: not UTF-8 text") from None
        parsed = parse_document(text, spec.origin, spec.format, providers)
    except (ProviderError, ConfigError) as exc:
        error = scrub(printable(first_line(exc)), settings.secrets)
        outcome = Outcome(spec.origin, FAILED, started, now(), error=error)
        with write_transaction(engine) as connection:
            store.record(connection, outcome)
        return outcome
    names = [s.name for s in settings.sources]
    with write_session(engine) as session, session.begin():
        locks.lock_sources(session, names)
        applied_at = now()
        result = import_deprecations(
            session,
            parsed.entries,
            applied_at,
            replace=replace,
            origin=spec.origin,
            replace_origin=True,
        )
        countdowns = record_countdowns(session, settings.alerts, names, applied_at)
        outcome = Outcome(
            spec.origin,
            OK,
            started,
            applied_at,
            entries=result.entries,
            changed=len(result.events),
            skipped=parsed.skipped,
            countdowns=countdowns,
            etag=document.etag,
            last_modified=document.last_modified,
            body_digest=body,
            config_digest=config,
        )
        store.record(session, outcome)
    return outcome


def _unchanged(
    engine: Engine,
    spec: ImportSpec,
    started: datetime,
    finished: datetime,
    last: Applied | None,
    reason: str,
) -> Outcome:
    outcome = Outcome(
        spec.origin,
        UNCHANGED,
        started,
        finished,
        reason=reason,
        since=last.at if last else None,
        etag=last.etag if last else None,
        last_modified=last.last_modified if last else None,
        body_digest=last.body_digest if last else None,
        config_digest=last.config_digest if last else None,
    )
    with write_transaction(engine) as connection:
        store.record(connection, outcome)
    return outcome


def run_leased(
    engine: Engine,
    spec: ImportSpec,
    settings: Settings,
    *,
    replace: bool = False,
    wait: timedelta = timedelta(0),
) -> Outcome:
    """``run_import`` under the import's lease, waiting up to ``wait`` for a replica that
    holds it; ``BusyError`` when it still does."""
    period = settings.schedule.lease
    with locks.lease(engine, lease_name(spec.origin), period, wait=wait) as claim:
        if claim.mine:
            return run_import(engine, spec, settings, replace=replace)
    raise BusyError(
        f"replica {claim.holder} is importing {spec.origin} now (lease until "
        f"{human_time(claim.expires_at)}); try again later"
    )
