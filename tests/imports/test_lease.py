"""Replicas share an import: one imports, the others skip; a one-shot import waits for the
replica that holds the lease and then says who it is."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

from click.testing import Result
from sqlalchemy import create_engine, func, insert, select

from syncer.db.tables import import_runs_table, leases_table
from syncer.imports.plan import lease_name
from syncer.timeutil import utcnow
from tests.fakes import FakeProvider
from tests.imports.conftest import DatesFile
from tests.imports.test_url import FIRST
from tests.processes import clean_env, start, syncer

Invoke = Callable[..., Result]


def _attempts(database_url: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(import_runs_table))
    engine.dispose()
    return int(count or 0)


def test_two_replicas_import_a_file_once(
    provider: FakeProvider, dates_file: DatesFile, tmp_path: Path, database_url: str
) -> None:
    provider.set("a")
    url = dates_file.url("dates.csv")
    dates_file.body = FIRST
    config = tmp_path / "run.toml"
    config.write_text(
        f'[[sources]]\nname = "openai"\nbase_url = "{provider.base_url}"\n\n'
        f'[[imports]]\nurl = "{url}"\nevery = "1h"\n'
    )
    env = clean_env(SYNCER_DATABASE_URL=database_url)
    assert syncer("--config", str(config), "db", "upgrade", env=env).returncode == 0
    outputs: list[list[str]] = [[], []]
    with ExitStack() as stack:  # closes the pipes and waits for both at the end
        replicas = [
            stack.enter_context(start(["--config", str(config), "run"], env)) for _ in outputs
        ]
        readers = []
        for replica, lines in zip(replicas, outputs, strict=True):
            stream = replica.stderr
            assert stream is not None
            reader = threading.Thread(target=lambda s=stream, o=lines: o.extend(s), daemon=True)
            reader.start()
            readers.append(reader)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(
            f"import {url}: skipped: " in "".join(lines) or f"from {url}" in "".join(lines)
            for lines in outputs
        ):
            time.sleep(0.1)
        for replica in replicas:
            replica.send_signal(signal.SIGTERM)
        for replica in replicas:
            replica.wait(timeout=30)
        for reader in readers:
            reader.join(timeout=15)

    logs = ["".join(lines) for lines in outputs]
    assert sum(f"imported 2 shutdown date(s) from {url}" in log for log in logs) == 1, logs
    assert sum(f"import {url}: skipped: " in log for log in logs) == 1, logs
    assert _attempts(database_url) == 1
    assert len(dates_file.headers) == 1


def test_a_one_shot_import_waits_for_the_replica_holding_the_lease_then_names_it(
    invoke: Invoke,
    provider: FakeProvider,
    dates_file: DatesFile,
    tmp_path: Path,
    database_url: str,
) -> None:
    url = dates_file.url("dates.csv")
    dates_file.body = FIRST
    config = tmp_path / "lease.toml"
    config.write_text(
        '[schedule]\nlease = "1s"\n\n'
        f'[[sources]]\nname = "openai"\nbase_url = "{provider.base_url}"\n'
    )
    assert invoke("--config", str(config), "db", "upgrade").exit_code == 0
    engine = create_engine(database_url)
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            insert(leases_table).values(
                name=lease_name(url),
                holder="web-2:41",
                acquired_at=now,
                expires_at=now + timedelta(minutes=5),
            )
        )
    engine.dispose()

    started = time.monotonic()
    busy = invoke("--config", str(config), "deprecations", "import", "--url", url)

    assert busy.exit_code == 1
    assert time.monotonic() - started >= 1
    assert busy.stderr.startswith(f"Error: replica web-2:41 is importing {url} now (lease until ")
    assert busy.stderr.endswith("); try again later\n")
    assert dates_file.headers == [] and _attempts(database_url) == 0
