"""A scan's findings as people and tools read them (pure): ``text``, ``json`` and
``github`` (SARIF is ``sarif``).

Every format gets the findings to show (``ok`` ones only with ``--all``) and which of them
fail the policy; the summary line is for stderr whatever the format.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import groupby
from typing import Any

from syncer.scan.verdict import Finding, count
from syncer.timeutil import iso

__all__ = [
    "ANNOTATIONS_PER_LEVEL",
    "JSON_VERSION",
    "SUMMARY_ROWS",
    "advice",
    "render_github",
    "render_text",
    "step_summary",
    "summary",
    "to_json",
]

JSON_VERSION = 1
#: GitHub shows at most 10 error and 10 warning annotations of a step (and 10 notices):
#: more are dropped silently, so the rest are counted in one line instead.
ANNOTATIONS_PER_LEVEL = 10
#: Rows of the step summary's table (its page holds 1 MiB).
SUMMARY_ROWS = 500


def advice(finding: Finding) -> str:
    """The verdict's advice, and the waiver that accepts the finding, if one does."""
    if finding.waiver is None:
        return finding.verdict.advice
    waiver = finding.waiver
    return f"{finding.verdict.advice} [waived until {waiver.expires}: {waiver.reason}]"


def render_text(findings: Sequence[Finding], failed: Sequence[Finding]) -> str:
    """Grouped by file: ``line:col  id  verdict  advice``, a failing one marked ``!``, a
    waived one ``~``."""
    failing = {id(f) for f in failed}
    blocks = []
    for path, group in groupby(findings, key=lambda f: f.path):
        rows = list(group)
        width = max(len(f.text) for f in rows)
        lines = [path]
        for f in rows:
            mark = "!" if id(f) in failing else "~" if f.waiver is not None else " "
            place = f"{f.line}:{f.column}"
            lines.append(f" {mark}{place:>9}  {f.text:<{width}}  {f.verdict.kind:<13}  {advice(f)}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def summary(
    findings: Sequence[Finding],
    failed: Sequence[Finding],
    files: int,
    hidden: int,
    fail_on: str,
    expired: int = 0,
) -> str:
    """One line: what was scanned and found, and whether the policy failed."""
    counts = count(findings)
    found = ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "no model ids"
    plural = "" if files == 1 else "s"
    line = f"scanned {files} file{plural}: {found}"
    if hidden:
        line += f" ({hidden} ok not shown: --all shows them)"
    waived = sum(f.waiver is not None for f in findings)
    if waived:
        line += f"; {waived} waived"
    if failed:
        line += f"; {len(failed)} fail --fail-on {fail_on}"
    if expired:
        line += f"; {expired} expired waiver{'' if expired == 1 else 's'}"
    return line


def to_json(
    findings: Sequence[Finding],
    failed: Sequence[Finding],
    *,
    files: int,
    fail_on: str,
    scanned_at: datetime,
) -> dict[str, Any]:
    """The versioned JSON document of a scan (``format`` and ``version`` say which)."""
    failing = {id(f) for f in failed}
    return {
        "format": "syncer-scan",
        "version": JSON_VERSION,
        "scanned_at": iso(scanned_at),
        "files": files,
        "fail_on": fail_on,
        "failed": bool(failed),
        "counts": count(findings),
        "findings": [
            {
                "path": f.path,
                "line": f.line,
                "column": f.column,
                "text": f.text,
                "model_id": f.verdict.model_id,
                "verdict": f.verdict.kind,
                "fails": id(f) in failing,
                "sources": list(f.verdict.sources),
                "shutdown_at": iso(f.verdict.shutdown_at) if f.verdict.shutdown_at else None,
                "days_left": f.verdict.days_left,
                "origin": f.verdict.origin,
                "replacement": f.verdict.replacement,
                "vanished_at": iso(f.verdict.vanished_at) if f.verdict.vanished_at else None,
                "advice": f.verdict.advice,
                "waiver": None
                if f.waiver is None
                else {
                    "reason": f.waiver.reason,
                    "expires": f.waiver.expires.isoformat(),
                    "path": f.waiver.path,
                },
            }
            for f in findings
        ],
    }


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(findings: Sequence[Finding], failed: Sequence[Finding]) -> str:
    """GitHub Actions workflow commands: one annotation per finding, ``error`` for those
    that fail, ``warning`` for the rest (``notice`` for ok), at most
    ``ANNOTATIONS_PER_LEVEL`` of each, then one line that counts the rest."""
    failing = {id(f) for f in failed}
    shown: dict[str, int] = {}
    dropped = 0
    lines = []
    for f in findings:
        level = (
            "error"
            if id(f) in failing
            else "notice"
            if f.verdict.kind == "ok" or f.waiver is not None
            else "warning"
        )
        shown[level] = shown.get(level, 0) + 1
        if shown[level] > ANNOTATIONS_PER_LEVEL:
            dropped += 1
            continue
        where = (
            f"file={_property(f.path.removeprefix('./'))},line={f.line},col={f.column},"
            f"endColumn={f.column + len(f.text)}"
        )
        title = _property(f"{f.text}: {f.verdict.kind}")
        lines.append(f"::{level} {where},title={title}::{_data(advice(f))}")
    if dropped:
        lines.append(
            f"::warning::{dropped} more findings not annotated (GitHub shows "
            f"{ANNOTATIONS_PER_LEVEL} of each level): see the job summary"
        )
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def step_summary(findings: Sequence[Finding], failed: Sequence[Finding], line: str) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY``: the summary line and a table of findings."""
    failing = {id(f) for f in failed}
    parts = ["### syncer scan", "", _cell(line), ""]
    if findings:
        parts += ["| | where | id | verdict | what to do |", "|---|---|---|---|---|"]
        for f in findings[:SUMMARY_ROWS]:
            mark = "❌" if id(f) in failing else "waived" if f.waiver is not None else ""
            parts.append(
                f"| {mark} | `{_cell(f.path)}:{f.line}:{f.column}` | "
                f"`{_cell(f.text)}` | {f.verdict.kind} | {_cell(advice(f))} |"
            )
        if len(findings) > SUMMARY_ROWS:
            parts.append(f"\n{len(findings) - SUMMARY_ROWS} more findings not listed.")
    return "\n".join(parts) + "\n"
