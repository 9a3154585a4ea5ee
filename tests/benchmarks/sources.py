"""Many sources: one ``syncer sync`` (and a bounded ``syncer run``) over a thousand of them.

The configuration is generated: ``[[sources]]`` ``s0000`` ... each pointing at its own prefix
of the fake provider, which answers every list after a delay, as a remote provider does. The
sync is timed as a whole process, twice (the first sync, then an unchanged re-sync), and
what it recorded is read back: every source one more ok run, every model added once.

``syncer run`` gets the same sources on a short interval for a bounded time from its first
run, then SIGTERM; the runs each source recorded are then counted against the ticks it
should have had.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.benchmarks.children import (
    BenchError,
    Database,
    Provider,
    child_env,
    measure,
    scratch_database,
    utc,
)
from tests.benchmarks.provider import source_name
from tests.benchmarks.scorecard import schedule_misses
from tests.benchmarks.whole_process import checked

__all__ = [
    "STARTUP_LIMIT",
    "STOP_LIMIT",
    "Stopper",
    "config_text",
    "environment",
    "run_daemon",
    "sync_many",
    "verify_many",
]

KEY_ENV = "BENCH_API_KEY"
#: How long the daemon may take to record its first run, and to stop after SIGTERM.
STARTUP_LIMIT = 120.0
STOP_LIMIT = 60.0


def config_text(server: Provider, sources: int, every: str) -> str:
    """A TOML file with ``sources`` sources on ``every``, without jitter (the worst case: all
    of them due at the same moment)."""
    lines = ["[schedule]", f'every = "{every}"', "jitter = 0", ""]
    for i in range(sources):
        name = source_name(i)
        lines += [
            "[[sources]]",
            f'name = "{name}"',
            f'base_url = "{server.url(name)}"',
            f'api_key_env = "{KEY_ENV}"',
            "",
        ]
    return "\n".join(lines)


def verify_many(database: Database, sources: int, per_source: int, runs: int) -> None:
    """Raise unless every source has ``runs`` ok runs and every model was added exactly once."""
    per = database.query(
        "SELECT source, count(*), sum(CASE WHEN status = 'ok' THEN 1 ELSE 0 END) "
        "FROM sync_runs GROUP BY source"
    )
    wrong = [
        f"{name}: {ok} ok of {count}" for name, count, ok in per if (count, ok) != (runs, runs)
    ]
    events = dict(database.query("SELECT kind, count(*) FROM model_events GROUP BY kind"))
    present = database.query("SELECT count(*) FROM models WHERE vanished_at IS NULL")[0][0]
    problems = []
    if len(per) != sources or wrong:
        problems.append(f"{len(per)} sources ran; {', '.join(wrong[:3]) or 'all as expected'}")
    if events != {"added": sources * per_source}:
        problems.append(f"events {events}")
    if present != sources * per_source:
        problems.append(f"{present} present models")
    if problems:
        raise BenchError(
            f"{sources} sources, sync {runs} on {database.kind}: "
            f"{'; '.join(problems)}; expected {runs} ok runs per source and "
            f"{sources * per_source:,} models added once"
        )


def environment(database: Database, config: Path) -> dict[str, str]:
    return child_env(database.url, SYNCER_CONFIG=str(config), **{KEY_ENV: "sk-bench-many"})


def sync_many(
    kind: str,
    server: Provider,
    sources: int,
    per_source: int,
    syncer: list[str],
    postgres_url: str,
    workdir: Path,
    timeout: float,
) -> dict[str, Any]:
    """The first sync and an unchanged re-sync of every source, each one process."""
    config = workdir / f"sources-{sources}.toml"
    config.write_text(config_text(server, sources, "15m"))
    with scratch_database(kind, postgres_url, workdir) as database:
        env = environment(database, config)
        checked(measure([*syncer, "db", "upgrade"], env, timeout), f"set-up on {kind}")
        out: dict[str, Any] = {"seconds": {}, "peak_mb": {}, "cpu": {}}
        for runs, phase in enumerate(("first", "resync"), start=1):
            print(f"many sources: {sources:,} on {kind}, {phase} ...", file=sys.stderr, flush=True)
            result = measure([*syncer, "sync"], env, timeout)
            if result.timed_out:
                out["timed_out"] = f"{phase}: killed after {result.seconds:.0f} s"
                break
            checked(result, f"sync of {sources} sources on {kind}")
            verify_many(database, sources, per_source, runs)
            out["seconds"][phase] = result.seconds
            out["peak_mb"][phase] = result.peak_mb
            out["cpu"][phase] = result.cpu
        return out


class Stopper:
    """Sends every daemon it is handed SIGTERM ``seconds`` after the database's first sync
    run, so that their start-up (imports, migrating the database) is not counted against
    the schedule."""

    def __init__(self, database: Database, seconds: float) -> None:
        self.database, self.seconds = database, seconds
        self.stopped_at: datetime | None = None
        self._processes: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def __call__(self, process: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._processes.append(process)
            if self._thread is None:
                self._thread = threading.Thread(target=self._stop, daemon=True)
                self._thread.start()

    def _first_run(self) -> object:
        try:
            return self.database.query("SELECT min(started_at) FROM sync_runs")[0][0]
        except self.database.errors:  # not migrated yet
            return None

    def _running(self) -> list[subprocess.Popen[bytes]]:
        with self._lock:
            return [p for p in self._processes if p.returncode is None]

    def _stop(self) -> None:
        deadline = time.monotonic() + STARTUP_LIMIT
        while self._running() and time.monotonic() < deadline:
            if self._first_run() is not None:
                time.sleep(self.seconds)
                break
            time.sleep(0.2)
        running = self._running()
        if running:
            self.stopped_at = datetime.now(UTC)
        for process in running:
            os.kill(process.pid, signal.SIGTERM)  # not send_signal: its poll() would reap


def run_daemon(
    kind: str,
    server: Provider,
    sources: int,
    syncer: list[str],
    postgres_url: str,
    workdir: Path,
    minutes: float,
    every: timedelta,
) -> dict[str, Any]:
    """``syncer run`` for ``minutes`` from its first run, then SIGTERM; how many runs each
    source missed."""
    config = workdir / f"daemon-{sources}.toml"
    config.write_text(config_text(server, sources, f"{every.total_seconds():g}s"))
    with scratch_database(kind, postgres_url, workdir) as database:
        env = environment(database, config)
        print(
            f"syncer run: {sources:,} sources on {kind} every {every.total_seconds():g} s "
            f"for {minutes:g} min ...",
            file=sys.stderr,
            flush=True,
        )
        stopper = Stopper(database, minutes * 60)
        result = measure(
            [*syncer, "run"], env, STARTUP_LIMIT + minutes * 60 + STOP_LIMIT, on_start=stopper
        )
        ended = datetime.now(UTC)
        if stopper.stopped_at is None:
            raise BenchError(
                f"syncer run on {kind} recorded no run within {STARTUP_LIMIT:g} s "
                f"(exit {result.returncode}):\n{result.tail()}"
            )
        if not result.timed_out:
            checked(result, f"syncer run on {kind}")
        starts: dict[str, list[datetime]] = {source_name(i): [] for i in range(sources)}
        failed = 0
        for name, status, started_at in database.query(
            "SELECT source, status, started_at FROM sync_runs"
        ):
            if status == "ok":
                starts.setdefault(name, []).append(utc(started_at))
            else:
                failed += 1
    warnings = sum("was missed by" in line for line in result.stderr.splitlines())
    return {
        **schedule_misses(starts, stopper.stopped_at, every),
        "failed": failed,
        "scheduler_missed": warnings,
        "minutes": minutes,
        "every": every.total_seconds(),
        "peak_mb": result.peak_mb,
        "cpu": result.cpu,
        "stop_seconds": (ended - stopper.stopped_at).total_seconds(),
        "killed": result.timed_out,
    }
