"""The ``[[imports]]`` tables: files of shutdown dates ``syncer run`` imports on a schedule.

The same checks serve ``syncer deprecations import --url``: a URL is https, or plain http
to this machine (a file of dates decides what alerts say, so it must not be forgeable on
the way), and a format not given is read from the name's suffix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from syncer.config.model import DEFAULT_IMPORT_EVERY, IMPORT_FORMATS, ImportSpec
from syncer.config.reader import TableReader
from syncer.errors import ConfigError
from syncer.providers.auth import is_loopback
from syncer.redact import shown_url

__all__ = [
    "FORMAT_OF_SUFFIX",
    "format_of",
    "parse_imports",
    "url_problem",
]

#: The format a file name's suffix means, when ``format`` is not given.
FORMAT_OF_SUFFIX = {".json": "litellm", ".csv": "csv", ".toml": "toml"}
_KEYS = {"url", "path", "format", "every", "deadline", "max_response_size"}


def format_of(name: str) -> str | None:
    """The format a file name or URL's path ends in (``.json`` is LiteLLM's map); None
    when its suffix says none."""
    path = urlsplit(name).path if "://" in name else name
    return FORMAT_OF_SUFFIX.get(PurePosixPath(path).suffix.lower())


def url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as a place to import dates from, or None."""
    parts = urlsplit(url)
    try:
        host = parts.hostname
    except ValueError:
        host = None
    if parts.scheme not in ("http", "https") or not host:
        return "is not an http(s) URL"
    if parts.scheme == "http" and not is_loopback(host):
        return "is plain http to another machine: use https (http only to localhost)"
    return None


def _format(reader: TableReader, name: str) -> str:
    given = reader.get("format", str)
    if given is None:
        found = format_of(name)
        if found is None:
            raise reader.fail(
                "format",
                f"required: {shown_url(name)!r} does not end in .json, "
                f".csv or .toml (one of: {', '.join(IMPORT_FORMATS)})",
            )
        return found
    if given not in IMPORT_FORMATS:
        raise reader.fail(
            "format", f"unknown format {given!r}; one of: {', '.join(IMPORT_FORMATS)}"
        )
    return str(given)


def _import(
    table: Mapping[str, Any], where: str, index: int, limits: tuple[timedelta, int]
) -> ImportSpec:
    reader = TableReader(table, where, f"imports[{index}].")
    reader.unknown(_KEYS)
    url, path = reader.get("url", str), reader.get("path", str)
    if (url is None) == (path is None):
        raise reader.fail("url", "give one of url and path")
    if url is not None:
        problem = url_problem(url)
        if problem is not None:
            raise reader.fail("url", f"{shown_url(url)!r} {problem}")
    else:
        # A relative path is relative to the config file, wherever syncer is started from.
        file = Path(path).expanduser()
        path = str(file if file.is_absolute() else Path(where).parent.absolute() / file)
    return ImportSpec(
        format=_format(reader, url or path),
        url=url,
        path=path,
        every=reader.duration("every") or DEFAULT_IMPORT_EVERY,
        deadline=reader.duration("deadline") or limits[0],
        max_response_size=reader.size("max_response_size") or limits[1],
    )


def parse_imports(
    tables: Sequence[Any], where: str, limits: tuple[timedelta, int]
) -> tuple[ImportSpec, ...]:
    """Every ``[[imports]]`` table; ``limits`` are ``[sync]``'s deadline and response cap,
    which a table's own ``deadline`` and ``max_response_size`` override."""
    specs: list[ImportSpec] = []
    for index, table in enumerate(tables):
        if not isinstance(table, dict):
            raise ConfigError(
                f"{where}: imports[{index}]: each import must be a table ([[imports]])"
            )
        spec = _import(table, where, index, limits)
        if any(other.origin == spec.origin for other in specs):
            raise ConfigError(f"{where}: imports[{index}]: {spec.origin} is imported twice")
        specs.append(spec)
    return tuple(specs)
