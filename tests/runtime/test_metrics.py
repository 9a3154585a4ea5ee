"""Prometheus metrics and /healthz, scraped over HTTP after real syncs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from syncer.alerts.hook import alert_hook
from syncer.config.model import (
    AlertRule,
    Channel,
    HTTPSettings,
    Schedule,
    ServerSettings,
    Settings,
    Source,
    SyncPolicy,
)
from syncer.db.engine import make_engine
from syncer.db.tables import model_usages_table
from syncer.providers.http import Client
from syncer.runtime.server import serve
from syncer.sync.run import Syncer
from tests.fakes import API_KEY, FakeProvider
from tests.receivers import Clock

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(base: str) -> Samples:
    response = requests.get(f"{base}/metrics", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def settings_for(provider: FakeProvider, *rules: AlertRule) -> Settings:
    source = Source(name="openai", base_url=provider.base_url, api_key=API_KEY)
    return Settings(sources=(source,), alerts=rules, schedule=Schedule(every=timedelta(minutes=15)))


def sync(engine: Engine, settings: Settings, clock: Clock) -> None:
    (source,) = settings.sources
    with Client(source.endpoint(), HTTPSettings(max_retries=0)) as client:
        Syncer(
            engine,
            client,
            source.name,
            SyncPolicy(),
            now=clock,
            on_synced=alert_hook(settings.alerts),
        ).run()


def test_metrics_show_inventory_runs_events_alerts_and_days_left_after_syncs(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    countdown = AlertRule("countdown", "shutdown", Channel("webhook", "HOOK"))
    settings = settings_for(provider, countdown)
    provider.set("gpt-4-0613", "gpt-4o", "o1")
    provider.models[0]["shutdown_date"] = (clock.now + timedelta(days=10)).date().isoformat()
    sync(engine, settings, clock)
    clock.advance(minutes=15)
    provider.set("gpt-4-0613", "gpt-4o")
    provider.models[0]["shutdown_date"] = (clock.now + timedelta(days=10)).date().isoformat()
    sync(engine, settings, clock)
    last_success = clock.now
    clock.advance(minutes=6)

    with serve(engine, settings, "127.0.0.1", 0, now=clock) as (host, port):
        samples = scrape(f"http://{host}:{port}")

    openai = (("source", "openai"),)
    assert samples["syncer_database_up", ()] == 1
    assert samples["syncer_models_present", openai] == 2
    assert samples["syncer_sync_runs_total", (*openai, ("status", "ok"))] == 2
    assert samples["syncer_sync_duration_seconds", openai] == 0
    assert samples["syncer_model_events_total", (("kind", "added"), *openai)] == 3
    assert samples["syncer_model_events_total", (("kind", "vanished"), *openai)] == 1
    assert samples["syncer_last_success_timestamp_seconds", openai] == last_success.timestamp()
    assert samples["syncer_source_stale", openai] == 0
    assert samples["syncer_alerts", (("rule", "countdown"), ("status", "pending"))] == 1
    days = samples["syncer_model_shutdown_days_left", (("model_id", "gpt-4-0613"), *openai)]
    shutdown = datetime(2026, 3, 11, tzinfo=UTC)
    assert days == pytest.approx((shutdown - clock.now) / timedelta(days=1))
    assert not any(
        name == "syncer_model_shutdown_days_left" and ("model_id", "gpt-4o") in labels
        for name, labels in samples
    )


def test_healthz_fails_while_a_source_is_stale_and_passes_again_after_a_sync(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    stale = AlertRule("health", "stale", Channel("webhook", "HOOK"), stale_after=timedelta(hours=1))
    settings = settings_for(provider, stale)
    provider.set("a")
    sync(engine, settings, clock)

    with serve(engine, settings, "127.0.0.1", 0, now=clock) as (host, port):
        base = f"http://{host}:{port}"
        fresh = requests.get(f"{base}/healthz", timeout=5)
        clock.advance(hours=1, seconds=1)
        late = requests.get(f"{base}/healthz", timeout=5)
        stale_samples = scrape(base)
        sync(engine, settings, clock)
        again = requests.get(f"{base}/healthz", timeout=5)
        missing = requests.get(f"{base}/nothing", timeout=5)

    assert fresh.status_code == 200
    assert fresh.json()["status"] == "ok"
    assert late.status_code == 503
    assert late.json()["sources"]["openai"] == {
        "last_success_at": "2026-03-01T12:00:00.000000Z",
        "stale_after_seconds": 3600.0,
        "stale": True,
    }
    assert stale_samples["syncer_source_stale", (("source", "openai"),)] == 1
    assert again.status_code == 200
    assert missing.status_code == 404


def test_without_a_stale_rule_a_source_is_stale_after_three_intervals(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    settings = settings_for(provider)
    provider.set("a")
    sync(engine, settings, clock)

    with serve(engine, settings, "127.0.0.1", 0, now=clock) as (host, port):
        clock.advance(minutes=45)
        on_time = requests.get(f"http://{host}:{port}/healthz", timeout=5)
        clock.advance(seconds=1)
        late = requests.get(f"http://{host}:{port}/healthz", timeout=5)

    assert (on_time.status_code, late.status_code) == (200, 503)


def test_an_unreadable_database_is_reported_not_raised(
    tmp_path: Path, provider: FakeProvider, clock: Clock
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'syncer.db'}")

    with serve(engine, settings_for(provider), "127.0.0.1", 0, now=clock) as (host, port):
        samples = scrape(f"http://{host}:{port}")
        health = requests.get(f"http://{host}:{port}/healthz", timeout=5)
    engine.dispose()

    from_database = {key: v for key, v in samples.items() if key[0] != "syncer_page_renders_total"}
    assert from_database == {("syncer_database_up", ()): 0}
    assert health.status_code == 503
    assert health.json() == {"status": "error", "error": "database: OperationalError"}


def test_metrics_name_the_replica_holding_each_lease_and_the_last_holder_of_a_free_one(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    from syncer.db import locks

    settings = settings_for(provider)
    with locks.lease(engine, "sync:openai", holder="web-1:7", now=clock):
        pass
    with (
        locks.lease(engine, "alerts-dispatch", holder="web-2:9", now=clock),
        serve(engine, settings, "127.0.0.1", 0, now=clock) as (host, port),
    ):
        samples = scrape(f"http://{host}:{port}")

    leases = {
        labels: value for (name, labels), value in samples.items() if name == "syncer_lease_held"
    }
    assert leases == {
        (("lease", "alerts-dispatch"), ("replica", "web-2:9")): 1,
        (("lease", "sync:openai"), ("replica", "web-1:7")): 0,
    }


def test_per_model_series_stop_at_the_cap_keeping_the_soonest_shutdowns(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    settings = replace(settings_for(provider), server=ServerSettings(max_model_series=2))
    provider.set("m1", "m2", "m3", "m4", "m5")
    for days, listed in zip((40, 10, 30, 50, 20), provider.models, strict=True):
        listed["shutdown_date"] = (clock.now + timedelta(days=days)).date().isoformat()
    sync(engine, settings, clock)

    with serve(engine, settings, "127.0.0.1", 0, now=clock) as (host, port):
        samples = scrape(f"http://{host}:{port}")

    shown = sorted(
        dict(labels)["model_id"]
        for name, labels in samples
        if name == "syncer_model_shutdown_days_left"
    )
    assert shown == ["m2", "m5"]
    assert sorted(
        dict(labels)["model"]
        for name, labels in samples
        if name == "syncer_model_shutdown_timestamp_seconds"
    ) == ["m2", "m5"]
    assert samples["syncer_model_series_left_out", ()] == 3


def test_shutdown_dates_uses_and_a_failing_source_are_on_metrics(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    provider.set("gpt-4-0613", "gpt-4o", "o1")
    provider.models[0]["shutdown_date"] = "2026-03-11"
    provider.models[2]["shutdown_date"] = "2026-09-01"
    settings = settings_for(provider)
    sync(engine, settings, clock)
    with engine.begin() as connection:
        connection.execute(
            model_usages_table.insert(),
            [
                {
                    "repository": "app",
                    "path": "main.py",
                    "line": line,
                    "column": 1,
                    "model_id": written,
                    "verdict": "shutting-down",
                    "scanned_at": clock.now,
                }
                for line, written in ((3, "gpt-4-0613"), (9, "openai/gpt-4-0613"))
            ],
        )
    provider.fail_next(500, "down")
    sync(engine, settings, clock)

    with serve(engine, settings, "127.0.0.1", 0, now=clock) as (host, port):
        samples = scrape(f"http://{host}:{port}")

    def series(name: str) -> dict[str, float]:
        return {
            dict(labels)["model"]: value
            for (sample, labels), value in samples.items()
            if sample == name and dict(labels)["source"] == "openai"
        }

    assert series("syncer_model_shutdown_timestamp_seconds") == {
        "gpt-4-0613": datetime(2026, 3, 11, tzinfo=UTC).timestamp(),
        "o1": datetime(2026, 9, 1, tzinfo=UTC).timestamp(),
    }
    assert series("syncer_model_uses") == {"gpt-4-0613": 2}
    assert samples["syncer_source_failing", (("source", "openai"),)] == 1


def test_alerts_held_for_a_digest_then_covered_by_it_show_as_held_then_digested(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    from syncer.alerts.digests import compose_due

    weekly = AlertRule(
        "weekly", "events", Channel("webhook", "HOOK"), deliver="digest", schedule="0 9 * * MON"
    )
    settings = settings_for(provider, weekly)
    provider.set("a")
    sync(engine, settings, clock)
    clock.advance(minutes=15)
    provider.set("a", "b", "c")
    sync(engine, settings, clock)

    with serve(engine, settings, "127.0.0.1", 0, now=clock) as (host, port):
        base = f"http://{host}:{port}"
        held = scrape(base)
        clock.now = datetime(2026, 3, 2, 9, tzinfo=UTC)  # Monday 9:00, the digest's time
        compose_due(engine, settings.alerts, clock.now)
        covered = scrape(base)

    rule = (("rule", "weekly"),)
    assert held["syncer_alerts", (*rule, ("status", "held"))] == 2
    assert ("syncer_alerts", (*rule, ("status", "pending"))) not in held
    assert covered["syncer_alerts", (*rule, ("status", "digested"))] == 2
    assert covered["syncer_alerts", (*rule, ("status", "pending"))] == 1, "the digest itself"
    assert ("syncer_alerts", (*rule, ("status", "held"))) not in covered
