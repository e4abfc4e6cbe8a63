"""Dockerfiles as Docker reads them (dockerfile-parse owns the parsing): stages, instructions with
their lines, and what their RUN commands install."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from dockerfile_parse import DockerfileParser  # type: ignore[import-untyped]

from hardstart.audit.documents import memo
from hardstart.audit.model import NotApplicable
from hardstart.audit.pipelines import shell_commands
from hardstart.audit.repo import Repo

# Node majors in LTS support (December 2026): 22 (maintenance) and 24 (active).
SUPPORTED_NODE_MAJORS = frozenset({22, 24})

# --- Dockerfiles ---


@dataclass(frozen=True)
class Instruction:
    name: str  # upper case: FROM, RUN, COPY...
    value: str
    line: int  # 1-based


@dataclass
class Stage:
    image: str  # as written after FROM (flags removed), variables from global ARGs substituted
    alias: str
    line: int
    parent: Stage | None  # the earlier stage this one is built FROM, if any
    instructions: list[Instruction] = field(default_factory=list)

    def chain(self) -> list[Instruction]:
        """This stage's instructions after those of the stages it is built on."""
        inherited = self.parent.chain() if self.parent else []
        return inherited + self.instructions


@dataclass
class Dockerfile:
    path: str
    stages: list[Stage]
    instructions: list[Instruction]  # every instruction, ARGs before the first FROM included

    @property
    def final(self) -> Stage | None:
        return self.stages[-1] if self.stages else None


def is_dockerfile(path: str) -> bool:
    name = PurePosixPath(path).name
    return name == "Dockerfile" or name.endswith(".Dockerfile") or name.startswith("Dockerfile.")


def dockerfiles(repo: Repo) -> list[Dockerfile]:
    return memo(repo, "dockerfiles", lambda: _read_dockerfiles(repo))


def _read_dockerfiles(repo: Repo) -> list[Dockerfile]:
    found: list[Dockerfile] = []
    for path in repo.files:
        text = repo.text(path) if is_dockerfile(path) else None
        if text is not None:
            found.append(_parse_dockerfile(path, text))
    return found


def _parse_dockerfile(path: str, text: str) -> Dockerfile:
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")), cache_content=True)
    instructions = [
        Instruction(item["instruction"].upper(), item["value"], item["startline"] + 1)
        for item in parser.structure
        if item["instruction"] != "COMMENT"
    ]
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    by_alias: dict[str, Stage] = {}
    for instruction in instructions:
        if instruction.name == "FROM":
            words = [w for w in instruction.value.split() if not w.startswith("--")]
            image = _substitute(words[0] if words else "", global_args)
            alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else ""
            parent = by_alias.get(image.lower())
            stage = Stage(image, alias, instruction.line, parent)
            stages.append(stage)
            by_alias[alias.lower()] = stage
            by_alias[str(len(stages) - 1)] = stage
        elif stages:
            stages[-1].instructions.append(instruction)
        elif instruction.name == "ARG":
            name, _, default = instruction.value.partition("=")
            global_args[name.strip()] = default.strip().strip("\"'")
    by_alias.pop("", None)
    return Dockerfile(path, stages, instructions)


def _substitute(image: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda match: args.get(match.group(1), match.group(0)), image)


def container_na(repo: Repo) -> tuple[list[Dockerfile], NotApplicable | None]:
    found = dockerfiles(repo)
    return found, None if found else NotApplicable("no Dockerfile")


_NPM_INSTALLS = frozenset(
    {"install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal", "isntall"}
    | {"add"}
)


def npm_subcommand(words: tuple[str, ...]) -> tuple[str, tuple[str, ...]] | None:
    """`npm <subcommand> args` (after npm's own options), or None when the command is not npm."""
    if not words or PurePosixPath(words[0]).name != "npm":
        return None
    rest = [w for w in words[1:] if not w.startswith("-")]
    return (rest[0], words[1:]) if rest else None


def is_npm_install(words: tuple[str, ...]) -> bool:
    found = npm_subcommand(words)
    return found is not None and found[0] in _NPM_INSTALLS


_PRODUCTION_FLAGS = re.compile(
    r"--omit[= ]dev\b|--only[= ]prod(uction)?\b|--production\b(?!=false)|--prod\b|(^| )-P\b"
)


def _production_install(words: tuple[str, ...]) -> bool:
    """A lockfile install or prune that leaves out devDependencies (npm, pnpm or yarn)."""
    tool = PurePosixPath(words[0]).name if words else ""
    rest = [w for w in words[1:] if not w.startswith("-")]
    args = " ".join(words[1:])
    if tool == "npm":
        subcommands = {"ci", "prune"}
    elif tool == "pnpm":
        subcommands = {"install", "i", "prune"}
    elif tool == "yarn":
        subcommands = {"install", "workspaces"}
    else:
        return False
    return bool(rest) and rest[0] in subcommands and _PRODUCTION_FLAGS.search(args) is not None


def runs(stage_instructions: list[Instruction]) -> list[tuple[Instruction, tuple[str, ...]]]:
    commands: list[tuple[Instruction, tuple[str, ...]]] = []
    for instruction in stage_instructions:
        if instruction.name == "RUN":
            commands.extend((instruction, c.words) for c in shell_commands(instruction.value))
    return commands


def installs_production(stage: Stage) -> bool:
    return any(_production_install(words) for _, words in runs(stage.chain()))


def copy_sources(stage: Stage, stages: list[Stage]) -> list[Stage]:
    by_name = {s.alias.lower(): s for s in stages if s.alias}
    by_name.update({str(i): s for i, s in enumerate(stages)})
    sources: list[Stage] = []
    for instruction in stage.chain():
        match = re.search(r"--from=(\S+)", instruction.value)
        if instruction.name == "COPY" and match and match.group(1).lower() in by_name:
            sources.append(by_name[match.group(1).lower()])
    return sources
