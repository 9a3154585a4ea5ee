"""What a command imports is what its start-up costs: a read command loads neither Alembic,
the ORM, HTTP, the scheduler nor PostgreSQL's dialect on a SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("alembic", "sqlalchemy.orm", "requests", "apscheduler", "sqlalchemy.dialects.postgresql")


def imported(tmp_path: Path, *args: str) -> set[str]:
    """The modules a fresh ``python -m syncer ARGS`` process imports (``-X importtime``)."""
    env = {**os.environ, "SYNCER_DATABASE_URL": f"sqlite:///{tmp_path / 'syncer.db'}"}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "syncer", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }


@pytest.fixture
def database(tmp_path: Path) -> Path:
    env = {**os.environ, "SYNCER_DATABASE_URL": f"sqlite:///{tmp_path / 'syncer.db'}"}
    subprocess.run(
        [sys.executable, "-m", "syncer", "db", "upgrade"],
        env=env,
        cwd=tmp_path,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return tmp_path


@pytest.mark.parametrize(
    "command", [("--help",), ("models",), ("runs",), ("events",), ("sources",)]
)
def test_a_read_command_imports_nothing_heavy_it_does_not_use(
    database: Path, command: tuple[str, ...]
) -> None:
    modules = imported(database, *command)

    assert "sqlalchemy" in modules or command == ("--help",)
    assert sorted(m for m in modules if m.startswith(HEAVY)) == []


def test_help_does_not_even_import_sqlalchemy(database: Path) -> None:
    assert not {m for m in imported(database, "--help") if m.startswith("sqlalchemy")}
