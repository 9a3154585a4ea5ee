"""The schema revision this syncer expects, and the one a database is at, without Alembic.

Every command checks the revision before it reads or writes. Importing Alembic to do so
costs more than the rest of a read command's start-up, so the expected head is a constant
(a test checks it against ``migrations/``) and the database's revision is one query.
"""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

__all__ = ["HEAD", "current_revision"]

#: The newest migration in ``migrations/versions``: what this syncer's code reads and writes.
HEAD = "0015"


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None when it holds no syncer schema (empty)."""
    query = text("SELECT version_num FROM alembic_version")
    with engine.connect() as connection:
        try:
            found = connection.scalar(query)
        except DBAPIError:
            connection.rollback()
            if not engine.dialect.has_table(connection, "alembic_version"):
                return None
            # The table appeared after the query failed: a replica starting beside this
            # one has just created the schema. Asked again, a failure is a real one.
            found = connection.scalar(query)
        return None if found is None else str(found)
