"""The ``[retention]`` tables: which stale fine-tunes each source's rule may delete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from syncer.config.model import (
    DEFAULT_KEEP_LATEST,
    DEFAULT_MAX_DELETES,
    DEFAULT_RETENTION_EVERY,
    RetentionRule,
)
from syncer.config.reader import TableReader

__all__ = ["parse_retention_rules"]


_RETENTION_KEYS = {
    "max_age",
    "include",
    "owned_by",
    "keep",
    "keep_latest",
    "max_deletes",
    "apply",
    "every",
}


def parse_retention_rules(
    data: Mapping[str, Any], where: str, names: list[str]
) -> dict[str, RetentionRule]:
    """Each source's retention rule: the keys of its own ``retention`` table over ``[retention]``.

    A source with neither table has no rule.
    """
    shared = TableReader(data, where).get("retention", dict)
    tables = {t.get("name"): (index, t) for index, t in enumerate(data.get("sources", []))}
    rules: dict[str, RetentionRule] = {}
    for name in names:
        readers = []
        if name in tables:
            index, table = tables[name]
            prefix = f"sources[{index}]."
            own = TableReader(table, where, prefix).get("retention", dict)
            if own is not None:
                readers.append(TableReader(own, where, f"{prefix}retention."))
        if shared is not None:
            readers.append(TableReader(shared, where, "retention."))
        if readers:
            rules[name] = _retention_rule(readers)
    return rules


def _retention_rule(readers: list[TableReader]) -> RetentionRule:
    """One rule from its tables, most specific first; each key comes from the first that has it."""
    for reader in readers:
        reader.unknown(_RETENTION_KEYS)

    def read(key: str, how: Any, default: Any) -> Any:
        reader = next((r for r in readers if key in r.table), None)
        return default if reader is None else how(reader, key)

    def patterns(reader: TableReader, key: str) -> tuple[str, ...]:
        values = reader.get(key, list)
        if not all(isinstance(value, str) and value for value in values):
            raise reader.fail(key, "expected a list of non-empty strings")
        return tuple(values)

    def count(reader: TableReader, key: str) -> int:
        value: int = reader.get(key, int)
        if value < 0:
            raise reader.fail(key, "must be zero or more")
        return value

    max_age = read("max_age", TableReader.duration, None)
    if max_age is None:
        raise readers[0].fail("max_age", "required: how old a fine-tune must be to go, e.g. '90d'")
    return RetentionRule(
        max_age=max_age,
        include=read("include", patterns, ()),
        owned_by=read("owned_by", patterns, ()),
        keep=read("keep", patterns, ()),
        keep_latest=read("keep_latest", count, DEFAULT_KEEP_LATEST),
        max_deletes=read("max_deletes", count, DEFAULT_MAX_DELETES),
        apply=read("apply", lambda r, k: r.get(k, bool), False),
        every=read("every", TableReader.duration, DEFAULT_RETENTION_EVERY),
    )
