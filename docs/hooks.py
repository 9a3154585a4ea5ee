"""MkDocs hook: the pages that must not drift are generated from the code when the site is built.

- ``cli.md`` ends with every command's own ``--help``, walked from the click app, so the
  reference is whatever the installed ``syncer`` says (nothing to keep in sync by hand).
- ``schema.md`` has a ``<!-- columns: NAME -->`` marker where each table's or view's columns
  go; the hook writes them from ``syncer.db.tables``, ``syncer.db.views`` and the
  descriptions in ``syncer.db.descriptions`` (the ones Datasette's metadata shows). A table
  or view without a marker is added at the end, so none is ever left out.

``tests/docs/test_site.py`` builds the site and checks both against the code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import click
from sqlalchemy import Column, Table

WIDTH = 100
MARKER = re.compile(r"^<!-- columns: ([a-z_]+) -->$", re.M)


def walk(
    command: click.Command, name: str, parent: click.Context | None = None
) -> Iterator[tuple[click.Command, click.Context]]:
    """Every command under ``command`` (itself first), each with the context its help needs."""
    ctx = click.Context(
        command, info_name=name, parent=parent, terminal_width=WIDTH, max_content_width=WIDTH
    )
    if getattr(command, "hidden", False):
        return
    yield command, ctx
    if isinstance(command, click.Group):
        for sub in command.list_commands(ctx):
            child = command.get_command(ctx, sub)
            if child is not None:
                yield from walk(child, sub, ctx)


def cli_reference() -> str:
    """One section per command, its ``--help`` as the command prints it."""
    from syncer.cli import cli

    out = [
        "## Every command\n",
        "Generated from each command's own `--help` when this site is built.\n",
    ]
    for command, ctx in walk(cli, "syncer"):
        depth = 3 if ctx.command_path.count(" ") <= 1 else 4
        out.append(f"{'#' * depth} `{ctx.command_path}`\n")
        out.append(f"```text\n{command.get_help(ctx)}\n```\n")
    return "\n".join(out)


def type_name(column: Column[Any]) -> str:
    """The column's type as a reader of the SQL needs it, the same on both databases."""
    name = type(column.type).__name__
    readable = {
        "UTCDateTime": "timestamp (UTC)",
        "JSONDocument": "JSON",
        "Text": "text",
        "Integer": "integer",
        "BigInteger": "bigint",
        "Boolean": "boolean",
        "Float": "float",
        "Date": "date",
    }
    if name == "String":
        return f"varchar({column.type.length})"  # type: ignore[attr-defined]
    return readable.get(name, name.lower())


def columns_table(table: Table, view: bool) -> str:
    """The table's description and its columns, consecutive ones with one meaning in one row."""
    from syncer.db.descriptions import COLUMNS, TABLES

    meanings = COLUMNS.get(table.name, {})
    rows: list[tuple[list[str], list[str], str]] = []
    for column in table.columns:
        meaning = meanings.get(column.name, "")
        kind = type_name(column)
        if not view and column.primary_key:
            kind += ", key"
        elif not view and not column.nullable:
            kind += ", not null"
        if rows and rows[-1][2] == meaning and meaning:
            rows[-1][0].append(f"`{column.name}`")
            if kind not in rows[-1][1]:
                rows[-1][1].append(kind)
        else:
            rows.append(([f"`{column.name}`"], [kind], meaning))
    lines = [f"*{TABLES.get(table.name, '')}*", "", "| column | type | meaning |", "|---|---|---|"]
    lines += [
        f"| {', '.join(names)} | {'; '.join(kinds)} | {meaning} |" for names, kinds, meaning in rows
    ]
    return "\n".join(lines) + "\n"


def schema_page(markdown: str) -> str:
    """``schema.md`` with every marker replaced, and any table it does not mark added."""
    from syncer.db.tables import metadata
    from syncer.db.views import views_metadata

    tables = {name: (table, False) for name, table in metadata.tables.items()}
    tables.update({name: (table, True) for name, table in views_metadata.tables.items()})
    marked = set(MARKER.findall(markdown))
    unknown = marked - set(tables)
    if unknown:
        raise ValueError(f"schema.md marks tables that do not exist: {sorted(unknown)}")
    page = MARKER.sub(lambda m: columns_table(*tables[m.group(1)]), markdown)
    rest = [name for name in sorted(tables) if name not in marked]
    if rest:
        page += "\n## Other tables and views\n\n" + "\n".join(
            f"### `{name}`\n\n{columns_table(*tables[name])}" for name in rest
        )
    return page


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if page.file.src_uri == "cli.md":
        return markdown + "\n" + cli_reference()
    if page.file.src_uri == "schema.md":
        return schema_page(markdown)
    return markdown
