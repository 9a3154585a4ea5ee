"""Engines and sessions with syncer's connection rules, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import AbstractContextManager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError

from syncer.errors import ConfigError, NoDatabaseError, first_line

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "PING_AFTER",
    "SUPPORTED",
    "connection_of",
    "dialect_name",
    "make_engine",
    "parse_url",
    "read_session",
    "sqlite_path",
    "write_session",
    "write_transaction",
]

#: A pooled PostgreSQL connection idle this long (seconds) is tested before a daemon uses it.
PING_AFTER = 1.0
#: The databases syncer's SQL is written and tested for.
SUPPORTED = ("sqlite", "postgresql")
_EXAMPLES = "sqlite:///PATH or postgresql://USER@HOST/DATABASE"


def parse_url(url: str) -> URL:
    """The URL, with ``postgresql://`` meaning psycopg 3; never quoted in an error (it may
    hold a password).

    A password with an unencoded ``@`` would be read as part of the host (and a piece of
    the password shown in the driver's "cannot resolve" error): refused, as is a URL
    SQLAlchemy cannot read at all (a port that is not a number is its ``ValueError``).
    """
    if urlsplit(url).netloc.count("@") > 1:
        raise ConfigError(
            "the database URL has more than one '@' before its host: write an '@' in the "
            "user name or password as %40"
        )
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ConfigError(f"the database URL is not a database URL like {_EXAMPLES}") from None
    backend = parsed.get_backend_name()
    if backend == "postgres":
        parsed = parsed.set(drivername="postgresql")
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in SUPPORTED:
        raise ConfigError(
            f"{backend!r} databases are not supported: syncer works with SQLite and "
            f"PostgreSQL ({_EXAMPLES})"
        )
    return parsed


def dialect_name(url: str) -> str:
    """``sqlite`` or ``postgresql``, from the URL alone (nothing is imported or opened)."""
    return parse_url(url).get_backend_name()


def make_engine(
    url: str, *, read_only: bool = False, long_lived: bool = True, connections: int = 5
) -> Engine:
    """An engine with syncer's connection rules: psycopg 3 for PostgreSQL, sane SQLite.

    SQLite gets WAL (readers don't wait for the syncer), a 30 s busy timeout, and
    ``BEGIN IMMEDIATE`` for write transactions so two syncs queue on the write lock
    instead of failing halfway. ``read_only`` is for the commands that only read: the file
    must exist (nothing is created) and is opened read-only, so a copy on a read-only
    filesystem can be read. A ``long_lived`` engine (a daemon's) tests a PostgreSQL
    connection that waited in the pool ``PING_AFTER`` or longer before using it, so one the
    server closed is replaced instead of failing a job; a command that runs once opens
    fresh connections and skips that round trip.
    ``connections`` is how many the pool keeps (SQLAlchemy's default, 5): one per sync that
    runs at once, or a thread waits for one; ten more may open in a burst.
    """
    parsed = parse_url(url)
    try:
        if parsed.get_backend_name() != "sqlite":
            engine = create_engine(parsed, pool_size=connections)
            if long_lived:
                _ping_when_idle(engine)
            return engine
        return _sqlite_engine(parsed, read_only, connections)
    except ImportError:
        if parsed.drivername == "postgresql+psycopg":
            raise ConfigError(
                "PostgreSQL needs the postgres extra: pip install 'model-syncer[postgres]'"
            ) from None
        raise ConfigError(
            f"the database driver of {parsed.drivername!r} is not installed"
        ) from None


def _ping_when_idle(engine: Engine) -> None:
    """Test a connection before use when it waited in the pool ``PING_AFTER`` or longer; a
    dead one is replaced (the pool tries a fresh connection on ``DisconnectionError``).

    SQLAlchemy's ``pool_pre_ping`` tests every checkout: ``syncer run`` checks out six per
    sync, each moments after the last, and the round trips were a measurable share of its CPU.
    """
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["syncer_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("syncer_idle_since")
        if since is None or time.monotonic() - since < PING_AFTER:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"the pooled connection is gone: {first_line(exc)}") from None


def sqlite_path(parsed: URL) -> str | None:
    """The file a SQLite URL names; None for memory, another database, or the user's own
    ``file:`` URI (``?uri=true``), which is taken as it is."""
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.query.get("uri") not in (None, "false"):
        return None
    return parsed.database


def _sqlite_engine(parsed: URL, read_only: bool, connections: int) -> Engine:
    path = sqlite_path(parsed)
    if read_only and path is not None and not Path(path).exists():
        raise NoDatabaseError(f"no database at {path} yet: `syncer sync` creates it")
    engine = create_engine(parsed, connect_args={"timeout": 30}, pool_size=connections)

    if path is not None:

        @event.listens_for(engine, "do_connect")
        def _connect(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> Any:
            return _open(path, read_only, {k: v for k, v in params.items() if k != "uri"})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
        elif path is not None:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("syncer_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _open(path: str, read_only: bool, params: dict[str, Any]) -> sqlite3.Connection:
    """A connection to the file at ``path``, opened at once so a failure names the path.

    Read-only, a WAL database needs its ``-shm`` file, or a directory to create it in. On a
    read-only filesystem neither may exist, yet nobody can be writing: when no ``-wal``
    holds changes either, the main file is the whole database and is read as immutable.
    """
    uri = "file:" + quote(os.path.abspath(path))
    modes = ["mode=ro"] if read_only else ["mode=rwc"]
    if not read_only:
        _create_private(path)
    writable = os.access(os.path.dirname(os.path.abspath(path)), os.W_OK)
    if read_only and writable and os.access(path, os.W_OK):
        # Opened read-write (``query_only`` keeps it from writing) so that, the last to
        # close, it checkpoints and removes the -wal and -shm files; a read-only
        # connection would leave them behind.
        modes.insert(0, "mode=rw")
    wal = Path(f"{path}-wal")
    if read_only and not writable and (not wal.exists() or wal.stat().st_size == 0):
        modes.append("immutable=1")
    error: sqlite3.Error | None = None
    for mode in modes:
        connection: sqlite3.Connection = sqlite3.connect(f"{uri}?{mode}", uri=True, **params)
        try:
            connection.execute("PRAGMA schema_version")
            return connection
        except sqlite3.Error as exc:
            connection.close()
            error = error or exc
    how = " read-only" if read_only else ""
    raise sqlite3.OperationalError(f"cannot open the SQLite database {path}{how}: {error}")


def _create_private(path: str) -> None:
    """Create a missing database file readable by its owner only (0600, less if the umask says
    so): it holds the inventory and the error log. SQLite gives the ``-wal`` and ``-shm``
    files it creates beside it the main file's mode. An existing file is left as it is, and a
    file that cannot be created here is left to SQLite's own error, which names the path."""
    with suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def write_transaction(engine: Engine) -> AbstractContextManager[Connection]:
    """A Core connection in a transaction that writes (on SQLite it takes the write lock
    first), committed at the end of the block: what a sync writes through, without the ORM."""
    return engine.execution_options(syncer_write=True).begin()


def connection_of(db: Connection | Session) -> Connection:
    """The Core connection of a connection, or of an ORM session's transaction."""
    return db if isinstance(db, Connection) else db.connection()


def write_session(engine: Engine) -> Session:
    """A session for a transaction that writes: on SQLite it takes the write lock first."""
    from sqlalchemy.orm import Session

    return Session(engine.execution_options(syncer_write=True), expire_on_commit=False)


def read_session(engine: Engine) -> Session:
    """A session for reading through the ORM (the read commands use a plain connection,
    and so never import the ORM)."""
    from sqlalchemy.orm import Session

    return Session(engine, expire_on_commit=False)
