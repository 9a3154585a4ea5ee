"""Leases: one holder at a time, freed at the end, taken over once a dead holder's expires."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from sqlalchemy import Engine

from syncer.db import locks
from syncer.db.engine import read_session

from ..receivers import Clock

HOUR = timedelta(hours=1)


def rows(engine: Engine) -> dict[str, tuple[str, datetime]]:
    """Each lease's holder and expiry."""
    with read_session(engine) as session:
        return {r.name: (r.holder, r.expires_at) for r in locks.lease_rows(session)}


def test_a_lease_has_one_holder_at_a_time_and_is_freed_at_the_end(
    engine: Engine, clock: Clock
) -> None:
    with locks.lease(engine, "sync:a", HOUR, holder="one", now=clock) as first:
        with locks.lease(engine, "sync:a", HOUR, holder="two", now=clock) as second:
            pass
        with locks.lease(engine, "sync:b", HOUR, holder="two", now=clock) as other:
            assert other.mine
    assert first.mine and not second.mine
    assert (second.holder, second.expires_at) == ("one", clock.now + HOUR)

    with locks.lease(engine, "sync:a", HOUR, holder="two", now=clock) as third:
        assert third.mine
    assert rows(engine) == {"sync:a": ("two", clock.now), "sync:b": ("two", clock.now)}


def test_a_lease_is_not_reentrant_within_one_process(engine: Engine) -> None:
    with (
        locks.lease(engine, "alerts-dispatch") as outer,
        locks.lease(engine, "alerts-dispatch") as inner,
    ):
        assert outer.mine and not inner.mine
        assert inner.holder == locks.REPLICA


def test_a_dead_holders_lease_is_taken_over_once_it_expires(engine: Engine, clock: Clock) -> None:
    # "one" never frees its lease (it died); its heartbeat, an hour apart, never beats here.
    with locks.lease(engine, "sync:a", HOUR, holder="one", now=clock) as dead:
        clock.advance(minutes=59)
        with locks.lease(engine, "sync:a", HOUR, holder="two", now=clock) as early:
            assert not early.mine
        clock.advance(minutes=1)
        with locks.lease(engine, "sync:a", HOUR, holder="two", now=clock) as late:
            assert late.mine
            taken_at = clock.now
    # The dead holder's late release did not free what "two" had taken.
    assert dead.mine
    assert rows(engine)["sync:a"] == ("two", taken_at)


def test_a_holder_that_works_longer_than_its_lease_keeps_it_by_renewing(engine: Engine) -> None:
    period = timedelta(seconds=0.3)
    with locks.lease(engine, "sync:a", period, holder="one") as held:
        time.sleep(1.0)
        with locks.lease(engine, "sync:a", period, holder="two") as other:
            assert not other.mine
    assert held.mine and other.holder == "one"
