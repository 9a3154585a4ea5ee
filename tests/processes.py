"""``syncer`` as a real process, for what only a real process shows: ports, signals, the
logging set up at start, a filesystem it may not write."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from tests.fakes import API_KEY


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without the developer's own OPENAI_*/SYNCER_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SYNCER_"))}
    return env | {"OPENAI_API_KEY": API_KEY} | extra


def syncer(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m syncer ARGS`` to the end."""
    return subprocess.run(
        [sys.executable, "-m", "syncer", *args],
        capture_output=True,
        text=True,
        env=dict(env) if env is not None else clean_env(),
        cwd=cwd,
        timeout=timeout,
    )


def start(
    args: Sequence[str], env: Mapping[str, str] | None = None, cwd: str | None = None
) -> subprocess.Popen[str]:
    """Start ``python -m syncer ARGS`` in the background (the caller stops it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "syncer", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(env) if env is not None else clean_env(),
        cwd=cwd,
    )


def run_until(
    args: Sequence[str],
    done: Callable[[str], bool],
    env: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, str]:
    """Start ``syncer ARGS`` (a daemon), stop it with SIGTERM once ``done(stderr so far)`` says
    so (or at ``timeout``), and give back its exit code and whole stderr."""
    lines: list[str] = []
    with start(args, env) as daemon:  # closes the pipes and waits at the end
        stream = daemon.stderr
        assert stream is not None
        reader = threading.Thread(target=lambda: lines.extend(stream), daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and not done("".join(lines)):
                time.sleep(0.1)
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=15)
            reader.join(timeout=15)
        finally:
            if daemon.poll() is None:
                daemon.kill()
    return daemon.returncode, "".join(lines)
