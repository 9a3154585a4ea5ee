"""``syncer demo``: the real sync, alerts, retention plan and report, on a recorded history.

Nothing is stubbed: the real ``Client`` talks HTTP to a provider on 127.0.0.1 that replays
the recording, the real ``Syncer`` writes the database, the real ``Dispatcher`` delivers
alerts to a receiver on 127.0.0.1, and the report is the one ``syncer report html`` writes.
Only the clock is simulated: it jumps from one recorded sync moment to the next, and every
part reads it, so two years pass in seconds. After the first sync, the real scan reads a
small application's files (``DEMO_APP``) and records where it uses model ids, as
``syncer scan --record`` does, so the ``in_use`` rule pages for the models it uses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from syncer.alerts.delivery import Dispatcher
from syncer.alerts.deprecations import import_deprecations
from syncer.alerts.hook import alert_hook
from syncer.config.model import AlertRule, Channel, HTTPSettings, RetentionRule, Source
from syncer.db import migrate
from syncer.db.engine import make_engine, write_session
from syncer.db.revision import current_revision
from syncer.db.schema import SyncRun
from syncer.demo.history import DATA_FILE, History, load_history
from syncer.demo.servers import AlertReceiver, ReplayProvider
from syncer.errors import ConfigError
from syncer.files import write_atomically
from syncer.providers.http import Client
from syncer.reporting.history_queries import snapshot_session
from syncer.reporting.html import report_html
from syncer.retention.apply import plan_source
from syncer.retention.plan import RetentionPlan
from syncer.scan.matcher import Matcher
from syncer.scan.run import scan_data
from syncer.scan.store import read_inventory
from syncer.scan.usages import record_usages
from syncer.scan.verdict import Index
from syncer.sync.run import Syncer, SyncResult
from syncer.timeutil import parse_duration

__all__ = ["DemoResult", "SimulatedClock", "run_demo"]

#: The origin of the demo's imported dates: its recording (every import names one).
DEMO_ORIGIN = f"syncer/demo/{DATA_FILE}"

#: The demo's alerts go to its own receiver; the variable is never read.
RECEIVER_ENV = "SYNCER_DEMO_RECEIVER_URL"

#: The repository the demo scans, and its files: code using three of the recorded models.
DEMO_REPOSITORY = "demo-app"
DEMO_APP = {
    "app/complete.py": ('from openai import OpenAI\n\nCOMPLETION_MODEL = "text-davinci-002"\n'),
    "app/chat.py": (
        "import openai\n\n"
        "def reply(messages):\n"
        '    return openai.chat.completions.create(model="gpt-3.5-turbo-0301", '
        "messages=messages)\n"
    ),
    "config/models.yaml": "summaries:\n  model: gpt-3.5-turbo-0301\n",
}


class SimulatedClock:
    """A ``now`` that the demo moves; every part of syncer takes it as its clock."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@dataclass
class DemoResult:
    history: History
    database_url: str
    report: Path
    syncs: list[tuple[datetime, SyncResult]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    plan: RetentionPlan | None = None

    @property
    def digests(self) -> list[dict[str, Any]]:
        """The weekly digests the receiver got, in order."""
        return [a for a in self.alerts if a.get("kind") == "digest"]

    @property
    def pages(self) -> list[dict[str, Any]]:
        """What the ``in_use`` rule sent at once: the models the demo app uses, gone."""
        return [a for a in self.alerts if a.get("rule") == "page"]

    def statuses(self) -> Counter[str]:
        return Counter(result.status for _, result in self.syncs)


def _rules(receiver_url: str) -> tuple[AlertRule, ...]:
    channel = Channel(kind="webhook", url_env=RECEIVER_ENV, url=f"{receiver_url}/alerts")
    return (
        AlertRule("shutdowns", "shutdown", channel),
        AlertRule(
            "changes", "events", channel, kinds=("vanished", "retired", "reappeared", "changed")
        ),
        # What a team reads on Monday mornings: the week's news in one message.
        AlertRule(
            "weekly",
            "events",
            channel,
            deliver="digest",
            schedule="0 9 * * MON",
            timezone="Europe/Paris",
        ),
        # What cannot wait: a model the demo app uses is gone.
        AlertRule("page", "events", channel, kinds=("vanished", "retired"), in_use=True),
    )


def _record_scan(session: Session, now: datetime) -> None:
    """Scan ``DEMO_APP`` against the inventory as it is now and record where it uses ids,
    as ``syncer scan --record --repository demo-app`` would in its checkout."""
    index = Index(read_inventory(session, now))
    matcher = Matcher(index.known_ids())
    findings = [
        finding
        for path, text in DEMO_APP.items()
        for finding in scan_data(text.encode(), path, matcher, index, now)
    ]
    record_usages(session.connection(), DEMO_REPOSITORY, findings, now)


def _check_empty(engine: Engine) -> None:
    """Refuse a database that holds anything: the demo must not mix with real history."""
    if current_revision(engine) is None:
        return
    with engine.connect() as connection:
        runs = connection.scalar(select(func.count()).select_from(SyncRun))
    if runs:
        where = engine.url.render_as_string(hide_password=True)
        raise ConfigError(
            f"{where} already holds syncer data; the demo needs an empty database "
            "(delete the file or pass another --database-url)"
        )


def _deliver(dispatcher: Dispatcher) -> None:
    while dispatcher.dispatch().delivered:
        pass


def run_demo(
    database_url: str, report: Path, *, progress: Callable[[str], None] = lambda line: None
) -> DemoResult:
    """Replay the recording into ``database_url`` and write the HTML report to ``report``."""
    history = load_history()
    clock = SimulatedClock(history.start)
    result = DemoResult(history, database_url, report)
    engine = make_engine(database_url)
    try:
        _check_empty(engine)
        migrate.upgrade(engine)
        with ReplayProvider(history, clock) as provider, AlertReceiver() as receiver:
            rules = _rules(receiver.url)
            source = Source(history.source, base_url=provider.base_url)
            # The clock is simulated, so waiting between retries would only slow the demo.
            client = Client(source.endpoint(), HTTPSettings(max_retries=1), sleep=lambda _: None)
            syncer = Syncer(engine, client, source.name, now=clock, on_synced=alert_hook(rules))
            dispatcher = Dispatcher(engine, rules, now=clock)
            previous: datetime | None = None
            with client:
                for step in history.steps():
                    clock.moment = step
                    announced = history.announced_between(previous, step)
                    if announced:
                        with write_session(engine) as session, session.begin():
                            # Where the replacements come from: the demo's own recording.
                            import_deprecations(session, announced, step, origin=DEMO_ORIGIN)
                    outcome = syncer.run()
                    if previous is None:
                        with write_session(engine) as session, session.begin():
                            _record_scan(session, step)
                    _deliver(dispatcher)
                    result.syncs.append((step, outcome))
                    quiet = outcome.ok and not (
                        outcome.added or outcome.vanished or outcome.reappeared or outcome.changed
                    )
                    if not quiet:
                        progress(f"{step:%Y-%m-%d}  {outcome.summary()}")
                    previous = step
            dispatcher.sender.close()
            result.alerts = list(receiver.alerts)
        rule = RetentionRule(
            max_age=parse_duration(history.retention.get("max_age", "180d")),
            include=tuple(history.retention.get("include", ())),
            keep_latest=int(history.retention.get("keep_latest", 1)),
        )
        result.plan = plan_source(engine, source.name, rule, clock())
        with snapshot_session(engine) as session:
            page = report_html(session, clock())
        write_atomically(report, page)
    finally:
        engine.dispose()
    return result
