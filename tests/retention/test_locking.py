"""Retention takes the source's lock only to record a deletion, never while the provider
answers one: a sync of the source goes on meanwhile."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from syncer.config.model import RetentionRule
from syncer.db.engine import read_session
from syncer.db.schema import Model, ModelEvent
from syncer.providers.http import Client
from syncer.retention.apply import ApplyReport, apply_plan, plan_source
from tests.fakes import FakeProvider
from tests.retention.test_apply import FAST, aged, source_for
from tests.sync.test_run import sync


def test_a_slow_deletion_does_not_hold_up_a_sync_of_the_source(
    engine: Engine, provider: FakeProvider, other_provider: FakeProvider
) -> None:
    # The family keeps its latest fine-tune: the older one is deleted.
    provider.models = [aged("ft:gpt-4o:acme:s:1", 300), aged("ft:gpt-4o:acme:s:2", 200)]
    other_provider.models = list(provider.models)  # another replica's view of the source
    sync(engine, provider.base_url)
    rule = RetentionRule(max_age=timedelta(days=90), include=("ft:*:acme:*",))
    plan = plan_source(engine, "openai", rule, datetime.now(UTC))
    provider.block_delete, provider.block_after_delete = 1, True
    reports: list[ApplyReport] = []

    def apply() -> None:
        with Client(source_for(provider).endpoint(), FAST) as client:
            reports.append(apply_plan(engine, client, "openai", plan))

    deleting = threading.Thread(target=apply)
    deleting.start()
    try:
        assert provider.delete_blocked.wait(10)
        started = time.monotonic()
        synced = sync(engine, other_provider.base_url)
        took = time.monotonic() - started
        still_deleting = deleting.is_alive()
    finally:
        provider.release.set()
        deleting.join(30)

    assert synced.status == "ok" and still_deleting and took < 5
    assert reports[0].ok and reports[0].count("deleted") == 1
    with read_session(engine) as session:
        row = session.get(Model, ("openai", "ft:gpt-4o:acme:s:1"))
        assert row is not None and row.deleted_at is not None
        kinds = session.scalars(select(ModelEvent.kind).order_by(ModelEvent.id)).all()
    assert kinds == ["added", "added", "deleted"]
    assert provider.deleted == ["ft:gpt-4o:acme:s:1"]
