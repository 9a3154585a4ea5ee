"""Delivering the outbox: JSON webhook, Slack, Apprise; retries with backoff, in order.

An alert is delivered at least once: it is marked delivered only after the receiver said
2xx, so a crash in between sends it again, and receivers drop repeats by its stable id.
Per rule, alerts go out in the order they were written: once one fails, the rule's later
alerts wait behind it. Errors never carry a channel URL, which is a secret.

Webhook requests carry the version-1 JSON document as the body and, when the rule names a
``secret_env``, ``X-Syncer-Signature-256: sha256=<hex HMAC-SHA256 of the body>``.

A summary quotes a provider's words (a model id, a replacement), which may be hostile: Slack
gets it with ``&``, ``<`` and ``>`` escaped as Slack documents, so an id like ``<!channel>``
is text, not a mention or a link; Apprise gets it as plain text, which each service then
escapes for its own format.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from sqlalchemy import Engine, bindparam, select, update

from syncer.alerts.decide import probe_alert
from syncer.alerts.digest import quiet_until
from syncer.alerts.digests import compose_due, release_held
from syncer.config.model import DEFAULT_LEASE, AlertRule, Channel
from syncer.db import locks
from syncer.db.engine import read_session, write_session
from syncer.db.tables import outbox_table
from syncer.errors import DeliveryError
from syncer.providers.http import USER_AGENT
from syncer.redact import printable, scrub, url_secrets
from syncer.timeutil import human_time, utcnow

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_MAX",
    "MAX_ATTEMPTS",
    "SIGNATURE_HEADER",
    "Attempt",
    "DeliveryReport",
    "Dispatcher",
    "Sender",
    "attempt_outcome",
    "backoff",
    "dispatch_once",
    "send_probe",
    "sign",
    "slack_text",
]

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Syncer-Signature-256"
ID_HEADER = "X-Syncer-Alert-Id"
VERSION_HEADER = "X-Syncer-Payload-Version"
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
#: About three days of attempts at the backoff above before an alert counts as failed.
MAX_ATTEMPTS = 75
DEFAULT_BATCH = 100
TIMEOUT = (5.0, 15.0)
_RETRY_STATUSES = frozenset({408, 409, 425, 429})
#: What requests raises for a URL it cannot even try.
_INVALID_URL = (
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidURL,
)


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=`` and the hex HMAC-SHA256 of the exact body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def slack_text(text: str) -> str:
    """``text`` as Slack shows it literally: the three characters its message format
    reads as control characters escaped (``&`` first, so no escape is escaped twice)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 30 s doubling, at most an hour."""
    wait: timedelta = BACKOFF_BASE * 2 ** min(max(attempts - 1, 0), 16)
    return min(wait, BACKOFF_MAX)


@dataclass(frozen=True)
class Attempt:
    """What one attempt leaves in the outbox row."""

    id: int
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None


def attempt_outcome(
    row_id: int,
    attempts_before: int,
    error: DeliveryError | None,
    now: datetime,
    max_attempts: int = MAX_ATTEMPTS,
) -> Attempt:
    """Delivered, pending again after a backoff, or failed for good (pure)."""
    attempts = attempts_before + 1
    if error is None:
        return Attempt(row_id, "delivered", attempts, now, None, now)
    if error.permanent or attempts >= max_attempts:
        return Attempt(row_id, "failed", attempts, now, str(error), None)
    return Attempt(row_id, "pending", attempts, now + backoff(attempts), str(error), None)


def _reason(exc: requests.RequestException) -> str:
    """What went wrong on the wire, without the exception's text: it quotes the URL."""
    if isinstance(exc, requests.ConnectTimeout):
        return "timed out connecting"
    if isinstance(exc, requests.Timeout):
        return "timed out waiting for the answer"
    if isinstance(exc, requests.ConnectionError):
        return "cannot connect"
    return type(exc).__name__


class Sender:
    """Sends one document over one channel; raises ``DeliveryError`` when it did not arrive.

    ``secrets`` are every other secret configured (keys, the other channels' URLs): a
    receiver's error page that quotes one is stored and logged without it.
    """

    def __init__(
        self,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = TIMEOUT,
        *,
        secrets: Iterable[str] = (),
    ) -> None:
        self.session = session or requests.Session()
        self.timeout = timeout
        self.secrets = tuple(secrets)

    def _secrets(self, channel: Channel) -> list[str]:
        return [*url_secrets(channel.url), *self.secrets]

    def close(self) -> None:
        self.session.close()

    def send(self, channel: Channel, document: Mapping[str, Any]) -> None:
        if channel.url is None:
            raise DeliveryError(
                f"{channel.kind}: the environment variable {channel.url_env} is not set"
            )
        if channel.kind == "apprise":
            self._apprise(channel.url, document)
            return
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if channel.kind == "slack":
            body = json.dumps({"text": slack_text(_text(document))}, ensure_ascii=False).encode()
        else:
            body = json.dumps(document, ensure_ascii=False, sort_keys=True).encode()
            headers[ID_HEADER] = str(document["id"])
            headers[VERSION_HEADER] = str(document["version"])
            if channel.secret:
                headers[SIGNATURE_HEADER] = sign(channel.secret, body)
        try:
            response = self.session.post(
                channel.url,
                data=body,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except _INVALID_URL:
            raise DeliveryError(  # never quoted: the URL is the secret
                f"{channel.kind}: the URL in {channel.url_env} is not a valid http(s) URL",
                permanent=True,
            ) from None
        except requests.RequestException as exc:
            raise DeliveryError(f"{channel.kind}: {_reason(exc)}") from None
        if 200 <= response.status_code < 300:
            return
        status = response.status_code
        # An error page may quote the URL it was called with, and the URL is the secret.
        said = printable(scrub(" ".join(response.text.split()), self._secrets(channel)))[:200]
        raise DeliveryError(
            f"{channel.kind}: HTTP {status}" + (f": {said}" if said else ""),
            permanent=400 <= status < 500 and status not in _RETRY_STATUSES,
        )

    @staticmethod
    def _apprise(url: str, document: Mapping[str, Any]) -> None:
        import apprise

        notifier = apprise.Apprise()
        if not notifier.add(url):
            raise DeliveryError("apprise: not a URL Apprise understands", permanent=True)
        sent = notifier.notify(
            title=f"syncer: {document['kind']}",
            body=_text(document),
            body_format=apprise.NotifyFormat.TEXT,  # never markup: the text quotes providers
        )
        if not sent:
            raise DeliveryError("apprise: the service did not take the notification")


def _text(document: Mapping[str, Any]) -> str:
    """What a person reads: a digest's whole text, an alert's summary."""
    return str(document.get("text") or document["summary"])


def send_probe(rule: AlertRule, sender: Sender, now: datetime) -> str:
    """Send a test alert straight to a rule's channel (not through the outbox); its id."""
    alert_id = str(uuid.uuid4())
    sender.send(rule.channel, probe_alert(rule).document(alert_id, now))
    return alert_id


@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed

    def summary(self) -> str:
        return (
            f"alerts: {self.delivered} delivered, {self.retrying} to retry later, "
            f"{self.failed} failed"
        )


class Dispatcher:
    """Delivers due outbox alerts, one batch per call; safe to call from several threads.

    Its own sender scrubs what receivers say of every rule's channel secrets and of
    ``secrets`` (the sources' keys and credentials).
    """

    def __init__(
        self,
        engine: Engine,
        rules: Sequence[AlertRule],
        *,
        sender: Sender | None = None,
        now: Callable[[], datetime] = utcnow,
        batch: int = DEFAULT_BATCH,
        max_attempts: int = MAX_ATTEMPTS,
        lease: timedelta = DEFAULT_LEASE,
        report_url: str | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        self.engine = engine
        self.rules = {rule.name: rule for rule in rules}
        #: ``[http] public_url``: where a digest that leaves items out points to.
        self.report_url = report_url
        channels = [s for r in rules for s in (*url_secrets(r.channel.url), r.channel.secret) if s]
        self.sender = sender or Sender(secrets=[*channels, *secrets])
        self.now = now
        self.batch = batch
        self.max_attempts = max_attempts
        #: How long a dispatcher that died mid-delivery keeps the others waiting.
        self.lease = lease
        self._lock = threading.Lock()
        self._released = False

    def dispatch(self, *, now_all: bool = False) -> DeliveryReport:
        """Deliver what is due; ``now_all``: every pending alert, its retry time come or not
        (``syncer alerts dispatch --now``, after fixing a receiver)."""
        with self._lock, locks.exclusive(self.engine, "alerts-dispatch", self.lease) as mine:
            if not mine:
                log.info("another dispatcher is delivering alerts; skipped")
                return DeliveryReport()
            self._compose()
            return self._dispatch(now_all)

    def _compose(self) -> None:
        """Write the digests that are due (under the lease, before delivering), and once
        per dispatcher set free what rules no longer delivered as digests still hold."""
        rules = list(self.rules.values())
        if not self._released:
            with write_session(self.engine) as session, session.begin():
                release_held(session, rules)
            self._released = True
        if any(rule.deliver == "digest" for rule in rules):
            compose_due(self.engine, rules, self.now(), self.report_url)

    def _due(self, now: datetime, now_all: bool = False) -> list[Any]:
        """Pending alerts in order, each rule's only up to its first one not yet due."""
        row, head = outbox_table.alias("o"), outbox_table.alias("h")
        query = (
            select(row.c.id, row.c.rule, row.c.payload, row.c.attempts)
            .where(row.c.status == "pending")
            .order_by(row.c.id)
            .limit(self.batch)
        )
        if not now_all:
            query = query.where(
                ~select(head.c.id)
                .where(
                    head.c.rule == row.c.rule,
                    head.c.status == "pending",
                    head.c.id <= row.c.id,
                    head.c.next_attempt_at > now,
                )
                .exists()
            )
        with read_session(self.engine) as session:
            return list(session.execute(query))

    def _dispatch(self, now_all: bool) -> DeliveryReport:
        now = self.now()
        outcomes: list[Attempt] = []
        blocked: set[str] = set()
        for row_id, rule_name, payload, attempts in self._due(now, now_all):
            if rule_name in blocked or self._quiet(rule_name, payload, now):
                continue
            error = self._deliver(rule_name, payload)
            result = attempt_outcome(row_id, attempts, error, now, self.max_attempts)
            # Recorded at once: a process killed now re-sends at most the alert in flight.
            self._record([result])
            outcomes.append(result)
            if result.status == "pending":
                blocked.add(rule_name)  # later alerts of this rule wait, to keep order
                log.warning(
                    "alert %s (%s): %s; retry at %s",
                    payload["id"],
                    rule_name,
                    error,
                    human_time(result.next_attempt_at),
                )
            elif result.status == "failed":
                log.error("alert %s (%s) failed: %s", payload["id"], rule_name, error)
        report = DeliveryReport()
        for result in outcomes:
            report.delivered += result.status == "delivered"
            report.retrying += result.status == "pending"
            report.failed += result.status == "failed"
        return report

    def _quiet(self, rule_name: str, payload: Mapping[str, Any], now: datetime) -> bool:
        """In the rule's quiet hours, its alerts wait (in order) unless exempt; digests,
        which come when the rule's schedule says, do not."""
        rule = self.rules.get(rule_name)
        if rule is None or payload.get("kind") in ("digest", *rule.quiet_exempt):
            return False
        return quiet_until(rule, now) is not None

    def _deliver(self, rule_name: str, payload: Mapping[str, Any]) -> DeliveryError | None:
        rule = self.rules.get(rule_name)
        if rule is None:
            return DeliveryError(f"no alert rule named {rule_name!r} is configured")
        try:
            self.sender.send(rule.channel, payload)
        except DeliveryError as exc:
            return exc
        return None

    def _record(self, outcomes: Sequence[Attempt]) -> None:
        if not outcomes:
            return
        statement = (
            update(outbox_table)
            .where(outbox_table.c.id == bindparam("row_id"))
            .values(
                status=bindparam("new_status"),
                attempts=bindparam("new_attempts"),
                next_attempt_at=bindparam("next_at"),
                last_error=bindparam("error"),
                delivered_at=bindparam("delivered"),
            )
        )
        with write_session(self.engine) as session, session.begin():
            session.execute(
                statement,
                [
                    {
                        "row_id": o.id,
                        "new_status": o.status,
                        "new_attempts": o.attempts,
                        "next_at": o.next_attempt_at,
                        "error": o.last_error,
                        "delivered": o.delivered_at,
                    }
                    for o in outcomes
                ],
            )


def dispatch_once(
    engine: Engine,
    rules: Sequence[AlertRule],
    lease: timedelta = DEFAULT_LEASE,
    *,
    now_all: bool = False,
    report_url: str | None = None,
    secrets: Iterable[str] = (),
) -> DeliveryReport:
    """Deliver what is due now, once, over a sender of its own (``sync`` and ``apply`` do)."""
    dispatcher = Dispatcher(engine, rules, lease=lease, report_url=report_url, secrets=secrets)
    try:
        return dispatcher.dispatch(now_all=now_all)
    finally:
        dispatcher.sender.close()
