"""What an update would do (or did), per file: the result object that `update --plan`, `update`,
`check` and `fleet` report, as a table, JSON or a commit message."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any


class Outcome(str, Enum):
    UNCHANGED = "unchanged"
    UPDATED = "updated"
    CONFLICT = "conflict"
    NEW = "new"
    DELETED = "deleted"  # by the template
    KEPT = "kept"  # the template changed it, but the project's version stays

    @property
    def heading(self) -> str:
        return _TITLES[self]


_TITLES = {
    Outcome.UNCHANGED: "unchanged",
    Outcome.UPDATED: "updated",
    Outcome.CONFLICT: "conflicts (inline markers)",
    Outcome.NEW: "new",
    Outcome.DELETED: "deleted by the template",
    Outcome.KEPT: "kept as yours",
}


@dataclass(frozen=True)
class FileChange:
    path: str
    outcome: Outcome
    note: str = ""


@dataclass
class Plan:
    """The update of one project from one template version to another."""

    project: Path
    from_ref: str
    to_ref: str
    files: list[FileChange] = field(default_factory=list)
    new_answers: dict[str, Any] = field(default_factory=dict)
    migrations: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    def having(self, outcome: Outcome) -> list[FileChange]:
        return [change for change in self.files if change.outcome is outcome]

    @property
    def conflicts(self) -> list[str]:
        return [change.path for change in self.having(Outcome.CONFLICT)]

    @property
    def changes(self) -> list[FileChange]:
        """The files the update writes or removes."""
        return [c for c in self.files if c.outcome not in {Outcome.UNCHANGED, Outcome.KEPT}]

    def to_json(self) -> dict[str, Any]:
        return {
            "project": str(self.project),
            "from": self.from_ref,
            "to": self.to_ref,
            "changes": bool(self.changes),
            "files": [
                {"path": c.path, "outcome": c.outcome.value, **({"note": c.note} if c.note else {})}
                for c in self.files
            ],
            "new_questions": self.new_answers,
            "migrations": self.migrations,
            "conflicts": self.conflicts,
            "actions": self.actions,
        }

    def commit_message(self) -> str:
        """The summary as a commit message: a subject line, a blank line, the details."""
        subject, *details = self.summary()
        return subject + ("\n\n" + "\n".join(details) if details else "") + "\n"

    def summary(self) -> list[str]:
        """Lines for the terminal and for the commit message."""
        lines = [f"hardstart update {self.from_ref} → {self.to_ref}"]
        if not self.changes:
            lines.append("Nothing to change: the project already has this template version.")
        for outcome in Outcome:
            if outcome is Outcome.UNCHANGED:
                continue
            listed = self.having(outcome)
            if listed:
                lines.append(f"{outcome.heading} ({len(listed)}):")
                lines.extend(f"  {c.path}" + (f" ({c.note})" if c.note else "") for c in listed)
        if self.new_answers:
            lines.append("new questions:")
            lines.extend(f"  {name} = {value}" for name, value in self.new_answers.items())
        if self.migrations:
            lines.append("migrations:")
            lines.extend(f"  {migration}" for migration in self.migrations)
        return lines
