"""The limit: a sync hand-written with sqlite3, executemany and the standard library only.

It does what syncer does to the same schema (upsert listed models, record added, reappeared,
changed and vanished events, move ``last_seen_at``, one transaction, one run row) and nothing
it need not: no validation, no vanish confirmation, no digest. It compares each listed model's
JSON text with the stored text, the natural hand-written way, so an unchanged re-sync reads
every row back. The benchmark times it beside syncer, in the same run, on the same data.
"""

from __future__ import annotations

import json
import sqlite3
import urllib.request
from datetime import UTC, datetime
from typing import Any

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

_UPSERT = """
INSERT INTO models (source, model_id, object, created, created_at, owned_by, is_fine_tuned,
                    shutdown_at, raw, first_seen_at, last_seen_at, vanished_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
ON CONFLICT (source, model_id) DO UPDATE SET
    object = excluded.object, created = excluded.created, created_at = excluded.created_at,
    owned_by = excluded.owned_by, is_fine_tuned = excluded.is_fine_tuned,
    shutdown_at = excluded.shutdown_at, raw = excluded.raw,
    last_seen_at = excluded.last_seen_at, vanished_at = NULL
"""


def connect(path: str) -> sqlite3.Connection:
    """A connection set up as syncer sets up SQLite: WAL, foreign keys, explicit BEGIN."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA foreign_keys=ON")
    return connection


def create_schema(connection: sqlite3.Connection) -> None:
    connection.executescript(SCHEMA)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def sync(connection: sqlite3.Connection, base_url: str, source: str) -> tuple[dict[str, int], int]:
    """One sync; returns the counts of what happened and the number of SQL statements sent."""
    started = _timestamp(datetime.now(UTC))
    with urllib.request.urlopen(f"{base_url}/models", timeout=60) as response:
        data = json.loads(response.read())["data"]
    sent = 0

    def execute(sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        nonlocal sent
        sent += 1
        return connection.execute(sql, parameters)

    def executemany(sql: str, rows: list[tuple[Any, ...]]) -> None:
        nonlocal sent
        sent += 1
        connection.executemany(sql, rows)

    execute("BEGIN IMMEDIATE")
    stored = {
        model_id: (raw, vanished)
        for model_id, raw, vanished in execute(
            "SELECT model_id, raw, vanished_at IS NOT NULL FROM models WHERE source = ?",
            (source,),
        )
    }
    now = _timestamp(datetime.now(UTC))
    rows: list[tuple[Any, ...]] = []
    events: list[tuple[str, str, str | None, str | None]] = []
    listed = set()
    for item in data:
        model_id = item["id"]
        listed.add(model_id)
        raw = json.dumps(item)
        before = stored.get(model_id)
        old_values = new_values = None
        if before is None:
            kind = "added"
        elif before[1]:
            kind = "reappeared"
        elif before[0] != raw:
            kind = "changed"
            old = json.loads(before[0])
            keys = [k for k in old.keys() | item.keys() if old.get(k) != item.get(k)]
            old_values = json.dumps({k: old.get(k) for k in keys})
            new_values = json.dumps({k: item.get(k) for k in keys})
        else:
            continue
        created = item.get("created")
        created_at = None if created is None else _timestamp(datetime.fromtimestamp(created, UTC))
        fine_tuned = model_id.startswith("ft:") or ":ft-" in model_id
        shutdown = item.get("shutdown_date") or item.get("expiration_date")
        rows.append((
            source, model_id, item.get("object"), created, created_at, item.get("owned_by"),
            fine_tuned, shutdown, raw, now, now,
        ))
        events.append((model_id, kind, old_values, new_values))
    missing = [m for m, (_, vanished) in stored.items() if not vanished and m not in listed]
    counts = {"added": 0, "reappeared": 0, "changed": 0, "vanished": len(missing)}
    for _, kind, _, _ in events:
        counts[kind] += 1
    run_id = execute(
        "INSERT INTO sync_runs (source, started_at, finished_at, status, models_seen, added, "
        "vanished, reappeared, changed) VALUES (?, ?, ?, 'ok', ?, ?, ?, ?, ?)",
        (source, started, now, len(data), counts["added"], counts["vanished"],
         counts["reappeared"], counts["changed"]),
    ).lastrowid
    executemany(_UPSERT, rows)
    executemany(
        "UPDATE models SET vanished_at = ? WHERE source = ? AND model_id = ?",
        [(now, source, m) for m in missing],
    )
    execute(
        "UPDATE models SET last_seen_at = ? WHERE source = ? AND vanished_at IS NULL",
        (now, source),
    )
    events += [(m, "vanished", None, None) for m in missing]
    executemany(
        "INSERT INTO model_events (source, model_id, kind, occurred_at, sync_run_id, "
        "old_values, new_values) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(source, m, kind, now, run_id, old, new) for m, kind, old, new in events],
    )
    execute("COMMIT")
    return counts, sent
