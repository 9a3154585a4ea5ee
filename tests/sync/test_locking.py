"""A sync holds the database's write lock only while it writes, never while it asks the
provider: on SQLite that lock is the whole database's."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine, select

from syncer.db.engine import read_session
from syncer.db.schema import ModelEvent, SyncRun
from syncer.sync.run import SyncResult
from tests.fakes import FakeProvider
from tests.sync.test_run import sync


def in_background(
    engine: Engine, base_url: str, name: str = "openai"
) -> tuple[threading.Thread, list[SyncResult]]:
    results: list[SyncResult] = []
    thread = threading.Thread(target=lambda: results.append(sync(engine, base_url, name=name)))
    thread.start()
    return thread, results


def test_a_slow_vanish_check_does_not_hold_up_another_sources_sync(
    engine: Engine, provider: FakeProvider, other_provider: FakeProvider
) -> None:
    provider.set("a1", "a2", "a3")
    sync(engine, provider.base_url)
    provider.set("a1", "a2")
    provider.hold_retrieve = True
    other_provider.set("b1")

    slow, slow_result = in_background(engine, provider.base_url)
    try:
        assert provider.retrieve_held.wait(10)
        started = time.monotonic()
        other = sync(engine, other_provider.base_url, name="other")
        took = time.monotonic() - started
        still_asking = slow.is_alive()
    finally:
        provider.release.set()
        slow.join(30)

    assert (other.status, other.added) == ("ok", 1)
    assert still_asking and took < 5
    assert (slow_result[0].status, slow_result[0].vanished) == ("ok", 1)


def test_a_sync_that_committed_while_another_asked_is_not_repeated_by_it(
    engine: Engine, provider: FakeProvider, other_provider: FakeProvider
) -> None:
    provider.set("m1", "m2", "m3", "m4")
    sync(engine, provider.base_url)
    provider.set("m1", "m2", "m3")
    provider.hold_retrieve = True
    other_provider.set("m1", "m2", "m3")  # the same source, seen by another replica

    slow, slow_result = in_background(engine, provider.base_url)
    try:
        assert provider.retrieve_held.wait(10)
        fast = sync(engine, other_provider.base_url)
    finally:
        provider.release.set()
        slow.join(30)

    assert (fast.status, fast.vanished) == ("ok", 1)
    assert (slow_result[0].status, slow_result[0].vanished) == ("ok", 0)
    with read_session(engine) as session:
        vanished = session.scalars(select(ModelEvent.model_id).where(ModelEvent.kind == "vanished"))
        assert list(vanished) == ["m4"]
        assert session.scalars(select(SyncRun.status)).all() == ["ok"] * 3
