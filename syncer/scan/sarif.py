"""A scan as SARIF 2.1.0, the format GitHub code scanning reads (pure).

One rule per verdict (``syncer/model-vanished``, ...), so an alert's kind is its rule;
each result has a physical location (the file relative to the scanned root, line and
columns), a message with the advice and the replacement, and a fingerprint that stays
the same when lines move, so GitHub tracks one alert per use across commits. A finding
that fails the policy is an ``error``, one that does not a ``warning`` (``ok``: ``note``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any

from syncer.scan.verdict import VERDICTS, Finding

__all__ = ["RULES", "SARIF_SCHEMA", "rule_id", "to_sarif"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

#: (short description, help) of each verdict's rule.
RULES: dict[str, tuple[str, str]] = {
    "vanished": (
        "A model id no source lists any more",
        "The id was listed by a configured source and is no longer: calls with it fail. "
        "Replace it with the model the message names, or a current one (`syncer models`).",
    ),
    "shutting-down": (
        "A model id with a shutdown date",
        "The provider (or an imported deprecation list) dates this model's shutdown; after "
        "it, calls fail. Move to the replacement the message names before that date.",
    ),
    "deprecated": (
        "A deprecated model id",
        "The provider says this model is deprecated, with no date yet. Plan the move to "
        "the replacement the message names.",
    ),
    "not-listed": (
        "A model id no configured source lists",
        "It looks like a model id but no configured source has ever listed it: a typo, or "
        "a model the team's keys cannot use.",
    ),
    "ok": ("A model id listed now", "Listed by a configured source, with no shutdown date."),
}


def rule_id(kind: str) -> str:
    return f"syncer/model-{kind}"


def _uri(path: str) -> str:
    posix = PurePosixPath(path)
    return posix.as_posix().removeprefix("./")


def _fingerprint(finding: Finding) -> str:
    """The same for one use of one id in one file, wherever its line moves."""
    key = f"{finding.path}\0{finding.text}\0{finding.verdict.kind}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def to_sarif(
    findings: Sequence[Finding], failed: Sequence[Finding], version: str
) -> dict[str, Any]:
    """The SARIF log of one scan."""
    failing = {id(f) for f in failed}
    kinds = list(VERDICTS)
    rules = [
        {
            "id": rule_id(kind),
            "name": "Model" + "".join(part.title() for part in kind.split("-")),
            "shortDescription": {"text": RULES[kind][0]},
            "fullDescription": {"text": RULES[kind][1]},
            "help": {"text": RULES[kind][1], "markdown": RULES[kind][1]},
            "defaultConfiguration": {"level": "warning" if kind != "ok" else "note"},
            "properties": {"tags": ["maintainability", "model-lifecycle"]},
        }
        for kind in kinds
    ]
    results = []
    for finding in findings:
        verdict = finding.verdict
        level = "error" if id(finding) in failing else "note" if verdict.kind == "ok" else "warning"
        message = f"{finding.text}: {verdict.kind}: {verdict.advice}"
        result: dict[str, Any] = {
            "ruleId": rule_id(verdict.kind),
            "ruleIndex": kinds.index(verdict.kind),
            "level": level,
            "message": {"text": message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(finding.path), "uriBaseId": "%SRCROOT%"},
                        "region": {
                            "startLine": finding.line,
                            "startColumn": finding.column,
                            "endColumn": finding.column + len(finding.text),
                        },
                    },
                }
            ],
            "partialFingerprints": {"syncerFinding/v1": _fingerprint(finding)},
            "properties": {
                "modelId": verdict.model_id,
                "verdict": verdict.kind,
                "replacement": verdict.replacement,
                "shutdownDate": verdict.shutdown_at.date().isoformat()
                if verdict.shutdown_at
                else None,
                "daysLeft": verdict.days_left,
            },
        }
        if finding.waiver is not None:
            result["suppressions"] = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": f"{finding.waiver.reason} (until {finding.waiver.expires})",
                }
            ]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "syncer",
                        "version": version,
                        "semanticVersion": version,
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
