"""``syncer run``'s scheduler: the syncs share a bounded pool, the other jobs never wait."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from syncer.config.model import HTTPSettings, Schedule, Settings, Source
from syncer.db.engine import read_session
from syncer.db.schema import SyncRun
from syncer.runtime.jobs import Job, build_jobs
from syncer.runtime.scheduler import build_scheduler, run_forever
from tests.fakes import API_KEY
from tests.gate import GateProvider

HOURLY = Schedule(every=timedelta(hours=1), jitter=timedelta(0))


def ok_runs(engine: Engine) -> int:
    with read_session(engine) as session:
        count = session.scalar(
            select(func.count()).select_from(SyncRun).where(SyncRun.status == "ok")
        )
    return int(count or 0)


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_the_syncs_due_together_run_workers_at_a_time_and_each_records_its_run(
    engine: Engine,
) -> None:
    """The gate opens once three lists are in flight: a fourth at once would show in
    ``peak``, and syncs one at a time would never open it."""
    lists = {f"p{i}": [f"p{i}-model"] for i in range(5)}
    with GateProvider(lists, gate=3, patience=2.0) as gate:
        sources = tuple(
            Source(name=name, base_url=gate.base_url(name), api_key=API_KEY) for name in lists
        )
        settings = Settings(
            sources=sources, http=HTTPSettings(max_retries=0), schedule=HOURLY, workers=3
        )
        scheduler = build_scheduler(build_jobs(engine, settings, sources), HOURLY, settings.workers)
        scheduler.start()
        try:
            assert wait_for(lambda: ok_runs(engine) == 5), f"{ok_runs(engine)} of 5 synced"
        finally:
            scheduler.shutdown(wait=True)
    assert gate.peak == 3


def test_a_job_that_is_not_a_sync_runs_while_every_sync_worker_is_busy() -> None:
    released, other_ran = threading.Event(), threading.Event()

    def hung_sync() -> datetime | None:
        released.wait(30)
        return None

    def other() -> datetime | None:
        other_ran.set()
        return None

    jobs = [
        Job("sync:slow", hung_sync, source=Source(name="slow", api_key=API_KEY)),
        Job("alerts:dispatch", other, every=timedelta(hours=1), delay=timedelta(seconds=0.2)),
    ]
    scheduler = build_scheduler(jobs, HOURLY, workers=1)
    scheduler.start()
    try:
        assert other_ran.wait(10), "delivery waited behind the sync"
    finally:
        released.set()
        scheduler.shutdown(wait=True)


def test_the_start_line_names_a_few_sources_and_counts_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    jobs = [
        Job(f"sync:s{i:04d}", lambda: None, source=Source(name=f"s{i:04d}")) for i in range(1000)
    ]
    stop = threading.Event()
    stop.set()
    caplog.set_level(logging.INFO, "syncer")
    # Off the main thread, so that pytest keeps its own signal handlers.
    runner = threading.Thread(target=run_forever, args=(jobs, HOURLY, stop, 16))
    runner.start()
    runner.join(30)
    (line,) = [r.getMessage() for r in caplog.records if "syncer running" in r.getMessage()]
    assert line.startswith("syncer running: s0000, s0001, s0002 and 997 more sources, 16 at a ")


def test_between_runs_a_sync_job_keeps_no_connection_to_its_provider_open(
    engine: Engine,
) -> None:
    """A thousand sources' idle keep-alive sockets would reach a 1,024 open-files limit."""
    lists = {f"p{i}": [f"p{i}-model"] for i in range(3)}
    with GateProvider(lists, gate=1) as gate:
        sources = tuple(
            Source(name=name, base_url=gate.base_url(name), api_key=API_KEY) for name in lists
        )
        settings = Settings(sources=sources, http=HTTPSettings(max_retries=0), schedule=HOURLY)
        for job in build_jobs(engine, settings, sources):
            job.run()
        assert ok_runs(engine) == 3
        assert gate.wait_connections(0), f"{gate.connections} connections left open"
