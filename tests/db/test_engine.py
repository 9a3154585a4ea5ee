"""Engines: the databases syncer supports, and SQLite opened read-only for the read side."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from syncer.db import migrate
from syncer.db.engine import PING_AFTER, make_engine
from syncer.errors import ConfigError, StoreError
from tests.processes import syncer


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("mysql://app:hunter2@127.0.0.1/models", ("'mysql'", "not supported", "PostgreSQL")),
        ("oracle://app:hunter2@127.0.0.1/x", ("'oracle'", "not supported")),
        ("nosuch://app:hunter2@host/db", ("'nosuch'", "not supported")),
        ("postgresql//app:hunter2@host", ("not a database URL",)),
    ],
)
def test_a_database_syncer_does_not_support_is_a_config_error(url: str, words: tuple) -> None:
    with pytest.raises(ConfigError) as raised:
        make_engine(url)
    for word in words:
        assert word in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_postgresql_without_its_driver_names_the_extra_to_install(tmp_path: Path) -> None:
    """A real process in which psycopg cannot be imported, as without the postgres extra."""
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text("import sys\nsys.modules['psycopg'] = None\n")
    from tests.processes import clean_env

    result = syncer(
        "--database-url",
        "postgresql://app:hunter2@127.0.0.1/syncer",
        "models",
        env=clean_env(PYTHONPATH=str(tmp_path) + ":" + ":".join(sys.path)),
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        "Error: PostgreSQL needs the postgres extra: pip install 'model-syncer[postgres]'"
    )


def test_a_read_only_engine_on_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    with pytest.raises(StoreError) as raised:
        make_engine(f"sqlite:///{path}", read_only=True)
    assert str(raised.value) == f"no database at {path} yet: `syncer sync` creates it"
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_engine_reads_and_cannot_write(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'syncer.db'}"
    writer = make_engine(url)
    migrate.upgrade(writer)
    writer.dispose()
    reader = make_engine(url, read_only=True)
    with reader.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM models")) == 0
        with pytest.raises(Exception, match="readonly"):
            connection.execute(text("DELETE FROM model_state"))
    reader.dispose()


def test_an_engine_for_many_syncs_at_once_keeps_a_connection_for_each(database_url: str) -> None:
    import threading

    engine = make_engine(database_url, connections=8)
    opened, release = threading.Barrier(9), threading.Event()

    def hold() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            opened.wait(timeout=30)
            release.wait(timeout=30)

    threads = [threading.Thread(target=hold) for _ in range(8)]
    for thread in threads:
        thread.start()
    opened.wait(timeout=30)
    release.set()
    for thread in threads:
        thread.join()
    # All eight went back to the pool and stay open for the next syncs.
    assert engine.pool.checkedin() == 8
    engine.dispose()


def _backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


@pytest.mark.postgres
def test_a_daemons_connection_the_server_closed_while_it_idled_is_replaced(
    postgres_url: str, postgres_admin: Engine
) -> None:
    engine = make_engine(postgres_url, long_lived=True, connections=1)
    first = _backend(engine)
    with postgres_admin.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    time.sleep(PING_AFTER + 0.2)

    replaced = _backend(engine)  # would raise "terminating connection" unpinged

    assert replaced != first
    assert _backend(engine) == replaced  # reused at once, without a new connection
    engine.dispose()
