"""The alert recording a sync calls in its own transaction (``sync.run.OnSynced``).

The sync sits below the alerts, so it cannot call them; whoever starts a sync (the runtime,
the CLI, the demo) hands it this hook instead. The alert rules read through the ORM, which a
sync with no rule never imports: then there is no hook at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from syncer.config.model import AlertRule
    from syncer.sync.run import OnSynced

__all__ = ["alert_hook"]


def alert_hook(rules: Sequence[AlertRule]) -> OnSynced | None:
    """The hook that writes the alerts ``rules`` call for after a sync; None without rules."""
    if not rules:
        return None
    rules = tuple(rules)

    def record(
        connection: Connection, source: str, events: Sequence[Mapping[str, Any]], now: datetime
    ) -> None:
        from sqlalchemy.orm import Session

        from syncer.alerts.outbox import record_alerts

        with Session(bind=connection) as session:
            record_alerts(session, rules, source, events, now)
            session.flush()

    return record
