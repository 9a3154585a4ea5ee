"""A known history for the report and calendar tests, written by real syncs on a moved clock.

Day 0: a, b, c, d, e and steady-1..steady-5 are listed. Day 10: a changes owner. Day 20: b
vanishes. Day 30: b is back and d announces its shutdown for day 75. Day 40: c vanishes.
Day 50: the last sync, so "now" is day 50 in every test that uses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from syncer.config.model import HTTPSettings, Source
from syncer.providers.http import Client
from syncer.sync.run import Syncer
from tests.fakes import API_KEY, FakeProvider, model
from tests.receivers import Clock

STEADY = tuple(f"steady-{n}" for n in range(1, 6))


@dataclass(frozen=True)
class KnownHistory:
    start: datetime
    now: datetime
    shutdown: datetime


def sync_at(engine: Engine, provider: FakeProvider, clock: Clock) -> None:
    source = Source(name="openai", base_url=provider.base_url, api_key=API_KEY)
    with Client(source.endpoint(), HTTPSettings(max_retries=0)) as client:
        result = Syncer(engine, client, "openai", now=clock).run()
    assert result.ok, result.summary()


def record_history(engine: Engine, provider: FakeProvider, clock: Clock) -> KnownHistory:
    start = clock.now
    shutdown = (start + timedelta(days=75)).replace(hour=0, minute=0, second=0, microsecond=0)
    listed = {i: model(i) for i in ("a", "b", "c", "d", "e", *STEADY)}

    def at(day: int, *ids: str) -> None:
        clock.now = start + timedelta(days=day)
        provider.models = [listed[i] for i in ids]
        sync_at(engine, provider, clock)

    everything = ("a", "b", "c", "d", "e", *STEADY)
    at(0, *everything)
    listed["a"] = model("a", owned_by="acme")
    at(10, *everything)
    at(20, *(i for i in everything if i != "b"))
    listed["d"] = model("d", shutdown_date=shutdown.date().isoformat())
    at(30, *everything)
    at(40, *(i for i in everything if i != "c"))
    at(50, *(i for i in everything if i != "c"))
    return KnownHistory(start=start, now=clock.now, shutdown=shutdown)
