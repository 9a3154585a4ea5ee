"""The ``[[alerts]]`` tables: what each rule matches and where its alerts go.

Channel URLs and signing secrets are read from the environment variables the rule names,
never from the file, and never appear in a repr, so they cannot leak into a log line or the
database.
"""

from __future__ import annotations

import importlib.util
import itertools
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from syncer.config.model import (
    ALERT_EVENT_KINDS,
    DEFAULT_DIGEST_LIMIT,
    DEFAULT_THRESHOLDS,
    RULE_ALERT_KINDS,
    RULE_KINDS,
    AlertRule,
    Channel,
    Schedule,
    Source,
    Urgency,
)
from syncer.config.reader import TableReader
from syncer.errors import ConfigError
from syncer.providers.auth import is_loopback
from syncer.timeutil import duration_text

__all__ = ["CHANNEL_KEYS", "check_stale_after", "parse_alert_rules", "sync_interval"]

#: The config key that names the URL's environment variable, per channel.
CHANNEL_KEYS = {
    "webhook_url_env": "webhook",
    "slack_webhook_url_env": "slack",
    "apprise_url_env": "apprise",
}
_COMMON_KEYS = {
    "name",
    "kind",
    "sources",
    "secret_env",
    "deliver",
    "timezone",
    "quiet",
    "quiet_days",
    "quiet_exempt",
    "allow_http",
    *CHANNEL_KEYS,
}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Keys of a digest rule (``deliver = "digest"``) only.
_DIGEST_KEYS = {"schedule", "send_empty", "drop_transient", "digest_limit", "immediate_if"}
_URGENCY_KEYS = {"kinds", "days_left", "in_use"}
DELIVERIES = ("immediate", "digest")
_KIND_KEYS = {
    "events": {"kinds", "models", "in_use"},
    "shutdown": {"thresholds", "models", "in_use"},
    "stale": {"stale_after"},
}


def _strings(reader: TableReader, key: str) -> tuple[str, ...]:
    """A list of strings, or one string standing for a list of one."""
    value = reader.get(key, (list, str), [])
    values = [value] if isinstance(value, str) else value
    if not all(isinstance(v, str) and v for v in values):
        raise reader.fail(key, "expected a list of non-empty strings")
    return tuple(dict.fromkeys(values))


def _channel(reader: TableReader, env: Mapping[str, str]) -> Channel:
    given = [key for key in CHANNEL_KEYS if key in reader.table]
    if len(given) != 1:
        keys = ", ".join(CHANNEL_KEYS)
        raise reader.fail(given[1] if given else "webhook_url_env", f"set exactly one of: {keys}")
    key = given[0]
    url_env = reader.env_name(key) or ""
    kind = CHANNEL_KEYS[key]
    secret_env = reader.env_name("secret_env")
    if secret_env is not None and kind != "webhook":
        raise reader.fail("secret_env", "signing applies to webhook_url_env only")
    if kind == "apprise" and importlib.util.find_spec("apprise") is None:
        raise reader.fail(
            key, "needs the optional extra: pip install 'model-syncer[alerts-apprise]'"
        )
    url = env.get(url_env) or None
    if url is not None and kind != "apprise" and not reader.get("allow_http", bool, False):
        _refuse_clear_text(reader, key, url_env, url)
    return Channel(
        kind=kind,
        url_env=url_env,
        url=url,
        secret_env=secret_env,
        secret=(env.get(secret_env) or None) if secret_env else None,
    )


def _refuse_clear_text(reader: TableReader, key: str, url_env: str, url: str) -> None:
    """A webhook or Slack URL is a credential (whoever has it can post), and the alert names
    the inventory: plain ``http://`` only to a loopback host, unless the rule says so. The
    message names the variable, never the URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return  # not a URL at all: delivery fails it in one line, as it always has
    if parts.scheme.lower() == "http" and not is_loopback(parts.hostname or ""):
        raise reader.fail(
            key,
            f"{url_env} holds a plain http:// URL to a host that is not loopback: the "
            "alerts would travel in clear; use https, or set allow_http = true in this rule",
        )


def _thresholds(reader: TableReader) -> tuple[int, ...]:
    value = reader.get("thresholds", list, list(DEFAULT_THRESHOLDS))
    if not value or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise reader.fail("thresholds", "expected a non-empty list of whole days, e.g. [30, 7]")
    if any(v <= 0 for v in value):
        raise reader.fail("thresholds", "days must be positive")
    return tuple(sorted(set(value), reverse=True))


def _timezone(reader: TableReader) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = reader.get("timezone", str, "UTC")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise reader.fail(
            "timezone", f"{name!r} is not an IANA time zone like 'Europe/Paris' or 'UTC'"
        ) from None
    return str(name)


def _quiet(reader: TableReader) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """``quiet = "22:00-07:00"``: hours and minutes of its start and end."""
    value = reader.get("quiet", str)
    if value is None:
        return None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", value.strip())
    hours = [int(g) for g in match.groups()] if match else []
    if not match or hours[0] > 23 or hours[2] > 23 or hours[1] > 59 or hours[3] > 59:
        raise reader.fail("quiet", f"{value!r} is not a window like '22:00-07:00'")
    if hours[:2] == hours[2:]:
        raise reader.fail("quiet", "the window is empty: its start is its end")
    return (hours[0], hours[1]), (hours[2], hours[3])


def _quiet_days(reader: TableReader) -> tuple[str, ...]:
    days = tuple(d.lower() for d in _strings(reader, "quiet_days"))
    for day in days:
        if day not in _DAYS:
            raise reader.fail("quiet_days", f"{day!r} is not one of: {', '.join(_DAYS)}")
    if days and "quiet" not in reader.table:
        raise reader.fail("quiet_days", "applies with quiet only")
    return days


def _alert_kinds(reader: TableReader, key: str, kind: str) -> tuple[str, ...]:
    """``key``'s list of alert kinds, each one that a ``kind`` rule raises."""
    kinds = _strings(reader, key)
    for alert_kind in kinds:
        if alert_kind not in RULE_ALERT_KINDS[kind]:
            known = ", ".join(RULE_ALERT_KINDS[kind])
            raise reader.fail(
                key, f"a {kind} rule raises no {alert_kind!r} alerts (it raises: {known})"
            )
    return kinds


def _urgencies(reader: TableReader, kind: str) -> tuple[Urgency, ...]:
    """``immediate_if``: a table, or a list of tables (any one of them will do)."""
    value = reader.get("immediate_if", (dict, list), [])
    tables = [value] if isinstance(value, dict) else value
    clauses = []
    for index, table in enumerate(tables):
        if not isinstance(table, dict) or not table:
            raise reader.fail(
                "immediate_if",
                'expected a table like { kinds = ["vanished"], in_use = true } or a list of them',
            )
        clause = TableReader(table, reader.where, f"{reader.prefix}immediate_if[{index}].")
        clause.unknown(_URGENCY_KEYS)
        kinds = _alert_kinds(clause, "kinds", kind)
        days = clause.get("days_left", int)
        if days is not None and days < 0:
            raise clause.fail("days_left", "must be zero or more")
        in_use = bool(clause.get("in_use", bool, False))
        if in_use and kind == "stale":
            raise clause.fail("in_use", "a stale rule's alerts are about a source, not a model")
        clauses.append(Urgency(kinds, days, in_use))
    return tuple(clauses)


def _rule(reader: TableReader, env: Mapping[str, str], sources: Sequence[str]) -> AlertRule:
    name = reader.name()
    kind = reader.get("kind", str, "events")
    if kind not in RULE_KINDS:
        raise reader.fail("kind", f"{kind!r} is not one of: {', '.join(RULE_KINDS)}")
    deliver = reader.get("deliver", str, "immediate")
    if deliver not in DELIVERIES:
        raise reader.fail("deliver", f"{deliver!r} is not one of: {', '.join(DELIVERIES)}")
    digest = deliver == "digest"
    allowed = _COMMON_KEYS | _KIND_KEYS[kind] | (_DIGEST_KEYS if digest else set())
    extra = sorted(set(reader.table) - allowed)
    if extra and extra[0] in _DIGEST_KEYS:
        raise reader.fail(extra[0], 'applies to digest rules only (deliver = "digest")')
    reader.unknown(allowed)
    schedule = reader.cron("schedule")
    if digest and schedule is None:
        raise reader.fail(
            "schedule",
            'required with deliver = "digest": a cron expression, '
            'e.g. "0 9 * * MON" (Mondays at 9:00 in the rule\'s timezone)',
        )
    rule_sources = _strings(reader, "sources")
    for source in rule_sources:
        if source not in sources:
            raise reader.fail("sources", f"no source named {source!r} is configured")
    kinds = _strings(reader, "kinds") or ALERT_EVENT_KINDS
    for event_kind in kinds:
        if event_kind not in ALERT_EVENT_KINDS:
            known = ", ".join(ALERT_EVENT_KINDS)
            raise reader.fail("kinds", f"{event_kind!r} is not one of: {known}")
    return AlertRule(
        name=name,
        kind=kind,
        channel=_channel(reader, env),
        sources=rule_sources,
        models=_strings(reader, "models"),
        kinds=kinds,
        thresholds=_thresholds(reader),
        stale_after=reader.duration("stale_after"),
        deliver=deliver,
        schedule=schedule,
        timezone=_timezone(reader),
        send_empty=bool(reader.get("send_empty", bool, False)),
        drop_transient=bool(reader.get("drop_transient", bool, False)),
        digest_limit=reader.positive("digest_limit", int, DEFAULT_DIGEST_LIMIT),
        immediate_if=_urgencies(reader, kind),
        quiet=_quiet(reader),
        quiet_days=_quiet_days(reader),
        quiet_exempt=_alert_kinds(reader, "quiet_exempt", kind),
        in_use=bool(reader.get("in_use", bool, False)),
    )


def parse_alert_rules(
    tables: Any, where: str, env: Mapping[str, str], sources: Sequence[str]
) -> tuple[AlertRule, ...]:
    """Every ``[[alerts]]`` table as a rule; ``sources`` are the configured source names."""
    if not isinstance(tables, list):
        # Not quoted: a misplaced table could hold a webhook URL.
        raise ConfigError(f"{where}: alerts: each rule must be a table ([[alerts]])")
    rules: list[AlertRule] = []
    for index, table in enumerate(tables):
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: alerts[{index}]: each rule must be a table ([[alerts]])")
        reader = TableReader(table, where, f"alerts[{index}].")
        rule = _rule(reader, env, sources)
        if any(r.name == rule.name for r in rules):
            raise reader.fail("name", f"rule name {rule.name!r} is used twice")
        rules.append(rule)
    return tuple(rules)


def sync_interval(source: Source, schedule: Schedule, now: datetime) -> timedelta:
    """How often ``syncer run`` syncs a source: its interval, or a cron's longest gap ahead
    (over its next dozen fires, in UTC)."""
    every, cron = schedule.of(source)
    if not cron:
        return every or schedule.every
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger.from_crontab(cron, timezone=UTC)
    fires = [trigger.get_next_fire_time(None, now)]
    for _ in range(12):
        fires.append(trigger.get_next_fire_time(fires[-1], fires[-1] + timedelta(seconds=1)))
    gap: timedelta = max(later - earlier for earlier, later in itertools.pairwise(fires))
    return gap


def check_stale_after(
    rules: Sequence[AlertRule],
    sources: Sequence[Source],
    schedule: Schedule,
    where: str,
    now: datetime,
) -> None:
    """Refuse a stale rule's ``stale_after`` that is not longer than the sync interval of a
    source it covers: that source, healthy, would turn stale and recover every interval
    (and ``/healthz`` answer 503 in between)."""
    for index, rule in enumerate(rules):
        if rule.kind != "stale" or rule.stale_after is None:
            continue
        for source in (s for s in sources if rule.covers_source(s.name)):
            interval = sync_interval(source, schedule, now)
            if rule.stale_after <= interval:
                raise ConfigError(
                    f"{where}: alerts[{index}].stale_after: {duration_text(rule.stale_after)} "
                    f"is not longer than the sync interval of source {source.name!r} "
                    f"({duration_text(interval)}): the source would turn stale and recover "
                    "every interval; make it longer, or leave it out (stale after three "
                    "intervals)"
                )
