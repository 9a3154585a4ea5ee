"""Pruning the outbox: delivered alerts past their keep, and countdown marks nobody needs.

The outbox would otherwise grow by every alert ever sent. A delivered alert is done with
once receivers had time to look it up by id, so after ``[outbox] keep_delivered`` it goes,
and ``alert_pruned`` counts it, so the delivered total in ``/metrics`` never goes down.
Pending, held and failed alerts are never pruned; alerts a digest covered go after the same
keep. Each sync already forgets the countdown marks
(``alert_marks``) of its source that no longer apply (a moved date, a model gone); what no
sync ever visits again are the marks of a rule or a source no longer configured, so those
go once they are older than the keep.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, delete, func, or_, select

from syncer.db.engine import write_session
from syncer.db.schema import AlertMark, AlertPruned, OutboxAlert
from syncer.db.upsert import insert_for

__all__ = ["Pruned", "prune_outbox"]


@dataclass(frozen=True)
class Pruned:
    alerts: int
    marks: int

    def summary(self) -> str:
        return f"outbox: {self.alerts} delivered alert(s) and {self.marks} mark(s) pruned"


def prune_outbox(
    engine: Engine,
    keep: timedelta,
    now: datetime,
    rules: Collection[str],
    sources: Collection[str],
) -> Pruned:
    """Prune in one transaction, so the count and the deletion agree. ``rules`` and
    ``sources`` are the names configured now: their marks stay."""
    cutoff = now - keep
    done = and_(OutboxAlert.status == "delivered", OutboxAlert.delivered_at < cutoff)
    orphan = or_(AlertMark.rule.not_in(list(rules)), AlertMark.source.not_in(list(sources)))
    # Covered by a digest (itself pruned once delivered and old): no longer needed either.
    digested = and_(OutboxAlert.status == "digested", OutboxAlert.created_at < cutoff)
    with write_session(engine) as session, session.begin():
        counts = session.execute(
            select(OutboxAlert.rule, func.count()).where(done).group_by(OutboxAlert.rule)
        ).all()
        if counts:
            values = insert_for(engine.dialect.name)(AlertPruned).values(
                [{"rule": rule, "delivered": count} for rule, count in counts]
            )
            session.execute(
                values.on_conflict_do_update(
                    index_elements=["rule"],
                    set_={"delivered": AlertPruned.delivered + values.excluded.delivered},
                )
            )
            session.execute(delete(OutboxAlert).where(done))
        session.execute(delete(OutboxAlert).where(digested))
        marks = session.execute(
            delete(AlertMark).where(AlertMark.marked_at < cutoff, orphan)
        ).rowcount  # type: ignore[attr-defined]
    return Pruned(sum(count for _, count in counts), int(marks or 0))
