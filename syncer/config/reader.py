"""Typed access to the TOML file's tables, with errors that name the file and the key."""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from syncer.errors import ConfigError
from syncer.timeutil import parse_duration, seconds

__all__ = ["ENV_NAME", "NAME_PATTERN", "TableReader", "array_of_tables", "read_file"]

#: What a source or rule may be named: it appears in URLs, metrics labels and SQL.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: What names an environment variable; a value that is not one may be a pasted secret.
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}


class TableReader:
    """Typed access to one TOML table, with errors that name the key and the file."""

    def __init__(self, table: Mapping[str, Any], where: str, prefix: str = "") -> None:
        self.table = table
        self.where = where
        self.prefix = prefix

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.where}: {self.prefix}{key}: {problem}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        value = self.table.get(key, default)
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if value is None or (
            isinstance(value, kinds) and (bool in kinds or not isinstance(value, bool))
        ):
            return value
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise self.fail(key, f"expected {names}, got {type(value).__name__} {value!r}")

    def name(self) -> str:
        """The table's ``name`` (a source's, a rule's): required, and fit for a URL, a
        metrics label and SQL (``NAME_PATTERN``)."""
        name = self.get("name", str)
        if not name or not NAME_PATTERN.match(name):
            raise self.fail("name", "required: letters, digits, '.', '_' or '-', up to 64")
        return str(name)

    def env_name(self, key: str, default: str | None = None) -> str | None:
        """The name of an environment variable; a value that is not one is refused unquoted,
        since it is most likely the secret itself (a key or a URL) pasted in by mistake."""
        name = self.get(key, str, default)
        if name is not None and not ENV_NAME.match(name):
            raise self.fail(
                key,
                "must name an environment variable (letters, digits, '_'), "
                "which holds the value; the value itself does not go in the file",
            )
        return str(name) if name is not None else None

    def schedule(self) -> tuple[timedelta | None, str | None]:
        """A table's ``every`` and ``cron``, at most one of them."""
        every, cron = self.duration("every"), self.cron("cron")
        if every is not None and cron is not None:
            where = self.prefix.rstrip(".") or "schedule"
            raise ConfigError(
                f"{self.where}: {where}: every and cron are both set; keep one "
                "(cron would be ignored)"
            )
        return every, cron

    def duration(self, key: str) -> timedelta | None:
        value = self.get(key, (str, int, float))
        if value is None:
            return None
        try:
            delta = parse_duration(value) if isinstance(value, str) else seconds(value, value)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None
        if delta <= timedelta(0):
            raise self.fail(key, "must be positive")
        return delta

    def size(self, key: str) -> int | None:
        """A number of bytes: an integer, or ``"512KB"``, ``"64MB"``, ``"1GB"`` (of 1,024)."""
        value = self.get(key, (str, int))
        if value is None:
            return None
        if isinstance(value, str):
            match = _SIZE.match(value)
            if not match:
                raise self.fail(
                    key, f"{value!r} is not a size like '64MB', '512KB' or a number of bytes"
                )
            value = int(float(match[1]) * _SIZE_UNITS[match[2].lower()])
        if value <= 0:
            raise self.fail(key, "must be positive")
        return int(value)

    def cron(self, key: str) -> str | None:
        value = self.get(key, str)
        if value is not None:
            try:
                from apscheduler.triggers.cron import CronTrigger

                CronTrigger.from_crontab(value)
            except ValueError as exc:
                raise self.fail(key, f"not a cron expression: {exc}") from None
        return str(value) if value is not None else None

    def positive(self, key: str, kind: type, default: Any) -> Any:
        value = self.get(key, (int, float) if kind is float else kind, default)
        if not math.isfinite(value) or value <= 0:
            raise self.fail(key, "must be positive")
        return kind(value)

    def unknown(self, allowed: set[str]) -> None:
        extra = sorted(set(self.table) - allowed)
        if extra:
            expected = ", ".join(sorted(allowed))
            raise self.fail(extra[0], f"unknown key (expected one of: {expected})")


def read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid TOML: the file is not UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def array_of_tables(text: str, name: str, key: str) -> list[dict[str, Any]]:
    """The ``[[key]]`` tables of a TOML file that holds nothing else (import and waiver files).

    Errors name the file ``name`` and say what was expected, in one line.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: not valid TOML: {exc}") from None
    extra = sorted(set(data) - {key})
    if extra:
        raise ConfigError(f"{name}: {extra[0]}: unknown key (expected [[{key}]] tables)")
    tables = data.get(key, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError(f"{name}: {key}: expected [[{key}]] tables")
    return tables
