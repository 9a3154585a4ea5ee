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
from syncer.timeutil import format_duration

__all__ = [
    "PLAN_COLUMNS",
    "Decision",
    "Family",
    "RetentionModel",
    "RetentionPlan",
    "describe_rule",
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
                "age_days": round(d.age / timedelta(days=1), 1),
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

    A model is deleted only when it is a listed fine-tune, not the provider's, matches every
    ``include``/``owned_by`` filter the rule sets, matches no ``keep`` pattern, is not among
    the ``keep_latest`` newest of its family, and is older than ``max_age``; and then only
    the oldest ``max_deletes`` of those, so the rest wait for the next run.
    """
    ordered = sorted(models, key=lambda m: m.model_id)
    families = {m.model_id: fine_tunes.family(m.model_id) for m in ordered}
    ranks = _family_ranks(ordered, families, fine_tunes)
    kept: list[Decision] = []
    stale: list[tuple[Decision, str]] = []
    for model in ordered:
        family = families[model.model_id]
        age = now - model.born
        reason = _keep_reason(model, family, ranks.get(model.model_id), age, rule, fine_tunes)
        if reason is not None:
            kept.append(Decision(model, False, reason, age, family))
        else:
            why = _delete_reason(model, ranks[model.model_id], age, rule)
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


def _with(decision: Decision, delete: bool, reason: str) -> Decision:
    return Decision(decision.model, delete, reason, decision.age, decision.family)


def _family_ranks(
    models: Sequence[RetentionModel], families: dict[str, Family | None], fine_tunes: FineTunes
) -> dict[str, int]:
    """Each listed fine-tune's place in its family, newest first (1 = the newest)."""
    members: dict[Family, list[RetentionModel]] = defaultdict(list)
    for model in models:
        family = families[model.model_id]
        if family is not None and model.listed and fine_tunes.is_fine_tuned(model.model_id, {}):
            members[family].append(model)
    ranks: dict[str, int] = {}
    for group in members.values():
        group.sort(key=lambda m: (m.born, m.model_id), reverse=True)
        ranks.update({m.model_id: rank for rank, m in enumerate(group, start=1)})
    return ranks


def _keep_reason(
    model: RetentionModel,
    family: Family | None,
    rank: int | None,
    age: timedelta,
    rule: RetentionRule,
    fine_tunes: FineTunes,
) -> str | None:
    """Why the rule keeps this model, or None when it is stale and may go."""
    model_id, owner = model.model_id, model.owned_by
    if not model.listed:
        return "not listed by the latest sync"
    if not fine_tunes.is_fine_tuned(model_id, {}):
        return "not a fine-tune"
    if fine_tunes.is_provider_owner(owner):
        return f"owned by the provider ({owner})"
    if family is None or rank is None:
        return "fine-tune id of an unknown shape (no family)"
    if not rule.include and not rule.owned_by:
        return "the rule has no include or owned_by: nothing is deleted"
    if rule.include and _first_match(model_id, rule.include) is None:
        return "matches no include pattern"
    if rule.owned_by and owner not in rule.owned_by:
        return f"owner {owner!r} is not in owned_by" if owner else "no owner, owned_by is set"
    pattern = _first_match(model_id, rule.keep)
    if pattern is not None:
        return f"matches keep pattern {pattern!r}"
    if rank <= rule.keep_latest:
        return f"#{rank} newest of its family (keep_latest {rule.keep_latest})"
    if age <= rule.max_age:
        return f"{_days(age)} old, not older than max_age {format_duration(rule.max_age)}"
    return None


def _delete_reason(model: RetentionModel, rank: int, age: timedelta, rule: RetentionRule) -> str:
    """Short enough for a table cell: the age first, then what made it a candidate."""
    parts = [
        f"{_days(age)} old > max_age {format_duration(rule.max_age)}",
        f"#{rank} newest of its family",
    ]
    if rule.include:
        parts.append(f"include {_first_match(model.model_id, rule.include)!r}")
    if rule.owned_by:
        parts.append(f"owner {model.owned_by!r} in owned_by")
    return "; ".join(parts)


def _first_match(model_id: str, patterns: Sequence[str]) -> str | None:
    return next((p for p in patterns if fnmatchcase(model_id, p)), None)


def _days(age: timedelta) -> str:
    days = age / timedelta(days=1)
    return f"{days:.1f} days" if days < 10 else f"{days:.0f} days"
