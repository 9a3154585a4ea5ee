"""The soak: random histories of provider states and faults, replayed through the real CLI.

Hypothesis draws sequences of model lists (churn, owners changing, shutdown dates announced
and moved) and a fault per sync: an HTTP error, a body cut mid-JSON, a read timeout, a list
that trips the mass-vanish guard, a receiver refusing alerts, or a ``syncer sync`` process
killed with SIGKILL at a random moment. Each history runs against a fresh SQLite file and a
fresh PostgreSQL database. An oracle, written from the documented rules (docs/sync.md), keeps
the true inventory; afterwards:

- ``syncer models --as-of`` at every recorded moment equals the true list at that moment;
- every event the oracle expects exists exactly once, in its run, and no other;
- no event belongs to a failed or held run;
- every alert due was delivered, each alert id once (a kill between a delivery and its
  record may repeat one: at least once, as documented, and counted).

``SOAK_SYNCS`` (default a short CI run) sets roughly how many syncs to replay in all.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url
from werkzeug import Request, Response

from syncer.alerts.delivery import Dispatcher
from syncer.cli import cli
from syncer.config.load import load_settings
from syncer.db.engine import make_engine, read_session
from syncer.db.schema import ModelEvent, OutboxAlert, SyncRun
from syncer.sync.diff import mass_vanish_reason
from tests.conftest import POSTGRES_URL
from tests.fakes import API_KEY
from tests.receivers import Receiver

pytestmark = pytest.mark.slow

SYNCS = int(os.environ.get("SOAK_SYNCS", "40"))
STEPS = 12
EXAMPLES = max(1, SYNCS // (2 * STEPS))  # per database
READ_TIMEOUT = 0.4
LEASE = timedelta(seconds=1)
IDS = (*(f"m{i}" for i in range(8)), "ft:gpt-4o:acme:x:1")
FAULTS = ("error", "cut", "timeout", "kill", "receiver")

fields = st.fixed_dictionaries(
    {
        "owned_by": st.sampled_from(["openai", "system"]),
    },
    optional={
        "shutdown_date": st.sampled_from(["2026-06-06", "2026-09-01", "2027-01-15"]),
    },
)


@dataclass(frozen=True)
class Step:
    models: dict[str, dict[str, Any]]
    fault: str | None


steps = st.lists(
    st.builds(
        Step,
        models=st.dictionaries(st.sampled_from(IDS), fields, max_size=len(IDS)),
        fault=st.one_of(st.none(), st.none(), st.none(), st.sampled_from(FAULTS)),
    ),
    min_size=3,
    max_size=STEPS,
)


class SoakProvider:
    """A provider whose list and faults a step sets; a 404 for any model it does not list."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.models: dict[str, dict[str, Any]] = {}
        self.fault: str | None = None
        self.listed = threading.Event()
        server.expect_request("/v1/models").respond_with_handler(self._list)
        server.expect_request(re.compile(r"^/v1/models/.+")).respond_with_handler(self._retrieve)

    def body(self) -> str:
        data = [
            {"id": m, "object": "model", "created": 1686935002, **f} for m, f in self.models.items()
        ]
        return json.dumps({"object": "list", "data": data})

    def _list(self, request: Request) -> Response:
        self.listed.set()
        if self.fault == "error":
            return Response(
                '{"error": {"message": "upstream down"}}',
                status=500,
                content_type="application/json",
            )
        if self.fault == "cut":
            return Response(self.body()[: len(self.body()) // 2], content_type="application/json")
        if self.fault == "timeout":
            time.sleep(READ_TIMEOUT + 0.3)
        return Response(self.body(), content_type="application/json")

    def _retrieve(self, request: Request) -> Response:
        model_id = request.path.removeprefix("/v1/models/")
        if model_id in self.models:
            return Response(
                json.dumps({"id": model_id, **self.models[model_id]}),
                content_type="application/json",
            )
        return Response(
            '{"error": {"message": "no such model"}}', status=404, content_type="application/json"
        )


@dataclass
class Oracle:
    """The true inventory by the documented rules, and the events each applied sync records."""

    present: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Every model ever stored, as it was last listed.
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: One Counter of (kind, model_id) per run that should have recorded events, in order.
    runs: list[tuple[str, Counter[tuple[str, str]]]] = field(default_factory=list)
    #: (moment, the ids present then)
    moments: list[tuple[datetime, frozenset[str]]] = field(default_factory=list)

    def apply(self, listed: dict[str, dict[str, Any]]) -> None:
        missing = set(self.present) - set(listed)
        if mass_vanish_reason(len(self.present), len(listed), len(missing), 0.5):
            self.runs.append(("held", Counter()))
            return
        events: Counter[tuple[str, str]] = Counter()
        for model_id, values in listed.items():
            if model_id not in self.stored:
                events["added", model_id] += 1
                continue
            if model_id not in self.present:
                events["reappeared", model_id] += 1
            if self.stored[model_id] != values:  # a model back with other fields: both
                events["changed", model_id] += 1
                if self.stored[model_id].get("shutdown_date") != values.get("shutdown_date"):
                    events["shutdown_changed", model_id] += 1  # announced, moved or dropped
        for model_id in missing:
            events["vanished", model_id] += 1
        self.present = dict(listed)
        self.stored |= listed
        self.runs.append(("ok", events))


@dataclass
class World:
    database: str
    config: Path
    provider: SoakProvider
    receiver: Receiver
    env: dict[str, str]
    kills: int = 0

    def sync_in_process(self) -> None:
        CliRunner().invoke(
            cli,
            ["--config", str(self.config), "--database-url", self.database, "sync"],
            catch_exceptions=False,
            env=self.env,
        )

    def sync_killed(self) -> bool:
        """``syncer sync`` in a process killed at a random moment; whether it finished."""
        self.provider.listed.clear()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "syncer",
                "--config",
                str(self.config),
                "--database-url",
                self.database,
                "sync",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **self.env},
        )
        try:
            self.provider.listed.wait(20)
            time.sleep(random.uniform(0, 0.25))
            process.send_signal(signal.SIGKILL)
            process.wait(20)
        finally:
            process.kill()
            process.wait(20)
        self.kills += process.returncode == -signal.SIGKILL
        return process.returncode != -signal.SIGKILL


def pending(engine: Engine) -> int:
    with read_session(engine) as session:
        query = select(func.count()).select_from(OutboxAlert)
        return int(session.scalar(query.where(OutboxAlert.status == "pending")) or 0)


def runs_recorded(engine: Engine) -> list[tuple[int, str]]:
    with read_session(engine) as session:
        rows = session.execute(select(SyncRun.id, SyncRun.status).order_by(SyncRun.id))
        return [(run_id, status) for run_id, status in rows]


def replay(world: World, history: list[Step]) -> None:
    oracle = Oracle()
    engine = make_engine(world.database)
    try:
        for step in history:
            world.provider.models = step.models
            world.provider.fault = step.fault if step.fault in ("error", "cut", "timeout") else None
            world.receiver.statuses = [503, 503] if step.fault == "receiver" else []
            before = len(runs_recorded(engine)) if step.fault == "kill" else 0
            if step.fault == "kill":
                world.sync_killed()
                landed = runs_recorded(engine)[before:]
                if landed and landed[0][1] != "failed":
                    oracle.apply(step.models)
            else:
                world.sync_in_process()
                if step.fault is None or step.fault == "receiver":
                    oracle.apply(step.models)
            oracle.moments.append((datetime.now(UTC), frozenset(oracle.present)))
            time.sleep(0.002)  # the next sync's moment is strictly later
        check(world, engine, oracle)
    finally:
        engine.dispose()


def check(world: World, engine: Engine, oracle: Oracle) -> None:
    # Time travel: the inventory at every recorded moment is the true one.
    for moment, truth in oracle.moments:
        result = CliRunner().invoke(
            cli,
            [
                "--database-url",
                world.database,
                "models",
                "--as-of",
                moment.isoformat().replace("+00:00", "Z"),
                "--format",
                "json",
            ],
            catch_exceptions=False,
            env=world.env,
        )
        assert result.exit_code == 0, result.output
        assert {row["model_id"] for row in json.loads(result.stdout)} == truth, moment
    with read_session(engine) as session:
        runs = session.execute(select(SyncRun.id, SyncRun.status).order_by(SyncRun.id)).all()
        events = session.execute(
            select(ModelEvent.sync_run_id, ModelEvent.kind, ModelEvent.model_id)
        ).all()
        outbox = session.execute(
            select(OutboxAlert.alert_id, OutboxAlert.status, OutboxAlert.payload)
        ).all()
    # Every run the oracle expects, ok or held, in order; failed ones record nothing.
    recorded = [(run_id, status) for run_id, status in runs if status != "failed"]
    assert [status for _, status in recorded] == [status for status, _ in oracle.runs]
    by_run: dict[int, Counter[tuple[str, str]]] = {}
    for run_id, kind, model_id in events:
        by_run.setdefault(run_id, Counter())[kind, model_id] += 1
    statuses = dict(runs)
    assert all(statuses[run_id] == "ok" for run_id in by_run), "an event of a failed/held run"
    for (run_id, _), (_, expected) in zip(recorded, oracle.runs, strict=True):
        assert by_run.get(run_id, Counter()) == expected, run_id
    # Every alert due is delivered, each id once (at least once across a kill).
    # Due later (backoff) is due at the end; a sync killed mid-delivery holds the delivery
    # lease until it runs out (LEASE).
    flush = Dispatcher(
        engine,
        load_settings(config_file=world.config, env=world.env).alerts,
        now=lambda: datetime.now(UTC) + timedelta(days=30),
        lease=LEASE,
    )
    world.receiver.statuses = []
    deadline = time.monotonic() + 10 * LEASE.total_seconds()
    while pending(engine) and time.monotonic() < deadline:
        if not flush.dispatch().delivered:
            time.sleep(0.1)
    flush.sender.close()
    # The run that first stored models records the inventory: its added events are no news.
    initial = min(by_run, default=None)
    due = Counter(
        (kind, model_id, run_id)
        for run_id, kind, model_id in events
        if not (kind == "added" and run_id == initial)
    )
    ids = Counter(doc["id"] for doc in world.receiver.documents)
    got = Counter(
        (d["event"]["kind"], d["model_id"], d["event"]["sync_run_id"])
        for d in {doc["id"]: doc for doc in world.receiver.documents}.values()
    )
    assert got == due
    assert set(ids) == {row.alert_id for row in outbox}
    assert sum(ids.values()) - len(ids) <= world.kills  # repeats only across a kill
    if os.environ.get("SOAK_STATS"):
        with open(os.environ["SOAK_STATS"], "a") as stats:
            stats.write(
                json.dumps(
                    {
                        "database": make_url(world.database).get_backend_name(),
                        "syncs": len(oracle.moments),
                        "runs": Counter(s for _, s in runs),
                        "events": len(events),
                        "alerts": len(ids),
                        "repeats": sum(ids.values()) - len(ids),
                        "kills": world.kills,
                        "models": len({m for _, _, m in events}),
                    }
                )
                + "\n"
            )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, postgres_admin: Engine | None) -> str:
    if request.param == "postgres" and postgres_admin is None:
        pytest.skip("no PostgreSQL server (set SYNCER_TEST_POSTGRES_URL)")
    return str(request.param)


@pytest.fixture
def world_factory(
    backend: str, postgres_admin: Engine | None, tmp_path: Path, receiver: Receiver
) -> Iterator[Any]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    provider = SoakProvider(server)
    config = tmp_path / "syncer.toml"
    config.write_text(
        f'[schedule]\nlease = "{LEASE.total_seconds()}s"\n\n'
        f"[http]\nmax_retries = 0\nread_timeout = {READ_TIMEOUT}\nconnect_timeout = 2\n\n"
        f'[[sources]]\nname = "soak"\nbase_url = "{server.url_for("/v1")}"\n'
        'api_key_env = "SOAK_KEY"\n\n'
        '[[alerts]]\nname = "all"\nkind = "events"\nwebhook_url_env = "SOAK_HOOK"\n'
    )
    env = {"SOAK_KEY": API_KEY, "SOAK_HOOK": receiver.url}
    made: list[str] = []

    def make() -> World:
        receiver.accepted.clear()
        if backend == "sqlite":
            database = f"sqlite:///{tmp_path / f'soak-{uuid.uuid4().hex[:8]}.db'}"
        else:
            assert postgres_admin is not None
            name = f"syncer_soak_{uuid.uuid4().hex[:12]}"
            with postgres_admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            made.append(name)
            database = (
                make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
            )
        # The schema first, so a history that starts with a kill can be read back.
        upgraded = CliRunner().invoke(cli, ["--database-url", database, "db", "upgrade"])
        assert upgraded.exit_code == 0, upgraded.output
        return World(database, config, provider, receiver, env)

    yield make
    server.clear()
    server.stop()
    if postgres_admin is not None:
        with postgres_admin.connect() as connection:
            for name in made:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=steps)
def test_random_histories_with_faults_and_kills_leave_the_history_exact(
    world_factory: Any, history: list[Step]
) -> None:
    replay(world_factory(), history)
