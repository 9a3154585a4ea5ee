"""Channel URLs are checked for their kind before anything is sent (pure, and Apprise's view)."""

from __future__ import annotations

import pytest

from syncer.alerts.channels import apprise_reads, is_loopback, url_problem


@pytest.mark.parametrize(
    "url",
    [
        "https://ops.example.com/syncer",
        "http://127.0.0.1:9000/hook",
        "http://localhost/hook",
        "http://[::1]:8080/hook",
    ],
)
def test_a_webhook_takes_https_anywhere_and_http_on_loopback(url: str) -> None:
    assert url_problem("webhook", url) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("not-a-url", "is not an http(s) URL"),
        ("ftp://ops.example.com/x", "is not an http(s) URL"),
        ("https://", "is not an http(s) URL"),
        (
            "http://ops.example.com/hook",
            "is plain http to another machine: use https (http is accepted on loopback only)",
        ),
        ("https://ops.example.com:port/x", "is not a valid URL"),
    ],
)
def test_a_webhook_refuses_what_is_not_https_or_loopback(url: str, problem: str) -> None:
    assert url_problem("webhook", url) == problem


def test_slack_wants_its_webhook_host_or_a_loopback_relay() -> None:
    assert url_problem("slack", "https://hooks.slack.com/services/T0/B0/xyz") is None
    assert url_problem("slack", "https://hooks.slack-gov.com/services/T0/B0/xyz") is None
    assert url_problem("slack", "http://127.0.0.1:9000/slack") is None
    assert url_problem("slack", "https://example.com/services/T0/B0/xyz") == (
        "is not a Slack incoming webhook (expected https://hooks.slack.com/services/...)"
    )
    assert url_problem("slack", "not-a-url") == "is not an http(s) URL"


def test_apprise_wants_a_scheme_it_knows_and_never_quotes_the_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret_url = "nope://s3cr3t-token@example.com"

    assert url_problem("apprise", "json://127.0.0.1:9000/hook", apprise_reads) is None
    assert url_problem("apprise", "mailto://user:pw@example.com", apprise_reads) is None
    assert url_problem("apprise", secret_url, apprise_reads) == (
        "is not a URL Apprise can read (scheme nope://)"
    )
    assert url_problem("apprise", "json://", apprise_reads) == (
        "is not a URL Apprise can read (scheme json://)"
    )
    assert url_problem("apprise", "not-a-url", apprise_reads) == (
        "is not an Apprise URL (it has no scheme, such as json:// or mailto://)"
    )
    assert "s3cr3t" not in caplog.text, "Apprise's own complaint quotes the URL"


def test_loopback_is_localhost_and_loopback_addresses_only() -> None:
    assert is_loopback("localhost") and is_loopback("127.0.0.2") and is_loopback("::1")
    assert not is_loopback("10.0.0.1") and not is_loopback("localhost.example.com")
