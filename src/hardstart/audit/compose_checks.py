"""Compose file checks (baseline J4): the locked-down local stack."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from hardstart.audit.documents import YamlMap, strings, yaml_document
from hardstart.audit.model import Failure, NotApplicable, Outcome, Rule, Severity, check
from hardstart.audit.repo import Repo

# --- compose ---

COMPOSE_NAMES = frozenset(
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
    files = [f for f in repo.files if PurePosixPath(f).name in COMPOSE_NAMES]
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
            if "ALL" in {c.upper() for c in strings(spec.get("cap_drop"))}
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
        options = {o.replace("=", ":").replace(" ", "") for o in strings(spec.get("security_opt"))}
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
        mounts = [t.split(":")[0].rstrip("/") for t in strings(spec.get("tmpfs"))]
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
