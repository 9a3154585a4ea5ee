"""One rule for a count of days (``timeutil.whole_days``): every output a person reads gives
the same days left for a shutdown, and an age's days are the number its reason says."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import Result

from syncer.timeutil import age_days, days_until, whole_days
from tests.fakes import FakeProvider

Invoke = Callable[..., Result]


def test_the_rule_rounds_a_span_up_so_an_age_counts_completed_days() -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)

    assert days_until(datetime(2026, 3, 4, tzinfo=UTC), now) == 3  # 2.5 days: within 3
    assert days_until(datetime(2026, 3, 1, tzinfo=UTC), now) == 0  # passed today: 0
    assert days_until(datetime(2026, 2, 28, tzinfo=UTC), now) == -1
    assert whole_days(timedelta(days=2.15)) == 3
    assert age_days(timedelta(days=1118.9)) == 1118
    assert age_days(timedelta(hours=5)) == 0


def test_deprecations_the_shutdowns_report_and_the_scan_give_the_same_days_left(
    invoke: Invoke, provider: FakeProvider, tmp_path: Path
) -> None:
    moment = datetime.now(UTC)
    shutdown = (moment + timedelta(days=3)).date()
    provider.set("gpt-4-32k", shutdown_date=str(shutdown))
    assert invoke("sync").exit_code == 0
    (tmp_path / "app.py").write_text('MODEL = "gpt-4-32k"\n')

    listed = json.loads(invoke("deprecations", "--format", "json").stdout)
    report = json.loads(invoke("report", "shutdowns", "--format", "json").stdout)
    scan = json.loads(
        invoke("scan", str(tmp_path / "app.py"), "--format", "json", "--fail-on", "vanished").stdout
    )
    expected = days_until(datetime.combine(shutdown, datetime.min.time(), UTC), moment)

    assert expected == 3
    assert listed[0]["days_left"] == report[0]["days_to_shutdown"] == expected
    assert scan["findings"][0]["days_left"] == expected


def test_a_retention_plans_age_days_is_the_number_its_reason_gives(
    invoke: Invoke, provider: FakeProvider, tmp_path: Path
) -> None:
    """The model was created 1686935002 (2023-06-16T17:10:02Z): a fraction of a day more
    than its whole days, which used to read 1270.7 beside "1271 days old"."""
    provider.set("ft:gpt-4o:acme:old:1", "ft:gpt-4o:acme:old:2", owned_by="org-acme")
    config = tmp_path / "syncer.toml"
    config.write_text(
        f'[[sources]]\nname = "openai"\nbase_url = "{provider.base_url}"\n'
        'retention = { include = ["ft:*"], max_age = "90d", keep_latest = 1 }\n'
    )
    assert invoke("--config", str(config), "sync").exit_code == 0

    plan = json.loads(
        invoke("--config", str(config), "retention", "plan", "--format", "json").stdout
    )
    created = datetime.fromtimestamp(1686935002, UTC)
    age = (datetime.now(UTC) - created) / timedelta(days=1)

    deleted = next(row for row in plan if row["action"] == "delete")
    assert deleted["age_days"] in (math.floor(age), math.floor(age) - 1)  # read just before
    assert isinstance(deleted["age_days"], int)
    assert deleted["reason"].startswith(f"{deleted['age_days']} days old > max_age 90d")
