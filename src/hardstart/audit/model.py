"""What an audit is made of: rules, the outcome of checking one, and the registry of checks.

A check is a function of the repository that returns either `NotApplicable` or the list of
failures it found (an empty list is a pass). Checks register themselves with `@check(rule)`;
importing the modules that define them (see `checks.load`) fills the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hardstart.audit.repo import Repo


class Status(str, Enum):
    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    # Failed, but the repository's waiver file answers for it (with a reason): never fails the run.
    WAIVED = "waived"
    NOT_APPLICABLE = "not applicable"


class Severity(str, Enum):
    """How much a failure weakens the baseline; `--fail-on` compares against it."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return {"high": 3, "medium": 2, "low": 1}[self.value]


@dataclass(frozen=True)
class Rule:
    """One check of one baseline item. `id` is stable: SARIF rule ids and fingerprints use it."""

    id: str  # e.g. "J2-non-root-user": the baseline item, then what is checked
    item: str  # the baseline item, e.g. "J2"
    title: str  # what holds when the check passes, e.g. "The container runs as a non-root user"
    fix: str  # one sentence saying how to make a failure pass
    severity: Severity
    # The file that should carry the control: where a repository-level failure (a missing
    # file, a missing setting) is reported, so that SARIF always has a location.
    anchor: str


@dataclass(frozen=True)
class Failure:
    path: str  # relative to the repository root, POSIX separators
    line: int | None  # 1-based; None when the failure is about the file as a whole
    message: str  # one line: what is wrong here


@dataclass(frozen=True)
class NotApplicable:
    reason: str  # one line, e.g. "no Dockerfile"


Outcome = NotApplicable | list[Failure]
CheckFunction = Callable[["Repo"], Outcome]


@dataclass(frozen=True)
class Result:
    rule: Rule
    status: Status
    failures: tuple[Failure, ...] = ()
    reason: str = ""  # why the rule does not apply, or the waiver's reason


REGISTRY: dict[str, tuple[Rule, CheckFunction]] = {}


def check(rule: Rule) -> Callable[[CheckFunction], CheckFunction]:
    """Register `function` as the check of `rule` (ids must be unique)."""

    def register(function: CheckFunction) -> CheckFunction:
        if rule.id in REGISTRY:
            raise ValueError(f"duplicate audit rule id {rule.id}")
        REGISTRY[rule.id] = (rule, function)
        return function

    return register
