"""Print a pip constraints file that pins every runtime dependency to its floor.

CI installs the project with these constraints in a second virtualenv and runs a fast
subset of the tests, so each ``name>=X`` in pyproject.toml stays true: a floor that no
longer works (a feature of a newer release used, or an advisory fixed later) fails CI.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

FLOOR = re.compile(r"^\s*([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*>=\s*([^,;\s]+)")


def floors(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["postgres"]]
    pins = []
    for requirement in wanted:
        match = FLOOR.match(requirement)
        if match is None:
            sys.exit(f"no '>=' floor in {requirement!r}: every runtime dependency needs one")
        pins.append(f"{match[1]}=={match[3]}")
    return pins


if __name__ == "__main__":
    print("\n".join(floors(Path(__file__).resolve().parent.parent / "pyproject.toml")))
