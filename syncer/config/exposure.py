"""Whether a config file that other users can read holds a secret.

Keys and webhook URLs belong in the environment (the file names the variables), but a file
can still hold a secret: a ``database_url`` with a password, a source's ``headers`` (an
``Authorization`` value), a ``base_url`` with a password or a query (``?key=...``). Such a
file readable by its group or by everyone shares that secret with every user of the machine,
so syncer says so once per command, naming the keys and never their values.
"""

from __future__ import annotations

import logging
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["secrets_in", "warn_if_exposed"]

log = logging.getLogger(__name__)


def _url_secret(value: Any) -> bool:
    """A URL with a password or a query: either may be a credential."""
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
        return bool(parts.password or parts.query)
    except ValueError:  # malformed: it may hold anything
        return "@" in value or "?" in value


def secrets_in(data: Mapping[str, Any]) -> list[str]:
    """The keys of a parsed config file that hold a secret (pure: the values stay here)."""
    found = ["database_url"] if _url_secret(data.get("database_url")) else []
    sources = data.get("sources")
    for index, table in enumerate(sources if isinstance(sources, list) else []):
        if not isinstance(table, dict):
            continue
        if _url_secret(table.get("base_url")):
            found.append(f"sources[{index}].base_url")
        headers = table.get("headers")
        if isinstance(headers, dict) and any(headers.values()):
            found.append(f"sources[{index}].headers")
    return found


def warn_if_exposed(path: Path, data: Mapping[str, Any]) -> None:
    """Log a warning when ``path`` is readable by others and holds a secret."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if not mode & (stat.S_IRGRP | stat.S_IROTH):
        return
    found = secrets_in(data)
    if found:
        log.warning(
            "%s is readable by other users (mode %04o) and holds a secret in %s: "
            "chmod 600 %s, or move the secret to an environment variable",
            path,
            mode,
            ", ".join(found),
            path,
        )
