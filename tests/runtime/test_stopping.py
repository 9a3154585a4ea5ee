"""Stopping is bounded: ``syncer run`` and ``syncer sync`` end within ``[run] stop_timeout``
of SIGTERM or SIGINT, at once on a second one, and an abandoned sync leaves nothing behind.

Real processes against a provider on 127.0.0.1 that holds its answer until the test releases
it: the sync of a held source is in flight for as long as the test wants.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from syncer.db import locks
from syncer.db.engine import make_engine, read_session
from syncer.db.schema import Model, ModelEvent, SyncRun
from tests.gate import JSONHandler
from tests.processes import start, syncer

pytestmark = pytest.mark.slow

#: How late a process may be past its bound on a busy two-core machine.
SLACK = 4.0


class _Handler(JSONHandler):
    server: HeldProvider

    def do_GET(self) -> None:
        name, _, rest = self.path.lstrip("/").partition("/")
        if rest != "v1/models":  # a vanish check: the model is gone
            self.send_json(404, {"error": {"message": "no such model", "code": None}})
            return
        self.server.arrived[name].set()
        if name in self.server.held:
            self.server.release.wait(60)
        models = [
            {"id": i, "object": "model", "created": 1686935002, "owned_by": name}
            for i in self.server.lists.get(name, [f"{name}-1", f"{name}-2"])
        ]
        self.send_json(200, {"object": "list", "data": models})


class HeldProvider(ThreadingHTTPServer):
    """Sources by name at ``/NAME/v1/models``; a source in ``held`` answers only once
    ``release`` is set."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.held: set[str] = set()
        self.release = threading.Event()
        #: Set when a request for the source has come in (a held one is then in flight).
        self.arrived: defaultdict[str, threading.Event] = defaultdict(threading.Event)
        #: A source's model ids, when not ``NAME-1``, ``NAME-2``.
        self.lists: dict[str, list[str]] = {}

    def base_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{name}/v1"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: the client of a held answer is gone when it is released (it was killed)."""


@pytest.fixture
def provider() -> Iterator[HeldProvider]:
    server = HeldProvider()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def config(tmp_path: Path, provider: HeldProvider, *names: str, stop_timeout: str = "2s") -> Path:
    path = tmp_path / "syncer.toml"
    sources = "".join(
        f'[[sources]]\nname = "{n}"\nbase_url = "{provider.base_url(n)}"\n\n' for n in names
    )
    path.write_text(
        f'[run]\nstop_timeout = "{stop_timeout}"\n\n[schedule]\nevery = "1h"\njitter = 0\n\n'
        f"[http]\nread_timeout = 30\nmax_retries = 0\n\n{sources}"
    )
    path.chmod(0o600)
    return path


class Process:
    """A ``syncer`` process whose output is read as it comes."""

    def __init__(self, args: list[str]) -> None:
        self.process = start(args)
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [
            threading.Thread(target=lambda s=s, into=into: into.extend(s), daemon=True)
            for s, into in ((self.process.stdout, self.out), (self.process.stderr, self.err))
        ]
        for reader in self._readers:
            reader.start()

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> tuple[int, float]:
        """The exit code, and how long the process took to end from this call."""
        began = time.monotonic()
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"still running after {timeout}s: {self.stderr}")
        for reader in self._readers:
            reader.join(10)
        return code, time.monotonic() - began

    @property
    def stdout(self) -> str:
        return "".join(self.out)

    @property
    def stderr(self) -> str:
        return "".join(self.err)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            assert stream is not None
            stream.close()


def wait_for(condition: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout}s for {what}"
        time.sleep(0.05)


def runs(database_url: str) -> list[tuple[str, str]]:
    """Every sync run as (source, status), in order."""
    engine = make_engine(database_url)
    try:
        with read_session(engine) as session:
            return [
                (r.source, r.status)
                for r in session.execute(
                    select(SyncRun.source, SyncRun.status).order_by(SyncRun.id)
                )
            ]
    except Exception:  # the schema is not there yet: the process is still starting
        return []
    finally:
        engine.dispose()


def leases(database_url: str) -> list[Any]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return locks.lease_rows(connection)
    finally:
        engine.dispose()


def models(database_url: str, source: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        with read_session(engine) as session:
            return list(
                session.scalars(
                    select(Model.model_id).where(Model.source == source).order_by(Model.model_id)
                )
            )
    finally:
        engine.dispose()


@pytest.fixture
def run_daemon(tmp_path: Path, provider: HeldProvider, database_url: str) -> Iterator[Process]:
    """``syncer run`` of sources ``fast`` and ``slow``, with ``slow``'s list held by the
    provider; yielded once ``fast`` has synced and ``slow``'s sync is in flight."""
    provider.held.add("slow")
    path = config(tmp_path, provider, "fast", "slow")
    daemon = Process(["--config", str(path), "--database-url", database_url, "run"])
    try:
        assert provider.arrived["slow"].wait(30), daemon.stderr
        wait_for(lambda: ("fast", "ok") in runs(database_url), "fast's sync")
        yield daemon
    finally:
        daemon.kill()


def test_sigterm_abandons_a_sync_still_held_after_stop_timeout_and_the_next_sync_does_it(
    run_daemon: Process, provider: HeldProvider, database_url: str, tmp_path: Path
) -> None:
    run_daemon.signal(signal.SIGTERM)
    code, took = run_daemon.wait(2 + SLACK + 10)

    assert code == 128 + signal.SIGTERM, run_daemon.stderr
    assert took < 2 + SLACK, took
    assert "waiting up to 2s for sync:slow in flight" in run_daemon.stderr
    assert (
        "stop_timeout (2s) passed: exiting without waiting for sync:slow; an unfinished "
        "sync rolls back and is done again at the next start"
    ) in run_daemon.stderr
    assert "freed the leases of sync:slow: another replica or the next start takes them now" in (
        run_daemon.stderr
    )
    assert runs(database_url) == [("fast", "ok")]
    assert models(database_url, "slow") == []
    (lease,) = [row for row in leases(database_url) if row.name == "sync:slow"]
    assert lease.expires_at <= datetime.now(UTC)

    provider.release.set()  # the next start: its lease free, slow is synced at once
    again = Process(
        ["--config", str(tmp_path / "syncer.toml"), "--database-url", database_url, "run"]
    )
    try:
        wait_for(lambda: ("slow", "ok") in runs(database_url), "slow's sync", timeout=20)
        again.signal(signal.SIGTERM)
        assert again.wait(SLACK + 10)[0] == 0, again.stderr
    finally:
        again.kill()
    assert "sync slow: skipped" not in again.stderr  # fast was synced in this interval
    assert models(database_url, "slow") == ["slow-1", "slow-2"]


def test_sigterm_lets_a_sync_in_flight_finish_within_stop_timeout(
    run_daemon: Process, provider: HeldProvider, database_url: str
) -> None:
    run_daemon.signal(signal.SIGTERM)
    time.sleep(0.5)
    provider.release.set()
    code, took = run_daemon.wait(2 + SLACK + 10)

    assert code == 0, run_daemon.stderr
    assert took < 2 + SLACK, took
    assert "syncer stopped" in run_daemon.stderr
    assert sorted(runs(database_url)) == [("fast", "ok"), ("slow", "ok")]
    assert models(database_url, "slow") == ["slow-1", "slow-2"]


@pytest.mark.parametrize("second", [signal.SIGINT, signal.SIGTERM])
def test_a_second_signal_stops_syncer_run_at_once(
    tmp_path: Path, provider: HeldProvider, database_url: str, second: signal.Signals
) -> None:
    provider.held.add("slow")
    path = config(tmp_path, provider, "slow", stop_timeout="5m")
    daemon = Process(["--config", str(path), "--database-url", database_url, "run"])
    try:
        assert provider.arrived["slow"].wait(30), daemon.stderr
        daemon.signal(signal.SIGINT)
        wait_for(lambda: "waiting up to 5m for sync:slow" in daemon.stderr, "the first signal")
        daemon.signal(second)
        code, took = daemon.wait(SLACK + 10)
    finally:
        daemon.kill()

    assert code == 128 + second, daemon.stderr
    assert took < SLACK, took
    assert f"received {second.name} again: exiting without waiting for sync:slow" in (daemon.stderr)
    assert runs(database_url) == []


def test_syncer_run_with_nothing_in_flight_stops_at_once_and_cleanly(
    tmp_path: Path, provider: HeldProvider, database_url: str
) -> None:
    path = config(tmp_path, provider, "fast", stop_timeout="5m")
    daemon = Process(["--config", str(path), "--database-url", database_url, "run"])
    try:
        wait_for(lambda: ("fast", "ok") in runs(database_url), "fast's sync")
        daemon.signal(signal.SIGTERM)
        code, took = daemon.wait(SLACK + 10)
    finally:
        daemon.kill()

    assert code == 0, daemon.stderr
    assert daemon.stderr.splitlines()[-1].endswith("INFO syncer.runtime.scheduler: syncer stopped")
    assert took < SLACK, took


def start_sync(
    tmp_path: Path, provider: HeldProvider, database_url: str, *names: str, stop_timeout: str = "2s"
) -> Process:
    path = config(tmp_path, provider, *names, stop_timeout=stop_timeout)
    return Process(["--config", str(path), "--database-url", database_url, "sync"])


def test_ctrl_c_in_syncer_sync_prints_what_committed_and_exits_130(
    tmp_path: Path, provider: HeldProvider, database_url: str
) -> None:
    """``b`` is held; ``c`` commits after it in time but before it in nothing: its summary,
    waiting behind ``b``'s in the sources' order, is printed all the same."""
    provider.held.add("b")
    process = start_sync(tmp_path, provider, database_url, "a", "b", "c")
    try:
        assert provider.arrived["b"].wait(30), process.stderr
        wait_for(lambda: {("a", "ok"), ("c", "ok")} <= set(runs(database_url)), "a and c")
        process.signal(signal.SIGINT)
        code, took = process.wait(2 + SLACK + 10)
    finally:
        process.kill()

    assert code == 130, process.stderr
    assert took < 2 + SLACK, took
    assert [line.split(" in ")[0] for line in process.stdout.splitlines()] == [
        "a: 2 models, 2 added, 0 vanished, 0 reappeared, 0 changed",
        "c: 2 models, 2 added, 0 vanished, 0 reappeared, 0 changed",
    ]
    assert process.stderr.splitlines()[-2:] == [
        "SIGINT: stopping; waiting up to 2s for b (SIGINT again stops at once)",
        "Interrupted by SIGINT: 1 source not synced: b (abandoned, rolled back)",
    ]
    assert sorted(runs(database_url)) == [("a", "ok"), ("c", "ok")]
    assert models(database_url, "b") == []


def test_ctrl_c_in_syncer_sync_prints_a_sync_that_ends_within_stop_timeout(
    tmp_path: Path, provider: HeldProvider, database_url: str
) -> None:
    provider.held.add("b")
    process = start_sync(tmp_path, provider, database_url, "a", "b")
    try:
        assert provider.arrived["b"].wait(30), process.stderr
        wait_for(lambda: ("a", "ok") in runs(database_url), "a")
        process.signal(signal.SIGINT)
        wait_for(lambda: "waiting up to 2s for b" in process.stderr, "the stop")
        provider.release.set()
        code, _ = process.wait(2 + SLACK + 10)
    finally:
        process.kill()

    assert code == 130, process.stderr
    assert [line.split(":")[0] for line in process.stdout.splitlines()] == ["a", "b"]
    assert process.stderr.splitlines()[-1] == "Interrupted by SIGINT: every source synced"
    assert sorted(runs(database_url)) == [("a", "ok"), ("b", "ok")]


def test_a_second_ctrl_c_stops_syncer_sync_at_once(
    tmp_path: Path, provider: HeldProvider, database_url: str
) -> None:
    provider.held.add("b")
    process = start_sync(tmp_path, provider, database_url, "a", "b", stop_timeout="5m")
    try:
        assert provider.arrived["b"].wait(30), process.stderr
        wait_for(lambda: ("a", "ok") in runs(database_url), "a")
        process.signal(signal.SIGINT)
        wait_for(lambda: "waiting up to 5m for b" in process.stderr, "the first Ctrl-C")
        process.signal(signal.SIGINT)
        code, took = process.wait(SLACK + 10)
    finally:
        process.kill()

    assert code == 130, process.stderr
    assert took < SLACK, took
    assert process.stdout.startswith("a: 2 models, 2 added")
    assert process.stderr.splitlines()[-1] == (
        "Interrupted by SIGINT: 1 source not synced: b (abandoned, rolled back)"
    )


@pytest.mark.postgres
def test_a_sync_abandoned_in_the_middle_of_its_transaction_leaves_nothing_of_it(
    tmp_path: Path, provider: HeldProvider, postgres_url: str
) -> None:
    """The sync is stopped after it wrote its models, before its commit: a test session
    holds the row of ``source_listings`` it writes next. (SQLite has one writer at a time,
    so nothing outside a sync can stop it half-way.)"""
    first = start_sync(tmp_path, provider, postgres_url, "b")
    assert first.wait(30)[0] == 0, first.stderr
    first.kill()
    provider.lists["b"] = ["b-1", "b-3"]  # b-2 vanishes, b-3 is added
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as holder, holder.begin():
            holder.execute(text("SELECT * FROM source_listings WHERE source = 'b' FOR UPDATE"))
            process = start_sync(tmp_path, provider, postgres_url, "b")
            try:
                wait_for(lambda: _waiting_on_a_lock(engine), "the sync to wait mid-transaction")
                process.signal(signal.SIGTERM)
                code, took = process.wait(2 + SLACK + 10)
            finally:
                process.kill()
        assert code == 128 + signal.SIGTERM, process.stderr
        assert took < 2 + SLACK, took
        assert "1 source not synced: b (abandoned, rolled back)" in process.stderr
        assert runs(postgres_url) == [("b", "ok")]
        assert models(postgres_url, "b") == ["b-1", "b-2"]
        with read_session(engine) as session:
            assert session.scalars(select(ModelEvent.model_id)).all() == ["b-1", "b-2"]
            vanished = session.scalar(select(Model.vanished_at).where(Model.model_id == "b-2"))
        assert vanished is None
    finally:
        engine.dispose()

    again = syncer(
        "--config", str(tmp_path / "syncer.toml"), "--database-url", postgres_url, "sync"
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("b: 2 models, 1 added, 1 vanished")


def _waiting_on_a_lock(engine: Any) -> bool:
    """Whether another session waits on a row lock (the sync, at ``source_listings``)."""
    with engine.connect() as connection:
        return bool(
            connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            )
        )
