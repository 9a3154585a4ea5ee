"""One scan: read the files a walk yields, find the ids in each, judge every one.

The only I/O is reading files (``walk``); matching and judging are pure. A file is read as
bytes and only the lines that hold an id are decoded, for their column.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from syncer.scan.matcher import Matcher
from syncer.scan.verdict import Finding, Index
from syncer.scan.walk import read_text_file

__all__ = ["ScanResult", "scan_data", "scan_files"]


@dataclass(frozen=True, slots=True)
class ScanResult:
    findings: tuple[Finding, ...]
    files: int
    #: Files passed over: too big, binary or unreadable.
    skipped: int


def scan_data(
    data: bytes, shown: str, matcher: Matcher, index: Index, now: datetime
) -> list[Finding]:
    """The findings of one file's bytes (pure)."""
    findings = []
    line, line_start = 1, 0
    for match in matcher.find(data):
        newlines = data.count(b"\n", line_start, match.start)
        if newlines:
            line += newlines
            line_start = data.rindex(b"\n", line_start, match.start) + 1
        column = len(data[line_start : match.start].decode("utf-8", "replace")) + 1
        verdict = index.judge(match.written, now)
        findings.append(Finding(shown, line, column, match.written, verdict))
    return findings


def scan_files(files: Iterable[tuple[str, Path]], index: Index, now: datetime) -> ScanResult:
    """Scan every file; findings in the order of the files, then of their places."""
    matcher = Matcher(index.known_ids())
    findings: list[Finding] = []
    read = skipped = 0
    for shown, path in files:
        data = read_text_file(path)
        if data is None:
            skipped += 1
            continue
        read += 1
        findings += scan_data(data, shown, matcher, index, now)
    return ScanResult(tuple(findings), read, skipped)
