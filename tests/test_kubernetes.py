"""J5: the Kubernetes manifests of the generated project (kubernetes=true; needs the redis store).

For each combination: kubernetes-validate (strict) and checkov are clean, checkov's suppressions are
exactly the justified ones, and the J5 controls hold (Pod Security Standards "restricted" plus a
read-only root filesystem on every container, probes, resource limits, a default-deny NetworkPolicy
for ingress and egress, no secret values, at least two replicas). The J5 checker is itself tested on
broken copies of the manifests, so removing a control from the template fails this file.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from checkers import tool
from conftest import render_project

COMBOS: list[dict[str, Any]] = [
    {
        "project_name": "orders-api",
        "container_base": "alpine",
        "cors_origins": "https://app.example.com",
    },
    {
        "project_name": "@acme/billing.api_v2",
        "container_base": "distroless",
        "cors_origins": "https://a.example:8443, http://localhost:3000,https://b.example",
    },
    {
        "project_name": "@acme/billing.api_v2",
        "container_base": "alpine",
        "cors_origins": "https://a.example:8443, http://localhost:3000,https://b.example",
    },
    {
        "project_name": "orders-api",
        "container_base": "distroless",
        "cors_origins": "https://app.example.com",
    },
]
SERVICE_NAMES = {"orders-api": "orders-api", "@acme/billing.api_v2": "billing-api-v2"}
IMAGE_UID = {"alpine": 1000, "distroless": 65532}
SECRET_VARIABLES = {"DATABASE_URL", "JWT_SECRET", "REDIS_URL"}
# Egress the API needs: PostgreSQL, Redis, DNS (to the cluster resolver only).
ALLOWED_EGRESS = {("TCP", 5432), ("TCP", 6379), ("UDP", 53), ("TCP", 53)}
RESOURCE_NAMES = ("cpu", "memory", "ephemeral-storage")
# Checks that cannot hold for a template; every other checkov failure fails the test.
ALLOWED_SKIPS = {
    "CKV_K8S_43",  # image digest: known only after the image is built, set at deploy time
    "CKV_K8S_35",  # secrets as files: the app reads its configuration from the environment only
}
ALPINE_SKIPS = {"CKV_K8S_40"}  # UID 1000: the node user of the official Alpine image
CHECKOV_SKIP = re.compile(r"^checkov\.io/skip\d+$")
SECRET_LITERALS = (
    re.compile(r"\b(postgres(ql)?|rediss?)://"),  # connection strings belong in the Secret
    re.compile(r"://[^\s/:@]+:[^\s/@]+@"),  # credentials in any URL
    re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{40,}={0,2}(?![A-Za-z0-9+/_=-])"),  # keys
)

Docs = list[dict[str, Any]]


def combo_id(combo: dict[str, Any]) -> str:
    return f"{SERVICE_NAMES[combo['project_name']]}-{combo['container_base']}"


def answers_of(index: int) -> dict[str, Any]:
    return {**COMBOS[index], "rate_limit_store": "redis", "kubernetes": True}


def render(index: int, template_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_project(answers_of(index), template_repo, tmp_path_factory)


@pytest.fixture(params=range(len(COMBOS)), ids=[combo_id(c) for c in COMBOS])
def project(
    request: pytest.FixtureRequest, template_repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    return render(request.param, template_repo, tmp_path_factory), answers_of(request.param)


def manifest_files(project_root: Path) -> list[Path]:
    return sorted(
        p for p in (project_root / "kubernetes").glob("*.yaml") if p.name != "kustomization.yaml"
    )


def load_docs(project_root: Path) -> Docs:
    return [
        doc
        for path in manifest_files(project_root)
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if doc is not None
    ]


def of_kind(docs: Docs, kind: str) -> Docs:
    return [doc for doc in docs if doc.get("kind") == kind]


def config_ts_defaults(project_root: Path) -> dict[str, int]:
    """Whole-number defaults and maxima of the SHUTDOWN_* variables in the generated config.ts."""
    source = (project_root / "src" / "config.ts").read_text(encoding="utf-8")
    found = {
        name: (int(default), int(maximum))
        for name, default, maximum in re.findall(
            r"(SHUTDOWN_\w+): wholeNumber\((\d+), \d+, (\d+)\)", source
        )
    }
    assert set(found) == {"SHUTDOWN_DELAY_SECONDS", "SHUTDOWN_GRACE_SECONDS"}, found
    return {
        **{name: default for name, (default, _) in found.items()},
        "max": sum(maximum for _, maximum in found.values()),
    }


def config_ts_variables(project_root: Path) -> set[str]:
    source = (project_root / "src" / "config.ts").read_text(encoding="utf-8")
    return set(re.findall(r"^ {4}([A-Z][A-Z0-9_]+):", source, re.M)) | {"REDIS_URL"}


def mebibytes(quantity: str) -> float:
    units = {
        "Ki": 1 / 1024,
        "Mi": 1,
        "Gi": 1024,
        "K": 1e3 / 2**20,
        "M": 1e6 / 2**20,
        "G": 1e9 / 2**20,
    }
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMG]i?)?", str(quantity))
    assert match is not None, quantity
    return float(match[1]) * units.get(match[2] or "", 1 / 2**20)


def selects(policy_or_owner: dict[str, Any], pod_labels: dict[str, str]) -> bool:
    selector = policy_or_owner.get("matchLabels", {})
    return bool(selector) and all(pod_labels.get(k) == v for k, v in selector.items())


def j5_problems(docs: Docs, answers: dict[str, Any], config: dict[str, int]) -> list[str]:
    """Every J5 control missing from `docs` (parsed manifests), as readable messages."""
    problems: list[str] = []

    def need(condition: object, message: str) -> None:
        if not condition:
            problems.append(message)

    service = SERVICE_NAMES[answers["project_name"]]
    uid = IMAGE_UID[answers["container_base"]]

    need(
        not of_kind(docs, "Secret"), "a Secret object is in the manifests (values would be in git)"
    )
    for doc in docs:
        labels = doc.get("metadata", {}).get("labels", {})
        need(
            labels.get("app.kubernetes.io/name") == service,
            f"{doc.get('kind')} lacks app.kubernetes.io/name={service}",
        )
        need(doc["metadata"]["name"].startswith(service), f"{doc.get('kind')} not named {service}")

    namespaces = of_kind(docs, "Namespace")
    need(
        any(
            ns["metadata"].get("labels", {}).get("pod-security.kubernetes.io/enforce")
            == "restricted"
            for ns in namespaces
        ),
        "the namespace does not enforce Pod Security Standards restricted",
    )

    deployments = of_kind(docs, "Deployment")
    if len(deployments) != 1:
        return [*problems, f"expected one Deployment, found {len(deployments)}"]
    deployment = deployments[0]
    need(deployment["spec"].get("replicas", 1) >= 2, "Deployment runs fewer than 2 replicas")
    template = deployment["spec"]["template"]
    pod_labels = template["metadata"]["labels"]
    need(selects(deployment["spec"]["selector"], pod_labels), "Deployment selector misses its pods")
    pod = template["spec"]
    pod_security = pod.get("securityContext", {})
    need(pod.get("automountServiceAccountToken") is False, "pod mounts a service account token")
    need(pod.get("serviceAccountName") == service, "pod does not use its own service account")
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        need(not pod.get(field), f"pod sets {field}")
    need(
        not any("hostPath" in volume for volume in pod.get("volumes", [])), "pod mounts a hostPath"
    )
    tmp_volumes = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
    grace_needed = max(
        config["max"],
        config["SHUTDOWN_DELAY_SECONDS"] + config["SHUTDOWN_GRACE_SECONDS"],
    )
    need(
        pod.get("terminationGracePeriodSeconds", 30) > grace_needed,
        f"terminationGracePeriodSeconds not above shutdown delay + grace ({grace_needed})",
    )

    containers = [*pod.get("initContainers", []), *pod.get("containers", [])]
    need(pod.get("containers"), "pod has no container")
    ports: set[int] = set()
    for container in containers:
        name = container.get("name")
        security = {**pod_security, **container.get("securityContext", {})}
        need(security.get("runAsNonRoot") is True, f"{name}: runAsNonRoot is not true")
        need(security.get("runAsUser") == uid, f"{name}: runAsUser is not the image's UID {uid}")
        need(security.get("runAsGroup") == uid, f"{name}: runAsGroup is not the image's GID {uid}")
        need(
            security.get("seccompProfile", {}).get("type") == "RuntimeDefault",
            f"{name}: seccompProfile is not RuntimeDefault",
        )
        need(
            security.get("allowPrivilegeEscalation") is False,
            f"{name}: allowPrivilegeEscalation is not false",
        )
        need(not security.get("privileged"), f"{name}: privileged")
        need(
            security.get("readOnlyRootFilesystem") is True,
            f"{name}: readOnlyRootFilesystem is not true",
        )
        capabilities = security.get("capabilities", {})
        need(capabilities.get("drop") == ["ALL"], f"{name}: capabilities do not drop ALL")
        need(not capabilities.get("add"), f"{name}: adds capabilities")
        resources = container.get("resources", {})
        for kind in ("requests", "limits"):
            for resource in RESOURCE_NAMES:
                need(
                    resource in resources.get(kind, {}),
                    f"{name}: no {resource} in resources.{kind}",
                )
        need(
            any(
                m["mountPath"] == "/tmp" and m["name"] in tmp_volumes
                for m in container.get("volumeMounts", [])
            ),
            f"{name}: /tmp is not an emptyDir",
        )
        image = container.get("image", "")
        need(
            re.fullmatch(
                rf"([\w.:-]+/)*{re.escape(service)}(:[\w.-]+|@sha256:[0-9a-f]{{64}})", image
            ),
            f"{name}: image {image!r}",
        )
        ports |= {p["containerPort"] for p in container.get("ports", [])}

    api = pod["containers"][0] if pod.get("containers") else {}
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        need(
            api.get(probe, {}).get("httpGet", {}).get("path") == path,
            f"{probe} is not GET {path}",
        )
    need(api.get("startupProbe", {}).get("httpGet"), "no startupProbe")
    env = {e["name"]: e for e in api.get("env", [])}
    for variable in sorted(SECRET_VARIABLES):
        ref = env.get(variable, {}).get("valueFrom", {}).get("secretKeyRef", {})
        need(
            ref.get("name") == f"{service}-secrets" and ref.get("key") == variable,
            f"{variable} is not a reference to {service}-secrets",
        )
        need("value" not in env.get(variable, {}), f"{variable} has a literal value")
    heap = re.search(r"--max-old-space-size=(\d+)", env.get("NODE_OPTIONS", {}).get("value", ""))
    memory = api.get("resources", {}).get("limits", {}).get("memory")
    need(heap and memory, "NODE_OPTIONS --max-old-space-size or the memory limit is missing")
    if heap and memory:
        need(
            int(heap[1]) <= 0.75 * mebibytes(memory),
            f"heap {heap[1]} MiB leaves too little of the {memory} limit off-heap",
        )

    config_maps = {cm["metadata"]["name"]: cm.get("data", {}) for cm in of_kind(docs, "ConfigMap")}
    env_from = [
        config_maps.get(ref.get("configMapRef", {}).get("name"), {})
        for ref in api.get("envFrom", [])
    ]
    data = {k: v for cm in env_from for k, v in cm.items()}
    need(not SECRET_VARIABLES & set(data), "a secret variable is in the ConfigMap")
    origins = ",".join(o.strip() for o in answers["cors_origins"].split(",") if o.strip())
    expected = {
        "NODE_ENV": "production",
        "HOST": "0.0.0.0",  # noqa: S104 - inside the pod; the NetworkPolicy limits who reaches it
        "PORT": str(min(ports, default=0)),
        "CORS_ORIGINS": origins,
        "TRUST_PROXY": "1",
    }
    for key, value in expected.items():
        need(data.get(key) == value, f"ConfigMap {key} is {data.get(key)!r}, expected {value!r}")
    for key in ("LOG_LEVEL", "JWT_ISSUER", "JWT_AUDIENCE"):
        need(data.get(key), f"ConfigMap lacks {key}")

    services = of_kind(docs, "Service")
    need(services, "no Service")
    for svc in services:
        need(svc["spec"].get("type", "ClusterIP") == "ClusterIP", "Service is not ClusterIP")
        need(selects({"matchLabels": svc["spec"]["selector"]}, pod_labels), "Service misses pods")

    policies = [
        p for p in of_kind(docs, "NetworkPolicy") if selects(p["spec"]["podSelector"], pod_labels)
    ]
    need(
        any(
            {"Ingress", "Egress"} <= set(p["spec"].get("policyTypes", []))
            and not p["spec"].get("ingress")
            and not p["spec"].get("egress")
            for p in policies
        ),
        "no default-deny NetworkPolicy for both Ingress and Egress on the API's pods",
    )
    for policy in policies:
        spec = policy["spec"]
        need(
            set(spec.get("policyTypes", [])) == {"Ingress", "Egress"},
            f"NetworkPolicy {policy['metadata']['name']} does not restrict both directions",
        )
        for rule in spec.get("ingress", []):
            need(rule.get("from"), "an ingress rule allows every source")
            need(
                all(set(peer) == {"namespaceSelector"} for peer in rule.get("from", [])),
                "ingress is allowed from something other than the ingress controller's namespace",
            )
            need(
                {p.get("port") for p in rule.get("ports", [])} == ports and rule.get("ports"),
                "ingress is allowed to a port other than the API's",
            )
        for rule in spec.get("egress", []):
            allowed = {(p.get("protocol", "TCP"), p.get("port")) for p in rule.get("ports", [])}
            need(rule.get("ports"), "an egress rule allows every port")
            need(allowed <= ALLOWED_EGRESS, f"egress to {sorted(allowed - ALLOWED_EGRESS)}")
            if any(port == 53 for _, port in allowed):
                need(
                    any(
                        peer.get("podSelector", {}).get("matchLabels", {}).get("k8s-app")
                        == "kube-dns"
                        for peer in rule.get("to", [])
                    ),
                    "DNS egress is not limited to kube-dns",
                )
    egress = {
        (p.get("protocol", "TCP"), p.get("port"))
        for policy in policies
        for rule in policy["spec"].get("egress", [])
        for p in rule.get("ports", [])
    }
    need(egress == ALLOWED_EGRESS, f"egress is {sorted(egress)}, expected {sorted(ALLOWED_EGRESS)}")

    need(
        any(
            selects(pdb["spec"]["selector"], pod_labels)
            for pdb in of_kind(docs, "PodDisruptionBudget")
        ),
        "no PodDisruptionBudget for the API's pods",
    )
    hpas = of_kind(docs, "HorizontalPodAutoscaler")
    need(hpas, "no HorizontalPodAutoscaler")
    for hpa in hpas:
        need(hpa["apiVersion"] == "autoscaling/v2", "HPA is not autoscaling/v2")
        need(hpa["spec"].get("minReplicas", 1) >= 2, "HPA minReplicas below 2")
        need(hpa["spec"]["maxReplicas"] >= hpa["spec"].get("minReplicas", 1), "HPA max < min")
        need(hpa["spec"]["scaleTargetRef"]["name"] == service, "HPA scales another Deployment")
    accounts = of_kind(docs, "ServiceAccount")
    need(
        accounts and all(sa.get("automountServiceAccountToken") is False for sa in accounts),
        "the ServiceAccount mounts its token",
    )
    return problems


def test_manifests_are_valid_kubernetes(project: tuple[Path, dict[str, Any]]) -> None:
    root, _ = project
    files = manifest_files(root)
    assert files
    result = subprocess.run(
        [tool("kubernetes-validate"), "--strict", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for path in files:
        assert re.search(rf"^INFO {re.escape(str(path))} passed ", output, re.M), output


def test_checkov_clean_with_only_justified_skips(project: tuple[Path, dict[str, Any]]) -> None:
    root, answers = project
    result = subprocess.run(
        [
            *(tool("checkov"), "--skip-download", "--framework", "kubernetes"),
            *("-d", str(root / "kubernetes"), "--quiet", "--compact"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Failed checks: 0" in result.stdout, result.stdout

    allowed = ALLOWED_SKIPS | (ALPINE_SKIPS if answers["container_base"] == "alpine" else set())
    skipped: dict[str, str] = {}
    for doc in load_docs(root):
        for key, value in (doc["metadata"].get("annotations") or {}).items():
            if CHECKOV_SKIP.match(key):
                check, _, reason = value.partition("=")
                skipped[check] = reason
    assert set(skipped) == allowed
    assert all(len(reason.split()) >= 5 for reason in skipped.values()), skipped


def test_j5_controls(project: tuple[Path, dict[str, Any]]) -> None:
    root, answers = project
    assert j5_problems(load_docs(root), answers, config_defaults(root)) == []


def test_j5_no_secret_values_in_any_file(project: tuple[Path, dict[str, Any]]) -> None:
    root, _ = project
    for path in sorted((root / "kubernetes").iterdir()):
        text = path.read_text(encoding="utf-8")
        for pattern in SECRET_LITERALS:
            assert pattern.search(text) is None, f"{path.name}: {pattern.search(text)}"
        assert not re.search(r"^kind:\s*Secret\s*$", text, re.M), path.name


def test_configmap_holds_only_variables_the_app_reads(project: tuple[Path, dict[str, Any]]) -> None:
    root, _ = project
    known = config_ts_variables(root)
    for config_map in of_kind(load_docs(root), "ConfigMap"):
        assert set(config_map["data"]) <= known, set(config_map["data"]) - known


def test_kustomization_lists_every_manifest_and_the_image(
    project: tuple[Path, dict[str, Any]],
) -> None:
    root, answers = project
    service = SERVICE_NAMES[answers["project_name"]]
    kustomization = yaml.safe_load((root / "kubernetes" / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == [p.name for p in manifest_files(root)]
    assert kustomization["namespace"] == service
    assert [image["name"] for image in kustomization["images"]] == [service]
    text = (root / "kubernetes" / "kustomization.yaml").read_text(encoding="utf-8")
    assert f"create secret generic {service}-secrets" in text, text
    assert f"kustomize edit set image {service}=" in text


def test_kustomize_build(project: tuple[Path, dict[str, Any]]) -> None:
    """Optional: `kubectl kustomize` when kubectl is installed (it is not one of the checkers)."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not installed: the kustomization is checked structurally only")
    root, answers = project
    result = subprocess.run(
        [kubectl, "kustomize", str(root / "kubernetes")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    built = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    assert len(built) == len(load_docs(root))
    assert j5_problems(built, answers, config_defaults(root)) == []


def config_defaults(root: Path) -> dict[str, int]:
    """SHUTDOWN_* as the pods see them: the ConfigMap's values over config.ts's defaults."""
    config = config_ts_defaults(root)
    for config_map in of_kind(load_docs(root), "ConfigMap"):
        for key in ("SHUTDOWN_DELAY_SECONDS", "SHUTDOWN_GRACE_SECONDS"):
            if key in config_map.get("data", {}):
                config[key] = int(config_map["data"][key])
    return config


# --- The checker catches each control removed (so the template cannot lose one silently) ---------


def _pod(docs: Docs) -> dict[str, Any]:
    pod: dict[str, Any] = of_kind(docs, "Deployment")[0]["spec"]["template"]["spec"]
    return pod


def _container(docs: Docs) -> dict[str, Any]:
    container: dict[str, Any] = _pod(docs)["containers"][0]
    return container


def _drop_default_deny(docs: Docs) -> None:
    docs[:] = [d for d in docs if not (d["kind"] == "NetworkPolicy" and "ingress" not in d["spec"])]


def _env(docs: Docs, name: str) -> dict[str, Any]:
    return next(e for e in _container(docs)["env"] if e["name"] == name)


MUTATIONS: dict[str, Callable[[Docs], object]] = {
    "no readOnlyRootFilesystem": lambda d: _container(d)["securityContext"].pop(
        "readOnlyRootFilesystem"
    ),
    "no default-deny policy": _drop_default_deny,
    "default deny for ingress only": lambda d: [
        p["spec"].update(policyTypes=["Ingress"])
        for p in of_kind(d, "NetworkPolicy")
        if "ingress" not in p["spec"]
    ],
    "egress to any port": lambda d: [
        p["spec"]["egress"].append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]})
        for p in of_kind(d, "NetworkPolicy")
        if "egress" in p["spec"]
    ],
    "egress to 443": lambda d: [
        p["spec"]["egress"].append({"ports": [{"port": 443, "protocol": "TCP"}]})
        for p in of_kind(d, "NetworkPolicy")
        if "egress" in p["spec"]
    ],
    "ingress from anywhere": lambda d: [
        p["spec"]["ingress"][0].pop("from")
        for p in of_kind(d, "NetworkPolicy")
        if "ingress" in p["spec"]
    ],
    "privilege escalation": lambda d: _container(d)["securityContext"].update(
        allowPrivilegeEscalation=True
    ),
    "capabilities kept": lambda d: _container(d)["securityContext"].pop("capabilities"),
    "root user": lambda d: [
        s.update(runAsUser=0)
        for s in (_pod(d)["securityContext"], _container(d)["securityContext"])
    ],
    "no seccomp": lambda d: [
        s.pop("seccompProfile", None)
        for s in (_pod(d)["securityContext"], _container(d)["securityContext"])
    ],
    "container overrides the user": lambda d: _container(d)["securityContext"].update(runAsUser=0),
    "container allows root": lambda d: _container(d)["securityContext"].update(runAsNonRoot=False),
    "no liveness probe": lambda d: _container(d).pop("livenessProbe"),
    "no readiness probe": lambda d: _container(d).pop("readinessProbe"),
    "no startup probe": lambda d: _container(d).pop("startupProbe"),
    "no memory limit": lambda d: _container(d)["resources"]["limits"].pop("memory"),
    "no ephemeral-storage request": lambda d: _container(d)["resources"]["requests"].pop(
        "ephemeral-storage"
    ),
    "heap as large as the limit": lambda d: _env(d, "NODE_OPTIONS").update(
        value="--max-old-space-size=512"
    ),
    "one replica": lambda d: of_kind(d, "Deployment")[0]["spec"].update(replicas=1),
    "HPA min 1": lambda d: of_kind(d, "HorizontalPodAutoscaler")[0]["spec"].update(minReplicas=1),
    "token mounted": lambda d: _pod(d).pop("automountServiceAccountToken"),
    "literal secret": lambda d: _env(d, "JWT_SECRET").update(value="x" * 48),
    "Secret object": lambda d: d.append(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "stringData": {}}
    ),
    "short grace period": lambda d: _pod(d).update(terminationGracePeriodSeconds=10),
    "trust every proxy": lambda d: of_kind(d, "ConfigMap")[0]["data"].update(TRUST_PROXY="2"),
    "no /tmp volume": lambda d: _pod(d).pop("volumes"),
    "hostNetwork": lambda d: _pod(d).update(hostNetwork=True),
    "PSS not enforced": lambda d: of_kind(d, "Namespace")[0]["metadata"]["labels"].pop(
        "pod-security.kubernetes.io/enforce"
    ),
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_j5_checker_catches_a_removed_control(
    template_repo: Path, tmp_path_factory: pytest.TempPathFactory, mutation: str
) -> None:
    root = render(0, template_repo, tmp_path_factory)
    answers = answers_of(0)
    docs = load_docs(root)
    assert j5_problems(docs, answers, config_defaults(root)) == []
    broken = copy.deepcopy(docs)
    MUTATIONS[mutation](broken)
    assert j5_problems(broken, answers, config_defaults(root)) != []
