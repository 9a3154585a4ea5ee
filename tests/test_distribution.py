"""syncer is installed as ``model-syncer``: ``syncer`` on the package index is another library,
so every name a user types to install it, and every metadata lookup, must say so."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

from click.testing import CliRunner

import syncer
from syncer.cli import cli

ROOT = Path(__file__).parents[1]


def test_the_distribution_name_is_the_one_pyproject_declares() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == syncer.DISTRIBUTION == "model-syncer"
    assert project["scripts"] == {"syncer": "syncer.cli:main"}
    assert syncer.__version__ == version("model-syncer") == project["version"]


def test_syncer_version_reads_the_installed_distribution() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.output == f"syncer, version {version('model-syncer')}\n"


def test_no_install_hint_names_the_other_librarys_package() -> None:
    wrong = re.compile(r"pip install '?syncer\b|[^-]\bsyncer\[")
    sources = [*ROOT.glob("syncer/**/*.py"), ROOT / "README.md", *ROOT.glob("docs/*.md")]
    found = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in sources
        for line in path.read_text().splitlines()
        if wrong.search(line)
    ]
    assert found == []
