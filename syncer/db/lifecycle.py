"""The shell around ``syncer.lifecycle``: load its inputs, store its decisions.

A sync decides the lifecycle of the models it writes, with their rows, from ``load_matcher``
(``sync.store``); an import, or anything else that changes the imported dates, calls
``refresh``, which decides again for every stored model and rewrites only the rows whose
decision moved. Both issue a fixed number of statements whatever the number of models. Core
only: a sync never imports the ORM.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, select, update

from syncer.db.engine import connection_of
from syncer.db.tables import deprecations_table, state_table
from syncer.lifecycle import Deprecation, Lifecycle, Matcher, decide

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["Moved", "load_entries", "load_matcher", "refresh", "stored"]

_d, _m = deprecations_table.c, state_table.c

#: The stored columns of a ``Lifecycle``, in its fields' order.
STORED = (
    "effective_shutdown_at",
    "date_source",
    "date_origin",
    "date_source_url",
    "effective_replacement",
    "lifecycle_status",
)


def load_entries(db: Connection | Session) -> list[Deprecation]:
    """Every imported entry: one statement."""
    rows = connection_of(db).execute(
        select(
            _d.model,
            _d.shutdown_at,
            _d.replacement,
            _d.source,
            _d.source_url,
            _d.origin,
        )
    )
    return [Deprecation(*row) for row in rows]


def load_matcher(db: Connection | Session) -> Matcher:
    return Matcher(load_entries(db))


def stored(row: Any) -> Lifecycle:
    """A ``Lifecycle`` from a row holding the ``STORED`` columns by name."""
    return Lifecycle(*(getattr(row, name) for name in STORED))


@dataclass(frozen=True, slots=True)
class Moved:
    """A model whose stored lifecycle ``refresh`` rewrote."""

    source: str
    model_id: str
    present: bool
    before: Lifecycle
    after: Lifecycle


_UPDATE = (
    update(state_table)
    .where(_m.source == bindparam("key_source"), _m.model_id == bindparam("key_model_id"))
    .values({name: bindparam(name) for name in STORED})
)


def refresh(db: Connection | Session, entries: Sequence[Deprecation] | None = None) -> list[Moved]:
    """Decide every stored model's lifecycle again and rewrite those that moved.

    Called in the transaction that changed the imported dates (``entries``: them as they
    now are, else read), so the rows never disagree with the table they follow from. Two
    statements and a third when a row moved: every row is read, the moved ones written by
    one executemany.
    """
    connection = connection_of(db)
    matcher = Matcher(load_entries(connection) if entries is None else entries)
    rows = connection.execute(
        select(
            _m.source,
            _m.model_id,
            _m.vanished_at,
            _m.shutdown_at,
            _m.replacement,
            *(_m[name] for name in STORED),
        )
    )
    moved = []
    for row in rows:
        before = stored(row)
        after = decide(
            row.shutdown_at,
            row.replacement,
            row.lifecycle_status,
            matcher.match(row.source, row.model_id) if matcher else None,
        )
        if after != before:
            moved.append(Moved(row.source, row.model_id, row.vanished_at is None, before, after))
    if moved:
        connection.execute(
            _UPDATE,
            [
                {
                    "key_source": m.source,
                    "key_model_id": m.model_id,
                    **dict(zip(STORED, _values(m.after), strict=True)),
                }
                for m in moved
            ],
        )
    return moved


def _values(lifecycle: Lifecycle) -> tuple[Any, ...]:
    return (
        lifecycle.shutdown_at,
        lifecycle.date_source,
        lifecycle.origin,
        lifecycle.source_url,
        lifecycle.replacement,
        lifecycle.status,
    )
