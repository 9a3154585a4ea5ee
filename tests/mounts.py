"""A directory on a filesystem mounted read-only: even root cannot write there, so it is
how a test gets a SQLite file syncer may read but not write (a snapshot, a reporting copy)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = ["freeze", "tmpfs"]


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@contextmanager
def tmpfs(where: Path) -> Iterator[Path]:
    """``where``, a new directory on a small tmpfs of its own (skips without the rights)."""
    where.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=16m", "tmpfs", str(where)):
        pytest.skip("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def freeze(directory: Path) -> None:
    """Remount ``directory``'s tmpfs read-only."""
    assert _mount("-o", "remount,ro", str(directory))
    with pytest.raises(OSError):
        (directory / "probe").touch()
