"""Prometheus metrics and the body of ``/healthz``, which ``server`` serves.

Every value is read from the database at scrape time, not counted in the process: the
numbers survive restarts, agree between replicas, and include syncs run by ``syncer sync``
from cron. A scrape costs a constant number of queries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from syncer.alerts.decide import is_stale, stale_after
from syncer.alerts.stale import source_health
from syncer.config.model import Settings
from syncer.db.engine import read_session
from syncer.db.locks import lease_rows
from syncer.db.schema import AlertPruned, Model, ModelEvent, OutboxAlert, SyncRun
from syncer.imports.store import latest as latest_imports
from syncer.reporting.queries import shutdowns
from syncer.scan.matcher import normalise
from syncer.scan.usages import usage_counts
from syncer.timeutil import iso, utcnow

__all__ = [
    "Reading",
    "SourceState",
    "SyncerCollector",
    "family",
    "health",
    "read_metrics",
    "soonest",
]

log = logging.getLogger(__name__)


@dataclass
class SourceState:
    last_success_at: datetime | None
    stale_after_seconds: float
    stale: bool


@dataclass
class Reading:
    """Everything a scrape reports, read in one go."""

    present: dict[str, int] = field(default_factory=dict)
    runs: dict[tuple[str, str], int] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    #: 1 for a source whose latest sync run failed.
    failing: dict[str, int] = field(default_factory=dict)
    events: dict[tuple[str, str], int] = field(default_factory=dict)
    alerts: dict[tuple[str, str], int] = field(default_factory=dict)
    shutdowns: dict[tuple[str, str], float] = field(default_factory=dict)
    #: The same models' stored shutdown dates (``effective_shutdown_at``), as Unix times.
    shutdown_at: dict[tuple[str, str], float] = field(default_factory=dict)
    #: Recorded uses per model, keyed by ``matcher.normalise`` of its id (``syncer scan --record``).
    uses: dict[str, int] = field(default_factory=dict)
    #: Present models per source whose status says they are going, with no date known.
    undated: dict[str, int] = field(default_factory=dict)
    sources: dict[str, SourceState] = field(default_factory=dict)
    #: (lease, replica): 1 while held, 0 once free (the replica that held it last).
    leases: dict[tuple[str, str], int] = field(default_factory=dict)


def _counts(session: Any, *columns: Any, where: Any = None) -> dict[Any, int]:
    query = select(*columns, func.count()).group_by(*columns)
    rows = session.execute(query if where is None else query.where(where))
    return {tuple(row[:-1]) if len(columns) > 1 else row[0]: row[-1] for row in rows}


def _alert_counts(session: Any) -> dict[tuple[str, str], int]:
    """Alerts by rule and status; delivered ones include those pruned from the outbox."""
    counts = _counts(session, OutboxAlert.rule, OutboxAlert.status)
    for rule, delivered in session.execute(select(AlertPruned.rule, AlertPruned.delivered)):
        counts[rule, "delivered"] = counts.get((rule, "delivered"), 0) + delivered
    return counts


def _states(session: Any, settings: Settings, now: datetime) -> dict[str, SourceState]:
    states = {}
    for health in source_health(session, settings, now):
        limit = stale_after(settings.alerts, health.source, health.interval)
        states[health.source] = SourceState(
            health.last_success_at, limit.total_seconds(), is_stale(health, limit, now)
        )
    return states


def _undated(present: Mapping[str, int], listed: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """``syncer deprecations``' rows without a date, counted per source: one series per
    source (zero included, so an alert can compare), never one per model."""
    counts = dict.fromkeys(present, 0)
    for row in listed:
        if row["shutdown_at"] is None:
            counts[row["source"]] = counts.get(row["source"], 0) + 1
    return counts


def read_metrics(engine: Engine, settings: Settings, now: datetime) -> Reading:
    latest = select(func.max(SyncRun.id)).group_by(SyncRun.source).scalar_subquery()
    with read_session(engine) as session:
        last_runs = session.execute(
            select(SyncRun.source, SyncRun.started_at, SyncRun.finished_at, SyncRun.status).where(
                SyncRun.id.in_(latest)
            )
        ).all()
        present = _counts(session, Model.source, where=Model.vanished_at.is_(None))
        listed = shutdowns(session, now)
        dated = {
            (row["source"], row["model_id"]): row["shutdown_at"]
            for row in listed
            if row["shutdown_at"] is not None
        }
        return Reading(
            present=present,
            runs=_counts(session, SyncRun.source, SyncRun.status),
            durations={s: (end - start).total_seconds() for s, start, end, _ in last_runs},
            failing={s: int(status == "failed") for s, _, _, status in last_runs},
            events=_counts(session, ModelEvent.source, ModelEvent.kind),
            alerts=_alert_counts(session),
            shutdowns={key: (at - now) / timedelta(days=1) for key, at in dated.items()},
            shutdown_at={key: at.timestamp() for key, at in dated.items()},
            uses=usage_counts(session),
            undated=_undated(present, listed),
            sources=_states(session, settings, now),
            leases={
                (row.name, row.holder): int(row.expires_at > now) for row in lease_rows(session)
            },
        )


class SyncerCollector(Collector):
    """The syncer's metrics, from the database at each scrape."""

    def __init__(
        self, engine: Engine, settings: Settings, now: Callable[[], datetime] = utcnow
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.now = now

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("syncer_database_up", "1 if the last scrape could read the database")
        try:
            snap = read_metrics(self.engine, self.settings, self.now())
        except SQLAlchemyError as exc:
            log.error("metrics: cannot read the database: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield family(
            GaugeMetricFamily,
            "syncer_models_present",
            "Models currently listed, per source",
            ["source"],
            snap.present,
        )
        yield family(
            CounterMetricFamily,
            "syncer_sync_runs",
            "Sync runs recorded, by source and status",
            ["source", "status"],
            snap.runs,
        )
        yield family(
            GaugeMetricFamily,
            "syncer_sync_duration_seconds",
            "Duration of each source's latest sync run",
            ["source"],
            snap.durations,
        )
        yield family(
            GaugeMetricFamily,
            "syncer_source_failing",
            "1 if the source's latest sync run failed",
            ["source"],
            snap.failing,
        )
        yield family(
            CounterMetricFamily,
            "syncer_model_events",
            "Model events recorded, by source and kind",
            ["source", "kind"],
            snap.events,
        )
        yield family(
            GaugeMetricFamily,
            "syncer_last_success_timestamp_seconds",
            "Unix time of each source's latest successful sync",
            ["source"],
            {
                s: v.last_success_at.timestamp()
                for s, v in snap.sources.items()
                if v.last_success_at
            },
        )
        yield family(
            GaugeMetricFamily,
            "syncer_source_stale",
            "1 if the source has had no successful sync for longer than allowed",
            ["source"],
            {s: int(v.stale) for s, v in snap.sources.items()},
        )
        yield family(
            GaugeMetricFamily,
            "syncer_alerts",
            "Alerts in the outbox, by rule and status",
            ["rule", "status"],
            snap.alerts,
        )
        shown, left_out = soonest(snap.shutdowns, self.settings.server.max_model_series)
        yield family(
            GaugeMetricFamily,
            "syncer_model_shutdown_days_left",
            "Days until a present model's known shutdown date (negative: passed); "
            "the soonest [http] max_model_series of them",
            ["source", "model_id"],
            shown,
        )
        yield family(
            GaugeMetricFamily,
            "syncer_model_shutdown_timestamp_seconds",
            "Unix time of a present model's shutdown date in force; the same models "
            "as syncer_model_shutdown_days_left",
            ["source", "model"],
            {key: snap.shutdown_at[key] for key in shown},
        )
        yield family(
            GaugeMetricFamily,
            "syncer_model_uses",
            "Places syncer scan --record found using the model, for the models "
            "with a shutdown series that are used anywhere",
            ["source", "model"],
            {key: snap.uses[used] for key in shown if snap.uses.get(used := normalise(key[1]))},
        )
        left = GaugeMetricFamily(
            "syncer_model_series_left_out",
            "Models with a shutdown date not shown by syncer_model_shutdown_days_left "
            "([http] max_model_series)",
        )
        left.add_metric([], left_out)
        yield left
        yield family(
            GaugeMetricFamily,
            "syncer_models_deprecated_without_date",
            "Present models whose lifecycle status says they are going (deprecated, "
            "inactive, ...) with no shutdown date known, per source",
            ["source"],
            snap.undated,
        )
        yield family(
            GaugeMetricFamily,
            "syncer_lease_held",
            "1 while the replica holds the lease (sync:SOURCE, retention:SOURCE, "
            "alerts-dispatch, alerts-stale); 0 for its last holder once it is free",
            ["lease", "replica"],
            snap.leases,
        )


def soonest(
    days_left: Mapping[tuple[str, str], float], limit: int
) -> tuple[dict[tuple[str, str], float], int]:
    """The ``limit`` models closest to (or furthest past) their shutdown, and how many were
    left out: a series per model would let a provider listing 20,000 dated models put
    20,000 series on every scrape."""
    ranked = sorted(days_left.items(), key=lambda item: (item[1], item[0]))
    return dict(ranked[:limit]), max(0, len(ranked) - limit)


def family(kind: type, name: str, doc: str, labels: list[str], values: Mapping[Any, float]) -> Any:
    """A metric family of ``kind`` with one sample per labelled value, in label order."""
    metric = kind(name, doc, labels=labels)
    for key, value in sorted(values.items()):
        metric.add_metric(list(key) if isinstance(key, tuple) else [key], value)
    return metric


def health(engine: Engine, settings: Settings, now: datetime) -> tuple[int, dict[str, Any]]:
    """``/healthz``: 200 when every source synced recently enough, 503 when one is stale.

    Each ``[[imports]]`` file's latest attempt is in the detail, but a failed one does not
    make the answer 503: the last good import's dates are still in force, and a probe that
    takes this replica out of service (or restarts it) cannot fix a file upstream.
    """
    try:
        with read_session(engine) as session:
            states = _states(session, settings, now)
            imports = latest_imports(session, [spec.origin for spec in settings.imports])
    except SQLAlchemyError as exc:
        return 503, {"status": "error", "error": f"database: {type(exc).__name__}"}
    body = {
        "status": "stale" if any(s.stale for s in states.values()) else "ok",
        "sources": {
            name: {
                "last_success_at": iso(s.last_success_at) if s.last_success_at else None,
                "stale_after_seconds": s.stale_after_seconds,
                "stale": s.stale,
            }
            for name, s in states.items()
        },
        "imports": {origin: _import_health(run) for origin, run in imports.items()},
    }
    return (503 if body["status"] == "stale" else 200), body


def _import_health(run: Any) -> dict[str, Any]:
    """An import's latest attempt as ``/healthz`` shows it (its error is already one line,
    secrets masked, as stored)."""
    if run is None:
        return {"status": None, "attempted_at": None, "last_ok_at": None, "error": None}
    return {
        "status": run.status,
        "attempted_at": iso(run.finished_at),
        "last_ok_at": iso(run.last_ok_at) if run.last_ok_at else None,
        "error": run.error,
    }
