"""Copying a whole syncer database to another one: SQLite to PostgreSQL, history intact.

Every table is copied row for row in one transaction on the target, in an order that keeps
foreign keys satisfied, through the same column types syncer uses (times stay UTC, JSON
stays JSON), and PostgreSQL's id sequences are moved past the copied ids so new rows do
not collide. The target must be empty of syncer data: a copy never merges two histories.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine, Table, func, select, text

from syncer.db import migrate
from syncer.db.engine import read_session, write_session
from syncer.db.revision import HEAD, current_revision
from syncer.db.tables import metadata
from syncer.errors import StoreError

__all__ = ["CopyReport", "copy_database"]

#: Rows per INSERT batch: bounded memory whatever the size of the history.
BATCH = 5000


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        counts = ", ".join(f"{table} {count}" for table, count in self.rows.items())
        return f"copied {sum(self.rows.values())} rows: {counts}"


def copy_database(source: Engine, target: Engine) -> CopyReport:
    """Copy every syncer table of ``source`` (at the current schema) into empty ``target``."""
    if current_revision(source) != HEAD:
        raise StoreError(
            "the source database is not at the current schema: run `syncer db upgrade` on it first"
        )
    migrate.upgrade(target)
    tables: list[Table] = list(metadata.sorted_tables)
    report = CopyReport()
    with read_session(source) as reading, write_session(target) as writing, writing.begin():
        for table in tables:
            if writing.scalar(select(func.count()).select_from(table)):
                raise StoreError(
                    f"the target database already has rows in {table.name}: "
                    "copy only into an empty database"
                )
        for table in tables:
            copied = 0
            rows = reading.execute(select(table)).mappings().yield_per(BATCH)
            for batch in rows.partitions(BATCH):
                writing.execute(table.insert(), [dict(row) for row in batch])
                copied += len(batch)
            report.rows[table.name] = copied
        if target.dialect.name == "postgresql":
            for table in tables:
                if [c.name for c in table.primary_key.columns] == ["id"]:
                    writing.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"COALESCE(MAX(id), 0) + 1, false) FROM {table.name}"
                        )
                    )
    return report
