"""The HTTP server of ``syncer run --metrics-port``: private by default, bounded, guarded.

Through a real ``syncer run`` process where what matters is the process (the address it
listens on, the descriptors it holds), and through the real server on 127.0.0.1 otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine

from syncer.config.model import HTTPSettings, ServerSettings, Settings, Source, SyncPolicy
from syncer.errors import ConfigError
from syncer.providers.http import Client
from syncer.runtime.server import serve
from syncer.sync.run import Syncer
from tests.fakes import API_KEY, FakeProvider
from tests.processes import clean_env, start, syncer
from tests.receivers import Clock

LISTENING = re.compile(r"metrics on http://([^:/]+):(\d+)/metrics")
TOKEN = "s3cret-token-for-tests"


@contextmanager
def running(
    args: list[str], env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], str, int]]:
    """``syncer run ARGS`` in the background until its server listens; yields the process
    and the address it logged; stops it with SIGTERM at the end."""
    lines: list[str] = []
    with start(args, env) as daemon:
        stream = daemon.stderr
        assert stream is not None
        reader = threading.Thread(target=lambda: lines.extend(stream), daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + 30
            while not (found := LISTENING.search("".join(lines))):
                assert time.monotonic() < deadline and daemon.poll() is None, "".join(lines)
                time.sleep(0.05)
            yield daemon, found[1], int(found[2])
        finally:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=15)
            finally:
                if daemon.poll() is None:
                    daemon.kill()
            reader.join(timeout=15)


def other_address() -> str | None:
    """An address of this machine that is not loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


def accepted(pid: int, port: int) -> int:
    """How many connections to ``port`` the process holds open (not its listening socket)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            listening = fields[3] == "0A"
            count += local_port == port and not listening and fields[9] in inodes
    return count


def run_args(
    provider: FakeProvider, tmp_path: Path, *extra: str, database_url: str | None = None
) -> list[str]:
    database = database_url or f"sqlite:///{tmp_path / 'syncer.db'}"
    return [
        "--base-url",
        provider.base_url,
        "--database-url",
        database,
        *extra,
        "run",
        "--every",
        "1h",
        "--metrics-port",
        "0",
    ]


def test_run_listens_on_loopback_only_by_default(
    provider: FakeProvider, tmp_path: Path, database_url: str
) -> None:
    provider.set("gpt-4o")
    with running(run_args(provider, tmp_path, database_url=database_url)) as (_, host, port):
        assert host == "127.0.0.1"
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code in (
            200,
            503,
        )
        other = other_address()
        if other is not None:
            with pytest.raises(requests.ConnectionError):
                requests.get(f"http://{other}:{port}/healthz", timeout=5)


def test_idle_connections_time_out_and_do_not_starve_the_server(
    provider: FakeProvider, tmp_path: Path, database_url: str
) -> None:
    config = tmp_path / "syncer.toml"
    config.write_text("[http]\nserver_max_connections = 2\nserver_timeout = 1\n")
    provider.set("gpt-4o")
    args = run_args(provider, tmp_path, "--config", str(config), database_url=database_url)
    with running(args) as (daemon, _, port):
        idle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(4)]
        try:
            counts = [accepted(daemon.pid, port)]
            until = time.monotonic() + 3
            while counts[-1] < 2 and time.monotonic() < until:
                counts.append(accepted(daemon.pid, port))
            held = max(counts + [accepted(daemon.pid, port) for _ in range(5)])
            started = time.monotonic()
            answer = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
            waited = time.monotonic() - started
            closed_by_server = idle[0].recv(1)
        finally:
            for sock in idle:
                sock.close()

    assert held == 2, "only max_connections idle connections hold a descriptor"
    assert answer.status_code in (200, 503)
    assert waited < 6, "four idle connections over two slots of 1 s each: about 2 s"
    assert closed_by_server == b""


def test_a_token_guards_every_page_but_an_open_healthz(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    server = ServerSettings(token_env="SYNCER_TOKEN", token=TOKEN, open_healthz=True)
    settings = Settings(sources=(Source("openai", provider.base_url),), server=server)

    with serve(engine, settings, "127.0.0.1", 0, now=clock) as (host, port):
        base = f"http://{host}:{port}"
        bare = {
            path: requests.get(base + path, timeout=5)
            for path in ("/", "/metrics", "/shutdowns.ics")
        }
        wrong = requests.get(f"{base}/metrics", headers={"Authorization": "Bearer nope"}, timeout=5)
        right = requests.get(
            f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
        )
        health = requests.get(f"{base}/healthz", timeout=5)

    assert {path: r.status_code for path, r in bare.items()} == {
        "/": 401,
        "/metrics": 401,
        "/shutdowns.ics": 401,
    }
    assert bare["/metrics"].headers["WWW-Authenticate"].startswith("Bearer")
    assert TOKEN not in bare["/"].text
    assert wrong.status_code == 401
    assert right.status_code == 200 and "syncer_database_up" in right.text
    assert health.status_code in (200, 503) and "status" in health.json()


def test_healthz_needs_the_token_too_unless_configured_open(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    server = ServerSettings(token_env="SYNCER_TOKEN", token=TOKEN)
    settings = Settings(sources=(Source("openai", provider.base_url),), server=server)
    with serve(engine, settings, "127.0.0.1", 0, now=clock) as (host, port):
        health = requests.get(f"http://{host}:{port}/healthz", timeout=5)
    assert health.status_code == 401


def test_a_token_variable_that_is_unset_stops_the_start_in_one_line(
    provider: FakeProvider, tmp_path: Path
) -> None:
    config = tmp_path / "syncer.toml"
    config.write_text('[http]\ntoken_env = "SYNCER_METRICS_TOKEN"\n')
    result = syncer(*run_args(provider, tmp_path, "--config", str(config)), env=clean_env())
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert errors == [
        "Error: [http] token_env: SYNCER_METRICS_TOKEN is not set; set it to the token, "
        "or remove token_env to serve without one"
    ], result.stderr
    assert provider.requests == []


def test_a_token_from_the_environment_guards_a_real_run(
    provider: FakeProvider, tmp_path: Path
) -> None:
    config = tmp_path / "syncer.toml"
    config.write_text('[http]\ntoken_env = "SYNCER_METRICS_TOKEN"\nopen_healthz = true\n')
    env = clean_env(SYNCER_METRICS_TOKEN=TOKEN)
    with running(run_args(provider, tmp_path, "--config", str(config)), env) as (_, host, port):
        closed = requests.get(f"http://{host}:{port}/metrics", timeout=5)
        opened = requests.get(
            f"http://{host}:{port}/metrics", timeout=5, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        health = requests.get(f"http://{host}:{port}/healthz", timeout=5)
    assert (closed.status_code, opened.status_code) == (401, 200)
    assert health.status_code in (200, 503)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_unset_token_refused_by_serve_before_listening(
    engine: Engine, provider: FakeProvider
) -> None:
    server = ServerSettings(token_env="SYNCER_TOKEN")
    settings = Settings(sources=(Source("openai", provider.base_url),), server=server)
    with (
        pytest.raises(ConfigError, match="SYNCER_TOKEN is not set"),
        serve(engine, settings, "127.0.0.1", 0),
    ):
        pass


def test_the_served_report_allows_only_its_own_script(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    source = Source("openai", provider.base_url, api_key=API_KEY)
    provider.set("gpt-4o")
    with Client(source.endpoint(), HTTPSettings(max_retries=0)) as client:
        Syncer(engine, client, "openai", SyncPolicy(), now=clock).run()
    settings = Settings(sources=(source,))

    with serve(engine, settings, "127.0.0.1", 0, now=clock) as (host, port):
        page = requests.get(f"http://{host}:{port}/", timeout=10)

    policy = dict(
        directive.strip().split(" ", 1)
        for directive in page.headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert "unsafe-inline" not in policy["script-src"]
    scripts = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert policy["script-src"] == f"'sha256-{digest}'"


def test_a_bad_server_key_is_one_line(provider: FakeProvider, tmp_path: Path) -> None:
    config = tmp_path / "syncer.toml"
    config.write_text("[http]\nserver_max_connections = 0\n")
    result = syncer(*run_args(provider, tmp_path, "--config", str(config)))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"Error: {config}: http.server_max_connections: must be positive"
    )


def test_a_server_table_still_works_with_a_one_line_warning_naming_http(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """``[server]`` held these keys before they moved to ``[http]``: a file written then
    keeps working, and says where its keys go now."""
    config = tmp_path / "syncer.toml"
    config.write_text('[server]\ntoken_env = "SYNCER_METRICS_TOKEN"\ntimeout = 1\n')
    provider.set("gpt-4o")
    env = clean_env(SYNCER_METRICS_TOKEN=TOKEN)
    with running(run_args(provider, tmp_path, "--config", str(config)), env) as (_, host, port):
        closed = requests.get(f"http://{host}:{port}/metrics", timeout=5)
    assert closed.status_code == 401
    result = syncer(
        "--config",
        str(config),
        "--base-url",
        provider.base_url,
        "--database-url",
        f"sqlite:///{tmp_path / 'syncer.db'}",
        "sync",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.endswith(
        f"WARNING syncer.config.load: {config}: [server] is deprecated: move its keys to "
        "[http] (timeout as server_timeout)"
    )


def test_a_server_key_also_set_in_http_is_an_error_naming_both(tmp_path: Path) -> None:
    config = tmp_path / "syncer.toml"
    config.write_text('[http]\nhost = "127.0.0.1"\n\n[server]\nhost = "0.0.0.0"\n')
    result = syncer("--config", str(config), "sources")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"Error: {config}: server.host: also set as http.host; keep that one ([server] is "
        "deprecated)"
    )


def test_settings_do_not_show_the_token() -> None:
    server = ServerSettings(token_env="SYNCER_TOKEN", token=TOKEN)
    assert TOKEN not in repr(replace(Settings(), server=server))


def renders(base: str) -> dict[str, float]:
    text = requests.get(f"{base}/metrics", timeout=10).text
    return {
        match[1]: float(match[2])
        for match in re.finditer(r'^syncer_page_renders_total\{page="(\w+)"\} (\S+)$', text, re.M)
    }


def test_a_page_is_rendered_once_per_change_not_per_request(
    engine: Engine, provider: FakeProvider, clock: Clock
) -> None:
    source = Source("openai", provider.base_url, api_key=API_KEY)
    settings = Settings(sources=(source,))

    def sync() -> None:
        with Client(source.endpoint(), HTTPSettings(max_retries=0)) as client:
            Syncer(engine, client, "openai", SyncPolicy(), now=clock).run()

    provider.set("gpt-4o")
    sync()
    with serve(engine, settings, "127.0.0.1", 0, now=clock) as (host, port):
        base = f"http://{host}:{port}"
        first, second = (requests.get(f"{base}/", timeout=10) for _ in range(2))
        unchanged = requests.get(
            f"{base}/", timeout=10, headers={"If-None-Match": first.headers["ETag"]}
        )
        after_first = renders(base)
        provider.set("gpt-4o", "o3")
        sync()
        changed = requests.get(f"{base}/", timeout=10)
        clock.advance(minutes=1)
        next_minute = requests.get(f"{base}/", timeout=10)
        calendars = [requests.get(f"{base}/shutdowns.ics", timeout=10) for _ in range(3)]
        after_all = renders(base)

    assert first.status_code == second.status_code == 200
    assert first.headers["ETag"] == second.headers["ETag"] and first.content == second.content
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    assert after_first == {"report": 1, "calendar": 0, "inventory": 0}
    assert "o3" in changed.text and changed.headers["ETag"] != first.headers["ETag"]
    assert next_minute.headers["ETag"] != changed.headers["ETag"]
    assert {c.headers["ETag"] for c in calendars} == {calendars[0].headers["ETag"]}
    assert after_all == {"report": 3, "calendar": 1, "inventory": 0}
