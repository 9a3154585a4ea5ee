"""A scan's findings as people and tools read them (pure): ``text`` for now.

Every format gets the findings to show (``ok`` ones only with ``--all``) and which of them
fail the policy; the summary line is for stderr whatever the format.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from syncer.scan.verdict import Finding, count

__all__ = ["render_text", "summary"]


def render_text(findings: Sequence[Finding], failed: Sequence[Finding]) -> str:
    """Grouped by file: ``line:col  id  verdict  advice``, a failing one marked ``!``."""
    failing = {id(f) for f in failed}
    blocks = []
    for path, group in groupby(findings, key=lambda f: f.path):
        rows = list(group)
        width = max(len(f.text) for f in rows)
        lines = [path]
        for f in rows:
            mark = "!" if id(f) in failing else " "
            place = f"{f.line}:{f.column}"
            lines.append(f" {mark}{place:>9}  {f.text:<{width}}  {f.verdict.kind:<13}  "
                         f"{f.verdict.advice}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def summary(
    findings: Sequence[Finding], failed: Sequence[Finding], files: int, hidden: int,
    fail_on: str,
) -> str:
    """One line: what was scanned and found, and whether the policy failed."""
    counts = count(findings)
    found = ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "no model ids"
    plural = "" if files == 1 else "s"
    line = f"scanned {files} file{plural}: {found}"
    if hidden:
        line += f" ({hidden} ok not shown: --all shows them)"
    if failed:
        line += f"; {len(failed)} fail --fail-on {fail_on}"
    return line
