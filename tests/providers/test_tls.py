"""TLS against a real HTTPS server on 127.0.0.1, its certificate issued by a test CA."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer

from syncer.cli import cli
from tests.conftest import clear_settings_env
from tests.fakes import API_KEY, FakeProvider

Syncer = Callable[..., Result]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_provider(ca: trustme.CA) -> Iterator[FakeProvider]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    provider = FakeProvider(server)
    provider.set("gpt-4o", "o1")
    yield provider
    server.clear()
    server.stop()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "corporate-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def syncer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Syncer:
    """``syncer --config FILE ARGS`` with the source a test describes, on a SQLite file."""
    clear_settings_env(monkeypatch, "REQUESTS_", "CURL_")
    monkeypatch.setenv("TLS_KEY", API_KEY)

    def run(source: str, *args: str) -> Result:
        config = tmp_path / "syncer.toml"
        config.write_text(
            f'[http]\nmax_retries = 0\n\n[[sources]]\nname = "tls"\n'
            f'api_key_env = "TLS_KEY"\n{source}'
        )
        return CliRunner().invoke(
            cli,
            [
                "--config",
                str(config),
                "--database-url",
                f"sqlite:///{tmp_path / 'syncer.db'}",
                *args,
            ],
        )

    return run


def test_a_source_trusting_its_ca_bundle_syncs_over_tls(
    syncer: Syncer, tls_provider: FakeProvider, ca_file: Path
) -> None:
    result = syncer(f'base_url = "{tls_provider.base_url}"\nca_bundle = "{ca_file}"\n', "sync")

    assert result.exit_code == 0, result.output
    assert "tls: 2 models, 2 added" in result.output
    assert tls_provider.requests[0].headers["Authorization"] == f"Bearer {API_KEY}"


def test_a_relative_ca_bundle_is_found_beside_the_config_file(
    syncer: Syncer, tls_provider: FakeProvider, ca_file: Path
) -> None:
    result = syncer(f'base_url = "{tls_provider.base_url}"\nca_bundle = "{ca_file.name}"\n', "sync")

    assert result.exit_code == 0, result.output
    assert "tls: 2 models, 2 added" in result.output


def test_a_certificate_from_an_unknown_ca_fails_the_sync_and_doctor_says_what_to_do(
    syncer: Syncer, tls_provider: FakeProvider
) -> None:
    result = syncer(f'base_url = "{tls_provider.base_url}"\n', "sync")

    assert result.exit_code == 1
    assert "tls: FAILED" in result.output and "TLS handshake failed" in result.output
    assert "certificate verify failed" in result.output
    assert tls_provider.requests == []  # no request got through, so the key never left

    doctor = syncer(f'base_url = "{tls_provider.base_url}"\n', "doctor")
    assert doctor.exit_code == 1
    lines = doctor.output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("FAIL  source tls: "))
    assert lines[at].startswith(
        f"FAIL  source tls: GET {tls_provider.base_url}/models: TLS handshake failed: "
    )
    assert "certificate verify failed" in lines[at]
    assert lines[at + 1] == (
        "      -> the certificate is not trusted: if a proxy re-signs "
        "traffic, set ca_bundle for this source to its CA file"
    )


def test_the_requests_ca_bundle_variable_is_honoured(
    syncer: Syncer, tls_provider: FakeProvider, ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))

    result = syncer(f'base_url = "{tls_provider.base_url}"\n', "sync")

    assert result.exit_code == 0, result.output
    assert "tls: 2 models, 2 added" in result.output
    assert tls_provider.requests[0].headers["Authorization"] == f"Bearer {API_KEY}"


def test_verification_is_off_only_by_verify_tls_false_and_every_sync_warns(
    syncer: Syncer, tls_provider: FakeProvider
) -> None:
    source = f'base_url = "{tls_provider.base_url}"\nverify_tls = false\n'

    first, second = syncer(source, "sync"), syncer(source, "sync")

    for result in (first, second):
        assert result.exit_code == 0, result.output
        assert (
            "WARNING syncer.providers.http: tls: TLS certificate verification is off "
            "(verify_tls = false)" in result.output
        )
    assert API_KEY not in first.output + second.output


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ('ca_bundle = "missing.pem"', "sources[0].ca_bundle: 'missing.pem' is not a file"),
        ('verify_tls = "no"', "sources[0].verify_tls: expected bool, got str 'no'"),
        (
            'ca_bundle = "corporate-ca.pem"\nverify_tls = false',
            "sources[0].verify_tls: false contradicts ca_bundle: set one or the other",
        ),
    ],
)
def test_tls_settings_that_make_no_sense_are_one_line_and_exit_2(
    syncer: Syncer, tls_provider: FakeProvider, ca_file: Path, line: str, error: str
) -> None:
    result = syncer(f'base_url = "{tls_provider.base_url}"\n{line}\n', "sync")

    assert result.exit_code == 2
    assert result.output.strip().endswith(error)
    assert len(result.output.strip().splitlines()) == 1
    assert tls_provider.requests == []
