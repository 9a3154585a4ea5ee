"""``syncer doctor``: is this setup able to run, and if not, what to do about it.

Every check reads, none writes: the database is not created or migrated, a provider gets one
authenticated GET of its list, an alert channel's URL is only read from the environment and
looked at (`--send-test` sends each channel a test alert). Each
finding is a sentence a new user can act on; no secret (key, channel URL, database
password) is ever part of one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from syncer.config.model import AlertRule, ImportSpec, Settings, Source
from syncer.errors import (
    ConfigError,
    DeadlineError,
    HTTPStatusError,
    ProviderError,
    ProviderTimeout,
    ProviderTLSError,
    ProviderUnreachable,
    first_line,
)
from syncer.redact import shown_url
from syncer.timeutil import human_time, utcnow
from syncer.words import counted

__all__ = ["Finding", "config_failure", "diagnose"]

#: Short limits: a doctor that hangs for a minute on a dead host is no help.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 20.0


@dataclass(frozen=True)
class Finding:
    """One line of the diagnosis: ``ok``, ``warn`` (works, but look) or ``fail``."""

    status: str
    topic: str
    text: str
    fix: str | None = None

    def lines(self) -> list[str]:
        head = f"{self.status.upper():<4}  {self.topic}: {self.text}"
        return [head] if self.fix is None else [head, f"      -> {self.fix}"]


def config_failure(exc: ConfigError) -> Finding:
    return Finding("fail", "config", str(exc), "correct the file or variable it names")


def diagnose(settings: Settings, *, send_test: bool = False) -> Iterator[Finding]:
    """Every finding about ``settings``, in the order a person fixes them; ``send_test``
    also sends a test alert to each channel that passes its checks."""
    yield from _config(settings)
    engine_findings, schema_ok = _database(settings)
    yield from engine_findings
    if schema_ok:
        yield from _history(settings)
        yield from _in_use(settings)
    for source in settings.sources:
        yield _provider(settings, source)
    yield from _alerts(settings, send_test)


def _config(settings: Settings) -> Iterator[Finding]:
    names = ", ".join(s.name for s in settings.sources)
    if settings.config_file is None:
        yield Finding(
            "ok",
            "config",
            f"no config file (no --config, SYNCER_CONFIG unset): "
            f"one source, {names}, from the OPENAI_* variables",
        )
    else:
        yield Finding(
            "ok",
            "config",
            f"loaded {settings.config_file}: {len(settings.sources)} source(s): {names}",
        )
    for source in settings.sources:
        where = f"source {source.name}"
        at = f"{source.kind} at {shown_url(source.base_url)}"
        variable = source.api_key_env
        if source.api_key:
            yield Finding("ok", where, f"{at}, key from {variable}")
        elif variable is None:  # a kind that takes no key (ollama), and none configured
            yield Finding("ok", where, f"{at}, no key ({source.kind} takes none)")
        else:
            yield Finding(
                "warn",
                where,
                f"{at}, no key: {variable} is unset",
                f"set {variable} unless the server needs no key",
            )


def _database(settings: Settings) -> tuple[list[Finding], bool]:
    """Reachability and schema revision; whether the schema is current (history readable)."""
    from syncer.db.engine import parse_url, sqlite_path

    try:
        parsed = parse_url(settings.database_url)
    except ConfigError as exc:  # never the URL itself: it may hold a password
        return [
            Finding(
                "fail",
                "database",
                str(exc),
                "set SYNCER_DATABASE_URL (or database_url) to e.g. "
                "sqlite:///syncer.db or postgresql://user@host/db",
            )
        ], False
    shown = parsed.render_as_string(hide_password=True)
    path = sqlite_path(parsed)
    access = [] if path is None else _sqlite_file(shown, Path(path))
    if path is not None and not Path(path).exists():
        return access, False
    schema = _schema(settings.database_url, shown, path)
    return [*access, schema], schema.status == "ok"


def _schema(url: str, shown: str, path: str | None) -> Finding:
    """Whether the database opens, and its schema's revision against this syncer's: read
    as the read commands read it, so a SQLite file syncer may not write is still read."""
    from syncer.db import migrate
    from syncer.db.engine import make_engine
    from syncer.db.revision import HEAD, current_revision

    topic = "database"
    try:
        engine = make_engine(url, read_only=True)
    except Exception as exc:  # a bad URL or a missing driver, as SQLAlchemy words it
        hint = "check the URL; PostgreSQL needs `pip install 'model-syncer[postgres]'`"
        return Finding("fail", topic, f"{shown}: {first_line(exc)}", hint)
    try:
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        if path is not None:
            return Finding(
                "fail",
                topic,
                f"{shown}: cannot open: {first_line(exc)}",
                f"is {path} a SQLite database, and may this user read and write it?",
            )
        return Finding(
            "fail",
            topic,
            f"{shown}: cannot connect: {first_line(exc)}",
            "is the server up, and do the host, port, user and password work with psql?",
        )
    finally:
        engine.dispose()
    if current is None:
        return Finding(
            "fail",
            topic,
            f"{shown}: reachable, but empty (no syncer schema)",
            "run `syncer db upgrade`",
        )
    if current == HEAD:
        return Finding("ok", topic, f"{shown}: reachable, schema at revision {current} (current)")
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    known = {script.revision for script in scripts.walk_revisions()}
    if current in known:
        return Finding(
            "fail",
            topic,
            f"{shown}: schema at revision {current}, behind {HEAD}",
            "run `syncer db upgrade`",
        )
    return Finding(
        "fail",
        topic,
        f"{shown}: schema at revision {current}, which this syncer "
        "does not know (a newer syncer upgraded it)",
        "upgrade syncer on this machine",
    )


def _sqlite_file(shown: str, path: Path) -> list[Finding]:
    """Can ``syncer sync`` create or write the SQLite file at ``path``? It writes the file
    and creates its ``-wal`` and ``-shm`` beside it, so the directory must be writable too.
    Nothing here for a file that is fine: the schema check says so."""
    topic = "database"
    directory = path.absolute().parent
    if not directory.is_dir():
        return [
            Finding(
                "fail",
                topic,
                f"{shown}: no database file at {path}, and no directory "
                f"{directory} to create it in",
                "create the directory, or set database_url to a path in one",
            )
        ]
    if _read_only_filesystem(directory):
        return [
            Finding(
                "fail",
                topic,
                f"{shown}: {directory} is on a read-only filesystem: "
                f"`syncer sync` cannot {'write' if path.exists() else 'create'} {path}",
                "set database_url to a file on a writable filesystem; the read "
                "commands (models, report) can still read this one",
            )
        ]
    unwritable = [p for p in (path, directory) if p.exists() and not os.access(p, os.W_OK)]
    if unwritable:
        return [
            Finding(
                "fail",
                topic,
                f"{shown}: this user may not write {unwritable[0]}, so "
                "`syncer sync` cannot write the database (SQLite also creates -wal "
                "and -shm files beside it)",
                f"give this user write permission on {unwritable[0]}, or run syncer as its owner",
            )
        ]
    if not path.exists():
        return [
            Finding(
                "warn",
                topic,
                f"{shown}: no database file at {path} yet: `syncer sync` will create it",
            )
        ]
    return []


def _read_only_filesystem(directory: Path) -> bool:
    return bool(os.statvfs(directory).f_flag & os.ST_RDONLY)


def _history(settings: Settings) -> Iterator[Finding]:
    """Each source's latest sync, the leases and their holders, and undelivered alerts."""
    from syncer.db import locks
    from syncer.db.engine import make_engine, read_session
    from syncer.db.schema import OutboxAlert
    from syncer.imports import store as imports_store
    from syncer.sync.sources import unconfigured, unconfigured_warning
    from syncer.sync.store import latest_run

    engine = make_engine(settings.database_url, read_only=True)
    now = utcnow()
    try:
        with read_session(engine) as session:
            latest = {s.name: latest_run(session, s.name) for s in settings.sources}
            left = unconfigured(session, [s.name for s in settings.sources])
            leases = locks.lease_rows(session)
            imports = imports_store.latest(session, [spec.origin for spec in settings.imports])
            failed = (
                session.scalar(
                    select(func.count())
                    .select_from(OutboxAlert)
                    .where(OutboxAlert.status == "failed")
                )
                or 0
            )
    except SQLAlchemyError as exc:
        yield Finding("fail", "database", f"cannot read the history: {first_line(exc)}")
        return
    finally:
        engine.dispose()
    for name, run in latest.items():
        topic = f"source {name}"
        if run is None:
            yield Finding("warn", topic, "never synced", f"run `syncer sync --source {name}`")
        elif run.status == "ok":
            yield Finding(
                "ok",
                topic,
                f"latest sync ok at {human_time(run.finished_at)} "
                f"({counted(run.models_seen or 0, 'model')})",
            )
        else:
            yield Finding(
                "warn",
                topic,
                f"latest sync {run.status} at {human_time(run.finished_at)}: {run.error}",
                f"see `syncer runs --source {name}`; the check below may say why",
            )
    for name, present in left.items():
        text, fix = unconfigured_warning(name, present)
        yield Finding("warn", f"source {name}", text, fix)
    for spec in settings.imports:
        yield _import(spec, imports[spec.origin])
    if not leases:
        yield Finding("ok", "leases", "none taken yet (`syncer run` takes them)")
    for lease in leases:
        state = (
            f"held by {lease.holder} until {human_time(lease.expires_at)}"
            if lease.expires_at > now
            else f"free (last held by {lease.holder})"
        )
        yield Finding("ok", f"lease {lease.name}", state)
    if failed:
        yield Finding(
            "warn",
            "alerts",
            f"{failed} alert(s) failed for good",
            "see `syncer alerts --status failed`, then `syncer alerts retry`",
        )


def _import(spec: ImportSpec, run: Any) -> Finding:
    """An ``[[imports]]`` file's latest attempt (a row of ``import_runs``, with its latest
    ``ok`` one's time): a failure is a warning, as a failed sync is, since the dates of the
    last good import are still in force."""
    topic = f"import {spec.origin}"
    if run is None:
        return Finding(
            "warn",
            topic,
            "never imported yet",
            "`syncer run` imports it at start"
            + (
                f", or `syncer deprecations import --url {spec.origin}`"
                if spec.url and spec.url == spec.origin
                else ""
            ),
        )
    at = human_time(run.finished_at)
    if run.status == "ok":
        return Finding("ok", topic, f"latest import ok at {at} ({run.entries} date(s))")
    if run.status == "unchanged":
        since = human_time(run.last_ok_at) if run.last_ok_at else "?"
        return Finding("ok", topic, f"unchanged at {at} since the import at {since}")
    kept = (
        f"the dates of the import at {human_time(run.last_ok_at)} stay"
        if run.last_ok_at
        else "no import of it has worked yet"
    )
    return Finding(
        "warn",
        topic,
        f"latest import failed at {at}: {run.error}; {kept}",
        "fix the file or its URL; see `import_runs` for every attempt",
    )


def _in_use(settings: Settings) -> Iterator[Finding]:
    """For rules that depend on the models in use: is any scan recorded, and how recent."""
    from syncer.db.engine import make_engine, read_session
    from syncer.scan.usages import recorded_scans

    rules = [
        r.name
        for r in settings.alerts
        if r.in_use or any(clause.in_use for clause in r.immediate_if)
    ]
    if not rules:
        return
    engine = make_engine(settings.database_url, read_only=True)
    try:
        with read_session(engine) as session:
            scans = recorded_scans(session)
    except SQLAlchemyError as exc:
        yield Finding("fail", "database", f"cannot read model_usages: {first_line(exc)}")
        return
    finally:
        engine.dispose()
    named = ", ".join(rules)
    if not scans:
        yield Finding(
            "warn",
            "models in use",
            "no use of a model is recorded (model_usages "
            "is empty: no `syncer scan --record` yet, or none found a model id): "
            f"in_use in rule(s) {named} matches nothing, so they fire for nothing",
            "run `syncer scan --record --repository NAME` in each repository that "
            "uses models, on a schedule",
        )
        return
    latest = max(scans, key=lambda scan: scan.scanned_at)
    repositories = "1 repository" if len(scans) == 1 else f"{len(scans)} repositories"
    yield Finding(
        "ok",
        "models in use",
        f"{counted(sum(s.uses for s in scans), 'use')} "
        f"recorded in {repositories} (latest scan: {latest.repository} at "
        f"{human_time(latest.scanned_at)}), for the in_use of rule(s) {named}",
    )


def _provider(settings: Settings, source: Source) -> Finding:
    """One authenticated GET of the list: is the provider there and does it take the key?"""
    from syncer.providers.http import Client
    from syncer.sync.parse import parse_listing

    topic = f"source {source.name}"
    http = replace(
        settings.http,
        max_retries=0,
        connect_timeout=min(settings.http.connect_timeout, CONNECT_TIMEOUT),
        read_timeout=min(settings.http.read_timeout, READ_TIMEOUT),
    )
    try:
        with Client(source.endpoint(), http, secrets=settings.secrets) as client:
            listing = client.list_pages()
        parsed = parse_listing(listing.pages, None, source.profile)
    except HTTPStatusError as exc:
        return Finding("fail", topic, str(exc), _status_fix(exc.status, source.api_key_env))
    except ConfigError as exc:
        return Finding("fail", topic, str(exc), "change base_url in the config")
    except ProviderError as exc:
        return Finding("fail", topic, str(exc), _failure_fix(exc, source))
    listed = counted(parsed.listed, "model")
    works = "; the key works" if source.api_key else ""
    return Finding("ok", topic, f"{shown_url(source.base_url)} answered with {listed}{works}")


def _status_fix(status: int, variable: str | None) -> str:
    if status == 401:
        if variable is None:
            return (
                "the server wants a key: set api_key_env for this source to the variable "
                "that holds it"
            )
        return f"set {variable} to a valid API key for this provider"
    if status == 403:
        return "the key lacks permission to list models: use a key (or project) that has it"
    if status == 404:
        return "the list is not at this base_url: check it (it usually ends in /v1)"
    if status == 429:
        return "rate limited or out of credit: check the account, then try again"
    return "the provider is failing: try again later, or check its status page"


def _failure_fix(exc: ProviderError, source: Source) -> str:
    if isinstance(exc, ProviderTLSError):
        return (
            "the certificate is not trusted: if a proxy re-signs traffic, set ca_bundle "
            "for this source to its CA file"
        )
    if isinstance(exc, ProviderUnreachable | ProviderTimeout | DeadlineError):
        return (
            f"is the server at {shown_url(source.base_url)} up and reachable from here? "
            "Behind a proxy, set HTTPS_PROXY"
        )
    return "the provider does not answer as an OpenAI-compatible list: check base_url and kind"


def _alerts(settings: Settings, send_test: bool) -> Iterator[Finding]:
    """Each rule's channel: its variables set and holding the right kind of URL (never
    shown), its extra installed; with ``send_test``, a test alert through it."""
    if not settings.alerts:
        yield Finding("ok", "alerts", "no alert rules configured")
        return
    for rule in settings.alerts:
        finding = _channel(rule)
        if finding.status == "ok" and send_test:
            finding = _send_test(rule, settings.secrets)
        yield finding


def _channel(rule: AlertRule) -> Finding:
    from syncer.alerts.channels import apprise_reads, url_problem

    topic, channel = f"alert {rule.name}", rule.channel
    if channel.url is None:
        return Finding(
            "fail",
            topic,
            f"{channel.kind}: the variable {channel.url_env} is not "
            "set; alerts wait in the outbox until it is",
            f"set {channel.url_env} where syncer runs",
        )
    if channel.secret_env and channel.secret is None:
        return Finding(
            "fail",
            topic,
            f"the signing secret variable {channel.secret_env} is not set",
            f"set {channel.secret_env}, or remove secret_env",
        )
    if channel.kind == "apprise" and not _has_apprise():
        return Finding(
            "fail",
            topic,
            "apprise channels need the apprise package",
            "pip install 'model-syncer[alerts-apprise]'",
        )
    problem = url_problem(
        channel.kind, channel.url, apprise_reads if channel.kind == "apprise" else None
    )
    if problem is not None:
        return Finding(
            "fail",
            topic,
            f"{channel.kind}: the URL in {channel.url_env} {problem}",
            f"set {channel.url_env} to {_URL_KINDS[channel.kind]}",
        )
    signed = " (signed)" if channel.secret else ""
    return Finding("ok", topic, f"{rule.kind} rule to {channel.kind}{signed} via {channel.url_env}")


#: What each channel's variable should hold, said in the fix of a wrong one.
_URL_KINDS = {
    "webhook": "your receiver's https URL",
    "slack": "the Slack app's incoming webhook URL (https://hooks.slack.com/services/...)",
    "apprise": "an Apprise URL, e.g. mailto://... or pagerduty://... "
    "(see Apprise's list of services)",
}


def _send_test(rule: AlertRule, secrets: Sequence[str]) -> Finding:
    """One test alert straight to the rule's channel, as ``syncer alerts test`` sends; what
    the receiver says back is scrubbed of every configured secret (``secrets``), as it may
    quote any of them."""
    from syncer.alerts.delivery import Sender, send_probe
    from syncer.errors import DeliveryError

    topic = f"alert {rule.name}"
    sender = Sender(timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), secrets=secrets)
    try:
        alert_id = send_probe(rule, sender, utcnow())
    except DeliveryError as exc:  # its text never holds the URL
        return Finding(
            "fail",
            topic,
            f"the test alert was not taken: {exc}",
            f"check the receiver behind {rule.channel.url_env}, then "
            f"`syncer alerts test {rule.name}`",
        )
    finally:
        sender.close()
    return Finding(
        "ok",
        topic,
        f"{rule.kind} rule to {rule.channel.kind} via "
        f"{rule.channel.url_env}: test alert {alert_id} delivered",
    )


def _has_apprise() -> bool:
    try:
        import apprise  # noqa: F401
    except ImportError:
        return False
    return True
