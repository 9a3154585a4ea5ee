"""What the whole-process benchmarks share: timed child processes, scratch databases, the
provider process, and reading back what a sync recorded.

A child is timed from start to exit by the wall clock, and its CPU seconds (user + system)
and peak memory are the kernel's ``ru_utime``, ``ru_stime`` and ``ru_maxrss`` for it
(``os.wait4``): the CPU figure holds on a loaded machine, where the wall clock does not.
The peak is never below that of the process that started the child, so the benchmark keeps
itself small: the provider and its data live in a process of their own, and nothing here
imports syncer or SQLAlchemy.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "HERE",
    "BenchError",
    "Database",
    "Measured",
    "Provider",
    "child_env",
    "compile_sources",
    "libpq_url",
    "measure",
    "peak_rss_mb",
    "postgres_version",
    "provider",
    "scratch_database",
    "syncer_command",
    "utc",
]

HERE = Path(__file__).resolve().parent


class BenchError(Exception):
    """The benchmark cannot go on: a child failed, or a sync recorded the wrong thing."""


@dataclass(frozen=True)
class Measured:
    """One child process: wall seconds from start to exit, its peak RSS, what it said, and
    the CPU seconds it used (user + system, its own threads and children included)."""

    seconds: float
    peak_mb: float
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False
    cpu: float = 0.0

    def tail(self) -> str:
        return "\n".join((self.stderr or self.stdout).strip().splitlines()[-5:])


def peak_rss_mb() -> float:
    """This process's own peak RSS: the floor of every child's figure."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reap(process: subprocess.Popen[bytes], timeout: float) -> tuple[int, float, bool, float]:
    """Wait for ``process``, killing it after ``timeout`` seconds: its exit code, peak MB,
    whether it had to be killed, and its CPU seconds."""
    killed = threading.Event()

    def kill() -> None:
        # Not ``process.kill()``: its ``poll()`` could reap the child before ``wait4`` does.
        killed.set()
        os.kill(process.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait again
    cpu = usage.ru_utime + usage.ru_stime
    return process.returncode, usage.ru_maxrss / 1024, killed.is_set(), cpu


def measure(
    argv: Sequence[str],
    env: Mapping[str, str],
    timeout: float = 900.0,
    on_start: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> Measured:
    """Run ``argv`` to its end; ``on_start`` gets the process as soon as it runs (to stop it)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        clock = time.perf_counter()
        process = subprocess.Popen(
            list(argv), env=dict(env), stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        if on_start is not None:
            on_start(process)
        returncode, peak, killed, cpu = _reap(process, timeout)
        seconds = time.perf_counter() - clock
        out.seek(0)
        err.seek(0)
        return Measured(
            seconds,
            peak,
            returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            killed,
            cpu,
        )


def syncer_command(override: str | None = None) -> list[str]:
    """The ``syncer`` a user runs: the entry point beside this Python, else ``-m syncer``."""
    if override:
        return shlex.split(override)
    script = Path(sys.executable).with_name("syncer")
    return [str(script)] if script.exists() else [sys.executable, "-m", "syncer"]


def child_env(database_url: str, **extra: str) -> dict[str, str]:
    """This environment without syncer's or OpenAI's settings, plus the database and ``extra``.

    Bytecode is cached as on a user's machine (``pip install`` compiles it, and Python writes
    what it compiles): a PYTHONDONTWRITEBYTECODE of the developer's would have each child
    compile syncer from source, which no user pays. ``compile_sources`` fills the cache first.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SYNCER_", "OPENAI_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    return {**env, "SYNCER_DATABASE_URL": database_url, **extra}


def compile_sources() -> None:
    """Byte-compile syncer (as this Python finds it) and the hand-written scripts, as
    ``pip install`` leaves a package, so that no measured child is the first to compile."""
    script = (
        "import compileall, importlib.util, pathlib, sys; "
        "spec = importlib.util.find_spec('syncer'); "
        "dirs = [sys.argv[1], *([str(pathlib.Path(spec.origin).parent)] if spec else [])]; "
        "sys.exit(not all(compileall.compile_dir(d, quiet=1) for d in dirs))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", script, str(HERE)], check=True, env=env)


@dataclass(frozen=True)
class Database:
    """A scratch database: ``url`` for syncer (SQLAlchemy), ``target`` for a hand-written
    script (a file, or a libpq URL)."""

    kind: str
    url: str
    target: str

    @property
    def errors(self) -> tuple[type[Exception], ...]:
        """What its driver raises, e.g. while a table does not exist yet."""
        if self.kind == "sqlite":
            return (sqlite3.Error,)
        import psycopg

        return (psycopg.Error,)

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one read; ``?`` placeholders on both databases."""
        if self.kind == "sqlite":
            with sqlite3.connect(self.target) as connection:
                return connection.execute(sql, tuple(parameters)).fetchall()
        import psycopg

        with psycopg.connect(self.target) as connection:
            return connection.execute(sql.replace("?", "%s"), tuple(parameters)).fetchall()


def libpq_url(url: str, database: str | None = None) -> str:
    """``postgresql+psycopg://u@h/db`` as libpq spells it, optionally on another database."""
    parts = urlsplit(url)
    parts = parts._replace(scheme=parts.scheme.split("+")[0])
    if database is not None:
        parts = parts._replace(path=f"/{database}")
    return parts.geturl()


def postgres_version(url: str) -> str | None:
    """The server's version, or None (and a message) when no server answers."""
    import psycopg

    try:
        with psycopg.connect(libpq_url(url), connect_timeout=5) as connection:
            row = connection.execute("SHOW server_version").fetchone()
    except psycopg.Error as exc:
        print(
            f"PostgreSQL skipped: cannot connect to {url}: {str(exc).splitlines()[0]}",
            file=sys.stderr,
        )
        return None
    return str(row[0]).split()[0] if row else None


@contextmanager
def scratch_database(kind: str, postgres_url: str, workdir: Path) -> Iterator[Database]:
    """An empty database of ``kind``, dropped afterwards."""
    name = f"syncer_bench_{uuid.uuid4().hex[:12]}"
    if kind == "sqlite":
        path = workdir / f"{name}.db"
        yield Database(kind, f"sqlite:///{path}", str(path))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    with psycopg.connect(libpq_url(postgres_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = urlsplit(postgres_url)
    try:
        yield Database(kind, base._replace(path=f"/{name}").geturl(), libpq_url(postgres_url, name))
    finally:
        with psycopg.connect(libpq_url(postgres_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class Provider:
    port: int

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}/v1"


@contextmanager
def provider(
    sizes: Sequence[int] = (),
    sources: int = 0,
    models_per_source: int = 100,
    delay_ms: float = 50.0,
) -> Iterator[Provider]:
    """The fake provider in a process of its own, with every data set encoded up front."""
    argv = [
        sys.executable,
        str(HERE / "provider.py"),
        "--sizes",
        ",".join(map(str, sizes)),
        "--sources",
        str(sources),
        "--models-per-source",
        str(models_per_source),
        "--delay-ms",
        str(delay_ms),
    ]
    with subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stdin is not None
        line = process.stdout.readline()
        if not line:
            raise BenchError("the fake provider did not start")
        try:
            yield Provider(int(json.loads(line)["port"]))
        finally:
            process.stdin.close()
            process.wait(timeout=30)


def utc(value: datetime | str) -> datetime:
    """A timestamp read back from either database, as aware UTC (SQLite keeps naive text)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
