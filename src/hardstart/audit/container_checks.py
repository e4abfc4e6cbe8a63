"""Container image and deployment checks (baseline J): Dockerfiles, .dockerignore, compose files,
Kubernetes manifests and nginx reverse-proxy configurations."""

from __future__ import annotations

import io
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import pathspec
from dockerfile_parse import DockerfileParser  # type: ignore[import-untyped]

from hardstart.audit.documents import YamlMap, items, memo, yaml_document, yaml_documents
from hardstart.audit.model import Failure, NotApplicable, Outcome, Rule, Severity, check
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


def _container_na(repo: Repo) -> tuple[list[Dockerfile], NotApplicable | None]:
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


def _runs(stage_instructions: list[Instruction]) -> list[tuple[Instruction, tuple[str, ...]]]:
    commands: list[tuple[Instruction, tuple[str, ...]]] = []
    for instruction in stage_instructions:
        if instruction.name == "RUN":
            commands.extend((instruction, c.words) for c in shell_commands(instruction.value))
    return commands


def _installs_production(stage: Stage) -> bool:
    return any(_production_install(words) for _, words in _runs(stage.chain()))


def _copy_sources(stage: Stage, stages: list[Stage]) -> list[Stage]:
    by_name = {s.alias.lower(): s for s in stages if s.alias}
    by_name.update({str(i): s for i, s in enumerate(stages)})
    sources: list[Stage] = []
    for instruction in stage.chain():
        match = re.search(r"--from=(\S+)", instruction.value)
        if instruction.name == "COPY" and match and match.group(1).lower() in by_name:
            sources.append(by_name[match.group(1).lower()])
    return sources


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
    found, na = _container_na(repo)
    if na:
        return na
    failures: list[Failure] = []
    for dockerfile in found:
        for instruction, words in _runs([i for s in dockerfile.stages for i in s.instructions]):
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
        sources = _copy_sources(final, dockerfile.stages)
        if not (_installs_production(final) or any(_installs_production(s) for s in sources)):
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
    found, na = _container_na(repo)
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
    found, na = _container_na(repo)
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
    found, na = _container_na(repo)
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
    found, na = _container_na(repo)
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
    found, na = _container_na(repo)
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
    found, na = _container_na(repo)
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
    found, na = _container_na(repo)
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
    found, na = _container_na(repo)
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


# --- compose ---

_COMPOSE_NAMES = frozenset(
    {"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"}
)
_DATABASE_IMAGE = re.compile(
    r"(^|/)(postgres|postgis|mysql|mariadb|mongo|redis|valkey|keydb|memcached|cassandra|couchdb"
    r"|elasticsearch|opensearch|mssql|dragonfly|timescaledb|clickhouse)",
    re.IGNORECASE,
)
_DATABASE_NAME = re.compile(
    r"^(db|database|postgres|postgresql|mysql|mariadb|mongo|mongodb|redis|valkey|cache)$"
)


@dataclass(frozen=True)
class Service:
    path: str
    name: str
    spec: YamlMap
    line: int

    @property
    def is_database(self) -> bool:
        image = self.spec.get("image")
        if isinstance(image, str):
            return _DATABASE_IMAGE.search(image.split("@")[0]) is not None
        return _DATABASE_NAME.match(self.name.lower()) is not None


def compose_services(repo: Repo) -> tuple[list[Service], NotApplicable | None]:
    files = [f for f in repo.files if PurePosixPath(f).name in _COMPOSE_NAMES]
    if not files:
        return [], NotApplicable("no compose file")
    services: list[Service] = []
    for path in files:
        document = yaml_document(repo, path)
        found = document.get("services") if isinstance(document, YamlMap) else None
        if not isinstance(found, YamlMap):
            continue
        for name, spec in found.items():
            if isinstance(spec, YamlMap):
                services.append(Service(path, str(name), spec, found.line_of(name)))
    return services, None


def app_services(services: list[Service]) -> list[Service]:
    """The services built from this repository (or, with none built here, every non-database)."""
    built = [s for s in services if "build" in s.spec]
    return built or [s for s in services if not s.is_database]


def _compose_rule(name: str, title: str, fix: str) -> Rule:
    return Rule(
        id=f"J4-compose-{name}",
        item="J4",
        title=title,
        fix=fix,
        severity=Severity.MEDIUM,
        anchor="compose.yaml",
    )


def _per_app_service(repo: Repo, problem: Any) -> Outcome:
    services, na = compose_services(repo)
    if na:
        return na
    failures: list[Failure] = []
    for service in app_services(services):
        message = problem(service.spec)
        if message:
            failures.append(
                Failure(service.path, service.line, f"service {service.name}: {message}")
            )
    return failures


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


@check(
    _compose_rule(
        "read-only",
        "Compose app services run with a read-only root filesystem",
        "Set `read_only: true` on the app service (with a tmpfs for /tmp).",
    )
)
def compose_read_only(repo: Repo) -> Outcome:
    return _per_app_service(
        repo, lambda spec: None if spec.get("read_only") is True else "read_only is not true"
    )


@check(
    _compose_rule(
        "cap-drop-all",
        "Compose app services drop every Linux capability",
        "Set `cap_drop: [ALL]` on the app service.",
    )
)
def compose_cap_drop(repo: Repo) -> Outcome:
    return _per_app_service(
        repo,
        lambda spec: (
            None
            if "ALL" in {c.upper() for c in _strings(spec.get("cap_drop"))}
            else "cap_drop does not list ALL"
        ),
    )


@check(
    _compose_rule(
        "no-new-privileges",
        "Compose app services cannot gain privileges (no-new-privileges)",
        'Add `security_opt: ["no-new-privileges:true"]` to the app service.',
    )
)
def compose_no_new_privileges(repo: Repo) -> Outcome:
    def problem(spec: YamlMap) -> str | None:
        options = {o.replace("=", ":").replace(" ", "") for o in _strings(spec.get("security_opt"))}
        if options & {"no-new-privileges", "no-new-privileges:true"}:
            return None
        return "security_opt lacks no-new-privileges:true"

    return _per_app_service(repo, problem)


@check(
    _compose_rule(
        "tmpfs-tmp",
        "Compose app services write temporary files to a tmpfs on /tmp",
        "Add `tmpfs: [/tmp]` (with a size) to the app service.",
    )
)
def compose_tmpfs(repo: Repo) -> Outcome:
    def problem(spec: YamlMap) -> str | None:
        mounts = [t.split(":")[0].rstrip("/") for t in _strings(spec.get("tmpfs"))]
        volumes = spec.get("volumes")
        for volume in volumes if isinstance(volumes, list) else []:
            if isinstance(volume, dict) and volume.get("type") == "tmpfs":
                mounts.append(str(volume.get("target", "")).rstrip("/"))
        return None if "/tmp" in mounts else "no tmpfs on /tmp"  # noqa: S108 - the checked path

    return _per_app_service(repo, problem)


def _limit(spec: YamlMap, direct: str, deploy_key: str) -> bool:
    if spec.get(direct) not in (None, "", 0, -1, "-1"):
        return True
    deploy = spec.get("deploy")
    resources = deploy.get("resources") if isinstance(deploy, dict) else None
    limits = resources.get("limits") if isinstance(resources, dict) else None
    return isinstance(limits, dict) and limits.get(deploy_key) not in (None, "", 0, -1, "-1")


@check(
    _compose_rule(
        "resource-limits",
        "Compose app services have memory and PID limits",
        "Set `mem_limit` and `pids_limit` (or deploy.resources.limits memory and pids).",
    )
)
def compose_limits(repo: Repo) -> Outcome:
    def problem(spec: YamlMap) -> str | None:
        missing = [
            name
            for name, direct, key in (
                ("memory", "mem_limit", "memory"),
                ("pids", "pids_limit", "pids"),
            )
            if not _limit(spec, direct, key)
        ]
        return f"no {' or '.join(missing)} limit" if missing else None

    return _per_app_service(repo, problem)


@check(
    _compose_rule(
        "healthcheck",
        "Compose app services declare a health check",
        "Add a `healthcheck:` with a test command to the app service.",
    )
)
def compose_healthcheck(repo: Repo) -> Outcome:
    def problem(spec: YamlMap) -> str | None:
        health = spec.get("healthcheck")
        if isinstance(health, dict) and health.get("disable") is not True and health.get("test"):
            return None
        return "no healthcheck"

    return _per_app_service(repo, problem)


@check(
    Rule(
        id="J4-compose-database-private",
        item="J4",
        title="Compose database services publish no port",
        fix="Remove `ports:` from database services; the app reaches them on the compose network.",
        severity=Severity.HIGH,
        anchor="compose.yaml",
    )
)
def compose_database_private(repo: Repo) -> Outcome:
    services, na = compose_services(repo)
    if na:
        return na
    return [
        Failure(
            service.path,
            service.spec.line_of("ports"),
            f"database service {service.name} publishes ports",
        )
        for service in services
        if service.is_database and service.spec.get("ports")
    ]


# --- Kubernetes ---

_WORKLOADS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}
)
_LONG_RUNNING = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod"})


@dataclass(frozen=True)
class Workload:
    path: str
    kind: str
    name: str
    line: int
    pod: YamlMap  # the pod spec

    def containers(self, *, init: bool = True) -> list[YamlMap]:
        keys = ("containers", "initContainers") if init else ("containers",)
        return [c for k in keys for c in items(self.pod.get(k)) if isinstance(c, YamlMap)]


def _pod_spec(document: YamlMap) -> YamlMap | None:
    spec = document.get("spec")
    path = {
        "Pod": (),
        "CronJob": ("jobTemplate", "spec", "template", "spec"),
    }.get(str(document.get("kind")), ("template", "spec"))
    for key in path:
        spec = spec.get(key) if isinstance(spec, YamlMap) else None
    return spec if isinstance(spec, YamlMap) else None


def kubernetes_objects(repo: Repo) -> list[tuple[str, YamlMap]]:
    return memo(repo, "kubernetes", lambda: _read_kubernetes(repo))


def _read_kubernetes(repo: Repo) -> list[tuple[str, YamlMap]]:
    found: list[tuple[str, YamlMap]] = []
    for path in repo.matching(".yaml", ".yml"):
        name = PurePosixPath(path).name
        if path.startswith((".github/", ".gitlab")) or name in _COMPOSE_NAMES:
            continue
        text = repo.text(path)
        if text is None or "apiVersion" not in text or "kind" not in text:
            continue
        for document in yaml_documents(repo, path):
            if isinstance(document, YamlMap) and "apiVersion" in document and "kind" in document:
                found.append((path, document))
    return found


def workloads(repo: Repo) -> tuple[list[Workload], list[tuple[str, YamlMap]], NotApplicable | None]:
    objects = kubernetes_objects(repo)
    found: list[Workload] = []
    for path, document in objects:
        kind = str(document.get("kind"))
        pod = _pod_spec(document) if kind in _WORKLOADS else None
        if pod is not None:
            metadata = document.get("metadata")
            name = str(metadata.get("name", "")) if isinstance(metadata, dict) else ""
            found.append(Workload(path, kind, name, document.line, pod))
    if not found:
        return [], objects, NotApplicable("no Kubernetes workload manifests")
    return found, objects, None


def _k8s_rule(name: str, title: str, fix: str, severity: Severity = Severity.MEDIUM) -> Rule:
    return Rule(
        id=f"J5-{name}",
        item="J5",
        title=title,
        fix=fix,
        severity=severity,
        anchor="kubernetes/deployment.yaml",
    )


def _context_value(workload: Workload, container: YamlMap, *keys: str) -> Any:
    """A securityContext setting of the container, else of the pod (where the pod may set it)."""
    for context in (container.get("securityContext"), workload.pod.get("securityContext")):
        value: Any = context
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None:
            return value
    return None


def _per_container(repo: Repo, problem: Any, *, init: bool = True) -> Outcome:
    found, _, na = workloads(repo)
    if na:
        return na
    failures: list[Failure] = []
    for workload in found:
        for container in workload.containers(init=init):
            message = problem(workload, container)
            if message:
                failures.append(
                    Failure(
                        workload.path,
                        container.line,
                        f"{workload.kind} {workload.name or '?'}, "
                        f"container {container.get('name', '?')}: {message}",
                    )
                )
    return failures


@check(
    _k8s_rule(
        "run-as-non-root",
        "Kubernetes pods run as non-root",
        "Set `securityContext.runAsNonRoot: true` on the pod (and a non-zero runAsUser).",
        Severity.HIGH,
    )
)
def k8s_run_as_non_root(repo: Repo) -> Outcome:
    def problem(workload: Workload, container: YamlMap) -> str | None:
        if _context_value(workload, container, "runAsUser") == 0:
            return "runAsUser is 0"
        if _context_value(workload, container, "runAsNonRoot") is not True:
            return "runAsNonRoot is not true"
        return None

    return _per_container(repo, problem)


@check(
    _k8s_rule(
        "no-privilege-escalation",
        "Kubernetes containers cannot escalate privileges",
        "Set `allowPrivilegeEscalation: false` (and no `privileged: true`) in every container.",
        Severity.HIGH,
    )
)
def k8s_no_privilege_escalation(repo: Repo) -> Outcome:
    def problem(_: Workload, container: YamlMap) -> str | None:
        context = container.get("securityContext")
        context = context if isinstance(context, dict) else {}
        if context.get("privileged") is True:
            return "privileged: true"
        if context.get("allowPrivilegeEscalation") is not False:
            return "allowPrivilegeEscalation is not false"
        return None

    return _per_container(repo, problem)


@check(
    _k8s_rule(
        "read-only-root-filesystem",
        "Kubernetes containers have a read-only root filesystem",
        "Set `readOnlyRootFilesystem: true` in every container and mount an emptyDir on /tmp.",
    )
)
def k8s_read_only_root(repo: Repo) -> Outcome:
    def problem(_: Workload, container: YamlMap) -> str | None:
        context = container.get("securityContext")
        value = context.get("readOnlyRootFilesystem") if isinstance(context, dict) else None
        return None if value is True else "readOnlyRootFilesystem is not true"

    return _per_container(repo, problem)


@check(
    _k8s_rule(
        "drop-all-capabilities",
        "Kubernetes containers drop every Linux capability",
        "Set `capabilities: {drop: [ALL]}` in every container's securityContext.",
    )
)
def k8s_drop_all(repo: Repo) -> Outcome:
    def problem(_: Workload, container: YamlMap) -> str | None:
        context = container.get("securityContext")
        capabilities = context.get("capabilities") if isinstance(context, dict) else None
        drop = capabilities.get("drop") if isinstance(capabilities, dict) else None
        return (
            None if "ALL" in {d.upper() for d in _strings(drop)} else "capabilities do not drop ALL"
        )

    return _per_container(repo, problem)


@check(
    _k8s_rule(
        "seccomp-runtime-default",
        "Kubernetes pods use the RuntimeDefault seccomp profile",
        "Set `securityContext.seccompProfile.type: RuntimeDefault` on the pod.",
    )
)
def k8s_seccomp(repo: Repo) -> Outcome:
    def problem(workload: Workload, container: YamlMap) -> str | None:
        kind = _context_value(workload, container, "seccompProfile", "type")
        return (
            None if kind in {"RuntimeDefault", "Localhost"} else "no RuntimeDefault seccomp profile"
        )

    return _per_container(repo, problem)


@check(
    _k8s_rule(
        "resource-limits",
        "Kubernetes containers have CPU and memory limits",
        "Set `resources.limits.cpu` and `resources.limits.memory` on every container.",
    )
)
def k8s_resource_limits(repo: Repo) -> Outcome:
    def problem(_: Workload, container: YamlMap) -> str | None:
        resources = container.get("resources")
        limits = resources.get("limits") if isinstance(resources, dict) else None
        limits = limits if isinstance(limits, dict) else {}
        missing = [name for name in ("cpu", "memory") if not limits.get(name)]
        return f"no {' or '.join(missing)} limit" if missing else None

    return _per_container(repo, problem)


@check(
    _k8s_rule(
        "probes",
        "Kubernetes long-running containers have liveness and readiness probes",
        "Add `livenessProbe` and `readinessProbe` to the app container.",
        Severity.LOW,
    )
)
def k8s_probes(repo: Repo) -> Outcome:
    def problem(workload: Workload, container: YamlMap) -> str | None:
        if workload.kind not in _LONG_RUNNING:
            return None
        missing = [p for p in ("livenessProbe", "readinessProbe") if not container.get(p)]
        return f"no {' or '.join(missing)}" if missing else None

    return _per_container(repo, problem, init=False)


@check(
    _k8s_rule(
        "default-deny-network-policy",
        "A default-deny NetworkPolicy covers the workloads",
        "Add a NetworkPolicy with `policyTypes: [Ingress, Egress]` and no rules, then allow "
        "only the traffic the app needs.",
    )
)
def k8s_default_deny(repo: Repo) -> Outcome:
    found, objects, na = workloads(repo)
    if na:
        return na
    for _, document in objects:
        if document.get("kind") != "NetworkPolicy":
            continue
        spec = document.get("spec")
        if not isinstance(spec, dict):
            continue
        types = set(_strings(spec.get("policyTypes")))
        if {"Ingress", "Egress"} <= types and not spec.get("ingress") and not spec.get("egress"):
            return []
    return [
        Failure(found[0].path, None, "no NetworkPolicy denies all ingress and egress by default")
    ]


# --- nginx ---


@dataclass
class Directive:
    name: str
    args: list[str]
    line: int
    block: list[Directive] | None = None

    def walk(self) -> list[Directive]:
        found = [self]
        for child in self.block or []:
            found.extend(child.walk())
        return found


_NGINX_TOKEN = re.compile(r"""#[^\n]*|"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|[{};]|[^\s{};"'#]+""")


def parse_nginx(text: str) -> list[Directive]:
    """nginx's configuration syntax: directives with arguments, `;`-terminated or with a block."""
    root: list[Directive] = []
    stack: list[list[Directive]] = [root]
    words: list[str] = []
    line = 0
    for match in _NGINX_TOKEN.finditer(text):
        token = match.group(0)
        if token.startswith("#"):
            continue
        if not words:
            line = text.count("\n", 0, match.start()) + 1
        if token == ";":  # noqa: S105 - nginx syntax, not a password
            if words:
                stack[-1].append(Directive(words[0], words[1:], line))
            words = []
        elif token == "{":  # noqa: S105
            block: list[Directive] = []
            stack[-1].append(Directive(words[0] if words else "", words[1:], line, block))
            stack.append(block)
            words = []
        elif token == "}":  # noqa: S105
            if len(stack) > 1:
                stack.pop()
            words = []
        else:
            words.append(token[1:-1] if token[0] in "\"'" else token)
    return root


@dataclass
class NginxConfigs:
    """The nginx configurations (files with a `server` block) and the snippets they may include
    (other .conf files with proxy, TLS or body settings), every directive with its file."""

    servers: dict[str, list[Directive]]
    snippets: dict[str, list[Directive]]

    def everything(self) -> list[tuple[str, Directive]]:
        return [
            (path, d)
            for files in (self.servers, self.snippets)
            for path, directives in files.items()
            for d in directives
        ]

    def has(self, path: str, wanted: Any) -> bool:
        """Whether the config at `path`, or any snippet, has a directive `wanted` accepts."""
        own = self.servers[path]
        return any(wanted(d) for d in own) or any(
            wanted(d) for directives in self.snippets.values() for d in directives
        )


_SNIPPET_DIRECTIVE = re.compile(r"^(ssl_|proxy_|client_|real_ip|set_real_ip_from)")


def nginx_configs(repo: Repo) -> tuple[NginxConfigs, NotApplicable | None]:
    return memo(repo, "nginx", lambda: _read_nginx(repo))


def _read_nginx(repo: Repo) -> tuple[NginxConfigs, NotApplicable | None]:
    found = NginxConfigs({}, {})
    for path in repo.files:
        name = PurePosixPath(path).name
        if not (name.endswith((".conf", ".conf.template")) or name == "nginx.conf"):
            continue
        text = repo.text(path)
        if text is None:
            continue
        directives = [d for top in parse_nginx(text) for d in top.walk()]
        if any(d.name == "server" and d.block is not None for d in directives):
            found.servers[path] = directives
        elif any(_SNIPPET_DIRECTIVE.match(d.name) for d in directives):
            found.snippets[path] = directives
    return found, None if found.servers else NotApplicable("no nginx configuration")


def _nginx_rule(name: str, title: str, fix: str, severity: Severity) -> Rule:
    return Rule(
        id=f"J6-{name}",
        item="J6",
        title=title,
        fix=fix,
        severity=severity,
        anchor="nginx/nginx.conf",
    )


@check(
    _nginx_rule(
        "tls-modern",
        "The reverse proxy terminates TLS 1.2 or newer only",
        "Listen with `ssl` and set `ssl_protocols TLSv1.2 TLSv1.3;`.",
        Severity.HIGH,
    )
)
def nginx_tls(repo: Repo) -> Outcome:
    configs, na = nginx_configs(repo)
    if na:
        return na
    failures: list[Failure] = []
    for path, directives in configs.servers.items():
        listens_tls = any(
            d.name == "listen" and ({"ssl", "quic"} & set(d.args)) for d in directives
        ) or any(d.name == "ssl" and d.args == ["on"] for d in directives)
        if not listens_tls:
            failures.append(Failure(path, None, "no server listens with TLS (`listen 443 ssl`)"))
        elif not configs.has(path, lambda d: d.name == "ssl_protocols"):
            failures.append(Failure(path, None, "ssl_protocols is not set"))
    for path, directive in configs.everything():
        old = [p for p in directive.args if p not in {"TLSv1.2", "TLSv1.3"}]
        if directive.name == "ssl_protocols" and old:
            failures.append(Failure(path, directive.line, f"ssl_protocols allows {' '.join(old)}"))
    return failures


@check(
    _nginx_rule(
        "body-limit",
        "The reverse proxy limits request bodies",
        "Set `client_max_body_size` (e.g. `100k`, matching the app's body limit).",
        Severity.MEDIUM,
    )
)
def nginx_body_limit(repo: Repo) -> Outcome:
    configs, na = nginx_configs(repo)
    if na:
        return na
    failures = [
        Failure(path, None, "client_max_body_size is not set (1m default)")
        for path in configs.servers
        if not configs.has(path, lambda d: d.name == "client_max_body_size")
    ]
    failures.extend(
        Failure(path, d.line, "client_max_body_size 0 disables the limit")
        for path, d in configs.everything()
        if d.name == "client_max_body_size" and d.args[:1] == ["0"]
    )
    return failures


def _sets_forwarded_for(directive: Directive) -> bool:
    return (
        directive.name == "proxy_set_header"
        and len(directive.args) >= 1
        and directive.args[0].lower() == "x-forwarded-for"
    )


@check(
    _nginx_rule(
        "one-trusted-hop",
        "The reverse proxy passes exactly one trusted hop",
        "Overwrite the header with `proxy_set_header X-Forwarded-For $remote_addr;` "
        "(not $proxy_add_x_forwarded_for) and set the app to trust one proxy.",
        Severity.MEDIUM,
    )
)
def nginx_one_hop(repo: Repo) -> Outcome:
    configs, na = nginx_configs(repo)
    if na:
        return na
    failures: list[Failure] = []
    for path, directive in configs.everything():
        if any("$proxy_add_x_forwarded_for" in a for a in directive.args):
            failures.append(
                Failure(
                    path,
                    directive.line,
                    "$proxy_add_x_forwarded_for appends to the client's forged X-Forwarded-For",
                )
            )
        if directive.name == "set_real_ip_from" and directive.args[:1] in (["0.0.0.0/0"], ["::/0"]):
            failures.append(Failure(path, directive.line, "set_real_ip_from trusts every address"))
    for path, directives in configs.servers.items():
        proxies = any(d.name == "proxy_pass" for d in directives)
        if proxies and not configs.has(path, _sets_forwarded_for):
            failures.append(
                Failure(path, None, "X-Forwarded-For is not set: the app cannot see the client")
            )
    return failures
