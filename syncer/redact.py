"""Keeping secrets and terminal controls out of text: channel URLs, the query string of any
URL, and the characters a terminal acts on.

A Slack or Discord webhook's path is its secret, and a key often travels as ``?key=``. Text
that could carry one (a receiver's error page, a provider's answer, a log line) goes
through ``scrub`` before it is stored, printed or logged. The ``Redactor`` does it for
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
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit, urlunsplit

__all__ = ["CONTROL", "MASK", "Redactor", "printable", "scrub", "shown_url", "url_secrets"]

MASK = "***"
#: Unicode category Cc, all of it (C0, DEL, C1): one regex search, not a lookup per character.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
#: The controls, and the bidirectional marks, embeddings, overrides and isolates that make a
#: terminal show characters in another order than they are written ("Trojan Source").
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: A URL's query string, wherever a URL appears in text (punctuation after it is kept).
_QUERY = re.compile(
    r"(\b[a-z][a-z0-9+.-]*://[^\s?#\"'<>]*)\?[^\s#\"'<>]*?(?=[:;,.)\]]*(?:[\s\"'<>#]|$))",
    re.IGNORECASE,
)
#: A path segment or query value shorter than this is a word, not a token.
_SHORTEST_SECRET = 6
#: How urllib3 logs each request: ``http://host:port "POST /path?query HTTP/1.1" 200 2``.
_URLLIB3_REQUEST_LINE = '%s://%s:%s "%s %s %s" %s %s'


def shown_url(url: str) -> str:
    """``url`` as it may appear in a message: its query string masked."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=MASK)) if parts.query else url


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


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with each secret and every URL's query string replaced by ``***``."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return _QUERY.sub(rf"\1?{MASK}", text)


class Redactor(logging.Filter):
    """A handler filter: every record's message scrubbed of the secrets it was told about."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def add(self, secrets: Iterable[str]) -> None:
        self.secrets.update(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("urllib3") and record.msg == _URLLIB3_REQUEST_LINE:
            return False  # syncer logs its own line per request, without secrets
        message = record.getMessage()
        cleaned = printable(scrub(message, self.secrets))
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
