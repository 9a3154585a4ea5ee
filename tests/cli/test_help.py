"""Every command's ``--help``: plain text (no reStructuredText markup) with one example,
and that example is a command line syncer accepts as it stands."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from syncer.cli import cli


def commands(command: click.Command = cli, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from commands(sub, (*path, name))


def parse(args: list[str]) -> list[click.Command]:
    """The commands ``syncer ARGS`` goes through, from the group to the one it runs, once
    their options and arguments are parsed as they would be (types, choices, required
    ones): a usage error raises."""
    context = cli.make_context("syncer", args)
    chain: list[click.Command] = [cli]
    while isinstance(chain[-1], click.Group):
        rest = [*context._protected_args, *context.args]
        if not rest:
            break
        name, found, rest = chain[-1].resolve_command(context, rest)
        assert found is not None and name is not None, args
        chain.append(found)
        context = found.make_context(name, rest, parent=context)
    return chain


@pytest.mark.parametrize("path", list(commands()), ids=lambda p: " ".join(("syncer", *p)))
def test_each_commands_help_is_plain_text_with_one_example_that_parses(
    path: tuple[str, ...],
) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="syncer")
    assert result.exit_code == 0, result.output
    text = result.stdout

    assert "``" not in text
    assert text.count("Example:") == 1
    example = text.split("Example:\n", 1)[1].splitlines()[0].strip()
    args = shlex.split(example)
    assert args[0] == "syncer"
    described = cli
    for name in path:
        assert isinstance(described, click.Group)
        described = described.commands[name]
    assert described in parse(args[1:]), f"the example of {path} runs another command"
