"""``syncer`` as a real process, for what only a real process shows: ports, signals, the
logging set up at start, a filesystem it may not write."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence

from tests.conftest import API_KEY


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without the developer's own OPENAI_*/SYNCER_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SYNCER_"))}
    return env | {"OPENAI_API_KEY": API_KEY} | extra


def syncer(
    *args: str, env: Mapping[str, str] | None = None, cwd: str | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m syncer ARGS`` to the end."""
    return subprocess.run(
        [sys.executable, "-m", "syncer", *args], capture_output=True, text=True,
        env=dict(env) if env is not None else clean_env(), cwd=cwd, timeout=timeout,
    )


def start(
    args: Sequence[str], env: Mapping[str, str] | None = None, cwd: str | None = None
) -> subprocess.Popen[str]:
    """Start ``python -m syncer ARGS`` in the background (the caller stops it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "syncer", *args], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=dict(env) if env is not None else clean_env(),
        cwd=cwd,
    )
