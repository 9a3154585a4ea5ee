"""The settings, as frozen dataclasses: built and validated once by ``load``, then trusted.

Secrets (API keys, channel URLs, signing secrets) are fields kept out of ``repr`` and out of
comparisons, so a settings object can be logged or shown in a traceback without leaking one;
so are the URLs that may hold a password (a base URL, the database URL). ``Settings.secrets``
lists every one of them, as text that must be masked wherever it is quoted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from fnmatch import fnmatchcase
from functools import cached_property
from pathlib import Path

from syncer.errors import ConfigError
from syncer.providers.endpoint import Endpoint, RequestPolicy
from syncer.providers.openai import DEFAULT_BASE_URL
from syncer.providers.profile import Profile, profile_for
from syncer.redact import credential_secrets, header_secrets, shown_url, url_secrets

__all__ = [
    "ALERT_EVENT_KINDS",
    "DEFAULT_BASE_URL",
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_DATABASE_URL",
    "DEFAULT_DEADLINE",
    "DEFAULT_DIGEST_LIMIT",
    "DEFAULT_IMPORT_EVERY",
    "DEFAULT_LEASE",
    "DEFAULT_MAX_RESPONSE_SIZE",
    "DEFAULT_OUTBOX_KEEP",
    "DEFAULT_SOURCE_NAME",
    "DEFAULT_STOP_TIMEOUT",
    "DEFAULT_THRESHOLDS",
    "DEFAULT_WORKERS",
    "IMPORT_FORMATS",
    "MODEL_EVENT_KINDS",
    "NO_CONFIG_FILE",
    "RULE_ALERT_KINDS",
    "RULE_KINDS",
    "AlertRule",
    "Channel",
    "HTTPSettings",
    "ImportSpec",
    "RetentionRule",
    "Schedule",
    "ServerSettings",
    "Settings",
    "Source",
    "SyncPolicy",
    "Urgency",
]

#: The file read when neither ``--config`` nor ``$SYNCER_CONFIG`` names one, if it exists.
DEFAULT_CONFIG_FILE = Path("syncer.toml")
#: Said in errors about a missing rule or source when no file was read, the likely cause.
NO_CONFIG_FILE = "no configuration file loaded (--config FILE, $SYNCER_CONFIG or ./syncer.toml)"
DEFAULT_DATABASE_URL = "sqlite:///syncer.db"
DEFAULT_SOURCE_NAME = "openai"
DEFAULT_EVERY = timedelta(minutes=15)
DEFAULT_JITTER = timedelta(seconds=30)
#: How long a replica's claim on a job lasts unless renewed (see ``db.locks``).
DEFAULT_LEASE = timedelta(minutes=1)
#: How long a delivered alert stays in the outbox before it is pruned.
DEFAULT_OUTBOX_KEEP = timedelta(days=90)
DEFAULT_MASS_VANISH_SHARE = 0.5
DEFAULT_CONFIRM_VANISH_LIMIT = 20
DEFAULT_KEEP_LATEST = 1
DEFAULT_MAX_DELETES = 10
DEFAULT_RETENTION_EVERY = timedelta(days=1)
DEFAULT_THRESHOLDS = (90, 30, 7, 1)
#: How long one sync may wait on its provider in all (``deadline``): above the worst a
#: healthy provider takes with the default retries, and below the default interval.
DEFAULT_DEADLINE = timedelta(minutes=10)
#: The most bytes read of one response (``max_response_size``): a listing of a million
#: models is about 120 MB.
DEFAULT_MAX_RESPONSE_SIZE = 256 * 1024 * 1024
#: How many sources sync at once (``[sync] workers``): enough to overlap the providers'
#: answers, few enough that the database's writers queue briefly, not for long.
DEFAULT_WORKERS = 16
#: How long a stop waits for the work in flight (``[run] stop_timeout``): under the grace
#: periods of systemd (90 s) and Kubernetes (30 s), which kill the process after them.
DEFAULT_STOP_TIMEOUT = timedelta(seconds=20)

#: What ``model_events.kind`` holds: written by a sync (``shutdown_changed`` by an import of
#: dates too), then by retention, and ``source_retired`` by ``syncer sources retire``.
MODEL_EVENT_KINDS = (
    "added",
    "vanished",
    "reappeared",
    "changed",
    "shutdown_changed",
    "status_changed",
    "deleted",
    "delete_failed",
    "source_retired",
)
#: What an events rule can match: the kinds a sync or retention stores, plus ``retired`` (a
#: model that vanished at, after or shortly before its known shutdown date, as opposed to a
#: surprise). A source's retirement is a person's command, not news to alert about.
ALERT_EVENT_KINDS = ("added", "vanished", "retired", *MODEL_EVENT_KINDS[2:-1])
RULE_KINDS = ("events", "shutdown", "stale")
#: The kinds of alert each kind of rule raises.
RULE_ALERT_KINDS = {
    "events": ALERT_EVENT_KINDS,
    "shutdown": ("shutdown",),
    "stale": ("stale", "recovered"),
}
#: How many items a digest shows per group of a source before "and N more".
DEFAULT_DIGEST_LIMIT = 10
#: What an ``[[imports]]`` file can hold: LiteLLM's model map, or a CSV or TOML file of
#: shutdown dates (``syncer.alerts.deprecations``).
IMPORT_FORMATS = ("litellm", "csv", "toml")
#: How often ``syncer run`` imports each ``[[imports]]`` file again.
DEFAULT_IMPORT_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class HTTPSettings(RequestPolicy):
    """``[http]``: how hard the client tries (``RequestPolicy``), and where the report is."""

    #: Where people reach the HTML report (``syncer run --metrics-port`` behind a proxy):
    #: a digest links to it when it leaves items out.
    public_url: str | None = None


@dataclass(frozen=True)
class ServerSettings:
    """``syncer run --metrics-port``'s HTTP server (its keys of ``[http]``): private unless told.

    It shows base URLs and sync errors, so it listens on loopback by default; it serves a
    few connections at a time, each for at most ``timeout`` seconds, so idle or slow
    clients cannot take the descriptors the syncs need.
    """

    host: str = "127.0.0.1"
    #: The variable holding the bearer token every request must carry; None: no token.
    token_env: str | None = None
    token: str | None = field(default=None, repr=False, compare=False)
    #: ``/healthz`` answers without the token (a load balancer's probe carries none).
    open_healthz: bool = False
    #: Connections served at once; more wait in the kernel's queue, holding no descriptor.
    max_connections: int = 16
    #: Seconds a connection may last, from accepting it to the end of the answer.
    timeout: float = 10.0
    #: Most per-model series ``/metrics`` shows (the soonest shutdowns first).
    max_model_series: int = 1000


@dataclass(frozen=True)
class Source:
    """One provider endpoint and the key to use with it.

    ``kind`` names its provider profile (``providers.profile_for``). The key, the base URL
    (it may hold a password or a key) and the headers are excluded from ``repr`` so they
    cannot reach a log line or a traceback.
    """

    name: str
    base_url: str = field(default=DEFAULT_BASE_URL, repr=False)
    api_key: str | None = field(default=None, repr=False, compare=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    every: timedelta | None = None
    cron: str | None = None
    kind: str = "openai"
    #: The kind's API flavour (Azure: ``v1`` or ``classic``); None: the kind's default.
    api: str | None = None
    #: Sent as the profile's version parameter (Azure's ``api-version``), over its default.
    api_version: str | None = None
    #: The variable the key was read from: shown by ``syncer sources``, named when the
    #: provider says a key is missing.
    api_key_env: str | None = field(default=None, compare=False)
    #: A CA bundle (PEM) to trust instead of the system's, e.g. a corporate proxy's CA.
    ca_bundle: str | None = None
    #: False only by an explicit ``verify_tls = false``; every sync then logs a warning.
    verify_tls: bool = True
    #: How long one sync (or retention run) may wait on the provider, from its first request
    #: to its last byte: pages, vanish checks, retries and their waits included.
    deadline: timedelta = DEFAULT_DEADLINE
    #: The most bytes of one response read (after decompression); a longer one fails.
    max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE

    @property
    def profile(self) -> Profile:
        return profile_for(self.kind, self.api)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every credential of this source as it may be quoted: the key, the base URL's
        password (or lone user name) and query values, and each header's value."""
        found = [*credential_secrets(self.base_url), *header_secrets(self.headers)]
        return tuple([self.api_key, *found] if self.api_key else found)

    def endpoint(self) -> Endpoint:
        """What the HTTP client reads of this source."""
        return Endpoint(
            name=self.name,
            base_url=self.base_url,
            profile=self.profile,
            api_key=self.api_key,
            headers=self.headers,
            api_version=self.api_version,
            api_key_env=self.api_key_env,
            ca_bundle=self.ca_bundle,
            verify_tls=self.verify_tls,
            deadline=self.deadline,
            max_response_size=self.max_response_size,
            secrets=self.secrets,
        )


@dataclass(frozen=True)
class ImportSpec:
    """A file of shutdown dates to import (``[[imports]]``, or ``deprecations import --url``):
    at a URL (https, or http to loopback) or a path, in one of ``IMPORT_FORMATS``.

    The URL may hold a token (``?token=``), so it is kept out of ``repr``; ``origin`` is
    what is stored and shown of it.
    """

    format: str
    url: str | None = field(default=None, repr=False)
    #: Absolute (the config file's directory resolves a relative one).
    path: str | None = None
    every: timedelta = DEFAULT_IMPORT_EVERY
    #: The limits of a fetch, as a source's: ``[sync]``'s unless the table sets its own.
    deadline: timedelta = DEFAULT_DEADLINE
    max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE

    @property
    def origin(self) -> str:
        """Where its dates come from, as ``deprecations.origin`` and ``import_runs.origin``
        hold it: the URL with its password and query masked, or the path."""
        return shown_url(self.url) if self.url else str(self.path)


@dataclass(frozen=True)
class SyncPolicy:
    """The safety rules a sync applies before it changes anything."""

    mass_vanish_share: float = DEFAULT_MASS_VANISH_SHARE
    accept_mass_change: bool = False
    confirm_vanish_limit: int = DEFAULT_CONFIRM_VANISH_LIMIT


@dataclass(frozen=True)
class Schedule:
    """When ``syncer run`` syncs each source: a source's own ``every``/``cron`` wins, unless
    ``run --every`` set ``for_all`` (the interval of every source, as the option says)."""

    every: timedelta = DEFAULT_EVERY
    cron: str | None = None
    jitter: timedelta = DEFAULT_JITTER
    for_all: bool = False

    def of(self, source: Source) -> tuple[timedelta | None, str | None]:
        """The source's ``(every, cron)``, exactly one of them set: the one place that says
        whose schedule wins."""
        if self.for_all:
            return self.every, None
        if source.cron or source.every:
            return source.every, source.cron
        return (None, self.cron) if self.cron else (self.every, None)

    #: How soon a replica that died mid-job is replaced by another one.
    lease: timedelta = DEFAULT_LEASE


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
    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)
    sources: tuple[Source, ...] = ()
    http: HTTPSettings = HTTPSettings()
    server: ServerSettings = ServerSettings()
    policy: SyncPolicy = SyncPolicy()
    schedule: Schedule = Schedule()
    config_file: Path | None = None
    #: The ``[[alerts]]`` rules, validated with the rest.
    alerts: tuple[AlertRule, ...] = ()
    #: Each source's retention rule by source name; a source without one is absent.
    retention: Mapping[str, RetentionRule] = field(default_factory=dict)
    #: Delivered alerts older than this leave the outbox (``[outbox] keep_delivered``).
    outbox_keep: timedelta = DEFAULT_OUTBOX_KEEP
    #: How many sources ``syncer sync`` and ``syncer run`` sync at once (``[sync] workers``).
    workers: int = DEFAULT_WORKERS
    #: How long SIGINT/SIGTERM waits for the work in flight before abandoning it.
    stop_timeout: timedelta = DEFAULT_STOP_TIMEOUT
    #: The files of shutdown dates ``syncer run`` imports on a schedule (``[[imports]]``).
    imports: tuple[ImportSpec, ...] = ()

    @cached_property
    def secrets(self) -> tuple[str, ...]:
        """Every secret configured, and what of each must not be quoted: the sources'
        credentials, the channels' URLs and signing secrets, the database's password, the
        HTTP server's token.

        Worked out once per settings: each of 1,000 sources' clients asked for it, which
        parsed every source's URL a thousand times (three quarters of the CPU of one
        ``syncer sync``)."""
        found = {*credential_secrets(self.database_url, query=False), self.server.token or ""}
        for source in self.sources:
            found.update(source.secrets)
        for rule in self.alerts:
            found.update([*url_secrets(rule.channel.url), rule.channel.secret or ""])
        for spec in self.imports:
            found.update(credential_secrets(spec.url))
        found.discard("")
        return tuple(sorted(found, key=len, reverse=True))

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources)
        raise ConfigError(f"unknown source {name!r} (configured: {known}){self.no_file_note}")

    @property
    def no_file_note(self) -> str:
        """``; no configuration file loaded (...)`` when none was, for errors about what a
        file would have declared; empty otherwise."""
        return "" if self.config_file is not None else f"; {NO_CONFIG_FILE}"

    def select(self, name: str | None) -> tuple[Source, ...]:
        """The sources a command acts on: one by name, or all of them."""
        return self.sources if name is None else (self.source(name),)


@dataclass(frozen=True)
class Channel:
    """Where a rule's alerts go; the URL and the secret are kept out of ``repr``."""

    kind: str
    url_env: str
    url: str | None = field(default=None, repr=False, compare=False)
    secret_env: str | None = None
    secret: str | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Urgency:
    """One ``immediate_if`` clause of a digest rule: an alert meeting all its conditions
    (one of ``kinds``, a shutdown within ``days_left``, a model in use) goes out at once."""

    kinds: tuple[str, ...] = ()
    days_left: int | None = None
    in_use: bool = False


@dataclass(frozen=True)
class AlertRule:
    """One ``[[alerts]]`` table. Empty ``sources``/``models`` match everything."""

    name: str
    kind: str
    channel: Channel
    sources: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ALERT_EVENT_KINDS
    #: Days before a shutdown to alert at, largest first.
    thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS
    #: None: three of the source's sync intervals.
    stale_after: timedelta | None = None
    #: ``immediate`` (each alert as it comes) or ``digest`` (one message per ``schedule``).
    deliver: str = "immediate"
    #: A digest's cron expression, read in ``timezone`` (an IANA name).
    schedule: str | None = None
    timezone: str = "UTC"
    #: Send a digest even when its window holds nothing.
    send_empty: bool = False
    #: Leave out of a digest a model added and gone again within its window.
    drop_transient: bool = False
    digest_limit: int = DEFAULT_DIGEST_LIMIT
    #: What a digest rule sends at once anyway: any one clause will do.
    immediate_if: tuple[Urgency, ...] = ()
    #: Quiet hours ((hour, minute) start, end) in ``timezone``: alerts due then wait.
    quiet: tuple[tuple[int, int], tuple[int, int]] | None = None
    #: The days (``mon`` ... ``sun``) a quiet window starts on; empty: every day.
    quiet_days: tuple[str, ...] = ()
    #: Alert kinds that do not wait for quiet hours to end (``stale``, say).
    quiet_exempt: tuple[str, ...] = ()
    #: Only the models the latest recorded scan of some repository found in use
    #: (``syncer scan --record``); without a recorded scan, none.
    in_use: bool = False

    def covers_source(self, source: str) -> bool:
        return not self.sources or source in self.sources

    def covers_model(self, model_id: str) -> bool:
        return not self.models or any(fnmatchcase(model_id, glob) for glob in self.models)
