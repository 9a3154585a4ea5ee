"""Finding model ids in text: one automaton for every known id and family (pure).

Every id the inventory has seen (and its prefix-free form) and the head of every family of
ids (``FAMILIES``) go into one Aho-Corasick automaton, which walks a file's bytes once
whatever their number (one regular expression of them all took many times longer). Each
place it reports is then checked where it stands: the longest known id starting there that
ends at an id boundary wins (``gpt-4o`` over ``gpt-4``), else the family's bounded pattern
(no nested repetition, possessive: time in proportion to the text, whatever the text).

Boundaries: an id starts after a character that cannot be part of one (a quote, a space,
``=``, ``/``; also after a Bedrock vendor such as ``anthropic.``) and ends before one; a dot,
colon or ``@`` ends it unless an id character follows (``gpt-4.`` at the end of a sentence
is ``gpt-4``). Written prefixes (``openai/``, ``models/``, LiteLLM's ``provider/``, Bedrock's
``us.anthropic.``) and suffixes (OpenRouter's ``:free``, Bedrock's ``-v1:0``) are kept in
the text as written and stripped to look the id up (``candidates``).

A plain-word id (letters and digits only: ``o3``, ``mistral``) and every family match count
only as a value: right after a quote, ``=`` or ``:``, and not as a quoted key; elsewhere
such a word is too often something else (a variable, prose, a package name).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ahocorasick_rs import BytesAhoCorasick, Implementation

__all__ = [
    "BEDROCK_REGIONS",
    "BEDROCK_VENDORS",
    "FAMILIES",
    "PREFIXES",
    "Match",
    "Matcher",
    "candidates",
    "is_id",
    "normalise",
]

#: Path-style prefixes stripped to look an id up: OpenAI-compatible routers' vendor names,
#: Gemini's ``models/``, and LiteLLM's provider names.
PREFIXES = frozenset(
    {
        "openai",
        "azure",
        "azure_ai",
        "anthropic",
        "bedrock",
        "bedrock_converse",
        "vertex_ai",
        "vertex_ai_beta",
        "gemini",
        "google",
        "models",
        "mistral",
        "mistralai",
        "groq",
        "together_ai",
        "together",
        "openrouter",
        "cohere",
        "cohere_chat",
        "deepseek",
        "xai",
        "x-ai",
        "ollama",
        "ollama_chat",
        "hosted_vllm",
        "vllm",
        "fireworks_ai",
        "perplexity",
        "meta-llama",
        "litellm_proxy",
        "text-completion-openai",
        "qwen",
    }
)
#: Bedrock's model-id vendors (``anthropic.claude-...``) and cross-region profile prefixes.
BEDROCK_VENDORS = (
    "anthropic",
    "meta",
    "amazon",
    "cohere",
    "mistral",
    "ai21",
    "deepseek",
    "writer",
    "openai",
    "qwen",
    "stability",
)
BEDROCK_REGIONS = frozenset({"us", "eu", "apac", "us-gov", "global", "jp", "au", "ca"})

#: The families an unknown id is recognised by: a head (found in any case) and at most 80
#: more id characters. Documented in docs/scan.md: keep the two in agreement.
FAMILIES = (
    ("gpt-", r"gpt-(?:\d|oss|image|realtime|audio)"),
    ("chatgpt-", r"chatgpt-"),
    ("o1", r"o1(?:-|(?![\w.:@]))"),
    ("o3", r"o3(?:-|(?![\w.:@]))"),
    ("o4", r"o4(?:-|(?![\w.:@]))"),
    ("text-", r"text-(?:embedding|davinci|curie|babbage|ada|moderation)-"),
    ("davinci-", r"davinci-00\d"),
    ("babbage-", r"babbage-00\d"),
    ("dall-e-", r"dall-e-\d"),
    ("whisper-", r"whisper-\d"),
    ("tts-", r"tts-\d"),
    ("claude-", r"claude-"),
    ("gemini-", r"gemini-"),
    ("gemma", r"gemma-?\d"),
    ("mistral-", r"mistral-"),
    ("open-mistral-", r"open-mistral-"),
    ("codestral-", r"codestral-"),
    ("mixtral-", r"mixtral-"),
    ("ministral-", r"ministral-"),
    ("pixtral-", r"pixtral-"),
    ("magistral-", r"magistral-"),
    ("devstral-", r"devstral-"),
    ("command-", r"command-(?:r|a|light|nightly|xlarge)"),
    ("embed-", r"embed-(?:english|multilingual)-"),
    ("llama", r"llama-?\d"),
    ("grok-", r"grok-"),
    ("deepseek-", r"deepseek-"),
    ("qwen", r"qwen-?\d"),
)

#: One family match: its head and at most 80 more id characters (a dot, colon, ``@`` or
#: dash only inside one), then no id character.
_FAMILY = re.compile(
    b"(?i:" + b"|".join(p.encode() for _, p in FAMILIES) + rb")(?:\w|[-.:@](?=\w)){0,80}+"
    rb"(?![\w-]|[.:@]\w)"
)
#: What may follow a known id and still be that id (Bedrock's version ``-v1:0``, then
#: OpenRouter's ``:free``-style variant or an Ollama tag), then no id character.
_END = re.compile(rb"(?:-v\d{1,3}:\d{1,3})?(?::(?:\w|[-.](?=\w)){1,40}+)?(?![\w-]|[.:@]\w)")
#: How far past its start each of the two may look: beyond their longest match (so the
#: boundary after one is still seen), and bounded, as CPython's engine can otherwise take
#: time in proportion to the whole text at each call.
_FAMILY_WINDOW, _END_WINDOW = 128, 64
_PLAIN = re.compile(r"[A-Za-z0-9]+")
_VARIANT = re.compile(r":[\w.-]+$")
_BEDROCK_VERSION = re.compile(r"-v\d+(?::\d+)?$")
#: Bytes that can be part of an id (ASCII: a non-ASCII letter or quote ends one).
_INSIDE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:@-")
_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_VENDORS = frozenset(v.encode() for v in BEDROCK_VENDORS)
_REGIONS = frozenset(r.encode() for r in BEDROCK_REGIONS)
_PREFIXES = frozenset(p.encode() for p in PREFIXES)
#: Above this many words the automaton's DFA would take too much memory; its NFA is slower.
_DFA_WORDS = 20_000


@dataclass(frozen=True, slots=True)
class Match:
    """One id found: where (byte offsets), the text as written, and whether it is known."""

    start: int
    end: int
    #: The whole text as written, prefixes and suffixes included.
    written: str
    #: True when no known id matched and a family pattern did (the id is not listed).
    unknown: bool


def is_id(text: str) -> bool:
    """Whether ``text`` could be found as a whole id (ASCII, no space)."""
    return text.isascii() and bool(text) and not any(c.isspace() for c in text)


def normalise(model_id: str) -> str:
    """An id without the prefixes and suffixes people write around it: the key that the
    same model has however it is written (``openrouter/openai/gpt-4o:free`` -> ``gpt-4o``)."""
    return candidates(model_id)[-1]


def candidates(written: str) -> list[str]:
    """The ids ``written`` may stand for, from as written to fully stripped, each once.

    Prefix segments are stripped one at a time (``openrouter/openai/gpt-4o`` tries
    ``openai/gpt-4o`` before ``gpt-4o``), then a ``:variant``, then Bedrock's version."""
    found = [written]
    text = written
    parts = text.split("/")
    while len(parts) > 1 and parts[0].lower() in PREFIXES:
        parts = parts[1:]
        found.append("/".join(parts))
    text = found[-1]
    dotted = text.split(".")
    bedrock = False
    if len(dotted) > 2 and dotted[0] in BEDROCK_REGIONS and dotted[1] in BEDROCK_VENDORS:
        text, bedrock = ".".join(dotted[2:]), True
    elif len(dotted) > 1 and dotted[0] in BEDROCK_VENDORS:
        text, bedrock = ".".join(dotted[1:]), True
    if bedrock:
        found.append(text)
    if ":" in text and not text.startswith("ft:"):
        found.append(text := _VARIANT.sub("", text))
    if bedrock:
        found.append(_BEDROCK_VERSION.sub("", text))
    return list(dict.fromkeys(found))


def _segment_before(data: bytes, end: int, separator: int) -> int | None:
    """Where the word just before ``data[end - 1] == separator`` starts, if there is one."""
    if end <= 1 or data[end - 1] != separator:
        return None
    start = end - 1
    while start > 0 and end - start < 48 and data[start - 1] in _WORD:
        start -= 1
    return start if start < end - 1 else None


def _bedrock_start(data: bytes, start: int) -> int | None:
    """Where a Bedrock vendor (and region) written just before ``start`` begins, if one is."""
    vendor = _segment_before(data, start, ord("."))
    if vendor is None or data[vendor : start - 1] not in _VENDORS:
        return None
    region = _segment_before(data, vendor, ord("."))
    if region is not None and data[region : vendor - 1] in _REGIONS:
        vendor = region
    return vendor if vendor == 0 or data[vendor - 1] not in _INSIDE else None


def _written_start(data: bytes, start: int) -> int:
    """Extend a match leftwards over the prefixes written before it (kept, as written)."""
    bedrock = _bedrock_start(data, start)
    if bedrock is not None:
        return bedrock
    for _ in range(4):
        segment = _segment_before(data, start, ord("/"))
        if segment is None or data[segment : start - 1].lower() not in _PREFIXES:
            break
        start = segment
    return start


def _is_value(data: bytes, start: int, end: int) -> bool:
    """Whether ``data[start:end]`` stands as a value: after a quote, ``=`` or ``:``, and
    not as a quoted key (``"gpt-9": ...``)."""
    before = start - 1
    if before < 0:
        return False
    if data[before] in b"\"'`":
        after = end
        if after < len(data) and data[after] == data[before]:
            after += 1
            while after < len(data) and data[after] in b" \t":
                after += 1
            return not (after < len(data) and data[after] == ord(":"))
        return True
    while before >= 0 and start - before < 8 and data[before] in b" \t":
        before -= 1
    return before >= 0 and data[before] in b"=:"


class Matcher:
    """Every known id and every family head in one automaton; ``find`` walks bytes once."""

    def __init__(self, known: Iterable[str]) -> None:
        ids = {i for i in known if is_id(i)}
        self._keys = frozenset(k.encode() for k in ids | {normalise(i) for i in ids})
        self._plain = frozenset(k for k in self._keys if _PLAIN.fullmatch(k.decode()))
        heads = {head for head, _ in FAMILIES}
        heads |= {h.capitalize() for h in heads} | {h.upper() for h in heads}
        words = sorted(self._keys) + sorted({h.encode() for h in heads} - self._keys)
        self._known = len(self._keys)
        dfa = Implementation.DFA if len(words) <= _DFA_WORDS else None
        self._automaton = BytesAhoCorasick(words, implementation=dfa)

    def find(self, data: bytes) -> Iterator[Match]:
        """Each id in ``data`` (a file's bytes), in order, none inside another."""
        ends: dict[int, list[int]] = {}
        heads: set[int] = set()
        for index, start, end in self._automaton.find_matches_as_indexes(data, overlapping=True):
            if index < self._known:
                ends.setdefault(start, []).append(end)
            else:
                heads.add(start)
        done = 0
        for start in sorted(ends.keys() | heads):
            if start < done:
                continue
            if start > 0 and data[start - 1] in _INSIDE and _bedrock_start(data, start) is None:
                continue
            found = self._at(data, start, ends.get(start, ()))
            if found is not None:
                done = found.end
                yield found

    def _at(self, data: bytes, start: int, ends: Iterable[int]) -> Match | None:
        """The id that starts at ``start``, if one does: the longest known one, else a family's."""
        end = key = None
        for candidate in sorted(ends, reverse=True):
            tail = _END.match(data, candidate, candidate + _END_WINDOW)
            if tail is not None:
                end, key = tail.end(), data[start:candidate]
                break
        if end is None:
            family = _FAMILY.match(data, start, start + _FAMILY_WINDOW)
            if family is None:
                return None
            end = family.end()
        begin = _written_start(data, start)
        if (key is None or key in self._plain) and not _is_value(data, begin, end):
            return None
        return Match(begin, end, data[begin:end].decode("ascii", "replace"), key is None)
