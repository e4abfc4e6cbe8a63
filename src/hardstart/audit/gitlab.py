"""GitLab's SAST report (schema 15.x): what the merge-request security widget reads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from hardstart import __version__
from hardstart.audit.model import Status
from hardstart.audit.run import Report
from hardstart.audit.sarif import fingerprint, numbered

SCHEMA_VERSION = "15.0.7"
_TOOL = {
    "id": "hardstart-audit",
    "name": "hardstart audit",
    "version": __version__,
    "vendor": {"name": "hardstart"},
}
_NAMESPACE = uuid.UUID("5b0e8c4e-7a2d-4f8e-9a57-6b3f6c1d2e90")


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def render(report: Report) -> dict[str, Any]:
    vulnerabilities: list[dict[str, Any]] = []
    for result in report.results:
        if result.status is not Status.FAIL:
            continue
        rule = result.rule
        for failure, occurrence in numbered(result.failures):
            vulnerabilities.append(
                {
                    "id": str(uuid.uuid5(_NAMESPACE, fingerprint(rule, failure, occurrence))),
                    "name": rule.title,
                    "description": f"{failure.message}. Baseline item {rule.item}.",
                    "severity": rule.severity.value.capitalize(),
                    "solution": rule.fix,
                    "location": {"file": failure.path, "start_line": failure.line or 1},
                    "identifiers": [
                        {"type": "hardstart_audit_rule", "name": rule.id, "value": rule.id}
                    ],
                }
            )
    return {
        "version": SCHEMA_VERSION,
        "scan": {
            "analyzer": _TOOL,
            "scanner": _TOOL,
            "type": "sast",
            "start_time": _time(report.started),
            "end_time": _time(report.finished),
            "status": "success",
        },
        "vulnerabilities": vulnerabilities,
    }
