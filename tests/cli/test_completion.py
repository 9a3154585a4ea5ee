"""Shell completion as the docs (docs/cli.md) tell a user to set it up, for bash, zsh and fish."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PAGE = Path(__file__).parents[2] / "docs" / "cli.md"
BIN = str(Path(sys.executable).parent)


def setup_line(shell: str) -> str:
    """The line the completion section gives for ``shell``."""
    section = PAGE.read_text().split("## Shell completion", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith(f"| {shell}")]
    assert len(rows) == 1, f"the completion table has one row for {shell}"
    return rows[0].split("`")[1]


def in_shell(script: str) -> str:
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_docs_set_up_bash_completion_and_it_completes_commands_and_options() -> None:
    line = setup_line("bash")
    assert line.startswith("eval ")
    commands = in_shell(
        f"{line}\nCOMP_WORDS=(syncer rep); COMP_CWORD=1; _syncer_completion syncer\n"
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    options = in_shell(
        f"{line}\nCOMP_WORDS=(syncer events --li); COMP_CWORD=2; _syncer_completion syncer\n"
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    assert commands.split() == ["report"]
    assert options.split() == ["--limit"]


@pytest.mark.parametrize(("shell", "marker"), [("zsh", "compdef"), ("fish", "complete")])
def test_the_docs_set_up_zsh_and_fish_completion(shell: str, marker: str) -> None:
    line = setup_line(shell)
    generate = re.search(rf"_SYNCER_COMPLETE={shell}_source syncer", line)
    assert generate, line
    script = in_shell(f"_SYNCER_COMPLETE={shell}_source syncer")
    assert marker in script and "_SYNCER_COMPLETE" in script
