"""The whole-process benchmark runs end to end on tiny sizes, and a wrong sync cannot pass it.

No timing is asserted: these prove the instrument works, not that syncer is fast.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.benchmarks import replicas, sources, startup, whole_process
from tests.benchmarks.bench_sync import DEFAULT_POSTGRES_URL
from tests.benchmarks.children import BenchError, Provider, provider, syncer_command
from tests.benchmarks.scorecard import PHASES

pytestmark = pytest.mark.slow

N = 200
SOURCES = 20


@pytest.fixture(scope="module")
def server() -> Iterator[Provider]:
    with provider(sizes=[N, startup.MODELS], sources=SOURCES) as running:
        yield running


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def kind(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres" and request.getfixturevalue("postgres_admin") is None:
        pytest.skip("no PostgreSQL server (set SYNCER_TEST_POSTGRES_URL)")
    return str(request.param)


def whole(
    server: Provider, tmp_path: Path, kind: str = "sqlite", syncer: list[str] | None = None
) -> dict[str, Any]:
    return whole_process.run(
        [N],
        [kind],
        1,
        server,
        syncer or syncer_command(),
        DEFAULT_POSTGRES_URL,
        tmp_path,
        timeout=120,
    )[N][kind]


def test_each_phase_is_a_fresh_syncer_and_script_process_that_recorded_the_right_events(
    server: Provider, tmp_path: Path, kind: str
) -> None:
    cases = whole(server, tmp_path, kind)

    for case in ("handwritten", "syncer"):
        assert set(cases[case]["seconds"]) == set(PHASES)
        for phase in PHASES:
            assert len(cases[case]["seconds"][phase]) == 1
            assert cases[case]["seconds"][phase][0] > 0
            assert cases[case]["peak_mb"][phase][0] > 0
    assert not list(tmp_path.iterdir()), "scratch databases are removed"


def fake_syncer(tmp_path: Path, sync: str) -> list[str]:
    """A ``syncer`` whose ``db upgrade`` creates the tables and whose ``sync`` runs ``sync``."""
    script = tmp_path / "fake_syncer.py"
    script.write_text(
        textwrap.dedent(f"""
        import os, subprocess, sys
        database = os.environ["SYNCER_DATABASE_URL"].removeprefix("sqlite:///")
        handwritten = [sys.executable, {str(whole_process.SCRIPTS["sqlite"])!r},
                       "--database", database]
        if sys.argv[1:] == ["db", "upgrade"]:
            sys.exit(subprocess.call([*handwritten, "--create-schema"]))
        url = os.environ["OPENAI_BASE_URL"]
        {sync}
    """)
    )
    return [sys.executable, str(script)]


def test_a_sync_that_exits_0_without_syncing_fails_the_benchmark(
    server: Provider, tmp_path: Path
) -> None:
    lazy = fake_syncer(tmp_path, "sys.exit(0)")

    with pytest.raises(BenchError, match=r"syncer first \(N=200, sqlite\): 0 runs recorded"):
        whole(server, tmp_path, syncer=lazy)


def test_a_sync_that_misses_the_churn_fails_the_benchmark(server: Provider, tmp_path: Path) -> None:
    stale = fake_syncer(
        tmp_path,
        'sys.exit(subprocess.call([*handwritten, "--base-url", url.replace("/b200/", "/a200/")]))',
    )

    with pytest.raises(BenchError, match=r"syncer churned \(N=200, sqlite\): run row counts"):
        whole(server, tmp_path, syncer=stale)


def test_many_sources_sync_and_a_bounded_daemon_run_end_to_end(
    server: Provider, tmp_path: Path
) -> None:
    synced = sources.sync_many(
        "sqlite", server, SOURCES, 100, syncer_command(), "", tmp_path, timeout=120
    )
    daemon = sources.run_daemon(
        "sqlite",
        server,
        SOURCES,
        syncer_command(),
        "",
        tmp_path,
        minutes=0.05,
        every=timedelta(seconds=1),
    )

    assert set(synced["seconds"]) == {"first", "resync"}
    assert daemon["ticks"] >= 1 and daemon["runs_max"] >= 1
    assert daemon["failed"] == 0


@pytest.mark.postgres
def test_replicas_share_the_sources_on_one_postgres_database_end_to_end(
    server: Provider, tmp_path: Path, postgres_admin: object
) -> None:
    if postgres_admin is None:
        pytest.skip("no PostgreSQL server (set SYNCER_TEST_POSTGRES_URL)")

    run = replicas.run_replicas(
        server,
        SOURCES,
        2,
        syncer_command(),
        DEFAULT_POSTGRES_URL,
        tmp_path,
        minutes=0.05,
        every=timedelta(seconds=1),
    )

    assert run["replicas"] == 2 and len(run["per_replica"]) == 2
    assert run["syncs"] >= SOURCES and run["failed"] == 0
    assert sum(p["syncs"] for p in run["per_replica"]) == run["syncs"]
    assert all(p["cpu"] > 0 and p["peak_mb"] > 0 for p in run["per_replica"])


def test_startup_times_each_command_beside_the_import_sqlalchemy_baseline(
    server: Provider, tmp_path: Path
) -> None:
    seconds = startup.run(server, syncer_command(), 1, tmp_path, warmup=0)

    assert list(seconds) == [startup.BASELINE, "syncer --help", "syncer models", "syncer runs"]
    assert all(value > 0 for value in seconds.values())
