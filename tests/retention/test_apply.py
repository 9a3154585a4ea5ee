"""Retention end to end: a real provider on loopback that records every DELETE, a real database,
the real client and CLI (in-process, and in subprocesses that are killed or given a terminal)."""

from __future__ import annotations

import json
import logging
import os
import pty
import select
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine
from sqlalchemy import select as sql_select

from syncer.cli import cli
from syncer.config.model import HTTPSettings, RetentionRule, Schedule, Settings, Source
from syncer.db.engine import make_engine, read_session
from syncer.db.schema import Model, ModelEvent
from syncer.providers.http import Client
from syncer.retention.apply import apply_plan, plan_source, run_scheduled
from syncer.runtime.jobs import build_jobs
from syncer.runtime.scheduler import build_scheduler
from syncer.sync.run import Syncer
from tests.fakes import API_KEY, FakeProvider, model
from tests.processes import clean_env, start
from tests.receivers import Receiver

HTTP = "[http]\nmax_retries = 1\nbackoff_base = 0.01\nbackoff_max = 0.02\nread_timeout = 10\n"
# A killed apply leaves its lease behind: the next one waits this long for it.
HTTP += '[schedule]\nlease = "2s"\n'
RULE = '[retention]\nmax_age = "90d"\ninclude = ["ft:*:acme:*"]\nkeep = ["ft:*:acme:prod-*"]\n'
FAST = HTTPSettings(max_retries=1, backoff_base=0.01, backoff_max=0.02, read_timeout=10)


def aged(model_id: str, days: float, owner: str = "org-acme") -> dict[str, Any]:
    return model(model_id, created=int(time.time() - days * 86400), owned_by=owner)


#: An inventory with one model of every kind retention must tell apart.
INVENTORY = [
    aged("gpt-4o", 900, "system"),
    aged("ft:gpt-4o:acme:support:old1", 400),
    aged("ft:gpt-4o:acme:support:old2", 300),
    aged("ft:gpt-4o:acme:support:new", 200),
    aged("ft:gpt-4o:acme:prod-chat:a", 500),
    aged("ft:gpt-4o:acme:prod-chat:b", 450),
    aged("ft:gpt-4o:acme:tuned:x", 500, "openai"),
    aged("ft:gpt-4o:other:support:x", 500),
    aged("ft:gpt-4o:acme:young:1", 10),
    aged("ft:gpt-4o:acme:young:2", 5),
]
STALE = ["ft:gpt-4o:acme:support:old1", "ft:gpt-4o:acme:support:old2"]


class SyncerCLI:
    """``syncer --config FILE ARGS`` in-process, with the rule a test writes."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.rule(RULE)

    def rule(self, text: str) -> None:
        self.config.write_text(HTTP + text)

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(
            cli, ["--config", str(self.config), *args], catch_exceptions=False
        )

    def json(self, *args: str) -> Any:
        result = self(*args, "--format", "json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def env(provider: FakeProvider, database_url: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SYNCER_"))}
    return clean | {
        "OPENAI_API_KEY": API_KEY,
        "OPENAI_BASE_URL": provider.base_url,
        "SYNCER_DATABASE_URL": database_url,
    }


@pytest.fixture
def syncer(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], tmp_path: Path, provider: FakeProvider
) -> SyncerCLI:
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "SYNCER_")):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    provider.models = list(INVENTORY)
    return SyncerCLI(tmp_path / "syncer.toml")


def synced(syncer: SyncerCLI) -> SyncerCLI:
    result = syncer("sync")
    assert result.exit_code == 0, result.output
    return syncer


def recorded(database_url: str, kind: str = "deleted") -> list[str]:
    """The ids with an event of ``kind``, in the order they were recorded."""
    engine = make_engine(database_url)
    try:
        with read_session(engine) as session:
            query = sql_select(ModelEvent.model_id).where(ModelEvent.kind == kind)
            return list(session.scalars(query.order_by(ModelEvent.id)))
    finally:
        engine.dispose()


def marked_deleted(database_url: str) -> set[str]:
    engine = make_engine(database_url)
    try:
        with read_session(engine) as session:
            query = sql_select(Model.model_id).where(Model.deleted_at.is_not(None))
            return set(session.scalars(query))
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------------
# plan and apply


def test_plan_explains_every_fine_tune_and_deletes_nothing(
    syncer: SyncerCLI, provider: FakeProvider
) -> None:
    synced(syncer)
    result = syncer("retention", "plan", "--format", "json")

    assert result.exit_code == 0, result.output
    plan = {row["model_id"]: (row["action"], row["reason"]) for row in json.loads(result.stdout)}
    assert [i for i, (action, _) in plan.items() if action == "delete"] == STALE
    assert plan["ft:gpt-4o:acme:support:new"] == ("keep", "#1 newest of its family (keep_latest 1)")
    assert plan["ft:gpt-4o:acme:prod-chat:a"] == ("keep", "matches keep pattern 'ft:*:acme:prod-*'")
    assert plan["ft:gpt-4o:acme:tuned:x"] == ("keep", "owned by the provider (openai)")
    assert plan["ft:gpt-4o:other:support:x"] == ("keep", "matches no include pattern")
    assert "gpt-4o" not in plan
    assert result.stderr.splitlines() == [
        "openai: 2 to delete, 7 fine-tunes kept, 1 non-fine-tunes ignored; rule: max_age 90d; "
        "include ft:*:acme:*; keep ft:*:acme:prod-*; keep_latest 1; max_deletes 10",
        "openai: `syncer run` only logs this plan (apply = false)",
    ]
    everything = syncer.json("retention", "plan", "--all")
    assert ("gpt-4o", "keep", "not a fine-tune") in {
        (r["model_id"], r["action"], r["reason"]) for r in everything
    }
    table = syncer("retention", "plan").stdout.splitlines()
    assert table[0].split() == [
        "source",
        "model_id",
        "action",
        "age_days",
        "owned_by",
        "family",
        "reason",
    ]
    assert provider.delete_paths == []


def test_apply_deletes_exactly_the_plan_and_every_deletion_is_an_event(
    syncer: SyncerCLI, provider: FakeProvider, database_url: str
) -> None:
    synced(syncer)
    planned = [r["model_id"] for r in syncer.json("retention", "plan") if r["action"] == "delete"]

    result = syncer("retention", "apply", "--yes")

    assert result.exit_code == 0, result.output
    assert provider.deleted == planned == STALE
    assert provider.delete_paths == [f"/v1/models/{i}" for i in STALE]
    assert result.stdout.splitlines() == [f"deleted {i}" for i in STALE] + [
        "openai: 2 deleted (0 already gone), 0 failed, 0 skipped"
    ]
    events = syncer.json("events", "--kind", "deleted")
    assert sorted(e["model_id"] for e in events) == sorted(STALE)
    details = {e["model_id"]: e["details"] for e in events}["ft:gpt-4o:acme:support:old1"]
    assert details["http_status"] == 200
    assert details["family"] == "gpt-4o (support)"
    assert details["reason"].startswith("400 days old > max_age 90d; #3 newest of its family")
    assert details["rule"]["include"] == ["ft:*:acme:*"]
    assert marked_deleted(database_url) == set(STALE)
    present = {m["model_id"] for m in syncer.json("models")}
    assert present.isdisjoint(STALE) and "ft:gpt-4o:acme:support:new" in present

    # The next sync agrees quietly: no vanish events, nothing held, nothing more to delete.
    assert synced(syncer)("sync").exit_code == 0
    assert syncer.json("events", "--kind", "vanished") == []
    again = syncer("retention", "apply", "--yes")
    assert again.exit_code == 0
    assert len(provider.delete_paths) == 2


def test_a_broad_rule_still_never_touches_provider_models_non_fine_tunes_or_keeps(
    syncer: SyncerCLI, provider: FakeProvider
) -> None:
    syncer.rule(
        '[retention]\nmax_age = "90d"\ninclude = ["*"]\nkeep_latest = 0\n'
        'keep = ["ft:*:acme:prod-*"]\n'
    )
    synced(syncer)

    assert syncer("retention", "apply", "--yes").exit_code == 0

    assert sorted(provider.deleted) == sorted(
        [*STALE, "ft:gpt-4o:acme:support:new", "ft:gpt-4o:other:support:x"]
    )


def test_another_orgs_newer_fine_tune_never_takes_the_slot_of_the_model_the_rule_keeps(
    syncer: SyncerCLI, provider: FakeProvider, database_url: str
) -> None:
    # Issue 21, as reported: NEWER "matches no include pattern", yet it took the keep_latest
    # slot, REAL ranked "#2 newest of its family", and `apply --yes` deleted acme's only one.
    provider.models = [
        aged("ft:gpt-4o:acme:prod:REAL", 400),
        aged("ft:gpt-4o:otherorg:prod:NEWER", 1, "org-other"),
        aged("ft:gpt-4o:evilorg:x:acme:y:z", 500, "org-evil"),
        aged("ft:gpt-4o:evilorg:x:acme:y:zz", 400, "org-evil"),
    ]
    syncer.rule('[retention]\nmax_age = "90d"\ninclude = ["ft:*:acme:*"]\nkeep_latest = 1\n')
    synced(syncer)

    plan = {r["model_id"]: (r["action"], r["reason"]) for r in syncer.json("retention", "plan")}
    applied = syncer("retention", "apply", "--yes")

    assert plan == {
        "ft:gpt-4o:acme:prod:REAL": ("keep", "#1 newest of its family (keep_latest 1)"),
        "ft:gpt-4o:otherorg:prod:NEWER": ("keep", "matches no include pattern"),
        "ft:gpt-4o:evilorg:x:acme:y:z": ("keep", "matches no include pattern"),
        "ft:gpt-4o:evilorg:x:acme:y:zz": ("keep", "matches no include pattern"),
    }
    assert applied.exit_code == 0, applied.output
    assert provider.delete_paths == []
    assert recorded(database_url) == []


def test_max_deletes_holds_and_the_rest_wait_for_the_next_run(
    syncer: SyncerCLI, provider: FakeProvider
) -> None:
    provider.models = [aged(f"ft:gpt-4o:acme:s:{d}", d) for d in (500, 400, 300, 200, 100)]
    syncer.rule(RULE + "max_deletes = 2\n")
    synced(syncer)

    syncer("retention", "apply", "--yes")
    assert provider.deleted == ["ft:gpt-4o:acme:s:500", "ft:gpt-4o:acme:s:400"]
    syncer("retention", "apply", "--yes")
    assert provider.deleted[2:] == ["ft:gpt-4o:acme:s:300", "ft:gpt-4o:acme:s:200"]
    syncer("retention", "apply", "--yes")
    assert len(provider.deleted) == 4


def test_hostile_ids_stay_one_path_segment_and_arrive_exactly_as_listed(
    syncer: SyncerCLI, provider: FakeProvider, database_url: str
) -> None:
    hostile = {
        "ft:gpt-4o:acme:a/b:x1": "ft:gpt-4o:acme:a%2Fb:x1",
        "ft:gpt-4o:acme:q?x=1:x2": "ft:gpt-4o:acme:q%3Fx=1:x2",
        "ft:gpt-4o:acme:h#f:x3": "ft:gpt-4o:acme:h%23f:x3",
        "ft:gpt-4o:acme:100%:x4": "ft:gpt-4o:acme:100%25:x4",
        "ft:gpt-4o:acme:sp ace:x5": "ft:gpt-4o:acme:sp%20ace:x5",
        "ft:gpt-4o:acme:../..:x6": "ft:gpt-4o:acme:..%2F..:x6",
        "ft:gpt-4o:acme:é@1:x7": "ft:gpt-4o:acme:%C3%A9@1:x7",
    }
    provider.models = [aged(i, 900 - n) for n, i in enumerate(hostile)]
    syncer.rule(RULE + "keep_latest = 0\n")
    synced(syncer)

    assert syncer("retention", "apply", "--yes").exit_code == 0

    assert provider.delete_paths == [f"/v1/models/{path}" for path in hostile.values()]
    assert provider.deleted == list(hostile)
    assert marked_deleted(database_url) == set(hostile)


def test_a_404_means_someone_else_deleted_it_and_is_recorded_as_deleted(
    syncer: SyncerCLI, provider: FakeProvider
) -> None:
    synced(syncer)
    provider.delete_status[STALE[0]] = 404

    result = syncer("retention", "apply", "--yes")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"gone {STALE[0]}"
    assert "2 deleted (1 already gone)" in result.stdout
    statuses = {
        e["model_id"]: e["details"]["http_status"]
        for e in syncer.json("events", "--kind", "deleted")
    }
    assert statuses == {STALE[0]: 404, STALE[1]: 200}


def test_a_403_records_the_failure_and_stops_the_run(
    syncer: SyncerCLI, provider: FakeProvider
) -> None:
    provider.models = [aged(f"ft:gpt-4o:acme:s:{d}", d) for d in (500, 400, 300, 100)]
    provider.delete_status["ft:gpt-4o:acme:s:400"] = 403
    synced(syncer)

    result = syncer("retention", "apply", "--yes")

    assert result.exit_code == 1
    assert provider.deleted == ["ft:gpt-4o:acme:s:500"]
    assert [p.rsplit(":", 1)[1] for p in provider.delete_paths] == ["500", "400"]
    assert "STOPPED: the provider refused to delete 'ft:gpt-4o:acme:s:400' (403)" in result.stderr
    assert API_KEY not in result.output
    [failed] = syncer.json("events", "--kind", "delete_failed")
    assert failed["model_id"] == "ft:gpt-4o:acme:s:400"
    assert failed["details"]["http_status"] == 403
    assert "insufficient permissions" in failed["details"]["error"]
    waiting = [r["model_id"] for r in syncer.json("retention", "plan") if r["action"] == "delete"]
    assert waiting == ["ft:gpt-4o:acme:s:400", "ft:gpt-4o:acme:s:300"]


def test_deletions_a_403_stopped_before_they_were_tried_count_as_not_attempted(
    syncer: SyncerCLI, provider: FakeProvider
) -> None:
    provider.models = [aged(f"ft:gpt-4o:acme:s:{d}", d) for d in (500, 400, 300, 200, 100)]
    provider.delete_status["ft:gpt-4o:acme:s:500"] = 403
    synced(syncer)

    result = syncer("retention", "apply", "--yes")

    assert result.exit_code == 1
    assert len(provider.delete_paths) == 1
    summary = [line for line in result.stderr.splitlines() if line.startswith("openai: 0 deleted")]
    assert summary == [
        "openai: 0 deleted (0 already gone), 1 failed, 0 skipped, 3 not attempted; STOPPED: "
        "the provider refused to delete 'ft:gpt-4o:acme:s:500' (403): the key does not own "
        "the model or lacks the permission to delete models"
    ]


def test_plan_after_a_failed_sync_is_one_message(syncer: SyncerCLI, provider: FakeProvider) -> None:
    synced(syncer)
    provider.fail_next(403, '{"error": {"message": "nope"}}')
    assert syncer("sync").exit_code == 1

    result = syncer("retention", "plan")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert [line for line in result.stderr.splitlines() if " werkzeug: " not in line] == [
        "Error: openai: the latest sync (run 2) is failed, so the stored list cannot be "
        "trusted; retention waits for a successful sync"
    ]


def test_a_500_is_retried_then_recorded_as_failed_and_the_run_carries_on(
    syncer: SyncerCLI, provider: FakeProvider, database_url: str
) -> None:
    synced(syncer)
    provider.delete_status[STALE[0]] = 500

    result = syncer("retention", "apply", "--yes")

    assert result.exit_code == 1
    assert provider.delete_paths == [f"/v1/models/{STALE[0]}"] * 2 + [f"/v1/models/{STALE[1]}"]
    assert provider.deleted == [STALE[1]]
    assert f"failed {STALE[0]}: DELETE" in result.stderr
    assert "openai: 1 deleted (0 already gone), 1 failed, 0 skipped" in result.stderr
    [failed] = syncer.json("events", "--kind", "delete_failed")
    assert failed["details"]["http_status"] == 500
    assert "Internal error" in failed["details"]["error"]
    assert "gave up after 2 attempts" in failed["details"]["error"]
    assert marked_deleted(database_url) == {STALE[1]}


def test_without_a_terminal_and_without_yes_nothing_is_deleted(
    syncer: SyncerCLI, provider: FakeProvider, database_url: str
) -> None:
    synced(syncer)

    result = syncer("retention", "apply")

    assert result.exit_code == 1
    assert "not a terminal and no --yes: nothing deleted" in result.stderr
    assert [line.split()[1] for line in result.stdout.splitlines()[2:]] == STALE
    assert provider.delete_paths == []
    assert recorded(database_url) == [] and recorded(database_url, "delete_failed") == []


@pytest.mark.parametrize("status", ["failed", "held"])
def test_retention_refuses_a_source_whose_latest_sync_is_not_ok(
    syncer: SyncerCLI, provider: FakeProvider, status: str
) -> None:
    synced(syncer)
    if status == "failed":
        provider.fail_next(500)
        provider.fail_next(500)
    else:
        provider.models = provider.models[:2]
    assert syncer("sync").exit_code == 1

    for command in (("plan",), ("apply", "--yes")):
        result = syncer("retention", *command)
        assert result.exit_code == 1
        assert f"openai: the latest sync (run 2) is {status}" in result.stderr
    assert provider.delete_paths == []


def test_a_never_synced_source_is_refused(syncer: SyncerCLI, provider: FakeProvider) -> None:
    syncer("db", "upgrade")
    result = syncer("retention", "apply", "--yes")
    assert result.exit_code == 1
    assert "openai: never synced; run `syncer sync` before retention" in result.stderr


def test_a_model_missing_from_the_latest_list_is_not_a_candidate(
    syncer: SyncerCLI, provider: FakeProvider
) -> None:
    synced(syncer)
    provider.models = [m for m in provider.models if m["id"] != STALE[0]]
    provider.retrieve_status[STALE[0]] = 500  # cannot confirm: stays present, unlisted
    synced(syncer)

    plan = {r["model_id"]: r["reason"] for r in syncer.json("retention", "plan")}

    assert plan[STALE[0]] == "not listed by the latest sync"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # refused before any database
def test_without_a_rule_retention_is_a_usage_error(syncer: SyncerCLI) -> None:
    syncer.rule("")
    result = syncer("retention", "plan")
    assert result.exit_code == 2
    assert "no retention rule: add a [retention] table" in result.stderr


# ---------------------------------------------------------------------------------------
# Concurrency, crashes, a sync failing meanwhile


def source_for(provider: FakeProvider) -> Source:
    return Source(name="openai", base_url=provider.base_url, api_key=API_KEY)


def test_two_replicas_applying_at_once_never_delete_twice(
    syncer: SyncerCLI, provider: FakeProvider, database_url: str
) -> None:
    provider.models = [aged(f"ft:gpt-4o:acme:s:{d}", d) for d in range(200, 209)]
    synced(syncer)
    rule = RetentionRule(max_age=timedelta(days=90), include=("ft:*:acme:*",))
    both_planned = threading.Barrier(2, timeout=10)

    def replica() -> list[str]:
        engine = make_engine(database_url)
        try:
            plan = plan_source(engine, "openai", rule, datetime.now(UTC))
            both_planned.wait()
            with Client(source_for(provider).endpoint(), FAST) as client:
                report = apply_plan(engine, client, "openai", plan)
            return [o.result for o in report.outcomes]
        finally:
            engine.dispose()

    with ThreadPoolExecutor(2) as pool:
        results = [
            r for future in [pool.submit(replica) for _ in range(2)] for r in future.result()
        ]

    assert sorted(results) == ["deleted"] * 8 + ["skipped"] * 8
    assert len(provider.delete_paths) == len(set(provider.delete_paths)) == 8
    assert sorted(recorded(database_url)) == sorted(provider.deleted)


def test_a_sync_failing_between_plan_and_apply_stops_the_deletions(
    engine: Engine, provider: FakeProvider
) -> None:
    provider.models = list(INVENTORY)
    with Client(source_for(provider).endpoint(), FAST) as client:
        Syncer(engine, client, "openai").run()
        plan = plan_source(
            engine,
            "openai",
            RetentionRule(max_age=timedelta(days=90), include=("ft:*:acme:*",)),
            datetime.now(UTC),
        )
        provider.fail_next(500)
        provider.fail_next(500)
        assert Syncer(engine, client, "openai").run().status == "failed"
        report = apply_plan(engine, client, "openai", plan)

    assert report.outcomes == []
    assert report.stopped is not None and "is failed" in report.stopped
    assert provider.delete_paths == []


def test_a_model_the_provider_stopped_listing_after_the_plan_is_skipped(
    engine: Engine, provider: FakeProvider
) -> None:
    provider.models = list(INVENTORY)
    rule = RetentionRule(max_age=timedelta(days=90), include=("ft:*:acme:support:*",))
    with Client(source_for(provider).endpoint(), FAST) as client:
        Syncer(engine, client, "openai").run()
        plan = plan_source(engine, "openai", rule, datetime.now(UTC))
        provider.models = [m for m in provider.models if m["id"] != STALE[0]]
        provider.retrieve_status[STALE[0]] = 500  # unconfirmed: still present, not listed
        assert Syncer(engine, client, "openai").run().ok
        report = apply_plan(engine, client, "openai", plan)

    assert [(o.model_id, o.result) for o in report.outcomes] == [
        (STALE[0], "skipped"),
        (STALE[1], "deleted"),
    ]
    assert provider.deleted == [STALE[1]]


def start_apply(env: dict[str, str], config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "syncer", "--config", str(config), "retention", "apply", "--yes"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def kill_when_blocked(process: subprocess.Popen[str], provider: FakeProvider) -> None:
    try:
        assert provider.delete_blocked.wait(20), process.communicate(timeout=5)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == -signal.SIGKILL


def test_a_crash_mid_run_leaves_the_database_agreeing_with_the_provider(
    syncer: SyncerCLI, provider: FakeProvider, database_url: str, env: dict[str, str]
) -> None:
    provider.models = [aged(f"ft:gpt-4o:acme:s:{d}", d) for d in range(200, 206)]
    synced(syncer)
    provider.block_delete = 3
    try:
        kill_when_blocked(start_apply(env, syncer.config), provider)
        assert len(provider.deleted) == 2
        assert recorded(database_url) == provider.deleted
        assert marked_deleted(database_url) == set(provider.deleted)
    finally:
        provider.release.set()

    assert syncer("retention", "apply", "--yes").exit_code == 0
    assert len(provider.deleted) == 5
    assert recorded(database_url) == provider.deleted


def test_a_deletion_done_by_the_provider_before_a_crash_is_recorded_by_the_next_run(
    syncer: SyncerCLI, provider: FakeProvider, database_url: str, env: dict[str, str]
) -> None:
    provider.models = [aged(f"ft:gpt-4o:acme:s:{d}", d) for d in range(200, 204)]
    synced(syncer)
    provider.block_delete, provider.block_after_delete = 2, True
    try:
        kill_when_blocked(start_apply(env, syncer.config), provider)
        assert recorded(database_url) == provider.deleted[:1]
    finally:
        provider.release.set()

    assert syncer("retention", "apply", "--yes").exit_code == 0
    assert recorded(database_url) == provider.deleted
    statuses = [e["details"]["http_status"] for e in syncer.json("events", "--kind", "deleted")]
    assert sorted(statuses) == [200, 200, 404]


# ---------------------------------------------------------------------------------------
# A terminal, and `syncer run`


def read_until(fd: int, wanted: str, timeout: float = 20) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    while wanted not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                seen += os.read(fd, 4096).decode(errors="replace")
            except OSError:  # the other end closed
                break
    return seen


def on_a_terminal(env: dict[str, str], config: Path, answer: str) -> tuple[int, str]:
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "syncer", "--config", str(config), "retention", "apply"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env | {"COLUMNS": "120"},
    )
    os.close(follower)
    try:
        shown = read_until(leader, "[y/N]")
        os.write(leader, f"{answer}\n".encode())
        shown += read_until(leader, "skipped")
        return process.wait(timeout=20), shown
    finally:
        process.kill()
        os.close(leader)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # a terminal, not a database
def test_on_a_terminal_apply_asks_first_and_shows_progress(
    syncer: SyncerCLI, provider: FakeProvider, env: dict[str, str]
) -> None:
    provider.models = [aged(f"ft:gpt-4o:acme:s:{d}", d) for d in range(200, 208)]
    synced(syncer)

    code, shown = on_a_terminal(env, syncer.config, "n")
    assert code == 1 and "Delete these 7 models? [y/N]" in shown
    assert provider.delete_paths == []

    code, shown = on_a_terminal(env, syncer.config, "y")
    assert code == 0, shown
    assert len(provider.deleted) == 7
    assert "openai  [" in shown and "100%" in shown
    assert "openai: 7 deleted (0 already gone), 0 failed, 0 skipped" in shown


def test_a_scheduled_run_only_logs_the_plan_unless_apply_is_true(
    engine: Engine, provider: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    provider.models = list(INVENTORY)
    source = source_for(provider)
    with Client(source.endpoint(), FAST) as client:
        Syncer(engine, client, "openai").run()
    rule = RetentionRule(
        max_age=timedelta(days=90), include=("ft:*:acme:*",), keep=("ft:*:acme:prod-*",)
    )
    caplog.set_level(logging.INFO, "syncer")

    assert run_scheduled(engine, source, rule, FAST) is None
    assert provider.delete_paths == []
    assert f"would delete {STALE[0]}: 400 days old > max_age 90d" in caplog.text

    report = run_scheduled(engine, source, RetentionRule(**{**rule.__dict__, "apply": True}), FAST)
    assert report is not None and report.ok
    assert provider.deleted == STALE


def test_the_scheduler_adds_a_retention_job_only_for_sources_with_a_rule() -> None:
    rule = RetentionRule(max_age=timedelta(days=90), include=("ft:*",), every=timedelta(hours=12))
    settings = Settings(sources=(Source(name="a"), Source(name="b")), retention={"a": rule})
    engine = make_engine("sqlite://")
    scheduler = build_scheduler(build_jobs(engine, settings, settings.sources), Schedule())

    assert sorted(j.id for j in scheduler.get_jobs()) == ["retention:a", "sync:a", "sync:b"]
    assert scheduler.get_job("retention:a").trigger.interval == timedelta(hours=12)


def test_syncer_run_applies_the_rule_on_its_schedule(
    provider: FakeProvider, tmp_path: Path
) -> None:
    provider.models = list(INVENTORY)
    config = tmp_path / "syncer.toml"
    config.write_text(
        f'[schedule]\nevery = "1h"\njitter = 0\n\n{RULE}apply = true\nevery = "1s"\n\n'
        f'[[sources]]\nname = "local"\nbase_url = "{provider.base_url}"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SYNCER_"))}
    database = f"sqlite:///{tmp_path / 'run.db'}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "syncer",
            "--config",
            str(config),
            "--database-url",
            database,
            "run",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env | {"OPENAI_API_KEY": API_KEY},
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(provider.deleted) < 2:
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert provider.deleted == STALE
    assert "retention local: 2 deleted (0 already gone), 0 failed, 0 skipped" in stderr
    assert API_KEY not in stderr


def test_a_scheduled_run_scrubs_every_configured_secret_from_what_the_provider_says(
    provider: FakeProvider, receiver: Receiver, tmp_path: Path, database_url: str
) -> None:
    """The provider's refusal quotes the alert channel's signing secret: not this source's
    own secret, so only the settings' whole set of secrets can keep it out of the stored
    ``delete_failed`` event (the log is scrubbed by the CLI's own filter)."""
    signing = "whsec-S1GNSECRET-for-retention"
    provider.models = list(INVENTORY)
    provider.delete_status[STALE[0]] = 400
    provider.delete_message[STALE[0]] = f"cannot delete: signed with {signing}"
    config = tmp_path / "syncer.toml"
    config.write_text(
        f'{HTTP}every = "1h"\njitter = 0\n{RULE}apply = true\nevery = "1s"\n\n'
        f'[[sources]]\nname = "local"\nbase_url = "{provider.base_url}"\n\n'
        '[[alerts]]\nname = "hook"\nkinds = ["deleted"]\nwebhook_url_env = "HOOK_URL"\n'
        'secret_env = "HOOK_SECRET"\n'
    )
    config.chmod(0o600)
    env = clean_env(HOOK_URL=receiver.url, HOOK_SECRET=signing)
    process = start(["--config", str(config), "--database-url", database_url, "run"], env)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(provider.delete_paths) < 2:
            time.sleep(0.1)
        time.sleep(0.5)  # the second deletion's record
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert provider.deleted == STALE[1:]
    engine = make_engine(database_url)
    try:
        with read_session(engine) as session:
            failed = session.scalars(
                sql_select(ModelEvent.details).where(ModelEvent.kind == "delete_failed")
            ).all()
    finally:
        engine.dispose()
    assert len(failed) == 1
    assert "cannot delete: signed with ***" in json.dumps(failed[0])
    assert signing not in json.dumps(failed[0]) and signing not in stderr


def test_each_deletion_is_alerted_by_a_rule_on_deleted_events(
    syncer: SyncerCLI,
    provider: FakeProvider,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOOK_URL", receiver.url)
    syncer.rule(
        RULE + '\n[[alerts]]\nname = "deletions"\nkinds = ["deleted"]\n'
        'webhook_url_env = "HOOK_URL"\n'
    )
    synced(syncer)

    result = syncer("retention", "apply", "--yes")

    assert result.exit_code == 0, result.output
    assert [(d["kind"], d["model_id"]) for d in receiver.documents] == [
        ("deleted", model_id) for model_id in STALE
    ]


def test_retention_deletes_stale_mistral_fine_tunes_by_mistrals_own_id_rules(
    syncer: SyncerCLI, provider: FakeProvider, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", API_KEY)
    provider.models = [
        aged("mistral-medium-2508", 400, "mistralai"),
        aged("ft:open-mistral-7b:587a6b29:20240514:MyCoach:aaaa0001", 400, "587a6b29"),
        aged("ft:open-mistral-7b:587a6b29:20240620:MyCoach:aaaa0002", 300, "587a6b29"),
        aged("ft:open-mistral-7b:587a6b29:20250101:MyCoach:aaaa0003", 200, "587a6b29"),
        aged("ft:open-mistral-7b:587a6b29:20240514:Other:bbbb0001", 400, "587a6b29"),
        aged("ft:mistral-small:mistralai:20240101:x:cccc0001", 400, "mistralai"),
    ]
    syncer.config.write_text(
        HTTP + '[[sources]]\nname = "mistral"\nkind = "mistral"\n'
        f'base_url = "{provider.base_url}"\n'
        '[sources.retention]\nmax_age = "90d"\ninclude = ["ft:*"]\n'
    )
    assert syncer("sync").exit_code == 0

    plan = syncer.json("retention", "plan", "--source", "mistral")
    applied = syncer("retention", "apply", "--yes")

    assert applied.exit_code == 0, applied.output
    gone = [
        "ft:open-mistral-7b:587a6b29:20240514:MyCoach:aaaa0001",
        "ft:open-mistral-7b:587a6b29:20240620:MyCoach:aaaa0002",
    ]
    assert [r["model_id"] for r in plan if r["action"] == "delete"] == gone
    assert provider.deleted == gone
    kept = {r["model_id"]: r["reason"] for r in plan if r["action"] == "keep"}
    assert kept["ft:mistral-small:mistralai:20240101:x:cccc0001"] == (
        "owned by the provider (mistralai)"
    )
    assert kept["ft:open-mistral-7b:587a6b29:20240514:Other:bbbb0001"].startswith("#1 newest")
    assert {r["family"] for r in plan if r["action"] == "delete"} == {"open-mistral-7b (MyCoach)"}
    assert recorded(database_url) == gone
