"""Shared fixtures: real databases (a SQLite file, the local PostgreSQL) and a provider.

PostgreSQL tests skip when no server answers, unless SYNCER_REQUIRE_POSTGRES=1 (set by
CI), where a missing server fails the run instead of passing it quietly.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from syncer.cli import cli
from syncer.db import migrate
from syncer.db.engine import make_engine

from .fakes import API_KEY, FakeProvider
from .receivers import Clock, Receiver

POSTGRES_URL = os.environ.get(
    "SYNCER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
POSTGRES_VARIABLE = "SYNCER_TEST_POSTGRES_URL"


def _postgres_admin() -> Engine | None:
    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            return engine
    except Exception as exc:  # any failure to connect means "no server here"
        engine.dispose()
        if os.environ.get("SYNCER_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but unreachable at {POSTGRES_URL}: {exc}")
        return None


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine | None]:
    engine = _postgres_admin()
    yield engine
    if engine is not None:
        engine.dispose()


@pytest.fixture
def postgres_url(postgres_admin: Engine | None) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    if postgres_admin is None:
        pytest.skip("no PostgreSQL server (set SYNCER_TEST_POSTGRES_URL)")
    name = f"syncer_test_{uuid.uuid4().hex[:12]}"
    with postgres_admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with postgres_admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """Each test that takes this runs on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'syncer.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to head."""
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def clear_settings_env(monkeypatch: pytest.MonkeyPatch, *prefixes: str) -> None:
    """Keep the developer's own OPENAI_*/SYNCER_* (and ``prefixes``) settings out of a test."""
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "SYNCER_", *prefixes)) and name != POSTGRES_VARIABLE:
            monkeypatch.delenv(name)


@pytest.fixture
def invoke(
    monkeypatch: pytest.MonkeyPatch, provider: FakeProvider, database_url: str
) -> Callable[..., Result]:
    """Run ``syncer ARGS`` in-process against the fake provider and the test database,
    with none of the developer's own OPENAI_*/SYNCER_* settings leaking in."""
    clear_settings_env(monkeypatch)
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", provider.base_url)
    monkeypatch.setenv("SYNCER_DATABASE_URL", database_url)

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    return run


@pytest.fixture
def provider(httpserver: HTTPServer) -> FakeProvider:
    # The test server's request lines are not syncer's output: keep them out of what a
    # command printed (werkzeug sets its own logger to INFO).
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return FakeProvider(httpserver)


@pytest.fixture
def other_provider() -> Iterator[FakeProvider]:
    """A second provider on its own server: a request held at ``provider`` holds nothing here."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield FakeProvider(server)
    server.clear()
    server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An alert receiver (webhook or Slack-shaped) on its own loopback port."""
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


@pytest.fixture
def clock() -> Clock:
    """A ``now`` that moves only when the test advances it."""
    return Clock()


@pytest.fixture
def invoke_sqlite(
    monkeypatch: pytest.MonkeyPatch, provider: FakeProvider, tmp_path: Any
) -> Callable[..., Result]:
    """``invoke`` on the SQLite file ``tmp_path/syncer.db`` only (what a new install uses)."""
    clear_settings_env(monkeypatch)
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", provider.base_url)
    monkeypatch.setenv("SYNCER_DATABASE_URL", f"sqlite:///{tmp_path / 'syncer.db'}")

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    return run
