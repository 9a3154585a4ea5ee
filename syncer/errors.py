"""The one exception tree of syncer.

Every failure a user can cause or meet is a ``SyncerError``; the CLI turns it into
a one-line message and an exit code, the scheduler into a failed run and a log line.
Messages are built from data the user already has (a URL, a status, a model id):
never from a request's headers, so an API key cannot leak through an error.

    SyncerError
    ├── ConfigError            bad configuration: exit 2
    ├── ProviderError          the provider could not be reached or said no
    │   ├── InsecureURLError   a key would travel in clear text: refused before connecting
    │   ├── HTTPStatusError    an error status, with the provider's own message
    │   ├── ProviderTimeout    no connection or no answer within the connect/read timeout
    │   ├── ProviderUnreachable  the host did not resolve, refused, or dropped the connection
    │   ├── ProviderTLSError   the TLS handshake failed (most often an untrusted certificate)
    │   ├── DeadlineError      the provider took longer than the sync may wait
    │   └── PayloadError       a body that is not the documented shape
    │       └── ResponseTooLargeError   a body over max_response_size, not read further
    ├── HeldError              a sync that looked like an outage and was held
    ├── RetentionError         retention refused a source whose latest sync is not ok
    ├── SourceError            a source name that names nothing, or a rename/retire refused
    ├── StoreError             the database refused
    │   └── NoDatabaseError    a SQLite file that does not exist yet (nothing synced)
    └── DeliveryError          an alert channel did not take an alert
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DeadlineError",
    "DeliveryError",
    "HTTPStatusError",
    "HeldError",
    "InsecureURLError",
    "NoDatabaseError",
    "PayloadError",
    "ProviderError",
    "ProviderTLSError",
    "ProviderTimeout",
    "ProviderUnreachable",
    "ResponseTooLargeError",
    "RetentionError",
    "SourceError",
    "StoreError",
    "SyncerError",
    "first_line",
]


def first_line(exc: BaseException) -> str:
    """An error's own first line; for a database error, the driver's message without
    SQLAlchemy's statement dump (which could be long and carry parameter values)."""
    original = getattr(exc, "orig", None) or exc
    return (str(original).strip().splitlines() or [type(original).__name__])[0]


class SyncerError(Exception):
    """Base of every error syncer raises on purpose."""

    exit_code = 1


class ConfigError(SyncerError):
    """The configuration is invalid; names the key and the file."""

    exit_code = 2


class ProviderError(SyncerError):
    """Talking to the provider failed."""


class InsecureURLError(ProviderError):
    """The base URL would send the key over plain HTTP to a host that is not loopback."""

    exit_code = 2


class HTTPStatusError(ProviderError):
    """The provider answered with an error status."""

    def __init__(self, message: str, *, status: int, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class ProviderTimeout(ProviderError):
    """The provider did not connect or answer within ``http.connect_timeout`` or
    ``http.read_timeout``: worth another attempt."""


class ProviderUnreachable(ProviderError):
    """The provider's host could not be reached: its name did not resolve, the connection
    was refused, or it broke before the answer was whole."""


class ProviderTLSError(ProviderError):
    """The TLS handshake failed: a certificate no CA configured trusts will not trust
    itself on a retry."""


class PayloadError(ProviderError):
    """The provider's answer is not a list of models as the API documents it."""


class ResponseTooLargeError(PayloadError):
    """A response over the source's ``max_response_size``: refused before it fills memory."""


class DeadlineError(ProviderError):
    """The source's ``deadline`` passed while a sync (or retention run) was still waiting on
    the provider: a server that drips its answer is never caught by a read timeout."""


class HeldError(SyncerError):
    """A sync would have changed too much at once and was held instead."""


class RetentionError(SyncerError):
    """Retention will not act on a source: never synced, or its latest sync is not ok."""


class SourceError(SyncerError):
    """A ``--source`` that names no configured or stored source, or a rename or retirement
    of a source that would mix or lose history: refused, nothing written."""

    exit_code = 2


class StoreError(SyncerError):
    """The database could not be read or written."""


class NoDatabaseError(StoreError):
    """A read command's SQLite file does not exist yet: nothing was synced there (or the
    path has a typo). Reading creates nothing, so the message says what does."""


class DeliveryError(SyncerError):
    """An alert could not be delivered; ``permanent`` when retrying cannot help.

    The message names the channel and what went wrong, never the URL (it is a secret).
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
