"""Counted nouns in what syncer prints: "1 model", "2 models" (one copy of the rule)."""

from __future__ import annotations

__all__ = ["counted"]


def counted(count: int, noun: str, shown: str | None = None) -> str:
    """``count`` and ``noun``, plural unless there is exactly one (``shown`` prints the count,
    e.g. with thousands separators)."""
    return f"{count if shown is None else shown} {noun}{'' if count == 1 else 's'}"
