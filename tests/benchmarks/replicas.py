"""Replicas: ``syncer run`` started R times on one PostgreSQL database, with the same sources.

Each replica is a process of its own, stopped by SIGTERM ``minutes`` after the first sync
run. Read back: every source's ok runs against the schedule's ticks (any replica's run
counts), and how fast the sources of a tick were synced. A tick's work is its runs, from
the first start to the last finish; syncs per second are the ok runs over the sum of those
spans (not over the interval, in which a fast replica idles). Each replica's share comes
from its own log (``sync NAME: 100 models, ...``): the runs table does not say which
replica wrote a run.
"""

from __future__ import annotations

import re
import sys
import threading
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.benchmarks.children import BenchError, Measured, Provider, measure, scratch_database, utc
from tests.benchmarks.provider import source_name
from tests.benchmarks.scorecard import schedule_misses
from tests.benchmarks.sources import (
    STARTUP_LIMIT,
    STOP_LIMIT,
    Stopper,
    config_text,
    environment,
)
from tests.benchmarks.whole_process import checked

__all__ = ["busy_seconds", "ok_syncs_logged", "run_replicas"]

#: The line ``syncer run`` logs for a successful sync (a held or failed one says so instead).
_OK_SYNC = re.compile(r" syncer: sync \S+: [\d,]+ models?, ")


def ok_syncs_logged(stderr: str) -> int:
    """How many successful syncs a replica's log reports."""
    return sum(1 for line in stderr.splitlines() if _OK_SYNC.search(line))


def busy_seconds(runs: list[tuple[datetime, datetime]], first: datetime, every: timedelta) -> float:
    """The seconds the replicas spent syncing: per tick (runs grouped by the interval they
    started in, from ``first``), from its first start to its last finish."""
    ticks: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for started, finished in runs:
        ticks[int((started - first) / every)].append((started, finished))
    return sum(
        (max(f for _, f in tick) - min(s for s, _ in tick)).total_seconds()
        for tick in ticks.values()
    )


def run_replicas(
    server: Provider,
    sources: int,
    replicas: int,
    syncer: list[str],
    postgres_url: str,
    workdir: Path,
    minutes: float,
    every: timedelta,
) -> dict[str, Any]:
    """``replicas`` processes of ``syncer run`` for ``minutes`` from the first run, then
    SIGTERM; missed runs, and syncs per second in total and per replica."""
    config = workdir / f"replicas-{sources}.toml"
    config.write_text(config_text(server, sources, f"{every.total_seconds():g}s"))
    with scratch_database("postgres", postgres_url, workdir) as database:
        env = environment(database, config)
        checked(measure([*syncer, "db", "upgrade"], env, STARTUP_LIMIT), "replicas' set-up")
        print(
            f"replicas: {replicas} x syncer run, {sources:,} sources every "
            f"{every.total_seconds():g} s for {minutes:g} min ...",
            file=sys.stderr,
            flush=True,
        )
        stopper = Stopper(database, minutes * 60)
        done: list[Measured | None] = [None] * replicas

        def replica(i: int) -> None:
            done[i] = measure(
                [*syncer, "run"], env, STARTUP_LIMIT + minutes * 60 + STOP_LIMIT, on_start=stopper
            )

        threads = [threading.Thread(target=replica, args=(i,)) for i in range(replicas)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        measured = [m for m in done if m is not None]
        if stopper.stopped_at is None or len(measured) != replicas:
            tail = measured[0].tail() if measured else "no replica ran"
            raise BenchError(
                f"{replicas} replicas recorded no run within {STARTUP_LIMIT:g} s:\n{tail}"
            )
        for m in measured:
            if not m.timed_out:
                checked(m, f"a replica of {replicas}")
        rows = database.query("SELECT source, status, started_at, finished_at FROM sync_runs")
    starts: dict[str, list[datetime]] = {source_name(i): [] for i in range(sources)}
    spans = []
    for name, status, started_at, finished_at in rows:
        if status == "ok":
            starts.setdefault(name, []).append(utc(started_at))
            spans.append((utc(started_at), utc(finished_at)))
    failed = len(rows) - len(spans)
    first = min((s for s, _ in spans), default=stopper.stopped_at)
    busy = busy_seconds(spans, first, every)
    logged = [ok_syncs_logged(m.stderr) for m in measured]
    return {
        **schedule_misses(starts, stopper.stopped_at, every),
        "replicas": replicas,
        "failed": failed,
        "syncs": len(spans),
        "busy": busy,
        "rate": len(spans) / busy if busy else 0.0,
        "minutes": minutes,
        "every": every.total_seconds(),
        "killed": any(m.timed_out for m in measured),
        "per_replica": [
            {"syncs": n, "rate": n / busy if busy else 0.0, "cpu": m.cpu, "peak_mb": m.peak_mb}
            for n, m in zip(logged, measured, strict=True)
        ],
    }
