"""Whole-process syncs: each phase a fresh ``syncer sync``, beside a fresh hand-written script.

A user runs ``syncer sync`` from cron and pays for the whole process: start-up, imports, the
schema check, the sync, the exit. So each phase here is a new process, timed from start to
exit, on the same data as a hand-written script run the same way, in the same run, on
databases of its own. Both databases are set up untimed first (``syncer db upgrade``, the
script's ``--create-schema``). After every phase the benchmark reads back what was recorded
(the run row, its events by kind, the present models), so a fast but wrong sync fails.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.benchmarks.children import (
    HERE,
    BenchError,
    Database,
    Measured,
    Provider,
    child_env,
    measure,
    scratch_database,
)
from tests.benchmarks.provider import CHURN_EVERY
from tests.benchmarks.scorecard import PHASES

__all__ = ["SOURCE", "TimedOut", "checked", "expected", "run", "verify"]

#: The default source ``syncer sync`` builds from OPENAI_BASE_URL, no config file needed.
SOURCE = "openai"
SCRIPTS = {"sqlite": HERE / "handwritten_sqlite.py", "postgres": HERE / "handwritten_postgres.py"}
API_KEY = "sk-benchmark-not-a-secret"


def expected(phase: str, n: int) -> dict[str, int]:
    """The events each phase must record (5% replaced when churned)."""
    replaced = len(range(0, n, CHURN_EVERY))
    return {
        "first": {"added": n, "vanished": 0, "reappeared": 0, "changed": 0},
        "unchanged": {"added": 0, "vanished": 0, "reappeared": 0, "changed": 0},
        "churned": {"added": replaced, "vanished": replaced, "reappeared": 0, "changed": 0},
    }[phase]


def verify(database: Database, phase: str, n: int, runs: int, who: str = "sync") -> None:
    """Raise unless the database holds ``runs`` ok runs, the last one exactly ``phase``'s."""
    rows = database.query(
        "SELECT id, status, models_seen, added, vanished, reappeared, changed FROM sync_runs "
        "WHERE source = ? ORDER BY id",
        (SOURCE,),
    )
    where = f"{who} {phase} (N={n:,}, {database.kind})"
    if len(rows) != runs:
        raise BenchError(f"{where}: {len(rows)} runs recorded, expected {runs}")
    run_id, status, seen, *counts = rows[-1]
    wanted = expected(phase, n)
    recorded = dict(zip(wanted, counts, strict=True))
    events = dict(
        database.query(
            "SELECT kind, count(*) FROM model_events WHERE sync_run_id = ? GROUP BY kind", (run_id,)
        )
    )
    logged = {kind: events.pop(kind, 0) for kind in wanted}
    present = database.query(
        "SELECT count(*) FROM models WHERE source = ? AND vanished_at IS NULL", (SOURCE,)
    )[0][0]
    problems = []
    if status != "ok" or seen != n:
        problems.append(f"run status {status!r} with {seen} models seen")
    if recorded != wanted:
        problems.append(f"run row counts {recorded}")
    if logged != wanted or events:
        problems.append(f"events {logged | events}")
    if present != n:
        problems.append(f"{present} present models")
    if problems:
        raise BenchError(f"{where}: {'; '.join(problems)}; expected {wanted} and {n} present")


class TimedOut(BenchError):
    """A child ran past ``--timeout`` and was killed: reported, not fatal."""


def checked(result: Measured, what: str) -> Measured:
    """``result`` if the child succeeded; else why not, with the end of what it said."""
    if result.timed_out:
        raise TimedOut(f"{what}: killed after {result.seconds:.0f} s")
    if result.returncode != 0:
        raise BenchError(f"{what} exited {result.returncode}:\n{result.tail()}")
    return result


def _case(
    case: str,
    kind: str,
    n: int,
    urls: Sequence[str],
    syncer: list[str],
    postgres_url: str,
    workdir: Path,
    timeout: float,
) -> dict[str, dict[str, float]]:
    """One case's three phases on one fresh database: seconds and peak MB per phase."""
    out: dict[str, dict[str, float]] = {"seconds": {}, "peak_mb": {}}
    with scratch_database(kind, postgres_url, workdir) as database:
        env = child_env(database.url, OPENAI_API_KEY=API_KEY)
        if case == "syncer":
            setup = [*syncer, "db", "upgrade"]
        else:
            setup = [
                sys.executable,
                str(SCRIPTS[kind]),
                "--database",
                database.target,
                "--create-schema",
            ]
        checked(measure(setup, env, timeout), f"{case} set-up on {kind}")
        for runs, (phase, url) in enumerate(zip(PHASES, urls, strict=True), start=1):
            if case == "syncer":
                argv = [*syncer, "sync"]
                env["OPENAI_BASE_URL"] = url
            else:
                argv = [
                    sys.executable,
                    str(SCRIPTS[kind]),
                    "--database",
                    database.target,
                    "--base-url",
                    url,
                    "--source",
                    SOURCE,
                ]
            result = checked(measure(argv, env, timeout), f"{case} {phase} on {kind} N={n:,}")
            verify(database, phase, n, runs, who=case)
            out["seconds"][phase] = result.seconds
            out["peak_mb"][phase] = result.peak_mb
    return out


def run(
    sizes: Sequence[int],
    kinds: Sequence[str],
    repeat: int,
    server: Provider,
    syncer: list[str],
    postgres_url: str,
    workdir: Path,
    timeout: float,
) -> dict[int, dict[str, dict[str, Any]]]:
    """``{n: {kind: {"handwritten"|"syncer": {"seconds": {phase: [...]}, "peak_mb": ...}}}}``.

    Repeats are interleaved (one round of every case, then the next), so that a noisy moment
    of the machine lands on both sides of a ratio.
    """
    results: dict[int, dict[str, dict[str, Any]]] = {
        n: {
            k: {
                c: {"seconds": {p: [] for p in PHASES}, "peak_mb": {p: [] for p in PHASES}}
                for c in ("handwritten", "syncer")
            }
            for k in kinds
        }
        for n in sizes
    }
    for round_ in range(1, repeat + 1):
        for n in sizes:
            urls = [server.url(f"a{n}"), server.url(f"a{n}"), server.url(f"b{n}")]
            for kind in kinds:
                for case in ("handwritten", "syncer"):
                    entry = results[n][kind][case]
                    if "timed_out" in entry:
                        continue
                    print(
                        f"whole process: N={n:,} {kind} {case} (round {round_}/{repeat}) ...",
                        file=sys.stderr,
                        flush=True,
                    )
                    try:
                        one = _case(case, kind, n, urls, syncer, postgres_url, workdir, timeout)
                    except TimedOut as exc:
                        print(exc, file=sys.stderr)
                        entry["timed_out"] = str(exc)
                        continue
                    for measure_, by_phase in one.items():
                        for phase, value in by_phase.items():
                            entry[measure_][phase].append(value)
    return results
