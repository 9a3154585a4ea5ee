"""Settings built once from command-line options, the environment and a TOML file.

The file is ``--config FILE``, else ``$SYNCER_CONFIG``, else ``./syncer.toml`` if there is one.

Precedence is command line > environment > file > defaults. A source's defaults (its base
URL, the variable holding its key, the headers its options set) come from its kind's
profile, which names them as that provider's own SDK does. Everything is validated here, so
the rest of the code can trust a ``Settings``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from syncer.config.alerts import check_stale_after, parse_alert_rules
from syncer.config.exposure import warn_if_exposed
from syncer.config.imports import parse_imports
from syncer.config.model import (
    DEFAULT_CONFIG_FILE,
    DEFAULT_CONFIRM_VANISH_LIMIT,
    DEFAULT_DATABASE_URL,
    DEFAULT_DEADLINE,
    DEFAULT_EVERY,
    DEFAULT_JITTER,
    DEFAULT_LEASE,
    DEFAULT_MASS_VANISH_SHARE,
    DEFAULT_MAX_RESPONSE_SIZE,
    DEFAULT_OUTBOX_KEEP,
    DEFAULT_SOURCE_NAME,
    DEFAULT_STOP_TIMEOUT,
    DEFAULT_WORKERS,
    HTTPSettings,
    RetentionRule,
    Schedule,
    ServerSettings,
    Settings,
    Source,
    SyncPolicy,
)
from syncer.config.reader import TableReader, read_file
from syncer.config.retention import parse_retention_rules
from syncer.errors import ConfigError
from syncer.providers.profile import KINDS, Profile, apis_of, profile_for
from syncer.timeutil import parse_duration, utcnow

__all__ = ["load_settings"]

log = logging.getLogger(__name__)


_SOURCE_KEYS = {
    "name",
    "kind",
    "base_url",
    "api_key_env",
    "headers",
    "every",
    "cron",
    "retention",
    "ca_bundle",
    "verify_tls",
    "deadline",
    "max_response_size",
}
#: Keys only some kinds take: the header options of a profile, an API flavour, a version.
_KIND_KEYS = {"organization", "project", "api", "api_version"}


#: A source's (deadline, max_response_size).
Limits = tuple[timedelta, int]


def _limits(reader: TableReader, defaults: Limits) -> Limits:
    """``deadline`` and ``max_response_size`` of ``[sync]`` or a source, else ``defaults``."""
    return reader.duration("deadline") or defaults[0], reader.size("max_response_size") or (
        defaults[1]
    )


def _source_from_table(
    table: Mapping[str, Any], where: str, index: int, env: Mapping[str, str], limits: Limits
) -> Source:
    reader = TableReader(table, where, f"sources[{index}].")
    kind = reader.get("kind", str, "openai")
    if kind not in KINDS:
        raise reader.fail("kind", f"unknown kind {kind!r}; one of: {', '.join(KINDS)}")
    apis = apis_of(kind)
    api = reader.get("api", str) if apis else None
    if api is not None and api not in apis:
        raise reader.fail("api", f"unknown api {api!r}; one of: {', '.join(apis)}")
    profile = profile_for(kind, api)
    allowed = set(profile.header_options)
    allowed |= {"api"} if apis else set()
    allowed |= {"api_version"} if profile.version_param else set()
    for key in sorted((_KIND_KEYS - allowed) & set(table)):
        raise reader.fail(key, f"not a key of a source of kind {kind!r}")
    reader.unknown(_SOURCE_KEYS | allowed)
    name = reader.name()
    base_url = reader.get("base_url", str, profile.default_base_url)
    if base_url is None:
        raise reader.fail("base_url", f"required for kind {kind!r} (it has no public endpoint)")
    base_url = base_url.rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise reader.fail("base_url", f"{base_url!r} is not an http(s) URL")
    key_env = reader.env_name("api_key_env", profile.key_variable(env))
    headers = dict(reader.get("headers", dict, {}))
    for header, value in headers.items():
        if not isinstance(value, str):
            raise reader.fail(f"headers.{header}", "header values must be strings")
    for option, header in profile.header_options.items():
        if reader.get(option, str):
            headers[header] = table[option]
    every, cron = reader.schedule()
    ca_bundle = reader.get("ca_bundle", str)
    verify_tls = reader.get("verify_tls", bool, True)
    if ca_bundle is not None:
        if not verify_tls:
            raise reader.fail("verify_tls", "false contradicts ca_bundle: set one or the other")
        # A relative path is relative to the config file, wherever syncer is started from.
        bundle = Path(ca_bundle).expanduser()
        bundle = bundle if bundle.is_absolute() else Path(where).parent / bundle
        if not bundle.is_file():
            raise reader.fail("ca_bundle", f"{ca_bundle!r} is not a file")
        ca_bundle = str(bundle)
    deadline, max_response_size = _limits(reader, limits)
    return Source(
        name=name,
        base_url=base_url,
        api_key=_key(env, key_env, f"{where}: sources[{index}] ({name})"),
        headers=headers,
        every=every,
        cron=cron,
        kind=kind,
        api=api,
        api_version=reader.get("api_version", str),
        api_key_env=key_env,
        ca_bundle=ca_bundle,
        verify_tls=verify_tls,
        deadline=deadline,
        max_response_size=max_response_size,
    )


def _key(env: Mapping[str, str], name: str | None, where: str) -> str | None:
    """The key in variable ``name``: unset is no key, set but empty is a mistake."""
    if not name or name not in env:
        return None
    if not env[name].strip():
        raise ConfigError(f"{where}: {name} is set but empty; unset it or give the key")
    return env[name]


def _environment_source(
    profile: Profile, base_url: str | None, env: Mapping[str, str], limits: Limits
) -> Source:
    """The one source of a configuration without ``[[sources]]``, from the SDK's variables."""
    url = (
        base_url
        or (env.get(profile.base_url_env) if profile.base_url_env else None)
        or profile.default_base_url
        or ""
    ).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"base_url: {url!r} is not an http(s) URL")
    headers = {header: env[var] for var, header in profile.env_headers.items() if env.get(var)}
    return Source(
        name=DEFAULT_SOURCE_NAME,
        base_url=url,
        api_key=_key(env, profile.key_variable(env), "environment"),
        headers=headers,
        kind=profile.kind,
        api_key_env=profile.key_variable(env),
        deadline=limits[0],
        max_response_size=limits[1],
    )


def _retention_kinds(
    rules: dict[str, RetentionRule], sources: list[Source], data: Mapping[str, Any], where: str
) -> dict[str, RetentionRule]:
    """The rules of sources whose kind can delete fine-tunes.

    A shared ``[retention]`` applies to those alone; a source's own ``retention`` table on
    another kind is an error, since nothing could ever carry it out.
    """
    tables = data.get("sources", [])
    own = {t.get("name") for t in tables if isinstance(t, dict) and "retention" in t}
    kept = {}
    for source in sources:
        if source.name not in rules:
            continue
        if source.profile.retention:
            kept[source.name] = rules[source.name]
        elif source.name in own:
            able = ", ".join(k for k in KINDS if profile_for(k).retention)
            raise ConfigError(
                f"{where}: source {source.name!r}: retention: kind {source.kind!r} has no "
                f"endpoint to delete fine-tuned models (retention works on: {able})"
            )
    return kept


#: The HTTP server's keys in ``[http]``, by the key of the deprecated ``[server]`` table
#: they replace: ``timeout`` and ``max_connections`` say ``server_`` beside the client's own
#: ``connect_timeout`` and ``read_timeout``, which they must not be taken for.
_SERVER_KEYS = {
    "host": "host",
    "token_env": "token_env",
    "open_healthz": "open_healthz",
    "max_connections": "server_max_connections",
    "timeout": "server_timeout",
    "max_model_series": "max_model_series",
}


def _server(http: TableReader, legacy: TableReader, env: Mapping[str, str]) -> ServerSettings:
    """The HTTP server's keys of ``[http]``, or of a ``[server]`` table written before they
    moved there (a warning; one key in both is an error); the token is read from its
    variable here, like an API key."""
    if legacy.table:
        legacy.unknown(set(_SERVER_KEYS))
        for key in sorted(legacy.table):
            if _SERVER_KEYS[key] in http.table:
                raise legacy.fail(
                    key,
                    f"also set as http.{_SERVER_KEYS[key]}; keep that one ([server] is deprecated)",
                )
        renamed = [
            f"{k} as {_SERVER_KEYS[k]}" for k in sorted(legacy.table) if _SERVER_KEYS[k] != k
        ]
        log.warning(
            "%s: [server] is deprecated: move its keys to [http]%s",
            legacy.where,
            f" ({', '.join(renamed)})" if renamed else "",
        )

    def at(old: str) -> tuple[TableReader, str]:
        """The table that sets the key, and the key's name there."""
        return (legacy, old) if old in legacy.table else (http, _SERVER_KEYS[old])

    defaults = ServerSettings()
    reader, name = at("token_env")
    token_env = reader.env_name(name)
    token = _key(env, token_env, f"{reader.where}: {reader.prefix}{name}")
    reader, name = at("host")
    host = reader.get(name, str, defaults.host)
    if not host.strip():
        raise reader.fail(name, "must be an address, e.g. 127.0.0.1 or 0.0.0.0")
    reader, name = at("max_model_series")
    series = reader.get(name, int, defaults.max_model_series)
    if series < 0:
        raise reader.fail(name, "must be zero or more")
    reader, name = at("open_healthz")
    open_healthz = reader.get(name, bool, defaults.open_healthz)
    reader, name = at("max_connections")
    max_connections = reader.positive(name, int, defaults.max_connections)
    reader, name = at("timeout")
    timeout = reader.positive(name, float, defaults.timeout)
    return ServerSettings(
        host=host,
        token_env=token_env,
        token=token,
        open_healthz=open_healthz,
        max_connections=max_connections,
        timeout=timeout,
        max_model_series=series,
    )


_TOP_KEYS = {
    "database_url",
    "sources",
    "schedule",
    "sync",
    "http",
    "retention",
    "alerts",
    "outbox",
    "server",
    "run",
    "imports",
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
    path = _config_path(config_file, env)
    data = read_file(path) if path else {}
    if path is not None:
        warn_if_exposed(path, data)
    where = str(path) if path else "command line"
    top = TableReader(data, where)
    top.unknown(_TOP_KEYS)

    sync_reader = TableReader(top.get("sync", dict, {}), where, "sync.")
    limits = _limits(sync_reader, (DEFAULT_DEADLINE, DEFAULT_MAX_RESPONSE_SIZE))
    sources = _sources(top, env, limits, base_url)
    names = [s.name for s in sources]
    schedule = _schedule(TableReader(top.get("schedule", dict, {}), where, "schedule."), every)
    policy, workers = _sync(sync_reader, accept_mass_change)
    http_reader = TableReader(top.get("http", dict, {}), where, "http.")
    http = _http(http_reader)
    server = _server(http_reader, TableReader(top.get("server", dict, {}), where, "server."), env)
    stop_timeout = _duration_of(top, "run", "stop_timeout", DEFAULT_STOP_TIMEOUT)
    outbox_keep = _duration_of(top, "outbox", "keep_delivered", DEFAULT_OUTBOX_KEEP)
    alerts = parse_alert_rules(data.get("alerts", []), where, env, names)
    check_stale_after(alerts, sources, schedule, where, utcnow())
    file_url = top.get("database_url", str)
    return Settings(
        database_url=database_url
        or env.get("SYNCER_DATABASE_URL")
        or file_url
        or DEFAULT_DATABASE_URL,
        sources=tuple(sources),
        http=http,
        server=server,
        policy=policy,
        schedule=schedule,
        config_file=path,
        alerts=alerts,
        retention=_retention_kinds(parse_retention_rules(data, where, names), sources, data, where),
        outbox_keep=outbox_keep,
        workers=workers,
        stop_timeout=stop_timeout,
        imports=parse_imports(top.get("imports", list, []), where, limits),
    )


def _config_path(config_file: str | Path | None, env: Mapping[str, str]) -> Path | None:
    """``--config``, else ``$SYNCER_CONFIG``, else ``./syncer.toml`` if there is one."""
    path_text = config_file or env.get("SYNCER_CONFIG")
    if path_text:
        return Path(path_text)
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def _sources(
    top: TableReader, env: Mapping[str, str], limits: Limits, base_url: str | None
) -> list[Source]:
    """The ``[[sources]]``, each named once; without any, the one source the OpenAI SDK's
    variables (and ``--base-url``) describe."""
    sources: list[Source] = []
    for index, table in enumerate(top.get("sources", list, [])):
        if not isinstance(table, dict):
            raise top.fail(f"sources[{index}]", "each source must be a table ([[sources]])")
        sources.append(_source_from_table(table, top.where, index, env, limits))
    names = [s.name for s in sources]
    for name in names:
        if names.count(name) > 1:
            raise top.fail("sources", f"source name {name!r} is used twice")
    if sources and base_url is not None:
        raise ConfigError(
            f"{top.where}: --base-url applies only without [[sources]]; set base_url there"
        )
    if not sources:
        sources = [_environment_source(profile_for("openai"), base_url, env, limits)]
    return sources


def _schedule(reader: TableReader, every: str | None) -> Schedule:
    """``[schedule]``; ``--every`` replaces its interval and cron, for every source."""
    reader.unknown({"every", "cron", "jitter", "lease"})
    file_every, file_cron = reader.schedule()
    every_delta = file_every or DEFAULT_EVERY
    if every is not None:
        try:
            every_delta = parse_duration(every)
        except ValueError as exc:
            raise ConfigError(f"--every: {exc}") from None
        if every_delta <= timedelta(0):
            raise ConfigError("--every: must be positive")
    jitter = reader.get("jitter", (str, int, float))
    return Schedule(
        every=every_delta,
        cron=None if every is not None else file_cron,
        jitter=DEFAULT_JITTER
        if jitter is None
        else (timedelta(0) if jitter in (0, "0") else reader.duration("jitter") or DEFAULT_JITTER),
        for_all=every is not None,
        lease=reader.duration("lease") or DEFAULT_LEASE,
    )


def _sync(reader: TableReader, accept_mass_change: bool) -> tuple[SyncPolicy, int]:
    """``[sync]``: the policy against mass changes, and how many sources sync at once."""
    reader.unknown(
        {
            "mass_vanish_share",
            "accept_mass_change",
            "confirm_vanish_limit",
            "workers",
            "deadline",
            "max_response_size",
        }
    )
    share = reader.positive("mass_vanish_share", float, DEFAULT_MASS_VANISH_SHARE)
    if share > 1:
        raise reader.fail("mass_vanish_share", "must be a share between 0 and 1")
    limit = reader.get("confirm_vanish_limit", int, DEFAULT_CONFIRM_VANISH_LIMIT)
    if limit < 0:
        raise reader.fail("confirm_vanish_limit", "must be zero or more")
    workers = reader.positive("workers", int, DEFAULT_WORKERS)
    policy = SyncPolicy(
        mass_vanish_share=share,
        accept_mass_change=accept_mass_change
        or bool(reader.get("accept_mass_change", bool, False)),
        confirm_vanish_limit=limit,
    )
    return policy, workers


def _http(reader: TableReader) -> HTTPSettings:
    """``[http]``'s client settings (its server keys are read by ``_server``)."""
    defaults = HTTPSettings()
    reader.unknown(set(defaults.__dataclass_fields__) | set(_SERVER_KEYS.values()))
    http = HTTPSettings(
        connect_timeout=reader.positive("connect_timeout", float, defaults.connect_timeout),
        read_timeout=reader.positive("read_timeout", float, defaults.read_timeout),
        max_retries=reader.get("max_retries", int, defaults.max_retries),
        backoff_base=reader.positive("backoff_base", float, defaults.backoff_base),
        backoff_max=reader.positive("backoff_max", float, defaults.backoff_max),
        retry_after_cap=reader.positive("retry_after_cap", float, defaults.retry_after_cap),
    )
    if http.max_retries < 0:
        raise reader.fail("max_retries", "must be zero or more")
    public_url = reader.get("public_url", str)
    if public_url is not None:
        if not public_url.startswith(("https://", "http://")):
            raise reader.fail("public_url", "expected an http(s) URL of the HTML report")
        http = replace(http, public_url=public_url)
    return http


def _duration_of(top: TableReader, table: str, key: str, default: timedelta) -> timedelta:
    """A table that holds one duration (``[run] stop_timeout``, ``[outbox] keep_delivered``)."""
    reader = TableReader(top.get(table, dict, {}), top.where, f"{table}.")
    reader.unknown({key})
    return reader.duration(key) or default
