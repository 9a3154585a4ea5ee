"""The read side of history: the inventory at a moment, between two moments, one model's life.

Each function runs a fixed handful of statements whatever the number of models and
hands the rows to the pure reconstruction in ``history.py``. Read inside
``snapshot_session`` so that all of them see the same committed state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, Select, func, select
from sqlalchemy.orm import Session

from syncer.db.schema import Model, ModelEvent, SyncRun
from syncer.db.views import model_availability
from syncer.providers.openai import PROFILE as OPENAI
from syncer.providers.profile import Profile
from syncer.reporting import history
from syncer.reporting.history import Current, Interval, Snapshot

_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])

__all__ = [
    "EVENT_HISTORY_COLUMNS",
    "INTERVAL_COLUMNS",
    "diff",
    "history_start",
    "intervals_since",
    "model_events",
    "model_intervals",
    "models_as_of",
    "snapshot_session",
    "snapshots",
]

EVENT_HISTORY_COLUMNS = (
    "source",
    "model_id",
    "occurred_at",
    "kind",
    "interval_number",
    "available_from",
    "available_until",
    "old_values",
    "new_values",
    "changed_by",
    "details",
    "sync_run_id",
)
INTERVAL_COLUMNS = (
    "source",
    "model_id",
    "interval_number",
    "available_from",
    "available_until",
    "days_available",
    "started_by",
    "ended_by",
)
EVENT_FIELDS = (
    "source",
    "model_id",
    "occurred_at",
    "kind",
    "old_values",
    "new_values",
    "details",
    "sync_run_id",
)
END_KINDS = ("vanished", "deleted", "source_retired")


def snapshot_session(engine: Engine) -> Session:
    """A read session whose statements all see one snapshot of the database.

    SQLite's read transaction already does; PostgreSQL's default (read committed) gives
    each statement a fresh view, which could mix a sync's commit into half the reads.
    """
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    return Session(engine, expire_on_commit=False)


Sources = str | Sequence[str] | None


def _for_source(query: _Query, column: Any, source: Sources) -> _Query:
    """Every source (None), one, or any of several."""
    if source is None:
        return query
    if isinstance(source, str):
        return query.where(column == source)
    return query.where(column.in_(source))


def _intervals(rows: Iterable[Any]) -> list[Interval]:
    return [
        Interval(
            source=row.source,
            model_id=row.model_id,
            number=row.interval_number,
            available_from=row.available_from,
            available_until=row.available_until,
            started_by=row.started_by,
            ended_by=row.ended_by,
        )
        for row in rows
    ]


def intervals_since(
    session: Session, since: datetime | None = None, source: Sources = None
) -> list[Interval]:
    """Every availability interval that had not ended by ``since`` (None: all of them)."""
    view = model_availability.c
    query = _for_source(select(model_availability), view.source, source)
    if since is not None:
        query = query.where(view.available_until.is_(None) | (view.available_until >= since))
    return _intervals(session.execute(query))


def snapshots(session: Session, moment: datetime, source: Sources = None) -> list[Snapshot]:
    """Every model the syncer had met by ``moment``, present or not: five statements."""
    currents = [
        Current(*row)
        for row in session.execute(
            _for_source(
                select(Model.source, Model.model_id, Model.raw, Model.last_seen_at),
                Model.source,
                source,
            ).order_by(Model.source, Model.model_id)
        )
    ]
    view = model_availability.c
    intervals = _intervals(
        session.execute(
            _for_source(select(model_availability), view.source, source).where(
                view.available_from <= moment
            )
        )
    )
    later = session.execute(
        _for_source(
            select(ModelEvent.source, ModelEvent.model_id, ModelEvent.old_values),
            ModelEvent.source,
            source,
        )
        .where(ModelEvent.kind == "changed", ModelEvent.occurred_at > moment)
        .order_by(ModelEvent.occurred_at.desc(), ModelEvent.id.desc())
    )
    later_changes = [(s, m, old or {}) for s, m, old in later]
    last_ok = session.execute(
        _for_source(select(SyncRun.source, func.max(SyncRun.finished_at)), SyncRun.source, source)
        .where(SyncRun.status == "ok", SyncRun.finished_at <= moment)
        .group_by(SyncRun.source)
    )
    last_sync = {name: finished for name, finished in last_ok}
    return history.inventory(
        currents,
        intervals,
        later_changes,
        moment,
        last_sync=last_sync,
        seen_before_end=_seen_before_end(session, moment, source),
    )


def _seen_before_end(
    session: Session, moment: datetime, source: Sources
) -> dict[tuple[str, datetime], datetime]:
    """When each source last synced successfully before a presence ended.

    Needed only for models absent at ``moment`` whose ``last_seen_at`` moved on since
    (they came back later), so only their end moments are asked about.
    """
    previous_ok = (
        select(func.max(SyncRun.finished_at))
        .where(
            SyncRun.source == ModelEvent.source,
            SyncRun.status == "ok",
            SyncRun.finished_at < ModelEvent.occurred_at,
        )
        .scalar_subquery()
    )
    query = (
        select(ModelEvent.source, ModelEvent.occurred_at, previous_ok)
        .join(
            Model,
            (Model.source == ModelEvent.source) & (Model.model_id == ModelEvent.model_id),
        )
        .where(
            ModelEvent.kind.in_(END_KINDS),
            ModelEvent.occurred_at <= moment,
            Model.last_seen_at > moment,
        )
        .distinct()
    )
    rows = session.execute(_for_source(query, ModelEvent.source, source))
    return {(s, ended): seen for s, ended, seen in rows if seen is not None}


def models_as_of(
    session: Session,
    moment: datetime,
    *,
    source: Sources = None,
    include_vanished: bool = False,
    profiles: Mapping[str, Profile] | None = None,
) -> list[dict[str, Any]]:
    """What ``syncer models`` printed at ``moment``: the columns of ``queries.MODEL_COLUMNS``.

    ``profiles`` gives each source's kind (OpenAI's for a source it does not name), which
    says how the stored JSON is read.
    """
    profiles = profiles or {}
    return [
        snap.row(profiles.get(snap.source, OPENAI))
        for snap in snapshots(session, moment, source)
        if include_vanished or snap.present
    ]


def history_start(session: Session, source: Sources = None) -> datetime | None:
    """When the first sync recorded its inventory: nothing is known before it."""
    query = _for_source(select(func.min(ModelEvent.occurred_at)), ModelEvent.source, source)
    return session.scalar(query)


def diff(
    session: Session, start: datetime, end: datetime, *, source: str | None = None
) -> list[dict[str, Any]]:
    """What was added, reappeared, vanished, deleted or changed from ``start`` to ``end``."""
    return history.net_changes(snapshots(session, start, source), snapshots(session, end, source))


def model_intervals(
    session: Session, model_id: str, source: str | None = None
) -> list[dict[str, Any]]:
    """Every availability interval of one model, per source, oldest first."""
    view = model_availability.c
    query = _for_source(
        select(*(view[c] for c in INTERVAL_COLUMNS)).where(view.model_id == model_id),
        view.source,
        source,
    ).order_by(view.source, view.interval_number)
    return [dict(row._mapping) for row in session.execute(query)]


def model_events(
    session: Session, model_id: str, source: str | None = None
) -> list[dict[str, Any]]:
    """Every event of one model, oldest first, each with the interval it belongs to."""
    view = model_availability.c
    intervals = _intervals(
        session.execute(
            _for_source(
                select(model_availability).where(view.model_id == model_id), view.source, source
            )
        )
    )
    fields = (getattr(ModelEvent, c) for c in EVENT_FIELDS)
    query = _for_source(
        select(*fields).where(ModelEvent.model_id == model_id),
        ModelEvent.source,
        source,
    ).order_by(ModelEvent.source, ModelEvent.occurred_at, ModelEvent.id)
    events = [dict(row._mapping) for row in session.execute(query)]
    return history.place_events(events, intervals)
