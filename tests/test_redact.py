"""Secrets out of text: channel URLs, their parts, and every URL's query string."""

from __future__ import annotations

import logging
import unicodedata

import pytest

from syncer.redact import CONTROL, Redactor, printable, scrub, shown_url, url_secrets

SLACK = "https://hooks.slack.com/services/T0AAAA/B0BBBB/XXXXyyyyZZZZ?key=k3y-v4lue"


def test_a_receivers_error_page_quoting_its_url_in_any_form_is_scrubbed() -> None:
    secrets = url_secrets(SLACK)
    for quoted in (
        SLACK,
        "/services/T0AAAA/B0BBBB/XXXXyyyyZZZZ",
        "token XXXXyyyyZZZZ invalid",
        "key k3y-v4lue expired",
    ):
        cleaned = scrub(f"error: {quoted}", secrets)
        for part in ("XXXXyyyyZZZZ", "k3y-v4lue"):
            assert part not in cleaned


def test_the_secret_values_of_any_urls_query_are_masked_and_paging_stays() -> None:
    assert scrub("GET http://127.0.0.1:80/v1/models?after=x&key=abc: 500") == (
        "GET http://127.0.0.1:80/v1/models?after=x&key=***: 500"
    )
    assert shown_url("http://h/v1/models?key=abc") == "http://h/v1/models?key=***"
    assert shown_url("http://h/v1/models") == "http://h/v1/models"
    assert (
        shown_url("http://h/m?pageToken=p2&pageSize=1000")
        == "http://h/m?pageToken=p2&pageSize=1000"
    )
    assert shown_url("http://h/m?api-version=2024-10-21") == "http://h/m?api-version=2024-10-21"


@pytest.mark.parametrize(
    "name",
    [
        "key",
        "KEY",
        "api_key",
        "api-key",
        "apiKey",
        "subscription-key",
        "token",
        "access_token",
        "refresh_token",
        "sig",
        "signature",
        "X-Amz-Signature",
        "X-Amz-Credential",
        "X-Amz-Security-Token",
        "client_secret",
        "password",
        "auth",
        "code",
        "jwt",
        "session",
        "api%5Fkey",
    ],
)
def test_a_secret_looking_parameter_is_masked(name: str) -> None:
    assert scrub(f"see https://h/p?{name}=s3cr3t-value&after=gpt-4o.") == (
        f"see https://h/p?{name}=***&after=gpt-4o."
    )


@pytest.mark.parametrize(
    "name",
    [
        "after",
        "before",
        "limit",
        "page",
        "pageToken",
        "page_token",
        "next_page_token",
        "cursor",
        "offset",
        "api-version",
        "output_modalities",
        "starting_after",
    ],
)
def test_a_paging_or_plain_parameter_stays_visible(name: str) -> None:
    assert scrub(f"https://h/p?{name}=v2&key=k") == f"https://h/p?{name}=v2&key=***"


def test_a_query_value_without_a_name_is_masked() -> None:
    assert shown_url("https://h/p?sk-abcdef&page=2") == "https://h/p?***&page=2"


def test_the_redactor_drops_urllib3_request_lines_and_scrubs_every_other_record() -> None:
    redactor = Redactor()
    redactor.add(url_secrets(SLACK))
    line = logging.LogRecord(
        "urllib3.connectionpool",
        logging.DEBUG,
        __file__,
        1,
        '%s://%s:%s "%s %s %s" %s %s',
        ("https", "hooks.slack.com", 443, "POST", "/services/T0AAAA", "HTTP/1.1", 200, 2),
        None,
    )
    other = logging.LogRecord(
        "apprise",
        logging.DEBUG,
        __file__,
        1,
        "posting to %s",
        (SLACK,),
        None,
    )
    assert redactor.filter(line) is False
    assert redactor.filter(other) is True
    assert other.getMessage() == "posting to ***"


def test_printable_replaces_every_control_and_bidi_character_and_keeps_the_rest() -> None:
    assert printable("a\x1b[2J\x1b]0;t\x07b\u202ec\u2066d\x9be\r\nf") == ("a [2J ]0;t b c d e  f")
    assert printable("gpt-4o → ünïcode 模型") == "gpt-4o → ünïcode 模型"


def test_the_redactor_keeps_escapes_out_of_log_lines() -> None:
    redactor = Redactor()
    record = logging.LogRecord(
        "syncer", logging.WARNING, __file__, 1, "said %s", ("\x1b[2J",), None
    )

    assert redactor.filter(record)
    assert record.getMessage() == "said  [2J"


def test_the_control_character_check_is_exactly_unicode_category_cc() -> None:
    cc = {chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cc"}
    assert {c for c in map(chr, range(0x110000)) if CONTROL.search(c)} == cc


def test_the_redactor_masks_each_of_many_keys_that_share_their_first_characters() -> None:
    keys = [f"sk-proj-{i:05d}abcdef" for i in range(10_000)]
    redactor = Redactor()
    redactor.add([*keys, "Bearer sk-proj-00042abcdef", "xy"])
    record = logging.LogRecord(
        "syncer",
        logging.ERROR,
        __file__,
        1,
        "s1: %s rejected, then %s and %s; xy",
        (keys[1], "Bearer sk-proj-00042abcdef", keys[-1]),
        None,
    )

    assert redactor.filter(record)
    assert record.getMessage() == "s1: *** rejected, then *** and ***; ***"
