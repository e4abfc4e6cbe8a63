"""SARIF 2.1.0, as GitHub code scanning reads it.

Every failure is a result with a file and a start line (1 for a repository-level finding, which
points at the file that should carry the control). `partialFingerprints` hash the rule, the file,
the message and the occurrence, never the line, so an alert survives code moving around it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote

from hardstart import __version__
from hardstart.audit.model import Failure, Rule, Severity, Status
from hardstart.audit.run import Report

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "hardstartAudit/v1"
LEVELS = {Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}
# GitHub ranks security alerts by this score: >= 7 high, >= 4 medium, below: low.
SECURITY_SEVERITY = {Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0"}


def numbered(failures: Iterable[Failure]) -> Iterator[tuple[Failure, int]]:
    """Each failure with its occurrence among failures of the same file and message, so that
    identical findings keep distinct, stable fingerprints."""
    seen: dict[tuple[str, str], int] = {}
    for failure in failures:
        key = (failure.path, failure.message)
        seen[key] = seen.get(key, -1) + 1
        yield failure, seen[key]


def fingerprint(rule: Rule, failure: Failure, occurrence: int) -> str:
    digest = hashlib.sha256(
        "\0".join((rule.id, failure.path, failure.message, str(occurrence))).encode()
    )
    return digest.hexdigest()


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")[1:]),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": f"Baseline item {rule.item}: {rule.title}."},
        "help": {
            "text": rule.fix,
            "markdown": f"**Baseline item {rule.item}.** {rule.fix}",
        },
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "tags": ["security", f"baseline-{rule.item}"],
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "precision": "high",
        },
    }


def render(report: Report) -> dict[str, Any]:
    rules = report.rules  # in rule-id order
    index = {rule.id: i for i, rule in enumerate(rules)}
    results: list[dict[str, Any]] = []
    for result in report.results:
        if result.status not in (Status.FAIL, Status.WAIVED):
            continue
        for failure, occurrence in numbered(result.failures):
            rule = result.rule
            results.append(
                {
                    "ruleId": rule.id,
                    "ruleIndex": index[rule.id],
                    "level": LEVELS[rule.severity],
                    "message": {"text": f"{failure.message}. Fix: {rule.fix}"},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {
                                    # A URI: a space or '#' in a path must not end it.
                                    "uri": quote(failure.path),
                                    "uriBaseId": "%SRCROOT%",
                                },
                                "region": {"startLine": failure.line or 1},
                            }
                        }
                    ],
                    "partialFingerprints": {
                        FINGERPRINT_KEY: fingerprint(rule, failure, occurrence)
                    },
                    # A waiver in the repository's .hardstart/audit.yml: shown as suppressed.
                    **(
                        {"suppressions": [{"kind": "external", "justification": result.reason}]}
                        if result.status is Status.WAIVED
                        else {}
                    ),
                }
            )
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "hardstart audit",
                        "semanticVersion": __version__,
                        "version": __version__,
                        "rules": [_rule(rule) for rule in rules],
                    }
                },
                "automationDetails": {"id": "hardstart-audit/"},
                "results": results,
            }
        ],
    }
