"""``syncer scan --format json|sarif|github`` through the CLI, on the test tree."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from click.testing import Result

from syncer.scan.report import ANNOTATIONS_PER_LEVEL

from .conftest import EXPECTED, write_tree

pytestmark = pytest.mark.usefixtures("synced")

SARIF_SCHEMA = json.loads(
    (Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text()
)


@pytest.fixture
def here(tree: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tree)
    return tree


@pytest.mark.usefixtures("here")
def test_json_is_versioned_and_holds_every_finding(invoke: Callable[..., Result]) -> None:
    result = invoke("scan", "--all", "--format", "json")
    document = json.loads(result.stdout)
    assert (document["format"], document["version"], document["failed"]) == ("syncer-scan", 1, True)
    assert {
        (f["path"], f["line"], f["column"], f["text"], f["verdict"]) for f in document["findings"]
    } == EXPECTED
    embedding = next(
        f
        for f in document["findings"]
        if f["path"] == ".env" and f["text"] == "text-embedding-ada-002"
    )
    assert embedding["replacement"] == "text-embedding-3-small"
    assert embedding["fails"] is False and embedding["origin"].endswith("deps.csv")
    assert document["counts"] == {"vanished": 2, "shutting-down": 5, "not-listed": 2, "ok": 8}
    assert result.exit_code == 1


def test_sarif_is_valid_2_1_0_with_one_rule_per_verdict(
    invoke: Callable[..., Result], here: Path
) -> None:
    result = invoke("scan", "--all", "--format", "sarif", "-o", "scan.sarif")
    assert result.exit_code == 1 and result.stdout == ""
    log = json.loads((here / "scan.sarif").read_text())
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    (run,) = log["runs"]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [
        "syncer/model-vanished",
        "syncer/model-shutting-down",
        "syncer/model-deprecated",
        "syncer/model-not-listed",
        "syncer/model-ok",
    ]
    places = {
        (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["locations"][0]["physicalLocation"]["region"]["startColumn"],
            r["ruleId"].removeprefix("syncer/model-"),
        )
        for r in run["results"]
    }
    assert places == {(p, n, c, v) for p, n, c, _, v in EXPECTED}
    vanished = next(r for r in run["results"] if r["ruleId"] == "syncer/model-vanished")
    assert vanished["level"] == "error"
    embedding = next(r for r in run["results"] if "text-embedding-ada-002" in r["message"]["text"])
    assert embedding["level"] == "warning"
    assert "use text-embedding-3-small instead" in embedding["message"]["text"]
    assert "scan.sarif" not in {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    }


def test_github_annotations_and_the_step_summary(
    invoke: Callable[..., Result], here: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = invoke("scan", "--format", "github", "app", "settings.toml")
    out = result.stdout.splitlines()
    assert out[0].startswith(
        "::error file=app/chat.py,line=3,col=47,endColumn=56,title=gpt-4-32k%3A shutting-down::"
        "shuts down "
    )
    assert out[1].startswith(
        "::error file=app/chat.py,line=4,col=11,endColumn=27,title=text-davinci-003%3A "
        "vanished::no longer listed by openai"
    )
    assert out[2].startswith("::error file=settings.toml,line=2,col=10,endColumn=19,")
    assert len(out) == 3
    text = summary.read_text()
    assert text.startswith(
        "### syncer scan\n\nscanned 2 files: 1 vanished, 2 shutting-down, "
        "2 ok (2 ok not shown: --all shows them); 3 fail"
    )
    assert "| ❌ | `app/chat.py:4:11` | `text-davinci-003` | vanished |" in text
    assert result.exit_code == 1


def test_github_caps_annotations_as_github_does(
    invoke: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    lines = "".join(f'm{i} = "gpt-4-32k"\nn{i} = "gpt-9-x{i}"\n' for i in range(15))
    write_tree(tmp_path / "many", {"many.py": lines})
    monkeypatch.chdir(tmp_path / "many")
    out = invoke("scan", "--format", "github").stdout.splitlines()
    assert sum(line.startswith("::error ") for line in out) == ANNOTATIONS_PER_LEVEL
    assert sum(line.startswith("::warning ") for line in out) == ANNOTATIONS_PER_LEVEL
    assert out[-1] == (
        "::warning::10 more findings not annotated (GitHub shows 10 of each "
        "level): see the job summary"
    )


def test_scan_output_replaces_its_target_in_one_step_and_never_writes_through_a_symlink(
    invoke: Callable[..., Result], here: Path, tmp_path: Path
) -> None:
    """Issue 21 item 12, as for ``report html -o``: a link in a shared directory aimed the
    write at another file, and a reader of the old report could see half of the new one."""
    victim = tmp_path / "victim.txt"
    victim.write_text("theirs")
    out = tmp_path / "out"
    out.mkdir()
    link = out / "linked.json"
    link.symlink_to(victim)
    target = out / "scan.json"
    target.write_text("old report")
    target.chmod(0o640)
    (out / "scan.json.partial").symlink_to(victim)  # a name a fixed-name temporary would use

    with target.open() as reader:
        assert invoke("scan", "--format", "json", "-o", str(link)).exit_code == 1
        assert invoke("scan", "--format", "json", "-o", str(target)).exit_code == 1
        assert reader.read() == "old report"  # the old file was replaced, not rewritten

    assert victim.read_text() == "theirs"
    assert not link.is_symlink() and json.loads(link.read_text())["format"] == "syncer-scan"
    assert json.loads(target.read_text())["format"] == "syncer-scan"
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in out.iterdir()) == [
        "linked.json",
        "scan.json",
        "scan.json.partial",
    ]
    nowhere = out / "missing" / "scan.json"
    unwritable = invoke("scan", "--format", "json", "-o", str(nowhere))
    assert unwritable.exit_code == 2
    assert unwritable.stderr == f"Error: {nowhere}: cannot write it: No such file or directory\n"
