"""A provider's answer is bounded: in size per response, and in time per sync.

A hostile or broken provider (or a proxy in between) can drip its answer a byte a second,
which no read timeout catches, or send a body without end. Either fails the sync in one
line, recorded as a failed run, with no model row changed.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import Engine, select

from syncer.config.load import load_settings
from syncer.config.model import HTTPSettings, Source
from syncer.db.engine import read_session
from syncer.db.tables import runs_table, state_table
from syncer.errors import DeadlineError, ResponseTooLargeError
from syncer.providers.http import Client
from tests.fakes import FakeProvider

LISTING = b'{"object": "list", "data": [{"id": "x", "object": "model", "created": 1}]}'


class RawServer:
    """A loopback server that answers every connection with ``answer(connection)``, on a
    thread per connection, until closed."""

    def __init__(self, answer: Callable[[socket.socket], None]) -> None:
        self.answer = answer
        self.stopping = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.sent = 0
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(5)
            try:
                head = b""
                while b"\r\n\r\n" not in head:
                    head += connection.recv(4096)
                self.answer(connection)
            except OSError:  # the client gave up on us: what these servers are for
                pass

    def send(self, connection: socket.socket, data: bytes) -> None:
        connection.sendall(data)
        self.sent += len(data)

    def close(self) -> None:
        self.stopping.set()
        self.thread.join()
        self.listener.close()


@pytest.fixture
def dripping() -> Iterator[RawServer]:
    """A whole, valid listing, sent one byte a second after prompt headers."""

    def answer(connection: socket.socket) -> None:
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(LISTING)
        )
        for byte in LISTING:
            if server.stopping.wait(1):
                return
            server.send(connection, bytes([byte]))

    server = RawServer(answer)
    yield server
    server.close()


@pytest.fixture
def flooding() -> Iterator[RawServer]:
    """A body without length or end, sent as fast as the client reads."""

    def answer(connection: socket.socket) -> None:
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
        )
        chunk = b'{"data": [' + b" " * 65526
        while not server.stopping.is_set() and server.sent < 1 << 30:
            server.send(connection, chunk)

    server = RawServer(answer)
    yield server
    server.close()


def stored(engine: Engine) -> list[Any]:
    with read_session(engine) as session:
        return list(session.execute(select(state_table).order_by(state_table.c.model_id)))


def latest_run(engine: Engine) -> Any:
    with read_session(engine) as session:
        return session.execute(select(runs_table).order_by(runs_table.c.id.desc()).limit(1)).one()


def error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("Error: ")]


def test_a_provider_dripping_its_answer_fails_the_sync_at_its_deadline(
    invoke: Callable[..., Result],
    provider: FakeProvider,
    engine: Engine,
    dripping: RawServer,
    tmp_path: Path,
) -> None:
    provider.set("a", "b")
    assert invoke("sync").exit_code == 0
    before = stored(engine)
    config = tmp_path / "syncer.toml"
    config.write_text('[sync]\ndeadline = "2s"\n')

    started = time.monotonic()
    result = invoke("--config", str(config), "--base-url", dripping.base_url, "sync")
    took = time.monotonic() - started

    assert result.exit_code == 1
    (line,) = error_lines(result)
    assert line.startswith("Error: openai: FAILED after ")
    assert "the sync's deadline of 2 s passed (deadline)" in line
    assert took < 5, "stopped at the deadline, not when the body ended"
    assert 0 < dripping.sent < len(LISTING)
    run = latest_run(engine)
    assert run.status == "failed" and "deadline" in run.error
    assert stored(engine) == before


def test_a_provider_sending_a_body_without_end_fails_the_sync_at_the_size_cap(
    invoke: Callable[..., Result],
    provider: FakeProvider,
    engine: Engine,
    flooding: RawServer,
    tmp_path: Path,
) -> None:
    provider.set("a", "b")
    assert invoke("sync").exit_code == 0
    before = stored(engine)
    config = tmp_path / "syncer.toml"
    config.write_text('[sync]\nmax_response_size = "1MB"\n')

    result = invoke("--config", str(config), "--base-url", flooding.base_url, "sync")

    assert result.exit_code == 1
    (line,) = error_lines(result)
    assert "the response is larger than 1 MB (max_response_size); not read further" in line
    assert flooding.sent < 16 << 20, "the client stopped reading"
    run = latest_run(engine)
    assert run.status == "failed" and "max_response_size" in run.error
    assert stored(engine) == before


def test_a_declared_length_over_the_cap_is_refused_before_the_body_is_read() -> None:
    def answer(connection: socket.socket) -> None:
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: 10000000000\r\n\r\n"
        )
        server.stopping.wait(10)

    server = RawServer(answer)
    try:
        source = Source("openai", server.base_url, max_response_size=1 << 20)
        started = time.monotonic()
        with (
            Client(source.endpoint(), HTTPSettings(max_retries=0)) as client,
            pytest.raises(ResponseTooLargeError, match=r"9\.3 GB"),
        ):
            client.list_pages()
        assert time.monotonic() - started < 2
    finally:
        server.close()


def test_the_deadline_bounds_retries_and_their_waits(provider: FakeProvider) -> None:
    for _ in range(10):
        provider.fail_next(503, '{"error": {"message": "busy"}}')
    from datetime import timedelta

    source = Source("openai", provider.base_url, deadline=timedelta(seconds=1))
    started = time.monotonic()
    with (
        Client(source.endpoint(), HTTPSettings(max_retries=8, backoff_base=0.4)) as client,
        pytest.raises(DeadlineError, match="deadline of 1 s passed"),
    ):
        client.list_pages()
    assert time.monotonic() - started < 2


def test_sync_limits_apply_to_every_source_unless_one_sets_its_own(tmp_path: Path) -> None:
    config = tmp_path / "syncer.toml"
    config.write_text(
        '[sync]\ndeadline = "5m"\nmax_response_size = "512KB"\n'
        '[[sources]]\nname = "a"\n'
        '[[sources]]\nname = "b"\ndeadline = "30s"\nmax_response_size = 2048\n'
    )
    a, b = load_settings(config_file=config, env={}).sources
    assert (a.deadline.total_seconds(), a.max_response_size) == (300, 512 * 1024)
    assert (b.deadline.total_seconds(), b.max_response_size) == (30, 2048)


@pytest.mark.parametrize("value", ['"lots"', "0", '"-1MB"', "true"])
def test_a_size_that_is_not_one_is_a_configuration_error(tmp_path: Path, value: str) -> None:
    from syncer.errors import ConfigError

    config = tmp_path / "syncer.toml"
    config.write_text(f"[sync]\nmax_response_size = {value}\n")
    with pytest.raises(ConfigError, match=r"sync\.max_response_size: "):
        load_settings(config_file=config, env={})
