"""The jobs of ``syncer run`` share the work between replicas through their guard."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from syncer.config.model import HTTPSettings, Schedule, Settings, Source
from syncer.db import locks
from syncer.db.engine import read_session
from syncer.db.schema import SyncRun
from syncer.runtime.jobs import Job, build_jobs
from tests.fakes import API_KEY, FakeProvider


def sync_job(engine: Engine, provider: FakeProvider) -> Job:
    source = Source(name="openai", base_url=provider.base_url, api_key=API_KEY)
    settings = Settings(
        sources=(source,),
        http=HTTPSettings(max_retries=0),
        schedule=Schedule(every=timedelta(hours=1), jitter=timedelta(0)),
    )
    (job,) = build_jobs(engine, settings, settings.sources)
    return job


def runs(engine: Engine) -> int:
    with read_session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(SyncRun)) or 0)


def test_a_sync_skips_an_interval_that_already_had_a_successful_sync(
    engine: Engine, provider: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    provider.set("gpt-4o")
    job = sync_job(engine, provider)
    caplog.set_level(logging.INFO, "syncer")

    assert job.run() is None
    assert job.run() is None

    assert runs(engine) == 1
    assert "sync openai: skipped: synced successfully at " in caplog.text
    assert len([r for r in provider.requests if r.path == "/v1/models"]) == 1


def test_a_failed_sync_does_not_count_and_the_next_run_syncs_again(
    engine: Engine, provider: FakeProvider
) -> None:
    provider.set("gpt-4o")
    provider.fail_next(500, '{"error": {"message": "down"}}')
    job = sync_job(engine, provider)

    job.run()
    job.run()

    with read_session(engine) as session:
        assert list(session.scalars(select(SyncRun.status).order_by(SyncRun.id))) == [
            "failed",
            "ok",
        ]


def test_a_sync_another_replica_is_running_is_skipped_and_retried_when_its_lease_ends(
    engine: Engine, provider: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    provider.set("gpt-4o")
    job = sync_job(engine, provider)
    caplog.set_level(logging.INFO, "syncer")

    with locks.lease(engine, "sync:openai", holder="other:1") as held:
        again = job.run()

    assert again is not None and again >= held.expires_at
    assert runs(engine) == 0
    assert "sync openai: skipped: replica other:1 is on it (lease until " in caplog.text
    assert job.run() is None
    assert runs(engine) == 1
