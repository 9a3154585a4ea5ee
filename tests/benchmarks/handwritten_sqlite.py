"""The hand-written limit on SQLite, as a program of its own: requests + orjson + sqlite3.

    python handwritten_sqlite.py --database FILE --create-schema
    python handwritten_sqlite.py --database FILE --base-url URL [--source NAME]

It does what ``syncer sync`` does to the same tables (upsert the listed models that are new,
back or different, record added, reappeared, changed and vanished events, move
``last_seen_at``, one run row, one transaction) and nothing it need not: no validation, no
vanish confirmation, no fingerprint. An unchanged re-sync compares each model's JSON with the
stored text, the natural hand-written way, so it reads every row back. The whole-process
benchmark starts it as a fresh process beside each ``syncer sync``; the in-process benchmark
(``reference.py``) calls its ``sync``. Standalone on purpose: it imports nothing from syncer
or the benchmark.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import requests

SCHEMA = """
CREATE TABLE sync_runs (
    id INTEGER PRIMARY KEY, source VARCHAR(64) NOT NULL, started_at DATETIME NOT NULL,
    finished_at DATETIME NOT NULL, status VARCHAR(16) NOT NULL, models_seen INTEGER,
    added INTEGER, vanished INTEGER, reappeared INTEGER, changed INTEGER, error TEXT,
    list_digest VARCHAR(64));
CREATE INDEX ix_sync_runs_source_started_at ON sync_runs (source, started_at);
CREATE TABLE models (
    source VARCHAR(64) NOT NULL, model_id VARCHAR(512) NOT NULL, object TEXT, created BIGINT,
    created_at DATETIME, owned_by TEXT, is_fine_tuned BOOLEAN NOT NULL, shutdown_at DATETIME,
    raw JSON NOT NULL, first_seen_at DATETIME NOT NULL, last_seen_at DATETIME NOT NULL,
    vanished_at DATETIME, deleted_at DATETIME, PRIMARY KEY (source, model_id));
CREATE TABLE model_events (
    id INTEGER PRIMARY KEY, source VARCHAR(64) NOT NULL, model_id VARCHAR(512) NOT NULL,
    kind VARCHAR(16) NOT NULL, occurred_at DATETIME NOT NULL,
    sync_run_id INTEGER REFERENCES sync_runs (id), old_values JSON, new_values JSON,
    details JSON);
CREATE INDEX ix_model_events_occurred_at ON model_events (occurred_at);
CREATE INDEX ix_model_events_source_model_id ON model_events (source, model_id);
"""

UPSERT = """
INSERT INTO models (source, model_id, object, created, created_at, owned_by, is_fine_tuned,
                    shutdown_at, raw, first_seen_at, last_seen_at, vanished_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
ON CONFLICT (source, model_id) DO UPDATE SET
    object = excluded.object, created = excluded.created, created_at = excluded.created_at,
    owned_by = excluded.owned_by, is_fine_tuned = excluded.is_fine_tuned,
    shutdown_at = excluded.shutdown_at, raw = excluded.raw,
    last_seen_at = excluded.last_seen_at, vanished_at = NULL
"""


@dataclass
class Changes:
    """What a sync writes: each listed model that is new, back or different (the model, the
    form it is stored in, its event kind, and for a change the differing fields before and
    after), the ids gone missing, and the counts of each kind."""

    written: list[tuple[dict[str, Any], Any, str, str | None, str | None]]
    missing: list[str]
    counts: dict[str, int]


def changes(
    data: list[dict[str, Any]],
    stored: Mapping[str, tuple[Any, bool]],
    encode: Callable[[dict[str, Any]], Any],
    decode: Callable[[Any], dict[str, Any]],
) -> Changes:
    """Compare the listed models with ``stored`` (id -> stored form, vanished). ``encode``
    gives a listed model its stored form, ``decode`` reads a stored one back. The PostgreSQL
    script imports this too, so that the two limits decide alike."""
    written = []
    listed = set()
    for item in data:
        model_id = item["id"]
        listed.add(model_id)
        form = encode(item)
        before = stored.get(model_id)
        old_values = new_values = None
        if before is None:
            kind = "added"
        elif before[1]:
            kind = "reappeared"
        elif before[0] != form:
            kind = "changed"
            old = decode(before[0])
            keys = [k for k in old.keys() | item.keys() if old.get(k) != item.get(k)]
            old_values = orjson.dumps({k: old.get(k) for k in keys}).decode()
            new_values = orjson.dumps({k: item.get(k) for k in keys}).decode()
        else:
            continue
        written.append((item, form, kind, old_values, new_values))
    missing = [m for m, (_, vanished) in stored.items() if not vanished and m not in listed]
    counts = {"added": 0, "reappeared": 0, "changed": 0, "vanished": len(missing)}
    for _, _, kind, _, _ in written:
        counts[kind] += 1
    return Changes(written, missing, counts)


def columns(item: dict[str, Any]) -> tuple[Any, ...]:
    """The columns syncer derives from a model: object, created, created_at, owned_by,
    is_fine_tuned, shutdown_at."""
    created = item.get("created")
    model_id = item["id"]
    return (
        item.get("object"),
        created,
        None if created is None else datetime.fromtimestamp(created, UTC),
        item.get("owned_by"),
        model_id.startswith("ft:") or ":ft-" in model_id,
        item.get("shutdown_date") or item.get("expiration_date"),
    )


def fetch(base_url: str) -> list[dict[str, Any]]:
    response = requests.get(f"{base_url}/models", timeout=(10, 60))
    response.raise_for_status()
    data: list[dict[str, Any]] = orjson.loads(response.content)["data"]
    return data


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def connect(path: str) -> sqlite3.Connection:
    """Set up as syncer sets up SQLite: WAL, foreign keys, explicit transactions."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA foreign_keys=ON")
    return connection


def sync(connection: Any, base_url: str, source: str) -> dict[str, int]:
    """One sync in one transaction; ``connection`` is a ``sqlite3.Connection`` or anything
    with its ``execute`` and ``executemany``."""
    started = timestamp(datetime.now(UTC))
    data = fetch(base_url)
    connection.execute("BEGIN IMMEDIATE")
    stored = {
        model_id: (raw, vanished)
        for model_id, raw, vanished in connection.execute(
            "SELECT model_id, raw, vanished_at IS NOT NULL FROM models WHERE source = ?",
            (source,),
        )
    }
    now = timestamp(datetime.now(UTC))
    found = changes(data, stored, lambda item: orjson.dumps(item).decode(), orjson.loads)
    rows = []
    for item, raw, _, _, _ in found.written:
        obj, created, created_at, owned_by, fine_tuned, shutdown = columns(item)
        rows.append(
            (
                source,
                item["id"],
                obj,
                created,
                created_at and timestamp(created_at),
                owned_by,
                fine_tuned,
                shutdown,
                raw,
                now,
                now,
            )
        )
    counts = found.counts
    run_id = connection.execute(
        "INSERT INTO sync_runs (source, started_at, finished_at, status, models_seen, added, "
        "vanished, reappeared, changed) VALUES (?, ?, ?, 'ok', ?, ?, ?, ?, ?)",
        (
            source,
            started,
            now,
            len(data),
            counts["added"],
            counts["vanished"],
            counts["reappeared"],
            counts["changed"],
        ),
    ).lastrowid
    connection.executemany(UPSERT, rows)
    connection.executemany(
        "UPDATE models SET vanished_at = ? WHERE source = ? AND model_id = ?",
        [(now, source, m) for m in found.missing],
    )
    connection.execute(
        "UPDATE models SET last_seen_at = ? WHERE source = ? AND vanished_at IS NULL",
        (now, source),
    )
    events = [(item["id"], kind, old, new) for item, _, kind, old, new in found.written]
    events += [(m, "vanished", None, None) for m in found.missing]
    connection.executemany(
        "INSERT INTO model_events (source, model_id, kind, occurred_at, sync_run_id, "
        "old_values, new_values) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(source, m, kind, now, run_id, old, new) for m, kind, old, new in events],
    )
    connection.execute("COMMIT")
    return counts


def command_line(doc: str, database: str) -> argparse.Namespace:
    """Both scripts' options: ``--create-schema``, or a sync from ``--base-url``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--database", required=True, help=database)
    parser.add_argument("--create-schema", action="store_true", help="create the tables, no sync")
    parser.add_argument("--base-url", help="the provider, e.g. http://127.0.0.1:8000/v1")
    parser.add_argument("--source", default="openai")
    args = parser.parse_args()
    if not (args.create_schema or args.base_url):
        parser.error("--base-url or --create-schema")
    return args


def summary(source: str, counts: dict[str, int]) -> str:
    return f"{source}: " + ", ".join(f"{v} {k}" for k, v in counts.items())


def main() -> int:
    args = command_line(__doc__, "the SQLite file")
    connection = connect(args.database)
    if args.create_schema:
        connection.executescript(SCHEMA)
    else:
        print(summary(args.source, sync(connection, args.base_url, args.source)))
    connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
