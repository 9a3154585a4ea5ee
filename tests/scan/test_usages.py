"""The latest recorded scan of each repository, as alert rules read it, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, event

from syncer.db.tables import model_usages_table
from syncer.scan.places import InUse, Place
from syncer.scan.usages import Scan, latest_usages, recorded_scans

MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)


def use(repository: str, path: str, line: int, model_id: str, at: datetime) -> dict[str, object]:
    return {
        "repository": repository,
        "path": path,
        "line": line,
        "column": 1,
        "model_id": model_id,
        "verdict": "ok",
        "scanned_at": at,
    }


def test_only_the_newest_scan_of_each_repository_counts_and_ids_match_however_written(
    engine: Engine,
) -> None:
    later = MONDAY + timedelta(days=7)
    with engine.begin() as connection:
        connection.execute(
            model_usages_table.insert(),
            [
                # Rows of an older scan of api, as a table loaded by hand might keep them.
                use("api", "old.py", 1, "o1", MONDAY),
                use("api", "app.py", 3, "openai/gpt-4o", later),
                use("api", "app.py", 9, "gpt-4o:free", later),
                use("web", "chat.ts", 2, "gpt-4o", MONDAY),
            ],
        )
    statements: list[object] = []
    event.listen(engine, "before_execute", lambda *args: statements.append(args[1]))

    with engine.connect() as connection:
        in_use = InUse(latest_usages(connection))
        scans = recorded_scans(connection)

    assert len(statements) == 2
    assert in_use.places("gpt-4o") == (
        Place("api", "app.py", 3),
        Place("api", "app.py", 9),
        Place("web", "chat.ts", 2),
    )
    assert in_use.places("openrouter/openai/gpt-4o") == in_use.places("gpt-4o")
    assert in_use.places("o1") == (), "only api's latest scan counts"
    assert scans == [Scan("api", later, 2), Scan("web", MONDAY, 1)]


def test_without_a_recorded_scan_nothing_is_known_to_be_in_use(engine: Engine) -> None:
    with engine.connect() as connection:
        in_use = InUse(latest_usages(connection))
        scans = recorded_scans(connection)

    assert not in_use.recorded and in_use.places("gpt-4o") == ()
    assert scans == []
