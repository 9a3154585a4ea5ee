"""Issue 21 item 12: the files syncer writes and reads keep what they hold to their owner."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import Result

from tests.fakes import FakeProvider
from tests.processes import clean_env, syncer


@pytest.fixture
def umask() -> Iterator[Callable[[int], None]]:
    """Set the process umask for one test, as a login shell would."""
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask) and None
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(
    ("mask", "expected"), [(0o022, 0o600), (0o002, 0o600), (0o077, 0o600), (0o277, 0o400)]
)
def test_a_new_sqlite_database_and_its_wal_are_readable_by_the_owner_only(
    tmp_path: Path,
    provider: FakeProvider,
    invoke_sqlite: Callable[..., Result],
    umask: Callable[[int], None],
    mask: int,
    expected: int,
) -> None:
    provider.set("gpt-4o", "gpt-4o-mini")
    umask(mask)
    database = tmp_path / "syncer.db"

    result = invoke_sqlite("sync")

    assert result.exit_code == 0, result.output
    assert mode(database) == expected
    # The -wal and -shm files live only while a connection is open: hold one across a sync.
    with closing(sqlite3.connect(database)) as reader:
        reader.execute("SELECT count(*) FROM sync_runs").fetchone()
        provider.set("gpt-4o")
        assert invoke_sqlite("sync").exit_code == 0
        for path in (Path(f"{database}-wal"), Path(f"{database}-shm")):
            assert mode(path) == expected, path


def test_an_existing_database_keeps_the_mode_its_owner_gave_it(
    tmp_path: Path,
    provider: FakeProvider,
    invoke_sqlite: Callable[..., Result],
) -> None:
    provider.set("gpt-4o")
    database = tmp_path / "syncer.db"
    database.touch(mode=0o640)
    database.chmod(0o640)

    assert invoke_sqlite("sync").exit_code == 0
    assert mode(database) == 0o640


@pytest.mark.parametrize(
    ("table", "where"),
    [
        ('database_url = "postgresql://syncer:hunter2@127.0.0.1:9/x"\n', "database_url"),
        (
            '[[sources]]\nname = "a"\nheaders = { Authorization = "Bearer hunter2" }\n',
            "sources[0].headers",
        ),
        (
            '[[sources]]\nname = "a"\nbase_url = "https://u:hunter2@api.example.com/v1"\n',
            "sources[0].base_url",
        ),
        (
            '[[sources]]\nname = "a"\nbase_url = "https://api.example.com/v1?key=hunter2"\n',
            "sources[0].base_url",
        ),
    ],
)
def test_a_config_file_others_can_read_that_holds_a_secret_gets_a_warning(
    tmp_path: Path, table: str, where: str
) -> None:
    config = tmp_path / "syncer.toml"
    config.write_text(table)
    config.chmod(0o644)
    env = clean_env(SYNCER_DATABASE_URL=f"sqlite:///{tmp_path / 'syncer.db'}")
    if "database_url" in table:
        env.pop("SYNCER_DATABASE_URL")

    shared = syncer("--config", str(config), "sources", "--format", "json", env=env)

    warning = f"{config} is readable by other users (mode 0644) and holds a secret in {where}: "
    assert warning in shared.stderr
    assert "hunter2" not in shared.stderr + shared.stdout
    config.chmod(0o600)
    private = syncer("--config", str(config), "sources", "--format", "json", env=env)
    assert "readable by other users" not in private.stderr


def test_a_config_file_without_a_secret_may_be_readable_by_all(tmp_path: Path) -> None:
    config = tmp_path / "syncer.toml"
    config.write_text('[[sources]]\nname = "a"\napi_key_env = "A_KEY"\n')
    config.chmod(0o644)
    env = clean_env(SYNCER_DATABASE_URL=f"sqlite:///{tmp_path / 'syncer.db'}")

    result = syncer("--config", str(config), "sources", env=env)

    assert "readable by other users" not in result.stderr
