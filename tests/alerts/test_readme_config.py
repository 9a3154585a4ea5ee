"""The alerts page (docs/alerts.md) starts with a configuration that works as written: a
Monday digest to Slack, an immediate page when a model in use vanishes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from syncer.alerts.delivery import Dispatcher
from syncer.alerts.digest import latest_fire
from syncer.alerts.hook import alert_hook
from syncer.config.load import load_settings
from syncer.config.model import HTTPSettings, Settings, SyncPolicy
from syncer.db.tables import model_usages_table
from syncer.providers.http import Client
from syncer.sync.run import Syncer
from tests.fakes import API_KEY, FakeProvider
from tests.receivers import Clock, Receiver

PAGE = Path(__file__).parents[2] / "docs" / "alerts.md"
SUNDAY = datetime(2026, 3, 1, 12, tzinfo=UTC)
MONDAY_NINE_IN_PARIS = datetime(2026, 3, 2, 8, tzinfo=UTC)


def quick_start(tmp_path: Path, **env: str) -> Settings:
    """The first TOML block of the page, loaded exactly as written."""
    section = PAGE.read_text().split("# Alerts\n", 1)[1]
    first_toml = re.search(r"```toml\n(.*?)```", section, re.S)
    assert first_toml is not None
    title = section.split("```", 1)[0]
    assert "Monday digest to Slack, an immediate page when a model in use vanishes" in title
    config = tmp_path / "syncer.toml"
    config.write_text(first_toml.group(1))
    return load_settings(config_file=config, env=env)


def test_the_alerts_quick_start_loads_and_its_digest_fires_on_monday_morning(
    tmp_path: Path,
) -> None:
    settings = quick_start(
        tmp_path,
        SLACK_WEBHOOK_URL="https://hooks.slack.com/services/T/B/x",
        PAGER_URL="json://127.0.0.1:9/page",
        ALERT_WEBHOOK_URL="https://example.com/",
        ALERT_WEBHOOK_SECRET="s",
    )

    rules = {rule.name: rule for rule in settings.alerts}
    monday = rules["monday"]
    assert (monday.deliver, monday.schedule, monday.timezone) == (
        "digest",
        "0 9 * * MON",
        "Europe/Paris",
    )
    assert monday.schedule is not None
    assert latest_fire(
        monday.schedule,
        monday.timezone,
        datetime(2026, 3, 3, tzinfo=UTC),
        datetime(2026, 3, 10, tzinfo=UTC),
    ) == datetime(2026, 3, 9, 8, tzinfo=UTC)
    assert rules["page"].deliver == "immediate" and rules["page"].in_use
    assert rules["page"].kinds == ("vanished", "retired")


@pytest.fixture
def receivers() -> Iterator[dict[str, Receiver]]:
    ends = {name: Receiver() for name in ("slack", "pager", "hook")}
    yield ends
    for end in ends.values():
        end.close()


def test_the_quick_start_pages_at_once_for_a_model_in_use_and_digests_the_week_on_monday(
    tmp_path: Path,
    engine: Engine,
    provider: FakeProvider,
    receivers: dict[str, Receiver],
) -> None:
    settings = quick_start(
        tmp_path,
        SLACK_WEBHOOK_URL=receivers["slack"].url,
        PAGER_URL=receivers["pager"].url.replace("http://", "json://"),
        ALERT_WEBHOOK_URL=receivers["hook"].url,
        ALERT_WEBHOOK_SECRET="s",
    )
    # The one change from the page: the source is a provider on 127.0.0.1.
    source = replace(settings.sources[0], base_url=provider.base_url, api_key=API_KEY)
    clock = Clock(SUNDAY)
    dispatcher = Dispatcher(engine, settings.alerts, now=clock)

    def sync() -> None:
        with Client(source.endpoint(), HTTPSettings(max_retries=0)) as client:
            Syncer(
                engine,
                client,
                source.name,
                SyncPolicy(),
                now=clock,
                on_synced=alert_hook(settings.alerts),
            ).run()
        dispatcher.dispatch()

    provider.set("gpt-4o", "o1", "gpt-4-0613", "o3", "gpt-4.1")
    sync()
    with engine.begin() as connection:  # what `syncer scan --record --repository api` stores
        connection.execute(
            model_usages_table.insert(),
            [
                {
                    "repository": "api",
                    "path": "app/llm.py",
                    "line": 12,
                    "column": 9,
                    "model_id": "openai/gpt-4o",
                    "verdict": "ok",
                    "scanned_at": clock.now,
                }
            ],
        )
    clock.advance(hours=1)
    provider.set("gpt-4-0613", "o3", "gpt-4.1")  # gpt-4o (in use) and o1 (not) vanish
    sync()
    paged = list(receivers["pager"].documents)
    slack_on_sunday = list(receivers["slack"].documents)
    clock.now = MONDAY_NINE_IN_PARIS
    dispatcher.dispatch()

    where = "used in 1 place: api:app/llm.py:12"
    assert [page["message"] for page in paged] == [
        f"openai: gpt-4o vanished without a known shutdown date; {where}",
    ]
    assert slack_on_sunday == [], "the rest waits for Monday"
    (digest,) = receivers["slack"].documents
    lines = digest["text"].splitlines()
    assert lines[0] == "syncer digest for rule monday: 2 vanished or retired"
    assert f"  • gpt-4o: vanished without a known shutdown date ({where})" in lines
    assert "  • o1: vanished without a known shutdown date" in lines
