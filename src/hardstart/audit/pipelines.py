"""The repository's CI pipelines (GitHub Actions and GitLab CI) as the checks read them: the shell
commands jobs run, the actions they use and the templates they include, each with its file and line.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from hardstart.audit.documents import LineText, YamlList, YamlMap, items, memo, yaml_document
from hardstart.audit.repo import Repo

GITLAB_CI = ".gitlab-ci.yml"
# Where a repository without any CI is told to put one.
DEFAULT_WORKFLOW = ".github/workflows/ci.yml"

# Top-level keys of .gitlab-ci.yml that are not jobs.
_GITLAB_RESERVED = frozenset(
    {
        "default",
        "include",
        "stages",
        "variables",
        "workflow",
        "image",
        "services",
        "cache",
        "before_script",
        "after_script",
        "spec",
    }
)


@dataclass(frozen=True)
class Command:
    """A shell script a CI job runs (`run:`, `script:`), which may hold several commands."""

    path: str
    line: int
    text: str
    job: str
    soft: bool  # the job or step may fail without failing the pipeline

    def line_at(self, offset: int) -> int:
        return self.line + self.text.count("\n", 0, offset)


@dataclass(frozen=True)
class Action:
    """A GitHub Actions step's `uses:`."""

    path: str
    line: int
    uses: str
    inputs: dict[str, Any]
    job: str
    soft: bool


@dataclass(frozen=True)
class Include:
    """A GitLab `include:` of one of GitLab's templates."""

    path: str
    line: int
    template: str


@dataclass
class Pipelines:
    workflows: list[str] = field(default_factory=list)  # GitHub workflow files
    gitlab: str | None = None
    commands: list[Command] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    includes: list[Include] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.workflows or self.gitlab)

    @property
    def main_file(self) -> str:
        """Where a missing gate is reported: the first CI file, or where one should be."""
        if self.workflows:
            return self.workflows[0]
        return self.gitlab or DEFAULT_WORKFLOW


def workflow_files(repo: Repo) -> list[str]:
    return [
        f
        for f in repo.files
        if f.startswith(".github/workflows/")
        and f.count("/") == 2
        and f.endswith((".yml", ".yaml"))
    ]


def _soft(value: Any) -> bool:
    """continue-on-error / allow_failure: true, or an expression that may be true."""
    return value is True or (isinstance(value, str) and "${{" in value)


def _text_line(value: Any, fallback: int) -> int:
    return value.line if isinstance(value, LineText) else fallback


def _read_github(repo: Repo, path: str, found: Pipelines) -> None:
    workflow = yaml_document(repo, path)
    if not isinstance(workflow, dict):
        return
    jobs = workflow.get("jobs")
    if not isinstance(jobs, dict):
        return
    for name, job in jobs.items():
        if not isinstance(job, YamlMap):
            continue
        job_soft = _soft(job.get("continue-on-error"))
        if isinstance(job.get("uses"), str):  # a reusable workflow
            found.actions.append(
                Action(path, job.line_of("uses"), job["uses"], {}, str(name), job_soft)
            )
        steps = job.get("steps")
        if not isinstance(steps, YamlList):
            continue
        for index, step in enumerate(steps):
            if not isinstance(step, YamlMap):
                continue
            soft = job_soft or _soft(step.get("continue-on-error"))
            run = step.get("run")
            if isinstance(run, str):
                found.commands.append(
                    Command(path, _text_line(run, step.line_of("run")), run, str(name), soft)
                )
            uses = step.get("uses")
            if isinstance(uses, str):
                inputs = step.get("with")
                found.actions.append(
                    Action(
                        path,
                        step.line_of("uses") if "uses" in step else steps.line_of(index),
                        uses.strip(),
                        dict(inputs) if isinstance(inputs, dict) else {},
                        str(name),
                        soft,
                    )
                )


def _script_lines(value: Any, fallback: int) -> Iterator[tuple[str, int]]:
    if isinstance(value, str):
        yield value, _text_line(value, fallback)
    elif isinstance(value, YamlList):
        for index, item in enumerate(value):
            yield from _script_lines(item, value.line_of(index))


def _resolved(
    jobs: dict[Any, Any], name: Any, seen: frozenset[Any] = frozenset()
) -> dict[Any, Any]:
    """A GitLab job with what it `extends` merged in (the job's own keys win)."""
    job = jobs.get(name)
    if not isinstance(job, dict) or name in seen:
        return {}
    parents = job.get("extends")
    merged: dict[Any, Any] = {}
    for parent in [parents] if isinstance(parents, str) else items(parents):
        merged.update(_resolved(jobs, parent, seen | {name}))
    merged.update(job)
    return merged


def _includes(config: YamlMap) -> YamlList:
    includes = config.get("include")
    if isinstance(includes, YamlList):
        return includes
    entries = YamlList(config.line_of("include"))
    if isinstance(includes, (str, dict)):
        entries.append(includes)
        entries.lines.append(config.line_of("include"))
    return entries


def _read_gitlab(repo: Repo, path: str, found: Pipelines) -> None:
    config = yaml_document(repo, path)
    if not isinstance(config, YamlMap):
        return
    # Jobs may live in files the main one includes from this repository (`include: local:`).
    files: list[tuple[str, YamlMap]] = [(path, config)]
    for entry in _includes(config):
        local = entry.get("local") if isinstance(entry, dict) else entry
        if isinstance(local, str) and not local.startswith(("http:", "https:")):
            included = yaml_document(repo, local.lstrip("/"))
            if isinstance(included, YamlMap):
                files.append((local.lstrip("/"), included))
    jobs: dict[Any, Any] = {}
    owner: dict[Any, str] = {}
    for source, document in reversed(files):  # the main file's own keys win
        for index, entry in enumerate(_includes(document)):
            template = entry.get("template") if isinstance(entry, dict) else None
            if isinstance(template, str):
                line = _includes(document).line_of(index)
                found.includes.append(Include(source, line, template))
        jobs.update(document)
        owner.update(dict.fromkeys(document, source))
    found_default = jobs.get("default")
    default: dict[Any, Any] = found_default if isinstance(found_default, dict) else {}
    for name, job in jobs.items():
        if name in _GITLAB_RESERVED or str(name).startswith(".") or not isinstance(job, YamlMap):
            continue
        full = _resolved(jobs, name)
        soft = _soft(full.get("allow_failure"))
        before = full.get("before_script", default.get("before_script", jobs.get("before_script")))
        for key, value in (("before_script", before), ("script", full.get("script"))):
            for text, line in _script_lines(value, job.line_of(key) if key in job else job.line):
                found.commands.append(Command(owner[name], line, text, str(name), soft))


def pipelines(repo: Repo) -> Pipelines:
    """Every CI file of the repository, read once per audit."""
    return memo(repo, "pipelines", lambda: _read(repo))


def _read(repo: Repo) -> Pipelines:
    found = Pipelines(workflows=workflow_files(repo))
    for path in found.workflows:
        _read_github(repo, path, found)
    if repo.exists(GITLAB_CI):
        found.gitlab = GITLAB_CI
        _read_gitlab(repo, GITLAB_CI, found)
    return found


# --- shell ---

_SEPARATORS = frozenset({"&&", "||", ";", "|", "&", "(", ")", ";;"})


@dataclass(frozen=True)
class Shell:
    """One simple command of a script: its words, the line it is on, what follows it."""

    words: tuple[str, ...]
    line: int  # 0-based line within the script
    then: str  # the operator after it ("" at the end of a line)


def shell_commands(script: str) -> list[Shell]:
    """The simple commands of a shell script, split on newlines, `&&`, `||`, `;` and pipes.

    Backslash continuations are joined; a line shlex cannot read (an open quote, a heredoc body)
    is split on whitespace instead: the checks only look for command names and flags.
    """
    found: list[Shell] = []
    lines = script.split("\n")
    index = 0
    while index < len(lines):
        start = index
        logical = lines[index]
        while logical.endswith("\\") and index + 1 < len(lines):
            index += 1
            logical = logical[:-1] + " " + lines[index]
        index += 1
        try:
            lexer = shlex.shlex(logical, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            tokens = list(lexer)
        except ValueError:
            tokens = logical.split()
        words: list[str] = []
        for token in tokens:
            if token in _SEPARATORS:
                if words:
                    found.append(Shell(tuple(words), start, token))
                words = []
            else:
                words.append(token)
        if words:
            found.append(Shell(tuple(words), start, ""))
    return found


def guarded(script: str, offset: int) -> bool:
    """Whether the command at `offset` has its failure swallowed (`|| true`, `|| exit 0`...)."""
    end = offset
    while True:
        newline = script.find("\n", end)
        if newline == -1:
            rest = script[offset:]
            break
        if script[newline - 1 : newline] != "\\":
            rest = script[offset:newline]
            break
        end = newline + 1
    return re.search(r"\|\|", rest) is not None
