"""The one choice of INSERT by dialect, for the statements that upsert.

``INSERT ... ON CONFLICT DO UPDATE`` is the same SQL on SQLite and PostgreSQL, yet
SQLAlchemy builds it from each dialect's own ``insert``. PostgreSQL's dialect is imported
only when one is used (as in ``types``): on SQLite it would slow every command's start-up
for nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.dialects import sqlite

__all__ = ["insert_for"]


def insert_for(dialect: str) -> Callable[..., Any]:
    """``insert`` of the dialect named ``dialect`` (``sqlite`` or ``postgresql``): the
    statement that has ``on_conflict_do_update`` and ``excluded``."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        return insert
    return sqlite.insert
