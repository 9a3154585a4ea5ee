"""Credentials beyond the API key (issue 21, items 5, 6 and 8): a password or key in a base
URL, a configured header, a key echoed by a redirect, another channel's URL quoted by a
receiver. Each is a secret everywhere the key is, and none reaches a proxy in clear."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests
from werkzeug import Response

from tests.cli.test_secrets import every_row
from tests.fakes import API_KEY, FakeProvider, closed_port
from tests.processes import clean_env, start, syncer
from tests.receivers import Receiver

PASSWORD = "pw-URLPASS-5b2d"
QUERY_KEY = "QK-URLKEY-8e41"
HEADER_TOKEN = "HDRTOKEN-31c7"


def assert_clean(where: str, text: str, secrets: tuple[str, ...]) -> None:
    for secret in secrets:
        assert secret not in text, f"{secret} in {where}:\n{text}"


def test_a_base_urls_password_and_key_and_a_header_appear_nowhere(
    provider: FakeProvider, tmp_path: Path, database_url: str
) -> None:
    port = provider.server.port
    config = tmp_path / "syncer.toml"
    config.write_text(
        "[http]\nmax_retries = 1\nbackoff_base = 0.01\nbackoff_max = 0.01\n\n"
        f'[[sources]]\nname = "userinfo"\nbase_url = "http://bob:{PASSWORD}@127.0.0.1:{port}/v1"\n'
        f'headers = {{ "X-Team-Token" = "Bearer {HEADER_TOKEN}" }}\n\n'
        f'[[sources]]\nname = "query"\nbase_url = "http://127.0.0.1:{port}/v1?key={QUERY_KEY}"\n'
    )
    env = clean_env(SYNCER_CONFIG=str(config), SYNCER_DATABASE_URL=database_url)
    outputs: list[tuple[str, str]] = []

    def run(*args: str, code: int | None = 0) -> subprocess.CompletedProcess[str]:
        done = syncer(*args, env=env)
        outputs.append((f"syncer {' '.join(args)}", done.stdout + done.stderr))
        if code is not None:
            assert done.returncode == code, done.stderr
        return done

    # The provider fails and quotes every credential it was sent, then fails again.
    echo = f"denied: bob:{PASSWORD} {QUERY_KEY} Bearer {HEADER_TOKEN}"
    provider.queue += [Response(echo, status=503) for _ in range(4)]
    failed = run("-v", "sync", code=1)
    assert "retry 1 of 1" in failed.stderr, "the retry lines were printed"
    assert "bob:***@127.0.0.1" in failed.stderr
    run("runs")
    run("runs", "--format", "json")
    sources = json.loads(run("sources", "--format", "json").stdout)
    assert {s["base_url"] for s in sources} == {
        f"http://bob:***@127.0.0.1:{port}/v1",
        f"http://127.0.0.1:{port}/v1?key=***",
    }
    run("doctor", code=1)
    page = tmp_path / "report.html"
    run("report", "html", "-o", str(page))
    outputs.append(("the HTML report", page.read_text()))
    daemon_port = closed_port()
    daemon = start(
        ["run", "--metrics-port", str(daemon_port), "--metrics-host", "127.0.0.1"], env=env
    )
    try:
        front = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "userinfo" not in front:
            try:
                front = requests.get(f"http://127.0.0.1:{daemon_port}/", timeout=10).text
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)
        daemon.send_signal(signal.SIGTERM)
        out, err = daemon.communicate(timeout=15)
    finally:
        daemon.kill()
    assert "userinfo" in front
    outputs += [("syncer run", out + err), ("/", front)]

    assert any(
        r.authorization and r.authorization.password == PASSWORD for r in provider.requests
    ), "the password was really sent"
    for where, text in outputs:
        assert_clean(where, text, (PASSWORD, QUERY_KEY, HEADER_TOKEN))
    assert_clean("the database", every_row(database_url), (PASSWORD, QUERY_KEY, HEADER_TOKEN))


@pytest.mark.parametrize(
    ("base_url", "headers", "what"),
    [
        (f"http://bob:{PASSWORD}@example.invalid/v1", "", "credentials"),
        (f"http://example.invalid/v1?key={QUERY_KEY}", "", "credentials"),
        (
            "http://example.invalid/v1",
            f'headers = {{ "X-Team-Token" = "{HEADER_TOKEN}" }}',
            "the configured headers",
        ),
    ],
)
def test_a_credential_in_the_url_or_a_header_is_refused_over_plain_http(
    tmp_path: Path, base_url: str, headers: str, what: str
) -> None:
    config = tmp_path / "syncer.toml"
    config.write_text(f'[[sources]]\nname = "far"\nbase_url = "{base_url}"\n{headers}\n')
    env = clean_env(
        SYNCER_CONFIG=str(config), SYNCER_DATABASE_URL=f"sqlite:///{tmp_path / 'syncer.db'}"
    )
    del env["OPENAI_API_KEY"]

    done = syncer("sync", env=env)

    assert done.returncode == 2
    assert f"refusing to send {what} in clear text" in done.stderr
    assert_clean("stderr", done.stderr, (PASSWORD, QUERY_KEY, HEADER_TOKEN))


class _Proxy(BaseHTTPRequestHandler):
    """A forward proxy that records what it was asked and forwards nothing."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(f"{self.requestline} {self.headers.get('Authorization')}")
        self.send_error(502)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def proxy() -> Iterator[str]:
    _Proxy.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_loopback_source_never_goes_through_the_environments_proxy(
    provider: FakeProvider, proxy: str, tmp_path: Path, database_url: str
) -> None:
    provider.set("gpt-4o")
    env = {k: v for k, v in clean_env().items() if k.lower() != "no_proxy"}
    env |= {
        "HTTP_PROXY": proxy,
        "http_proxy": proxy,
        "ALL_PROXY": proxy,
        "OPENAI_BASE_URL": provider.base_url,
        "SYNCER_DATABASE_URL": database_url,
    }
    # The proxy really is in the way of any other client in this environment.
    via = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import requests; print(requests.get({provider.base_url!r} + '/models').status_code)",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert via.stdout.strip() == "502" and len(_Proxy.seen) == 1
    _Proxy.seen.clear()

    done = syncer("sync", env=env)

    assert done.returncode == 0, done.stderr
    assert _Proxy.seen == []
    assert provider.requests[-1].headers["Authorization"] == f"Bearer {API_KEY}"


def test_a_key_echoed_in_a_redirects_location_is_never_printed_or_stored(
    invoke: Any, provider: FakeProvider
) -> None:
    provider.fail_next(302, "", Location=f"https://127.0.0.1:9/v1/models?key={API_KEY}")
    provider.fail_next(301, "", Location=f"https://127.0.0.1:9/{API_KEY}/v1")

    first, second = invoke("sync"), invoke("sync")
    runs = invoke("runs", "--format", "json").stdout

    assert "redirect to https://127.0.0.1:9/v1/models?key=***" in first.stderr
    assert "redirect to https://127.0.0.1:9/" in second.stderr
    for text in (first.output, second.output, runs):
        assert API_KEY not in text


def test_an_error_page_quoting_another_channels_url_is_stored_scrubbed(
    provider: FakeProvider, tmp_path: Path, database_url: str
) -> None:
    refusing = Receiver(path="/hooks/refusing")
    other = Receiver(path="/services/OTHER-CHANNEL-SECRET-77")
    try:
        refusing.status = 400
        refusing.refusal = f"bad request; the team's hook is {other.url}"
        config = tmp_path / "syncer.toml"
        config.write_text(
            f'[[sources]]\nname = "openai"\nbase_url = "{provider.base_url}"\n\n'
            '[[alerts]]\nname = "first"\nwebhook_url_env = "FIRST_URL"\n\n'
            '[[alerts]]\nname = "second"\nkind = "stale"\nwebhook_url_env = "SECOND_URL"\n'
        )
        env = clean_env(
            SYNCER_CONFIG=str(config),
            SYNCER_DATABASE_URL=database_url,
            FIRST_URL=refusing.url,
            SECOND_URL=other.url,
        )
        provider.set("a")
        assert syncer("sync", env=env).returncode == 0
        provider.set("a", "b")
        synced = syncer("-v", "sync", env=env)
        listed = syncer("alerts", "--format", "json", env=env)
    finally:
        refusing.close()
        other.close()

    assert refusing.refused == 1
    (alert,) = json.loads(listed.stdout)
    assert alert["status"] == "failed"
    assert alert["last_error"].startswith("webhook: HTTP 400: bad request; the team's hook is")
    for where, text in (
        ("sync", synced.stdout + synced.stderr),
        ("alerts", listed.stdout),
        ("the database", every_row(database_url)),
    ):
        assert "OTHER-CHANNEL-SECRET-77" not in text, where


DB_PASSWORD = "dbpw-S3CR"


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://bob:{DB_PASSWORD}@t@127.0.0.1:5432/db",  # an '@' left unencoded
        f"postgresql://bob:{DB_PASSWORD}@127.0.0.1:x5432/db",  # a port SQLAlchemy cannot read
    ],
)
@pytest.mark.parametrize("command", [("runs",), ("sync",), ("doctor",)])
def test_a_malformed_database_url_is_one_line_without_its_password(
    url: str, command: tuple[str, ...], provider: FakeProvider
) -> None:
    provider.set("a")
    env = clean_env(SYNCER_DATABASE_URL=url, OPENAI_BASE_URL=provider.base_url)

    done = syncer(*command, env=env)

    assert "Traceback" not in done.stderr
    assert DB_PASSWORD not in done.stdout + done.stderr and "S3CR" not in done.stdout + done.stderr
    if command == ("doctor",):
        assert done.returncode == 1
        assert "FAIL  database: the database URL" in done.stdout
    else:
        assert done.returncode == 2
        (line,) = done.stderr.splitlines()
        assert line.startswith("Error: the database URL")


def test_doctor_shows_a_working_postgresql_url_without_its_password(postgres_url: str) -> None:
    url = postgres_url.replace("postgres@", f"postgres:{DB_PASSWORD}@", 1)
    assert DB_PASSWORD in url
    env = clean_env(SYNCER_DATABASE_URL=url, OPENAI_BASE_URL="http://127.0.0.1:9/v1")

    upgraded = syncer("db", "upgrade", env=env)
    done = syncer("doctor", env=env)

    assert upgraded.returncode == 0, upgraded.stderr
    assert "postgres:***@" in done.stdout
    assert DB_PASSWORD not in done.stdout + done.stderr + upgraded.stdout + upgraded.stderr


def test_the_settings_repr_shows_no_password(tmp_path: Path) -> None:
    from syncer.config.load import load_settings

    config = tmp_path / "syncer.toml"
    config.write_text(f'[[sources]]\nname = "far"\nbase_url = "https://bob:{PASSWORD}@h/v1"\n')
    settings = load_settings(
        config_file=config,
        env={
            "SYNCER_DATABASE_URL": f"postgresql://bob:{DB_PASSWORD}@127.0.0.1/db",
        },
    )

    assert "far" in repr(settings)
    assert DB_PASSWORD not in repr(settings) and PASSWORD not in repr(settings)
    assert {DB_PASSWORD, PASSWORD} <= set(settings.secrets)
