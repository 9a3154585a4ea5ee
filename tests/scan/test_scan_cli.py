"""``syncer scan`` through the CLI, on a real tree, against an inventory synced for real."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from .conftest import EXPECTED

pytestmark = pytest.mark.usefixtures("synced")

ROW = re.compile(r"^ ([! ])\s*(\d+):(\d+)  (\S+)\s+(\S+)\s+(.*)$")


def findings(text: str) -> set[tuple[str, int, int, str, str]]:
    found = set()
    path = ""
    for line in text.splitlines():
        row = ROW.match(line)
        if row is None:
            path = line.strip() or path
        else:
            found.add((path, int(row[2]), int(row[3]), row[4], row[5]))
    return found


def test_every_use_is_found_with_its_verdict_and_nothing_else(
    invoke: Callable[..., Result], tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree)
    result = invoke("scan", "--all")
    assert findings(result.stdout) == EXPECTED
    assert result.exit_code == 1
    assert result.stderr.strip().endswith(
        "scanned 11 files: 2 vanished, 5 shutting-down, 2 not-listed, 8 ok; "
        "5 fail --fail-on vanished,shutting-down:30d"
    )


def test_the_text_says_what_to_do(
    invoke: Callable[..., Result], tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree)
    lines = invoke("scan", "app/chat.py", ".env").stdout.splitlines()
    assert lines[0] == "app/chat.py"
    assert re.match(
        r" !\s+3:47  gpt-4-32k\s+shutting-down  shuts down \S+ \(in (9|10) days; "
        r"date from provider\)$",
        lines[1],
    )
    assert re.match(
        r" !\s+4:11  text-davinci-003  vanished\s+no longer listed by openai "
        r"\(vanished \S+\); replace it$",
        lines[2],
    )
    assert re.match(
        r"   \s+2:12  text-embedding-ada-002  shutting-down  shuts down \S+ "
        r"\(in (199|200) days; date from \S*deps.csv\); use text-embedding-3-small "
        r"instead$",
        lines[5],
    )
    assert "ok" not in {row[4] for row in findings("\n".join(lines))}


def test_fail_on_decides_the_exit_code(
    invoke: Callable[..., Result], tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree)
    assert invoke("scan", "--fail-on", "shutting-down:5d").exit_code == 0
    assert invoke("scan", "--fail-on", "shutting-down:10d").exit_code == 1
    assert invoke("scan", "--fail-on", "not-listed", "web").exit_code == 1
    assert invoke("scan", "--fail-on", "vanished", "web").exit_code == 0
    clean = invoke("scan", "models.json", "--fail-on", "vanished")
    assert clean.exit_code == 0
    assert "1:37  text-embedding-ada-002  shutting-down" in clean.stdout


def test_include_and_exclude_globs(
    invoke: Callable[..., Result], tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree)
    only = findings(invoke("scan", "--all", "--include", "*.py", "--include", "*.ts").stdout)
    assert {f[0] for f in only} == {"app/chat.py", "web/client.ts"}
    without = findings(invoke("scan", "--all", "--exclude", "app/", "--exclude", "*.md").stdout)
    assert {f[0] for f in without} == {f[0] for f in EXPECTED} - {"app/chat.py", "README.md"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-on", "gone"], "Error: Invalid value for --fail-on: 'gone' is not a verdict"),
        (
            ["no/such/dir"],
            "Error: Invalid value for '[PATHS]...': Path 'no/such/dir' does not exist",
        ),
    ],
)
def test_usage_errors_exit_2(
    invoke: Callable[..., Result],
    tree: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tree)
    result = invoke("scan", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
