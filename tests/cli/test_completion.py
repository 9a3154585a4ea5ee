"""Shell completion as the docs (docs/cli.md) tell a user to set it up, for bash, zsh and fish."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import insert

from syncer.db.engine import make_engine
from syncer.db.tables import outbox_table
from syncer.timeutil import utcnow
from tests.fakes import FakeProvider
from tests.processes import clean_env, syncer

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
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60, check=False
    )
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


def complete(words: str, env: dict[str, str]) -> list[str]:
    """What bash offers for the last of ``words``, set up as the docs say."""
    words_list = words.split(" ")
    script = (
        f"{setup_line('bash')}\nCOMP_WORDS=({' '.join(repr(w) for w in words_list)}); "
        f"COMP_CWORD={len(words_list) - 1}; _syncer_completion syncer\n"
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    environment = {**clean_env(), "PATH": f"{BIN}:{os.environ['PATH']}", **env}
    done = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout.split()


@pytest.fixture
def configured(tmp_path: Path, provider: FakeProvider) -> dict[str, str]:
    """Two configured sources, a third only the database holds (retired), two alert rules
    and a third only the outbox names."""
    config = tmp_path / "syncer.toml"
    database = tmp_path / "syncer.db"
    env = {"SYNCER_CONFIG": str(config), "SYNCER_DATABASE_URL": f"sqlite:///{database}"}
    provider.set("a")
    config.write_text(f'[[sources]]\nname = "old-claude"\nbase_url = "{provider.base_url}"\n')
    assert syncer("sync", env=clean_env(**env)).returncode == 0
    config.write_text(
        f'[[sources]]\nname = "openai"\nbase_url = "{provider.base_url}"\n\n'
        f'[[sources]]\nname = "azure-eu"\nbase_url = "{provider.base_url}"\n\n'
        '[[alerts]]\nname = "page"\nwebhook_url_env = "HOOK"\n\n'
        '[[alerts]]\nname = "pager-slow"\nkind = "stale"\nwebhook_url_env = "HOOK"\n'
    )
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.execute(
            insert(outbox_table).values(
                alert_id="a1",
                rule="paused",
                kind="added",
                channel="webhook",
                status="failed",
                attempts=1,
                payload={"summary": "x"},
                created_at=utcnow(),
                next_attempt_at=utcnow(),
            )
        )
    engine.dispose()
    return env


def test_source_options_complete_configured_then_stored_sources(
    configured: dict[str, str], provider: FakeProvider
) -> None:
    requests = len(provider.requests)

    assert complete("syncer models --source ", configured) == ["openai", "azure-eu", "old-claude"]
    assert complete("syncer sync --source o", configured) == ["openai", "old-claude"]
    assert complete("syncer sources retire ol", configured) == ["old-claude"]
    assert len(provider.requests) == requests, "completion asked a provider"


def test_rule_and_report_names_complete(configured: dict[str, str]) -> None:
    assert complete("syncer alerts --rule pa", configured) == ["page", "pager-slow", "paused"]
    assert complete("syncer alerts test pag", configured) == ["page", "pager-slow"]
    assert complete("syncer report query sh", configured) == ["shutdowns"]
    assert "same-models" in complete("syncer report s", configured)


def test_completion_needs_neither_a_database_at_head_nor_a_config_and_writes_nothing(
    tmp_path: Path,
) -> None:
    """Before the first sync: the configured names only; no database file appears. An
    unreadable configuration: nothing offered, nothing printed."""
    config = tmp_path / "syncer.toml"
    config.write_text('[[sources]]\nname = "openai"\n')
    env = {"SYNCER_CONFIG": str(config), "SYNCER_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    assert complete("syncer events --source ", env) == ["openai"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["syncer.toml"]
    config.write_text("[[sources]\n")
    assert complete("syncer events --source ", env) == []
