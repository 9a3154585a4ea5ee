"""A source's lifecycle beyond its syncs: renamed, retired, or left behind by the configuration.

A source's name is the key of its whole history: every table with a ``source`` column, and
the leases named after it (``sync:NAME``, ``retention:NAME``). Renaming it in the
configuration alone would start a new, empty history under the new name and leave the old
one's models present for ever; so ``rename`` moves the history to the new name and
``retire`` ends a source that is gone (its present models leave the inventory with a
``source_retired`` event, which is not ``vanished``: the provider removed nothing). Both
decide the stored lifecycle again in their transaction (``db.lifecycle.refresh``): a
rename changes which imported dates match the source's models.

The decisions are pure functions over ``Holdings`` (what the database holds of a source);
the shell reads the holdings and applies the decision in one write transaction, a fixed
number of statements whatever the number of models.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Engine,
    String,
    Table,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    union,
    union_all,
    update,
)

from syncer.db import locks
from syncer.db.engine import connection_of, write_transaction
from syncer.db.lifecycle import refresh
from syncer.db.tables import (
    deprecations_table,
    events_table,
    leases_table,
    listings_table,
    metadata,
    runs_table,
    stale_table,
    state_table,
)
from syncer.db.types import JSONDocument
from syncer.errors import SourceError
from syncer.lifecycle import is_glob
from syncer.sync.store import LISTED_AT

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

__all__ = [
    "RETIRED",
    "Holdings",
    "Renamed",
    "check_rename",
    "check_retire",
    "holdings",
    "rename",
    "require_known",
    "retire",
    "scoped_copies",
    "stored_sources",
    "unconfigured",
    "unconfigured_warning",
    "unknown_source",
]

#: The event kind of a model that left the inventory because its source was retired.
RETIRED = "source_retired"
#: Why, in the event's ``details``.
RETIRED_REASON = "the source was retired: it is no longer in the configuration"

#: Every table keyed by source name, found from the schema so a new one cannot be forgotten.
SOURCE_TABLES: tuple[Table, ...] = tuple(
    table for table in metadata.sorted_tables if "source" in table.c
)
#: The jobs whose leases are named after a source.
LEASE_JOBS = ("sync", "retention")
#: Tables keyed by source that hold no history of it: imported dates scoped to a source are
#: what people (or a scheduled import of LiteLLM's map) say about it, and may name the new
#: name before the rename, so they neither make a rename mix two histories nor block one.
NOT_HISTORY = frozenset({deprecations_table.name})

_m, _lease = state_table.c, leases_table.c


@dataclass(frozen=True)
class Holdings:
    """What the database holds of one source."""

    name: str
    #: Rows per table (``leases`` for the leases named after it); tables without any left out.
    rows: Mapping[str, int]
    #: Models in the present inventory.
    present: int
    #: The replica that holds a live lease on one of its jobs, if one does.
    busy: str | None = None

    @property
    def empty(self) -> bool:
        return not any(self.rows.values())

    @property
    def history(self) -> Mapping[str, int]:
        """``rows`` without the tables that are not the source's history (``NOT_HISTORY``)."""
        return {table: n for table, n in self.rows.items() if table not in NOT_HISTORY}


def unknown_source(name: str, configured: Iterable[str], stored: Iterable[str]) -> SourceError:
    """The error for a source name that names nothing, listing the names that do."""
    listed = [", ".join(names) or "none" for names in (list(configured), sorted(stored))]
    return SourceError(f"unknown source {name!r} (configured: {listed[0]}; stored: {listed[1]})")


def _busy(held: Holdings, action: str) -> SourceError:
    return SourceError(
        f"cannot {action} source {held.name!r}: replica {held.busy} holds a lease on it (a "
        f"`syncer run` still syncs it): update that replica's configuration first"
    )


def check_rename(
    old: Holdings, new: Holdings, configured: Collection[str], stored: Iterable[str]
) -> None:
    """Refuse a rename that would mix two histories or be undone by the next sync.

    The new name may already be configured (the usual order: edit the file, then rename);
    the old one may not, or the next sync would start its history again.
    """
    if old.name == new.name:
        raise SourceError(f"cannot rename source {old.name!r} to itself")
    if old.empty:
        raise unknown_source(old.name, configured, stored)
    if old.name in configured:
        raise SourceError(
            f"source {old.name!r} is still in the configuration: rename it there first, or "
            "the next sync would start its history again"
        )
    if new.history:
        tables = ", ".join(f"{table} {count}" for table, count in sorted(new.history.items()))
        raise SourceError(
            f"source {new.name!r} already has data ({tables} rows): renaming "
            f"{old.name!r} to it would mix two histories; `syncer sources retire "
            f"{old.name}` ends the old one instead"
        )
    for held in (old, new):
        if held.busy is not None:
            raise _busy(held, "rename")


def check_retire(held: Holdings, configured: Collection[str], stored: Iterable[str]) -> None:
    """Refuse to retire a source that names nothing, is configured, or is being synced."""
    if held.empty:
        raise unknown_source(held.name, configured, stored)
    if held.name in configured:
        raise SourceError(
            f"source {held.name!r} is in the configuration: remove it there first (a retired "
            "source that is still synced would come back at its next sync)"
        )
    if held.busy is not None:
        raise _busy(held, "retire")


def unconfigured_warning(name: str, present: int) -> tuple[str, str]:
    """What to say about a source the database holds but the configuration does not name,
    and what to do about it."""
    models = "1 present model" if present == 1 else f"{present} present models"
    return (
        f"source {name!r} is not in the configuration but holds {models}",
        f"if it was renamed, run `syncer sources rename {name} NEW-NAME`; if it is gone, "
        f"`syncer sources retire {name}`",
    )


# The shell.


def _lease_names(name: str) -> list[str]:
    return [f"{job}:{name}" for job in LEASE_JOBS]


def stored_sources(db: Connection | Session) -> list[str]:
    """Every source name the history holds (runs or models), sorted."""
    names = union(select(runs_table.c.source), select(_m.source))
    return sorted(connection_of(db).scalars(select(names.subquery().c.source)))


def require_known(
    db: Connection | Session, names: Iterable[str | None], configured: Collection[str]
) -> None:
    """Raise ``SourceError`` for the first name that is neither configured nor stored.

    A configured name costs nothing; another costs one statement, and the list of stored
    names is read only to say what the typo could have been.
    """
    connection = connection_of(db)
    for name in names:
        if name is None or name in configured:
            continue
        found = select(
            exists().where(runs_table.c.source == name) | exists().where(_m.source == name)
        )
        if not connection.scalar(found):
            raise unknown_source(name, configured, stored_sources(connection))


def holdings(db: Connection | Session, name: str, now: datetime) -> Holdings:
    """What the database holds of ``name``: two statements."""
    connection = connection_of(db)
    counts = [
        select(literal(table.name, String).label("t"), func.count().label("n"))
        .select_from(table)
        .where(table.c.source == name)
        for table in SOURCE_TABLES
    ]
    counts.append(
        select(literal(leases_table.name, String), func.count()).where(
            _lease.name.in_(_lease_names(name))
        )
    )
    counts.append(
        select(literal("present", String), func.count()).where(
            _m.source == name, _m.vanished_at.is_(None)
        )
    )
    rows = {table: count for table, count in connection.execute(union_all(*counts))}
    present = rows.pop("present")
    busy = connection.scalar(
        select(_lease.holder)
        .where(_lease.name.in_(_lease_names(name)), _lease.expires_at > now)
        .limit(1)
    )
    return Holdings(name, {t: n for t, n in rows.items() if n}, present, busy)


@dataclass(frozen=True)
class Renamed:
    """What ``rename`` moved: rows per table."""

    old: str
    new: str
    rows: Mapping[str, int]

    def summary(self) -> str:
        moved = ", ".join(f"{count} {table}" for table, count in self.rows.items() if count)
        return f"renamed source {self.old!r} to {self.new!r}: moved {moved} rows"


def rename(
    engine: Engine, old: str, new: str, configured: Collection[str], now: datetime
) -> Renamed:
    """Move the whole history of ``old`` to ``new`` in one transaction, or refuse."""
    with write_transaction(engine) as connection:
        locks.lock_sources(connection, (old, new))
        held_old, held_new = holdings(connection, old, now), holdings(connection, new, now)
        check_rename(held_old, held_new, configured, _stored_if(held_old, connection))
        moved: dict[str, int] = {}
        for table in SOURCE_TABLES:
            if table is deprecations_table:
                moved[table.name] = _rename_deprecations(connection, old, new)
            elif held_old.rows.get(table.name):
                result = connection.execute(
                    update(table).where(table.c.source == old).values(source=new)
                )
                moved[table.name] = result.rowcount
        if held_old.rows.get(leases_table.name):
            for job in LEASE_JOBS:
                connection.execute(
                    update(leases_table)
                    .where(_lease.name == f"{job}:{old}")
                    .values(name=f"{job}:{new}")
                )
            moved[leases_table.name] = held_old.rows[leases_table.name]
        refresh(connection)
    return Renamed(old, new, moved)


def scoped_copies(
    entries: Iterable[Any], old: str, new: str, taken: Collection[str]
) -> list[dict[str, Any]]:
    """The imported dates a rename must give ``new`` itself: each entry whose source glob
    matches ``old`` and not ``new`` (``cl*`` for ``claude`` renamed ``anthropic-prod``), as
    a copy scoped to ``new``, unless ``new`` has an entry of its own for that model
    (``taken``). Of two globs for one model, the longer wins, as it did for ``old``. The
    glob stays for the other sources it matches (pure)."""
    kept: dict[str, Any] = {}
    for entry in entries:
        if (
            is_glob(entry.source)
            and fnmatchcase(old, entry.source)
            and not fnmatchcase(new, entry.source)
            and entry.model not in taken
            and len(entry.source) > len(getattr(kept.get(entry.model), "source", ""))
        ):
            kept[entry.model] = entry
    return [{**entry._asdict(), "source": new} for entry in kept.values()]


def _rename_deprecations(connection: Connection, old: str, new: str) -> int:
    """Give ``new`` the imported dates ``old`` had, in four statements at most.

    Entries scoped to exactly ``old`` move, except where ``new`` has its own for the same
    model (it wins: it was written for the new name); entries whose glob matched ``old``
    only are copied to ``new`` (``scoped_copies``). Returns the entries ``new`` gained.
    """
    d = deprecations_table.c
    scoped = connection.execute(select(d.source, d.model).where(d.source.in_((old, new))))
    held = {(source, model) for source, model in scoped}
    own = {model for source, model in held if source == new}
    if own:
        mine = deprecations_table.alias("mine").c
        connection.execute(
            delete(deprecations_table).where(
                d.source == old, d.model.in_(select(mine.model).where(mine.source == new))
            )
        )
    moved = connection.execute(
        update(deprecations_table).where(d.source == old).values(source=new)
    ).rowcount
    taken = own | {model for source, model in held if source == old}
    globs = connection.execute(
        select(deprecations_table).where(
            d.source.contains("*") | d.source.contains("?") | d.source.contains("[")
        )
    )
    copies = scoped_copies(globs, old, new, taken)
    if copies:
        connection.execute(insert(deprecations_table), copies)
    return moved + len(copies)


def _stored_if(held: Holdings, db: Connection) -> list[str]:
    """The stored names, read only when an error about an unknown name will list them."""
    return stored_sources(db) if held.empty else []


def retire(engine: Engine, name: str, configured: Collection[str], now: datetime) -> int:
    """End a source that is no longer configured, in one transaction: its present models
    leave the inventory with a ``source_retired`` event each, its listing, stale marks and
    list digests go, its history stays. Returns how many models left."""
    with write_transaction(engine) as connection:
        locks.lock_source(connection, name)
        held = holdings(connection, name, now)
        check_retire(held, configured, _stored_if(held, connection))
        present = (_m.source == name, _m.vanished_at.is_(None))
        details: Any = literal({"reason": RETIRED_REASON}, JSONDocument)
        connection.execute(
            insert(events_table).from_select(
                ["source", "model_id", "kind", "occurred_at", "details"],
                select(
                    _m.source,
                    _m.model_id,
                    literal(RETIRED, String),
                    literal(now, events_table.c.occurred_at.type),
                    details,
                )
                .where(*present)
                .order_by(_m.model_id),
            )
        )
        connection.execute(
            update(state_table)
            .where(*present)
            .values(vanished_at=now, seen_until=func.coalesce(_m.seen_until, LISTED_AT))
        )
        # Every model now holds its own last-seen time: the listing says nothing any more,
        # and without it no command warns about the source again.
        connection.execute(delete(listings_table).where(listings_table.c.source == name))
        # The last applied list no longer describes the state: were the source configured
        # again, its first sync must apply the list, not skip it as unchanged.
        runs = runs_table.c
        connection.execute(
            update(runs_table)
            .where(runs.source == name, runs.list_digest.is_not(None))
            .values(list_digest=None)
        )
        connection.execute(delete(stale_table).where(stale_table.c.source == name))
        refresh(connection)
    return held.present


def unconfigured(db: Connection | Session, configured: Collection[str]) -> dict[str, int]:
    """The sources with a listing (synced, and neither renamed nor retired since) that the
    configuration does not name, with their present models: one statement (two when any)."""
    connection = connection_of(db)
    listed = select(listings_table.c.source).where(listings_table.c.source.not_in(configured))
    names = list(connection.scalars(listed.order_by(listings_table.c.source)))
    if not names:
        return {}
    counts: dict[str, int] = {
        source: count
        for source, count in connection.execute(
            select(_m.source, func.count())
            .where(_m.source.in_(names), _m.vanished_at.is_(None))
            .group_by(_m.source)
        )
    }
    return {name: counts.get(name, 0) for name in names}
