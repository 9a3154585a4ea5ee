"""The recorded history the demo replays: a provider's model list at any moment (pure).

``openai-history.json`` (next to this module) describes each model once: its release day,
its owner and the shutdown dates announced for it, so the list at any moment follows from
it. A model is listed from its release day until its shutdown day. The file says where
its facts come from, and which parts are invented to show syncer's failure handling.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from typing import Any

from syncer.alerts.deprecations import Deprecation

__all__ = ["Announcement", "History", "RecordedModel", "load_history"]

DATA_FILE = "openai-history.json"


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


@dataclass(frozen=True, slots=True)
class Announcement:
    """On ``announced``, the provider said the model shuts down on ``shutdown``."""

    announced: date
    shutdown: date
    replacement: str


@dataclass(frozen=True, slots=True)
class RecordedModel:
    model_id: str
    released: date
    owned_by: str
    announcements: tuple[Announcement, ...] = ()

    def announcement(self, moment: datetime) -> Announcement | None:
        """The latest announcement made by ``moment``."""
        made = [a for a in self.announcements if _midnight(a.announced) <= moment]
        return made[-1] if made else None

    def listed(self, moment: datetime) -> bool:
        if moment < _midnight(self.released):
            return False
        announced = self.announcement(moment)
        return announced is None or moment < _midnight(announced.shutdown)

    def entry(self, moment: datetime) -> dict[str, Any]:
        """The model as the provider lists it at ``moment``."""
        listed: dict[str, Any] = {
            "id": self.model_id,
            "object": "model",
            "created": int(_midnight(self.released).timestamp()),
            "owned_by": self.owned_by,
        }
        announced = self.announcement(moment)
        if announced is not None:
            listed["shutdown_date"] = announced.shutdown.isoformat()
        return listed


@dataclass(frozen=True)
class History:
    source: str
    about: tuple[str, ...]
    start: datetime
    end: datetime
    every: timedelta
    models: tuple[RecordedModel, ...]
    outages: frozenset[datetime]
    #: (model id, from, until): moments the list (and a lookup) wrongly left a model out.
    missing: tuple[tuple[str, datetime, datetime], ...]
    retention: dict[str, Any]
    #: Moments worth asking about with ``syncer models --as-of``.
    try_at: tuple[datetime, ...]

    def listing(self, moment: datetime) -> list[dict[str, Any]] | None:
        """The provider's list at ``moment``; None during a (simulated) outage."""
        if moment in self.outages:
            return None
        gone = {m for m, start, until in self.missing if start <= moment < until}
        return [m.entry(moment) for m in self.models if m.listed(moment) and m.model_id not in gone]

    def steps(self) -> list[datetime]:
        """The sync moments: every ``every`` from the start, and each day something happened.

        Syncs run at the start's time of day, so a change on day D is seen at D's sync.
        """
        at = self.start.timetz()
        days = {m.released for m in self.models}
        days |= {d for m in self.models for a in m.announcements for d in (a.announced, a.shutdown)}
        moments = {datetime.combine(day, at) for day in days}
        moments |= set(self.outages) | {t for _, s, u in self.missing for t in (s, u)}
        moments.add(self.end)
        moment = self.start
        while moment <= self.end:
            moments.add(moment)
            moment += self.every
        return sorted(t for t in moments if self.start <= t <= self.end)

    def announced_between(self, start: datetime | None, end: datetime) -> list[Deprecation]:
        """What was announced after ``start`` (None: ever) up to ``end``, as a deprecations
        file lists it: the latest date and replacement per model."""
        latest = {}
        for m in self.models:
            for a in m.announcements:
                if (start is None or start < _midnight(a.announced)) and _midnight(
                    a.announced
                ) <= end:
                    latest[m.model_id] = a
        return [
            Deprecation(model_id, _midnight(a.shutdown), a.replacement, self.source)
            for model_id, a in latest.items()
        ]


def load_history(name: str = DATA_FILE) -> History:
    """The bundled recording."""
    data = json.loads(resources.files(__package__).joinpath(name).read_text(encoding="utf-8"))
    simulated = data.get("simulated", {})
    return History(
        source=data["source"],
        about=tuple(data["about"]),
        start=_moment(data["start"]),
        end=_moment(data["end"]),
        every=timedelta(days=data["sync_every_days"]),
        models=tuple(
            RecordedModel(
                model_id=m["id"],
                released=date.fromisoformat(m["released"]),
                owned_by=m["owned_by"],
                announcements=tuple(
                    Announcement(date.fromisoformat(a), date.fromisoformat(s), r)
                    for a, s, r in m.get("dates", ())
                ),
            )
            for m in data["models"]
        ),
        outages=frozenset(_moment(t) for t in simulated.get("outages", ())),
        missing=tuple(
            (g["model"], _moment(g["from"]), _moment(g["until"]))
            for g in simulated.get("missing", ())
        ),
        retention=data.get("retention", {}),
        try_at=tuple(_moment(t) for t in data.get("try_at", ())),
    )
