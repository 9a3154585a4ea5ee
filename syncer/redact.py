"""Keeping secrets and terminal controls out of text: channel URLs, the secret parameters of
any URL's query string, and the characters a terminal acts on.

A Slack or Discord webhook's path is its secret, and a key often travels as ``?key=``. Text
that could carry one (a receiver's error page, a provider's answer, a log line) goes
through ``scrub`` before it is stored, printed or logged. In a query string, the value of
each parameter whose name looks secret (``key``, ``token``, ``api_key``, ``sig``, ...) is
masked, and a value without a name; the others (``after``, ``pageToken``, ``api-version``)
stay, so a message still says which page failed. A configured credential is masked by its
value besides, whatever its parameter is called. The ``Redactor`` does it for
every log record, syncer's and its libraries' alike, and drops urllib3's request lines,
which quote the path and the query of every request.

Text from outside (a provider's answer, an import file, a receiver's error page) may also
carry control characters (``ESC [2J`` clears a screen) and bidirectional overrides (U+202E
shows text reversed): ``printable`` replaces them before such text is shown or stored, and
the ``Redactor`` does it for every log line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, unquote, unquote_plus, urlsplit, urlunsplit

__all__ = [
    "CONTROL",
    "MASK",
    "Redactor",
    "SecretIndex",
    "credential_secrets",
    "header_secrets",
    "printable",
    "scrub",
    "secret_parameter",
    "shown_url",
    "url_secrets",
]

MASK = "***"
#: Unicode category Cc, all of it (C0, DEL, C1): one regex search, not a lookup per character.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
#: The controls, and the bidirectional marks, embeddings, overrides and isolates that make a
#: terminal show characters in another order than they are written ("Trojan Source").
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: A URL's query string, wherever a URL appears in text (punctuation after it is kept).
_QUERY = re.compile(
    r"(\b[a-z][a-z0-9+.-]*://[^\s?#\"'<>]*)\?([^\s#\"'<>]*?)(?=[:;,.)\]]*(?:[\s\"'<>#]|$))",
    re.IGNORECASE,
)
#: A query parameter whose value is a credential, by how its name ends (``-`` read as ``_``,
#: case ignored): ``key``, ``api_key``, ``subscription-key``, ``token``, ``access_token``,
#: ``sig``, ``signature``, ``X-Amz-Credential``, ``client_secret``, ``password``, ...
_SECRET_PARAMETER = re.compile(
    r"(key|token|secret|sig|signature|password|passwd|pwd|credentials?|auth|authorization|"
    r"jwt|session|code)$"
)
#: ... unless it names a place in a listing: ``pageToken``, ``next_page_token``, ``cursor``.
_PAGING_PARAMETER = re.compile(r"page|next|continuation|cursor")
#: A URL's user name and password (``scheme://user:password@``), wherever a URL appears in text.
_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://)([^\s/?#@\"'<>]*)@", re.IGNORECASE)
#: A path segment or query value shorter than this is a word, not a token.
_SHORTEST_SECRET = 6
#: A configured credential shorter than this is masked where it stands (in a URL), but not
#: searched for in free text, where it would mask parts of ordinary words.
_SHORTEST_CREDENTIAL = 4
#: How urllib3 logs each request: ``http://host:port "POST /path?query HTTP/1.1" 200 2``.
_URLLIB3_REQUEST_LINE = '%s://%s:%s "%s %s %s" %s %s'


def secret_parameter(name: str) -> bool:
    """Whether a query parameter called ``name`` (as written, encoded or not) carries a
    credential, so its value is never shown."""
    normal = unquote_plus(name).strip().lower().replace("-", "_")
    return bool(_SECRET_PARAMETER.search(normal)) and not _PAGING_PARAMETER.search(normal)


def _shown_query(query: str) -> str:
    """A query string as written, with the value of each secret parameter, and each value
    without a name, masked."""
    shown = []
    for pair in query.split("&"):
        name, equals, _ = pair.partition("=")
        if not equals:
            shown.append(MASK if pair else pair)
        else:
            shown.append(f"{name}={MASK}" if secret_parameter(name) else pair)
    return "&".join(shown)


def shown_url(url: str) -> str:
    """``url`` as it may appear in a message: its password (or a user name without one,
    which is then the token) and its query's secret values masked."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at and not parts.query:
        return url
    if at:
        parts = parts._replace(netloc=f"{_shown_userinfo(userinfo)}@{host}")
    return urlunsplit(parts._replace(query=_shown_query(parts.query)))


def _shown_userinfo(userinfo: str) -> str:
    name, colon, _ = userinfo.partition(":")
    return f"{name}:{MASK}" if colon else MASK


def credential_secrets(url: str | None, *, query: bool = True) -> list[str]:
    """What of a URL's credentials must never be quoted: its password (or a user name without
    one), and with ``query`` each query value (a key often travels as ``?key=``), as written
    and decoded."""
    if not url:
        return []
    parts = urlsplit(url)
    userinfo, at, _ = parts.netloc.rpartition("@")
    found: set[str] = set()
    if at:
        name, colon, password = userinfo.partition(":")
        found.update({password, unquote(password)} if colon else {name, unquote(name)})
    if query:
        for pair in parts.query.split("&"):
            value = pair.partition("=")[2]
            found.update({value, unquote_plus(value)})
    return sorted((s for s in found if len(s) >= _SHORTEST_CREDENTIAL), key=len, reverse=True)


def url_secrets(url: str | None) -> list[str]:
    """What of a secret URL must never be quoted: the URL, its path, each longer path
    segment and query value, and the password; longest first."""
    if not url:
        return []
    parts = urlsplit(url)
    found = {url, parts.path, f"{parts.path}?{parts.query}", parts.password or ""}
    found.update(s for s in parts.path.split("/") if len(s) >= _SHORTEST_SECRET)
    found.update(v for _, v in parse_qsl(parts.query) if len(v) >= _SHORTEST_SECRET)
    found.discard("")
    found.discard("/")
    return sorted(found, key=len, reverse=True)


def printable(text: str) -> str:
    """``text`` with each control and bidirectional formatting character replaced by a space:
    outside text as it may reach a terminal, a table, a log line or a stored message."""
    return _UNPRINTABLE.sub(" ", text)


def header_secrets(headers: Mapping[str, str]) -> list[str]:
    """What of configured header values must never be quoted: each value, and its last word
    (the token of ``Bearer TOKEN``)."""
    found = {part for value in headers.values() for part in (value, *value.split()[-1:])}
    return sorted((s for s in found if len(s) >= _SHORTEST_CREDENTIAL), key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with each secret, every URL's password and the secret values of every
    URL's query string replaced by ``***``."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    text = _USERINFO.sub(lambda m: f"{m[1]}{_shown_userinfo(m[2])}@", text)
    return _QUERY.sub(lambda m: f"{m[1]}?{_shown_query(m[2])}", text)


class SecretIndex:
    """Many secrets, found in a text at the cost of its length, not of their number.

    ``syncer run`` with 10,000 sources logs a line per sync, and each line was searched for
    each of their 10,000 keys: 100 million searches an interval. Here each secret is filed
    under its last ``_KEY`` characters (keys share their first ones: ``sk-proj-``), and a
    text is looked up once per position; the few shorter secrets are searched for as before.
    """

    _KEY = _SHORTEST_CREDENTIAL

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self._by_end: dict[str, list[str]] = {}
        self._short: list[str] = []

    def add(self, secrets: Iterable[str]) -> None:
        for secret in secrets:
            if not secret or secret in self.secrets:
                continue
            self.secrets.add(secret)
            if len(secret) < self._KEY:
                self._short.append(secret)
            else:
                self._by_end.setdefault(secret[-self._KEY :], []).append(secret)

    def found_in(self, text: str) -> set[str]:
        """The secrets that occur in ``text``."""
        found = {secret for secret in self._short if secret in text}
        by_end, size = self._by_end, self._KEY
        for end in range(size, len(text) + 1):
            bucket = by_end.get(text[end - size : end])
            if bucket is not None:
                found.update(s for s in bucket if text.endswith(s, 0, end))
        return found


class Redactor(logging.Filter):
    """A handler filter: every record's message scrubbed of the secrets it was told about."""

    def __init__(self) -> None:
        super().__init__()
        self._index = SecretIndex()

    def add(self, secrets: Iterable[str]) -> None:
        self._index.add(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("urllib3") and record.msg == _URLLIB3_REQUEST_LINE:
            return False  # syncer logs its own line per request, without secrets
        message = record.getMessage()
        cleaned = printable(scrub(message, self._index.found_in(message)))
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
