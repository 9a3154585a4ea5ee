"""Secrets out of text: channel URLs, their parts, and every URL's query string."""

from __future__ import annotations

import logging

from syncer.redact import Redactor, scrub, shown_url, url_secrets

SLACK = "https://hooks.slack.com/services/T0AAAA/B0BBBB/XXXXyyyyZZZZ?key=k3y-v4lue"


def test_a_receivers_error_page_quoting_its_url_in_any_form_is_scrubbed() -> None:
    secrets = url_secrets(SLACK)
    for quoted in (SLACK, "/services/T0AAAA/B0BBBB/XXXXyyyyZZZZ", "token XXXXyyyyZZZZ invalid",
                   "key k3y-v4lue expired"):
        cleaned = scrub(f"error: {quoted}", secrets)
        for part in ("XXXXyyyyZZZZ", "k3y-v4lue"):
            assert part not in cleaned


def test_any_urls_query_string_is_masked_and_the_rest_kept() -> None:
    assert scrub("GET http://127.0.0.1:80/v1/models?after=x&key=abc: 500") == (
        "GET http://127.0.0.1:80/v1/models?***: 500"
    )
    assert shown_url("http://h/v1/models?key=abc") == "http://h/v1/models?***"
    assert shown_url("http://h/v1/models") == "http://h/v1/models"


def test_the_redactor_drops_urllib3_request_lines_and_scrubs_every_other_record() -> None:
    redactor = Redactor()
    redactor.add(url_secrets(SLACK))
    line = logging.LogRecord(
        "urllib3.connectionpool", logging.DEBUG, __file__, 1, '%s://%s:%s "%s %s %s" %s %s',
        ("https", "hooks.slack.com", 443, "POST", "/services/T0AAAA", "HTTP/1.1", 200, 2), None,
    )
    other = logging.LogRecord(
        "apprise", logging.DEBUG, __file__, 1, "posting to %s", (SLACK,), None,
    )
    assert redactor.filter(line) is False
    assert redactor.filter(other) is True
    assert other.getMessage() == "posting to ***"
