"""``[[alerts]]`` rules in the config file: typed, validated once, secrets from the environment."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from syncer.config.load import load_settings
from syncer.config.model import ALERT_EVENT_KINDS, DEFAULT_THRESHOLDS, AlertRule, Channel, Settings
from syncer.errors import ConfigError
from tests.processes import clean_env, syncer

HOOK = "https://hooks.slack.com/services/T000/B000/SECRETxyz"
SOURCES = '[[sources]]\nname = "openai"\n[[sources]]\nname = "azure"\n'


def load(tmp_path: Path, rules: str, **env: str) -> Settings:
    path = tmp_path / "syncer.toml"
    path.write_text(textwrap.dedent(rules) + SOURCES, encoding="utf-8")
    return load_settings(config_file=path, env=env)


def test_each_kind_of_rule_is_read_with_its_defaults(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        """
        [[alerts]]
        name = "changes"
        webhook_url_env = "HOOK"
        secret_env = "HOOK_SECRET"

        [[alerts]]
        name = "countdown"
        kind = "shutdown"
        slack_webhook_url_env = "SLACK"

        [[alerts]]
        name = "health"
        kind = "stale"
        webhook_url_env = "HOOK"
        """,
        HOOK="https://example.com/hook",
        HOOK_SECRET="s3cret",
        SLACK=HOOK,
    )

    changes, countdown, health = settings.alerts
    assert changes == AlertRule(
        name="changes", kind="events", channel=Channel("webhook", "HOOK", secret_env="HOOK_SECRET")
    )
    assert changes.kinds == ALERT_EVENT_KINDS and changes.sources == () and changes.models == ()
    assert changes.channel.url == "https://example.com/hook"
    assert changes.channel.secret == "s3cret"
    assert countdown.kind == "shutdown" and countdown.thresholds == DEFAULT_THRESHOLDS
    assert countdown.channel == Channel("slack", "SLACK") and countdown.channel.url == HOOK
    assert health.kind == "stale" and health.stale_after is None


def test_filters_thresholds_and_stale_after_are_read(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        """
        [[alerts]]
        name = "ours"
        kinds = ["vanished", "retired"]
        sources = ["openai"]
        models = "ft:*:acme:*"
        webhook_url_env = "HOOK"

        [[alerts]]
        name = "soon"
        kind = "shutdown"
        thresholds = [7, 30, 7]
        models = ["gpt-4*", "o1*"]
        webhook_url_env = "HOOK"

        [[alerts]]
        name = "late"
        kind = "stale"
        stale_after = "2h"
        sources = ["azure"]
        webhook_url_env = "HOOK"
        """,
    )

    ours, soon, late = settings.alerts
    assert (ours.kinds, ours.sources, ours.models) == (
        ("vanished", "retired"),
        ("openai",),
        ("ft:*:acme:*",),
    )
    assert soon.thresholds == (30, 7) and soon.models == ("gpt-4*", "o1*")
    assert late.stale_after == timedelta(hours=2) and late.sources == ("azure",)
    assert ours.channel.url is None


def test_no_rules_means_no_alerts(tmp_path: Path) -> None:
    assert load(tmp_path, "").alerts == ()
    assert load_settings(env={}).alerts == ()


def test_the_channel_url_and_secret_never_appear_in_a_repr(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        '[[alerts]]\nname = "a"\nwebhook_url_env = "HOOK"\nsecret_env = "SECRET"\n',
        HOOK=HOOK,
        SECRET="sign-me-0123456789",
    )

    text = repr(settings)

    assert HOOK not in text and "SECRET" in text
    assert "sign-me-0123456789" not in text


@pytest.mark.parametrize(
    ("rules", "key", "problem"),
    [
        ("[alerts]\nname = 'a'\n", "alerts", "each rule must be a table ([[alerts]])"),
        ("alerts = [1]\n", "alerts[0]", "each rule must be a table"),
        ("[[alerts]]\nwebhook_url_env = 'H'\n", "alerts[0].name", "required"),
        ("[[alerts]]\nname = 'a b'\nwebhook_url_env = 'H'\n", "alerts[0].name", "letters"),
        (
            "[[alerts]]\nname = 'a'\nkind = 'sms'\nwebhook_url_env = 'H'\n",
            "alerts[0].kind",
            "'sms' is not one of: events, shutdown, stale",
        ),
        ("[[alerts]]\nname = 'a'\n", "alerts[0].webhook_url_env", "set exactly one of"),
        (
            "[[alerts]]\nname = 'a'\nwebhook_url_env = 'H'\nslack_webhook_url_env = 'S'\n",
            "alerts[0].slack_webhook_url_env",
            "set exactly one of",
        ),
        (
            "[[alerts]]\nname = 'a'\nslack_webhook_url_env = 'S'\nsecret_env = 'X'\n",
            "alerts[0].secret_env",
            "webhook_url_env only",
        ),
        (
            "[[alerts]]\nname = 'a'\nwebhook_url_env = 'H'\nthresholds = [30]\n",
            "alerts[0].thresholds",
            "unknown key",
        ),
        (
            "[[alerts]]\nname = 'a'\nkind = 'stale'\nwebhook_url_env = 'H'\nmodels = ['x']\n",
            "alerts[0].models",
            "unknown key",
        ),
        (
            "[[alerts]]\nname = 'a'\nwebhook_url_env = 'H'\nkinds = ['gone']\n",
            "alerts[0].kinds",
            "'gone' is not one of: added, vanished, retired",
        ),
        (
            "[[alerts]]\nname = 'a'\nwebhook_url_env = 'H'\nkinds = [1]\n",
            "alerts[0].kinds",
            "list of non-empty strings",
        ),
        (
            "[[alerts]]\nname = 'a'\nwebhook_url_env = 'H'\nsources = ['nope']\n",
            "alerts[0].sources",
            "no source named 'nope' is configured",
        ),
        (
            "[[alerts]]\nname = 'a'\nkind = 'shutdown'\nwebhook_url_env = 'H'\nthresholds = []\n",
            "alerts[0].thresholds",
            "non-empty list of whole days",
        ),
        (
            "[[alerts]]\nname = 'a'\nkind = 'shutdown'\nwebhook_url_env = 'H'\nthresholds = [0]\n",
            "alerts[0].thresholds",
            "days must be positive",
        ),
        (
            "[[alerts]]\nname = 'a'\nkind = 'shutdown'\nwebhook_url_env = 'H'\n"
            "thresholds = [1.5]\n",
            "alerts[0].thresholds",
            "whole days",
        ),
        (
            "[[alerts]]\nname = 'a'\nkind = 'stale'\nwebhook_url_env = 'H'\nstale_after = 'x'\n",
            "alerts[0].stale_after",
            "not a duration",
        ),
        (
            "[[alerts]]\nname = 'a'\nwebhook_url_env = 'H'\n[[alerts]]\nname = 'a'\n"
            "webhook_url_env = 'H'\n",
            "alerts[1].name",
            "rule name 'a' is used twice",
        ),
    ],
)
def test_a_bad_rule_is_a_one_line_error_naming_the_file_and_the_key(
    tmp_path: Path, rules: str, key: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, rules)

    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'syncer.toml'}: {key}: ")
    assert problem in message
    assert "\n" not in message


def test_a_url_pasted_where_a_variable_name_goes_is_refused_without_echoing_it(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, f'[[alerts]]\nname = "a"\nslack_webhook_url_env = "{HOOK}"\n')

    assert "must name an environment variable" in str(caught.value)
    assert "SECRETxyz" not in str(caught.value)


def test_an_alerts_table_holding_a_url_is_refused_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, f'[alerts]\nwebhook = "{HOOK}"\n')

    assert "SECRETxyz" not in str(caught.value)


def test_an_apprise_rule_is_accepted_when_apprise_is_installed(tmp_path: Path) -> None:
    pytest.importorskip("apprise")

    (rule,) = load(
        tmp_path, '[[alerts]]\nname = "a"\napprise_url_env = "APPRISE"\n', APPRISE="json://x"
    ).alerts

    assert rule.channel.kind == "apprise" and rule.channel.url == "json://x"


@pytest.mark.parametrize("key", ["webhook_url_env", "slack_webhook_url_env"])
def test_a_plain_http_alert_url_to_another_host_is_refused_through_the_cli(
    tmp_path: Path, key: str
) -> None:
    # Issue 21 item 12: whoever holds a webhook URL can post to it, and the alert names the
    # inventory; plain http:// to another machine sent both in clear.
    config = tmp_path / "syncer.toml"
    config.write_text(f'[[alerts]]\nname = "hook"\n{key} = "HOOK"\n')
    plain = "http://hooks.example.com/services/T0/B0/SECRETxyz"
    env = clean_env(SYNCER_DATABASE_URL=f"sqlite:///{tmp_path / 'syncer.db'}", HOOK=plain)

    refused = syncer("--config", str(config), "db", "upgrade", env=env)

    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.splitlines() == [
        f"Error: {config}: alerts[0].{key}: HOOK holds a plain http:// URL to a host that is "
        "not loopback: the alerts would travel in clear; use https, or set allow_http = true "
        "in this rule"
    ]
    assert "SECRETxyz" not in refused.stdout + refused.stderr

    config.write_text(f'[[alerts]]\nname = "hook"\n{key} = "HOOK"\nallow_http = true\n')
    assert syncer("--config", str(config), "db", "upgrade", env=env).returncode == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/x",
        "http://127.0.0.1:9/x",
        "http://localhost/x",
        "http://[::1]:8080/x",
    ],
)
def test_https_anywhere_and_plain_http_to_this_machine_are_accepted(
    tmp_path: Path, url: str
) -> None:
    settings = load(tmp_path, '[[alerts]]\nname = "a"\nwebhook_url_env = "HOOK"\n', HOOK=url)
    assert settings.alerts[0].channel.url == url


@pytest.mark.parametrize(
    ("schedule", "interval"),
    [
        ('[schedule]\nevery = "2h"\n', "2h"),
        ('[schedule]\ncron = "0 */6 * * *"\n', "6h"),
    ],
)
def test_a_stale_after_not_longer_than_the_sync_interval_is_refused_naming_it(
    invoke_sqlite: Any, tmp_path: Path, schedule: str, interval: str
) -> None:
    """A healthy source would turn stale and recover every interval (and /healthz flap)."""
    config = tmp_path / "stale.toml"
    config.write_text(
        f'{schedule}\n[[sources]]\nname = "openai"\n\n[[sources]]\nname = "other"\n'
        'every = "1m"\n\n[[alerts]]\nname = "health"\nkind = "stale"\nstale_after = "90m"\n'
        'webhook_url_env = "HOOK"\n'
    )

    result = invoke_sqlite("--config", str(config), "sources")
    hourly = load_settings(config_file=config, every="1h", env={"HOOK": "http://127.0.0.1/h"})

    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {config}: alerts[0].stale_after: 1h 30m is not longer than the sync interval "
        f"of source 'openai' ({interval}): the source would turn stale and recover every "
        "interval; make it longer, or leave it out (stale after three intervals)\n"
    )
    assert hourly.alerts[0].stale_after == timedelta(minutes=90)  # `run --every 1h`: longer
