"""Many repositories at once: `check` and `update` run per repository, in parallel worker
processes (Copier changes the process's working directory, so threads would race), one result
row per repository. One repository's failure never stops or touches another.

`fleet update` never touches a repository's checkout: it works in a temporary git worktree on
the branch `hardstart/update-<version>` (created from HEAD, or reused when it exists), commits
there, and removes the worktree. Re-running on the same branch finds it already updated.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Final

from hardstart import checks, gitcmd, history, merge, presets
from hardstart import template as templates
from hardstart import update as updates
from hardstart.errors import HardstartError, NotAProject, NotARepository, UsageError
from hardstart.project import commit_all, open_generated

DEFAULT_BRANCH: Final = "hardstart/update-{version}"


class State(str, Enum):
    CURRENT = "current"
    OUTDATED = "outdated"
    DRIFTED = "drifted"
    OFF_PRESET = "off preset"  # breaks the preset in effect, or recorded an older one
    UPDATED = "updated"
    CONFLICT = "conflict"
    DIRTY = "dirty"
    NOT_A_PROJECT = "not a project"
    NOT_GIT = "not a git repository"
    ERROR = "error"


GOOD_UPDATES: Final = frozenset({State.UPDATED, State.CURRENT})


@dataclass
class Row:
    """One repository's result."""

    path: str
    state: State
    version: str = ""
    target: str = ""
    outdated: bool | None = None
    drifted: list[str] = field(default_factory=list)
    dirty: bool | None = None
    branch: str = ""
    conflicts: list[str] = field(default_factory=list)
    detail: str = ""
    preset: str = ""  # how the project stands against the preset ("" when none is involved)
    preset_ok: bool | None = None
    audit: str = ""  # the baseline audit: "passed/applicable", the failed rules ("" when not run)
    audit_passed: int | None = None
    audit_applicable: int | None = None
    audit_failed: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        return data


def read_list(path: Path) -> list[Path]:
    """Repository directories listed one per line (blank lines and # comments skipped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise UsageError(f"--from {path}: cannot read: {error.strerror}") from error
    base = path.parent
    return [
        (base / line.strip()) if not Path(line.strip()).is_absolute() else Path(line.strip())
        for line in lines
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _refused(path: Path, error: HardstartError) -> Row:
    """The row of a repository that could not be checked or updated, and why."""
    state = (
        State.NOT_A_PROJECT
        if isinstance(error, NotAProject)
        else State.NOT_GIT
        if isinstance(error, NotARepository)
        else State.OFF_PRESET
        if isinstance(error, presets.BadPreset)
        else State.ERROR
    )
    return Row(str(path), state, detail=error.message)


# -- status -------------------------------------------------------------------------------------


def status_one(
    path: Path,
    template_dir: Path | None,
    preset: presets.Preset | None = None,
    with_audit: bool = False,
) -> Row:
    row = _status(path, template_dir, preset)
    if with_audit and path.is_dir():
        _audit(row, path)
    return row


def _audit(row: Row, path: Path) -> None:
    """Add the baseline audit to `row`: it applies to any repository, generated or not."""
    from hardstart.audit.model import Status
    from hardstart.audit.run import audit

    try:
        report = audit(path.resolve())
    except HardstartError as error:
        row.audit = f"error: {error.message}"
        return
    row.audit_passed = report.count(Status.PASS)
    row.audit_applicable = report.applicable
    row.audit_failed = [r.rule.id for r in report.results if r.status is Status.FAIL]
    if not report.applicable:
        row.audit = "n/a"
        return
    waived = report.count(Status.WAIVED)
    row.audit = f"{row.audit_passed}/{row.audit_applicable}" + (
        f" ({waived} waived)" if waived else ""
    )
    if row.audit_failed:
        row.audit += ": " + ", ".join(row.audit_failed)


def _status(path: Path, template_dir: Path | None, preset: presets.Preset | None) -> Row:
    try:
        project = open_generated(path)
        dirty = bool(project.dirty())
        result = checks.check(path, template_dir, deep=False, preset=preset)
    except HardstartError as error:
        return _refused(path, error)
    standing = result.preset
    state = (
        State.DIRTY
        if dirty
        else State.OUTDATED
        if result.outdated
        else State.DRIFTED
        if result.drifted
        else State.OFF_PRESET
        if standing is not None and not standing.ok
        else State.CURRENT
    )
    return Row(
        str(path),
        state,
        version=result.recorded,
        target=result.installed,
        outdated=result.outdated,
        drifted=[d.path for d in result.drifted],
        dirty=dirty,
        preset=standing.summary() if standing is not None else "",
        preset_ok=standing.ok if standing is not None else None,
    )


# -- update -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UpdateOptions:
    to: str | None = None
    template_dir: Path | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    branch: str = DEFAULT_BRANCH
    trust: bool = False
    preset: presets.Preset | None = None


def _target_ref(options: UpdateOptions, src_path: str) -> str:
    if options.to:
        return history.as_ref(options.to)
    if not templates.is_bundled_id(src_path):
        tags = templates.remote_tags(src_path)
        if not tags:
            raise UsageError(f"template repository {src_path}: no version tags")
        return tags[-1]
    return templates.resolve(options.template_dir).ref


def _branch_exists(root: Path, branch: str) -> bool:
    ref = f"refs/heads/{branch}"
    return (
        gitcmd.run("rev-parse", "--verify", "--quiet", ref, cwd=root, check=False).returncode == 0
    )


def _conflicts_left(root: Path) -> list[str]:
    """Files on an update branch that still hold the conflict markers an update committed."""
    found = gitcmd.run(
        "grep", "--files-with-matches", "-e", f"^{merge.CONFLICT_START.decode()}yours$", "--", ".",
        cwd=root, check=False,
    )  # fmt: skip
    return found.stdout.split()


_NO_HOOKS: Final = ("-c", "core.hooksPath=/dev/null")


def update_one(path: Path, options: UpdateOptions) -> Row:
    try:
        project = open_generated(path)
        if dirty := project.dirty():
            detail = f"uncommitted changes ({len(dirty)} paths); left untouched"
            return Row(str(path), State.DIRTY, version=project.ref, dirty=True, detail=detail)
        target = _target_ref(options, project.src_path)
        history.parse_version(target)
        branch = options.branch.format(version=target.removeprefix("v"))
        existed = _branch_exists(project.root, branch)
        worktree = Path(tempfile.mkdtemp(prefix="hardstart-fleet-"))
        worktree.rmdir()  # git creates it
        made_commit = False
        try:
            add = ["worktree", "add", "--quiet", str(worktree)]
            add += [branch] if existed else ["-b", branch, "HEAD"]
            gitcmd.run(*_NO_HOOKS, *add, cwd=project.root)
            inner = worktree / project.prefix
            request = updates.Request(
                to=target, template_dir=options.template_dir, data=options.data,
                trust=options.trust, preset=options.preset,
            )  # fmt: skip
            with updates.prepare(inner, request) as prepared:
                plan = prepared.plan
                row = Row(str(path), State.CURRENT, version=project.ref, target=plan.to_ref,
                          branch=branch if existed else "", conflicts=plan.conflicts)  # fmt: skip
                if not plan.changes:
                    row.detail = f"already on {branch}" if existed else "already current"
                    if existed and (left := _conflicts_left(inner)):
                        row.state, row.conflicts = State.CONFLICT, left
                        row.detail = f"on {branch}, conflicts not yet resolved"
                    return row
                updates.apply(prepared)
                message = plan.commit_message()
                if plan.conflicts:
                    message += "\nResolve the conflict markers before merging.\n"
                commit_all(inner, [c.path for c in plan.changes], message)
                made_commit = True
                row.branch = branch
                row.state = State.CONFLICT if plan.conflicts else State.UPDATED
                return row
        finally:
            gitcmd.run(
                "worktree", "remove", "--force", str(worktree), cwd=project.root, check=False
            )
            shutil.rmtree(worktree, ignore_errors=True)
            gitcmd.run("worktree", "prune", cwd=project.root, check=False)
            if not existed and not made_commit:
                gitcmd.run("branch", "--quiet", "-D", branch, cwd=project.root, check=False)
    except HardstartError as error:
        return _refused(path, error)


# -- running many -------------------------------------------------------------------------------


def run_all(job: Callable[..., Row], paths: Iterable[Path], workers: int, *args: Any) -> list[Row]:
    """`job(path, *args)` for every path, `workers` at a time, rows in the order given."""
    listed = list(paths)
    if workers <= 1 or len(listed) <= 1:
        return [job(path, *args) for path in listed]
    with ProcessPoolExecutor(max_workers=min(workers, len(listed))) as pool:
        futures = [pool.submit(job, path, *args) for path in listed]
        rows = []
        for path, future in zip(listed, futures, strict=True):
            try:
                rows.append(future.result())
            except Exception as error:  # noqa: BLE001 - one repository never stops the others
                rows.append(Row(str(path), State.ERROR, detail=f"{type(error).__name__}: {error}"))
        return rows


def save_state(path: Path, rows: list[Row]) -> None:
    data = {"repositories": {row.path: row.state.value for row in rows}}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def failed_last_time(path: Path) -> list[Path]:
    """The repositories the last `fleet update` did not update cleanly."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        states = data["repositories"]
    except FileNotFoundError:
        raise UsageError(f"--failed: no earlier run recorded in {path}") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UsageError(f"--failed: cannot read {path}: {error}") from error
    good = {state.value for state in GOOD_UPDATES}
    return [Path(repo) for repo, state in states.items() if state not in good]


def markdown(rows: list[Row], title: str) -> str:
    """A Markdown table for a pull-request comment or a report."""
    headers = columns(rows)
    out = [
        f"### {title}",
        "",
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
    ]
    for row in rows:
        cells = cells_of(row, headers)
        out.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(out) + "\n"


def columns(rows: list[Row]) -> tuple[str, ...]:
    """The table's columns: preset and audit only when some row has them."""
    return (
        "repository",
        "state",
        "version",
        "target",
        "detail",
        *(("preset",) if any(row.preset for row in rows) else ()),
        *(("audit",) if any(row.audit for row in rows) else ()),
    )


def cells_of(row: Row, headers: tuple[str, ...]) -> list[str]:
    cells = {
        "repository": row.path,
        "state": row.state.value,
        "version": row.version,
        "target": row.target,
        "detail": row.detail or ", ".join(row.drifted or row.conflicts),
        "preset": row.preset,
        "audit": row.audit,
    }
    return [cells[header] for header in headers]
