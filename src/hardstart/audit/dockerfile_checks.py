"""Container image checks (baseline J1-J3): the Dockerfile's stages, base images, user, health
check, command and secrets, and the .dockerignore that keeps the build context clean."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import PurePosixPath

import pathspec

from hardstart.audit.dockerfiles import (
    SUPPORTED_NODE_MAJORS,
    Dockerfile,
    Instruction,
    Stage,
    container_na,
    copy_sources,
    installs_production,
    is_npm_install,
    runs,
)
from hardstart.audit.model import Failure, Outcome, Rule, Severity, check
from hardstart.audit.repo import Repo

J1_MULTI_STAGE = Rule(
    id="J1-multi-stage-prod-deps",
    item="J1",
    title="The image is built in stages and ships production dependencies installed by npm ci",
    fix=(
        "Build in a separate stage and give the final stage only `npm ci --omit=dev` output "
        "(installed there or copied from a stage that ran it), never `npm install`."
    ),
    severity=Severity.MEDIUM,
    anchor="Dockerfile",
)


@check(J1_MULTI_STAGE)
def multi_stage_prod_deps(repo: Repo) -> Outcome:
    found, na = container_na(repo)
    if na:
        return na
    failures: list[Failure] = []
    for dockerfile in found:
        for instruction, words in runs([i for s in dockerfile.stages for i in s.instructions]):
            if is_npm_install(words):
                failures.append(
                    Failure(
                        dockerfile.path,
                        instruction.line,
                        "`npm install` resolves versions at build time; use `npm ci`",
                    )
                )
        final = dockerfile.final
        if final is None:
            continue
        if len(dockerfile.stages) < 2:
            failures.append(
                Failure(
                    dockerfile.path,
                    final.line,
                    "single-stage build: build tools and devDependencies ship in the image",
                )
            )
            continue
        sources = copy_sources(final, dockerfile.stages)
        if not (installs_production(final) or any(installs_production(s) for s in sources)):
            failures.append(
                Failure(
                    dockerfile.path,
                    final.line,
                    "the final stage neither runs `npm ci --omit=dev` nor copies node_modules "
                    "from a stage that does",
                )
            )
    return failures


J2_BASE_PINNED = Rule(
    id="J2-base-image-pinned",
    item="J2",
    title="Every base image is pinned by tag and digest",
    fix="Write every FROM as `image:tag@sha256:<digest>` and let the update bot move both.",
    severity=Severity.MEDIUM,
    anchor="Dockerfile",
)

_PINNED_IMAGE = re.compile(r"^[^@\s]+:[^/@:\s]+@sha256:[0-9a-f]{64}$")


def _external_stages(dockerfile: Dockerfile) -> list[Stage]:
    return [s for s in dockerfile.stages if s.parent is None and s.image.lower() != "scratch"]


@check(J2_BASE_PINNED)
def base_image_pinned(repo: Repo) -> Outcome:
    found, na = container_na(repo)
    if na:
        return na
    return [
        Failure(dockerfile.path, stage.line, f"FROM {stage.image} is not pinned by tag and digest")
        for dockerfile in found
        for stage in _external_stages(dockerfile)
        if not _PINNED_IMAGE.match(stage.image)
    ]


J2_BASE_LTS = Rule(
    id="J2-base-image-lts",
    item="J2",
    title="Node base images are a supported LTS major",
    fix="Base the image on Node 22 or 24 (the LTS majors in support), e.g. `node:24-alpine`.",
    severity=Severity.MEDIUM,
    anchor="Dockerfile",
)


def node_image_major(image: str) -> int | None:
    """The Node major of an official, distroless or Chainguard Node image reference, if it says."""
    reference = image.split("@", 1)[0]
    name, _, tag = (
        reference.rpartition(":") if ":" in reference.split("/")[-1] else (reference, "", "")
    )
    repository = name.lower()
    distroless = re.search(r"distroless/nodejs(\d+)", repository)
    if distroless:
        return int(distroless.group(1))
    last = repository.split("/")[-1]
    if last == "node" and (match := re.match(r"(\d+)", tag)):
        return int(match.group(1))
    return None


@check(J2_BASE_LTS)
def base_image_lts(repo: Repo) -> Outcome:
    found, na = container_na(repo)
    if na:
        return na
    failures: list[Failure] = []
    for dockerfile in found:
        for stage in _external_stages(dockerfile):
            major = node_image_major(stage.image)
            if major is not None and major not in SUPPORTED_NODE_MAJORS:
                failures.append(
                    Failure(
                        dockerfile.path,
                        stage.line,
                        f"FROM {stage.image.split('@')[0]} is Node {major}, not a supported LTS",
                    )
                )
    return failures


J2_NON_ROOT = Rule(
    id="J2-non-root-user",
    item="J2",
    title="The container runs as a numeric non-root user",
    fix="End the final stage with a numeric non-root `USER`, e.g. `USER 1000:1000`.",
    severity=Severity.HIGH,
    anchor="Dockerfile",
)


@check(J2_NON_ROOT)
def non_root_user(repo: Repo) -> Outcome:
    found, na = container_na(repo)
    if na:
        return na
    failures: list[Failure] = []
    for dockerfile in found:
        final = dockerfile.final
        if final is None:
            continue
        users = [i for i in final.chain() if i.name == "USER"]
        if not users:
            failures.append(
                Failure(
                    dockerfile.path, None, "no USER in the final stage: the container runs as root"
                )
            )
            continue
        last = users[-1]
        user = last.value.strip().split(":")[0]
        if not user.isdigit():
            failures.append(
                Failure(
                    dockerfile.path, last.line, f"USER {last.value.strip()} is not a numeric UID"
                )
            )
        elif int(user) == 0:
            failures.append(
                Failure(dockerfile.path, last.line, "USER 0 runs the container as root")
            )
    return failures


J2_HEALTHCHECK = Rule(
    id="J2-healthcheck",
    item="J2",
    title="The image declares a HEALTHCHECK",
    fix='Add `HEALTHCHECK CMD ["node", "healthcheck.js"]` (or similar) to the final stage.',
    severity=Severity.LOW,
    anchor="Dockerfile",
)


@check(J2_HEALTHCHECK)
def healthcheck(repo: Repo) -> Outcome:
    found, na = container_na(repo)
    if na:
        return na
    failures: list[Failure] = []
    for dockerfile in found:
        final = dockerfile.final
        if final is None:
            continue
        checks = [i for i in final.chain() if i.name == "HEALTHCHECK"]
        if not checks:
            failures.append(Failure(dockerfile.path, None, "no HEALTHCHECK in the final stage"))
        elif checks[-1].value.strip().upper() == "NONE":
            failures.append(Failure(dockerfile.path, checks[-1].line, "HEALTHCHECK NONE"))
    return failures


J2_EXEC_NODE = Rule(
    id="J2-exec-form-node",
    item="J2",
    title="The container starts node directly, in exec form",
    fix='Start the app with an exec-form `CMD ["node", "server.js"]`, not a shell or `npm start`.',
    severity=Severity.LOW,
    anchor="Dockerfile",
)

_INITS = frozenset({"tini", "dumb-init", "catatonit"})


def _exec_form(value: str) -> list[str] | None:
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return [str(word) for word in parsed] if isinstance(parsed, list) else None


@check(J2_EXEC_NODE)
def exec_form_node(repo: Repo) -> Outcome:
    found, na = container_na(repo)
    if na:
        return na
    failures: list[Failure] = []
    for dockerfile in found:
        final = dockerfile.final
        if final is None:
            continue
        chain = final.chain()
        entry = next((i for i in reversed(chain) if i.name == "ENTRYPOINT"), None)
        cmd = next((i for i in reversed(chain) if i.name == "CMD"), None)
        if entry is None and cmd is None:
            failures.append(Failure(dockerfile.path, None, "no CMD: the base image's command runs"))
            continue
        argv: list[str] = []
        shell_form = None
        for instruction in (entry, cmd):
            if instruction is None:
                continue
            words = _exec_form(instruction.value)
            if words is None:
                shell_form = instruction
                break
            argv.extend(words)
        if shell_form is not None:
            failures.append(
                Failure(
                    dockerfile.path,
                    shell_form.line,
                    f"{shell_form.name} in shell form: signals reach /bin/sh, not node",
                )
            )
            continue
        while argv and (PurePosixPath(argv[0]).name in _INITS or argv[0].startswith("-")):
            argv.pop(0)
        if argv and argv[0] == "--":
            argv.pop(0)
        program = PurePosixPath(argv[0]).name if argv else ""
        node_entrypoint = (
            entry is None
            and node_image_major(final.image) is not None
            and ("distroless" in final.image)
        )
        if program not in {"node", "nodejs"} and not node_entrypoint:
            where = cmd or entry
            failures.append(
                Failure(
                    dockerfile.path,
                    where.line if where else None,
                    f"the container starts `{' '.join(argv) or 'nothing'}`, not node",
                )
            )
    return failures


J2_NO_ADD = Rule(
    id="J2-no-add",
    item="J2",
    title="No ADD instruction (no remote downloads or implicit archive extraction)",
    fix="Replace ADD with COPY; download files in a build stage with a checksum check.",
    severity=Severity.MEDIUM,
    anchor="Dockerfile",
)


@check(J2_NO_ADD)
def no_add(repo: Repo) -> Outcome:
    found, na = container_na(repo)
    if na:
        return na
    return [
        Failure(dockerfile.path, i.line, f"ADD {i.value.strip()}")
        for dockerfile in found
        for i in dockerfile.instructions
        if i.name == "ADD"
    ]


J2_NO_SECRETS = Rule(
    id="J2-no-secrets-in-env-arg",
    item="J2",
    title="No secrets in ENV or ARG",
    fix="Pass secrets at run time (secret store, orchestrator) or with `RUN --mount=type=secret`.",
    severity=Severity.HIGH,
    anchor="Dockerfile",
)

_SECRET_NAME = re.compile(
    r"(^|_)(SECRET|TOKEN|PASSWORD|PASSWD|PASS|PWD|KEY|APIKEY|CREDENTIALS?|PRIVATE)(_|$)",
    re.IGNORECASE,
)


def is_secret_name(name: str) -> bool:
    return _SECRET_NAME.search(name) is not None


def _assignments(instruction: Instruction) -> list[tuple[str, str]]:
    try:
        words = shlex.split(instruction.value)
    except ValueError:
        words = instruction.value.split()
    if instruction.name == "ENV" and words and "=" not in words[0]:
        return [(words[0], " ".join(words[1:]))]  # legacy `ENV NAME value`
    return [(w.partition("=")[0], w.partition("=")[2]) for w in words]


@check(J2_NO_SECRETS)
def no_secrets_in_env_arg(repo: Repo) -> Outcome:
    found, na = container_na(repo)
    if na:
        return na
    failures: list[Failure] = []
    for dockerfile in found:
        for instruction in dockerfile.instructions:
            if instruction.name not in {"ENV", "ARG"}:
                continue
            for name, value in _assignments(instruction):
                if is_secret_name(name) and value and not value.startswith("$"):
                    failures.append(
                        Failure(
                            dockerfile.path,
                            instruction.line,
                            f"{instruction.name} {name} carries a value baked into the image",
                        )
                    )
    return failures


J3_DOCKERIGNORE = Rule(
    id="J3-dockerignore",
    item="J3",
    title=".dockerignore keeps .git, .env files and node_modules out of the build context",
    fix="Add a .dockerignore next to the Dockerfile listing `.git`, `.env*` and `node_modules`.",
    severity=Severity.MEDIUM,
    anchor=".dockerignore",
)

# A representative path for each thing that must stay out of the build context.
_CONTEXT_SECRETS = {
    ".git": ".git/config",
    ".env": ".env",
    ".env.*": ".env.production",
    "node_modules": "node_modules/package/index.js",
}


@check(J3_DOCKERIGNORE)
def dockerignore(repo: Repo) -> Outcome:
    found, na = container_na(repo)
    if na:
        return na
    failures: list[Failure] = []
    checked: set[str] = set()
    for dockerfile in found:
        # Docker reads <Dockerfile>.dockerignore beside it, else .dockerignore in the context,
        # which is the Dockerfile's directory or (for docker/app.Dockerfile) the repository root.
        here = PurePosixPath(dockerfile.path)
        candidates = [f"{dockerfile.path}.dockerignore", str(here.parent / ".dockerignore")]
        candidates.append(".dockerignore")
        path = next((c for c in candidates if repo.exists(c)), candidates[1])
        if path in checked:
            continue
        checked.add(path)
        text = repo.text(path)
        if text is None:
            failures.append(Failure(path, None, "no .dockerignore: the whole directory is sent"))
            continue
        spec = pathspec.PathSpec.from_lines("gitignore", text.splitlines())
        missing = [name for name, probe in _CONTEXT_SECRETS.items() if not spec.match_file(probe)]
        if missing:
            failures.append(Failure(path, None, f"does not exclude {', '.join(missing)}"))
    return failures
