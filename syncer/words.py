"""Words in what syncer prints: counted nouns ("1 model", "2 models") and text cut to fit a
line, one copy of each rule."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["clip", "counted", "snippet", "value_text"]


def counted(count: int, noun: str, shown: str | None = None) -> str:
    """``count`` and ``noun``, plural unless there is exactly one (``shown`` prints the count,
    e.g. with thousands separators)."""
    return f"{count if shown is None else shown} {noun}{'' if count == 1 else 's'}"


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, the last of a cut text an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def snippet(data: str | bytes, limit: int) -> str:
    """At most ``limit`` characters, whitespace collapsed to one line: what a provider or a
    receiver said, quoted in a message. Bytes are read as UTF-8, and only as many as can
    make ``limit`` characters, so a huge body costs nothing."""
    text = data[: limit * 4].decode("utf-8", "replace") if isinstance(data, bytes) else data
    return clip(" ".join(text.split()), limit)


def value_text(value: Any, limit: int) -> str:
    """A stored field's value in a line: its JSON (keys sorted, any other object as its
    text), cut to ``limit`` characters."""
    return clip(json.dumps(value, sort_keys=True, default=str, ensure_ascii=False), limit)
