"""Which stale fine-tuned models a retention rule deletes, and why every other model stays.

Pure: plain records and a rule in, a plan out; no clock, no database, no HTTP. Every model
gets exactly one decision with a reason a person can check, so ``syncer retention plan``
is the same computation that ``apply`` carries out. The checks run from the hardest
guarantee to the softest: a model that is not a listed fine-tune of someone other than the
provider is never a candidate, whatever the rule says. What a fine-tune, its family and
the provider's own owners are is the provider kind's (``FineTunes`` of its profile).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

from syncer.config.model import RetentionRule
from syncer.providers.openai import PROFILE as OPENAI
from syncer.providers.profile import Family, FineTunes
from syncer.timeutil import age_days, duration_text, format_duration

__all__ = [
    "PLAN_COLUMNS",
    "Decision",
    "Family",
    "RetentionModel",
    "RetentionPlan",
    "describe_rule",
    "include_matches",
    "plan_retention",
    "rule_details",
]

PLAN_COLUMNS = ("source", "model_id", "action", "age_days", "owned_by", "family", "reason")


@dataclass(frozen=True)
class RetentionModel:
    """What the planner needs to know about one stored model."""

    model_id: str
    owned_by: str | None
    created_at: datetime | None
    first_seen_at: datetime
    #: Listed by the latest successful sync (not merely still marked present).
    listed: bool = True

    @property
    def born(self) -> datetime:
        """The age reference: ``created`` when the provider gave it, else first sight."""
        return self.created_at or self.first_seen_at


@dataclass(frozen=True)
class Decision:
    model: RetentionModel
    delete: bool
    reason: str
    age: timedelta
    family: Family | None

    @property
    def action(self) -> str:
        return "delete" if self.delete else "keep"


@dataclass(frozen=True)
class RetentionPlan:
    """Every model's decision: deletions first, oldest first (the order ``apply`` uses)."""

    rule: RetentionRule
    now: datetime
    decisions: tuple[Decision, ...]
    #: The source kind's rules, which said what a fine-tune is.
    fine_tunes: FineTunes = field(default=OPENAI.fine_tunes, repr=False, compare=False)

    def is_fine_tune(self, model_id: str) -> bool:
        return self.fine_tunes.is_fine_tuned(model_id, {})

    @property
    def deletions(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if d.delete)

    @property
    def kept(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if not d.delete)

    def summary(self, source: str) -> str:
        """One line: how many go, how many fine-tunes stay, how many models never could go."""
        others = sum(not self.is_fine_tune(d.model.model_id) for d in self.decisions)
        return (
            f"{source}: {len(self.deletions)} to delete, {len(self.kept) - others} fine-tunes "
            f"kept, {others} non-fine-tunes ignored; rule: {describe_rule(self.rule)}"
        )

    def rows(self, source: str, *, everything: bool = True) -> list[dict[str, Any]]:
        """One row per decision (per fine-tune's, unless ``everything``), by ``PLAN_COLUMNS``."""
        return [
            {
                "source": source,
                "model_id": d.model.model_id,
                "action": d.action,
                "age_days": age_days(d.age),
                "owned_by": d.model.owned_by,
                "family": None if d.family is None else str(d.family),
                "reason": d.reason,
            }
            for d in self.decisions
            if everything or self.is_fine_tune(d.model.model_id)
        ]


def rule_details(rule: RetentionRule) -> dict[str, Any]:
    """The rule as JSON, for the audit trail of each deletion."""
    return {
        "max_age": format_duration(rule.max_age),
        "include": list(rule.include),
        "owned_by": list(rule.owned_by),
        "keep": list(rule.keep),
        "keep_latest": rule.keep_latest,
        "max_deletes": rule.max_deletes,
    }


def describe_rule(rule: RetentionRule) -> str:
    """The rule on one line, as the plan's summary shows it."""
    parts = [f"max_age {format_duration(rule.max_age)}"]
    for key in ("include", "owned_by", "keep"):
        values = getattr(rule, key)
        if values:
            parts.append(f"{key} {', '.join(values)}")
    parts += [f"keep_latest {rule.keep_latest}", f"max_deletes {rule.max_deletes}"]
    return "; ".join(parts)


def plan_retention(
    models: Sequence[RetentionModel],
    rule: RetentionRule,
    now: datetime,
    fine_tunes: FineTunes = OPENAI.fine_tunes,
) -> RetentionPlan:
    """Decide for every model whether ``rule`` deletes it now, and say why.

    The rule governs a listed fine-tune that is not the provider's, has a family, and passes
    every ``include``/``owned_by`` filter the rule sets. Only governed models are ranked for
    ``keep_latest``: a model of another org (or a hostile id) in the same family can never
    take the slot of the model the rule keeps. A governed model is deleted when it matches
    no ``keep`` pattern, is not among the ``keep_latest`` newest governed models of its
    family, and is older than ``max_age``; and then only the oldest ``max_deletes`` of those,
    so the rest wait for the next run.
    """
    ordered = sorted(models, key=lambda m: m.model_id)
    families = {m.model_id: fine_tunes.family(m.model_id) for m in ordered}
    outside = {
        m.model_id: _outside_reason(m, families[m.model_id], rule, fine_tunes) for m in ordered
    }
    ranks = _family_ranks([m for m in ordered if outside[m.model_id] is None], families)
    kept: list[Decision] = []
    stale: list[tuple[Decision, str]] = []
    for model in ordered:
        family = families[model.model_id]
        age = now - model.born
        reason = outside[model.model_id]
        if reason is None:
            reason = _keep_reason(model, ranks[model.model_id], age, rule)
        if reason is not None:
            kept.append(Decision(model, False, reason, age, family))
        else:
            why = _delete_reason(model, ranks[model.model_id], age, rule, fine_tunes)
            stale.append((Decision(model, True, "", age, family), why))
    stale.sort(key=lambda item: (item[0].model.born, item[0].model.model_id))
    deletions: list[Decision] = []
    for position, (decision, why) in enumerate(stale):
        if position < rule.max_deletes:
            deletions.append(_with(decision, True, why))
        else:
            waiting = f"stale, but max_deletes ({rule.max_deletes}) is reached: next run"
            kept.append(_with(decision, False, waiting))
    kept.sort(key=lambda d: d.model.model_id)
    return RetentionPlan(rule, now, (*deletions, *kept), fine_tunes)


def include_matches(pattern: str, model_id: str, separator: str | None) -> bool:
    """Whether an ``include`` glob matches a fine-tune id, part by part.

    With a ``separator`` (the kind's, ``:``), the pattern's parts match the id's parts one
    for one, so ``*`` and ``?`` stay inside one part, and a ``*`` that ends the pattern
    matches the rest of the id: ``ft:*:acme:*`` matches ``ft:gpt-4o:acme:prod:1`` but not
    ``ft:gpt-4o:evilorg:x:acme:y:z``, whose org part is ``evilorg``. Every match is also a
    plain ``fnmatch`` of the whole id, so this only ever narrows what a pattern selects.
    """
    if separator is None:
        return fnmatchcase(model_id, pattern)
    *head, last = pattern.split(separator)
    parts = model_id.split(separator)
    if len(parts) <= len(head):
        return False
    if not all(fnmatchcase(part, glob) for part, glob in zip(parts, head, strict=False)):
        return False
    rest = parts[len(head) :]
    # ``last`` ends in ``*``: its fixed start must fit in the next part, the ``*`` takes the rest.
    return fnmatchcase(rest[0], last) and (len(rest) == 1 or last.endswith("*"))


def _with(decision: Decision, delete: bool, reason: str) -> Decision:
    return Decision(decision.model, delete, reason, decision.age, decision.family)


def _family_ranks(
    governed: Sequence[RetentionModel], families: dict[str, Family | None]
) -> dict[str, int]:
    """Each governed fine-tune's place among the governed of its family (1 = the newest)."""
    members: dict[Family | None, list[RetentionModel]] = defaultdict(list)
    for model in governed:
        members[families[model.model_id]].append(model)
    ranks: dict[str, int] = {}
    for group in members.values():
        group.sort(key=lambda m: (m.born, m.model_id), reverse=True)
        ranks.update({m.model_id: rank for rank, m in enumerate(group, start=1)})
    return ranks


def _outside_reason(
    model: RetentionModel, family: Family | None, rule: RetentionRule, fine_tunes: FineTunes
) -> str | None:
    """Why the rule does not govern this model at all, or None when it does."""
    model_id, owner = model.model_id, model.owned_by
    if not model.listed:
        return "not listed by the latest sync"
    if not fine_tunes.is_fine_tuned(model_id, {}):
        return "not a fine-tune"
    if fine_tunes.is_provider_owner(owner):
        return f"owned by the provider ({owner})"
    if family is None:
        return "fine-tune id of an unknown shape (no family)"
    if not rule.include and not rule.owned_by:
        return "the rule has no include or owned_by: nothing is deleted"
    if rule.include and _first_include(model_id, rule.include, fine_tunes) is None:
        return "matches no include pattern"
    if rule.owned_by and owner not in rule.owned_by:
        return f"owner {owner!r} is not in owned_by" if owner else "no owner, owned_by is set"
    return None


def _keep_reason(
    model: RetentionModel, rank: int, age: timedelta, rule: RetentionRule
) -> str | None:
    """Why the rule keeps a model it governs, or None when it is stale and may go."""
    # ``keep`` matches the whole id as text (``*`` crosses ``:``): wider only keeps more.
    pattern = next((p for p in rule.keep if fnmatchcase(model.model_id, p)), None)
    if pattern is not None:
        return f"matches keep pattern {pattern!r}"
    if rank <= rule.keep_latest:
        return f"#{rank} newest of its family (keep_latest {rule.keep_latest})"
    if age <= rule.max_age:
        return f"{_days(age)} old, not older than max_age {format_duration(rule.max_age)}"
    return None


def _delete_reason(
    model: RetentionModel, rank: int, age: timedelta, rule: RetentionRule, fine_tunes: FineTunes
) -> str:
    """Short enough for a table cell: the age first, then what made it a candidate."""
    parts = [
        f"{_days(age)} old > max_age {format_duration(rule.max_age)}",
        f"#{rank} newest of its family",
    ]
    if rule.include:
        parts.append(f"include {_first_include(model.model_id, rule.include, fine_tunes)!r}")
    if rule.owned_by:
        parts.append(f"owner {model.owned_by!r} in owned_by")
    return "; ".join(parts)


def _first_include(model_id: str, patterns: Sequence[str], fine_tunes: FineTunes) -> str | None:
    separator = fine_tunes.part_separator
    return next((p for p in patterns if include_matches(p, model_id, separator)), None)


def _days(age: timedelta) -> str:
    """An age as the plan's reasons say it: whole days (``timeutil.age_days``, the
    ``age_days`` column's number), and under a day its hours and minutes."""
    days = age_days(age)
    if days < 1:
        return duration_text(timedelta(minutes=age // timedelta(minutes=1)))
    return "1 day" if days == 1 else f"{days} days"
