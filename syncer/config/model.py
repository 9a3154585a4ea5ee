"""Settings, built once from command-line options, the environment and a TOML file.

Precedence is command line > environment > file > defaults. The environment uses the
official OpenAI SDK's names, so a machine already set up for the SDK needs nothing more.
Everything is validated here, so the rest of the code can trust a ``Settings``.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syncer.errors import ConfigError

if TYPE_CHECKING:
    from syncer.config.alerts import AlertRule

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_DATABASE_URL = "sqlite:///syncer.db"
DEFAULT_SOURCE_NAME = "openai"
DEFAULT_EVERY = timedelta(minutes=15)
DEFAULT_JITTER = timedelta(seconds=30)
DEFAULT_MASS_VANISH_SHARE = 0.5
DEFAULT_CONFIRM_VANISH_LIMIT = 20
DEFAULT_KEEP_LATEST = 1
DEFAULT_MAX_DELETES = 10
DEFAULT_RETENTION_EVERY = timedelta(days=1)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def utcnow() -> datetime:
    """The clock every module defaults to, and tests replace: aware UTC."""
    return datetime.now(UTC)


def parse_duration(text: str) -> timedelta:
    """Parse ``"90s"``, ``"15m"``, ``"12h"``, ``"7d"`` or ``"2w"`` into a timedelta."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like '15m', '12h' or '7d'")
    return _seconds(float(match[1]) * _UNITS[match[2]], text)


def _seconds(seconds: float, shown: object) -> timedelta:
    try:
        return timedelta(seconds=seconds)
    except (OverflowError, ValueError):
        raise ValueError(f"{shown!r} is too long a duration") from None


@dataclass(frozen=True)
class HTTPSettings:
    """How hard to try before a request counts as failed."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_retries: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_cap: float = 60.0


@dataclass(frozen=True)
class Source:
    """One provider endpoint and the key to use with it.

    The key is excluded from ``repr`` so it cannot reach a log line or a traceback.
    """

    name: str
    base_url: str = DEFAULT_BASE_URL
    api_key: str | None = field(default=None, repr=False, compare=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    every: timedelta | None = None
    cron: str | None = None


@dataclass(frozen=True)
class SyncPolicy:
    """The safety rules a sync applies before it changes anything."""

    mass_vanish_share: float = DEFAULT_MASS_VANISH_SHARE
    accept_mass_change: bool = False
    confirm_vanish_limit: int = DEFAULT_CONFIRM_VANISH_LIMIT


@dataclass(frozen=True)
class Schedule:
    """When ``syncer run`` syncs each source (a source's own ``every``/``cron`` wins)."""

    every: timedelta = DEFAULT_EVERY
    cron: str | None = None
    jitter: timedelta = DEFAULT_JITTER


@dataclass(frozen=True)
class RetentionRule:
    """Which stale fine-tuned models retention may delete, and how many per run.

    With neither ``include`` nor ``owned_by`` nothing is ever deleted: a deletion needs a
    positive statement of whose models these are, not just an age.
    """

    max_age: timedelta
    include: tuple[str, ...] = ()
    owned_by: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()
    keep_latest: int = DEFAULT_KEEP_LATEST
    max_deletes: int = DEFAULT_MAX_DELETES
    apply: bool = False
    every: timedelta = DEFAULT_RETENTION_EVERY


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    sources: tuple[Source, ...] = ()
    http: HTTPSettings = HTTPSettings()
    policy: SyncPolicy = SyncPolicy()
    schedule: Schedule = Schedule()
    config_file: Path | None = None
    #: The ``[[alerts]]`` rules (``alert_rules.AlertRule``), validated with the rest.
    alerts: tuple[AlertRule, ...] = ()
    #: Each source's retention rule by source name; a source without one is absent.
    retention: Mapping[str, RetentionRule] = field(default_factory=dict)

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources)
        raise ConfigError(f"unknown source {name!r} (configured: {known})")

    def select(self, name: str | None) -> tuple[Source, ...]:
        """The sources a command acts on: one by name, or all of them."""
        return self.sources if name is None else (self.source(name),)


class _Reader:
    """Typed access to one TOML table, with errors that name the key and the file."""

    def __init__(self, table: Mapping[str, Any], where: str, prefix: str = "") -> None:
        self.table = table
        self.where = where
        self.prefix = prefix

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.where}: {self.prefix}{key}: {problem}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        value = self.table.get(key, default)
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if value is None or (isinstance(value, kinds) and (
            bool in kinds or not isinstance(value, bool)
        )):
            return value
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise self.fail(key, f"expected {names}, got {type(value).__name__} {value!r}")

    def duration(self, key: str) -> timedelta | None:
        value = self.get(key, (str, int, float))
        if value is None:
            return None
        try:
            delta = parse_duration(value) if isinstance(value, str) else _seconds(value, value)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None
        if delta <= timedelta(0):
            raise self.fail(key, "must be positive")
        return delta

    def cron(self, key: str) -> str | None:
        value = self.get(key, str)
        if value is not None:
            try:
                from apscheduler.triggers.cron import CronTrigger

                CronTrigger.from_crontab(value)
            except ValueError as exc:
                raise self.fail(key, f"not a cron expression: {exc}") from None
        return value

    def positive(self, key: str, kind: type, default: Any) -> Any:
        value = self.get(key, (int, float) if kind is float else kind, default)
        if not math.isfinite(value) or value <= 0:
            raise self.fail(key, "must be positive")
        return kind(value)

    def unknown(self, allowed: set[str]) -> None:
        extra = sorted(set(self.table) - allowed)
        if extra:
            expected = ", ".join(sorted(allowed))
            raise self.fail(extra[0], f"unknown key (expected one of: {expected})")


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid TOML: the file is not UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _sdk_headers(env: Mapping[str, str]) -> dict[str, str]:
    headers = {}
    if env.get("OPENAI_ORG_ID"):
        headers["OpenAI-Organization"] = env["OPENAI_ORG_ID"]
    if env.get("OPENAI_PROJECT_ID"):
        headers["OpenAI-Project"] = env["OPENAI_PROJECT_ID"]
    return headers


_SOURCE_KEYS = {
    "name", "base_url", "api_key_env", "organization", "project", "headers", "every", "cron",
    "retention",
}


def _source_from_table(
    table: Mapping[str, Any], where: str, index: int, env: Mapping[str, str]
) -> Source:
    reader = _Reader(table, where, f"sources[{index}].")
    reader.unknown(_SOURCE_KEYS)
    name = reader.get("name", str)
    if not name or not _SOURCE_NAME.match(name):
        raise reader.fail("name", "required: letters, digits, '.', '_' or '-', up to 64")
    base_url = reader.get("base_url", str, DEFAULT_BASE_URL).rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise reader.fail("base_url", f"{base_url!r} is not an http(s) URL")
    key_env = reader.get("api_key_env", str, "OPENAI_API_KEY")
    headers = dict(reader.get("headers", dict, {}))
    for header, value in headers.items():
        if not isinstance(value, str):
            raise reader.fail(f"headers.{header}", "header values must be strings")
    if reader.get("organization", str):
        headers["OpenAI-Organization"] = table["organization"]
    if reader.get("project", str):
        headers["OpenAI-Project"] = table["project"]
    return Source(
        name=name,
        base_url=base_url,
        api_key=env.get(key_env) or None,
        headers=headers,
        every=reader.duration("every"),
        cron=reader.cron("cron"),
    )


_TOP_KEYS = {
    "database_url", "sources", "schedule", "sync", "http", "retention", "alerts",
}


def load_settings(
    *,
    config_file: str | Path | None = None,
    database_url: str | None = None,
    base_url: str | None = None,
    every: str | None = None,
    accept_mass_change: bool = False,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Build the settings from the command line's values, the environment and the file."""
    env = os.environ if env is None else env
    path_text = config_file or env.get("SYNCER_CONFIG")
    path = Path(path_text) if path_text else None
    data = _read_file(path) if path else {}
    where = str(path) if path else "command line"
    top = _Reader(data, where)
    top.unknown(_TOP_KEYS)

    tables = top.get("sources", list, [])
    sources: list[Source] = []
    for index, table in enumerate(tables):
        if not isinstance(table, dict):
            raise top.fail(f"sources[{index}]", "each source must be a table ([[sources]])")
        sources.append(_source_from_table(table, where, index, env))
    names = [s.name for s in sources]
    for name in names:
        if names.count(name) > 1:
            raise top.fail("sources", f"source name {name!r} is used twice")
    if sources and base_url is not None:
        raise ConfigError(
            f"{where}: --base-url applies only without [[sources]]; set base_url there"
        )
    if not sources:
        url = (base_url or env.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"base_url: {url!r} is not an http(s) URL")
        sources = [
            Source(
                name=DEFAULT_SOURCE_NAME,
                base_url=url,
                api_key=env.get("OPENAI_API_KEY") or None,
                headers=_sdk_headers(env),
            )
        ]

    schedule_reader = _Reader(top.get("schedule", dict, {}), where, "schedule.")
    schedule_reader.unknown({"every", "cron", "jitter"})
    every_delta = schedule_reader.duration("every") or DEFAULT_EVERY
    if every is not None:
        try:
            every_delta = parse_duration(every)
        except ValueError as exc:
            raise ConfigError(f"--every: {exc}") from None
        if every_delta <= timedelta(0):
            raise ConfigError("--every: must be positive")
    jitter = schedule_reader.get("jitter", (str, int, float))
    schedule = Schedule(
        every=every_delta,
        cron=None if every is not None else schedule_reader.cron("cron"),
        jitter=DEFAULT_JITTER if jitter is None else (
            timedelta(0) if jitter in (0, "0") else schedule_reader.duration("jitter")
        ),
    )

    sync_reader = _Reader(top.get("sync", dict, {}), where, "sync.")
    sync_reader.unknown({"mass_vanish_share", "accept_mass_change", "confirm_vanish_limit"})
    share = sync_reader.positive("mass_vanish_share", float, DEFAULT_MASS_VANISH_SHARE)
    if share > 1:
        raise sync_reader.fail("mass_vanish_share", "must be a share between 0 and 1")
    limit = sync_reader.get("confirm_vanish_limit", int, DEFAULT_CONFIRM_VANISH_LIMIT)
    if limit < 0:
        raise sync_reader.fail("confirm_vanish_limit", "must be zero or more")
    policy = SyncPolicy(
        mass_vanish_share=share,
        accept_mass_change=accept_mass_change
        or bool(sync_reader.get("accept_mass_change", bool, False)),
        confirm_vanish_limit=limit,
    )

    http_reader = _Reader(top.get("http", dict, {}), where, "http.")
    defaults = HTTPSettings()
    http_reader.unknown(set(defaults.__dataclass_fields__))
    http = HTTPSettings(
        connect_timeout=http_reader.positive("connect_timeout", float, defaults.connect_timeout),
        read_timeout=http_reader.positive("read_timeout", float, defaults.read_timeout),
        max_retries=http_reader.get("max_retries", int, defaults.max_retries),
        backoff_base=http_reader.positive("backoff_base", float, defaults.backoff_base),
        backoff_max=http_reader.positive("backoff_max", float, defaults.backoff_max),
        retry_after_cap=http_reader.positive("retry_after_cap", float, defaults.retry_after_cap),
    )
    if http.max_retries < 0:
        raise http_reader.fail("max_retries", "must be zero or more")

    from syncer.config.alerts import parse_alert_rules  # it builds on this module's _Reader

    file_url = top.get("database_url", str)
    url = database_url or env.get("SYNCER_DATABASE_URL") or file_url
    return Settings(
        database_url=url or DEFAULT_DATABASE_URL,
        sources=tuple(sources),
        http=http,
        policy=policy,
        schedule=schedule,
        config_file=path,
        alerts=parse_alert_rules(
            data.get("alerts", []), where, env, [s.name for s in sources]
        ),
        retention=_retention_rules(data, where, [s.name for s in sources]),
    )


def parse_moment(text: str, now: datetime) -> datetime:
    """Read a point in time: ISO-8601 date or date-time (UTC unless it says otherwise),
    or a span back from ``now`` like ``7d`` or ``12h``."""
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use an ISO-8601 date or date-time, or a span like '7d'"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_RETENTION_KEYS = {
    "max_age", "include", "owned_by", "keep", "keep_latest", "max_deletes", "apply", "every",
}


def _retention_rules(
    data: Mapping[str, Any], where: str, names: list[str]
) -> dict[str, RetentionRule]:
    """Each source's retention rule: the keys of its own ``retention`` table over ``[retention]``.

    A source with neither table has no rule.
    """
    shared = _Reader(data, where).get("retention", dict)
    tables = {t.get("name"): (index, t) for index, t in enumerate(data.get("sources", []))}
    rules: dict[str, RetentionRule] = {}
    for name in names:
        readers = []
        if name in tables:
            index, table = tables[name]
            prefix = f"sources[{index}]."
            own = _Reader(table, where, prefix).get("retention", dict)
            if own is not None:
                readers.append(_Reader(own, where, f"{prefix}retention."))
        if shared is not None:
            readers.append(_Reader(shared, where, "retention."))
        if readers:
            rules[name] = _retention_rule(readers)
    return rules


def _retention_rule(readers: list[_Reader]) -> RetentionRule:
    """One rule from its tables, most specific first; each key comes from the first that has it."""
    for reader in readers:
        reader.unknown(_RETENTION_KEYS)

    def read(key: str, how: Any, default: Any) -> Any:
        reader = next((r for r in readers if key in r.table), None)
        return default if reader is None else how(reader, key)

    def patterns(reader: _Reader, key: str) -> tuple[str, ...]:
        values = reader.get(key, list)
        if not all(isinstance(value, str) and value for value in values):
            raise reader.fail(key, "expected a list of non-empty strings")
        return tuple(values)

    def count(reader: _Reader, key: str) -> int:
        value: int = reader.get(key, int)
        if value < 0:
            raise reader.fail(key, "must be zero or more")
        return value

    max_age = read("max_age", _Reader.duration, None)
    if max_age is None:
        raise readers[0].fail("max_age", "required: how old a fine-tune must be to go, e.g. '90d'")
    return RetentionRule(
        max_age=max_age,
        include=read("include", patterns, ()),
        owned_by=read("owned_by", patterns, ()),
        keep=read("keep", patterns, ()),
        keep_latest=read("keep_latest", count, DEFAULT_KEEP_LATEST),
        max_deletes=read("max_deletes", count, DEFAULT_MAX_DELETES),
        apply=read("apply", lambda r, k: r.get(k, bool), False),
        every=read("every", _Reader.duration, DEFAULT_RETENTION_EVERY),
    )
