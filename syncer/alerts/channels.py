"""Is a channel's URL the right kind of URL? (pure: ``syncer doctor`` asks before sending).

A variable holding ``not-a-url`` used to pass every check and fail only at delivery, an
hour of backoff later. The answers never quote the URL: it is the secret.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

__all__ = ["SLACK_HOSTS", "apprise_reads", "is_loopback", "url_problem"]

#: Where Slack's incoming webhooks live (the second is Slack's GovSlack).
SLACK_HOSTS = ("hooks.slack.com", "hooks.slack-gov.com")


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address: plain http cannot leave the machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(kind: str, url: str, reads: Callable[[str], bool] | None = None) -> str | None:
    """What is wrong with ``url`` as a ``kind`` channel's URL, or None if it looks right.

    Webhooks need https, or http to this machine (a local relay, a test receiver); Slack
    needs its webhook host (or a loopback relay); Apprise needs a URL Apprise can read,
    which ``reads`` says (``apprise_reads``), so this module does not import Apprise.
    """
    if kind == "apprise":
        scheme = url.split("://", 1)[0] if "://" in url else ""
        if not scheme:
            return "is not an Apprise URL (it has no scheme, such as json:// or mailto://)"
        if reads is not None and not reads(url):
            return f"is not a URL Apprise can read (scheme {scheme[:20]}://)"
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https") or not host:
        return "is not an http(s) URL"
    local = is_loopback(host)
    if parts.scheme == "http" and not local:
        return "is plain http to another machine: use https (http is accepted on loopback only)"
    if kind == "slack" and not local and host not in SLACK_HOSTS:
        return f"is not a Slack incoming webhook (expected https://{SLACK_HOSTS[0]}/services/...)"
    return None


def apprise_reads(url: str) -> bool:
    """Whether Apprise knows the URL's scheme and can read the URL (nothing is sent).

    Apprise logs the URLs it cannot read, so its logger is off for the look.
    """
    import apprise

    logger = logging.getLogger("apprise")
    disabled, logger.disabled = logger.disabled, True
    try:
        return apprise.Apprise.instantiate(url, suppress_exceptions=True) is not None
    finally:
        logger.disabled = disabled
