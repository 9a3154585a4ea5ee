"""``syncer doctor`` shows each ``[[imports]]`` file's latest attempt, and a failure as a
warning naming the error and the import whose dates stay."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from tests.fakes import FakeProvider
from tests.imports.conftest import DatesFile
from tests.imports.test_url import FIRST

Invoke = Callable[..., Result]


def test_doctor_shows_each_imports_latest_attempt_and_a_failure(
    invoke: Invoke, provider: FakeProvider, dates_file: DatesFile, tmp_path: Path
) -> None:
    provider.set("a")
    url = dates_file.url("dates.csv")
    local = tmp_path / "ours.csv"
    config = tmp_path / "doctor.toml"
    config.write_text(
        "[http]\nmax_retries = 0\n\n"
        f'[[sources]]\nname = "openai"\nbase_url = "{provider.base_url}"\n\n'
        f'[[imports]]\nurl = "{url}"\n\n[[imports]]\npath = "ours.csv"\n'
    )

    def syncer(*args: str) -> Result:
        return invoke("--config", str(config), *args)

    assert syncer("sync").exit_code == 0
    dates_file.body = FIRST
    assert syncer("deprecations", "import", "--url", url).exit_code == 0
    good = syncer("doctor")
    again = syncer("deprecations", "import", "--url", url)
    unchanged = syncer("doctor")
    dates_file.status = 404
    assert syncer("deprecations", "import", "--url", url).exit_code == 1
    failed = syncer("doctor")

    assert good.exit_code == 0, good.output
    assert f"OK    import {url}: latest import ok at " in good.stdout
    assert " (2 date(s))\n" in good.stdout
    assert again.exit_code == 0
    assert f"OK    import {url}: unchanged at " in unchanged.stdout
    assert failed.exit_code == 0  # a warning: the last good import's dates are in force
    line = next(x for x in failed.stdout.splitlines() if x.startswith(f"WARN  import {url}"))
    assert ": 404 Not Found: not found (Not Found); the dates of the import at " in line
    assert line.endswith(" stay")
    assert (
        f"WARN  import {local}: never imported yet\n      -> `syncer run` imports it at start\n"
    ) in failed.stdout
