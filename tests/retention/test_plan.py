"""The retention planner (pure) and the ``[retention]`` configuration that feeds it."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from pathlib import Path
from textwrap import dedent

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.config.load import load_settings
from syncer.config.model import RetentionRule
from syncer.errors import ConfigError
from syncer.providers.openai import PROFILE as OPENAI
from syncer.providers.openai import fine_tune_family as parse_family
from syncer.providers.openai import is_fine_tuned
from syncer.retention.plan import (
    RetentionModel,
    describe_rule,
    format_duration,
    include_matches,
    plan_retention,
    rule_details,
)

is_provider_owner = OPENAI.fine_tunes.is_provider_owner

NOW = datetime(2026, 3, 1, tzinfo=UTC)
ACME = ("ft:*:acme:*",)


def ft(
    model_id: str,
    days: float | None,
    owner: str | None = "org-acme",
    *,
    seen_days: float = 1,
    listed: bool = True,
) -> RetentionModel:
    """A model created ``days`` ago (None: no ``created``), first seen ``seen_days`` ago."""
    return RetentionModel(
        model_id=model_id,
        owned_by=owner,
        created_at=None if days is None else NOW - timedelta(days=days),
        first_seen_at=NOW - timedelta(days=seen_days),
        listed=listed,
    )


def rule(**fields: object) -> RetentionRule:
    return RetentionRule(**{"max_age": timedelta(days=90), "include": ACME, **fields})


def reasons(models: list[RetentionModel], **fields: object) -> dict[str, tuple[str, str]]:
    plan = plan_retention(models, rule(**fields), NOW)
    return {d.model.model_id: (d.action, d.reason) for d in plan.decisions}


# ---------------------------------------------------------------------------------------
# Families, owners, durations


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(days=90), "90d"),
        (timedelta(weeks=2), "2w"),
        (timedelta(hours=36), "36h"),
        (timedelta(minutes=90), "90m"),
        (timedelta(seconds=45), "45s"),
        (timedelta(seconds=1.5), "1.5s"),
    ],
)
def test_durations_read_back_as_a_config_file_writes_them(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text


def test_the_rule_is_described_on_one_line_and_as_json() -> None:
    described = rule(keep=("ft:*:acme:prod-*",), owned_by=("org-acme",), max_deletes=3)
    assert describe_rule(described) == (
        "max_age 90d; include ft:*:acme:*; owned_by org-acme; keep ft:*:acme:prod-*; "
        "keep_latest 1; max_deletes 3"
    )
    assert rule_details(described) == {
        "max_age": "90d",
        "include": ["ft:*:acme:*"],
        "owned_by": ["org-acme"],
        "keep": ["ft:*:acme:prod-*"],
        "keep_latest": 1,
        "max_deletes": 3,
    }


# ---------------------------------------------------------------------------------------
# Decisions, one reason each


def test_every_model_gets_one_decision_with_the_reason_a_person_checks() -> None:
    models = [
        ft("gpt-4o", 900, "openai"),
        ft("ft:gpt-4o:acme:tuned-by-openai:1", 900, "openai-internal"),
        ft("ft:gpt-4o:acme:odd", 900),
        ft("ft:gpt-4o:other:support:1", 900),
        ft("ft:gpt-4o:acme:prod-chat:1", 900),
        ft("ft:gpt-4o:acme:prod-chat:2", 800),
        ft("ft:gpt-4o:acme:support:old", 300),
        ft("ft:gpt-4o:acme:support:older", 400),
        ft("ft:gpt-4o:acme:support:new", 200),
        ft("ft:gpt-4o:acme:young:1", 10),
        ft("ft:gpt-4o:acme:young:2", 5),
        ft("ft:gpt-4o:acme:gone:1", 900, listed=False),
    ]
    decided = reasons(models, keep=("ft:*:acme:prod-*",))

    assert decided == {
        "ft:gpt-4o:acme:support:older": (
            "delete",
            "400 days old > max_age 90d; #3 newest of its family; include 'ft:*:acme:*'",
        ),
        "ft:gpt-4o:acme:support:old": (
            "delete",
            "300 days old > max_age 90d; #2 newest of its family; include 'ft:*:acme:*'",
        ),
        "gpt-4o": ("keep", "not a fine-tune"),
        "ft:gpt-4o:acme:tuned-by-openai:1": ("keep", "owned by the provider (openai-internal)"),
        "ft:gpt-4o:acme:odd": ("keep", "fine-tune id of an unknown shape (no family)"),
        "ft:gpt-4o:other:support:1": ("keep", "matches no include pattern"),
        "ft:gpt-4o:acme:prod-chat:1": ("keep", "matches keep pattern 'ft:*:acme:prod-*'"),
        "ft:gpt-4o:acme:prod-chat:2": ("keep", "matches keep pattern 'ft:*:acme:prod-*'"),
        "ft:gpt-4o:acme:support:new": ("keep", "#1 newest of its family (keep_latest 1)"),
        "ft:gpt-4o:acme:young:1": ("keep", "10 days old, not older than max_age 90d"),
        "ft:gpt-4o:acme:young:2": ("keep", "#1 newest of its family (keep_latest 1)"),
        "ft:gpt-4o:acme:gone:1": ("keep", "not listed by the latest sync"),
    }


def test_deletions_come_first_oldest_first_then_the_kept_by_id() -> None:
    models = [ft(f"ft:gpt-4o:acme:s:{n}", days) for n, days in enumerate([100, 300, 200, 5])]
    plan = plan_retention(models, rule(), NOW)

    assert [d.model.model_id for d in plan.decisions] == [
        "ft:gpt-4o:acme:s:1",
        "ft:gpt-4o:acme:s:2",
        "ft:gpt-4o:acme:s:0",
        "ft:gpt-4o:acme:s:3",
    ]
    assert [d.action for d in plan.decisions] == ["delete", "delete", "delete", "keep"]


def test_without_include_or_owned_by_nothing_is_ever_deleted() -> None:
    decided = reasons([ft("ft:gpt-4o:acme:s:1", 900), ft("ft:gpt-4o:acme:s:2", 1)], include=())
    assert decided["ft:gpt-4o:acme:s:1"] == (
        "keep",
        "the rule has no include or owned_by: nothing is deleted",
    )


def test_owned_by_alone_selects_by_owner() -> None:
    models = [
        ft("ft:gpt-4o:x:s:1", 900, "user-1"),
        ft("ft:gpt-4o:x:s:2", 900, "user-2"),
        ft("ft:gpt-4o:x:s:3", 900, None),
        ft("ft:gpt-4o:x:s:4", 1, "user-1"),
    ]
    decided = reasons(models, include=(), owned_by=("user-1",))

    assert decided["ft:gpt-4o:x:s:1"] == (
        "delete",
        "900 days old > max_age 90d; #2 newest of its family; owner 'user-1' in owned_by",
    )
    assert decided["ft:gpt-4o:x:s:2"] == ("keep", "owner 'user-2' is not in owned_by")
    assert decided["ft:gpt-4o:x:s:3"] == ("keep", "no owner, owned_by is set")


def test_include_and_owned_by_together_must_both_match() -> None:
    models = [
        ft("ft:gpt-4o:acme:s:1", 900, "user-1"),
        ft("ft:gpt-4o:acme:s:2", 900, "user-2"),
        ft("ft:gpt-4o:acme:s:3", 1, "user-1"),
    ]
    decided = reasons(models, owned_by=("user-1",))

    assert decided["ft:gpt-4o:acme:s:1"][0] == "delete"
    assert decided["ft:gpt-4o:acme:s:2"] == ("keep", "owner 'user-2' is not in owned_by")


def test_max_deletes_takes_the_oldest_and_the_rest_wait() -> None:
    models = [ft(f"ft:gpt-4o:acme:s:{days}", days) for days in (500, 400, 300, 200, 1)]
    decided = reasons(models, max_deletes=2)

    assert [i for i, (action, _) in decided.items() if action == "delete"] == [
        "ft:gpt-4o:acme:s:500",
        "ft:gpt-4o:acme:s:400",
    ]
    waiting = "stale, but max_deletes (2) is reached: next run"
    assert decided["ft:gpt-4o:acme:s:300"] == ("keep", waiting)
    assert decided["ft:gpt-4o:acme:s:200"] == ("keep", waiting)


def test_max_deletes_zero_plans_without_deleting() -> None:
    decided = reasons([ft("ft:gpt-4o:acme:s:1", 900), ft("ft:gpt-4o:acme:s:2", 800)], max_deletes=0)
    assert {action for action, _ in decided.values()} == {"keep"}


def test_keep_latest_keeps_the_newest_n_of_each_family_even_when_old() -> None:
    models = [ft(f"ft:gpt-4o:acme:a:{d}", d) for d in (900, 800, 700)]
    models += [ft(f"ft:gpt-4o:acme:b:{d}", d) for d in (900, 800)]
    models += [ft(f"ft:gpt-4o-mini:acme:a:{d}", d) for d in (900,)]
    decided = reasons(models, keep_latest=2)

    deleted = {i for i, (action, _) in decided.items() if action == "delete"}
    assert deleted == {"ft:gpt-4o:acme:a:900"}
    assert decided["ft:gpt-4o:acme:a:800"] == ("keep", "#2 newest of its family (keep_latest 2)")


def test_keep_latest_zero_lets_the_newest_go_too() -> None:
    decided = reasons([ft("ft:gpt-4o:acme:a:1", 900)], keep_latest=0)
    assert decided["ft:gpt-4o:acme:a:1"] == (
        "delete",
        "900 days old > max_age 90d; #1 newest of its family; include 'ft:*:acme:*'",
    )


def test_a_model_without_created_is_aged_from_when_it_was_first_seen() -> None:
    models = [
        ft("ft:gpt-4o:acme:s:1", None, seen_days=100),
        ft("ft:gpt-4o:acme:s:2", None, seen_days=20),
        ft("ft:gpt-4o:acme:s:3", 1),
    ]
    decided = reasons(models)

    assert decided["ft:gpt-4o:acme:s:1"][0] == "delete"
    assert decided["ft:gpt-4o:acme:s:2"] == ("keep", "20 days old, not older than max_age 90d")


def test_exactly_max_age_old_is_not_stale() -> None:
    models = [ft("ft:gpt-4o:acme:s:1", 90), ft("ft:gpt-4o:acme:s:2", 1)]
    assert reasons(models)["ft:gpt-4o:acme:s:1"][0] == "keep"


def test_an_unlisted_fine_tune_does_not_count_as_its_familys_newest() -> None:
    models = [ft("ft:gpt-4o:acme:s:new", 100, listed=False), ft("ft:gpt-4o:acme:s:old", 200)]
    assert reasons(models)["ft:gpt-4o:acme:s:old"] == (
        "keep",
        "#1 newest of its family (keep_latest 1)",
    )


def test_legacy_fine_tunes_are_planned_by_their_family() -> None:
    models = [
        ft("curie:ft-acme:support-2022-02-15-04-21-04", 900),
        ft("curie:ft-acme:support-2022-06-01-00-00-00", 800),
    ]
    decided = reasons(models, include=("*:ft-acme*",))

    assert decided["curie:ft-acme:support-2022-02-15-04-21-04"][0] == "delete"
    assert decided["curie:ft-acme:support-2022-06-01-00-00-00"][1].startswith("#1 newest")


def test_keep_latest_ranks_only_the_models_the_rule_governs() -> None:
    # Issue 21's reproduction: another org's newer fine-tune of the same family took acme's
    # keep_latest slot, and acme's only fine-tune was deleted as "#2 newest of its family".
    models = [
        ft("ft:gpt-4o:acme:prod:REAL", 400, "org-acme"),
        ft("ft:gpt-4o:otherorg:prod:NEWER", 1, "org-other"),
        ft("ft:gpt-4o:acme:prod:GONE", 1, listed=False),
        ft("ft:gpt-4o:acme:prod:OPENAI", 1, "openai"),
    ]
    decided = reasons(models, keep_latest=1)

    assert decided["ft:gpt-4o:otherorg:prod:NEWER"] == ("keep", "matches no include pattern")
    assert decided["ft:gpt-4o:acme:prod:REAL"] == (
        "keep",
        "#1 newest of its family (keep_latest 1)",
    )


def test_a_model_outside_owned_by_does_not_take_the_newest_slot() -> None:
    models = [
        ft("ft:gpt-4o:acme:s:mine", 400, "user-1"),
        ft("ft:gpt-4o:acme:s:theirs", 1, "user-2"),
    ]
    decided = reasons(models, include=(), owned_by=("user-1",))

    assert decided["ft:gpt-4o:acme:s:mine"] == ("keep", "#1 newest of its family (keep_latest 1)")


def test_an_org_named_in_the_suffix_does_not_match_the_org_part_of_include() -> None:
    models = [
        ft("ft:gpt-4o:evilorg:x:acme:y:z", 400, "org-evil"),
        ft("ft:gpt-4o:evilorg:x:acme:y:old", 500, "org-evil"),
    ]
    decided = reasons(models, keep_latest=0)

    assert set(decided.values()) == {("keep", "matches no include pattern")}


@pytest.mark.parametrize(
    ("pattern", "model_id", "matches"),
    [
        ("ft:*:acme:*", "ft:gpt-4o:acme:prod:1", True),
        ("ft:*:acme:*", "ft:gpt-4o:acme::1", True),
        ("ft:*:acme:*", "ft:gpt-4o:acme:a:b:1", True),
        ("ft:*:acme:*", "ft:gpt-4o:evilorg:x:acme:y:z", False),
        ("ft:*:acme:*", "ft:gpt-4o:evilorg:acme:1", False),
        ("ft:*:*acme*:*", "ft:gpt-4o:evilorg:x:acme:y:z", False),
        ("ft:*:acme*", "ft:gpt-4o:acme:prod:1", True),
        ("ft:*:acme*", "ft:gpt-4o:evil:acme:1", False),
        ("ft:gpt-4o:acme:a:b:*", "ft:gpt-4o:acme:a:b:1", True),
        ("ft:gpt-4o:acme:prod:?", "ft:gpt-4o:acme:prod:1", True),
        ("ft:gpt-4o:acme:prod:?", "ft:gpt-4o:acme:prod:1:2", False),
        ("ft:gpt-4o:acme:prod", "ft:gpt-4o:acme:prod:1", False),
        ("ft:*", "ft:gpt-4o:anyone:prod:1", True),
        ("*", "ft:gpt-4o:anyone:prod:1", True),
        ("*:ft-acme*", "curie:ft-acme:support-2022-02-15-04-21-04", True),
        ("*:ft-acme*", "curie:ft-evil:acme:ft-acme-2022-02-15-04-21-04", False),
        ("ft:*:587a6b29:*", "ft:open-mistral-7b:587a6b29:20240620:MyCoach:29b5b062", True),
    ],
)
def test_include_patterns_match_part_by_part(pattern: str, model_id: str, matches: bool) -> None:
    assert include_matches(pattern, model_id, ":") is matches
    # Part by part only narrows: whatever matches also matches as plain text.
    assert not matches or fnmatchcase(model_id, pattern)


def test_a_kind_without_parts_matches_include_against_the_whole_id() -> None:
    assert include_matches("*acme*", "ft:gpt-4o:evilorg:x:acme:y:z", None)


def test_keep_patterns_still_match_the_whole_id_so_they_only_keep_more() -> None:
    models = [
        ft("ft:gpt-4o:acme:prod:1", 400),
        ft("ft:gpt-4o:acme:prod:2", 300),
        ft("ft:gpt-4o:acme:prod:3", 1),
    ]
    decided = reasons(models, keep=("*prod*",))

    assert {action for action, _ in decided.values()} == {"keep"}


# ---------------------------------------------------------------------------------------
# Properties over arbitrary inventories and rules

BASES = ("gpt-4o", "gpt-4o-mini", "curie")
OWNERS = ("openai", "system", "openai-internal", "org-acme", "user-1", None)


@st.composite
def model_ids(draw: st.DrawFn) -> str:
    base = draw(st.sampled_from(BASES))
    org = draw(st.sampled_from(("acme", "other", "evilorg")))
    # The last suffix names acme where a careless glob would read the org.
    suffix = draw(st.sampled_from(("", "a", "prod-x", "a:b", "x:acme:y")))
    tail = draw(st.text("abcXYZ019", min_size=1, max_size=4))
    shape = draw(st.sampled_from(("ft", "legacy", "legacy-bare", "base", "odd")))
    return {
        "ft": f"ft:{base}:{org}:{suffix}:{tail}",
        "legacy": f"{base}:ft-{org}:{suffix or 'x'}-2022-01-0{len(tail)}-00-00-00",
        "legacy-bare": f"{base}:ft-{org}-2022-01-0{len(tail)}-00-00-{tail}",
        "base": f"{base}-{tail}",
        "odd": f"ft:{base}:{tail}",
    }[shape]


@st.composite
def inventories(draw: st.DrawFn) -> list[RetentionModel]:
    ids = draw(st.lists(model_ids(), max_size=25, unique=True))
    return [
        RetentionModel(
            model_id=model_id,
            owned_by=draw(st.sampled_from(OWNERS)),
            created_at=draw(st.none() | st.integers(0, 400).map(lambda d: NOW - timedelta(d))),
            first_seen_at=NOW - timedelta(days=draw(st.integers(0, 400))),
            listed=draw(st.booleans()),
        )
        for model_id in ids
    ]


patterns = st.sampled_from(
    ("ft:*:acme:*", "*", "ft:gpt-4o:*", "*:ft-acme*", "*:a:*", "ft:*:*acme*", "ft:*:acme:a:*")
)
rules = st.builds(
    RetentionRule,
    max_age=st.integers(1, 365).map(lambda d: timedelta(days=d)),
    include=st.lists(patterns, max_size=2).map(tuple),
    owned_by=st.lists(st.sampled_from(("org-acme", "user-1", "openai")), max_size=2).map(tuple),
    keep=st.lists(st.sampled_from(("ft:*:prod-*", "*:ft-*", "*:a:*")), max_size=2).map(tuple),
    keep_latest=st.integers(0, 3),
    max_deletes=st.integers(0, 6),
)


def included(pattern: str, model_id: str) -> bool:
    """The documented rule (docs/retention.md) as a regular expression: ``*`` and ``?`` never
    cross a ``:``, except a ``*`` that ends the pattern (the strategies' patterns hold no ``[``)."""
    body, tail = (pattern[:-1], ".*") if pattern.endswith("*") else (pattern, "")
    regex = "".join("[^:]*" if c == "*" else "[^:]" if c == "?" else re.escape(c) for c in body)
    return re.fullmatch(regex + tail, model_id, re.DOTALL) is not None


def governed(model: RetentionModel, rule: RetentionRule) -> bool:
    """Whether the rule speaks about this model at all, one condition each."""
    return (
        model.listed
        and is_fine_tuned(model.model_id)
        and not is_provider_owner(model.owned_by)
        and parse_family(model.model_id) is not None
        and bool(rule.include or rule.owned_by)
        and (not rule.include or any(included(p, model.model_id) for p in rule.include))
        and (not rule.owned_by or model.owned_by in rule.owned_by)
    )


def protected_as_newest(models: list[RetentionModel], rule: RetentionRule) -> set[str]:
    """The newest ``keep_latest`` governed fine-tunes of each family, computed the plain way."""
    newest: set[str] = set()
    for family in {parse_family(m.model_id) for m in models} - {None}:
        members = [m for m in models if governed(m, rule) and parse_family(m.model_id) == family]
        members.sort(key=lambda m: (m.born, m.model_id), reverse=True)
        newest.update(m.model_id for m in members[: rule.keep_latest])
    return newest


def may_go(model: RetentionModel, rule: RetentionRule, newest: set[str]) -> bool:
    """Everything docs/retention.md promises about a model that is deleted, one condition each."""
    return (
        governed(model, rule)
        and not any(fnmatchcase(model.model_id, p) for p in rule.keep)
        and model.model_id not in newest
        and NOW - model.born > rule.max_age
    )


@settings(max_examples=300, deadline=None)
@given(inventories(), rules)
def test_the_plan_deletes_exactly_the_oldest_models_the_rule_allows(
    models: list[RetentionModel], rule: RetentionRule
) -> None:
    plan = plan_retention(models, rule, NOW)

    newest = protected_as_newest(models, rule)
    allowed = sorted(
        (m for m in models if may_go(m, rule, newest)), key=lambda m: (m.born, m.model_id)
    )
    assert [d.model for d in plan.deletions] == allowed[: rule.max_deletes]
    assert len(plan.deletions) <= rule.max_deletes
    assert sorted(d.model.model_id for d in plan.decisions) == sorted(m.model_id for m in models)
    assert all(d.reason for d in plan.decisions)


@settings(max_examples=200, deadline=None)
@given(inventories(), rules)
def test_no_deletion_ever_touches_a_protected_model(
    models: list[RetentionModel], rule: RetentionRule
) -> None:
    newest = protected_as_newest(models, rule)
    for decision in plan_retention(models, rule, NOW).deletions:
        model = decision.model
        assert model.listed and is_fine_tuned(model.model_id)
        assert not is_provider_owner(model.owned_by)
        assert not rule.include or any(included(p, model.model_id) for p in rule.include)
        assert not rule.owned_by or model.owned_by in rule.owned_by
        assert not any(fnmatchcase(model.model_id, p) for p in rule.keep)
        assert model.model_id not in newest
        assert NOW - model.born > rule.max_age


@st.composite
def acme_inventories(draw: st.DrawFn) -> list[RetentionModel]:
    """Listed acme fine-tunes of a few families: models a rule naming acme governs."""
    ids = draw(
        st.lists(
            st.builds(
                "ft:{}:acme:{}:{}".format,
                st.sampled_from(BASES[:2]),
                st.sampled_from(("", "prod", "a:b")),
                st.text("abc019", min_size=1, max_size=3),
            ),
            max_size=8,
            unique=True,
        )
    )
    return [
        RetentionModel(
            model_id=model_id,
            owned_by=draw(st.sampled_from(("org-acme", "user-1"))),
            created_at=NOW - timedelta(days=draw(st.integers(0, 400))),
            first_seen_at=NOW,
        )
        for model_id in ids
    ]


@st.composite
def rivals(draw: st.DrawFn, models: list[RetentionModel]) -> list[RetentionModel]:
    """The same families under another org or owner, of any age: what took acme's
    keep_latest slot in issue 21."""
    found = []
    for model in models:
        parts = model.model_id.split(":")
        parts[2] = draw(st.sampled_from(("acme", "other", "evilorg")))
        parts[-1] = draw(st.text("XYZ", min_size=1, max_size=3))
        found.append(
            RetentionModel(
                model_id=":".join(parts),
                owned_by=draw(st.sampled_from(OWNERS)),
                created_at=NOW - timedelta(days=draw(st.integers(0, 400))),
                first_seen_at=NOW,
                listed=draw(st.booleans()),
            )
        )
    return found


acme_rules = st.builds(
    RetentionRule,
    max_age=st.integers(1, 365).map(lambda d: timedelta(days=d)),
    include=st.lists(
        st.sampled_from(("ft:*:acme:*", "ft:*:*acme*", "ft:gpt-4o:acme:*")), max_size=2
    ).map(tuple),
    owned_by=st.lists(st.sampled_from(("org-acme", "user-1")), max_size=1).map(tuple),
    keep=st.lists(st.sampled_from(("ft:*:prod:*", "*:a:*")), max_size=1).map(tuple),
    keep_latest=st.integers(0, 3),
    max_deletes=st.integers(1, 6),
)


@settings(max_examples=200, deadline=None)
@given(acme_inventories(), inventories(), acme_rules, st.data())
def test_whatever_else_is_listed_a_model_the_rule_keeps_is_never_deleted(
    models: list[RetentionModel],
    others: list[RetentionModel],
    rule: RetentionRule,
    data: st.DataObject,
) -> None:
    # Other orgs' fine-tunes of the same families, hostile ids, the provider's and unlisted
    # models: none of them may change the plan for the models the rule governs, least of
    # all take a keep slot.
    ids = {m.model_id for m in models}
    listed = [*others, *data.draw(rivals(models))]
    strangers = list(
        {m.model_id: m for m in listed if m.model_id not in ids and not governed(m, rule)}.values()
    )
    alone = plan_retention(models, rule, NOW)
    crowded = plan_retention([*models, *strangers], rule, NOW)

    assert crowded.deletions == alone.deletions
    kept = {d.model.model_id for d in alone.kept}
    assert kept.isdisjoint(d.model.model_id for d in crowded.deletions)


@settings(max_examples=100, deadline=None)
@given(inventories(), rules, st.randoms(use_true_random=False))
def test_the_plan_does_not_depend_on_the_order_models_are_read_in(
    models: list[RetentionModel], rule: RetentionRule, shuffler: random.Random
) -> None:
    shuffled = list(models)
    shuffler.shuffle(shuffled)
    assert plan_retention(shuffled, rule, NOW) == plan_retention(models, rule, NOW)


# ---------------------------------------------------------------------------------------
# The [retention] tables


def settings_from(tmp_path: Path, text: str) -> dict[str, RetentionRule]:
    path = tmp_path / "syncer.toml"
    path.write_text(dedent(text))
    return dict(load_settings(config_file=path, env={}).retention)


def test_the_global_rule_applies_to_every_source_with_its_defaults(tmp_path: Path) -> None:
    rules = settings_from(
        tmp_path,
        """
        [retention]
        max_age = "90d"
        include = ["ft:*:acme:*"]

        [[sources]]
        name = "a"

        [[sources]]
        name = "b"
    """,
    )
    expected = RetentionRule(
        max_age=timedelta(days=90),
        include=("ft:*:acme:*",),
        keep_latest=1,
        max_deletes=10,
        apply=False,
        every=timedelta(days=1),
    )
    assert rules == {"a": expected, "b": expected}


def test_a_sources_own_table_overrides_the_global_one_key_by_key(tmp_path: Path) -> None:
    rules = settings_from(
        tmp_path,
        """
        [retention]
        max_age = "90d"
        include = ["ft:*:acme:*"]
        keep = ["ft:*:acme:prod-*"]

        [[sources]]
        name = "a"
        retention = { include = ["ft:*:beta:*"], apply = true, max_deletes = 0 }

        [[sources]]
        name = "b"
    """,
    )
    assert rules["a"] == RetentionRule(
        max_age=timedelta(days=90),
        include=("ft:*:beta:*",),
        keep=("ft:*:acme:prod-*",),
        max_deletes=0,
        apply=True,
    )
    assert rules["b"].include == ("ft:*:acme:*",)


def test_only_sources_with_a_table_have_a_rule(tmp_path: Path) -> None:
    rules = settings_from(
        tmp_path,
        """
        [[sources]]
        name = "a"
        [sources.retention]
        max_age = "2w"
        owned_by = ["user-1"]
        keep_latest = 3
        every = "12h"

        [[sources]]
        name = "b"
    """,
    )
    assert rules == {
        "a": RetentionRule(
            max_age=timedelta(weeks=2),
            owned_by=("user-1",),
            keep_latest=3,
            every=timedelta(hours=12),
        )
    }


def test_without_sources_the_global_rule_applies_to_the_default_source(tmp_path: Path) -> None:
    rules = settings_from(tmp_path, '[retention]\nmax_age = "30d"\n')
    assert list(rules) == ["openai"]
    assert settings_from(tmp_path, "") == {}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('[retention]\ninclude = ["x"]\n', "retention.max_age: required"),
        (
            '[retention]\nmax_age = "soon"\n',
            "retention.max_age: 'soon' is not a duration like '15m', '12h' or '7d'",
        ),
        (
            '[retention]\nmax_age = "9d"\ninclude = "ft:*"\n',
            "retention.include: expected list, got str 'ft:*'",
        ),
        (
            '[retention]\nmax_age = "9d"\nkeep = ["", "x"]\n',
            "retention.keep: expected a list of non-empty strings",
        ),
        (
            '[retention]\nmax_age = "9d"\nmax_deletes = -1\n',
            "retention.max_deletes: must be zero or more",
        ),
        (
            '[retention]\nmax_age = "9d"\nkeep_latest = true\n',
            "retention.keep_latest: expected int, got bool True",
        ),
        (
            '[retention]\nmax_age = "9d"\napply = "yes"\n',
            "retention.apply: expected bool, got str 'yes'",
        ),
        ('[retention]\nmax_age = "9d"\nmax_delete = 3\n', "retention.max_delete: unknown key"),
        ("retention = 3\n", "retention: expected dict, got int 3"),
        (
            '[[sources]]\nname = "a"\nretention = { max_age = "0d" }\n',
            "sources[0].retention.max_age: must be positive",
        ),
        (
            '[[sources]]\nname = "a"\nretention = { include = ["x"] }\n',
            "sources[0].retention.max_age: required",
        ),
        (
            '[[sources]]\nname = "a"\nretention = []\n',
            "sources[0].retention: expected dict, got list []",
        ),
    ],
)
def test_a_bad_retention_table_is_one_error_naming_the_file_and_key(
    tmp_path: Path, text: str, error: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from(tmp_path, text)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'syncer.toml'}: {error}")
    assert "\n" not in message
