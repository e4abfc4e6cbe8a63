"""Re-applying the template to a project generated earlier: a three-way merge per file.

Everything happens in a scratch copy before the project is touched: the project's committed files
are exported there, the new version's `before` migrations run on them, the old version is
rendered with the recorded answers (the base) and the new one with the carried-over answers (the
template's side), each file is merged, and the `after` migrations run. The result is a Plan plus
the final files. `--plan` reports it; `apply` writes exactly those files into the project, all or
nothing, and leaves them uncommitted for review (or commits them).

Ownership is declared in copier.yml: `_skip_if_exists` patterns name files the project owns after
generation (never rewritten, as in Copier), `_hardstart_user_sections` maps a file to a marker
below which the text is the project's. Every other file the template renders is managed: it
always gets the template's changes, merged with the project's edits.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import pathspec

from hardstart import answers, generator, gitcmd, history, merge, migrations, presets, questions
from hardstart import template as templates
from hardstart.errors import BadAnswer, HardstartError, UsageError
from hardstart.plan import FileChange, Outcome, Plan
from hardstart.project import Generated, commit_all, open_generated, read_recorded
from hardstart.template import TemplateSource

PACKAGE_JSON: Final = "package.json"
LOCKFILE: Final = "package-lock.json"
NPM_LOCK_ONLY: Final = (
    "npm", "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund",
)  # fmt: skip


@dataclass(frozen=True)
class File:
    content: bytes
    mode: int  # 0o644, 0o755, or stat.S_IFLNK for a symbolic link (content: its target)


Files = dict[str, File]


@dataclass(frozen=True)
class Request:
    """What the user asked for: target version, template directory, answers, how to ask."""

    to: str | None = None
    template_dir: Path | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    ask: Callable[[questions.Template], answers.Asker] | None = None  # the wizard, on a terminal
    trust: bool = False
    preset: presets.Preset | None = None  # read, validated against the new version here


@dataclass
class Prepared:
    """A computed update: its plan and the project's files before and after."""

    project: Generated
    plan: Plan
    head: str
    before: Files
    after: Files


# -- files ---------------------------------------------------------------------------------------


def read_file(path: Path) -> File:
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        return File(str(path.readlink()).encode(), stat.S_IFLNK)
    return File(path.read_bytes(), 0o755 if info.st_mode & stat.S_IXUSR else 0o644)


def read_files(root: Path) -> Files:
    files: Files = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git" or Path(dirpath, d).is_symlink()]
        for name in filenames:
            path = Path(dirpath, name)
            relative = path.relative_to(root).as_posix()
            files[relative] = read_file(path)
        for name in dirnames:  # symbolic links to directories are files to git
            path = Path(dirpath, name)
            if path.is_symlink():
                files[path.relative_to(root).as_posix()] = read_file(path)
    return files


def _write(target: Path, file: File) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        target.unlink()
    if file.mode == stat.S_IFLNK:
        target.symlink_to(file.content.decode())
        return
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(file.content)
        Path(temp).chmod(file.mode & ~_umask())
        Path(temp).replace(target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_all(root: Path, before: Files, after: Files) -> None:
    for path in sorted(set(before) | set(after)):
        if before.get(path) == after.get(path):
            continue
        if path in after:
            _write(root / path, after[path])
        else:
            (root / path).unlink(missing_ok=True)


@contextmanager
def _scratch(name: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"hardstart-{name}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# -- sources -------------------------------------------------------------------------------------


def _sources(
    stack: ExitStack, project: Generated, request: Request
) -> tuple[TemplateSource, TemplateSource]:
    """The old and the new template versions, as plain files."""
    to = history.as_ref(request.to) if request.to else None
    if templates.is_bundled_id(project.src_path):
        # The installed (or given) template stands in for its own version, released or not.
        local = templates.resolve(request.template_dir)
        old = stack.enter_context(templates.bundled_release(project.ref, local))
        new = stack.enter_context(templates.bundled_release(to, local)) if to else local
    else:
        old = stack.enter_context(templates.from_url(project.src_path, project.ref, request.trust))
        new = stack.enter_context(templates.from_url(project.src_path, to, request.trust))
    if history.is_downgrade(old.version, new.version):
        raise UsageError(
            f"{project.root}: the project is at {old.ref}; {new.ref} is older, and downgrades"
            " are not supported"
        )
    return old, new


# -- answers -------------------------------------------------------------------------------------


def _carried_answers(
    project: Generated, recorded: Mapping[str, Any], template: questions.Template, request: Request
) -> tuple[answers.Answers, dict[str, Any]]:
    """The answers for the new version: recorded ones (as migrated), `--data` over them, and the
    questions that are new asked or defaulted. Returns them and the new ones."""
    kept = {k: v for k, v in recorded.items() if not k.startswith("_") and k in template.by_name}
    given_data = dict(request.data)
    for key in given_data:
        template.question(key)  # an unknown name is an error naming it
    preset = request.preset
    # A locked answer the project never gave (a new question) is the lock's, never asked; a
    # recorded or given answer must meet the lock (the template is constrained by it).
    locked = {k: v for k, v in presets.locked_values(preset).items() if k not in kept}
    given = {**locked, **kept, **given_data}
    try:
        ask = request.ask(template) if request.ask else None
        final = answers.walk(
            template, given, ask=ask, prefill=presets.defaults(preset), complete=True
        )
    except BadAnswer as error:
        lock = preset.locks.get(error.question) if preset is not None else None
        if lock is not None and error.question in kept and error.question not in given_data:
            allowed = (
                f"{error.question}={presets.shown(lock.value)}"
                if lock.pattern is None
                else f"{error.question}=VALUE matching {lock.pattern}"
            )
            raise presets.BadPreset(
                f"{project.answers_file}: the recorded answer {error.question}="
                f"{kept[error.question]} breaks preset {preset.label if preset else ''}"
                f" ({lock.describe()}: {lock.reason}); pass --data {allowed} to change it"
            ) from error
        if error.question in kept and error.question not in given_data:
            raise UsageError(
                f"{project.answers_file}: the recorded answer to {error.question} is refused by"
                f" the new template version ({error.problem}); pass --data"
                f" {error.question}=VALUE"
            ) from error
        raise
    return final, {k: v for k, v in final.items() if k not in kept and k not in given_data}


def render(
    source: TemplateSource, template: questions.Template, given: Mapping[str, Any], what: str
) -> Files:
    """The files `source` renders from `given` answers."""
    with _scratch(what) as dest:
        try:
            generator.copy(source, template, given, dest)
        except BadAnswer as error:
            raise UsageError(
                f"the recorded answer to {error.question} is refused by template {source.ref}"
                f" ({error.problem}); fix it in the answers file or pass --data"
            ) from error
        return read_files(dest)


# -- merging -------------------------------------------------------------------------------------


@dataclass
class _Merge:
    base: Files
    ours: Files
    theirs: Files
    labels: tuple[str, str, str]
    owned: pathspec.PathSpec[Any]
    sections: Mapping[str, str]
    answers_file: str
    result: Files = field(default_factory=dict)
    outcomes: dict[str, tuple[Outcome, str]] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)

    def run(self) -> Files:
        self.result = dict(self.ours)
        for path in sorted(set(self.base) | set(self.theirs)):
            if path != LOCKFILE:
                self._one(path)
        self._lockfile()
        return self.result

    def _set(
        self, path: str, file: File | None, outcome: Outcome | None = None, note: str = ""
    ) -> None:
        if file is None:
            self.result.pop(path, None)
        else:
            self.result[path] = file
        if outcome is not None:
            self.outcomes[path] = (outcome, note)

    def _one(self, path: str) -> None:
        b, o, t = self.base.get(path), self.ours.get(path), self.theirs.get(path)
        if path == self.answers_file:
            self._set(path, t)
        elif t == b or o == t:
            pass  # the template did not change it, or the project has the change already
        elif self.owned.match_file(path) and o is not None:
            self._set(path, o, Outcome.KEPT, "yours: the template's change is not applied")
        elif o == b:
            self._set(path, t)
        elif o is None:
            self._set(path, None, Outcome.KEPT, "you deleted it; it stays deleted")
        elif t is None:
            self._set(path, o, Outcome.KEPT, "removed by the template; kept as you changed it")
        elif merge.is_binary(o.content) or merge.is_binary(t.content):
            # No lines to merge: yours stays, and the summary says the template changed it too.
            self._set(path, o, Outcome.KEPT, "binary, changed on both sides: yours is kept")
            self.actions.append(
                f"{path}: you and the template both changed this binary file; yours is kept,"
                f" compare it with template {self.labels[2].removeprefix('template ')}'s"
            )
        else:
            merged = (merge.package_json if path == PACKAGE_JSON else merge.text)(
                b.content if b else b"", o.content, t.content, self.labels
            )
            content = merged.content
            if path in self.sections:
                content = merge.below_marker(o.content, content, self.sections[path])
            self._set(path, File(content, o.mode), Outcome.CONFLICT if merged.conflict else None)

    def _lockfile(self) -> None:
        b, o, t = self.base.get(LOCKFILE), self.ours.get(LOCKFILE), self.theirs.get(LOCKFILE)
        if t == b or o == t or o is None:
            return self._one(LOCKFILE)
        candidate = t if o == b else o
        package = self.result.get(PACKAGE_JSON)
        if package is None or candidate is None:
            return self._set(LOCKFILE, candidate)
        if merge.has_conflict(package.content):
            self.actions.append(
                f"resolve the conflict in {PACKAGE_JSON}, then run `npm install` to update"
                f" {LOCKFILE} (it was left as it was)"
            )
            return self._set(LOCKFILE, o, Outcome.KEPT, "waits for package.json")
        if merge.lockfile_matches(package.content, candidate.content):
            return self._set(LOCKFILE, candidate)
        regenerated = _lock_with_npm(package.content, candidate.content, self.result.get(".npmrc"))
        if regenerated is not None:
            return self._set(LOCKFILE, File(regenerated, o.mode), None, "")
        self.actions.append(
            f"run `npm install` and commit {LOCKFILE}: you and the template both changed"
            f" dependencies, and npm could not be run here to resolve them"
        )
        return self._set(LOCKFILE, o, Outcome.KEPT, "does not match package.json yet")


def _lock_with_npm(package: bytes, lock: bytes, npmrc: File | None) -> bytes | None:
    """`npm install --package-lock-only` over the merged package.json, starting from `lock`
    (so versions the project had stay where package.json allows). None when npm fails."""
    if shutil.which("npm") is None:
        return None
    with _scratch("lock") as work:
        (work / PACKAGE_JSON).write_bytes(package)
        (work / LOCKFILE).write_bytes(lock)
        if npmrc is not None:
            (work / ".npmrc").write_bytes(npmrc.content)
        done = subprocess.run(
            [shutil.which("npm") or "npm", *NPM_LOCK_ONLY[1:]],
            cwd=work,
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            return None
        return (work / LOCKFILE).read_bytes()


def _classify(before: Files, after: Files, merged: _Merge) -> list[FileChange]:
    changes = []
    listed = set(merged.base) | set(merged.theirs) | set(before) ^ set(after)
    listed |= {p for p in set(before) & set(after) if before[p] != after[p]}
    for path in sorted(listed):
        outcome, note = merged.outcomes.get(path, (None, ""))
        if before.get(path) == after.get(path):
            outcome = Outcome.KEPT if outcome is Outcome.KEPT else Outcome.UNCHANGED
        elif outcome is not Outcome.CONFLICT:
            outcome = (
                Outcome.NEW
                if path not in before
                else Outcome.DELETED
                if path not in after
                else Outcome.UPDATED
            )
        changes.append(FileChange(path=path, outcome=outcome, note=note))
    return changes


# -- the update ----------------------------------------------------------------------------------


@contextmanager
def prepare(path: Path, request: Request) -> Iterator[Prepared]:
    """Compute the update of the project at `path`; nothing in the project is touched."""
    project = open_generated(path)
    if dirty := project.dirty():
        raise UsageError(
            f"{project.root}: uncommitted changes ({len(dirty)} paths, e.g. {dirty[0]});"
            " commit or stash them first, so the update can be reviewed on its own"
        )
    head = gitcmd.run("rev-parse", "HEAD", cwd=project.root).stdout.strip()
    with ExitStack() as stack:
        old, new = _sources(stack, project, request)
        old_template = questions.load(old.root)
        new_template = questions.load(new.root)
        preset = request.preset
        if preset is not None:
            preset = presets.validate(preset, new_template)
            new_template = presets.constrain(new_template, preset)
            request = replace(request, preset=preset)
        work = stack.enter_context(_scratch("work"))
        history.extract(project.git_dir, project.head_tree, work)
        before = read_files(work)
        new_root = stack.enter_context(templates.plain_files(new, new_template.subdirectory))

        def run_migrations(stage: migrations.Stage) -> list[str]:
            found = migrations.applicable(new_template, new_root, work, old.ref, new.ref, stage)
            migrations.run(found, work, old.ref, new.ref, new.trusted)
            return [migration.describe() for migration in found]

        ran = run_migrations("before")
        migrated = project.recorded
        if ran:
            migrated = read_recorded(work, project.answers_file)
        final, new_answers = _carried_answers(project, migrated, new_template, request)
        base = render(old, old_template, project.answers, "base")
        theirs = render(new, new_template, final, "theirs")
        merged = _Merge(
            base=base,
            ours=read_files(work),
            theirs=theirs,
            labels=("yours", f"template {old.ref}", f"template {new.ref}"),
            owned=new_template.owned,
            sections=new_template.user_sections,
            answers_file=project.answers_file,
        )
        result = merged.run()
        _write_all(work, read_files(work), result)
        ran += run_migrations("after")
        if preset is not None:
            presets.write_record(work, preset)
        after = read_files(work)
        plan = Plan(
            project=project.root,
            from_ref=old.ref,
            to_ref=new.ref,
            files=_classify(before, after, merged),
            new_answers=new_answers,
            migrations=ran,
            actions=merged.actions,
        )
        yield Prepared(project=project, plan=plan, head=head, before=before, after=after)


def apply(prepared: Prepared) -> None:
    """Write the update into the project: every file or, on any failure or interrupt, none."""
    project = prepared.project
    head = gitcmd.run("rev-parse", "HEAD", cwd=project.root).stdout.strip()
    if head != prepared.head or project.dirty():
        raise UsageError(f"{project.root}: the project changed while the update was prepared")
    paths = [c.path for c in prepared.plan.changes]
    created: list[Path] = []
    try:
        for path in paths:
            parent = (project.root / path).parent
            while not parent.exists():
                created.append(parent)
                parent = parent.parent
            if path in prepared.after:
                _write(project.root / path, prepared.after[path])
            else:
                (project.root / path).unlink(missing_ok=True)
                _prune(project.root, (project.root / path).parent)
    except BaseException:
        for path in paths:
            target = project.root / path
            if path in prepared.before:
                _write(target, prepared.before[path])
            elif target.is_symlink() or target.exists():
                target.unlink()
        for directory in sorted(created, key=lambda p: len(p.parts), reverse=True):
            shutil.rmtree(directory, ignore_errors=True)
        raise


def _prune(root: Path, directory: Path) -> None:
    """Remove directories an update emptied (git does not track empty ones)."""
    while directory != root and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


def commit(prepared: Prepared, message: str) -> None:
    if prepared.plan.conflicts:
        raise HardstartError("an update with conflicts is not committed")
    commit_all(prepared.project.root, [c.path for c in prepared.plan.changes], message)
