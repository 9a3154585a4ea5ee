"""The container image (deploy/container/Containerfile), built with podman and run: the demo,
a sync against a loopback provider and this machine's PostgreSQL, and its health check.

Opt in with SYNCER_TEST_CONTAINER=1 (``.ci/run`` sets it): the build takes about a minute.
The base is ``localhost/debian-min:bookworm`` (``.ci/container-base`` makes it once: this
machine reaches no image registry), so the image gets Debian's Python 3.11; pip installs
from a wheelhouse built on the host and served on 127.0.0.1, as from a mirror.
Containers use the host's network, so they reach the provider and PostgreSQL on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from syncer.db.engine import make_engine, read_session
from syncer.db.schema import Model
from tests.fakes import API_KEY, FakeProvider, closed_port

ROOT = Path(__file__).parents[2]
BASE = "localhost/debian-min:bookworm"
CONF = ROOT / ".ci" / "containers.conf"
TAG = "localhost/syncer-test:latest"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("SYNCER_TEST_CONTAINER") != "1",
        reason="builds a container image: set SYNCER_TEST_CONTAINER=1 (.ci/run does)",
    ),
]


def podman(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ | {"CONTAINERS_CONF": str(CONF)},
        check=False,
    )


def wheelhouse() -> Path:
    """The dependencies' wheels as a PEP 503 index, built on the host (which reaches the
    package index) once per pyproject.toml and kept in the user's cache between runs."""
    pyproject = (ROOT / "pyproject.toml").read_bytes()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    index = cache / "syncer-test-wheels" / hashlib.sha256(pyproject).hexdigest()[:16]
    if (index / "simple").is_dir():
        return index
    document = tomllib.loads(pyproject.decode())
    project = document["project"]
    wanted = [
        *project["dependencies"],
        *project["optional-dependencies"]["postgres"],
        *document["build-system"]["requires"],
    ]
    wheels = index.with_name(index.name + ".partial")
    shutil.rmtree(wheels, ignore_errors=True)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "-w", str(wheels), *wanted],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    # One folder per normalised project name, with an index.html of its wheels.
    for wheel in wheels.glob("*.whl"):
        name = wheel.name.split("-")[0].lower().replace("_", "-").replace(".", "-")
        project = wheels / "simple" / name
        project.mkdir(parents=True, exist_ok=True)
        wheel.rename(project / wheel.name)
        with (project / "index.html").open("a") as page:
            page.write(f'<a href="{wheel.name}">{wheel.name}</a>\n')
    wheels.rename(index)
    return index


def serve(index: Path) -> tuple[subprocess.Popen[bytes], int]:
    """The index over HTTP on 127.0.0.1, on a port fixed by the wheelhouse's name when it is
    free: the index URL is a build argument, part of the key of podman's layer cache, so the
    same URL lets the next run reuse the dependency layer (``--volume`` would disable it)."""
    port = 20000 + int(index.name, 16) % 20000
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            port = closed_port()  # taken: a fresh port, and the layer is built again
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(index),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    with socket.socket() as probe:
        while probe.connect_ex(("127.0.0.1", port)) != 0:
            assert time.monotonic() < deadline and server.poll() is None, "no index server"
            time.sleep(0.1)
    return server, port


def build(tmp_path: Path) -> str:
    """Build the image from the checkout, and give its id: the dependency layer comes from
    podman's cache while pyproject.toml is the same; syncer's own layer is built every time.

    The image stays, tagged ``TAG``, and holds that cache for the next run; removing it would
    remove its layers too. The previous run's image is removed once this one is built (only
    the layers the two do not share go)."""
    if shutil.which("podman") is None or podman("image", "exists", BASE).returncode != 0:
        pytest.fail(f"SYNCER_TEST_CONTAINER=1 needs podman and {BASE}: run .ci/container-base")
    before = podman("image", "inspect", "--format", "{{.Id}}", TAG).stdout.strip()
    server, port = serve(wheelhouse())
    written = tmp_path / "image-id"
    try:
        built = podman(
            "build",
            "--format",
            "docker",
            "--network",
            "host",
            "--build-arg",
            f"BASE={BASE}",
            "--build-arg",
            f"PIP_INDEX_URL=http://127.0.0.1:{port}/simple",
            "-f",
            str(ROOT / "deploy" / "container" / "Containerfile"),
            "-t",
            TAG,
            "--iidfile",
            str(written),
            str(ROOT),
            timeout=600,
        )
    finally:
        server.terminate()
        server.wait()
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    image = written.read_text().strip().removeprefix("sha256:")
    if before and before != image:
        podman("rmi", before)
    return image


@pytest.fixture
def image(tmp_path: Path) -> str:
    return build(tmp_path)


def user_of(image: str) -> list[str]:
    ran = podman("run", "--rm", "--entrypoint", "id", image)
    return ran.stdout.split()[:2]


def demo(image: str) -> None:
    ran = podman("run", "--rm", "--network", "host", image, "demo")
    assert ran.returncode == 0, ran.stderr
    assert "syncer --database-url sqlite:///syncer-demo.db deprecations" in ran.stdout


def sync(image: str, provider: FakeProvider, postgres_url: str) -> None:
    provider.set("gpt-4o", "o1", "gpt-4-0613")
    ran = podman(
        "run",
        "--rm",
        "--network",
        "host",
        "-e",
        f"OPENAI_API_KEY={API_KEY}",
        "-e",
        f"OPENAI_BASE_URL={provider.base_url}",
        "-e",
        f"SYNCER_DATABASE_URL={postgres_url}",
        image,
        "sync",
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("openai: 3 models, 3 added"), ran.stdout
    engine = make_engine(postgres_url)
    with read_session(engine) as session:
        present = session.scalar(select(func.count()).select_from(Model))
    engine.dispose()
    assert present == 3


def healthy_then_stopped(image: str, provider: FakeProvider) -> None:
    """The default command (``syncer run``, SQLite in the volume) until the image's own
    HEALTHCHECK passes, then a stop within syncer's stop timeout, exit code 0."""
    name = f"syncer-test-{uuid.uuid4().hex[:8]}"
    started = podman(
        "run",
        "--detach",
        "--name",
        name,
        "--network",
        "host",
        "-e",
        f"OPENAI_API_KEY={API_KEY}",
        "-e",
        f"OPENAI_BASE_URL={provider.base_url}",
        image,
    )
    assert started.returncode == 0, started.stderr
    try:
        deadline = time.monotonic() + 60
        while (checked := podman("healthcheck", "run", name)).returncode != 0:
            assert time.monotonic() < deadline, checked.stdout + podman("logs", name).stderr
            time.sleep(0.5)
        stopped = podman("stop", "--time", "30", name)
        assert stopped.returncode == 0, stopped.stderr
        assert podman("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip() == "0"
    finally:
        podman("rm", "--force", name)


@pytest.mark.postgres
def test_the_image_builds_and_runs_the_demo_a_sync_and_its_health_check(
    image: str, provider: FakeProvider, postgres_url: str
) -> None:
    # One test, one build: under pytest-xdist a module fixture would build once per worker.
    assert user_of(image) == ["uid=10001(syncer)", "gid=10001(syncer)"]
    demo(image)
    sync(image, provider, postgres_url)
    healthy_then_stopped(image, provider)
