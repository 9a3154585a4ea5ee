"""A sync's statements: SQL compiled once from the tables, rows handed to the driver as is.

Through SQLAlchemy's executemany, each of 100,000 rows paid for a parameter dictionary and a
bind processor per column, and reading the state back for a Row and a result processor per
column: that was most of a large sync. Here the statements are still SQLAlchemy's, compiled
from the tables in ``schema``, but rows travel as plain tuples: ``executemany`` on SQLite,
``COPY`` on PostgreSQL (psycopg writes the rows in C). Values whose storage format SQLAlchemy
owns (timestamps on SQLite) still go through the column's own bind processor, once per
distinct value. Each function sends one statement, or a fixed few, whatever the number of
rows; each takes the caller's connection (or session) and never commits. The small ones (the
run row, the source's listing) are plain SQLAlchemy. PostgreSQL's dialect is imported only
for PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    MetaData,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    column,
    func,
    insert,
    literal_column,
    null,
    select,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Dialect, Row
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateTable, DropTable
from sqlalchemy.sql.compiler import Compiled

from syncer.db.engine import connection_of
from syncer.db.tables import events_table, listings_table, runs_table, state_table
from syncer.db.upsert import insert_for
from syncer.jsontext import encode_json
from syncer.lifecycle import Lifecycle, Matcher, decide
from syncer.sync.diff import StoredModel
from syncer.sync.parse import ModelRecord

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "LISTED_AT",
    "StoredState",
    "add_run",
    "insert_events",
    "latest_run",
    "load_documents",
    "load_state",
    "mark_vanished",
    "record_listing",
    "relist_present",
    "upsert_models",
]

#: What a row of listed models holds; ``created_at`` is derived from ``created`` in SQL, so
#: no Python runs per model to make and format a timestamp.
_LISTED = (
    "model_id",
    "object",
    "created",
    "owned_by",
    "is_fine_tuned",
    "shutdown_at",
    "display_name",
    "context_length",
    "replacement",
    "raw",
    "raw_digest",
    # The lifecycle in force (``syncer.lifecycle``), decided with the row.
    "lifecycle_status",
    "effective_shutdown_at",
    "date_source",
    "date_origin",
    "date_source_url",
    "effective_replacement",
)
_EVENT_ROW = (
    "source",
    "model_id",
    "kind",
    "occurred_at",
    "sync_run_id",
    "old_values",
    "new_values",
    "details",
)

_m = state_table.c

# PostgreSQL: listed rows are COPYed into a temporary table, upserted from it by one
# INSERT ... SELECT ... ON CONFLICT, and the table dropped (the rollback of a failed sync
# drops it too).
_incoming = Table(
    "syncer_incoming_models",
    MetaData(),
    *(Column(name, state_table.c[name].type) for name in _LISTED),
    prefixes=["TEMPORARY"],
)


def _upsert(statement: Any) -> Any:
    """Rewrite a listed model on conflict, but for its key and when it was first seen."""
    kept = {"source", "model_id", "first_seen_at"}
    return statement.on_conflict_do_update(
        index_elements=["source", "model_id"],
        set_={c.name: statement.excluded[c.name] for c in state_table.c if c.name not in kept},
    )


def _model_values(listed: Mapping[str, Any], created_at: Any) -> dict[str, Any]:
    """Every model_state column: the listed values, then what one sync sets for all of them
    (a listed model has no ``seen_until``: the source's listing says when it was seen)."""
    now = bindparam("now", type_=state_table.c.first_seen_at.type)
    return {
        "source": bindparam("source", type_=state_table.c.source.type),
        **listed,
        "created_at": created_at,
        "first_seen_at": now,
        "seen_until": null(),
        "vanished_at": null(),
        "deleted_at": null(),
    }


def _sqlite_upsert() -> Any:
    listed: dict[str, Any] = {name: bindparam(name) for name in _LISTED}
    # SQLAlchemy's storage format for a timestamp on SQLite, for whole seconds.
    created_at = func.strftime(
        literal_column("'%Y-%m-%d %H:%M:%S'"), listed["created"], literal_column("'unixepoch'")
    ).concat(literal_column("'.000000'"))
    return _upsert(sqlite.insert(state_table).values(_model_values(listed, created_at)))


#: Below this many rows, PostgreSQL gets them as one JSON document, unpacked in SQL by
#: json_to_recordset: one statement, and one orjson call where SQLAlchemy's executemany
#: processed every value of every row in Python. A temporary table to COPY into is four
#: statements, with catalog writes, for what one does; past this many rows COPY's speed wins.
COPY_FROM = 200


def _postgres_document_upsert(dialect: Dialect) -> str:
    """The statement, compiled once: PostgreSQL's dialect is imported only for PostgreSQL."""
    key = ("upsert_postgres_document", dialect.name)
    if key in _compiled:
        return _compiled[key].string
    from sqlalchemy.dialects import postgresql

    rows = (
        func.json_to_recordset(cast(bindparam("rows"), postgresql.JSON))
        .table_valued(*(column(name, state_table.c[name].type) for name in _LISTED))
        .render_derived(with_types=True)
    )
    values = _model_values(dict(rows.c), func.to_timestamp(rows.c.created))
    statement = postgresql.insert(state_table).from_select(
        list(values), select(*values.values()).select_from(rows)
    )
    _compiled[key] = _upsert(statement).compile(dialect=dialect)
    return _compiled[key].string


@cache
def _postgres_upsert() -> Any:
    from sqlalchemy.dialects import postgresql

    values = _model_values(dict(_incoming.c), func.to_timestamp(_incoming.c.created))
    rows = select(*values.values()).select_from(_incoming)
    return _upsert(postgresql.insert(state_table).from_select(list(values), rows))


#: When the source's latest listing was, for the row at hand: what a model that leaves the
#: listing keeps as ``seen_until``.
LISTED_AT = (
    select(listings_table.c.listed_at).where(listings_table.c.source == _m.source).scalar_subquery()
)


#: ``model_id`` among the ``ids`` parameter (``_id_list``), by dialect. No arrays in SQLite:
#: one JSON list of ids, unpacked by json_each.
_AMONG = {
    "postgresql": _m.model_id == any_(bindparam("ids")),
    "sqlite": _m.model_id.in_(select(func.json_each(bindparam("ids")).table_valued("value"))),
}


def _id_list(dialect: Dialect, model_ids: Sequence[str]) -> Any:
    """The ``ids`` parameter of ``_AMONG``: an array, or a JSON list for SQLite."""
    return list(model_ids) if dialect.name == "postgresql" else json.dumps(list(model_ids))


def _documents(among: Any) -> Any:
    return select(_m.model_id, cast(_m.raw, Text)).where(_m.source == bindparam("of_source"), among)


def _vanish(listed: Any) -> Any:
    return (
        update(state_table)
        .where(_m.source == bindparam("of_source"), listed)
        .values(vanished_at=bindparam("now"), seen_until=func.coalesce(_m.seen_until, LISTED_AT))
    )


_STATEMENTS: dict[str, tuple[Any, Sequence[str]]] = {
    # (statement, the names of its parameters in the order our rows hold them)
    "state_present": (
        select(_m.model_id, _m.raw_digest).where(
            _m.source == bindparam("source"), _m.vanished_at.is_(None)
        ),
        ("source",),
    ),
    "state_vanished": (
        select(_m.model_id, _m.raw_digest).where(
            _m.source == bindparam("source"), _m.vanished_at.is_not(None)
        ),
        ("source",),
    ),
    "upsert_sqlite": (
        _sqlite_upsert(),
        (
            "source",
            "model_id",
            "object",
            "created",
            "created",
            "owned_by",
            "is_fine_tuned",
            "shutdown_at",
            "display_name",
            "context_length",
            "replacement",
            "raw",
            "raw_digest",
            "now",
            "lifecycle_status",
            "effective_shutdown_at",
            "date_source",
            "date_origin",
            "date_source_url",
            "effective_replacement",
        ),
    ),
    "events_sqlite": (events_table.insert(), _EVENT_ROW),
    **{
        f"vanish_{name}": (_vanish(among), ("now", "of_source", "ids"))
        for name, among in _AMONG.items()
    },
    **{
        f"documents_{name}": (_documents(among), ("of_source", "ids"))
        for name, among in _AMONG.items()
    },
}
_compiled: dict[tuple[str, str], Compiled] = {}


def _compile(name: str, dialect: Dialect) -> Compiled:
    """A statement compiled once per dialect, checked to take its parameters in our order."""
    key = (name, dialect.name)
    if key not in _compiled:
        statement, names = _STATEMENTS[name]
        compiled = statement.compile(dialect=dialect, column_keys=list(names))
        order = tuple(compiled.positiontup or ())
        if order and order != tuple(names):
            raise RuntimeError(f"{name} takes {order}, but its rows hold {names}")
        _compiled[key] = compiled
    return _compiled[key]


def _parameters(compiled: Compiled, values: Mapping[str, Any]) -> Any:
    """One row of parameters, in the driver's style: a tuple (SQLite) or a dict (psycopg)."""
    order = getattr(compiled, "positiontup", None)  # set for positional paramstyles only
    if order:
        return tuple(values[name] for name in order)
    return dict(values)


def _binder(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any]:
    """The column's own bind processing, skipped for a value the same as the last one.

    A sync's events share one ``now``: it is processed once, not once per event.
    """
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return lambda value: value
    last: list[Any] = [None, None]

    def bind(value: Any) -> Any:
        if value is None:
            return None
        if value is not last[0]:
            last[:] = value, process(value)
        return last[1]

    return bind


def _json(value: Any) -> str | None:
    """JSON text for a JSON column; None stays SQL NULL, as the tables declare."""
    return None if value is None else encode_json(value)


def _dialect(db: Connection | Session) -> Dialect:
    dialect = connection_of(db).dialect
    if dialect.name not in ("sqlite", "postgresql"):
        raise NotImplementedError(f"syncer supports SQLite and PostgreSQL, not {dialect.name}")
    return dialect


@contextmanager
def _driver_cursor(connection: Connection, statement: str, parameters: Any = ()) -> Iterator[Any]:
    """The driver's own cursor, for a statement SQLAlchemy would run slowly or not at all.

    Listeners are told about the statement as SQLAlchemy tells them about its own, so
    statement counts and logging stay truthful, and driver errors become SQLAlchemy's.
    """
    error = connection.dialect.loaded_dbapi.Error
    cursor = connection.connection.cursor()
    dispatch = connection.dispatch
    try:
        dispatch.before_cursor_execute(connection, cursor, statement, parameters, None, False)
        yield cursor
        dispatch.after_cursor_execute(connection, cursor, statement, parameters, None, False)
    except error as exc:
        raise DBAPIError.instance(statement, parameters, exc, error) from exc
    finally:
        cursor.close()


def _copy(connection: Connection, table: Table, names: Sequence[str], rows: Iterable[Any]) -> None:
    """PostgreSQL: stream ``rows`` into ``table`` with one ``COPY ... FROM STDIN``."""
    statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    with _driver_cursor(connection, statement) as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


class StoredState(Mapping[str, StoredModel]):
    """The stored models of one source by id, each made into a ``StoredModel`` only if asked.

    A sync of 100,000 unchanged models looks at the digests (``present_digests``) and at
    the few models the list changed or left out; making every model an object would cost
    more than reading it. The stored JSON is read only for the models listed with another
    digest (``differing``, ``load_documents``): what the diff compares field by field.
    """

    def __init__(
        self, present: Iterable[tuple[str, str | None]], vanished: Iterable[tuple[str, str | None]]
    ) -> None:
        #: id -> digest, built from the driver's rows in C: no Python runs per model.
        self._present = dict(present)
        self._vanished = dict(vanished)
        self._documents: dict[str, str] = {}

    def __getitem__(self, model_id: str) -> StoredModel:
        document = self._documents.get(model_id)
        if model_id in self._present:
            return StoredModel(model_id, document, True, self._present[model_id])
        return StoredModel(model_id, document, False, self._vanished[model_id])

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._present or model_id in self._vanished

    def __iter__(self) -> Iterator[str]:
        yield from self._present
        yield from self._vanished

    def __len__(self) -> int:
        return len(self._present) + len(self._vanished)

    def present_digests(self) -> dict[str, str | None]:
        """The digest of every present model, by id (the state's own map: do not change it)."""
        return self._present

    def add_documents(self, rows: Iterable[tuple[str, str]]) -> None:
        self._documents.update(rows)

    def differing(self, records: Iterable[ModelRecord]) -> list[str]:
        """The stored models these records list with another digest."""
        present, vanished = self._present, self._vanished
        return [
            r.model_id
            for r in records
            if (r.model_id in present and present[r.model_id] != r.digest)
            or (r.model_id in vanished and vanished[r.model_id] != r.digest)
        ]


def load_state(db: Connection | Session, source: str) -> StoredState:
    """Every stored model of ``source``: presence and digest, not the JSON (see
    ``load_documents``), so an unchanged inventory is compared without reading a document.
    Two statements, present and vanished, each fetched in one call (psycopg's rows one by
    one cost more than the query)."""
    connection = connection_of(db)
    return StoredState(
        *(
            _fetch(connection, name, {"source": source})
            for name in ("state_present", "state_vanished")
        )
    )


def load_documents(
    db: Connection | Session, source: str, state: StoredState, model_ids: Sequence[str]
) -> None:
    """Read the stored JSON of ``model_ids``, as text, into ``state``: one statement."""
    if not model_ids:
        return
    connection = connection_of(db)
    dialect = connection.dialect
    values = {"of_source": source, "ids": _id_list(dialect, model_ids)}
    state.add_documents(_fetch(connection, f"documents_{dialect.name}", values))


def _fetch(connection: Connection, name: str, values: Mapping[str, Any]) -> list[Any]:
    """Every row of statement ``name``, through the driver's cursor, in one call."""
    compiled = _compile(name, connection.dialect)
    parameters = _parameters(compiled, values)
    with _driver_cursor(connection, compiled.string, parameters) as cursor:
        cursor.execute(compiled.string, parameters)
        return list(cursor.fetchall())


def _decisions(source: str, records: Sequence[ModelRecord], matcher: Matcher) -> list[Lifecycle]:
    """The lifecycle in force of each listed record, in order (pure, given the matcher)."""
    return [
        decide(
            r.shutdown_at,
            r.replacement,
            r.lifecycle_status,
            matcher.match(source, r.model_id) if matcher else None,
        )
        for r in records
    ]


def upsert_models(
    db: Connection | Session,
    source: str,
    records: Sequence[ModelRecord],
    now: datetime,
    matcher: Matcher,
) -> None:
    """Insert new models and rewrite listed ones; ``first_seen_at`` stays as it was.

    Each row is written with its lifecycle in force, decided from the record and the
    imported entries in ``matcher`` (``_decisions``).
    PostgreSQL: many rows are COPYed into a temporary table and upserted from it, a few are
    sent as one JSON document (``COPY_FROM``)."""
    if not records:
        return
    dialect = _dialect(db)
    connection = connection_of(db)
    decided = _decisions(source, records, matcher)
    if dialect.name == "postgresql" and len(records) < COPY_FROM:
        rows = encode_json(
            [
                {
                    "model_id": r.model_id,
                    "object": r.object,
                    "created": r.created,
                    "owned_by": r.owned_by,
                    "is_fine_tuned": r.is_fine_tuned,
                    "shutdown_at": r.shutdown_at and r.shutdown_at.isoformat(),
                    "display_name": r.display_name,
                    "context_length": r.context_length,
                    "replacement": r.replacement,
                    "raw": r.raw,
                    "raw_digest": r.digest,
                    "lifecycle_status": d.status,
                    "effective_shutdown_at": d.shutdown_at and d.shutdown_at.isoformat(),
                    "date_source": d.date_source,
                    "date_origin": d.origin,
                    "date_source_url": d.source_url,
                    "effective_replacement": d.replacement,
                }
                for r, d in zip(records, decided, strict=True)
            ]
        )
        connection.exec_driver_sql(
            _postgres_document_upsert(dialect), {"rows": rows, "source": source, "now": now}
        )
        return
    if dialect.name == "postgresql":
        connection.execute(CreateTable(_incoming))
        _copy(
            connection,
            _incoming,
            _LISTED,
            (
                (
                    r.model_id,
                    r.object,
                    r.created,
                    r.owned_by,
                    r.is_fine_tuned,
                    r.shutdown_at,
                    r.display_name,
                    r.context_length,
                    r.replacement,
                    encode_json(r.raw),
                    r.digest,
                    d.status,
                    d.shutdown_at,
                    d.date_source,
                    d.origin,
                    d.source_url,
                    d.replacement,
                )
                for r, d in zip(records, decided, strict=True)
            ),
        )
        connection.execute(_postgres_upsert(), {"source": source, "now": now})
        connection.execute(DropTable(_incoming))
        return
    timestamp = _binder(state_table.c.shutdown_at, dialect)
    stamp = timestamp(now)
    connection.exec_driver_sql(
        _compile("upsert_sqlite", dialect).string,
        [
            (
                source,
                r.model_id,
                r.object,
                r.created,
                r.created,
                r.owned_by,
                r.is_fine_tuned,
                timestamp(r.shutdown_at),
                r.display_name,
                r.context_length,
                r.replacement,
                encode_json(r.raw),
                r.digest,
                stamp,
                d.status,
                timestamp(d.shutdown_at),
                d.date_source,
                d.origin,
                d.source_url,
                d.replacement,
            )
            for r, d in zip(records, decided, strict=True)
        ],
    )


def mark_vanished(
    db: Connection | Session, source: str, model_ids: Sequence[str], when: datetime | None
) -> None:
    """Set ``vanished_at`` of the given models to ``when`` (None: present), in one statement.

    Each keeps when it was last listed (``seen_until``): before ``record_listing`` moves the
    source's listing on, that is the previous listing."""
    if not model_ids:
        return
    dialect = _dialect(db)
    compiled = _compile(f"vanish_{dialect.name}", dialect)
    stamp = _binder(state_table.c.vanished_at, dialect)(when)
    values = {"now": stamp, "of_source": source, "ids": _id_list(dialect, model_ids)}
    connection_of(db).exec_driver_sql(compiled.string, _parameters(compiled, values))


def insert_events(db: Connection | Session, events: Sequence[Mapping[str, Any]]) -> None:
    """Append events (mappings holding every model_events column but ``id``)."""
    if not events:
        return
    dialect = _dialect(db)
    timestamp = _binder(events_table.c.occurred_at, dialect)
    rows = (
        (
            source,
            model_id,
            kind,
            timestamp(occurred_at),
            run_id,
            _json(old),
            _json(new),
            _json(details),
        )
        for source, model_id, kind, occurred_at, run_id, old, new, details in map(
            itemgetter(*_EVENT_ROW), events
        )
    )
    connection = connection_of(db)
    if dialect.name == "postgresql":
        _copy(connection, events_table, _EVENT_ROW, rows)
    else:
        connection.exec_driver_sql(_compile("events_sqlite", dialect).string, list(rows))


def latest_run(db: Connection | Session, source: str, status: str | None = None) -> Row[Any] | None:
    """The source's latest run (of ``status``), a row of ``sync_runs``."""
    run = runs_table.c
    query = select(runs_table).where(run.source == source)
    if status is not None:
        query = query.where(run.status == status)
    return connection_of(db).execute(query.order_by(run.id.desc()).limit(1)).first()


#: The small statements of every sync, built once: a sync of 1,000 small sources spent more
#: time building them than the database spent running them.
_ADD_RUN = insert(runs_table).returning(*runs_table.c)
_listing_upserts: dict[str, Any] = {}


def add_run(db: Connection | Session, **values: Any) -> Row[Any]:
    """Insert a run row; returns it as written, with its id."""
    return connection_of(db).execute(_ADD_RUN, values).one()


def _listing_upsert(dialect: Dialect) -> Any:
    if dialect.name not in _listing_upserts:
        statement = insert_for(dialect.name)(listings_table)
        _listing_upserts[dialect.name] = statement.on_conflict_do_update(
            index_elements=["source"], set_={"listed_at": statement.excluded.listed_at}
        )
    return _listing_upserts[dialect.name]


def record_listing(db: Connection | Session, source: str, now: datetime) -> None:
    """Record that the source's models were listed at ``now``: one row, whatever their number.

    The ``models`` view reads it as ``last_seen_at`` of every model without ``seen_until``.
    """
    connection_of(db).execute(_listing_upsert(_dialect(db)), {"source": source, "listed_at": now})


def relist_present(db: Connection | Session, source: str) -> None:
    """Present models kept unlisted by an earlier sync (their vanish unconfirmed) and listed
    again: the source's listing says when they were seen once more. Usually no row."""
    connection_of(db).execute(
        update(state_table)
        .where(_m.source == source, _m.vanished_at.is_(None), _m.seen_until.is_not(None))
        .values(seen_until=None)
    )
