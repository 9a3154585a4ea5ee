"""``[[imports]]`` under a real ``syncer run``: imported at start and on its schedule, a
304 when unchanged, the last good import kept when the file breaks or goes."""

from __future__ import annotations

import json
from pathlib import Path

import requests

from tests.fakes import FakeProvider, closed_port
from tests.imports.conftest import DatesFile
from tests.imports.test_url import FIRST, SECOND
from tests.processes import clean_env, run_until, syncer


def _config(tmp_path: Path, provider: FakeProvider, url: str) -> str:
    path = tmp_path / "run.toml"
    path.write_text(
        "[http]\nmax_retries = 0\n\n"
        f'[[sources]]\nname = "openai"\nbase_url = "{provider.base_url}"\n\n'
        f'[[imports]]\nurl = "{url}"\nformat = "csv"\nevery = "1s"\n'
    )
    return str(path)


def test_run_imports_on_schedule_and_keeps_the_last_good_import(
    provider: FakeProvider, dates_file: DatesFile, tmp_path: Path, database_url: str
) -> None:
    provider.set("a", "b", "c")
    url = dates_file.url("dates")
    config = _config(tmp_path, provider, url)
    env = clean_env(SYNCER_DATABASE_URL=database_url)
    dates_file.body = FIRST
    steps = [
        # (what the log must say, then what the server serves next)
        (f"imported 2 shutdown date(s) from {url}", SECOND, None),
        (f"imported 1 shutdown date(s) from {url}", None, None),
        (f"{url}: unchanged since the import at ", "model,shutdown_date\na,someday\n", None),
        (f"import of {url} failed: {url}:2: shutdown_date:", None, 404),
        (f"import of {url} failed: GET {url}: 404 Not Found", None, None),
    ]

    port = closed_port()
    health: list[requests.Response] = []

    def advance(stderr: str) -> bool:
        while steps and steps[0][0] in stderr:
            line, body, status = steps.pop(0)
            if body is not None:
                dates_file.body = body
            dates_file.status = status
            stderr = stderr[stderr.index(line) + len(line) :]
        if not steps and not health:
            health.append(requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5))
        return not steps

    code, stderr = run_until(
        ["--config", config, "run", "--metrics-port", str(port)], advance, env=env, timeout=60
    )

    assert code == 0, stderr
    assert not steps, stderr
    # A failed import is in /healthz's detail, and is no reason for a 503: the last good
    # import's dates are in force.
    assert health[0].status_code == 200
    detail = health[0].json()["imports"][url]
    assert detail["status"] == "failed"
    assert detail["error"].startswith(f"GET {url}: 404 Not Found")
    assert detail["last_ok_at"] is not None
    # Every fetch after the first sent back the validators of the file applied last.
    assert "If-None-Match" not in dates_file.headers[0]
    assert all("If-None-Match" in headers for headers in dates_file.headers[1:])
    listed = syncer("--config", config, "models", "--format", "json", env=env)
    assert {m["model_id"]: (m["shutdown_at"] or "")[:10] for m in json.loads(listed.stdout)} == {
        "a": "2027-02-02",
        "b": "",
        "c": "",
    }
