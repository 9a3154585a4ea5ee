"""The provider over HTTP: one session per source, auth, timeouts, retries, paging, error bodies.

Generic over provider kinds: the source's ``Profile`` says how the key is sent, where the list
is, how pages follow (a pure paginator from ``paging``) and how to read an error body. Every
failure on the wire becomes a ``ProviderError`` whose message is built from the method, the
URL, the status and the provider's (masked) words, never from the request object, so the API
key cannot leak through an exception, a log line or a repr.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any, NoReturn
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit
from urllib.request import getproxies

import requests
import urllib3
from requests.structures import CaseInsensitiveDict
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

import syncer
from syncer.errors import (
    DeadlineError,
    HTTPStatusError,
    PayloadError,
    ProviderError,
    ProviderTimeout,
    ProviderTLSError,
    ProviderUnreachable,
    ResponseTooLargeError,
)
from syncer.jsontext import decode_json, decode_page, json_kind
from syncer.providers.auth import check_transport, credential_headers, is_loopback, mask
from syncer.providers.endpoint import Endpoint, RequestPolicy
from syncer.providers.paging import Cursor
from syncer.providers.profile import ErrorInfo, Profile
from syncer.redact import printable, scrub, secret_parameter, shown_url
from syncer.words import snippet

__all__ = ["MAX_PAGES", "USER_AGENT", "Client", "Listing", "model_path"]

log = logging.getLogger(__name__)

MAX_PAGES = 10_000
RETRY_STATUSES = frozenset({408, 409, 429})  # and every 5xx
# What the official OpenAI SDK leaves unescaped in a path segment: ids like "ft:gpt-4o:acme:x@1"
# stay readable, while "/", "?", "#", "%" and spaces cannot change which resource is addressed.
_SEGMENT_SAFE = ":@!$&'()*+,;=-._~"
_HINTS = {401: "the API key is wrong or missing", 403: "permission denied", 404: "not found"}
_DEFAULT_POLICY = RequestPolicy()
#: Bytes asked of the socket at a time: a read returns what has come, so a body that drips
#: is still checked against the deadline between its bytes.
_CHUNK = 1 << 16


#: A ``\\uD800``-``\\uDFFF`` escape: half of a UTF-16 pair, checked further only when present.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


USER_AGENT = f"syncer/{syncer.__version__}"


class Listing:
    """Every page of one listing, with a digest so an unchanged listing can be skipped cheaply.

    A listing that is byte for byte the one last applied is decoded only when ``pages`` is
    read: a sync that finds it unchanged never reads it, and 100,000 models are not decoded
    to learn that nothing changed.
    """

    __slots__ = ("_decode", "_digest", "_pages")

    def __init__(
        self,
        digest: str,
        pages: list[Any] | None = None,
        decode: Callable[[], list[Any]] | None = None,
    ) -> None:
        self._digest = digest
        self._pages = pages
        self._decode = decode

    @property
    def digest(self) -> str:
        """SHA-256 of the pages' bytes, in order."""
        return self._digest

    @property
    def decoded(self) -> bool:
        return self._pages is not None

    @property
    def pages(self) -> list[Any]:
        """The decoded pages; decoding may raise ``PayloadError``."""
        if self._pages is None:
            assert self._decode is not None, "a listing has its pages or a way to decode them"
            self._pages = self._decode()
        return self._pages


def model_path(model_id: str) -> str:
    """The id as exactly one path segment, so no id can address another resource."""
    try:
        if isinstance(model_id, str) and model_id not in ("", ".", ".."):
            return quote(model_id, safe=_SEGMENT_SAFE)
    except UnicodeEncodeError:  # a lone surrogate, which JSON can smuggle in as "\\ud800"
        pass
    raise PayloadError(f"{model_id!r} cannot be used as a model id in a URL")


class _Transient(Exception):
    """A failure worth another attempt: the public error, and the wait the server asked for."""

    def __init__(self, error: ProviderError, wait: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait = wait


class Client:
    """One source's model list endpoint, over one ``requests.Session``, as its profile says."""

    def __init__(
        self,
        source: Endpoint,
        http: RequestPolicy = _DEFAULT_POLICY,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        profile: Profile | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        self.profile = source.profile if profile is None else profile
        check_transport(source.name, source.base_url, source.api_key, source.headers)
        self.source = source
        self._http = http
        self._base = source.base_url.rstrip("/")
        self._models = self._base + self.profile.list_path
        self._sleep = sleep
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        #: Passed with each request: a session's own ``verify`` loses to REQUESTS_CA_BUNDLE.
        self._verify: bool | str = source.ca_bundle or source.verify_tls
        if not source.verify_tls:
            # syncer says so itself on every sync (``list_pages``), not once per process.
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self._key = source.api_key or ""
        #: When the provider must have answered everything by (monotonic): set at the first
        #: request, since a client may be made before its sync's turn comes.
        self._deadline_at: float | None = None
        #: Secret query values of the URLs requested (``redact.secret_parameter``) and the
        #: source's credentials, and every other secret configured (``secrets``, shared by
        #: every client, not copied into each): masked wherever the provider quotes them.
        self._secrets: set[str] = set(source.secrets)
        self._shared = secrets if isinstance(secrets, tuple | frozenset) else tuple(secrets)
        #: A loopback source is reached directly, never through a proxy the environment
        #: names: the key may travel over plain HTTP to it, and must not to a proxy.
        self._proxies = _direct() if is_loopback(urlsplit(self._base).hostname or "") else None
        self._headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(
            {"User-Agent": USER_AGENT, "Accept": "application/json"}
        )
        self._headers.update(self.profile.headers)
        self._headers.update(source.headers)
        self._headers.update(credential_headers(self.profile, self._key))
        #: Sent with every request; the list's own parameters go with each list page.
        self._query: dict[str, str] = {}
        version = source.api_version or self.profile.default_version
        if self.profile.version_param and version:
            self._query[self.profile.version_param] = version
        # Exponential backoff plus jitter, so clients that failed together do not retry together.
        self._backoff = wait_exponential(multiplier=http.backoff_base) + wait_random(
            0, http.backoff_base
        )

    def __repr__(self) -> str:
        return f"Client(source={self.source.name!r}, base_url={shown_url(self._base)!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the session, unless the caller passed it in and so owns it."""
        if self._owns_session:
            self._session.close()

    def list_pages(self, applied: Callable[[str], bool] | None = None) -> Listing:
        """GET the list and every following page, refusing to loop or to leave the origin.

        ``applied`` says whether a listing digest is that of the listing last applied: a
        first page that is, byte for byte, such a whole listing is the whole listing again
        (its paging said so then), returned without being decoded. The profile's further
        lists (``more_lists``) follow the first, each paged the same way.
        """
        if not self.source.verify_tls:
            log.warning(
                "%s: TLS certificate verification is off (verify_tls = false): anyone "
                "on the path can read the key and forge the list",
                self.source.name,
            )
        endpoint = self._models
        more = iter([self._base + path for path, _ in self.profile.more_lists])
        url = self._with_query(endpoint, {**self._query, **self.profile.list_query})
        pages: list[Any] = []
        digest = hashlib.sha256()
        seen = {url}
        while True:
            try:
                response = self._request("GET", url)
            except HTTPStatusError as exc:
                if exc.status != 404 or pages:
                    raise
                raise HTTPStatusError(  # the list itself is missing: most often a wrong path
                    f"{exc}; is the base URL's path right? OpenAI-compatible APIs usually end "
                    "in /v1",
                    status=404,
                    code=exc.code,
                ) from None
            assert response is not None  # without missing_ok a 404 raises
            digest.update(response.content)
            if not pages and applied is not None and applied(digest.hexdigest()):
                return self._undecoded(response, f"GET {shown_url(url)}", digest.hexdigest())
            body = self._page(response, f"GET {shown_url(url)}")
            pages.append(body)
            try:
                cursor = self.profile.paginator(body)
            except PayloadError as exc:
                raise PayloadError(f"GET {shown_url(url)}: {exc}") from None
            if cursor is None:  # the end of this list: the next of the profile's, if any
                endpoint = next(more, "")
                if not endpoint:
                    return Listing(digest.hexdigest(), pages)
                following = self._with_query(endpoint, {**self._query, **self.profile.list_query})
            else:
                following = self._page_url(url, cursor, endpoint)
            if following in seen:
                raise PayloadError(
                    f"GET {shown_url(url)}: pagination did not advance "
                    f"({shown_url(following)} again)"
                )
            if len(pages) >= MAX_PAGES:
                raise PayloadError(
                    f"GET {shown_url(url)}: pagination did not advance in {MAX_PAGES} pages"
                )
            seen.add(following)
            url = following

    def retrieve(self, model_id: str) -> dict[str, Any] | None:
        """GET one model; None when the provider does not know it."""
        url = self._model_url(model_id)
        response = self._request("GET", url, missing_ok=True)
        return None if response is None else self._object(response, f"GET {shown_url(url)}")

    def delete(self, model_id: str) -> dict[str, Any] | None:
        """DELETE a (fine-tuned) model; None when it is already gone, even after a retry."""
        url = self._model_url(model_id)
        response = self._request("DELETE", url, missing_ok=True)
        if response is None:
            return None
        where = f"DELETE {shown_url(url)}"
        return self._object(response, where) if response.content.strip() else {}

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> requests.Response | None:
        """GET one document at ``url`` that is not a model list (a file of shutdown dates),
        with ``headers`` beside the client's own, under the same timeouts, retries, size cap
        and deadline. None for ``304 Not Modified``, which only a conditional request
        (``If-None-Match``, ``If-Modified-Since`` in ``headers``) gets."""
        return self._request("GET", url, headers=headers, not_modified_ok=True)

    def _model_url(self, model_id: str) -> str:
        return self._with_query(f"{self._models}/{model_path(model_id)}", self._query)

    @staticmethod
    def _with_query(url: str, query: Mapping[str, str]) -> str:
        return f"{url}?{urlencode(query)}" if query else url

    def _page_url(self, current: str, cursor: Cursor, endpoint: str) -> str:
        if isinstance(cursor, dict):
            query = {**self._query, **self.profile.list_query, **cursor}
            return self._with_query(endpoint, query)
        url = urljoin(self._base + "/", cursor)
        if _origin(url) != _origin(self._base):
            raise PayloadError(
                f"GET {shown_url(current)}: next page {snippet(shown_url(cursor), 120)} is on "
                "another host; not followed"
            )
        return _keeping(url, self.profile.list_query)

    def _request(
        self,
        method: str,
        url: str,
        *,
        missing_ok: bool = False,
        headers: Mapping[str, str] | None = None,
        not_modified_ok: bool = False,
    ) -> requests.Response | None:
        retrying = Retrying(
            sleep=self._sleep,
            stop=stop_after_attempt(self._http.max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            before_sleep=self._log_retry,
            retry_error_callback=_give_up,
        )
        sent = self._headers
        if headers:
            sent = self._headers.copy()
            sent.update(headers)
        response: requests.Response | None = retrying(
            self._attempt, method, url, missing_ok, sent, not_modified_ok
        )
        return response

    def _attempt(
        self,
        method: str,
        url: str,
        missing_ok: bool,
        headers: Mapping[str, str],
        not_modified_ok: bool,
    ) -> requests.Response | None:
        where = f"{method} {shown_url(url)}"
        self._secrets.update(v for k, v in parse_qsl(urlsplit(url).query) if secret_parameter(k))
        left = self._time_left(where)
        connect, read = min(self._http.connect_timeout, left), min(self._http.read_timeout, left)
        started = time.monotonic()
        try:
            response = self._session.request(
                method,
                url,
                headers=headers,
                timeout=(connect, read),
                allow_redirects=False,
                verify=self._verify,
                stream=True,
                proxies=self._proxies,  # type: ignore[arg-type]  # None: "not this proxy"
            )
        except requests.Timeout as exc:
            self._time_left(where)  # a wait the deadline cut short fails on the deadline
            log.debug("%s: timed out after %.3f s", where, time.monotonic() - started)
            limit = connect if isinstance(exc, requests.ConnectTimeout) else read
            raise _Transient(ProviderTimeout(f"{where}: timed out after {limit:g} s")) from None
        except requests.exceptions.SSLError as exc:  # a bad certificate will not fix itself
            reason = self._clean(snippet(_reason(exc), 160))
            raise ProviderTLSError(f"{where}: TLS handshake failed: {reason}") from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            log.debug("%s: failed after %.3f s", where, time.monotonic() - started)
            reason = self._clean(snippet(_reason(exc), 160))
            if _unresolved(exc):  # DNS already retried; another attempt soon rarely helps
                host = urlsplit(url).hostname
                message = f"{where}: cannot resolve the host {host}: {reason}"
                raise ProviderUnreachable(message) from None
            raise _Transient(ProviderUnreachable(f"{where}: cannot connect: {reason}")) from None
        except requests.RequestException as exc:
            raise ProviderError(f"{where}: request failed ({type(exc).__name__})") from None
        self._read(response, where)
        status = response.status_code
        log.debug("%s: %d in %.3f s", where, status, time.monotonic() - started)
        if 200 <= status < 300:
            return response
        if (status == 404 and missing_ok) or (status == 304 and not_modified_ok):
            return None
        raise self._status_error(where, response)

    def _time_left(self, where: str) -> float:
        """Seconds left until the deadline, which the first request starts; DeadlineError
        once it has passed."""
        now = time.monotonic()
        if self._deadline_at is None:
            self._deadline_at = now + self.source.deadline.total_seconds()
        left = self._deadline_at - now
        if left <= 0:
            limit = _seconds(self.source.deadline.total_seconds())
            raise DeadlineError(f"{where}: the sync's deadline of {limit} s passed (deadline)")
        return left

    def _read(self, response: requests.Response, where: str) -> None:
        """Read the body for ``response.content``: at most ``max_response_size`` bytes, and
        not past the deadline (``requests`` alone would read any amount for any time)."""
        limit = self.source.max_response_size
        declared = response.headers.get("Content-Length", "")
        chunks: list[bytes] = []
        size = 0
        try:
            if declared.isdigit() and int(declared) > limit:
                raise ResponseTooLargeError(
                    f"{where}: the response is {_size(int(declared))}, more than "
                    f"{_size(limit)} (max_response_size); not read"
                )
            while True:
                _wait_at_most(response, min(self._http.read_timeout, self._time_left(where)))
                chunk = response.raw.read1(_CHUNK, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise ResponseTooLargeError(
                        f"{where}: the response is larger than {_size(limit)} "
                        "(max_response_size); not read further"
                    )
                chunks.append(chunk)
        except urllib3.exceptions.ReadTimeoutError:
            response.close()
            self._time_left(where)
            limit_s = _seconds(self._http.read_timeout)
            raise _Transient(ProviderTimeout(f"{where}: timed out after {limit_s} s")) from None
        except urllib3.exceptions.DecodeError:
            response.close()
            encoding = response.headers.get("Content-Encoding", "its Content-Encoding")
            raise PayloadError(f"{where}: the body is not valid {encoding}") from None
        except urllib3.exceptions.HTTPError as exc:
            response.close()
            reason = self._clean(snippet(_reason(exc), 160))
            broke = ProviderUnreachable(f"{where}: the connection broke: {reason}")
            raise _Transient(broke) from None
        except ProviderError:
            response.close()
            raise
        # What ``requests`` itself fills in when it reads the body: ``content`` serves it.
        response._content = b"".join(chunks)

    def _status_error(self, where: str, response: requests.Response) -> Exception:
        status = response.status_code
        info = _error_body(response, self.profile)
        text, code, kind = self._clean(info.message or ""), info.code, info.type
        head = f"{where}: {status} {_phrase(response)}".rstrip()
        if status == 429 and "insufficient_quota" in (code, kind):
            message = f"{head}: the account is out of quota ({text})"
            return HTTPStatusError(message, status=status, code=code or kind)
        if 300 <= status < 400:
            # The server's own words: a key it echoes is masked, a control cannot reach a terminal.
            location = response.headers.get("Location", "nowhere")
            location = self._clean(snippet(shown_url(location), 120))
            message = f"{head}: redirect to {location} not followed; set base_url to the final URL"
            return HTTPStatusError(message, status=status)
        hint = info.hint or (_HINTS[401] if info.auth else _HINTS.get(status))
        if not self.profile.auth_header:  # a document fetched without a key: none to blame
            hint = _HINTS[404] if status == 404 else None
        elif (status == 401 or info.auth) and not self._key:
            variable = self.source.api_key_env or self.profile.key_env
            hint = (
                f"no API key is set: set {variable}"
                if variable
                else ("no API key is set: set api_key_env for this source")
            )
        message = f"{head}: {hint} ({text})" if hint else f"{head}: {text}"
        error = HTTPStatusError(message, status=status, code=code or kind)
        if status not in RETRY_STATUSES and status < 500:
            return error
        wait = _retry_after(response.headers, time.time())
        cap = self._http.retry_after_cap
        if wait is not None and wait > cap:
            message = f"{head}: the provider asked to wait {_seconds(wait)} s, more than the cap "
            message += f"of {_seconds(cap)} s (http.retry_after_cap)"
            return HTTPStatusError(message, status=status, code=code or kind)
        return _Transient(error, wait)

    def _decode(
        self,
        response: requests.Response,
        where: str,
        decode: Callable[[bytes], Any] = decode_json,
    ) -> Any:
        try:
            if _SURROGATE_ESCAPE.search(response.content):
                # JSON may escape half of a UTF-16 pair alone: a string no database stores.
                body = decode_json(response.content)
                json.dumps(body, ensure_ascii=False).encode()
                return body
            return decode(response.content)
        except RecursionError:
            raise PayloadError(f"{where}: the JSON is nested too deeply to read") from None
        except UnicodeEncodeError:
            raise PayloadError(
                f"{where}: the JSON has a lone surrogate escape (like \\ud800), which is not text"
            ) from None
        except ValueError:
            kind = response.headers.get("Content-Type") or "no content type"
            sample = self._clean(snippet(response.content, 80)) or "empty body"
            message = f"{where}: {response.status_code} response is not JSON ({kind}): {sample}"
            raise PayloadError(message) from None

    def _undecoded(self, response: requests.Response, where: str, digest: str) -> Listing:
        return Listing(digest, decode=lambda: [self._page(response, where)])

    def _page(self, response: requests.Response, where: str) -> Any:
        """One list page: a JSON object, or an array for a kind that lists bare arrays."""
        items = self.profile.items
        body = self._decode(response, where, lambda content: decode_page(content, items))
        if not isinstance(body, list if items is None else dict):
            expected = "a JSON array" if items is None else "a JSON object"
            raise PayloadError(f"{where}: expected {expected}, got {json_kind(body)}")
        return body

    def _object(self, response: requests.Response, where: str) -> dict[str, Any]:
        body = self._decode(response, where)
        if not isinstance(body, dict):
            raise PayloadError(f"{where}: expected a JSON object, got {json_kind(body)}")
        return body

    def _wait(self, state: RetryCallState) -> float:
        """The server's Retry-After when it sent one (already capped), else jittered backoff."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.wait is not None:
            wait = exc.wait
        else:
            wait = min(float(self._backoff(state)), self._http.backoff_max)
        if self._deadline_at is not None:  # no wait beyond the deadline: it fails there
            wait = min(wait, max(0.0, self._deadline_at - time.monotonic()))
        return wait

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        # INFO, not a warning: the sync's own error line says what failed in the end, and
        # a closed port would otherwise print a line per attempt first (``-v`` shows them).
        log.info(
            "%s; retry %d of %d in %.2f s", exc, state.attempt_number, self._http.max_retries, wait
        )

    def _clean(self, text: str) -> str:
        """Provider text with the key, and anything shaped like one, masked; every configured
        secret, the values of the query strings requested (a key may travel as ``?key=``),
        any URL's query string and password by ``***``; control and bidirectional
        characters by spaces."""
        secrets = (*self._secrets, *self._shared)
        return printable(scrub(mask(text, self._key, self.profile), secrets))


def _give_up(state: RetryCallState) -> NoReturn:
    """Raise the last attempt's public error, saying how many attempts were made."""
    exc = state.outcome.exception() if state.outcome else None
    if not isinstance(exc, _Transient):  # pragma: no cover - only _Transient is retried
        raise RuntimeError("retry stopped without a transient error")
    error, attempts = exc.error, state.attempt_number
    message = f"{error} (gave up after {attempts} attempts)" if attempts > 1 else str(error)
    if isinstance(error, HTTPStatusError):
        raise HTTPStatusError(message, status=error.status, code=error.code) from None
    raise type(error)(message) from None


def _keeping(url: str, query: Mapping[str, str]) -> str:
    """``url`` with each of the list's own parameters it lacks: OpenRouter's ``links.next``
    leaves ``output_modalities=all`` out, and without it the rest of the list is read short."""
    parts = urlsplit(url)
    present = {name for name, _ in parse_qsl(parts.query, keep_blank_values=True)}
    missing = {name: value for name, value in query.items() if name not in present}
    if not missing:
        return url
    return urlunsplit(
        parts._replace(query="&".join(filter(None, [parts.query, urlencode(missing)])))
    )


def _direct() -> dict[str, str | None]:
    """Proxies that take nothing: each one the environment names, set to None, which
    requests reads as "no proxy" for that scheme."""
    return dict.fromkeys({*getproxies(), "http", "https", "all"})


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise PayloadError(f"{snippet(url, 120)} has an invalid port") from None
    return parts.scheme, parts.hostname or "", port or {"http": 80, "https": 443}.get(parts.scheme)


def _error_body(response: requests.Response, profile: Profile) -> ErrorInfo:
    """The provider's own words about an error, from whatever it sent, on one line."""
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    info = profile.read_error(body) or ErrorInfo(None)
    message = info.message
    if not isinstance(message, str) or not message.strip():
        message = snippet(response.content, 200) or "empty body"
    return dataclasses.replace(info, message=snippet(message, 500))


def _retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the server asked us to wait: ``retry-after-ms`` first, then ``Retry-After``."""
    headers = {name.lower(): value for name, value in headers.items()}
    try:
        millis = float(headers.get("retry-after-ms", ""))
        if 0 <= millis < float("inf"):
            return millis / 1000
    except ValueError:
        pass
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
        return seconds if 0 <= seconds < float("inf") else None
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now) if when.tzinfo else None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps, outermost first, at most 12 deep: urllib3 keeps the cause
    in ``reason`` or in its arguments, Python in ``__cause__`` or ``__context__``."""
    current: BaseException | None = exc
    for _ in range(12):
        if current is None:
            return
        yield current
        inner = getattr(current, "reason", None)
        if not isinstance(inner, BaseException):
            inner = next((a for a in current.args if isinstance(a, BaseException)), None)
        current = inner or current.__cause__ or current.__context__


def _unresolved(exc: BaseException) -> bool:
    """Whether a connection failed because the host name did not resolve."""
    return any(isinstance(cause, socket.gaierror) for cause in _causes(exc))


def _reason(exc: BaseException) -> str:
    """The innermost cause of a connection failure ("Connection refused"), never the request."""
    last = exc
    for cause in _causes(exc):
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
        last = cause
    return str(last) or type(last).__name__


def _phrase(response: requests.Response) -> str:
    try:
        return HTTPStatus(response.status_code).phrase
    except ValueError:
        return snippet(response.reason or "", 40)


def _wait_at_most(response: requests.Response, seconds: float) -> None:
    """Let the next read of ``response``'s body wait at most ``seconds`` (its socket's
    timeout), so that a read cannot outlast the deadline."""
    sock = getattr(getattr(response.raw, "connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 0.001))


def _size(value: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if value >= scale:
            return f"{value / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{value} B"


def _seconds(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.3f}".rstrip("0").rstrip(".")
