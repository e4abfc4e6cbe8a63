"""The template's `_migrations`, run by hardstart as Copier runs them on update.

A migration is Copier's (new-format) entry: `version` (it runs when an update crosses it:
from < version ≤ to), `when` (rendered with `_stage` = before | after; Copier's default is
after) and `command` (a string runs in a shell, a list does not), rendered with `_copier_python`,
`_copier_conf.src_path`, `_version_from`, `_version_to` and `_version_current`. Commands run in
the update's scratch copy of the project, never in the project itself, with the same variables
in the environment as Copier sets (STAGE, VERSION_FROM, ...). They are how an answer renamed or
reshaped between versions is carried over: a `before` migration edits the answers file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from hardstart import history
from hardstart.errors import HardstartError, Untrusted
from hardstart.questions import Template, is_true

Stage = Literal["before", "after"]


@dataclass(frozen=True)
class Migration:
    version: str
    stage: Stage
    command: str | list[str]

    def describe(self) -> str:
        shown = self.command if isinstance(self.command, str) else " ".join(self.command)
        return f"{self.version} ({self.stage}): {shown}"


def _context(
    template: Template, src: Path, dst: Path, from_ref: str, to_ref: str, stage: Stage
) -> dict[str, Any]:
    return {
        "_stage": stage,
        "_version_from": from_ref,
        "_version_to": to_ref,
        "_version_pep440_from": history.parse_version(from_ref),
        "_version_pep440_to": history.parse_version(to_ref),
        "_copier_python": sys.executable,
        "_copier_operation": "update",
        "_copier_conf": {"src_path": src, "dst_path": dst, "answers_file": template.answers_file},
    }


def applicable(
    template: Template, src: Path, dst: Path, from_ref: str, to_ref: str, stage: Stage
) -> list[Migration]:
    """The migrations of `template` (the new version) that an update from → to runs at `stage`."""
    low, high = history.parse_version(from_ref), history.parse_version(to_ref)
    found = []
    for entry in template.settings.get("migrations") or []:
        if not isinstance(entry, dict) or "version" not in entry or "command" not in entry:
            raise HardstartError(
                "template error: each _migrations entry needs a version and a command"
            )
        if not low < history.parse_version(str(entry["version"])) <= high:
            continue
        context = {
            **_context(template, src, dst, from_ref, to_ref, stage),
            "_version_current": str(entry["version"]),
        }
        if not is_true(template.render(entry.get("when", '{{ _stage == "after" }}'), context)):
            continue
        command = entry["command"]
        rendered = (
            str(template.render(command, context))
            if isinstance(command, str)
            else [str(template.render(str(part), context)) for part in command]
        )
        found.append(Migration(version=str(entry["version"]), stage=stage, command=rendered))
    return found


def run(migrations: list[Migration], dst: Path, from_ref: str, to_ref: str, trusted: bool) -> None:
    """Run `migrations` in `dst`; a failing one stops the update (nothing is written)."""
    if migrations and not trusted:
        raise Untrusted(
            "the template's migrations run commands; pass --trust if you trust this template"
        )
    for migration in migrations:
        env = {
            "STAGE": migration.stage,
            "VERSION_FROM": from_ref,
            "VERSION_TO": to_ref,
            "VERSION_CURRENT": migration.version,
            "VERSION_PEP440_FROM": str(history.parse_version(from_ref)),
            "VERSION_PEP440_TO": str(history.parse_version(to_ref)),
            "COPIER_OPERATION": "update",
        }
        result = subprocess.run(
            migration.command,
            shell=isinstance(migration.command, str),
            cwd=dst,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            detail = (result.stderr.strip() or result.stdout.strip()).splitlines()
            reason = detail[-1] if detail else f"exit status {result.returncode}"
            raise HardstartError(f"migration {migration.describe()} failed: {reason}")
