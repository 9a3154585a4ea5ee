"""``syncer db copy``: a SQLite history moved to PostgreSQL reads the same, and goes on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from syncer.cli import cli
from tests.conftest import clear_settings_env
from tests.fakes import API_KEY, FakeProvider

pytestmark = pytest.mark.postgres
Run = Callable[..., Result]


@pytest.fixture
def syncer(monkeypatch: pytest.MonkeyPatch, provider: FakeProvider) -> Run:
    clear_settings_env(monkeypatch)
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", provider.base_url)

    def run(database: str, *args: str) -> Result:
        return CliRunner().invoke(cli, ["--database-url", database, *args], catch_exceptions=False)

    return run


READS = [
    ("events", "--format", "json", "--limit", "1000"),
    ("runs", "--format", "json", "--limit", "1000"),
    ("models", "--all", "--format", "json"),
    ("history", "gpt-4-0613", "--intervals", "--format", "json"),
]


def test_a_sqlite_history_copied_to_postgresql_reads_the_same_and_syncs_on(
    syncer: Run, provider: FakeProvider, postgres_url: str, tmp_path: Path
) -> None:
    sqlite = f"sqlite:///{tmp_path / 'syncer.db'}"
    provider.set("gpt-4o", "gpt-4-0613", "o1")
    syncer(sqlite, "sync")
    provider.set("gpt-4o", "gpt-4-0613", "o1", owned_by="system")
    syncer(sqlite, "sync")
    provider.set("gpt-4o", "o1", "o3")
    syncer(sqlite, "sync")

    copied = syncer(sqlite, "db", "copy", "--to", postgres_url)

    assert copied.exit_code == 0, copied.output
    assert copied.output.startswith("copied ")
    for read in READS:
        assert syncer(postgres_url, *read).output == syncer(sqlite, *read).output, read
    provider.set("gpt-4o", "o1", "o3", "gpt-4-0613")
    assert syncer(postgres_url, "sync").exit_code == 0
    events = syncer(postgres_url, "events", "--limit", "2", "--format", "csv").output
    assert "gpt-4-0613,reappeared" in events and ",4," in events  # run 4: ids go on


def test_copying_into_a_database_with_a_history_refuses_and_changes_nothing(
    syncer: Run, provider: FakeProvider, postgres_url: str, tmp_path: Path
) -> None:
    sqlite = f"sqlite:///{tmp_path / 'syncer.db'}"
    provider.set("gpt-4o")
    syncer(sqlite, "sync")
    syncer(postgres_url, "sync")
    before = syncer(postgres_url, "runs", "--format", "json").output

    result = CliRunner().invoke(cli, ["--database-url", sqlite, "db", "copy", "--to", postgres_url])

    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: the target database already has rows in model_state: copy only into an empty "
        "database"
    )
    assert syncer(postgres_url, "runs", "--format", "json").output == before
