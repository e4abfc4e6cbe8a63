"""`hardstart check`: is a project at the installed template version, and do the files the
template manages still match what that version renders from the recorded answers?

Copier's `check-update` compares versions only, and its update replays only the template's own
changes, so a managed file edited by hand (a header removed, a gate switched off) is never
repaired by updating: finding that drift is the point here. Files the project owns
(`_skip_if_exists`) and the project's part of a file below its marker are never drift.
"""

from __future__ import annotations

import difflib
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hardstart import history, merge, presets, questions
from hardstart import template as templates
from hardstart import update as updates
from hardstart.errors import Untrusted
from hardstart.project import Generated, open_generated

DIFF_LINES = 12


@dataclass(frozen=True)
class Drift:
    path: str
    state: str  # changed | missing
    diff: str = ""


@dataclass
class CheckResult:
    project: Path
    recorded: str
    installed: str
    outdated: bool
    would_change: bool | None = None  # whether updating changes any file (None: not computed)
    drifted: list[Drift] = field(default_factory=list)
    preset: presets.Standing | None = None  # None: no preset in effect and none recorded

    @property
    def ok(self) -> bool:
        return not self.outdated and not self.drifted and (self.preset is None or self.preset.ok)

    def headline(self) -> str:
        parts = []
        if self.outdated:
            parts.append(f"outdated ({self.recorded} → {self.installed})")
        if self.drifted:
            parts.append(f"{len(self.drifted)} managed file(s) drifted")
        if self.preset is not None and not self.preset.ok:
            parts.append(self.preset.summary())
        return f"{self.project}: " + (" and ".join(parts) or "current")

    def to_json(self) -> dict[str, Any]:
        return {
            "project": str(self.project),
            "recorded": self.recorded,
            "installed": self.installed,
            "outdated": self.outdated,
            "update_would_change": self.would_change,
            "drifted": [{"path": d.path, "state": d.state, "diff": d.diff} for d in self.drifted],
            **({"preset": self.preset.to_json()} if self.preset is not None else {}),
            "ok": self.ok,
        }


def _short_diff(path: str, expected: bytes, actual: bytes) -> str:
    lines = list(
        difflib.unified_diff(
            expected.decode(errors="replace").splitlines(),
            actual.decode(errors="replace").splitlines(),
            f"template/{path}",
            f"project/{path}",
            n=1,
            lineterm="",
        )
    )
    shown = lines[:DIFF_LINES]
    if len(lines) > DIFF_LINES:
        shown.append(f"... {len(lines) - DIFF_LINES} more line(s)")
    return "\n".join(shown)


def recorded_source(
    project: Generated, stack: ExitStack, local: templates.TemplateSource | None
) -> templates.TemplateSource:
    """The template version the project records, as plain files."""
    if templates.is_bundled_id(project.src_path):
        return stack.enter_context(templates.bundled_release(project.ref, local))
    return stack.enter_context(templates.from_url(project.src_path, project.ref))


def drift(
    project: Generated,
    stack: ExitStack,
    local: templates.TemplateSource | None,
    source: templates.TemplateSource | None = None,
) -> list[Drift]:
    """Managed files that differ from what the recorded version renders from the recorded
    answers, in the working tree."""
    if source is None:
        source = recorded_source(project, stack, local)
    template = questions.load(source.root)
    rendered = updates.render(source, template, project.answers, "check")
    owned, sections = template.owned, template.user_sections
    found = []
    for path, expected in sorted(rendered.items()):
        if path == project.answers_file or owned.match_file(path):
            continue
        target = project.root / path
        if not (target.is_file() or target.is_symlink()):
            found.append(Drift(path, "missing"))
            continue
        actual = updates.read_file(target)
        if actual == expected:
            continue
        want, have = expected.content, actual.content
        if path in sections:
            want = merge.above_marker(want, sections[path])
            have = merge.above_marker(have, sections[path])
            if want == have:
                continue
        found.append(Drift(path, "changed", _short_diff(path, want, have)))
    return found


def check(
    path: Path,
    template_dir: Path | None = None,
    *,
    deep: bool = True,
    trust: bool = False,
    preset: presets.Preset | None = None,
) -> CheckResult:
    """Compare the project at `path` with the installed template (or `template_dir`).

    With `deep`, an outdated project is also asked whether updating would change anything
    (a full update plan, which needs a clean tree; otherwise left unknown). With a `preset`
    (validated against the questions of the project's recorded version), the recorded answers
    are checked against its locks and the preset the project recorded against its version."""
    project = open_generated(path)
    local = templates.resolve(template_dir)
    with ExitStack() as stack:
        if templates.is_bundled_id(project.src_path):
            installed = local
        else:
            tags = templates.remote_tags(project.src_path)
            installed = templates.TemplateSource(
                root=Path(), ref=tags[-1] if tags else project.ref, src_path=project.src_path
            )
        outdated = installed.ref != project.ref and history.parse_version(
            installed.ref
        ) > history.parse_version(project.ref)
        result = CheckResult(
            project=project.root, recorded=project.ref, installed=installed.ref, outdated=outdated
        )
        source = recorded_source(project, stack, local)
        # First: a preset that does not fit the project's questions stops the check (exit 2).
        result.preset = presets.standing(
            preset, questions.load(source.root), project.answers, project.root
        )
        result.drifted = drift(project, stack, local, source)
    if deep and outdated and not project.dirty():
        request = updates.Request(template_dir=template_dir, trust=trust)
        try:
            with updates.prepare(path, request) as prepared:
                result.would_change = bool(prepared.plan.changes)
        except Untrusted:
            result.would_change = None  # its migrations would have to run: unknown untrusted
    return result
