"""The limit in process: ``handwritten_sqlite``'s sync, counting the SQL statements it sends.

The in-process benchmark times it beside syncer's ``Syncer`` in a worker process, on the
same data; the whole-process benchmark runs the same script as a program of its own.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tests.benchmarks import handwritten_sqlite

__all__ = ["connect", "create_schema", "sync"]

connect = handwritten_sqlite.connect


def create_schema(connection: sqlite3.Connection) -> None:
    connection.executescript(handwritten_sqlite.SCHEMA)


class _Counting:
    """A connection that counts what it is asked to execute (one per ``executemany``)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.sent = 0

    def execute(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        self.sent += 1
        return self.connection.execute(sql, parameters)

    def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:
        self.sent += 1
        return self.connection.executemany(sql, rows)


def sync(connection: sqlite3.Connection, base_url: str, source: str) -> tuple[dict[str, int], int]:
    """One sync; returns the counts of what happened and the number of SQL statements sent."""
    counting = _Counting(connection)
    counts = handwritten_sqlite.sync(counting, base_url, source)
    return counts, counting.sent
