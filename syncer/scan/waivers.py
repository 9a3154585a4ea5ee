"""Waivers: uses of an id a team has accepted for a while (``.syncer-scan.toml``).

    [[waivers]]
    id = "gpt-4-32k"              # exact: as written, or the id it stands for
    path = "legacy/**"            # optional, gitignore-style, from the repository's root
    reason = "migrating in Q1"
    expires = 2027-01-31

A waived finding does not fail the scan; an expired waiver does (it waives nothing), so a
waiver is a deadline and not a way to forget; one that matched nothing is a warning.
Parsing and applying are pure; the CLI finds and reads the file (``walk.scan_base``: the
root of the repository scanned) and says where each finding's file is from there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from pathspec import GitIgnoreSpec

from syncer.config.reader import array_of_tables
from syncer.errors import ConfigError
from syncer.scan.verdict import Finding, Waiver

__all__ = ["FILE_NAME", "Applied", "apply_waivers", "parse_waivers"]

FILE_NAME = ".syncer-scan.toml"
_KEYS = ("id", "path", "reason", "expires")


def _date(value: object, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f"{where}: expires: expected a date like 2027-01-31, got {value!r}")


def parse_waivers(text: str, name: str) -> list[Waiver]:
    """The waivers of a ``.syncer-scan.toml``; errors name the file and the entry."""
    tables = array_of_tables(text, name, "waivers")
    waivers = []
    for index, table in enumerate(tables):
        where = f"{name}: waivers[{index}]"
        unknown = sorted(set(table) - set(_KEYS))
        if unknown:
            raise ConfigError(
                f"{where}: unknown key {unknown[0]!r} (expected: " + ", ".join(_KEYS) + ")"
            )
        for key in ("id", "reason"):
            if not isinstance(table.get(key), str) or not table[key].strip():
                raise ConfigError(f"{where}: {key}: required, a non-empty string")
        if "expires" not in table:
            raise ConfigError(f"{where}: expires: required (a waiver is for a while)")
        path = table.get("path")
        if path is not None and (not isinstance(path, str) or not path.strip()):
            raise ConfigError(f'{where}: path: expected a glob like "legacy/**"')
        waivers.append(
            Waiver(
                table["id"].strip(),
                table["reason"].strip(),
                _date(table["expires"], where),
                path,
                where,
            )
        )
    return waivers


@dataclass(frozen=True, slots=True)
class Applied:
    """Findings with their waivers set, and the waivers that expired or matched nothing."""

    findings: tuple[Finding, ...]
    expired: tuple[Waiver, ...]
    unused: tuple[Waiver, ...]


def _covers(
    waiver: Waiver, spec: GitIgnoreSpec | None, finding: Finding, where: str | None
) -> bool:
    if waiver.id not in (finding.text, finding.verdict.model_id):
        return False
    return spec is None or (where is not None and spec.match_file(where))


def _as_shown(path: str) -> str:
    return path.removeprefix("./")


def apply_waivers(
    findings: Sequence[Finding],
    waivers: Sequence[Waiver],
    today: date,
    located: Callable[[str], str | None] = _as_shown,
) -> Applied:
    """Set each finding's waiver (the first live one that covers it). ``located`` gives a
    finding's path as the waivers' ``path`` globs see it (None: outside where they apply);
    by default, the path as shown."""
    live = [w for w in waivers if w.expires >= today]
    specs = {id(w): GitIgnoreSpec.from_lines([w.path]) if w.path else None for w in live}
    used: set[int] = set()
    result = []
    for finding in findings:
        where = located(finding.path)
        waiver = next((w for w in live if _covers(w, specs[id(w)], finding, where)), None)
        if waiver is not None:
            used.add(id(waiver))
            finding = replace(finding, waiver=waiver)
        result.append(finding)
    expired = tuple(w for w in waivers if w.expires < today)
    unused = tuple(w for w in live if id(w) not in used)
    return Applied(tuple(result), expired, unused)
