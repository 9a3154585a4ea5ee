"""``syncer sources rename`` and ``retire``, and the warnings about unconfigured sources,
through the CLI on a real database."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import Engine, create_engine, event, func, insert, select

from syncer.db.tables import (
    deprecations_table,
    leases_table,
    marks_table,
    metadata,
    outbox_table,
    stale_table,
    state_table,
)
from syncer.db.views import model_availability
from syncer.sync.sources import rename, retire
from syncer.timeutil import utcnow
from tests.fakes import FakeProvider

Invoke = Callable[..., Result]


def _config(tmp_path: Path, provider: FakeProvider, *names: str) -> str:
    path = tmp_path / f"{'-'.join(names) or 'none'}.toml"
    path.write_text(
        "".join(
            f'[[sources]]\nname = "{name}"\nbase_url = "{provider.base_url}"\n\n' for name in names
        )
    )
    return str(path)


def _rows_by_source(database_url: str) -> dict[str, dict[str, int]]:
    """Rows per source, per table keyed by source, plus the leases named after a source."""
    engine = create_engine(database_url)
    found: dict[str, dict[str, int]] = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if "source" not in table.c:
                continue
            for source, count in connection.execute(
                select(table.c.source, func.count()).group_by(table.c.source)
            ):
                found.setdefault(source, {})[table.name] = count
        for (name,) in connection.execute(select(leases_table.c.name)):
            source = name.split(":", 1)[1]
            found.setdefault(source, {})["leases"] = found[source].get("leases", 0) + 1
    engine.dispose()
    return found


def _alert_state(database_url: str, source: str) -> None:
    """The rows alerts and leases keep about a source, as `syncer run` with rules leaves them."""
    engine = create_engine(database_url)
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            insert(marks_table).values(
                rule="soon",
                source=source,
                model_id="a",
                threshold_days=30,
                shutdown_at=now,
                marked_at=now,
            )
        )
        connection.execute(insert(stale_table).values(rule="stale", source=source, alerted_at=now))
        connection.execute(
            insert(outbox_table).values(
                alert_id="00000000-0000-0000-0000-000000000001",
                rule="soon",
                kind="shutdown",
                channel="webhook",
                source=source,
                model_id="a",
                payload={"summary": "x"},
                status="delivered",
                attempts=1,
                next_attempt_at=now,
                created_at=now,
            )
        )
        connection.execute(
            insert(leases_table).values(
                name=f"sync:{source}",
                holder="host:1",
                acquired_at=now - timedelta(hours=2),
                expires_at=now - timedelta(hours=1),
            )
        )
    engine.dispose()


def test_rename_moves_the_whole_history_to_the_new_name(
    invoke: Invoke, provider: FakeProvider, tmp_path: Path, database_url: str
) -> None:
    old = _config(tmp_path, provider, "claude")
    provider.set("a", "b", "c")
    assert invoke("--config", old, "sync").exit_code == 0
    provider.set("a", "b")
    assert invoke("--config", old, "sync").exit_code == 0
    _alert_state(database_url, "claude")
    before = _rows_by_source(database_url)["claude"]
    assert set(before) == {
        "sync_runs",
        "model_state",
        "source_listings",
        "model_events",
        "alert_outbox",
        "alert_marks",
        "alert_stale_sources",
        "leases",
    }

    new = _config(tmp_path, provider, "anthropic-prod")
    renamed = invoke("--config", new, "sources", "rename", "claude", "anthropic-prod")

    assert renamed.exit_code == 0, renamed.output
    assert renamed.stdout.startswith("renamed source 'claude' to 'anthropic-prod': moved ")
    assert _rows_by_source(database_url) == {"anthropic-prod": before}
    listed = json.loads(invoke("--config", new, "models", "--format", "json").stdout)
    assert [(m["source"], m["model_id"]) for m in listed] == [
        ("anthropic-prod", "a"),
        ("anthropic-prod", "b"),
    ]
    # The next sync continues the history: nothing is added again.
    synced = invoke("--config", new, "sync")
    assert synced.stdout.startswith("anthropic-prod: 2 models, 0 added, 0 vanished"), synced.output
    assert synced.stderr == ""


def _stored_dates(database_url: str) -> dict[tuple[str, str], tuple[str | None, str | None]]:
    """Each model's stored shutdown date in force (as a day) and where it came from."""
    engine = create_engine(database_url)
    m = state_table.c
    with engine.connect() as connection:
        rows = connection.execute(
            select(m.source, m.model_id, m.effective_shutdown_at, m.date_origin)
        )
        found = {
            (source, model_id): (when.date().isoformat() if when else None, origin)
            for source, model_id, when, origin in rows
        }
    engine.dispose()
    return found


def _deprecation_rows(database_url: str) -> set[tuple[str, str, str]]:
    engine = create_engine(database_url)
    d = deprecations_table.c
    with engine.connect() as connection:
        rows = {
            (s, m, w.date().isoformat())
            for s, m, w in connection.execute(select(d.source, d.model, d.shutdown_at))
        }
    engine.dispose()
    return rows


def test_rename_gives_the_new_name_its_imported_dates_and_stores_them_in_force(
    invoke: Invoke, provider: FakeProvider, tmp_path: Path, database_url: str
) -> None:
    old = _config(tmp_path, provider, "claude")
    provider.set("a", "b-1", "c", "d")
    assert invoke("--config", old, "sync").exit_code == 0
    dates = tmp_path / "dates.csv"
    dates.write_text(
        "model,shutdown_date,replacement,source\n"
        "a,2027-01-01,,claude\n"  # exactly the old name: moves
        "b-*,2027-02-01,,cl*\n"  # a glob matching the old name only: copied
        "c,2027-03-01,,*\n"  # every source: nothing to do
        "d,2027-04-01,,claude\n"  # the new name has its own below: it wins
        "d,2027-05-05,,anthropic-prod\n"
    )
    assert invoke("--config", old, "deprecations", "import", str(dates)).exit_code == 0
    assert _stored_dates(database_url) == {
        ("claude", "a"): ("2027-01-01", str(dates)),
        ("claude", "b-1"): ("2027-02-01", str(dates)),
        ("claude", "c"): ("2027-03-01", str(dates)),
        ("claude", "d"): ("2027-04-01", str(dates)),
    }
    new = _config(tmp_path, provider, "anthropic-prod")

    renamed = invoke("--config", new, "sources", "rename", "claude", "anthropic-prod")

    assert renamed.exit_code == 0, renamed.output
    assert "2 deprecations" in renamed.stdout
    expected = {
        ("anthropic-prod", "a"): ("2027-01-01", str(dates)),
        ("anthropic-prod", "b-1"): ("2027-02-01", str(dates)),
        ("anthropic-prod", "c"): ("2027-03-01", str(dates)),
        ("anthropic-prod", "d"): ("2027-05-05", str(dates)),
    }
    assert _stored_dates(database_url) == expected
    assert _deprecation_rows(database_url) == {
        ("anthropic-prod", "a", "2027-01-01"),
        ("cl*", "b-*", "2027-02-01"),
        ("anthropic-prod", "b-*", "2027-02-01"),
        ("*", "c", "2027-03-01"),
        ("anthropic-prod", "d", "2027-05-05"),
    }
    listed = json.loads(invoke("--config", new, "models", "--format", "json").stdout)
    assert {
        (m["source"], m["model_id"]): (m["shutdown_at"][:10], m["origin"]) for m in listed
    } == expected
    # The next sync finds the stored lifecycle as it would decide it: no date moves.
    synced = invoke("--config", new, "sync")
    assert synced.stdout.startswith("anthropic-prod: 4 models, 0 added"), synced.output
    assert _stored_dates(database_url) == expected


def test_rename_is_not_refused_for_imported_dates_the_new_name_already_has(
    invoke: Invoke, provider: FakeProvider, tmp_path: Path, database_url: str
) -> None:
    provider.set("a")
    assert invoke("--config", _config(tmp_path, provider, "claude"), "sync").exit_code == 0
    new = _config(tmp_path, provider, "anthropic-prod")
    dates = tmp_path / "dates.csv"
    dates.write_text("model,shutdown_date,source\na,2027-05-05,anthropic-prod\n")
    assert invoke("--config", new, "deprecations", "import", str(dates)).exit_code == 0

    renamed = invoke("--config", new, "sources", "rename", "claude", "anthropic-prod")

    assert renamed.exit_code == 0, renamed.output
    assert _stored_dates(database_url) == {("anthropic-prod", "a"): ("2027-05-05", str(dates))}


def test_rename_refuses_when_the_new_name_has_data_and_changes_nothing(
    invoke: Invoke, provider: FakeProvider, tmp_path: Path, database_url: str
) -> None:
    provider.set("a")
    both = _config(tmp_path, provider, "old", "new")
    assert invoke("--config", both, "sync").exit_code == 0
    before = _rows_by_source(database_url)
    only_new = _config(tmp_path, provider, "new")

    refused = invoke("--config", only_new, "sources", "rename", "old", "new")

    assert refused.exit_code == 2
    assert refused.stderr.startswith(
        "Error: source 'new' already has data (model_events 1, model_state 1, source_listings 1,"
        " sync_runs 1 rows): renaming 'old' to it would mix two histories; "
        "`syncer sources retire old` ends the old one instead"
    ), refused.stderr
    assert _rows_by_source(database_url) == before


def test_rename_refuses_an_unknown_or_still_configured_source(
    invoke: Invoke, provider: FakeProvider, tmp_path: Path
) -> None:
    provider.set("a")
    config = _config(tmp_path, provider, "claude")
    invoke("--config", config, "sync")

    configured = invoke("--config", config, "sources", "rename", "claude", "anthropic")
    unknown = invoke("--config", config, "sources", "rename", "cluade", "anthropic")

    assert configured.exit_code == 2
    assert configured.stderr == (
        "Error: source 'claude' is still in the configuration: rename it there first, or the "
        "next sync would start its history again\n"
    )
    assert unknown.exit_code == 2
    assert unknown.stderr == (
        "Error: unknown source 'cluade' (configured: claude; stored: claude)\n"
    )


def test_a_renamed_source_in_the_file_is_warned_about_naming_both_commands(
    invoke: Invoke, provider: FakeProvider, tmp_path: Path
) -> None:
    provider.set("a", "b")
    invoke("--config", _config(tmp_path, provider, "claude"), "sync")
    renamed_in_file = _config(tmp_path, provider, "anthropic-prod")
    warning = (
        "Warning: source 'claude' is not in the configuration but holds 2 present models: "
        "if it was renamed, run `syncer sources rename claude NEW-NAME`; if it is gone, "
        "`syncer sources retire claude`\n"
    )

    sources = invoke("--config", renamed_in_file, "sources")
    synced = invoke("--config", renamed_in_file, "sync")
    doctor = invoke("--config", renamed_in_file, "doctor")
    quiet = invoke("--config", renamed_in_file, "-q", "sources")

    assert sources.exit_code == 0 and sources.stderr == warning
    assert synced.exit_code == 0 and synced.stderr == warning
    assert (
        "WARN  source claude: source 'claude' is not in the configuration but holds 2 present "
        "models\n      -> if it was renamed, run `syncer sources rename claude NEW-NAME`; "
        "if it is gone, `syncer sources retire claude`\n"
    ) in doctor.stdout
    assert quiet.stderr == ""


def test_retire_ends_the_present_models_and_keeps_the_history(
    invoke: Invoke, provider: FakeProvider, tmp_path: Path, database_url: str
) -> None:
    old = _config(tmp_path, provider, "claude")
    provider.set("a", "b", "c")
    invoke("--config", old, "sync")
    provider.set("a", "b")
    invoke("--config", old, "sync")
    _alert_state(database_url, "claude")
    gone = _config(tmp_path, provider, "openai")

    retired = invoke("--config", gone, "sources", "retire", "claude")

    assert retired.exit_code == 0, retired.output
    assert retired.stdout == (
        "retired source 'claude': 2 models left the present inventory; its history stays "
        "(`syncer events --source claude`)\n"
    )
    assert json.loads(invoke("--config", gone, "models", "--format", "json").stdout) == []
    everything = json.loads(
        invoke("--config", gone, "models", "--all", "--source", "claude", "--format", "json").stdout
    )
    assert {m["model_id"]: m["vanished_at"] is not None for m in everything} == {
        "a": True,
        "b": True,
        "c": True,
    }
    events = json.loads(
        invoke(
            "--config",
            gone,
            "events",
            "--source",
            "claude",
            "--kind",
            "source_retired",
            "--format",
            "json",
        ).stdout
    )
    assert sorted(e["model_id"] for e in events) == ["a", "b"]
    assert events[0]["details"] == {
        "reason": "the source was retired: it is no longer in the configuration"
    }
    intervals = json.loads(
        invoke(
            "--config",
            gone,
            "history",
            "a",
            "--source",
            "claude",
            "--intervals",
            "--format",
            "json",
        ).stdout
    )
    assert [(i["started_by"], i["ended_by"]) for i in intervals] == [("added", "source_retired")]
    assert intervals[0]["available_until"] is not None
    # Nothing to warn about any more; the stale mark went, the rest of the history stayed.
    assert invoke("--config", gone, "sources").stderr == ""
    left = _rows_by_source(database_url)["claude"]
    assert "source_listings" not in left and "alert_stale_sources" not in left
    assert left["model_events"] == 3 + 1 + 2 and left["sync_runs"] == 2
    # A source configured again comes back as reappeared, not added.
    again = invoke("--config", old, "sync")
    assert again.stdout.startswith("claude: 2 models, 0 added, 0 vanished, 2 reappeared")


def test_retire_keeps_the_retired_models_dates_in_force_as_stored(
    invoke: Invoke, provider: FakeProvider, tmp_path: Path, database_url: str
) -> None:
    provider.set("a", "b")
    config = _config(tmp_path, provider, "claude", "openai")
    assert invoke("--config", config, "sync").exit_code == 0
    dates = tmp_path / "dates.csv"
    dates.write_text("model,shutdown_date,source\na,2027-01-01,claude\nb,2027-02-02,*\n")
    assert invoke("--config", config, "deprecations", "import", str(dates)).exit_code == 0
    before = _stored_dates(database_url)

    retired = invoke(
        "--config", _config(tmp_path, provider, "openai"), "sources", "retire", "claude"
    )

    assert retired.exit_code == 0, retired.output
    assert (
        _stored_dates(database_url)
        == before
        == {
            ("claude", "a"): ("2027-01-01", str(dates)),
            ("claude", "b"): ("2027-02-02", str(dates)),
            ("openai", "a"): (None, None),
            ("openai", "b"): ("2027-02-02", str(dates)),
        }
    )
    gone = json.loads(
        invoke(
            "--config", config, "models", "--all", "--source", "claude", "--format", "json"
        ).stdout
    )
    assert {m["model_id"]: m["shutdown_at"][:10] for m in gone} == {
        "a": "2027-01-01",
        "b": "2027-02-02",
    }


def test_retire_refuses_a_configured_or_unknown_source(
    invoke: Invoke, provider: FakeProvider, tmp_path: Path
) -> None:
    provider.set("a")
    config = _config(tmp_path, provider, "claude")
    invoke("--config", config, "sync")

    configured = invoke("--config", config, "sources", "retire", "claude")
    unknown = invoke("--config", config, "sources", "retire", "nope")

    assert configured.exit_code == 2
    assert configured.stderr == (
        "Error: source 'claude' is in the configuration: remove it there first (a retired "
        "source that is still synced would come back at its next sync)\n"
    )
    assert unknown.exit_code == 2
    assert unknown.stderr == "Error: unknown source 'nope' (configured: claude; stored: claude)\n"
    assert json.loads(invoke("--config", config, "models", "--format", "json").stdout) != []


def test_retire_refuses_while_a_replica_holds_the_sources_lease(
    invoke: Invoke, provider: FakeProvider, tmp_path: Path, database_url: str
) -> None:
    provider.set("a")
    invoke("--config", _config(tmp_path, provider, "claude"), "sync")
    engine = create_engine(database_url)
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            insert(leases_table).values(
                name="sync:claude",
                holder="web-2:41",
                acquired_at=now,
                expires_at=now + timedelta(minutes=5),
            )
        )
    engine.dispose()

    refused = invoke("--config", _config(tmp_path, provider), "sources", "retire", "claude")

    assert refused.exit_code == 2
    assert refused.stderr == (
        "Error: cannot retire source 'claude': replica web-2:41 holds a lease on it (a `syncer "
        "run` still syncs it): update that replica's configuration first\n"
    )


@pytest.mark.parametrize("action", ["rename", "retire"])
def test_rename_and_retire_cost_the_same_statements_for_2_or_200_models(
    invoke: Invoke, provider: FakeProvider, tmp_path: Path, database_url: str, action: str
) -> None:
    counts = []
    for size in (2, 200):
        name = f"size{size}"
        provider.set(*(f"m{i}" for i in range(size)))
        invoke("--config", _config(tmp_path, provider, name), "sync")
        engine = create_engine(database_url)
        statements: list[str] = []

        def count(*args: Any) -> None:
            statements.append(args[2])  # noqa: B023

        event.listen(engine, "before_cursor_execute", count)
        if action == "rename":
            rename(engine, name, f"{name}-renamed", [], utcnow())
        else:
            assert retire(engine, name, [], utcnow()) == size
        engine.dispose()
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_retired_models_leave_the_availability_view(
    invoke: Invoke, provider: FakeProvider, tmp_path: Path, database_url: str
) -> None:
    provider.set("a")
    invoke("--config", _config(tmp_path, provider, "claude"), "sync")
    invoke("--config", _config(tmp_path, provider), "sources", "retire", "claude")
    engine: Engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(select(model_availability)).all()
    engine.dispose()
    assert [(r.started_by, r.ended_by, r.available_until is not None) for r in rows] == [
        ("added", "source_retired", True),
    ]


def test_the_day_a_source_is_retired_counts_its_models_in_inventory_daily(
    invoke: Invoke, provider: FakeProvider, tmp_path: Path
) -> None:
    provider.set("a", "b")
    invoke("--config", _config(tmp_path, provider, "claude"), "sync")
    config = _config(tmp_path, provider)
    invoke("--config", config, "sources", "retire", "claude")

    daily = json.loads(
        invoke(
            "--config", config, "report", "daily", "--source", "claude", "--format", "json"
        ).stdout
    )

    assert [(d["present"], d["added"], d["vanished"], d["source_retired"]) for d in daily] == [
        (0, 2, 0, 2),
    ]


UNKNOWN_SOURCE_COMMANDS = [
    ("models",),
    ("models", "show", "a"),
    ("events",),
    ("runs",),
    ("diff", "7d"),
    ("history", "a"),
    ("deprecations",),
    ("deprecations", "--format", "ics"),
    ("report", "shutdowns"),
    ("report", "query", "daily"),
    ("report", "html", "-o", "-"),
]


@pytest.mark.parametrize("command", UNKNOWN_SOURCE_COMMANDS, ids=" ".join)
def test_an_unknown_source_is_an_error_naming_the_configured_and_stored_ones(
    invoke: Invoke, provider: FakeProvider, tmp_path: Path, command: tuple[str, ...]
) -> None:
    provider.set("a")
    invoke("--config", _config(tmp_path, provider, "claude"), "sync")
    config = _config(tmp_path, provider, "openai", "mistral")

    typo = invoke("--config", config, *command, "--source", "opneai")
    stored_only = invoke("--config", config, *command, "--source", "claude")

    assert typo.exit_code == 2, typo.output
    assert typo.stdout == ""
    assert typo.stderr.endswith(
        "Error: unknown source 'opneai' (configured: openai, mistral; stored: claude)\n"
    )
    assert stored_only.exit_code == 0, stored_only.output


def test_an_unknown_source_among_several_is_an_error(
    invoke: Invoke, provider: FakeProvider, tmp_path: Path
) -> None:
    provider.set("a")
    config = _config(tmp_path, provider, "openai")
    invoke("--config", config, "sync")

    result = invoke("--config", config, "models", "--source", "openai", "--source", "nope")

    assert result.exit_code == 2
    assert result.stderr == "Error: unknown source 'nope' (configured: openai; stored: openai)\n"


@pytest.mark.parametrize(
    "command",
    [
        ("sync",),
        ("run",),
        ("retention", "plan"),
        ("retention", "apply", "--yes"),
        ("models", "show", "a", "--live"),
    ],
    ids=" ".join,
)
def test_a_command_that_reaches_the_provider_names_configured_and_stored_sources_too(
    invoke: Invoke, provider: FakeProvider, tmp_path: Path, command: tuple[str, ...]
) -> None:
    provider.set("a")
    invoke("--config", _config(tmp_path, provider, "claude"), "sync")
    config = _config(tmp_path, provider, "openai", "mistral")

    typo = invoke("--config", config, *command, "--source", "opneai")
    stored_only = invoke("--config", config, *command, "--source", "claude")

    assert typo.exit_code == 2, typo.output
    assert typo.stderr.endswith(
        "Error: unknown source 'opneai' (configured: openai, mistral; stored: claude)\n"
    )
    assert stored_only.exit_code == 2, stored_only.output
    assert stored_only.stderr.endswith(
        "Error: source 'claude' is stored but not configured (configured: openai, mistral): "
        "add it to the configuration to reach its provider\n"
    )


def test_report_sql_checks_its_source_as_the_report_does(
    invoke: Invoke, provider: FakeProvider, tmp_path: Path
) -> None:
    provider.set("a")
    invoke("--config", _config(tmp_path, provider, "claude"), "sync")
    config = _config(tmp_path, provider, "openai")

    typo = invoke("--config", config, "report", "daily", "--sql", "--source", "opneai")
    stored = invoke("--config", config, "report", "daily", "--sql", "--source", "claude")

    assert typo.exit_code == 2
    assert typo.stdout == ""
    assert typo.stderr.endswith(
        "Error: unknown source 'opneai' (configured: openai; stored: claude)\n"
    )
    assert stored.exit_code == 0 and "'claude'" in stored.stdout
