"""The systemd units in deploy/systemd, checked by ``systemd-analyze verify`` and
``systemd-analyze security``, with ``ExecStart`` pointed at this checkout's ``syncer``
(``verify`` checks that the command exists).

Without systemd-analyze these tests skip, unless SYNCER_REQUIRE_SYSTEMD=1 (CI), where they
fail instead.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from syncer.config.model import DEFAULT_STOP_TIMEOUT
from syncer.timeutil import parse_duration
from tests.processes import syncer

UNITS = Path(__file__).parents[2] / "deploy" / "systemd"
NAMES = ("syncer.service", "syncer-sync.service", "syncer-sync.timer")
INSTALLED = "/opt/syncer/bin/syncer"


def analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        if os.environ.get("SYNCER_REQUIRE_SYSTEMD") == "1":
            pytest.fail("SYNCER_REQUIRE_SYSTEMD=1 but systemd-analyze is not installed")
        pytest.skip("systemd-analyze is not installed (Debian's systemd package)")
    return found


def local_units(tmp_path: Path) -> list[Path]:
    here = str(Path(sys.executable).parent / "syncer")
    units = []
    for name in NAMES:
        unit = tmp_path / name
        unit.write_text((UNITS / name).read_text().replace(INSTALLED, here))
        units.append(unit)
    return units


def service(name: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((UNITS / name).read_text())
    return parser["Service"]


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    checked = subprocess.run(
        [analyze(), "verify", *map(str, local_units(tmp_path))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")


@pytest.mark.parametrize("name", ["syncer.service", "syncer-sync.service"])
def test_the_services_are_hardened(tmp_path: Path, name: str) -> None:
    unit = {u.name: u for u in local_units(tmp_path)}[name]
    # --threshold=20: an overall exposure of 2.0 or less ("OK") on systemd's 0-10 scale.
    rated = subprocess.run(
        [analyze(), "security", "--offline=true", "--threshold=20", str(unit)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert rated.returncode == 0, rated.stdout[-2000:] + rated.stderr
    settings = service(name)
    assert settings["ProtectSystem"] == "strict"
    assert settings["NoNewPrivileges"] == "yes"
    assert settings["PrivateTmp"] == "yes"
    assert settings["User"] == "syncer"
    assert settings["StateDirectory"] == "syncer"


def test_systemd_waits_longer_than_syncer_takes_to_stop() -> None:
    stop = parse_duration(service("syncer.service")["TimeoutStopSec"])
    assert stop >= DEFAULT_STOP_TIMEOUT + timedelta(seconds=5)
    assert "143" in service("syncer.service")["SuccessExitStatus"].split()


@pytest.mark.parametrize("name", ["syncer.service", "syncer-sync.service"])
def test_the_commands_the_units_start_are_syncer_commands(name: str) -> None:
    lines = [
        line.split("=", 1)[1]
        for line in (UNITS / name).read_text().splitlines()
        if line.startswith("ExecStart=")
    ]
    assert lines
    for line in lines:
        program, *args = line.split()
        assert program == INSTALLED
        # Click rejects an unknown command or option before it answers --help.
        answered = syncer(*args, "--help")
        assert answered.returncode == 0, (line, answered.stderr)
