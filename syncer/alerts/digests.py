"""Writing digests: each due window of a digest rule becomes one outbox row, exactly once.

A digest rule's alerts wait in ``alert_outbox`` as ``held``. When a fire time of the rule's
schedule has passed, one transaction reads the held alerts written up to it, writes the
digest as a ``pending`` outbox row, marks what it covers ``digested`` and moves the rule's
``alert_digests.covered_until`` to the fire time. A crash before the commit leaves all of
it undone (the next dispatch writes the digest), after it leaves a pending digest that is
delivered like any alert: nothing is lost or written twice. The dispatch lease keeps two
replicas from composing at once, and the ``covered_until`` the transaction read must still
be there when it commits, so even without the lease one window makes one digest.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from syncer.alerts.digest import Held, compose, latest_fire, net
from syncer.config.model import AlertRule
from syncer.db.engine import write_session
from syncer.db.tables import digests_table, outbox_table
from syncer.errors import SyncerError

__all__ = ["DigestRace", "compose_due", "compose_rule", "release_held"]

log = logging.getLogger(__name__)
#: Held alerts marked per statement: well under PostgreSQL's limit of bound parameters.
_CHUNK = 5000


class DigestRace(SyncerError):
    """Another writer moved the rule's digest state since this one read it: roll back."""


def _held(session: Session, rule: str, until: datetime) -> list[tuple[int, Held]]:
    rows = session.execute(
        select(
            outbox_table.c.id,
            outbox_table.c.alert_id,
            outbox_table.c.created_at,
            outbox_table.c.payload,
        )
        .where(
            outbox_table.c.rule == rule,
            outbox_table.c.status == "held",
            outbox_table.c.created_at <= until,
        )
        .order_by(outbox_table.c.id)
    )
    return [
        (row_id, Held(alert_id, created, payload)) for row_id, alert_id, created, payload in rows
    ]


def compose_rule(
    session: Session, rule: AlertRule, now: datetime, report_url: str | None = None
) -> str | None:
    """In the caller's transaction: write the rule's digest if a fire time has passed.

    Returns the digest's ``alert_id``, or None (nothing due, or an empty window that is not
    sent). Raises ``DigestRace`` when another writer got there first.
    """
    assert rule.schedule is not None
    state = session.execute(
        select(digests_table.c.covered_until).where(digests_table.c.rule == rule.name)
    ).first()
    if state is None:
        # A new digest rule counts from its oldest held alert (those written before the
        # first dispatch), else from now.
        oldest = session.scalar(
            select(outbox_table.c.created_at)
            .where(outbox_table.c.rule == rule.name, outbox_table.c.status == "held")
            .order_by(outbox_table.c.id)
            .limit(1)
        )
        since = min(now, oldest - timedelta(microseconds=1)) if oldest else now
        session.execute(
            digests_table.insert().values(
                rule=rule.name,
                covered_until=since,
                last_digest_id=None,
                updated_at=now,
            )
        )
        covered: datetime | None = None
    else:
        since = covered = state[0]
    fire = latest_fire(rule.schedule, rule.timezone, since, now)
    if fire is None:
        return None
    held = _held(session, rule.name, fire)
    items = net([h for _, h in held], rule.drop_transient)
    digest_id = None
    if items or rule.send_empty:
        digest_id = str(uuid.uuid4())
        document = compose(
            rule,
            items,
            alert_id=digest_id,
            start=covered,
            end=fire,
            now=now,
            covered=[h.alert_id for _, h in held],
            report_url=report_url,
        )
        session.execute(
            outbox_table.insert().values(
                alert_id=digest_id,
                rule=rule.name,
                kind="digest",
                channel=rule.channel.kind,
                source=None,
                model_id=None,
                payload=document,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                last_error=None,
                created_at=now,
                delivered_at=None,
            )
        )
    ids = [row_id for row_id, _ in held]
    for start in range(0, len(ids), _CHUNK):
        session.execute(
            update(outbox_table)
            .where(
                outbox_table.c.id.in_(ids[start : start + _CHUNK]), outbox_table.c.status == "held"
            )
            .values(status="digested")
        )
    moved = update(digests_table).where(digests_table.c.rule == rule.name)
    if covered is not None:
        moved = moved.where(digests_table.c.covered_until == covered)
    values: dict[str, Any] = {"covered_until": fire, "updated_at": now}
    if digest_id is not None:
        values["last_digest_id"] = digest_id
    result: CursorResult[Any] = session.execute(moved.values(**values))  # type: ignore[assignment]
    if result.rowcount != 1:
        raise DigestRace(f"rule {rule.name}: another dispatcher wrote this digest")
    return digest_id


def release_held(session: Session, rules: Sequence[AlertRule]) -> int:
    """Held alerts of rules that deliver immediately now (``deliver`` was changed back):
    pending again, so they are not kept forever."""
    names = [r.name for r in rules if r.deliver != "digest"]
    if not names:
        return 0
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(outbox_table)
        .where(outbox_table.c.status == "held", outbox_table.c.rule.in_(names))
        .values(status="pending")
    )
    return result.rowcount


def compose_due(
    engine: Engine, rules: Sequence[AlertRule], now: datetime, report_url: str | None = None
) -> list[str]:
    """Write every digest that is due, one transaction per rule; their ids."""
    written = []
    with write_session(engine) as session:
        for rule in rules:
            if rule.deliver != "digest":
                continue
            try:
                with session.begin():
                    digest_id = compose_rule(session, rule, now, report_url)
            except (DigestRace, IntegrityError):
                log.info("rule %s: another dispatcher wrote this digest", rule.name)
                continue
            if digest_id is not None:
                written.append(digest_id)
    return written
