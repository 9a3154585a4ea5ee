"""Read commands on a database they may not change: a file on a read-only filesystem
(a reporting copy, a snapshot), and a database that does not exist yet."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from tests.fakes import FakeProvider
from tests.mounts import freeze, tmpfs
from tests.processes import clean_env, syncer

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

READ_COMMANDS = [
    ("models",),
    ("models", "--all"),
    ("models", "--as-of", "1h"),
    ("models", "show", "a"),
    ("events",),
    ("runs",),
    ("diff", "1d"),
    ("history", "a"),
    ("report", "daily"),
    ("report", "changes"),
    ("alerts",),
    ("deprecations",),
    ("sources",),
    ("db", "current"),
]


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "snapshot") as where:
        yield where


@pytest.fixture
def synced(invoke, provider: FakeProvider, database_url: str) -> Path:  # type: ignore[no-untyped-def]
    provider.set("a", "b")
    assert invoke("sync").exit_code == 0
    provider.set("a", "c")
    assert invoke("sync").exit_code == 0
    return Path(database_url.removeprefix("sqlite:///"))


@SQLITE_ONLY
def test_read_commands_read_a_database_on_a_read_only_filesystem(
    invoke,
    synced: Path,
    read_only_dir: Path,  # type: ignore[no-untyped-def]
) -> None:
    shutil.copy(synced, read_only_dir / "copy.db")  # closed cleanly: no -wal, no -shm
    freeze(read_only_dir)
    url = f"sqlite:///{read_only_dir / 'copy.db'}"
    for args in READ_COMMANDS:
        fmt = () if args[0] == "db" else ("--format", "json")
        here = invoke(*args, *fmt)
        there = invoke("--database-url", url, *args, *fmt)
        assert there.exit_code == 0, (args, there.output)
        if args[:2] not in (("models", "--as-of"), ("diff", "1d")):  # relative to now
            assert there.stdout == here.stdout, args
    assert sorted(p.name for p in read_only_dir.iterdir()) == ["copy.db"]


@SQLITE_ONLY
def test_a_snapshot_with_its_wal_and_shm_reads_what_the_wal_holds(
    invoke,
    synced: Path,
    read_only_dir: Path,
    provider: FakeProvider,  # type: ignore[no-untyped-def]
) -> None:
    """A snapshot taken while a sync had written only to the WAL: the WAL's rows count."""
    holder = sqlite3.connect(synced)  # keeps the WAL from being checkpointed away at close
    holder.execute("SELECT count(*) FROM models").fetchall()
    provider.set("a", "c", "d")
    assert invoke("sync").exit_code == 0
    for suffix in ("", "-wal", "-shm"):
        shutil.copy(f"{synced}{suffix}", read_only_dir / f"copy.db{suffix}")
    holder.close()
    freeze(read_only_dir)
    result = invoke("--database-url", f"sqlite:///{read_only_dir / 'copy.db'}", "models")
    assert result.exit_code == 0, result.output
    assert [line.split()[1] for line in result.stdout.splitlines()[2:]] == ["a", "c", "d"]


@SQLITE_ONLY
def test_a_database_that_cannot_be_opened_read_only_is_named(
    invoke,
    synced: Path,
    read_only_dir: Path,
    provider: FakeProvider,  # type: ignore[no-untyped-def]
) -> None:
    """A -wal file with changes but no -shm beside it on a read-only filesystem: SQLite
    cannot read it, and reading the main file alone would silently miss the changes."""
    holder = sqlite3.connect(synced)
    holder.execute("SELECT count(*) FROM models").fetchall()
    provider.set("a", "c", "d")
    assert invoke("sync").exit_code == 0
    for suffix in ("", "-wal"):
        shutil.copy(f"{synced}{suffix}", read_only_dir / f"copy.db{suffix}")
    holder.close()
    freeze(read_only_dir)
    path = read_only_dir / "copy.db"
    result = invoke("--database-url", f"sqlite:///{path}", "models")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: database error: cannot open the SQLite database {path} read-only: "
        "unable to open database file"
    ]


@SQLITE_ONLY
@pytest.mark.parametrize("args", [a for a in READ_COMMANDS if a != ("sources",)], ids=" ".join)
def test_read_commands_before_any_sync_create_nothing_and_say_what_does(
    invoke,
    tmp_path: Path,
    args: tuple[str, ...],  # type: ignore[no-untyped-def]
) -> None:
    path = tmp_path / "syncer.db"
    result = invoke(*args)
    typo = invoke("--database-url", f"sqlite:///{tmp_path / 'synecr.db'}", *args)
    assert result.exit_code == typo.exit_code == 1
    assert result.stderr.strip() == f"Error: no database at {path} yet: `syncer sync` creates it"
    assert "synecr.db yet" in typo.stderr
    assert list(tmp_path.iterdir()) == []


def test_sources_before_the_first_sync_lists_the_configured_sources_never_synced(
    invoke,
    tmp_path: Path,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    table = invoke("sources")
    listed = invoke("sources", "--format", "json")

    assert table.exit_code == listed.exit_code == 0, table.output
    assert table.stdout.splitlines()[2].split()[-3:] == ["never", "synced", "0"]
    assert [
        (s["name"], s["last_sync_at"], s["last_status"], s["models"])
        for s in json.loads(listed.stdout)
    ] == [("openai", None, "never synced", 0)]
    if database_url.startswith("sqlite"):
        path = tmp_path / "syncer.db"
        assert table.stderr == f"(no database at {path} yet: `syncer sync` creates it)\n"
        assert list(tmp_path.iterdir()) == []
    else:
        assert table.stderr == "(the database is empty: `syncer sync` fills it)\n"


def test_a_source_added_after_syncs_is_listed_never_synced(
    invoke,
    provider: FakeProvider,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    provider.set("a")
    assert invoke("sync").exit_code == 0
    config = tmp_path / "syncer.toml"
    config.write_text(
        f'[[sources]]\nname = "openai"\nbase_url = "{provider.base_url}"\n\n'
        f'[[sources]]\nname = "new"\nbase_url = "{provider.base_url}"\n'
    )

    listed = json.loads(invoke("--config", str(config), "sources", "--format", "json").stdout)

    assert [(s["name"], s["last_status"], s["models"]) for s in listed] == [
        ("openai", "ok", 1),
        ("new", "never synced", 0),
    ]


def test_no_wal_or_shm_file_stays_after_a_sync_and_the_read_commands(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """SQLite removes them when the last connection closes, if that one may write: the read
    commands open the file read-write with ``query_only`` for that."""
    provider.set("a", "b")
    env = clean_env(
        OPENAI_BASE_URL=provider.base_url, SYNCER_DATABASE_URL=f"sqlite:///{tmp_path / 'syncer.db'}"
    )
    for args in [("sync",), *READ_COMMANDS, ("sync",)]:
        done = syncer(*args, env=env, cwd=str(tmp_path))
        assert done.returncode == 0, (args, done.stderr)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["syncer.db"], args


@SQLITE_ONLY
def test_a_read_command_cannot_write_even_with_the_file_opened_read_write(
    invoke,
    synced: Path,  # type: ignore[no-untyped-def]
) -> None:
    from syncer.db.engine import make_engine

    engine = make_engine(f"sqlite:///{synced}", read_only=True)
    with engine.connect() as connection, pytest.raises(OperationalError, match="readonly"):
        connection.exec_driver_sql("DELETE FROM sync_runs")
    engine.dispose()
