"""What the HTTP client needs to know of one source, and how hard it tries: plain values.

The client reads these and nothing else of the configuration, so ``providers`` sits below
``config``: ``config.Source.endpoint()`` builds an ``Endpoint``, and ``config.HTTPSettings``
is a ``RequestPolicy`` with the settings that are not the client's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from syncer.providers.profile import Profile

__all__ = ["Endpoint", "RequestPolicy"]


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    """One provider endpoint and the key to use with it, as the client sends requests to it.

    The key, the base URL (it may hold a password or a key), the headers and the secrets are
    excluded from ``repr`` so they cannot reach a log line or a traceback.
    """

    name: str
    base_url: str = field(repr=False)
    profile: Profile = field(repr=False)
    api_key: str | None = field(default=None, repr=False, compare=False)
    headers: Mapping[str, str] = field(repr=False)
    #: Sent as the profile's version parameter (Azure's ``api-version``), over its default.
    api_version: str | None
    #: The variable the key was read from: named when the provider says a key is missing.
    api_key_env: str | None = field(compare=False)
    #: A CA bundle (PEM) to trust instead of the system's.
    ca_bundle: str | None
    #: False only by an explicit ``verify_tls = false``; every sync then logs a warning.
    verify_tls: bool
    #: How long the provider may take, from the first request to the last byte.
    deadline: timedelta
    #: The most bytes of one response read (after decompression).
    max_response_size: int
    #: Every credential of the source as the provider may quote it: masked in its words.
    secrets: tuple[str, ...] = field(repr=False, compare=False)


@dataclass(frozen=True)
class RequestPolicy:
    """How hard to try before a request counts as failed."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_retries: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_cap: float = 60.0
