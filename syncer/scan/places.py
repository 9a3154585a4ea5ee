"""Where each model is in use, as the latest recorded scans found it (pure).

``usages.latest_usages`` reads the rows; ``InUse`` answers for a model id however a
provider or the code writes it: both sides are keyed by ``matcher.normalise``, the key the
scan itself looks ids up by, so a use written ``openai/gpt-4o`` counts for the model
``gpt-4o`` of an OpenAI source and for ``openai/gpt-4o`` of an OpenRouter one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from syncer.scan.matcher import normalise

__all__ = ["InUse", "Place"]


@dataclass(frozen=True, slots=True, order=True)
class Place:
    """One use of a model id: a line of a file of a repository."""

    repository: str
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.repository}:{self.path}:{self.line}"


class InUse:
    """The uses of every model, looked up by any written form of its id.

    Built from ``(place, model_id)`` pairs. ``recorded`` says whether any scan found any
    use at all: without one, nothing is known to be in use (and nothing is known not to be).
    """

    def __init__(self, uses: Iterable[tuple[Place, str]] = ()) -> None:
        self._places: dict[str, list[Place]] = {}
        for place, model_id in uses:
            self._places.setdefault(normalise(model_id), []).append(place)

    @property
    def recorded(self) -> bool:
        return bool(self._places)

    def places(self, model_id: str) -> tuple[Place, ...]:
        """Where ``model_id`` is used, in order, each place once."""
        return tuple(sorted(set(self._places.get(normalise(model_id), ()))))
