"""The read side: the rows that the listing commands print.

Each function returns plain dicts keyed by column name, in the order they are shown,
so the CLI can print them as a table, JSON or CSV without knowing the schema. They read
through SQLAlchemy Core (a connection or a session will do): a read command that imported
the ORM would start twice as slowly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Select, func, or_, select

from syncer.db.tables import events_table, leases_table, outbox_table, runs_table
from syncer.db.views import models_view
from syncer.redact import shown_url

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from syncer.config.model import Source

__all__ = [
    "ALERT_COLUMNS",
    "EVENT_COLUMNS",
    "MODEL_COLUMNS",
    "NEVER_SYNCED",
    "RUN_COLUMNS",
    "SHUTDOWN_COLUMNS",
    "Page",
    "alerts",
    "events",
    "matches",
    "model",
    "models",
    "runs",
    "shutdowns",
    "sources",
]

MODEL_COLUMNS = (
    "source",
    "model_id",
    "owned_by",
    "created_at",
    "is_fine_tuned",
    "shutdown_at",
    "first_seen_at",
    "last_seen_at",
    "vanished_at",
    "display_name",
    "context_length",
    "replacement",
    "origin",
    "status",
)
#: ``models``' columns that are the stored lifecycle in force (``syncer.lifecycle``), by the
#: view's column they are read from: the date, replacement and status every output shows.
IN_FORCE = {
    "shutdown_at": "effective_shutdown_at",
    "replacement": "effective_replacement",
    "origin": "date_origin",
    "status": "lifecycle_status",
}
#: ``sources``' last_status of a source with no sync yet.
NEVER_SYNCED = "never synced"
SOURCE_COLUMNS = (
    "name",
    "kind",
    "base_url",
    "api_key_env",
    "key_set",
    "last_sync_at",
    "last_status",
    "models",
    "lease_holder",
    "lease_until",
)
EVENT_COLUMNS = (
    "occurred_at",
    "source",
    "model_id",
    "kind",
    "old_values",
    "new_values",
    "sync_run_id",
    "details",
)
RUN_COLUMNS = (
    "id",
    "source",
    "started_at",
    "finished_at",
    "status",
    "models_seen",
    "added",
    "vanished",
    "reappeared",
    "changed",
    "error",
)


_m, _e, _r, _a = models_view.c, events_table.c, runs_table.c, outbox_table.c


@dataclass(frozen=True)
class Page:
    """A listing's rows, cut at its limit, and how many rows there were without it."""

    rows: list[dict[str, Any]]
    total: int


def _rows(db: Connection | Session, query: Select[Any]) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in db.execute(query)]


def _page(db: Connection | Session, query: Select[Any], limit: int | None) -> Page:
    """The first ``limit`` rows of ``query``; counting the rest costs a statement only when
    the limit cut some off."""
    rows = _rows(db, query.limit(limit))
    if limit is None or len(rows) < limit:
        return Page(rows, len(rows))
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    return Page(rows, int(db.execute(counted).scalar_one()))


def matches(model_id: str, patterns: Sequence[str]) -> bool:
    """Whether an id is one of ``patterns``, ids or shell-style globs (``gpt-4o*``), matched
    case-sensitively as the providers spell their ids."""
    return any(fnmatchcase(model_id, pattern) for pattern in patterns)


def _like(pattern: str) -> str:
    """A LIKE pattern that matches at least what the glob ``pattern`` does: the database
    narrows the rows, ``matches`` decides. From a ``[`` on (a class, or a literal ``[``)
    anything goes."""
    head, bracket, _ = pattern.partition("[")
    escaped = {"%": "\\%", "_": "\\_", "\\": "\\\\", "*": "%", "?": "_"}
    return "".join(escaped.get(char, char) for char in head) + ("%" if bracket else "")


def _model_columns(names: Sequence[str]) -> list[Any]:
    return [_m[IN_FORCE[c]].label(c) if c in IN_FORCE else _m[c] for c in names]


def models(
    db: Connection | Session,
    *,
    source: str | Sequence[str] | None = None,
    include_vanished: bool = False,
    model: Sequence[str] = (),
    limit: int | None = None,
) -> Page:
    """The inventory of every source, one, or any of several, with the lifecycle in force;
    with ``model`` (ids or globs), only the models they match, each one's sources together."""
    query = select(*_model_columns(MODEL_COLUMNS))
    if isinstance(source, str):
        query = query.where(_m.source == source)
    elif source is not None:
        query = query.where(_m.source.in_(source))
    if not include_vanished:
        query = query.where(_m.vanished_at.is_(None))
    if not model:
        return _page(db, query.order_by(_m.source, _m.model_id), limit)
    query = query.where(or_(*(_m.model_id.like(_like(p), escape="\\") for p in model)))
    rows = [
        row
        for row in _rows(db, query.order_by(_m.model_id, _m.source))
        if matches(row["model_id"], model)
    ]
    return Page(rows[:limit], len(rows))


def model(
    db: Connection | Session, model_id: str, source: str | None = None
) -> list[dict[str, Any]]:
    """One model's stored row(s), with the raw JSON: one per source that listed it; beside
    the lifecycle in force, the date and replacement the provider itself lists."""
    columns = (
        *MODEL_COLUMNS,
        "date_source",
        "date_source_url",
        "deleted_at",
        "object",
        "created",
        "raw",
    )
    query = (
        select(
            *_model_columns(columns),
            _m.shutdown_at.label("listed_shutdown_at"),
            _m.replacement.label("listed_replacement"),
        )
        .where(_m.model_id == model_id)
        .order_by(_m.source)
    )
    if source is not None:
        query = query.where(_m.source == source)
    return _rows(db, query)


def events(
    db: Connection | Session,
    *,
    since: datetime | None = None,
    kind: str | None = None,
    model_id: str | None = None,
    source: str | None = None,
    limit: int | None = None,
) -> Page:
    query = select(*(_e[c] for c in EVENT_COLUMNS)).order_by(_e.occurred_at.desc(), _e.id.desc())
    if since is not None:
        query = query.where(_e.occurred_at >= since)
    if kind is not None:
        query = query.where(_e.kind == kind)
    if model_id is not None:
        query = query.where(_e.model_id == model_id)
    if source is not None:
        query = query.where(_e.source == source)
    return _page(db, query, limit)


def runs(
    db: Connection | Session,
    *,
    source: str | None = None,
    status: str | None = None,
    limit: int | None = 20,
) -> Page:
    query = select(*(_r[c] for c in RUN_COLUMNS)).order_by(_r.id.desc())
    if source is not None:
        query = query.where(_r.source == source)
    if status is not None:
        query = query.where(_r.status == status)
    return _page(db, query, limit)


ALERT_COLUMNS = (
    "alert_id",
    "created_at",
    "rule",
    "kind",
    "channel",
    "status",
    "attempts",
    "next_attempt_at",
    "delivered_at",
    "last_error",
    "summary",
)
SHUTDOWN_COLUMNS = (
    "source",
    "model_id",
    "shutdown_at",
    "days_left",
    "replacement",
    "date_source",
    "origin",
    "source_url",
    "status",
)


def alerts(
    db: Connection | Session,
    *,
    status: str | None = None,
    rule: str | None = None,
    limit: int | None = 50,
) -> Page:
    """The outbox, newest first, with each alert's one-line summary."""
    query = select(*(_a[c] for c in ALERT_COLUMNS[:-1]), _a.payload).order_by(_a.id.desc())
    if status is not None:
        query = query.where(_a.status == status)
    if rule is not None:
        query = query.where(_a.rule == rule)
    page = _page(db, query, limit)
    rows = [
        {**{c: row[c] for c in ALERT_COLUMNS[:-1]}, "summary": row["payload"].get("summary")}
        for row in page.rows
    ]
    return Page(rows, page.total)


def shutdowns(
    db: Connection | Session, now: datetime, source: str | None = None
) -> list[dict[str, Any]]:
    """Present models with a shutdown date in force, soonest first, with days left, then
    those whose status says they are going (``lifecycle.ENDING``) with no date known: the
    stored lifecycle, as every output reads it."""
    from syncer.alerts.decide import days_left
    from syncer.lifecycle import ENDING

    query = (
        select(
            _m.source,
            _m.model_id,
            _m.effective_shutdown_at,
            _m.effective_replacement,
            _m.date_source,
            _m.date_origin,
            _m.date_source_url,
            _m.lifecycle_status,
        )
        .where(
            _m.vanished_at.is_(None),
            or_(_m.effective_shutdown_at.is_not(None), _m.lifecycle_status.in_(sorted(ENDING))),
        )
        .order_by(
            _m.effective_shutdown_at.is_(None), _m.effective_shutdown_at, _m.source, _m.model_id
        )
    )
    if source is not None:
        query = query.where(_m.source == source)
    return [
        {
            "source": name,
            "model_id": model_id,
            "shutdown_at": shutdown_at,
            "days_left": None if shutdown_at is None else days_left(shutdown_at, now),
            "replacement": replacement,
            "date_source": date_source,
            "origin": origin,
            "source_url": source_url,
            "status": status,
        }
        for (
            name,
            model_id,
            shutdown_at,
            replacement,
            date_source,
            origin,
            source_url,
            status,
        ) in db.execute(query)
    ]


def sources(
    db: Connection | Session | None, configured: Sequence[Source], now: datetime
) -> list[dict[str, Any]]:
    """Each configured source with its latest sync (``never synced`` without one), present
    models and the replica that holds its sync lease now (none once the lease has expired):
    three statements, none without a database (``db`` None: nothing synced yet).

    Never the key: only the name of the variable it is read from, and whether it is set.
    """
    last: dict[str, tuple[datetime | None, str]] = {}
    counts: dict[str, int] = {}
    held: dict[str, tuple[str | None, datetime | None]] = {}
    if db is not None:
        latest = select(_r.source, _r.finished_at, _r.status).where(
            _r.id.in_(select(func.max(_r.id)).group_by(_r.source))
        )
        last = {name: (finished, status) for name, finished, status in db.execute(latest)}
        counts = {
            name: count
            for name, count in db.execute(
                select(_m.source, func.count()).where(_m.vanished_at.is_(None)).group_by(_m.source)
            )
        }
        lease = leases_table.c
        held = {
            name.removeprefix("sync:"): (holder, until)
            for name, holder, until in db.execute(
                select(lease.name, lease.holder, lease.expires_at).where(
                    lease.name.startswith("sync:"), lease.expires_at > now
                )
            )
        }
    return [
        {
            "name": s.name,
            "kind": f"{s.kind} ({s.api})" if s.api else s.kind,
            "base_url": shown_url(s.base_url),  # without its password or query (a key)
            "api_key_env": s.api_key_env,
            "key_set": s.api_key is not None,
            "last_sync_at": last.get(s.name, (None, NEVER_SYNCED))[0],
            "last_status": last.get(s.name, (None, NEVER_SYNCED))[1],
            "models": counts.get(s.name, 0),
            "lease_holder": held.get(s.name, (None, None))[0],
            "lease_until": held.get(s.name, (None, None))[1],
        }
        for s in configured
    ]
