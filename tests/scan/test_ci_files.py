"""The pre-commit hook and the GitHub Action as their tools read them."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pre_commit.clientlib import load_manifest

ROOT = Path(__file__).parents[2]


def test_the_pre_commit_manifest_is_valid_and_runs_syncer_scan() -> None:
    (hook,) = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    assert (hook["id"], hook["entry"], hook["language"], hook["types"]) == (
        "syncer-scan",
        "syncer scan",
        "python",
        ["text"],
    )


def test_the_action_passes_inputs_through_the_environment_only() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    inputs = set(action["inputs"])
    assert {"inventory", "paths", "fail-on", "upload-sarif"} <= inputs
    used = set()
    for step in action["runs"]["steps"]:
        # An input interpolated into a script would run whatever a caller put in it.
        assert "${{" not in step.get("run", ""), step.get("name")
        for value in [
            *step.get("env", {}).values(),
            *step.get("with", {}).values(),
            step.get("if", ""),
        ]:
            used |= set(re.findall(r"inputs\.([\w-]+)", str(value)))
    assert used == inputs
    scan = next(step for step in action["runs"]["steps"] if step.get("id") == "scan")
    assert "--format sarif" in scan["run"] and "--format github" in scan["run"]
