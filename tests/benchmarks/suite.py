"""The whole-process modes of ``bench_sync.py``: run the modes asked for, print one report.

Each mode starts ``syncer`` (the entry point beside this Python, or ``--syncer CMD``) as
fresh processes against one fake provider process on 127.0.0.1, on scratch databases
(a SQLite file; a database created on ``--postgres-url`` and dropped after).
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

from syncer import DISTRIBUTION
from tests.benchmarks import replicas, scorecard, sources, startup, whole_process
from tests.benchmarks.children import (
    HERE,
    BenchError,
    compile_sources,
    peak_rss_mb,
    postgres_version,
    provider,
    syncer_command,
)

__all__ = ["add_arguments", "main", "wanted"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    modes = parser.add_argument_group("whole-process modes (any combination; one report)")
    modes.add_argument(
        "--whole-process",
        action="store_true",
        help="each phase a fresh `syncer sync` beside a fresh hand-written "
        "script (sizes: --sizes, default 100000)",
    )
    modes.add_argument(
        "--sources",
        type=int,
        default=0,
        metavar="N",
        help="one `syncer sync` of N sources (e.g. 1000)",
    )
    modes.add_argument("--models-per-source", type=int, default=100, metavar="M")
    modes.add_argument(
        "--delay-ms",
        type=float,
        default=50.0,
        help="the provider answers each source's list this late (ms)",
    )
    modes.add_argument(
        "--daemon",
        action="store_true",
        help="with --sources: also `syncer run` for --run-minutes, then SIGTERM",
    )
    modes.add_argument(
        "--run-minutes",
        type=float,
        metavar="MIN",
        help="how long `syncer run` runs (default 3; implies --daemon)",
    )
    modes.add_argument(
        "--run-every",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="the sources' interval under `syncer run` (default 60)",
    )
    modes.add_argument(
        "--replicas",
        metavar="R,R,...",
        help="with --sources: `syncer run` R times on one PostgreSQL database, "
        "for each R given (e.g. 1,2,3), for --run-minutes each; only "
        "this mode runs",
    )
    modes.add_argument(
        "--startup",
        action="store_true",
        help="`syncer --help`, `syncer models`, `syncer runs` against "
        "`python -c 'import sqlalchemy'`",
    )
    modes.add_argument(
        "--startup-repeat",
        type=int,
        default=7,
        metavar="K",
        help="fresh processes per start-up command; the median counts",
    )
    modes.add_argument(
        "--syncer",
        metavar="CMD",
        help="the syncer command to measure (default: the entry point beside this Python)",
    )
    modes.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        metavar="SECONDS",
        help="kill a child after this long and report it",
    )


def wanted(args: argparse.Namespace) -> bool:
    """Whether any whole-process mode was asked for."""
    return bool(
        args.whole_process
        or args.sources
        or args.startup
        or args.daemon
        or args.run_minutes is not None
        or args.replicas
    )


def _facts(postgres: str | None, syncer: list[str]) -> list[str]:
    uname = platform.uname()
    commit = subprocess.run(
        ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return [
        f"syncer whole-process benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"syncer {version(DISTRIBUTION)} ({commit or 'no git'}): {' '.join(syncer)}",
        f"machine: {uname.system} {uname.release} {uname.machine}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"PostgreSQL {postgres or 'skipped'}; this benchmark's own peak RSS "
        f"{peak_rss_mb():.0f} MB (no child's figure is below it)",
    ]


def main(args: argparse.Namespace) -> int:
    sizes = sorted({int(s) for s in (args.sizes or str(scorecard.RATIO_AT)).split(",")})
    if args.whole_process and scorecard.LINEAR_AT in sizes and scorecard.RATIO_AT not in sizes:
        print(
            f"N={scorecard.LINEAR_AT:,} is judged against N={scorecard.RATIO_AT:,}: adding it",
            file=sys.stderr,
        )
        sizes = sorted({*sizes, scorecard.RATIO_AT})
    replica_counts = [int(r) for r in args.replicas.split(",")] if args.replicas else []
    daemon = args.daemon or (args.run_minutes is not None and not replica_counts)
    if (daemon or replica_counts) and not args.sources:
        print("Error: --daemon, --replicas and --run-minutes need --sources N", file=sys.stderr)
        return 2
    syncer = syncer_command(args.syncer)
    postgres = None if args.no_postgres else postgres_version(args.postgres_url)
    if replica_counts and not postgres:
        print("Error: --replicas needs PostgreSQL (--postgres-url)", file=sys.stderr)
        return 2
    kinds = ["sqlite", *(["postgres"] if postgres else [])]
    served = [*(sizes if args.whole_process else []), *([startup.MODELS] if args.startup else [])]
    report: dict[str, Any] = {
        "repeat": args.repeat or 3,
        "source_count": args.sources,
        "per_source": args.models_per_source,
        "delay_ms": args.delay_ms,
        "startup_repeat": args.startup_repeat,
        "cpus": os.cpu_count() or 1,
    }
    facts = _facts(postgres, syncer)
    compile_sources()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="syncer-bench-") as tmp,
            provider(served, args.sources, args.models_per_source, args.delay_ms) as server,
        ):
            workdir = Path(tmp)
            if args.startup:
                report["startup"] = startup.run(server, syncer, args.startup_repeat, workdir)
            if args.whole_process:
                report["whole"] = whole_process.run(
                    sizes,
                    kinds,
                    report["repeat"],
                    server,
                    syncer,
                    args.postgres_url,
                    workdir,
                    args.timeout,
                )
            if args.sources and not replica_counts:  # --replicas: that mode alone
                report["sources"] = {
                    kind: sources.sync_many(
                        kind,
                        server,
                        args.sources,
                        args.models_per_source,
                        syncer,
                        args.postgres_url,
                        workdir,
                        args.timeout,
                    )
                    for kind in kinds
                }
            if daemon:
                report["daemon"] = {
                    kind: sources.run_daemon(
                        kind,
                        server,
                        args.sources,
                        syncer,
                        args.postgres_url,
                        workdir,
                        args.run_minutes or 3.0,
                        timedelta(seconds=args.run_every),
                    )
                    for kind in kinds
                }
            if replica_counts:
                report["replicas"] = [
                    replicas.run_replicas(
                        server,
                        args.sources,
                        count,
                        syncer,
                        args.postgres_url,
                        workdir,
                        args.run_minutes or 3.0,
                        timedelta(seconds=args.run_every),
                    )
                    for count in replica_counts
                ]
    except BenchError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(scorecard.table(report, facts))
    return 1 if args.check and scorecard.misses(report) else 0
