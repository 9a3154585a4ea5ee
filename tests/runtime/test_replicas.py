"""Three ``syncer run`` replicas on one PostgreSQL share the work, and survive a SIGKILL.

Real processes, a real database, a real (slow, threaded) provider on 127.0.0.1: each source
must be synced once per interval, by whichever replica, and when the replica syncing a
source is killed mid-sync, another must take over within one lease period.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, select
from sqlalchemy.exc import ProgrammingError
from werkzeug import Request, Response

from syncer.db import locks
from syncer.db.engine import make_engine, read_session
from syncer.db.schema import ModelEvent, SyncRun

from ..fakes import API_KEY, closed_port, model

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

INTERVAL = 3.0
LEASE = 2.0
SOURCES = ("a", "b")
#: Scheduling on a busy two-core machine: how late a process may be, beyond the design.
SLACK = 1.5


class SlowProvider:
    """Serves ``/<source>/v1/models`` after ``delay`` seconds, concurrently; can hold one
    request of a source (the replica syncing it is then "mid-sync") until released."""

    def __init__(self, delay: float = 0.2) -> None:
        self.delay = delay
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.server.expect_request(re.compile(r"^/\w+/v1/models$")).respond_with_handler(self._list)
        self.hold: str | None = None
        self.held = threading.Event()
        self.release = threading.Event()
        self.lists: Counter[str] = Counter()
        self.server.start()

    def base_url(self, source: str) -> str:
        return f"http://127.0.0.1:{self.server.port}/{source}/v1"

    def _list(self, request: Request) -> Response:
        source = request.path.split("/")[1]
        self.lists[source] += 1
        if self.hold == source:
            self.hold = None
            self.held.set()
            self.release.wait(30)
        time.sleep(self.delay)
        body = {"object": "list", "data": [model(f"{source}-{n}") for n in range(3)]}
        return Response(json.dumps(body), content_type="application/json")

    def close(self) -> None:
        self.release.set()
        self.server.clear()
        self.server.stop()


@pytest.fixture
def slow_provider() -> Iterator[SlowProvider]:
    provider = SlowProvider()
    yield provider
    provider.close()


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    """An engine on the empty database the replicas share (they create the schema)."""
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


def start_replica(config: Path, database: str, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SYNCER_"))}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "syncer",
            "--config",
            str(config),
            "--database-url",
            database,
            "-v",
            "run",
            "--metrics-port",
            str(port),
            "--metrics-host",
            "127.0.0.1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env | {"OPENAI_API_KEY": API_KEY},
    )


def ok_runs(engine: Engine) -> dict[str, list[datetime]]:
    with read_session(engine) as session:
        rows = session.execute(
            select(SyncRun.source, SyncRun.started_at, SyncRun.status).order_by(SyncRun.id)
        ).all()
    assert {status for _, _, status in rows} <= {"ok"}, rows
    runs: dict[str, list[datetime]] = {s: [] for s in SOURCES}
    for source, started_at, _ in rows:
        runs[source].append(started_at)
    return runs


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except ProgrammingError:
            pass  # the replicas have not created the tables yet
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def scrape_leases(port: int) -> dict[tuple[str, str], float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    found = {}
    for line in text.splitlines():
        match = re.match(r'syncer_lease_held\{lease="([^"]+)",replica="([^"]+)"\} (\S+)', line)
        if match:
            found[match[1], match[2]] = float(match[3])
    return found


def test_three_replicas_sync_each_source_once_per_interval_and_survive_a_kill(
    postgres_url: str, engine: Engine, slow_provider: SlowProvider, tmp_path: Path
) -> None:
    config = tmp_path / "syncer.toml"
    config.write_text(
        f'[schedule]\nevery = "{INTERVAL}s"\njitter = 0\nlease = "{LEASE}s"\n\n'
        f"[http]\nmax_retries = 0\nread_timeout = 40\n\n"
        + "".join(
            f'[[sources]]\nname = "{s}"\nbase_url = "{slow_provider.base_url(s)}"\n\n'
            for s in SOURCES
        )
    )
    ports = [closed_port() for _ in range(3)]
    replicas = [start_replica(config, postgres_url, port) for port in ports]
    try:
        # Warm up: every replica is up and each source has been synced a few times.
        wait_for(
            lambda: all(len(r) >= 3 for r in ok_runs(engine).values()),
            40,
            "three syncs of each source",
        )
        # Hold the next sync of "a" at the provider, then kill the replica doing it.
        slow_provider.hold = "a"
        assert slow_provider.held.wait(10), "no replica came to sync a"
        with read_session(engine) as session:
            (lease,) = [r for r in locks.lease_rows(session) if r.name == "sync:a"]
        victim_pid = int(lease.holder.rsplit(":", 1)[1])
        (victim,) = [r for r in replicas if r.pid == victim_pid]
        killed_at = time.time()
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        slow_provider.release.set()
        survivors = [r for r in replicas if r is not victim]
        # Three more intervals on the two survivors.
        time.sleep(3 * INTERVAL + LEASE)
        leases = scrape_leases(ports[replicas.index(survivors[0])])
        logs = []
        for replica in survivors:
            replica.send_signal(signal.SIGTERM)
            _, stderr = replica.communicate(timeout=20)
            assert replica.returncode == 0, stderr
            logs.append(stderr)
    finally:
        slow_provider.release.set()
        for replica in replicas:
            replica.kill()
            replica.communicate(timeout=10)
    stopped_at = time.time()

    assert victim.returncode == -signal.SIGKILL
    runs = ok_runs(engine)
    for source, started in runs.items():
        seconds = [s.timestamp() for s in started]
        # Once per interval: no interval has two successful syncs of a source...
        slots = Counter(math.floor(s / INTERVAL) for s in seconds)
        assert max(slots.values()) == 1, (source, sorted(slots.items()))
        # ...and none is left without one for longer than a lease period, kill or not.
        gaps = [later - earlier for earlier, later in itertools.pairwise(seconds)]
        assert max(gaps) <= INTERVAL + LEASE + SLACK, (source, gaps)
        assert stopped_at - seconds[-1] <= INTERVAL + SLACK
        after_kill = [s for s in seconds if s > killed_at]
        assert len(after_kill) >= 3, (source, after_kill)
    # The killed sync recorded nothing; every model was added once, by one replica.
    with read_session(engine) as session:
        kinds = Counter(session.scalars(select(ModelEvent.kind)))
    assert kinds == {"added": 6}
    # A survivor holds (or last held) the lease the victim had; /metrics says so.
    survivor_names = {name for (lease_name, name) in leases if lease_name == "sync:a"}
    assert survivor_names and f":{victim_pid}" not in "".join(survivor_names)
    # Replicas said at -v why they skipped (which of the two reasons each meets depends on
    # how late its scheduler fires); nothing crashed.
    assert all("skipped: " in log for log in logs)
    assert any("skipped: synced successfully at" in log for log in logs)
    assert any("skipped: replica " in log for log in logs)
    assert not any("Traceback" in log for log in logs)
    assert all(API_KEY not in log for log in logs)
    # One provider call per sync: the killed replica's (two, if it was syncing both) aside.
    assert all(slow_provider.lists[s] <= len(runs[s]) + 1 for s in SOURCES)
