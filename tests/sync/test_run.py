"""One sync end to end: a real provider on loopback, a real database, the real client."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text

from syncer.config.model import HTTPSettings, Source, SyncPolicy
from syncer.db.engine import make_engine, read_session
from syncer.db.schema import Model, ModelEvent, SyncRun
from syncer.providers.http import Client
from syncer.sync.run import Syncer, SyncResult
from tests.fakes import API_KEY, FakeProvider, closed_port, model

FAST = HTTPSettings(max_retries=0, read_timeout=2, connect_timeout=2)


def sync(
    engine: Engine,
    base_url: str,
    policy: SyncPolicy | None = None,
    http: HTTPSettings = FAST,
    name: str = "openai",
) -> SyncResult:
    with Client(Source(name=name, base_url=base_url, api_key=API_KEY).endpoint(), http) as client:
        return Syncer(engine, client, name, policy or SyncPolicy()).run()


def stored(engine: Engine) -> dict[str, dict[str, Any]]:
    with read_session(engine) as session:
        rows = session.scalars(select(Model)).all()
        return {
            r.model_id: {
                "owned_by": r.owned_by,
                "vanished": r.vanished_at is not None,
                "shutdown_at": r.shutdown_at,
                "raw": r.raw,
            }
            for r in rows
        }


def event_log(engine: Engine) -> list[tuple[str, str]]:
    with read_session(engine) as session:
        rows = session.execute(select(ModelEvent.kind, ModelEvent.model_id).order_by(ModelEvent.id))
        return [tuple(row) for row in rows]


def run_statuses(engine: Engine) -> list[str]:
    with read_session(engine) as session:
        return list(session.scalars(select(SyncRun.status).order_by(SyncRun.id)))


def test_first_sync_records_every_model_as_added(engine: Engine, provider: FakeProvider) -> None:
    provider.set("gpt-4o", "gpt-4o-mini", "ft:gpt-4o-mini:acme:x:1")
    result = sync(engine, provider.base_url)
    assert (result.status, result.models_seen, result.added) == ("ok", 3, 3)
    assert sorted(event_log(engine)) == [
        ("added", "ft:gpt-4o-mini:acme:x:1"),
        ("added", "gpt-4o"),
        ("added", "gpt-4o-mini"),
    ]
    with read_session(engine) as session:
        fine_tune = session.get(Model, ("openai", "ft:gpt-4o-mini:acme:x:1"))
        assert fine_tune is not None
        assert fine_tune.is_fine_tuned
        assert fine_tune.created_at is not None and fine_tune.created_at.tzinfo is not None
        assert fine_tune.first_seen_at == fine_tune.last_seen_at


def test_unchanged_sync_records_no_events_and_only_moves_last_seen(
    engine: Engine, provider: FakeProvider
) -> None:
    provider.set("a", "b")
    sync(engine, provider.base_url)
    before = {m.model_id: m.last_seen_at for m in _rows(engine)}
    result = sync(engine, provider.base_url)
    assert (result.added, result.vanished, result.changed) == (0, 0, 0)
    assert len(event_log(engine)) == 2
    after = {m.model_id: m for m in _rows(engine)}
    assert all(after[k].last_seen_at > before[k] for k in before)
    assert all(after[k].first_seen_at == before[k] for k in before)
    assert run_statuses(engine) == ["ok", "ok"]


def _rows(engine: Engine) -> list[Model]:
    with read_session(engine) as session:
        return list(session.scalars(select(Model)))


def test_model_vanishes_reappears_and_changes_owner(engine: Engine, provider: FakeProvider) -> None:
    provider.set("a", "b", "c")
    sync(engine, provider.base_url)
    provider.set("a", "b")
    assert sync(engine, provider.base_url).vanished == 1
    assert stored(engine)["c"]["vanished"]
    provider.set("a", "b", "c")
    provider.models[0]["owned_by"] = "acme"
    result = sync(engine, provider.base_url)
    assert (result.reappeared, result.changed) == (1, 1)
    state = stored(engine)
    assert not state["c"]["vanished"]
    assert state["a"]["owned_by"] == "acme"
    assert event_log(engine)[3:] == [("vanished", "c"), ("reappeared", "c"), ("changed", "a")]
    with read_session(engine) as session:
        change = session.scalars(select(ModelEvent).where(ModelEvent.kind == "changed")).one()
    assert change.old_values == {"owned_by": "openai"}
    assert change.new_values == {"owned_by": "acme"}


def test_announced_shutdown_date_is_stored_and_recorded_as_a_change(
    engine: Engine, provider: FakeProvider
) -> None:
    provider.set("gpt-4-0613")
    sync(engine, provider.base_url)
    provider.models[0]["shutdown_date"] = "2026-06-06"
    assert sync(engine, provider.base_url).changed == 1
    shutdown = stored(engine)["gpt-4-0613"]["shutdown_at"]
    assert shutdown.isoformat() == "2026-06-06T00:00:00+00:00"
    provider.models[0]["shutdown_date"] = None
    assert sync(engine, provider.base_url).changed == 1
    assert stored(engine)["gpt-4-0613"]["shutdown_at"] is None


def test_unknown_fields_are_kept_verbatim(engine: Engine, provider: FakeProvider) -> None:
    # An integer past 64 bits takes json's slower path, here and on the way to the database.
    provider.models = [
        {"id": "x", "context_length": 8192, "pricing": {"prompt": "0.1"}},
        {"id": "modèle ☃", "seed": 10**30, "shutdown_date": "2027-01-31T12:00:00+01:00"},
    ]
    sync(engine, provider.base_url)
    models = stored(engine)
    assert [models["x"]["raw"], models["modèle ☃"]["raw"]] == provider.models
    assert models["modèle ☃"]["shutdown_at"].isoformat() == "2027-01-31T11:00:00+00:00"


FAILURES = {
    "server error": (500, "<html><body>Internal Server Error</body></html>", "500"),
    "html page": (200, "<!DOCTYPE html><html>login</html>", "not JSON"),
    "invalid json": (200, '{"object": "list", "data": [', "not JSON"),
    "wrong shape": (200, '{"object": "list", "data": {"id": "x"}}', "'data' is an object"),
    "model without id": (200, '{"object": "list", "data": [{"object": "model"}]}', "'id'"),
    "bad key": (
        401,
        '{"error": {"message": "Incorrect API key provided: sk-test***cdef", '
        '"type": "invalid_request_error", "code": "invalid_api_key"}}',
        "401",
    ),
}


@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
def test_failed_sync_changes_nothing_and_is_recorded(
    engine: Engine, provider: FakeProvider, failure: tuple[int, str, str]
) -> None:
    status, body, expected = failure
    provider.set("a", "b")
    sync(engine, provider.base_url)
    before = stored(engine), event_log(engine)
    provider.set("c")
    provider.fail_next(status, body)
    result = sync(engine, provider.base_url)
    assert result.status == "failed"
    assert expected in (result.error or "")
    assert (stored(engine), event_log(engine)) == before
    assert run_statuses(engine) == ["ok", "failed"]
    provider.set("a", "b", "c")
    assert sync(engine, provider.base_url).added == 1


def test_connection_refused_is_a_failed_run(engine: Engine) -> None:
    port = closed_port()
    result = sync(engine, f"http://127.0.0.1:{port}/v1")
    assert result.status == "failed"
    assert "cannot connect" in (result.error or "")
    assert run_statuses(engine) == ["failed"]


def test_server_error_then_recovery_within_one_sync(engine: Engine, provider: FakeProvider) -> None:
    provider.set("a")
    provider.fail_next(503, "busy")
    provider.fail_next(429, '{"error": {"message": "slow down"}}', **{"retry-after-ms": "10"})
    http = HTTPSettings(max_retries=3, backoff_base=0.01, backoff_max=0.05)
    assert sync(engine, provider.base_url, http=http).status == "ok"
    assert len(provider.requests) == 3


def test_pages_are_followed_to_the_end_before_anything_is_decided(
    engine: Engine, provider: FakeProvider
) -> None:
    provider.set(*[f"m{i}" for i in range(7)])
    provider.page_size = 3
    result = sync(engine, provider.base_url)
    assert result.added == 7
    assert [r.args.get("after") for r in provider.requests] == [None, "m2", "m5"]


def test_empty_list_is_held_and_changes_nothing(engine: Engine, provider: FakeProvider) -> None:
    provider.set("a", "b")
    sync(engine, provider.base_url)
    provider.models = []
    result = sync(engine, provider.base_url)
    assert result.status == "held"
    assert "no models" in (result.error or "")
    assert not any(m["vanished"] for m in stored(engine).values())


def test_mass_vanish_is_held_until_accepted(engine: Engine, provider: FakeProvider) -> None:
    provider.set("a", "b", "c", "d")
    sync(engine, provider.base_url)
    provider.set("a")
    held = sync(engine, provider.base_url)
    assert held.status == "held"
    assert "3 of 4" in (held.error or "")
    assert len(event_log(engine)) == 4
    accepted = sync(engine, provider.base_url, SyncPolicy(accept_mass_change=True))
    assert (accepted.status, accepted.vanished) == ("ok", 3)
    assert run_statuses(engine) == ["ok", "held", "ok"]


def test_model_the_provider_still_has_is_not_vanished(
    engine: Engine, provider: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    # Whatever level an earlier in-process CLI test (-q) left on the root logger.
    caplog.set_level(logging.WARNING, logger="syncer")
    provider.set("a", "b", "c")
    sync(engine, provider.base_url)
    provider.set("a", "b")
    provider.retrieve_status["c"] = 200
    assert sync(engine, provider.base_url).vanished == 0
    assert not stored(engine)["c"]["vanished"]
    assert "still has it" in caplog.text
    provider.retrieve_status["c"] = 500
    assert sync(engine, provider.base_url).vanished == 0
    del provider.retrieve_status["c"]
    assert sync(engine, provider.base_url).vanished == 1


def test_vanish_checks_stop_at_the_limit(engine: Engine, provider: FakeProvider) -> None:
    provider.set(*"abcdef")
    sync(engine, provider.base_url)
    provider.set(*"abcd")
    result = sync(engine, provider.base_url, SyncPolicy(confirm_vanish_limit=1))
    assert result.vanished == 2
    retrieved = [r.path for r in provider.requests if r.path != "/v1/models"]
    assert retrieved == ["/v1/models/e"]


def test_api_key_is_never_stored_or_logged(
    tmp_path: Path, provider: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "syncer.db"
    engine = make_engine(f"sqlite:///{path}")
    from syncer.db import migrate

    migrate.upgrade(engine)
    provider.set("a")
    sync(engine, provider.base_url)
    provider.fail_next(401, '{"error": {"message": "Incorrect API key provided: ' + API_KEY + '"}}')
    result = sync(engine, provider.base_url)
    engine.dispose()
    assert API_KEY not in (result.error or "")
    assert API_KEY not in caplog.text
    assert provider.requests[0].headers["Authorization"] == f"Bearer {API_KEY}"
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert API_KEY.encode() not in data


def test_database_error_is_a_failed_run_and_the_next_sync_recovers(
    engine: Engine, provider: FakeProvider
) -> None:
    provider.set("a")
    sync(engine, provider.base_url)
    provider.set("a", "b")
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE model_events RENAME TO model_events_away"))
    result = sync(engine, provider.base_url)
    assert result.status == "failed"
    assert "database error" in (result.error or "")
    assert set(stored(engine)) == {"a"}
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE model_events_away RENAME TO model_events"))
    assert sync(engine, provider.base_url).added == 1


def test_sources_are_kept_apart(engine: Engine, provider: FakeProvider) -> None:
    provider.set("a")
    sync(engine, provider.base_url, name="one")
    provider.set("b")
    assert sync(engine, provider.base_url, name="two").added == 1
    assert sync(engine, provider.base_url, name="one").status == "held"


def test_statement_count_does_not_grow_with_the_number_of_models(
    engine: Engine, provider: FakeProvider
) -> None:
    counts = []
    statements: list[object] = []

    def count(*args: Any) -> None:
        statements.append(args[1])

    # Both past store.COPY_FROM: on PostgreSQL fewer rows travel as one batch, fewer statements.
    for size in (250, 600):
        statements.clear()
        event.listen(engine, "before_execute", count)
        provider.set(*[f"{size}-{i}" for i in range(size)])
        assert sync(engine, provider.base_url, name=f"s{size}").added == size
        provider.models[1]["owned_by"] = "someone"
        provider.models = [*provider.models[1:], model(f"{size}-new")]
        second = sync(engine, provider.base_url, name=f"s{size}")
        assert (second.added, second.changed, second.vanished) == (1, 1, 1)
        event.remove(engine, "before_execute", count)
        counts.append(len(statements))
    assert counts[0] == counts[1] > 0


def test_racing_syncs_record_each_event_once(engine: Engine, provider: FakeProvider) -> None:
    provider.set(*[f"m{i}" for i in range(50)])
    barrier = threading.Barrier(4)
    results: list[SyncResult] = []

    def racer() -> None:
        barrier.wait()
        results.append(sync(engine, provider.base_url))

    threads = [threading.Thread(target=racer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    events = event_log(engine)
    assert all(r.status == "ok" for r in results)
    assert sorted(events) == sorted(("added", f"m{i}") for i in range(50))


def test_a_source_whose_kind_changes_reads_every_model_again_without_an_event(
    engine: Engine, provider: FakeProvider
) -> None:
    provider.models = [
        {
            "id": "openai/gpt-4o",
            "name": "OpenAI: GPT-4o",
            "created": 1715558400,
            "context_length": 128000,
            "expiration_date": "2026-10-23",
        },
    ]

    def as_kind(kind: str) -> SyncResult:
        source = Source(name="openrouter", base_url=provider.base_url, kind=kind)
        with Client(source.endpoint(), FAST) as client:
            return Syncer(engine, client, "openrouter").run()

    first = as_kind("openai")  # how an OpenRouter source was read before kinds existed
    unchanged = as_kind("openai")
    with read_session(engine) as session:
        before = session.scalars(select(Model)).one()
        before_columns = (before.display_name, before.context_length, before.shutdown_at)
    again = as_kind("openrouter")

    with read_session(engine) as session:
        after = session.scalars(select(Model)).one()
        kinds = list(session.scalars(select(ModelEvent.kind)))
    assert (first.added, unchanged.changed, again.added, again.changed) == (1, 0, 0, 0)
    assert before_columns[:2] == (None, None) and before_columns[2] is not None
    assert (after.display_name, after.context_length) == ("OpenAI: GPT-4o", 128000)
    assert after.shutdown_at == before_columns[2]
    assert kinds == ["added"]
