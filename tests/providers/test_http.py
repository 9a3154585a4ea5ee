"""The HTTP client against a real loopback server: headers, paging, retries, errors, security."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from syncer.config.model import HTTPSettings, Source
from syncer.errors import (
    ConfigError,
    HTTPStatusError,
    InsecureURLError,
    PayloadError,
    ProviderError,
    ProviderTimeout,
    ProviderUnreachable,
)
from syncer.jsontext import document
from syncer.providers import http as client_module
from syncer.providers.http import USER_AGENT, Client, Listing, _retry_after, model_path
from tests.fakes import closed_port

KEY = "sk-proj-TESTKEY1234567890abcdef"
FAST = HTTPSettings(
    connect_timeout=2.0,
    read_timeout=2.0,
    max_retries=3,
    backoff_base=0.01,
    backoff_max=0.05,
    retry_after_cap=10.0,
)
MODELS = "/v1/models"


class RecordingAdapter(requests.adapters.HTTPAdapter):
    """A real adapter that also remembers what it was asked to send, and with which timeout."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, Any]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append((request.url or "", kwargs.get("timeout")))
        return super().send(request, **kwargs)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(sleeps: list[float]) -> Iterator[Any]:
    clients: list[Client] = []

    def make(
        server: HTTPServer, http: HTTPSettings = FAST, key: str | None = KEY, **kw: Any
    ) -> Client:
        source = Source(name="test", base_url=server.url_for("/v1"), api_key=key, **kw)
        made = Client(source.endpoint(), http, sleep=sleeps.append)
        clients.append(made)
        return made

    yield make
    for made in clients:
        made.close()


@pytest.fixture
def threaded_server() -> Iterator[HTTPServer]:
    """A server that answers while another handler sleeps, so a retry is not stuck behind it."""
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def page(*ids: str, **extra: Any) -> dict[str, Any]:
    return {"object": "list", "data": [{"id": i, "object": "model"} for i in ids], **extra}


def error(message: str, kind: str = "invalid_request_error", code: str | None = None) -> str:
    return json.dumps({"error": {"message": message, "type": kind, "code": code}})


# Headers


def test_sends_auth_user_agent_accept_and_source_headers(httpserver, make_client):
    httpserver.expect_request(MODELS).respond_with_json(page("a"))
    headers = {"OpenAI-Organization": "org-1", "OpenAI-Project": "proj-1"}
    make_client(httpserver, headers=headers).list_pages()
    sent = httpserver.log[0][0].headers
    assert sent["Authorization"] == f"Bearer {KEY}"
    assert sent["User-Agent"] == USER_AGENT
    assert re.fullmatch(r"syncer/\S+", USER_AGENT)
    assert sent["Accept"] == "application/json"
    assert sent["OpenAI-Organization"] == "org-1"
    assert sent["OpenAI-Project"] == "proj-1"


def test_sends_no_authorization_without_a_key(httpserver, make_client):
    httpserver.expect_request(MODELS).respond_with_json(page("a"))
    make_client(httpserver, key=None).list_pages()
    assert "Authorization" not in httpserver.log[0][0].headers


def test_every_request_uses_the_connect_and_read_timeouts(httpserver):
    httpserver.expect_request(MODELS).respond_with_json(page("a"))
    httpserver.expect_request("/v1/models/a").respond_with_json({"id": "a"})
    session = requests.Session()
    adapter = RecordingAdapter()
    session.mount("http://", adapter)
    http = HTTPSettings(connect_timeout=3.0, read_timeout=7.0)
    source = Source(name="t", base_url=httpserver.url_for("/v1"), api_key=KEY)
    with session, Client(source.endpoint(), http, session=session) as client:
        client.list_pages()
        client.retrieve("a")
    assert [timeout for _, timeout in adapter.sent] == [(3.0, 7.0), (3.0, 7.0)]


# Listing and pagination


def decoded(pages: list[Any]) -> list[Any]:
    """Pages as a reader sees them: the models a listing leaves undecoded, decoded."""
    return [
        {k: [document(m) for m in v] if k == "data" else v for k, v in p.items()} for p in pages
    ]


def test_lists_one_page_and_digests_its_raw_bytes(httpserver, make_client):
    raw = b'{"object": "list", "data": [{"id": "gpt-4o"}]}'
    httpserver.expect_request(MODELS).respond_with_data(raw, content_type="application/json")
    listing = make_client(httpserver).list_pages()
    assert decoded(listing.pages) == [{"object": "list", "data": [{"id": "gpt-4o"}]}]
    assert listing.digest == hashlib.sha256(raw).hexdigest()
    assert len(httpserver.log) == 1


def test_a_page_that_is_a_whole_listing_applied_before_is_returned_undecoded(
    httpserver, make_client
):
    raw = b'{"object": "list", "data": [{"id": "gpt-4o"}], "has_more": false}'
    httpserver.expect_request(MODELS).respond_with_data(raw, content_type="application/json")
    asked: list[str] = []

    def applied(digest: str) -> bool:
        asked.append(digest)
        return True

    listing = make_client(httpserver).list_pages(applied)

    assert asked == [hashlib.sha256(raw).hexdigest()] == [listing.digest]
    assert not listing.decoded
    assert decoded(listing.pages) == [
        {"object": "list", "data": [{"id": "gpt-4o"}], "has_more": False}
    ]
    assert listing.decoded


def test_an_undecoded_page_that_is_not_json_fails_when_read(httpserver, make_client):
    httpserver.expect_request(MODELS).respond_with_data(b"<html>oops</html>")
    listing = make_client(httpserver).list_pages(lambda digest: True)

    with pytest.raises(PayloadError, match="response is not JSON"):
        listing.pages  # noqa: B018


def test_a_first_page_that_is_not_a_listing_applied_before_is_read_on(httpserver, make_client):
    httpserver.expect_request(MODELS, query_string="").respond_with_json(
        page("a", has_more=True, last_id="a")
    )
    httpserver.expect_request(MODELS, query_string="after=a").respond_with_json(page("b"))

    listing = make_client(httpserver).list_pages(lambda digest: False)

    assert listing.decoded and len(listing.pages) == 2


def test_follows_has_more_with_last_id(httpserver, make_client):
    httpserver.expect_request(MODELS, query_string="").respond_with_json(
        page("a", "b", has_more=True, last_id="b")
    )
    httpserver.expect_request(MODELS, query_string="after=b").respond_with_json(
        page("c", has_more=False)
    )
    listing = make_client(httpserver).list_pages()
    assert [m["id"] for p in decoded(listing.pages) for m in p["data"]] == ["a", "b", "c"]


def test_has_more_without_last_id_continues_after_the_last_item(httpserver, make_client):
    httpserver.expect_request(MODELS, query_string="").respond_with_json(
        page("x", "ft:y@1", has_more=True)
    )
    httpserver.expect_request(MODELS, query_string={"after": "ft:y@1"}).respond_with_json(page())
    assert len(make_client(httpserver).list_pages().pages) == 2


@pytest.mark.parametrize("style", ["absolute", "relative-path", "relative"])
def test_follows_a_next_url_on_the_same_server(httpserver, make_client, style):
    target = {
        "absolute": httpserver.url_for("/v1/models?page=2"),
        "relative-path": "/v1/models?page=2",
        "relative": "models?page=2",
    }[style]
    httpserver.expect_request(MODELS, query_string="").respond_with_json(page("a", next=target))
    httpserver.expect_request(MODELS, query_string="page=2").respond_with_json(page("b"))
    assert len(make_client(httpserver).list_pages().pages) == 2


def test_follows_a_page_token(httpserver, make_client):
    httpserver.expect_request(MODELS, query_string="").respond_with_json(
        page("a", nextPageToken="t2")
    )
    httpserver.expect_request(MODELS, query_string="page_token=t2").respond_with_json(page("b"))
    assert len(make_client(httpserver).list_pages().pages) == 2


@pytest.mark.parametrize(
    "url", ["https://127.0.0.1/v1/models?p=2", "http://evil.example/v1/models", "//evil.example/x"]
)
def test_refuses_a_next_url_on_another_origin(httpserver, make_client, url):
    httpserver.expect_request(MODELS).respond_with_json(page("a", next_page=url))
    with pytest.raises(PayloadError, match="another host"):
        make_client(httpserver).list_pages()
    assert len(httpserver.log) == 1


def test_a_repeated_cursor_stops_with_did_not_advance(httpserver, make_client):
    httpserver.expect_request(MODELS).respond_with_json(page("a", has_more=True, last_id="a"))
    with pytest.raises(PayloadError, match="pagination did not advance"):
        make_client(httpserver).list_pages()
    assert len(httpserver.log) == 2


def test_a_next_url_back_to_the_first_page_is_a_loop(httpserver, make_client):
    httpserver.expect_request(MODELS).respond_with_json(page("a", next="models"))
    with pytest.raises(PayloadError, match="pagination did not advance"):
        make_client(httpserver).list_pages()


def test_endless_paging_stops_at_the_page_limit(httpserver, make_client, monkeypatch):
    monkeypatch.setattr(client_module, "MAX_PAGES", 3)
    count = iter(range(100))

    def endless(request: Request) -> Response:
        return Response(json.dumps(page(f"m{next(count)}", has_more=True)))

    httpserver.expect_request(MODELS).respond_with_handler(endless)
    with pytest.raises(PayloadError, match="did not advance in 3 pages"):
        make_client(httpserver).list_pages()
    assert len(httpserver.log) == 3


def test_has_more_without_any_cursor_is_a_payload_error(httpserver, make_client):
    httpserver.expect_request(MODELS).respond_with_json({"data": [], "has_more": True})
    with pytest.raises(PayloadError, match=r"GET http://\S+/v1/models: has_more is true"):
        make_client(httpserver).list_pages()


def test_a_list_body_that_is_not_an_object_is_a_payload_error(httpserver, make_client):
    httpserver.expect_request(MODELS).respond_with_json([{"id": "a"}])
    with pytest.raises(PayloadError, match="expected a JSON object, got a list"):
        make_client(httpserver).list_pages()


def test_an_html_page_with_status_200_is_a_payload_error(httpserver, make_client):
    html = "<html>\n  <body>\n    <h1>Welcome to nginx!</h1>" + "x" * 200 + "</body></html>"
    httpserver.expect_request(MODELS).respond_with_data(html, content_type="text/html")
    with pytest.raises(PayloadError) as info:
        make_client(httpserver).list_pages()
    message = str(info.value)
    assert "not JSON (text/html" in message
    assert "<html> <body> <h1>Welcome to nginx!</h1>" in message
    assert "\n" not in message and len(message) < 200


# Retries


def test_recovers_from_a_500(httpserver, make_client, sleeps):
    httpserver.expect_oneshot_request(MODELS).respond_with_data("boom", status=500)
    httpserver.expect_request(MODELS).respond_with_json(page("a"))
    assert decoded(make_client(httpserver).list_pages().pages) == [page("a")]
    assert len(httpserver.log) == 2
    assert len(sleeps) == 1 and 0 < sleeps[0] <= FAST.backoff_max


def test_a_429_with_retry_after_waits_that_long(httpserver, make_client, sleeps):
    httpserver.expect_oneshot_request(MODELS).respond_with_data(
        error("Rate limit reached"), status=429, headers={"Retry-After": "2"}
    )
    httpserver.expect_request(MODELS).respond_with_json(page("a"))
    make_client(httpserver).list_pages()
    assert sleeps == [2.0]


def test_retry_after_ms_wins_over_retry_after(httpserver, make_client, sleeps):
    httpserver.expect_oneshot_request(MODELS).respond_with_data(
        "", status=503, headers={"retry-after-ms": "1500", "Retry-After": "9"}
    )
    httpserver.expect_request(MODELS).respond_with_json(page("a"))
    make_client(httpserver).list_pages()
    assert sleeps == [1.5]


@pytest.mark.parametrize("value", ["120", "Wed, 21 Oct 2093 07:28:00 GMT"])
def test_retry_after_above_the_cap_fails_at_once_without_sleeping(
    httpserver, make_client, sleeps, value
):
    httpserver.expect_request(MODELS).respond_with_data(
        error("slow down"), status=429, headers={"Retry-After": value}
    )
    with pytest.raises(HTTPStatusError, match=r"asked to wait \d+ s, more than the cap of 10 s"):
        make_client(httpserver).list_pages()
    assert sleeps == []
    assert len(httpserver.log) == 1


def test_retry_after_parses_seconds_dates_and_garbage():
    now = 1_000_000_000.0  # 2001-09-09T01:46:40Z
    assert _retry_after({"Retry-After": "3"}, now) == 3.0
    assert _retry_after({"Retry-After": "Sun, 09 Sep 2001 01:46:50 GMT"}, now) == 10.0
    assert _retry_after({"Retry-After": "Sun, 09 Sep 2001 01:00:00 GMT"}, now) == 0.0
    assert _retry_after({"Retry-After": "soon"}, now) is None
    assert _retry_after({"retry-after-ms": "x", "Retry-After": "1"}, now) == 1.0
    assert _retry_after({}, now) is None


def test_insufficient_quota_is_not_retried(httpserver, make_client, sleeps):
    body = error("You exceeded your current quota", "insufficient_quota", "insufficient_quota")
    httpserver.expect_request(MODELS).respond_with_data(body, status=429)
    with pytest.raises(HTTPStatusError, match="out of quota") as info:
        make_client(httpserver).list_pages()
    assert info.value.status == 429 and info.value.code == "insufficient_quota"
    assert len(httpserver.log) == 1 and sleeps == []


def test_gives_up_after_max_retries(httpserver, make_client, sleeps):
    httpserver.expect_request(MODELS).respond_with_data(error("overloaded"), status=503)
    with pytest.raises(HTTPStatusError) as info:
        make_client(httpserver).list_pages()
    assert info.value.status == 503
    assert "503 Service Unavailable: overloaded (gave up after 4 attempts)" in str(info.value)
    assert len(httpserver.log) == FAST.max_retries + 1 and len(sleeps) == FAST.max_retries


def test_a_400_is_not_retried(httpserver, make_client, sleeps):
    httpserver.expect_request(MODELS).respond_with_data(error("bad"), status=400)
    with pytest.raises(HTTPStatusError, match=r"400 Bad Request: bad$"):
        make_client(httpserver).list_pages()
    assert len(httpserver.log) == 1 and sleeps == []


# Error messages


def test_a_401_says_the_key_is_wrong_and_never_shows_it(httpserver, make_client, caplog):
    echoed = f"Incorrect API key provided: {KEY}. Also sk-abc***wxyz. See https://x/keys."
    httpserver.expect_request(MODELS).respond_with_data(
        error(echoed, code="invalid_api_key"), status=401
    )
    caplog.set_level(logging.DEBUG)
    made = make_client(httpserver)
    with pytest.raises(HTTPStatusError) as info:
        made.list_pages()
    message = str(info.value)
    assert message == (
        f"GET {httpserver.url_for(MODELS)}: 401 Unauthorized: the API key is wrong or missing "
        "(Incorrect API key provided: sk-***. Also sk-***. See https://x/keys.)"
    )
    assert info.value.code == "invalid_api_key"
    for text in (message, repr(info.value), caplog.text, repr(made)):
        assert KEY not in text and "TESTKEY" not in text and "abc***" not in text


@pytest.mark.parametrize(
    ("status", "words"),
    [(403, "403 Forbidden: permission denied"), (404, "404 Not Found: not found")],
)
def test_403_and_404_say_what_they_mean(httpserver, make_client, status, words):
    httpserver.expect_request(MODELS).respond_with_data(error("nope"), status=status)
    with pytest.raises(HTTPStatusError, match=f"{words} \\(nope\\)($|; is the base URL)"):
        make_client(httpserver).list_pages()


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ('{"error": "model gone"}', "model gone"),
        ("", "empty body"),
        ("<html>\n\n  <b>Bad   Gateway</b>" + "y" * 300, "<html> <b>Bad Gateway</b>yyy"),
        ('{"error": {"message": null}}', '{"error": {"message": null}}'),
    ],
)
def test_odd_error_bodies_still_give_a_one_line_message(httpserver, make_client, body, shown):
    httpserver.expect_request(MODELS).respond_with_data(body, status=422)
    with pytest.raises(HTTPStatusError) as info:
        make_client(httpserver).list_pages()
    message = str(info.value)
    assert "422 Unprocessable" in message and shown in message
    assert "\n" not in message and len(message) < 320


def test_a_redirect_is_not_followed(httpserver, make_client):
    httpserver.expect_request(MODELS).respond_with_data(
        "", status=301, headers={"Location": "http://other.example/v1/models"}
    )
    with pytest.raises(HTTPStatusError, match=r"redirect to http://other\.example/v1/models"):
        make_client(httpserver).list_pages()
    assert len(httpserver.log) == 1


def test_connection_refused_is_a_provider_error_after_retries(make_client, sleeps):
    source = Source(name="t", base_url=f"http://127.0.0.1:{closed_port()}/v1", api_key=KEY)
    with (
        Client(source.endpoint(), FAST, sleep=sleeps.append) as client,
        pytest.raises(ProviderError) as info,
    ):
        client.list_pages()
    assert type(info.value) is ProviderUnreachable
    pattern = r"GET http://127\.0\.0\.1:\d+/v1/models: cannot connect: .*refused"
    assert re.search(pattern, str(info.value), re.IGNORECASE)
    assert len(sleeps) == FAST.max_retries
    assert KEY not in str(info.value)


def test_a_read_timeout_is_retried(threaded_server, make_client, sleeps):
    calls = iter(range(100))

    def slow_first(request: Request) -> Response:
        if next(calls) == 0:
            time.sleep(0.6)
        return Response(json.dumps(page("a")), content_type="application/json")

    threaded_server.expect_request(MODELS).respond_with_handler(slow_first)
    http = HTTPSettings(read_timeout=0.2, max_retries=2, backoff_base=0.01, backoff_max=0.01)
    assert decoded(make_client(threaded_server, http).list_pages().pages) == [page("a")]
    assert len(sleeps) == 1


def test_a_read_timeout_that_persists_is_a_provider_error(threaded_server, make_client, sleeps):
    def slow(request: Request) -> Response:
        time.sleep(0.4)
        return Response("{}")

    threaded_server.expect_request(MODELS).respond_with_handler(slow)
    http = HTTPSettings(read_timeout=0.1, max_retries=1, backoff_base=0.01, backoff_max=0.01)
    with pytest.raises(ProviderTimeout, match=r"models: timed out after 0\.1 s \(gave up after 2"):
        make_client(threaded_server, http).list_pages()
    assert len(sleeps) == 1


# Security


def test_plain_http_to_a_remote_host_with_a_key_is_refused_before_connecting():
    session = requests.Session()
    adapter = RecordingAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    source = Source(name="t", base_url="http://example.com/v1", api_key=KEY)
    with session, pytest.raises(InsecureURLError, match="clear text") as info:
        Client(source.endpoint(), session=session)
    assert adapter.sent == []
    assert KEY not in str(info.value)


def test_plain_http_with_a_credential_header_is_refused_too():
    source = Source(name="t", base_url="http://10.0.0.1/v1", headers={"api-key": "secret"})
    with pytest.raises(InsecureURLError):
        Client(source.endpoint())


@pytest.mark.parametrize(
    "url",
    [
        "https://api.example.com/v1",
        "http://localhost:8000/v1",
        "http://127.0.0.9/v1",
        "http://[::1]:8080/v1",
    ],
)
def test_https_and_loopback_http_are_accepted_with_a_key(url):
    with Client(Source(name="t", base_url=url, api_key=KEY).endpoint()) as client:
        assert repr(client) == f"Client(source='t', base_url={url!r})"


def test_plain_http_without_a_key_is_accepted_and_sends_no_credential(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A keyless server on another host over plain HTTP (here reached through the proxy the
    environment names, which is on 127.0.0.1): listed, with nothing to protect."""
    httpserver.expect_request("/v1/models").respond_with_json(page("a"))
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, httpserver.url_for("/"))

    with Client(Source(name="t", base_url="http://models.example.com/v1").endpoint()) as client:
        listing = client.list_pages()

    assert decoded(listing.pages) == [page("a")]
    ((request, _),) = httpserver.log
    assert request.headers["Host"] == "models.example.com"
    assert "Authorization" not in request.headers


def test_a_base_url_that_is_not_http_is_a_config_error():
    with pytest.raises(ConfigError):
        Client(Source(name="t", base_url="ftp://example.com/v1", api_key=KEY).endpoint())


# Single models, path encoding, delete


@pytest.mark.parametrize(
    ("model_id", "raw"),
    [
        ("a/b?c#d%e", "/v1/models/a%2Fb%3Fc%23d%25e"),
        ("ft:gpt-4o:acme:x@1", "/v1/models/ft:gpt-4o:acme:x@1"),
        ("with space", "/v1/models/with%20space"),
        ("..a", "/v1/models/..a"),
        ("%2F", "/v1/models/%252F"),
        ("ünï", "/v1/models/%C3%BCn%C3%AF"),
    ],
)
def test_model_ids_reach_the_server_as_one_encoded_segment(httpserver, make_client, model_id, raw):
    httpserver.expect_request(re.compile(r"/v1/models/.*")).respond_with_json({"id": model_id})
    assert make_client(httpserver).retrieve(model_id) == {"id": model_id}
    assert httpserver.log[0][0].environ["RAW_URI"] == raw


@pytest.mark.parametrize("model_id", ["", ".", ".."])
def test_model_path_refuses_ids_that_are_not_a_segment(model_id):
    with pytest.raises(PayloadError):
        model_path(model_id)


@given(st.text(st.characters(exclude_categories=["Cs"]), min_size=1))
def test_model_path_is_one_segment_that_decodes_back(model_id):
    if model_id in (".", ".."):
        return
    encoded = model_path(model_id)
    assert unquote(encoded) == model_id
    assert not set("/?# ") & set(encoded)
    assert re.fullmatch(r"(?:[^%]|%[0-9A-F]{2})+", encoded)


def test_model_path_refuses_an_id_that_is_not_unicode_text():
    with pytest.raises(PayloadError):
        model_path("bad\ud800")


def test_retrieve_returns_the_model(httpserver, make_client):
    httpserver.expect_request("/v1/models/gpt-4o").respond_with_json({"id": "gpt-4o"})
    assert make_client(httpserver).retrieve("gpt-4o") == {"id": "gpt-4o"}


def test_retrieve_of_an_unknown_model_is_none(httpserver, make_client, sleeps):
    httpserver.expect_request("/v1/models/gone").respond_with_data(error("no such"), status=404)
    assert make_client(httpserver).retrieve("gone") is None
    assert sleeps == []


def test_delete_returns_the_provider_answer(httpserver, make_client):
    answer = {"id": "ft:x", "object": "model", "deleted": True}
    httpserver.expect_request("/v1/models/ft:x", method="DELETE").respond_with_json(answer)
    assert make_client(httpserver).delete("ft:x") == answer


def test_delete_of_a_model_already_gone_is_none(httpserver, make_client):
    httpserver.expect_request("/v1/models/ft:x", method="DELETE").respond_with_data(
        error("not found"), status=404
    )
    assert make_client(httpserver).delete("ft:x") is None


def test_delete_that_times_out_then_finds_the_model_gone_is_done(
    threaded_server, make_client, sleeps
):
    deleted = threading.Event()

    def delete(request: Request) -> Response:
        if deleted.is_set():
            return Response(error("not found"), status=404)
        deleted.set()
        time.sleep(0.5)  # the provider deletes, but answers too late
        return Response(json.dumps({"id": "ft:x", "deleted": True}))

    threaded_server.expect_request("/v1/models/ft:x", method="DELETE").respond_with_handler(delete)
    http = HTTPSettings(read_timeout=0.15, max_retries=2, backoff_base=0.01, backoff_max=0.01)
    assert make_client(threaded_server, http).delete("ft:x") is None
    assert len(sleeps) == 1


# Logging


def test_logs_one_debug_line_per_request_and_an_info_line_per_retry(
    httpserver, make_client, caplog
):
    httpserver.expect_oneshot_request(MODELS).respond_with_data("", status=502)
    httpserver.expect_request(MODELS).respond_with_json(page("a"))
    caplog.set_level(logging.DEBUG, logger="syncer.providers.http")
    make_client(httpserver, headers={"OpenAI-Project": "proj-secret"}).list_pages()
    records = [r for r in caplog.records if r.name == "syncer.providers.http"]
    assert [r.levelname for r in records] == ["DEBUG", "INFO", "DEBUG"]
    assert re.search(r"GET http://\S+/v1/models: 502 in \d+\.\d+ s", records[0].getMessage())
    assert "retry 1 of 3" in records[1].getMessage()
    assert KEY not in caplog.text and "proj-secret" not in caplog.text


def test_listing_is_a_frozen_value():
    listing = Listing("x", [])
    with pytest.raises(AttributeError):
        listing.digest = "y"  # type: ignore[misc]
