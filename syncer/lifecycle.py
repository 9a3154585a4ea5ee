"""A model's effective lifecycle: the one rule that decides it (pure).

Three inputs say when a model goes away: the provider's own list (a shutdown date, a named
replacement, a lifecycle status), and the dates people import (``syncer deprecations
import``: ids or globs per source). ``decide`` turns them into what is in force, and
syncer stores the result on the model's row (``model_state.effective_shutdown_at`` and its
neighbours) whenever a sync or an import changes an input, so every output, plain SQL
included, reads the same answer and none decides it again.

The rule: the provider's date wins wherever it gives one; otherwise the most specific
imported entry's (an exact id beats a glob, a longer glob a shorter one, then the same for
the source). The provider's named replacement wins over an imported one, which is still
in force where the provider names none. The status is the provider's own. No database
here: ``syncer.db.lifecycle`` loads the inputs and writes the decisions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

__all__ = [
    "ENDING",
    "PROVIDER",
    "Deprecation",
    "Lifecycle",
    "Matcher",
    "changed_by",
    "decide",
    "is_ending",
    "is_glob",
    "match",
]

#: ``Lifecycle.origin`` of a date the provider's own list gives.
PROVIDER = "provider"
#: Statuses that say a model is going or gone, with or without a date: ``syncer
#: deprecations`` lists a model with one of them even when no date is known. Each is a value
#: a provider publishes, lower-cased as stored: Cohere's ``is_deprecated: true``
#: (``deprecated``), Groq's ``active: false`` (``inactive``), a Mistral fine-tune's
#: ``archived: true`` (``archived``), and Azure's ``Deprecating``, ``Deprecated`` and
#: ``Legacy``. Azure classic's list (``azureopenai.json`` 2024-10-21, ``LifeCycleStatus``)
#: enumerates only ``preview`` and ``generally-available`` but is an open enum
#: (``modelAsString``); the same models' status in Azure's management API
#: (Azure/azure-rest-api-specs ``specification/cognitiveservices/CognitiveServices.Management/
#: models.tsp`` @ 2229e24da68ad534a5d0e1e9618323385a3d60bc, ``ModelLifecycleStatus``) adds
#: ``Deprecating`` (existing deployments only), ``Deprecated`` (retired: inference answers
#: 410) and ``Legacy`` (migrate), beside ``Stable``, ``Preview`` and ``GenerallyAvailable``,
#: which are not ending.
ENDING = frozenset({"deprecated", "deprecating", "inactive", "archived", "legacy"})
_GLOB = frozenset("*?[")


def is_ending(status: str | None) -> bool:
    """Whether a stored status says the model is going: every output that shows a model
    deprecated without a date asks this (or, in SQL, ``status IN ENDING``)."""
    return status in ENDING


def is_glob(pattern: str) -> bool:
    return bool(_GLOB & set(pattern))


@dataclass(frozen=True, slots=True)
class Deprecation:
    """A shutdown date for the models ``model`` (an id or a glob) of the sources ``source``."""

    model: str
    shutdown_at: datetime
    replacement: str | None = None
    source: str = "*"
    #: The page the date is taken from (LiteLLM's ``deprecation_source``), when it says.
    source_url: str | None = None
    #: Where it was imported from: the file (as named on the command line) or the URL.
    origin: str | None = None


def _specificity(entry: Deprecation) -> tuple[bool, int, bool, int, str, str]:
    """Exact ids beat globs, longer globs beat shorter ones, then the same for sources."""
    return (
        not is_glob(entry.model),
        len(entry.model),
        not is_glob(entry.source),
        len(entry.source),
        entry.model,
        entry.source,
    )


class Matcher:
    """``match`` over many models: exact ids are looked up, only globs are tried in turn.

    LiteLLM's map gives a source hundreds of exact ids; trying each against each of a
    large inventory's models would cost minutes.
    """

    def __init__(self, entries: Iterable[Deprecation]) -> None:
        self._exact: dict[str, list[Deprecation]] = {}
        self._globs: list[Deprecation] = []
        for entry in entries:
            if is_glob(entry.model):
                self._globs.append(entry)
            else:
                self._exact.setdefault(entry.model, []).append(entry)

    def __bool__(self) -> bool:
        return bool(self._exact or self._globs)

    def match(self, source: str, model_id: str) -> Deprecation | None:
        """The most specific entry for one model, if any."""
        found = [
            e
            for e in (*self._exact.get(model_id, ()), *self._globs)
            if fnmatchcase(source, e.source) and fnmatchcase(model_id, e.model)
        ]
        return max(found, key=_specificity, default=None)


def match(entries: Iterable[Deprecation], source: str, model_id: str) -> Deprecation | None:
    """The most specific entry for one model, if any."""
    return Matcher(entries).match(source, model_id)


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """What is in force for one model; every output reads this, as stored."""

    #: The shutdown date in force, or None.
    shutdown_at: datetime | None = None
    #: ``provider`` or ``imported``; None without a date.
    date_source: str | None = None
    #: ``provider``, or where the imported date came from (its file or URL).
    origin: str | None = None
    #: The page an imported date cites (None for the provider's own date).
    source_url: str | None = None
    #: The replacement in force: the provider's, else an imported entry's.
    replacement: str | None = None
    #: The provider's lifecycle status (``deprecated``, ``preview``, ``inactive``, ...).
    status: str | None = None


def decide(
    provider_date: datetime | None,
    provider_replacement: str | None,
    provider_status: str | None,
    entry: Deprecation | None,
) -> Lifecycle:
    """The lifecycle in force, from the provider's own facts and the matching import."""
    replacement = provider_replacement or (entry.replacement if entry else None)
    if provider_date is not None:
        return Lifecycle(provider_date, "provider", PROVIDER, None, replacement, provider_status)
    if entry is not None:
        return Lifecycle(
            entry.shutdown_at,
            "imported",
            entry.origin,
            entry.source_url,
            replacement,
            provider_status,
        )
    return Lifecycle(None, None, None, None, replacement, provider_status)


def changed_by(kind: str, details: Mapping[str, Any] | None) -> str | None:
    """Who moved a model's date or status, for a ``shutdown_changed`` or ``status_changed``
    event: ``provider`` (its list), or ``import of FILE`` (the import and its origin).
    None for events of other kinds."""
    if kind not in ("shutdown_changed", "status_changed"):
        return None
    details = details or {}
    if details.get("date_source") == "imported":
        return f"import of {details.get('origin') or 'unknown'}"
    return PROVIDER
