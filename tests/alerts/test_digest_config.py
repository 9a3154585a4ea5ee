"""Digest rules in the config: each mistake is one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncer.config.load import load_settings
from syncer.config.model import Urgency
from syncer.errors import ConfigError

BASE = '[[sources]]\nname = "openai"\n\n[[alerts]]\nname = "weekly"\nwebhook_url_env = "U"\n'


def load(tmp_path: Path, extra: str, kind: str = "") -> object:
    config = tmp_path / "syncer.toml"
    config.write_text(BASE + kind + extra)
    return load_settings(config_file=config, env={})


def test_a_digest_rule_reads_its_schedule_timezone_and_immediate_if(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        'deliver = "digest"\nschedule = "0 9 * * MON"\n'
        'timezone = "America/New_York"\nsend_empty = true\ndrop_transient = true\n'
        'digest_limit = 3\nimmediate_if = [{ kinds = ["vanished"] }, '
        "{ days_left = 7 }]\n",
    )

    (rule,) = settings.alerts  # type: ignore[attr-defined]
    assert (rule.deliver, rule.schedule, rule.timezone) == (
        "digest",
        "0 9 * * MON",
        "America/New_York",
    )
    assert (rule.send_empty, rule.drop_transient, rule.digest_limit) == (True, True, 3)
    assert rule.immediate_if == (Urgency(kinds=("vanished",)), Urgency(days_left=7))


@pytest.mark.parametrize(
    ("extra", "kind", "message"),
    [
        (
            'deliver = "weekly"\n',
            "",
            "alerts[0].deliver: 'weekly' is not one of: immediate, digest",
        ),
        ('deliver = "digest"\n', "", 'alerts[0].schedule: required with deliver = "digest"'),
        ('deliver = "digest"\nschedule = "every monday"\n', "", "alerts[0].schedule: not a cron"),
        (
            'schedule = "0 9 * * MON"\n',
            "",
            'alerts[0].schedule: applies to digest rules only (deliver = "digest")',
        ),
        (
            'timezone = "Mars/Olympus"\n',
            "",
            "alerts[0].timezone: 'Mars/Olympus' is not an IANA time zone",
        ),
        (
            'deliver = "digest"\nschedule = "0 9 * * *"\nimmediate_if = { kinds = ["stale"] }\n',
            "",
            "alerts[0].immediate_if[0].kinds: a events rule raises no 'stale' alerts",
        ),
        (
            'deliver = "digest"\nschedule = "0 9 * * *"\nimmediate_if = { soon = true }\n',
            "",
            "alerts[0].immediate_if[0].soon: unknown key",
        ),
        (
            'deliver = "digest"\nschedule = "0 9 * * *"\ndigest_limit = 0\n',
            "",
            "alerts[0].digest_limit: must be positive",
        ),
        ("in_use = true\n", 'kind = "stale"\n', "alerts[0].in_use: unknown key"),
        ("in_use = 1\n", "", "alerts[0].in_use: expected bool"),
        (
            'deliver = "digest"\nschedule = "0 9 * * *"\nimmediate_if = { in_use = true }\n',
            'kind = "stale"\n',
            "alerts[0].immediate_if[0].in_use: a stale rule's alerts are about a source, "
            "not a model",
        ),
    ],
)
def test_a_wrong_digest_setting_is_one_clear_error(
    tmp_path: Path, extra: str, kind: str, message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load(tmp_path, extra, kind)

    assert message in str(error.value)


def test_public_url_must_be_an_http_url(tmp_path: Path) -> None:
    config = tmp_path / "syncer.toml"
    config.write_text('[http]\npublic_url = "syncer.example.com"\n')

    with pytest.raises(ConfigError, match=r"http\.public_url: expected an http"):
        load_settings(config_file=config, env={})
    config.write_text('[http]\npublic_url = "https://syncer.example.com/"\n')
    assert load_settings(config_file=config, env={}).http.public_url == (
        "https://syncer.example.com/"
    )


def test_in_use_limits_events_and_shutdown_rules_and_urgencies(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        'in_use = true\ndeliver = "digest"\nschedule = "0 9 * * MON"\n'
        'immediate_if = { kinds = ["vanished"], in_use = true }\n',
    )

    (rule,) = settings.alerts  # type: ignore[attr-defined]
    assert rule.in_use
    assert rule.immediate_if == (Urgency(kinds=("vanished",), in_use=True),)
    assert not load(tmp_path, 'kind = "shutdown"\n').alerts[0].in_use  # type: ignore[attr-defined]
