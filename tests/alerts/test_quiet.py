"""Quiet hours: immediate alerts due in the window wait until it ends, in order."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from syncer.alerts.decide import Alert
from syncer.alerts.delivery import Dispatcher
from syncer.alerts.digest import quiet_until
from syncer.alerts.outbox import add_alerts
from syncer.config.load import load_settings
from syncer.config.model import AlertRule, Channel
from syncer.db.engine import write_session
from syncer.errors import ConfigError
from tests.receivers import Clock, Receiver


def quiet_rule(url: str = "http://127.0.0.1/", **fields: object) -> AlertRule:
    return AlertRule(
        name="ops",
        kind="events",
        channel=Channel("webhook", "U", url),
        quiet=((22, 0), (7, 0)),
        **fields,
    )  # type: ignore[arg-type]


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_a_window_past_midnight_holds_from_its_start_to_its_end() -> None:
    rule = quiet_rule()

    assert quiet_until(rule, at(2, 21, 59)) is None
    assert quiet_until(rule, at(2, 22)) == at(3, 7)
    assert quiet_until(rule, at(3, 6, 59)) == at(3, 7)
    assert quiet_until(rule, at(3, 7)) is None
    assert quiet_until(AlertRule("x", "events", Channel("webhook", "U")), at(2, 23)) is None


def test_quiet_hours_are_read_in_the_rules_timezone_across_a_dst_change() -> None:
    rule = quiet_rule(timezone="Europe/Paris")

    assert quiet_until(rule, at(27, 20, 59)) is None  # 21:59 CET
    assert quiet_until(rule, at(27, 21)) == at(28, 6)  # 22:00 CET -> 07:00 CET
    assert quiet_until(rule, at(28, 21)) == at(29, 5)  # the night clocks go forward
    assert quiet_until(rule, at(29, 20)) == at(30, 5)  # 22:00 CEST -> 07:00 CEST


def test_quiet_days_name_the_days_a_window_starts_on() -> None:
    rule = quiet_rule(quiet_days=("fri", "sat"))  # 6 March 2026 is a Friday

    assert quiet_until(rule, at(6, 23)) == at(7, 7)
    assert quiet_until(rule, at(8, 6)) == at(8, 7)  # Saturday night's window
    assert quiet_until(rule, at(8, 23)) is None  # Sunday: none starts
    assert quiet_until(rule, at(9, 6)) is None


def write(engine: Engine, rules: list[AlertRule], when: datetime, *kinds: str) -> None:
    with write_session(engine) as session, session.begin():
        add_alerts(
            session,
            rules,
            [
                Alert(
                    rule="ops", kind=kind, summary=f"{kind} {n}", source="openai", model_id=f"m{n}"
                )
                for n, kind in enumerate(kinds)
            ],
            when,
        )


def test_alerts_due_in_quiet_hours_wait_until_it_ends_and_exempt_kinds_do_not(
    engine: Engine, receiver: Receiver
) -> None:
    rules = [quiet_rule(receiver.url, quiet_exempt=("vanished",))]
    clock = Clock(at(2, 23))
    dispatcher = Dispatcher(engine, rules, now=clock)
    write(engine, rules, clock(), "added", "vanished", "changed")

    night = dispatcher.dispatch()
    night_kinds = [d["kind"] for d in receiver.documents]
    clock.now = at(3, 7)
    morning = dispatcher.dispatch()

    assert (night.delivered, night_kinds) == (1, ["vanished"])
    assert morning.delivered == 2
    assert [d["kind"] for d in receiver.documents] == ["vanished", "added", "changed"]


def test_quiet_settings_are_checked(tmp_path: Path) -> None:
    config = tmp_path / "syncer.toml"
    base = '[[sources]]\nname = "openai"\n\n[[alerts]]\nname = "ops"\nwebhook_url_env = "U"\n'
    config.write_text(
        base + 'quiet = "22:00-07:00"\nquiet_days = ["SAT", "sun"]\ntimezone = "Europe/Paris"\n'
    )
    (rule,) = load_settings(config_file=config, env={}).alerts
    assert (rule.quiet, rule.quiet_days) == (((22, 0), (7, 0)), ("sat", "sun"))

    for extra, message in [
        ('quiet = "late"\n', "alerts[0].quiet: 'late' is not a window like '22:00-07:00'"),
        ('quiet = "25:00-07:00"\n', "alerts[0].quiet: '25:00-07:00' is not a window"),
        ('quiet = "07:00-07:00"\n', "alerts[0].quiet: the window is empty"),
        ('quiet_days = ["sat"]\n', "alerts[0].quiet_days: applies with quiet only"),
        ('quiet = "22:00-07:00"\nquiet_days = ["someday"]\n', "'someday' is not one of"),
        (
            'quiet = "22:00-07:00"\nquiet_exempt = ["stale"]\n',
            "alerts[0].quiet_exempt: a events rule raises no 'stale' alerts",
        ),
    ]:
        config.write_text(base + extra)
        with pytest.raises(ConfigError) as error:
            load_settings(config_file=config, env={})
        assert message in str(error.value)
