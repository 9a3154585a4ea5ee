"""Waivers (.syncer-scan.toml): a valid one accepts uses, an expired one fails the scan, an
unused one warns; through the CLI on the test tree, and the parser's errors."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import Result

from syncer.errors import ConfigError
from syncer.scan.waivers import parse_waivers

from .conftest import TODAY

LATER = TODAY + timedelta(days=30)
EARLIER = TODAY - timedelta(days=1)


def waivers(root: Path, *entries: str) -> None:
    (root / ".syncer-scan.toml").write_text("\n".join(f"[[waivers]]\n{e}" for e in entries))


@pytest.mark.usefixtures("synced")
def test_valid_waivers_accept_uses_and_the_scan_passes(
    invoke: Callable[..., Result], tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree)
    waivers(
        tree,
        f'id = "gpt-4-32k"\nreason = "moving in January"\nexpires = {LATER}',
        f'id = "text-davinci-003"\npath = "app/**"\nreason = "dead code"\nexpires = "{LATER}"',
        f'id = "text-davinci-003"\npath = "deploy/*.yaml"\nreason = "tbd"\nexpires = {LATER}',
    )
    result = invoke("scan", "--format", "json")
    document = json.loads(result.stdout)
    waived = {(f["path"], f["text"]): f["waiver"] for f in document["findings"]}
    assert waived["app/chat.py", "text-davinci-003"] == {
        "reason": "dead code",
        "expires": str(LATER),
        "path": "app/**",
    }
    assert all(
        w is not None
        for (_, text), w in waived.items()
        if text in ("gpt-4-32k", "text-davinci-003")
    )
    assert result.exit_code == 0
    assert "5 waived" in result.stderr and "warning" not in result.stderr
    text = invoke("scan").stdout
    assert "~     3:47  gpt-4-32k" in text
    assert f"[waived until {LATER}: moving in January]" in text


@pytest.mark.usefixtures("synced")
def test_an_expired_waiver_fails_the_scan_and_waives_nothing(
    invoke: Callable[..., Result], tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree)
    waivers(tree, f'id = "gpt-4-32k"\nreason = "was moving"\nexpires = {EARLIER}')
    result = invoke("scan", "--fail-on", "vanished")
    assert result.exit_code == 1
    assert (
        f".syncer-scan.toml: waivers[0]: the waiver for gpt-4-32k expired on {EARLIER} "
        "(was moving): remove it, or renew it with a new date"
    ) in result.stderr
    assert "1 expired waiver" in result.stderr
    assert "[waived" not in result.stdout


@pytest.mark.usefixtures("synced")
def test_an_unused_waiver_is_a_warning_only(
    invoke: Callable[..., Result], tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree)
    waivers(tree, f'id = "gpt-3"\nreason = "old"\nexpires = {LATER}')
    result = invoke("scan", "web", "--fail-on", "vanished")
    assert result.exit_code == 0
    assert (
        "warning: .syncer-scan.toml: waivers[0]: the waiver for gpt-3 matched nothing"
        in result.stderr
    )


@pytest.mark.usefixtures("synced")
def test_a_waiver_file_given_elsewhere_and_a_broken_one(
    invoke: Callable[..., Result], tree: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tree)
    elsewhere = tmp_path / "w.toml"
    elsewhere.write_text(f'[[waivers]]\nid = "gpt-4-32k"\nreason = "r"\nexpires = {LATER}\n')
    assert invoke("scan", "--waivers", str(elsewhere), "settings.toml").exit_code == 0
    elsewhere.write_text("[[waivers]]\nid = 1\n")
    broken = invoke("scan", "--waivers", str(elsewhere))
    assert broken.exit_code == 2
    assert broken.stderr == f"Error: {elsewhere}: waivers[0]: id: required, a non-empty string\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[waivers]]\nid = 'x'\nreason = 'r'\n", "x.toml: waivers[0]: expires: required"),
        (
            "[[waivers]]\nid = 'x'\nreason = 'r'\nexpires = 'soon'\n",
            "x.toml: waivers[0]: expires: expected a date like 2027-01-31, got 'soon'",
        ),
        (
            "[[waivers]]\nid = 'x'\nreason = 'r'\nexpires = 2027-01-01\nuntil = 1\n",
            "x.toml: waivers[0]: unknown key 'until'",
        ),
        ("[waiver]\n", "x.toml: waiver: unknown key (expected [[waivers]] tables)"),
        ("waivers = [", "x.toml: not valid TOML"),
    ],
)
def test_the_parser_names_the_file_and_entry(text: str, message: str) -> None:
    with pytest.raises(
        ConfigError, match="^" + message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")
    ):
        parse_waivers(text, "x.toml")


def test_a_toml_date_time_expires_on_its_day() -> None:
    (waiver,) = parse_waivers(
        "[[waivers]]\nid = 'x'\nreason = 'r'\nexpires = 2027-01-01T10:00:00Z\n", "x.toml"
    )
    assert waiver.expires == date(2027, 1, 1)


@pytest.mark.usefixtures("synced")
def test_waivers_come_from_the_repositorys_root_whatever_directory_is_scanned(
    invoke: Callable[..., Result], tree: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Issue 22: the waivers of the repository scanned, not of the current directory; their
    path globs from the repository's root."""
    subprocess.run(["git", "init", "-q"], cwd=tree, check=True, capture_output=True)
    waivers(
        tree, f'id = "text-davinci-003"\npath = "app/**"\nreason = "dead code"\nexpires = {LATER}'
    )
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / ".syncer-scan.toml").write_text("not = [toml")

    def waived(*args: str) -> dict[str, str | None]:
        result = invoke("scan", *args, "--format", "json", "--fail-on", "deprecated")
        assert result.exit_code == 0, result.output
        return {
            f["path"]: (f["waiver"] or {}).get("reason")
            for f in json.loads(result.stdout)["findings"]
            if f["text"] == "text-davinci-003"
        }

    monkeypatch.chdir(tmp_path / "elsewhere")
    assert waived(str(tree / "app")) == {f"{tree}/app/chat.py": "dead code"}
    monkeypatch.chdir(tree / "app")
    assert waived() == {"chat.py": "dead code"}
    monkeypatch.chdir(tree / "deploy")  # the glob is from the root: not this file
    assert waived(".") == {"config.yaml": None}
