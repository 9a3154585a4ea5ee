"""The manual cannot drift from the code: every command, option, table and column is in it.

The site is built as CI builds it (``mkdocs build --strict``), and the built pages are read
as a reader gets them: a command or option the reference leaves out, a column without a
description, or a broken link or anchor fails here.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from syncer.cli import cli
from syncer.db.descriptions import COLUMNS, TABLES
from syncer.db.tables import metadata
from syncer.db.views import views_metadata

ROOT = Path(__file__).parents[2]

pytest.importorskip("mkdocs", reason="the dev extra (mkdocs-material) is not installed")


def commands(command: click.Command = cli, path: str = "syncer") -> list[tuple[str, click.Command]]:
    """Every visible command of the app, by its path (``syncer db upgrade``)."""
    found = [(path, command)]
    if isinstance(command, click.Group):
        ctx = click.Context(command, info_name=path)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                found += commands(sub, f"{path} {name}")
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert built.returncode == 0, built.stderr
    return out


def sections(page: str) -> dict[str, str]:
    """A built page's text under each heading, by the heading's id."""
    parts = re.split(r'<h[1-6] id="([^"]+)"', page)
    return {parts[i]: html.unescape(parts[i + 1]) for i in range(1, len(parts) - 1, 2)}


def test_every_command_and_option_is_in_the_command_line_reference(site: Path) -> None:
    reference = sections((site / "cli" / "index.html").read_text())
    missing = []
    for path, command in commands():
        anchor = path.replace(" ", "-")
        if anchor not in reference:
            missing.append(path)
            continue
        missing += [
            f"{path} {opt}"
            for param in command.params
            if isinstance(param, click.Option) and not param.hidden
            for opt in param.opts + param.secondary_opts
            if not re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", reference[anchor])
        ]
    assert missing == []


def test_every_command_is_in_the_readme_commands_table() -> None:
    table = (ROOT / "README.md").read_text().split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    top = {path.split()[1] for path, _ in commands() if path.count(" ") == 1}
    assert {name for name in top if f"`syncer {name}" not in table} == set()


def test_every_table_view_and_column_has_one_description() -> None:
    schema = {
        name: [column.name for column in table.columns]
        for name, table in (*metadata.tables.items(), *views_metadata.tables.items())
    }
    assert set(TABLES) == set(schema)
    assert set(COLUMNS) == set(schema)
    undescribed = [
        f"{name}.{column}"
        for name, columns in schema.items()
        for column in columns
        if not COLUMNS[name].get(column)
    ]
    stale = [
        f"{name}.{column}"
        for name, described in COLUMNS.items()
        for column in described
        if column not in schema[name]
    ]
    assert (undescribed, stale) == ([], [])


def test_the_schema_page_shows_every_table_and_column_with_its_description(site: Path) -> None:
    page = html.unescape((site / "schema" / "index.html").read_text())
    text = re.sub(r"<[^>]+>", "", page)
    for name, table in (*metadata.tables.items(), *views_metadata.tables.items()):
        assert TABLES[name] in text, name
        for column in table.columns:
            plain = re.sub(r"[`*]", "", COLUMNS[name][column.name])
            assert plain in text, f"{name}.{column.name}"
    assert "Other tables and views" not in text, "a table or view has no place in schema.md"
