"""Running an audit: every registered check against one repository, in rule-id order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hardstart.audit import checks, waivers
from hardstart.audit.model import NotApplicable, Result, Rule, Severity, Status
from hardstart.audit.repo import Repo

NO_NODE_PROJECT = "no Node.js project (package.json)"


@dataclass(frozen=True)
class Report:
    root: Path
    results: tuple[Result, ...]
    started: datetime
    finished: datetime

    def count(self, status: Status) -> int:
        return sum(1 for result in self.results if result.status is status)

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(result.rule for result in self.results)

    @property
    def applicable(self) -> int:
        return len(self.results) - self.count(Status.NOT_APPLICABLE)

    def summary(self) -> str:
        waived = self.count(Status.WAIVED)
        return (
            f"{self.count(Status.PASS)} passed, {self.count(Status.FAIL)} failed,"
            + (f" {waived} waived," if waived else "")
            + f" {self.count(Status.NOT_APPLICABLE)} not applicable"
        )

    def fails_at(self, level: Severity | None) -> bool:
        """Whether a rule at or above `level` failed (None: never)."""
        if level is None:
            return False
        return any(
            result.status is Status.FAIL and result.rule.severity.rank >= level.rank
            for result in self.results
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "summary": {
                "passed": self.count(Status.PASS),
                "failed": self.count(Status.FAIL),
                "waived": self.count(Status.WAIVED),
                "not_applicable": self.count(Status.NOT_APPLICABLE),
            },
            "results": [
                {
                    "rule": result.rule.id,
                    "item": result.rule.item,
                    "title": result.rule.title,
                    "severity": result.rule.severity.value,
                    "status": result.status.value,
                    "reason": result.reason or None,
                    "fix": result.rule.fix if result.failures else None,
                    "failures": [
                        {"path": f.path, "line": f.line, "message": f.message}
                        for f in result.failures
                    ],
                }
                for result in self.results
            ],
        }


def has_node_project(repo: Repo) -> bool:
    return any(path == "package.json" or path.endswith("/package.json") for path in repo.files)


def audit(root: Path) -> Report:
    """Check `root` against every registered rule. A repository without a Node project gets
    every rule as not applicable and no check runs."""
    started = datetime.now(timezone.utc)
    registry = checks.load()
    repo = Repo(root)
    waived = waivers.read(root, registry)  # a broken waiver file is an error in any repository
    gated = not has_node_project(repo)
    results: list[Result] = []
    for rule_id in sorted(registry):
        rule, function = registry[rule_id]
        if gated:
            results.append(Result(rule, Status.NOT_APPLICABLE, reason=NO_NODE_PROJECT))
            continue
        outcome = function(repo)
        if isinstance(outcome, NotApplicable):
            results.append(Result(rule, Status.NOT_APPLICABLE, reason=outcome.reason))
        elif outcome and rule_id in waived:
            results.append(
                Result(rule, Status.WAIVED, failures=tuple(outcome), reason=waived[rule_id])
            )
        elif outcome:
            results.append(Result(rule, Status.FAIL, failures=tuple(outcome)))
        else:
            results.append(Result(rule, Status.PASS))
    return Report(root, tuple(results), started, datetime.now(timezone.utc))
