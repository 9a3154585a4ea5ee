"""The whole-process verdicts: each missed target is named, and only the stated ones count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.benchmarks import replicas, scorecard, startup
from tests.benchmarks.scorecard import PHASES


def case(seconds: float, peak: float = 100.0, **per_phase: float) -> dict[str, Any]:
    return {
        "seconds": {p: [per_phase.get(p, seconds)] for p in PHASES},
        "peak_mb": {p: [peak] for p in PHASES},
    }


def whole(hand: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    return {"sqlite": {"handwritten": hand, "syncer": ours}}


def test_each_ratio_missed_at_100k_is_named_and_other_sizes_are_not_judged() -> None:
    report = {
        "whole": {
            1_000: whole(case(1.0), case(9.0)),
            100_000: whole(case(1.0), case(1.0, first=2.5, unchanged=0.9, churned=1.2)),
        },
        "repeat": 1,
    }

    assert scorecard.misses(report) == [
        "whole process sqlite N=100,000 first: 2.50x > 2x",
        "whole process sqlite N=100,000 unchanged: 0.90x > 0.8x",
    ]
    text = scorecard.table(report, ["date line", "machine line"])
    assert text.startswith("date line\nmachine line\n")
    small = next(line for line in text.splitlines() if line.startswith("    1,000"))
    assert "MISS" not in small
    assert text.endswith(
        "targets: MISSED:\n"
        "  - whole process sqlite N=100,000 first: 2.50x > 2x\n"
        "  - whole process sqlite N=100,000 unchanged: 0.90x > 0.8x"
    )


def test_a_million_models_are_judged_on_growth_and_memory_not_on_ratios() -> None:
    report = {
        "whole": {
            100_000: whole(case(1.0), case(0.5)),
            1_000_000: whole(case(1.0, peak=300.0), case(6.0, peak=700.0, churned=5.0)),
        },
        "repeat": 1,
    }

    assert scorecard.misses(report) == [
        "whole process sqlite N=1,000,000 peak RSS: 2.33x > 2x",
        "whole process sqlite N=1,000,000 first: 12.0x the N=100,000 time > 11x",
        "whole process sqlite N=1,000,000 unchanged: 12.0x the N=100,000 time > 11x",
    ]
    assert (
        "growth N=1,000,000 / N=100,000 (syncer, at most 11x): sqlite first 12.0x MISS"
        in scorecard.table(report, [])
    )


def test_a_case_killed_after_the_timeout_is_a_miss() -> None:
    ours = {**case(1.0), "timed_out": "syncer first on sqlite N=100,000: killed after 900 s"}
    ours["seconds"] = {p: [] for p in PHASES}

    missed = scorecard.misses({"whole": {100_000: whole(case(1.0), ours)}, "repeat": 1})

    assert missed == [
        "whole process sqlite N=100,000 syncer: "
        "syncer first on sqlite N=100,000: killed after 900 s"
    ]


def test_many_sources_daemon_and_start_up_misses_are_named() -> None:
    report = {
        "source_count": 1000,
        "per_source": 100,
        "delay_ms": 50.0,
        "startup_repeat": 7,
        "sources": {
            "sqlite": {"seconds": {"first": 95.0, "resync": 4.0}, "peak_mb": {"first": 80.0}}
        },
        "daemon": {
            "postgres": {
                "ticks": 3,
                "runs_min": 1,
                "runs_max": 3,
                "missed_sources": 10,
                "missed_runs": 12,
                "failed": 2,
                "scheduler_missed": 12,
                "max_gap": 120.0,
                "minutes": 3.0,
                "every": 60.0,
                "peak_mb": 90.0,
                "stop_seconds": 1.0,
            }
        },
        "startup": {
            startup.BASELINE: 0.4,
            "syncer --help": 0.4,
            "syncer models": 0.7,
            "syncer runs": 0.5,
        },
    }

    assert scorecard.misses(report) == [
        "1,000 sources sqlite first: 95.0 s > 15 s",
        "syncer run postgres: 10 sources missed 12 runs of 3 ticks",
        "syncer run postgres: 2 failed runs",
        "start-up syncer models: 1.75x > 1.5x",
    ]
    assert "targets: MISSED:" in scorecard.table(report, [])


def test_a_source_that_skipped_a_tick_missed_a_run() -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    minute = timedelta(minutes=1)
    starts = {
        "kept": [start, start + minute, start + 2 * minute],
        "late but kept": [
            start + timedelta(seconds=5),
            start + minute + timedelta(seconds=9),
            start + 2 * minute + timedelta(seconds=3),
        ],
        "skipped one": [start, start + 2 * minute],
    }

    verdict = scorecard.schedule_misses(starts, start + 3 * minute, minute)

    assert verdict["ticks"] == 3
    assert (verdict["missed_sources"], verdict["missed_runs"]) == (1, 1)
    assert verdict["max_gap"] == 120.0


def test_a_tick_too_close_to_the_stop_is_not_expected() -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    minute = timedelta(minutes=1)

    verdict = scorecard.schedule_misses(
        {"a": [start, start + minute]}, start + 2 * minute + timedelta(seconds=10), minute
    )

    assert (verdict["ticks"], verdict["missed_runs"]) == (2, 0)


def test_many_sources_are_judged_by_the_issues_targets_at_1000_and_10000_sources_only() -> None:
    def report(count: int, first: float, resync: float) -> dict[str, Any]:
        return {
            "source_count": count,
            "per_source": 100,
            "delay_ms": 50.0,
            "sources": {
                "postgres": {
                    "seconds": {"first": first, "resync": resync},
                    "peak_mb": {"first": 80.0},
                    "cpu": {"first": 30.0, "resync": 10.0},
                }
            },
        }

    assert scorecard.misses(report(10_000, 41.0, 19.0)) == [
        "10,000 sources postgres first: 41.0 s > 40 s"
    ]
    assert scorecard.misses(report(1_000, 15.0, 6.0)) == [
        "1,000 sources postgres resync: 6.0 s > 5 s"
    ]
    assert scorecard.misses(report(3_000, 99.0, 99.0)) == []
    text = scorecard.table(report(10_000, 30.0, 10.0), [])
    assert "3.00 ms / 1.00 ms" in text  # CPU per source
    assert "targets: all met" in text


def replica_run(count: int, rate: float, missed: int = 0, peak: float = 120.0) -> dict[str, Any]:
    return {
        "replicas": count,
        "ticks": 3,
        "missed_runs": missed,
        "missed_sources": missed,
        "failed": 0,
        "syncs": 300,
        "busy": 300 / rate,
        "rate": rate,
        "minutes": 3.0,
        "every": 60.0,
        "per_replica": [{"syncs": 300 // count, "rate": rate / count, "cpu": 3.0, "peak_mb": peak}]
        * count,
    }


def test_replicas_scaling_is_judged_only_with_a_core_per_replica_and_one_for_the_database() -> None:
    runs = [replica_run(1, 100.0), replica_run(2, 150.0), replica_run(3, 200.0, missed=4)]
    report = {"source_count": 1000, "replicas": runs}

    on_two = scorecard.misses({**report, "cpus": 2})
    on_eight = scorecard.misses({**report, "cpus": 8})

    assert on_two == ["3 replicas: 4 sources missed 4 runs of 3 ticks"]
    assert on_eight == [*on_two, "3 replicas: 2.00x one replica's syncs per second < 2.5x"]
    text = scorecard.table({**report, "cpus": 2}, [])
    assert "not judged on 2 CPUs" in text
    assert "over one replica: 2 replicas 1.50x, 3 replicas 2.00x" in text


def test_a_replica_of_10000_sources_over_300_mb_misses_the_memory_target() -> None:
    report = {"source_count": 10_000, "cpus": 2, "replicas": [replica_run(1, 100.0, peak=310.0)]}

    assert scorecard.misses(report) == ["1 replicas: a replica's peak RSS 310 MB > 300 MB"]


def test_busy_time_is_each_ticks_first_start_to_last_finish() -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    second, minute = timedelta(seconds=1), timedelta(minutes=1)
    runs = [
        (start, start + 2 * second),
        (start + second, start + 5 * second),
        (start + minute, start + minute + 3 * second),
    ]

    assert replicas.busy_seconds(runs, start, minute) == 8.0


def test_a_replicas_share_is_the_successful_syncs_its_log_reports() -> None:
    log = "\n".join(
        [
            "2026-12-01 00:00:01 INFO syncer: sync s0001: 100 models, 0 added, 0 vanished, "
            "0 reappeared, 0 changed in 0.05s",
            "2026-12-01 00:00:01 INFO syncer: sync s0002: 1,200 models, 0 added, 0 vanished, "
            "0 reappeared, 0 changed in 0.05s",
            "2026-12-01 00:00:01 INFO syncer: sync s0003: skipped: replica h:1 is on it",
            "2026-12-01 00:00:01 ERROR syncer: sync s0004: FAILED after 0.10s: boom",
        ]
    )

    assert replicas.ok_syncs_logged(log) == 2
