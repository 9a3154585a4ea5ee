"""Histories for the reporting tests, made by the real sync code on a controlled clock.

Every history here is written by ``syncer.sync.Syncer`` through ``syncer.client.Client``
against the fake provider, never by inserting rows by hand: the reporting side must
agree with what syncs really record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import Engine

from syncer.config.model import HTTPSettings, Source, SyncPolicy
from syncer.db.engine import read_session
from syncer.providers.http import Client
from syncer.reporting import queries
from syncer.sync.run import Syncer, SyncResult

from .fakes import API_KEY, FakeProvider

FAST = HTTPSettings(max_retries=0, read_timeout=5, connect_timeout=5)
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def listed(model_id: str, **fields: Any) -> dict[str, Any]:
    """A model object with only the fields given (``fakes.model()`` adds defaults)."""
    return {"id": model_id, "object": "model", **fields}


@dataclass
class Clock:
    """A clock that moves one tick on every reading, so no two moments are equal."""

    moment: datetime = START
    tick: timedelta = timedelta(seconds=1)

    def __call__(self) -> datetime:
        self.moment += self.tick
        return self.moment

    def advance(self, span: timedelta) -> None:
        self.moment += span


@dataclass
class Replay:
    """Syncs one source of ``engine`` from the fake provider, capturing ``syncer models``."""

    engine: Engine
    provider: FakeProvider
    source: str = "openai"
    clock: Clock = field(default_factory=Clock)
    #: (moment, the rows ``queries.models(include_vanished=True)`` returned then).
    captures: list[tuple[datetime, list[dict[str, Any]]]] = field(default_factory=list)

    def sync(
        self,
        models: Iterable[dict[str, Any]],
        *,
        accept_mass_change: bool = False,
        unconfirmable: Iterable[str] = (),
        fail: bool = False,
    ) -> SyncResult:
        """Serve ``models`` and sync once; then capture the inventory one tick later."""
        self.provider.models = list(models)
        self.provider.retrieve_status = dict.fromkeys(unconfirmable, 500)
        self.provider.queue.clear()
        if fail:
            self.provider.fail_next(500, '{"error": {"message": "down for maintenance"}}')
        source = Source(name=self.source, base_url=self.provider.base_url, api_key=API_KEY)
        policy = SyncPolicy(accept_mass_change=accept_mass_change)
        with Client(source.endpoint(), FAST) as client:
            result = Syncer(self.engine, client, self.source, policy, now=self.clock).run()
        moment = self.clock()
        with read_session(self.engine) as session:
            rows = queries.models(session, source=self.source, include_vanished=True).rows
        self.captures.append((moment, rows))
        return result

    def ids(self, *model_ids: str, **fields: Any) -> SyncResult:
        """Sync a list of these ids, all with the same fields, accepting any mass change."""
        return self.sync([listed(m, **fields) for m in model_ids], accept_mass_change=True)


IDS = ("gpt-4o", "gpt-4-0613", "Zeta", "ft:gpt-4o-mini:acme:x:1", "babbage:ft-acme-2022", "o1")
_fields = st.fixed_dictionaries(
    {},
    optional={
        "owned_by": st.sampled_from(["openai", "acme", None]),
        "created": st.sampled_from([1686935002, 1700000000]),
        "shutdown_date": st.sampled_from(["2026-06-06", "2027-01-01T12:00:00Z", None]),
        "note": st.integers(0, 2),
    },
)


@dataclass(frozen=True)
class Step:
    """One sync of a random history."""

    models: dict[str, dict[str, Any]]
    accept_mass_change: bool
    #: Models whose vanishing the provider cannot confirm (they stay present, unseen).
    unconfirmable: frozenset[str]
    fail: bool
    #: Time passing before the sync, so histories span several days.
    hours_before: int


steps = st.lists(
    st.builds(
        Step,
        models=st.dictionaries(st.sampled_from(IDS), _fields, max_size=len(IDS)),
        accept_mass_change=st.booleans(),
        unconfirmable=st.frozensets(st.sampled_from(IDS), max_size=2),
        fail=st.integers(0, 5).map(lambda n: n == 0),
        hours_before=st.sampled_from([0, 0, 5, 30]),
    ),
    min_size=1,
    max_size=7,
)


def play(replay: Replay, history: Iterable[Step]) -> None:
    for step in history:
        replay.clock.advance(timedelta(hours=step.hours_before))
        replay.sync(
            [listed(m, **f) for m, f in step.models.items()],
            accept_mass_change=step.accept_mass_change,
            unconfirmable=step.unconfirmable,
            fail=step.fail,
        )
