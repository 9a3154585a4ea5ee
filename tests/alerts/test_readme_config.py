"""The alerts page (docs/alerts.md) starts with a configuration that works as written."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from syncer.alerts.digest import latest_fire
from syncer.config.load import load_settings

PAGE = Path(__file__).parents[2] / "docs" / "alerts.md"


def test_the_alerts_quick_start_loads_and_its_digest_fires_on_monday_morning(
    tmp_path: Path,
) -> None:
    section = PAGE.read_text().split("# Alerts\n", 1)[1]
    first_toml = re.search(r"```toml\n(.*?)```", section, re.S)
    assert first_toml is not None
    assert "Monday digest to Slack" in section.split("```", 1)[0]
    config = tmp_path / "syncer.toml"
    config.write_text(first_toml.group(1))
    env = {"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/x",
           "PAGER_URL": "json://127.0.0.1:9/page", "ALERT_WEBHOOK_URL": "https://example.com/",
           "ALERT_WEBHOOK_SECRET": "s"}

    settings = load_settings(config_file=config, env=env)

    rules = {rule.name: rule for rule in settings.alerts}
    monday = rules["monday"]
    assert (monday.deliver, monday.schedule, monday.timezone) == (
        "digest", "0 9 * * MON", "Europe/Paris",
    )
    assert monday.schedule is not None
    assert latest_fire(monday.schedule, monday.timezone, datetime(2026, 3, 3, tzinfo=UTC),
                       datetime(2026, 3, 10, tzinfo=UTC)) == datetime(2026, 3, 9, 8, tzinfo=UTC)
    assert rules["page"].deliver == "immediate"
    assert rules["page"].kinds == ("vanished", "retired")
