"""Kubernetes manifest checks (baseline J5): Pod Security "restricted" and more."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from hardstart.audit.compose_checks import COMPOSE_NAMES
from hardstart.audit.documents import YamlMap, items, memo, strings, yaml_documents
from hardstart.audit.model import Failure, NotApplicable, Outcome, Rule, Severity, check
from hardstart.audit.repo import Repo

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
        if path.startswith((".github/", ".gitlab")) or name in COMPOSE_NAMES:
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
            None if "ALL" in {d.upper() for d in strings(drop)} else "capabilities do not drop ALL"
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
        types = set(strings(spec.get("policyTypes")))
        if {"Ingress", "Egress"} <= types and not spec.get("ingress") and not spec.get("egress"):
            return []
    return [
        Failure(found[0].path, None, "no NetworkPolicy denies all ingress and egress by default")
    ]
