"""The benchmark stays runnable, and its hand-written limit does the same job as syncer."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests.benchmarks import bench_sync, report
from tests.benchmarks.provider import FakeProviderServer, churned, model_list

N = 400


def end_state(connection: sqlite3.Connection) -> tuple[Any, ...]:
    models = connection.execute(
        "SELECT model_id, vanished_at IS NULL, owned_by, created, is_fine_tuned FROM models "
        "ORDER BY model_id"
    ).fetchall()
    events = connection.execute(
        "SELECT kind, count(*) FROM model_events GROUP BY kind ORDER BY kind"
    ).fetchall()
    runs = connection.execute(
        "SELECT status, models_seen, added, vanished, reappeared, changed FROM sync_runs "
        "ORDER BY id"
    ).fetchall()
    return models, events, runs


def test_the_limit_and_syncer_end_in_the_same_state_on_the_benchmarks_data(
    tmp_path: Path,
) -> None:
    with FakeProviderServer() as server:
        first = model_list(N)
        listed = server.publish("a", first)
        urls = [listed, listed, server.publish("b", churned(first))]
        limit_db, syncer_db = tmp_path / "limit.db", tmp_path / "syncer.db"
        spec = {"n": N, "urls": urls, "databases": [str(limit_db)]}
        limit = bench_sync.run_reference({**spec, "case": "reference"})
        with bench_sync.databases("sqlite", 1, "", tmp_path) as urls_:
            ours = bench_sync.run_syncer({**spec, "case": "sqlite", "databases": urls_})
            syncer_db = Path(urls_[0].removeprefix("sqlite:///"))
            with sqlite3.connect(limit_db) as a, sqlite3.connect(syncer_db) as b:
                assert end_state(a) == end_state(b)
    assert set(limit["seconds"]) == set(ours["seconds"]) == set(report.PHASES)
    # The kernel's peak lags its current count by a few pages (per-thread RSS counters).
    assert ours["rss_peak"] >= ours["rss_start"] - 1 > 0
    assert ours["confirm"] > 0


def result(seconds: float, rss: float = 100.0) -> dict[str, Any]:
    return {
        "seconds": dict.fromkeys(report.PHASES, [seconds] * 3),
        "rss_peak": rss,
        "rss_start": 20.0,
        "statements": dict.fromkeys(report.PHASES, 8),
    }


def test_the_table_marks_each_missed_target_and_names_it_in_the_verdict() -> None:
    results = {
        1_000: {"reference": result(1.0), "sqlite": result(9.0)},
        100_000: {"reference": result(1.0), "sqlite": {**result(1.2, rss=250.0)}},
    }

    text = report.table(results, ["header"])

    small = next(line for line in text.splitlines() if "9.000 s" in line)
    assert "9.00x" in small and "MISS" not in small  # 1,000 models: reported, not judged
    assert report.misses(results) == [
        "N=100,000 unchanged: 1.20x > 1.0x",
        "N=100,000 memory: 2.50x > 2.0x",
    ]
    assert text.endswith(
        "MISSED: N=100,000 unchanged: 1.20x > 1.0x; N=100,000 memory: 2.50x > 2.0x"
    )
