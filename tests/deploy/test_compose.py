"""deploy/container/compose.yaml, read as compose would: no compose tool or PostgreSQL image is
reachable from this machine, so it is checked against the Containerfile and syncer's own
settings, not started (tests/deploy/test_container.py runs the image itself)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from syncer.config.model import DEFAULT_STOP_TIMEOUT
from syncer.db.engine import parse_url
from syncer.timeutil import parse_duration

HERE = Path(__file__).parents[2] / "deploy" / "container"


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((HERE / "compose.yaml").read_text())
    return document


def test_compose_builds_the_containerfile_from_the_repository_root() -> None:
    build = compose()["services"]["syncer"]["build"]
    root = (HERE / build["context"]).resolve()
    assert (root / build["dockerfile"]) == HERE / "Containerfile"
    assert (root / "pyproject.toml").is_file()


def test_syncer_reaches_the_compose_database_with_a_url_it_accepts() -> None:
    services = compose()["services"]
    environment = services["syncer"]["environment"]
    written = re.sub(r"\$\{POSTGRES_PASSWORD[^}]*\}", "secret", environment["SYNCER_DATABASE_URL"])
    url = parse_url(written)
    database = services["db"]["environment"]
    assert (url.drivername, url.host, url.port) == ("postgresql+psycopg", "db", 5432)
    assert (url.username, url.database) == (database["POSTGRES_USER"], database["POSTGRES_DB"])
    assert services["syncer"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["db"]["volumes"] == ["pgdata:/var/lib/postgresql/data"]


def test_compose_keeps_secrets_out_of_the_file_and_the_port_on_loopback() -> None:
    syncer = compose()["services"]["syncer"]
    assert syncer["env_file"] == "syncer.env"
    assert syncer["ports"] == ["127.0.0.1:9464:9464"]
    assert parse_duration(syncer["stop_grace_period"]) > DEFAULT_STOP_TIMEOUT
    assert "password" not in (HERE / "compose.yaml").read_text().lower().replace(
        "postgres_password", ""
    )
