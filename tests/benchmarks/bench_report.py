"""Benchmark: the HTML report over 5,000 models and a year of daily syncs, on both databases.

    python tests/benchmarks/bench_report.py [--check] [--no-postgres]

The history is written straight into the tables (a year of syncs through the real code
would time the sync, not the report): 4,000 models on day 0, then each day 3 added, 2
vanished and 5 changed, a vanished model back every third day, and 300 shutdown dates
announced over the year, half of them still ahead. That is 5,092 models, 366 runs and
about 8,000 events. The report is read and rendered as ``syncer report html`` does it;
seconds are the median of 3 renders. ``--check`` exits 1 unless it takes under 2 s and
5 MB. Not collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``syncer`` importable from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from syncer.db import migrate
from syncer.db.engine import make_engine
from syncer.db.schema import SyncRun
from syncer.db.tables import events_table, listings_table, state_table
from syncer.reporting.history_queries import snapshot_session
from syncer.reporting.html import report_html

START = datetime(2025, 6, 1, 6, tzinfo=UTC)
DAYS = 365
LIMIT_SECONDS, LIMIT_MB = 2.0, 5.0
POSTGRES_URL = os.environ.get(
    "SYNCER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def history() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(runs, models, events) of the year, deterministic."""
    pick = random.Random(14)
    runs: list[dict[str, Any]] = []
    models: dict[str, dict[str, Any]] = {}
    events: list[dict[str, Any]] = []
    present: list[str] = []
    gone: list[str] = []
    announced = set(pick.sample(range(1, DAYS), 300))

    def event(model_id: str, kind: str, at: datetime, run: int, **values: Any) -> None:
        events.append(
            {
                "source": "bench",
                "model_id": model_id,
                "kind": kind,
                "occurred_at": at,
                "sync_run_id": run,
                "old_values": values.get("old"),
                "new_values": values.get("new"),
                "details": None,
            }
        )

    def add(at: datetime, run: int) -> None:
        model_id = f"model-{len(models):05d}"
        raw = {
            "id": model_id,
            "object": "model",
            "created": int(at.timestamp()),
            "owned_by": "bench",
        }
        models[model_id] = {
            "source": "bench",
            "model_id": model_id,
            "object": "model",
            "created": raw["created"],
            "created_at": at,
            "owned_by": "bench",
            "is_fine_tuned": False,
            "shutdown_at": None,
            "raw": raw,
            "raw_digest": None,
            "first_seen_at": at,
            "seen_until": at,
            "vanished_at": None,
            "deleted_at": None,
        }
        present.append(model_id)
        event(model_id, "added", at, run)

    for day in range(DAYS + 1):
        at, run = START + timedelta(days=day), day + 1
        runs.append(
            {
                "id": run,
                "source": "bench",
                "started_at": at,
                "finished_at": at + timedelta(seconds=2),
                "status": "ok",
                "models_seen": 0,
                "list_digest": None,
            }
        )
        for _ in range(4000 if day == 0 else 3):
            add(at, run)
        if day == 0:
            continue
        for _ in range(2):
            model_id = present.pop(pick.randrange(len(present)))
            models[model_id]["vanished_at"] = at
            gone.append(model_id)
            event(model_id, "vanished", at, run)
        if day % 3 == 0 and gone:
            model_id = gone.pop(pick.randrange(len(gone)))
            models[model_id]["vanished_at"] = None
            present.append(model_id)
            event(model_id, "reappeared", at, run)
        for model_id in pick.sample(present, 5):
            owner = models[model_id]["owned_by"]
            models[model_id]["owned_by"] = models[model_id]["raw"]["owned_by"] = owner + "+"
            event(
                model_id, "changed", at, run, old={"owned_by": owner}, new={"owned_by": owner + "+"}
            )
        if day in announced:
            model_id = pick.choice(present)
            shutdown = (at + timedelta(days=pick.randrange(30, 540))).replace(hour=0)
            models[model_id]["shutdown_at"] = shutdown
            models[model_id]["raw"]["shutdown_date"] = shutdown.date().isoformat()
            event(
                model_id,
                "changed",
                at,
                run,
                old={"shutdown_date": None},
                new={"shutdown_date": shutdown.date().isoformat()},
            )
        runs[-1]["models_seen"] = len(present)
    end = START + timedelta(days=DAYS)
    for model_id in present:
        models[model_id]["seen_until"] = None
    return runs, list(models.values()), events, end


def fill(engine: Engine) -> int:
    migrate.upgrade(engine)
    runs, models, events, end = history()
    with engine.begin() as connection:
        connection.execute(SyncRun.__table__.insert(), runs)
        connection.execute(state_table.insert(), models)
        connection.execute(listings_table.insert(), [{"source": "bench", "listed_at": end}])
        connection.execute(events_table.insert(), events)
    return len(events)


def measure(engine: Engine) -> tuple[float, int]:
    now = START + timedelta(days=DAYS, hours=1)
    seconds, size = [], 0
    for _ in range(3):
        began = time.perf_counter()
        with snapshot_session(engine) as session:
            page = report_html(session, now)
        seconds.append(time.perf_counter() - began)
        size = len(page.encode())
    return statistics.median(seconds), size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    missed = False
    with TemporaryDirectory() as workdir:
        cases = [("sqlite", f"sqlite:///{workdir}/report.db", None)]
        if not args.no_postgres:
            admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
            try:
                with admin.connect():
                    pass
            except Exception as exc:  # any failure to connect: no server here
                print(f"postgres skipped: {type(exc).__name__}")
            else:
                name = f"syncer_bench_{uuid.uuid4().hex[:8]}"
                url = make_url(POSTGRES_URL).set(database=name)
                cases.append(("postgres", url.render_as_string(hide_password=False), name))
        for case, url, created in cases:
            if created:
                with admin.connect() as connection:
                    connection.execute(text(f'CREATE DATABASE "{created}"'))
            engine = make_engine(url)
            try:
                count = fill(engine)
                seconds, size = measure(engine)
            finally:
                engine.dispose()
                if created:
                    with admin.connect() as connection:
                        connection.execute(text(f'DROP DATABASE "{created}" WITH (FORCE)'))
            ok = seconds < LIMIT_SECONDS and size < LIMIT_MB * 1e6
            missed |= not ok
            print(
                f"{case:8}  5,092 models, {count:,} events, {DAYS + 1} runs: "
                f"{seconds:.2f} s, {size / 1e6:.2f} MB  {'ok' if ok else 'MISSED'}"
            )
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
