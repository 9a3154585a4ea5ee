"""``syncer scan --record --repository NAME``: the model_usages table, replaced per
repository in one transaction, and ``syncer models --used`` / ``used_in``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import create_engine, select

from syncer.db.tables import model_usages_table

from .conftest import EXPECTED

pytestmark = pytest.mark.usefixtures("synced")


def usages(database_url: str) -> set[tuple[str, str, int, int, str, str]]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                model_usages_table.c.repository,
                model_usages_table.c.path,
                model_usages_table.c.line,
                model_usages_table.c.column,
                model_usages_table.c.model_id,
                model_usages_table.c.verdict,
            )
        )
        found = {tuple(row) for row in rows}
    engine.dispose()
    return found  # type: ignore[return-value]


def test_record_replaces_the_repositorys_uses_and_models_shows_them(
    invoke: Callable[..., Result],
    tree: Path,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
) -> None:
    monkeypatch.chdir(tree)
    first = invoke("scan", "--record", "--repository", "acme/web")
    assert first.exit_code == 1  # recording does not change the verdict
    assert "recorded 17 uses of model ids in acme/web" in first.stderr
    assert usages(database_url) == {("acme/web", p, n, c, t, v) for p, n, c, t, v in EXPECTED}
    assert invoke("scan", "web", "--record", "--repository", "acme/api").exit_code == 0
    invoke("scan", "settings.toml", "--record", "--repository", "acme/web")
    assert usages(database_url) == {
        ("acme/web", "settings.toml", 2, 10, "gpt-4-32k", "shutting-down"),
        ("acme/api", "web/client.ts", 1, 62, "gpt-4o", "ok"),
        ("acme/api", "web/client.ts", 2, 15, "gpt-4o-mnii", "not-listed"),
    }
    used = json.loads(invoke("models", "--used", "--format", "json").stdout)
    assert [(m["model_id"], m["used_in"]) for m in used] == [("gpt-4-32k", 1), ("gpt-4o", 1)]
    every = json.loads(invoke("models", "--format", "json").stdout)
    assert len(every) == 8 and sum(m["used_in"] for m in every) == 2


def test_a_use_stored_with_a_vendor_prefix_counts_for_the_listed_model(
    invoke: Callable[..., Result], database_url: str
) -> None:
    """A use recorded as ``openai/gpt-4o`` (the id an OpenRouter source lists) counts for
    an OpenAI source's ``gpt-4o`` in ``models``, as it does for the alerts' ``in_use``."""
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            model_usages_table.insert(),
            [
                {
                    "repository": "acme/tools",
                    "path": "llm.py",
                    "line": line,
                    "column": 9,
                    "model_id": written,
                    "verdict": "ok",
                    "scanned_at": datetime.now(UTC),
                }
                for line, written in ((1, "openai/gpt-4o"), (2, "gpt-4o"))
            ],
        )
    engine.dispose()
    used = json.loads(invoke("models", "--used", "--format", "json").stdout)
    assert [(m["model_id"], m["used_in"]) for m in used] == [("gpt-4o", 2)]


def test_record_needs_a_repository(
    invoke: Callable[..., Result], tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree)
    result = invoke("scan", "--record")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --record needs --repository NAME")
