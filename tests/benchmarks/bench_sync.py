"""Benchmark: syncer against a hand-written sync, side by side, in one run.

    python tests/benchmarks/bench_sync.py --whole-process --sizes 100000     # fresh processes
    python tests/benchmarks/bench_sync.py --whole-process --sizes 100000,1000000 --repeat 1
    python tests/benchmarks/bench_sync.py --sources 1000                     # many sources
    python tests/benchmarks/bench_sync.py --sources 1000 --daemon            # + `syncer run`
    python tests/benchmarks/bench_sync.py --startup                          # start-up ratios
    python tests/benchmarks/bench_sync.py --sizes 1000,10000,100000          # in one process

The whole-process modes (any combination, one report and one ``--check``) are in
``suite.py``. Without one of them, the in-process benchmark below runs.

In process: three phases per size N, each timed through the real code (``Syncer`` + ``Client`` over
loopback HTTP): the first sync into an empty database, an unchanged re-sync, and a re-sync
with 5% of the models replaced. The fake provider runs in this process; each case runs in a
worker process of its own, so that its peak resident memory is its own: ``VmHWM``, which
sees what SQLite and psycopg allocate in C (tracemalloc does not) and costs nothing while
timing. Seconds are the median over ``--repeat`` fresh databases. PostgreSQL is skipped,
with a message, when it is unreachable. Not collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``tests.benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks import reference, suite
from tests.benchmarks.provider import CHURN_EVERY, FakeProviderServer, churned, model_list
from tests.benchmarks.report import PHASES, misses, table

SOURCE = "bench"
DEFAULT_POSTGRES_URL = os.environ.get(
    "SYNCER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def expected(phase: str, n: int) -> dict[str, int]:
    """What each phase must report, so a fast but wrong sync cannot pass."""
    replaced = len(range(0, n, CHURN_EVERY))
    return {
        "first": {"added": n, "vanished": 0, "changed": 0},
        "unchanged": {"added": 0, "vanished": 0, "changed": 0},
        "churned": {"added": replaced, "vanished": replaced, "changed": 0},
    }[phase]


def _memory_mb(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process, in MB.

    Not ``ru_maxrss``: Linux carries it over from the parent across fork and exec, so a
    worker would report the benchmark's own size. ``VmHWM`` belongs to this address space.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def run_reference(spec: dict[str, Any]) -> dict[str, Any]:
    """The hand-written limit, on its own SQLite files."""
    seconds: dict[str, list[float]] = {p: [] for p in PHASES}
    statements: dict[str, int] = {}
    start = _memory_mb("VmRSS")
    for path in spec["databases"]:
        connection = reference.connect(path)
        reference.create_schema(connection)
        for phase, base_url in zip(PHASES, spec["urls"], strict=True):
            clock = time.perf_counter()
            counts, sent = reference.sync(connection, base_url, SOURCE)
            seconds[phase].append(time.perf_counter() - clock)
            _check(phase, counts, spec["n"])
            statements[phase] = sent
        connection.close()
    return {
        "seconds": seconds,
        "statements": statements,
        "rss_start": start,
        "rss_peak": _memory_mb("VmHWM"),
    }


def run_syncer(spec: dict[str, Any]) -> dict[str, Any]:
    """The real sync code on already migrated databases."""
    from sqlalchemy import event

    from syncer.config.model import DEFAULT_CONFIRM_VANISH_LIMIT, HTTPSettings, Source
    from syncer.db.engine import make_engine
    from syncer.providers.http import Client
    from syncer.sync.run import Syncer, confirm_vanished

    http = HTTPSettings(max_retries=0)
    seconds: dict[str, list[float]] = {p: [] for p in PHASES}
    statements: dict[str, int] = {}
    start = _memory_mb("VmRSS")
    sent: list[object] = []
    for url in spec["databases"]:
        engine = make_engine(url)
        event.listen(engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
        event.listen(engine, "commit", lambda *args: sent.append("COMMIT"))
        for phase, base_url in zip(PHASES, spec["urls"], strict=True):
            sent.clear()
            clock = time.perf_counter()
            with Client(Source(SOURCE, base_url=base_url).endpoint(), http) as client:
                result = Syncer(engine, client, SOURCE).run()
            seconds[phase].append(time.perf_counter() - clock)
            if not result.ok:
                raise SystemExit(f"{phase} sync did not succeed: {result.summary()}")
            _check(phase, vars(result), spec["n"])
            statements[phase] = len(sent)
        engine.dispose()
    with Client(Source(SOURCE, base_url=spec["urls"][2]).endpoint(), http) as client:
        gone = sorted(m["id"] for m in model_list(spec["n"])[::CHURN_EVERY])
        clock = time.perf_counter()
        confirmed = confirm_vanished(client, gone, DEFAULT_CONFIRM_VANISH_LIMIT)
        confirm = time.perf_counter() - clock
        assert len(confirmed.vanished) == len(gone), "the provider must answer 404"
    return {
        "seconds": seconds,
        "statements": statements,
        "rss_start": start,
        "rss_peak": _memory_mb("VmHWM"),
        "confirm": confirm,
    }


def _check(phase: str, counts: dict[str, Any], n: int) -> None:
    wanted = expected(phase, n)
    got = {key: counts[key] for key in wanted}
    if got != wanted:
        raise SystemExit(f"{phase} sync of {n} models reported {got}, expected {wanted}")


def run_case(spec: dict[str, Any]) -> dict[str, Any]:
    """One case in a fresh process, so its peak memory is its own."""
    completed = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"{spec['case']} at N={spec['n']} failed:\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


@contextmanager
def databases(case: str, count: int, postgres_url: str, workdir: Path) -> Iterator[list[str]]:
    """``count`` fresh databases for one case: migrated for syncer, empty for the reference."""
    if case == "reference":
        yield [str(workdir / f"reference-{uuid.uuid4().hex[:8]}.db") for _ in range(count)]
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from syncer.db import migrate
    from syncer.db.engine import make_engine

    urls, admin = [], None
    if case == "postgres":
        admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        names = [f"syncer_bench_{uuid.uuid4().hex[:12]}" for _ in range(count)]
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        base = make_url(postgres_url)
        urls = [base.set(database=n).render_as_string(hide_password=False) for n in names]
    else:
        urls = [f"sqlite:///{workdir / f'syncer-{uuid.uuid4().hex[:8]}.db'}" for _ in range(count)]
    try:
        for url in urls:
            engine = make_engine(url)
            migrate.upgrade(engine)
            engine.dispose()
        yield urls
    finally:
        if admin is not None:
            with admin.connect() as connection:
                for url in urls:
                    database = make_url(url).database
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            admin.dispose()


def postgres_version(url: str) -> str | None:
    """The server's version, or None (and a message) when no server answers."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("SHOW server_version")).scalar()).split()[0]
    except Exception as exc:  # any failure to connect means: skip PostgreSQL
        print(f"PostgreSQL skipped: cannot connect to {url}: {str(exc).splitlines()[0]}")
        return None
    finally:
        engine.dispose()


def machine(postgres: str | None) -> list[str]:
    uname = platform.uname()
    return [
        f"syncer sync benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"machine: {uname.system} {uname.release} {uname.machine}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"PostgreSQL {postgres or 'skipped'}",
        "seconds: median of the runs on fresh databases; ratio: case / hand-written limit",
        "peak RSS: the worker process's VmHWM; statements: DBAPI calls, first / unchanged / "
        "churned",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        help="comma-separated model counts (default: 1000,10000,100000 in "
        "process, 100000 with --whole-process)",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="fresh databases per case; the median is reported"
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="a PostgreSQL server to create scratch databases on",
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    suite.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.worker:
        spec = json.loads(args.worker)
        run = run_reference if spec["case"] == "reference" else run_syncer
        print(json.dumps(run(spec)))
        return 0
    if suite.wanted(args):
        return suite.main(args)
    sizes = [int(size) for size in (args.sizes or "1000,10000,100000").split(",")]
    postgres = None if args.no_postgres else postgres_version(args.postgres_url)
    cases = ["reference", "sqlite", *(["postgres"] if postgres else [])]
    results: dict[int, dict[str, dict[str, Any]]] = {}
    with FakeProviderServer() as server, tempfile.TemporaryDirectory() as workdir:
        for n in sizes:
            first = model_list(n)
            listed = server.publish(f"a{n}", first)
            urls = [listed, listed, server.publish(f"b{n}", churned(first))]
            results[n] = {}
            for case in cases:
                print(f"N={n:,} {case} ...", file=sys.stderr, flush=True)
                with databases(case, args.repeat, args.postgres_url, Path(workdir)) as dbs:
                    spec = {"case": case, "n": n, "urls": urls, "databases": dbs}
                    results[n][case] = run_case(spec)
    print(table(results, machine(postgres)))
    return 1 if args.check and misses(results) else 0


if __name__ == "__main__":
    sys.exit(main())
