"""The hand-written limit on PostgreSQL, as a program of its own: requests + orjson + psycopg.

    python handwritten_postgres.py --database CONNINFO --create-schema
    python handwritten_postgres.py --database CONNINFO --base-url URL [--source NAME]

The same work as ``handwritten_sqlite.py`` (and as ``syncer sync``) on tables shaped like
syncer's on PostgreSQL (timestamptz, JSONB, ``fillfactor = 50``): rows arrive by COPY,
models into a temporary table and from there in one upsert, events straight into
``model_events``, all in one transaction. An unchanged re-sync compares each listed model
with the stored JSONB, decoded with orjson. It decides what changed with the SQLite script's
``changes``, so the two limits cannot drift apart; it imports nothing from syncer.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg
from handwritten_sqlite import changes, columns, command_line, fetch, summary  # beside this file
from psycopg.types.json import set_json_loads

SCHEMA = """
CREATE TABLE sync_runs (
    id SERIAL PRIMARY KEY, source VARCHAR(64) NOT NULL, started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL, status VARCHAR(16) NOT NULL, models_seen INTEGER,
    added INTEGER, vanished INTEGER, reappeared INTEGER, changed INTEGER, error TEXT,
    list_digest VARCHAR(64));
CREATE INDEX ix_sync_runs_source_started_at ON sync_runs (source, started_at);
CREATE TABLE models (
    source VARCHAR(64) NOT NULL, model_id VARCHAR(512) NOT NULL, object TEXT, created BIGINT,
    created_at TIMESTAMPTZ, owned_by TEXT, is_fine_tuned BOOLEAN NOT NULL,
    shutdown_at TIMESTAMPTZ, raw JSONB NOT NULL, first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL, vanished_at TIMESTAMPTZ, deleted_at TIMESTAMPTZ,
    PRIMARY KEY (source, model_id)) WITH (fillfactor = 50);
CREATE TABLE model_events (
    id SERIAL PRIMARY KEY, source VARCHAR(64) NOT NULL, model_id VARCHAR(512) NOT NULL,
    kind VARCHAR(16) NOT NULL, occurred_at TIMESTAMPTZ NOT NULL,
    sync_run_id INTEGER REFERENCES sync_runs (id), old_values JSONB, new_values JSONB,
    details JSONB);
CREATE INDEX ix_model_events_occurred_at ON model_events (occurred_at);
CREATE INDEX ix_model_events_source_model_id ON model_events (source, model_id);
"""

COLUMNS = (
    "source, model_id, object, created, created_at, owned_by, is_fine_tuned, "
    "shutdown_at, raw, first_seen_at, last_seen_at"
)
UPSERT = f"""
INSERT INTO models ({COLUMNS}) SELECT {COLUMNS} FROM incoming
ON CONFLICT (source, model_id) DO UPDATE SET
    object = excluded.object, created = excluded.created, created_at = excluded.created_at,
    owned_by = excluded.owned_by, is_fine_tuned = excluded.is_fine_tuned,
    shutdown_at = excluded.shutdown_at, raw = excluded.raw,
    last_seen_at = excluded.last_seen_at, vanished_at = NULL
"""


def sync(connection: psycopg.Connection[Any], base_url: str, source: str) -> dict[str, int]:
    started = datetime.now(UTC)
    data = fetch(base_url)
    cursor = connection.cursor()
    cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (source,))
    stored = {
        model_id: (raw, vanished)
        for model_id, raw, vanished in cursor.execute(
            "SELECT model_id, raw, vanished_at IS NOT NULL FROM models WHERE source = %s",
            (source,),
        )
    }
    now = datetime.now(UTC)
    found = changes(data, stored, lambda item: item, lambda raw: raw)
    counts = found.counts
    cursor.execute(
        "INSERT INTO sync_runs (source, started_at, finished_at, status, models_seen, added, "
        "vanished, reappeared, changed) VALUES (%s, %s, %s, 'ok', %s, %s, %s, %s, %s) "
        "RETURNING id",
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
    )
    run_id = cursor.fetchone()[0]  # type: ignore[index]
    if found.written:
        cursor.execute("CREATE TEMPORARY TABLE incoming (LIKE models) ON COMMIT DROP")
        with cursor.copy(f"COPY incoming ({COLUMNS}) FROM STDIN") as copy:
            for item, _, _, _, _ in found.written:
                copy.write_row(
                    (source, item["id"], *columns(item), orjson.dumps(item).decode(), now, now)
                )
        cursor.execute(UPSERT)
    if found.missing:
        cursor.execute(
            "UPDATE models SET vanished_at = %s WHERE source = %s AND model_id = ANY(%s)",
            (now, source, found.missing),
        )
    cursor.execute(
        "UPDATE models SET last_seen_at = %s WHERE source = %s AND vanished_at IS NULL",
        (now, source),
    )
    with cursor.copy(
        "COPY model_events (source, model_id, kind, occurred_at, sync_run_id, old_values, "
        "new_values) FROM STDIN"
    ) as copy:
        for item, _, kind, old, new in found.written:
            copy.write_row((source, item["id"], kind, now, run_id, old, new))
        for model_id in found.missing:
            copy.write_row((source, model_id, "vanished", now, run_id, None, None))
    connection.commit()
    return counts


def main() -> int:
    args = command_line(__doc__, "a libpq connection string or URL")
    with psycopg.connect(args.database) as connection:
        if args.create_schema:
            connection.execute(SCHEMA)
        else:
            set_json_loads(orjson.loads, connection)
            print(summary(args.source, sync(connection, args.base_url, args.source)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
