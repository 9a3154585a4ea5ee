"""The key: which headers carry it, where it may travel, and how it is kept out of text.

A credential (the key, a user name or password or query in the base URL, any configured
header) is refused over plain HTTP except to a loopback address, before any connection.
Whatever a provider echoes back (the whole key, or a part like ``sk-ab***yz``)
is masked before it reaches an error message or a log line.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

from syncer.errors import ConfigError, InsecureURLError
from syncer.providers.profile import Profile
from syncer.redact import shown_url

__all__ = ["check_transport", "credential_headers", "is_loopback", "mask"]


def credential_headers(profile: Profile, key: str | None) -> dict[str, str]:
    """The header that sends ``key`` the way ``profile`` says; none without a key."""
    if not key:
        return {}
    value = f"{profile.auth_scheme} {key}" if profile.auth_scheme else key
    return {profile.auth_header: value}


def check_transport(name: str, base_url: str, key: str | None, headers: Mapping[str, str]) -> None:
    """Refuse, before any connection, a URL that would carry a credential in clear text:
    the key, the URL's own user name, password or query (``?key=``), or any configured
    header (``headers`` are the source's, which a user sets for a reason)."""
    parts = urlsplit(base_url)
    try:
        host = parts.hostname
    except ValueError:
        host = None
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigError(f"source {name!r}: {shown_url(base_url)!r} is not an http(s) URL")
    in_url = "@" in parts.netloc or bool(parts.query)
    secret = bool(key) or bool(headers) or in_url
    if parts.scheme == "https" or not secret or is_loopback(host):
        return
    what = "the API key" if key else "credentials" if in_url else "the configured headers"
    raise InsecureURLError(
        f"source {name!r}: refusing to send {what} in clear text to "
        f"{shown_url(base_url)}; use https (plain http is allowed only to localhost)"
    )


def is_loopback(host: str) -> bool:
    if host.rstrip(".").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mask(text: str, key: str | None, profile: Profile) -> str:
    """``text`` with the key, and anything shaped like one of the kind's keys, masked."""
    if key:
        text = text.replace(key, profile.key_mask)
    if profile.key_pattern is not None:
        text = profile.key_pattern.sub(profile.key_mask, text)
    return text
