"""Baseline J and K on every combination of the pairwise matrix: the container, compose and
repository files of generated projects, checked by reading them and by the offline checkers a
security review would run (hadolint, checkov, check-jsonschema, detect-secrets, shellcheck).

The checkers come from `tests/checkers.txt` (scripts/test installs them and puts them on PATH);
a missing checker fails the test rather than skipping it.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from checkers import DIGEST_PIN, assert_clean, run
from test_baseline_static import Project, found, generated_project
from test_render import MATRIX, combo_id

SECRET_NAME = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE)", re.I)


@pytest.fixture(params=range(len(MATRIX)), ids=[combo_id(combo) for combo in MATRIX])
def project(
    request: pytest.FixtureRequest, template_repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> Project:
    return generated_project(request.param, template_repo, tmp_path_factory)


def stages(dockerfile: str) -> list[list[str]]:
    """Instructions per stage, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile)
    lines = [line.strip() for line in joined.splitlines()]
    result: list[list[str]] = []
    for line in lines:
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            result.append([])
        if result:
            result[-1].append(line)
    return result


def instruction(stage: list[str], name: str) -> list[str]:
    return [line[len(name) + 1 :] for line in stage if line.upper().startswith(name + " ")]


# --- J1, J2: the Dockerfile ----------------------------------------------------------------------


def test_j1_multi_stage_with_production_dependencies_only(project: Project) -> None:
    all_stages = stages(project.text("Dockerfile"))
    assert len(all_stages) >= 2, "J1: multi-stage build"
    runtime = all_stages[-1]
    runs = " && ".join(line for stage in all_stages for line in instruction(stage, "RUN"))
    prod = [cmd for cmd in re.split(r"&&|;", runs) if "--omit=dev" in cmd]
    assert prod, "J1: a stage installs production dependencies with npm ci --omit=dev"
    assert all(cmd.split()[:2] == ["npm", "ci"] and "--ignore-scripts" in cmd for cmd in prod)
    assert "npm cache clean --force" in runs, "J1: no npm cache left in the dependencies stage"
    assert not re.search(r"\bnpm (install|i)\b", runs), "J1/K4: installs are npm ci"
    # The runtime stage receives node_modules only from the --omit=dev stage, and installs nothing.
    deps_stage = next(
        stage
        for stage in all_stages
        if any("--omit=dev" in run for run in instruction(stage, "RUN"))
    )
    deps_name = found(r"\bAS (\S+)$", deps_stage[0]).group(1)
    modules = [c for c in instruction(runtime, "COPY") if "node_modules" in c]
    assert modules, "J1: node_modules copied into the runtime stage"
    assert all(f"--from={deps_name}" in copy for copy in modules), modules
    # The runtime stage only removes things (the package managers): it installs and builds nothing.
    for command in instruction(runtime, "RUN"):
        assert command.startswith("rm "), f"J1: the runtime stage runs {command!r}"


def test_j2_pinned_non_root_healthcheck_exec_form(project: Project) -> None:
    dockerfile = project.text("Dockerfile")
    all_stages = stages(dockerfile)
    node_major = project.answers.get("node_major", 24)
    for stage in all_stages:
        image = stage[0].split()[1]
        assert DIGEST_PIN.match(image), f"J2: FROM not pinned by tag and digest: {image}"
        assert re.search(rf"node(js)?:?{node_major}\b|nodejs{node_major}-", image), (
            f"J2: base image is not Node {node_major}: {image}"
        )
    runtime = all_stages[-1]
    user = instruction(runtime, "USER")
    assert user, "J2: the runtime stage sets USER"
    uid = user[-1].split(":")[0]
    assert uid.isdigit(), f"J2: USER must be numeric: {user[-1]}"
    assert int(uid) > 0, f"J2: USER must be a numeric non-root UID: {user[-1]}"
    health = instruction(runtime, "HEALTHCHECK")
    assert health, "J2: HEALTHCHECK present"
    assert "CMD [" in health[-1], "J2: exec-form HEALTHCHECK"
    assert not re.search(r"\b(curl|wget)\b", health[-1]), "J2: the health check needs no curl"
    cmd = json.loads(instruction(runtime, "CMD")[-1])
    assert Path(cmd[0]).name == "node", f"J2: CMD runs node directly: {cmd}"
    entrypoint = instruction(runtime, "ENTRYPOINT")
    assert all(json.loads(e) == [] for e in entrypoint), "J2: no wrapper entrypoint"
    assert not re.search(r"^\s*ADD\s", dockerfile, re.M), "J2: no ADD"
    for stage in all_stages:
        for line in instruction(stage, "ENV") + instruction(stage, "ARG"):
            assert not SECRET_NAME.search(line), f"J2: secret-looking ENV/ARG: {line}"
    assert "NODE_ENV=production" in " ".join(instruction(runtime, "ENV"))


def test_j2_hadolint_and_checkov_pass(project: Project) -> None:
    assert_clean(run("hadolint", "--failure-threshold", "warning", "Dockerfile", cwd=project.root))
    result = run(
        "checkov",
        "--skip-download",
        "--quiet",
        "--compact",
        "--framework",
        "dockerfile",
        "secrets",
        "--enable-secret-scan-all-files",
        "-d",
        ".",
        "--skip-path",
        "node_modules",
        cwd=project.root,
    )
    assert_clean(result)


def test_j3_dockerignore(project: Project) -> None:
    ignored = set(project.text(".dockerignore").split())
    for entry in (".git", ".env", ".env.*", "node_modules", "test", "*.pem", "*.key"):
        assert entry in ignored, f"J3: .dockerignore misses {entry}"


# --- J4: compose ---------------------------------------------------------------------------------


def test_j4_compose_locked_down(project: Project) -> None:
    path = project.root / "compose.yaml"
    if not project.answers.get("compose", True):
        assert not path.exists()
        return
    compose = yaml.safe_load(path.read_text(encoding="utf-8"))
    services: dict[str, dict[str, Any]] = compose["services"]
    expected = {"api", "db"} | ({"redis"} if project.redis else set())
    assert set(services) == expected
    for name, service in services.items():
        assert service.get("read_only") is True, f"J4: {name}: read-only root filesystem"
        assert service.get("cap_drop") == ["ALL"], f"J4: {name}: cap_drop ALL"
        assert "no-new-privileges:true" in service.get("security_opt", []), name
        assert any(str(t).startswith("/tmp") for t in service.get("tmpfs", [])), (
            f"{name}: tmpfs /tmp"
        )
        assert service.get("mem_limit"), f"J4: {name}: memory limit"
        assert service.get("pids_limit"), f"J4: {name}: PID limit"
        assert service.get("healthcheck", {}).get("test"), f"J4: {name}: health check"
        assert "privileged" not in service
        assert "network_mode" not in service
        if name != "api":
            assert DIGEST_PIN.match(service["image"]), f"{name}: image pinned by digest"
            assert "ports" not in service, f"J4: {name} must not be published"
        for value in (service.get("environment") or {}).values():
            assert not re.search(r"://[^:/]+:[^$@/]+@", str(value)), (
                f"J4: literal password: {value}"
            )
    api = services["api"]
    assert all(str(p).startswith("127.0.0.1:") for p in api.get("ports", [])), "J4: loopback only"
    assert api.get("env_file") == ".env"
    assert ".env" in project.text(".gitignore").split(), "J4/K5: the env file is git-ignored"
    assert_clean(
        run(
            "check-jsonschema", "--builtin-schema", "vendor.compose-spec", "compose.yaml",
            cwd=project.root,
        )
    )  # fmt: skip


# --- J6 with H2: one trusted hop, the same on both sides ----------------------------------------


def test_j6_proxy_hops_match_the_app_trust_proxy(project: Project) -> None:
    nginx = project.root / "nginx" / "nginx.conf"
    configmap = project.root / "kubernetes" / "configmap.yaml"
    assert nginx.exists() == bool(project.answers.get("nginx", False))
    if nginx.exists():
        conf = nginx.read_text(encoding="utf-8")
        # Exactly one hop: the proxy replaces X-Forwarded-For, never appends to a client's value.
        assert re.findall(r"proxy_set_header\s+X-Forwarded-For\s+(\S+);", conf) == ["$remote_addr"]
        directives = re.sub(r"#[^\n]*", "", conf)
        assert "$proxy_add_x_forwarded_for" not in directives
        assert "TRUST_PROXY=1" in conf
        assert "`TRUST_PROXY=1`" in project.text("README.md")
    if configmap.exists():
        # Behind the ingress controller, the app trusts exactly that one hop.
        data = yaml.safe_load(configmap.read_text(encoding="utf-8"))["data"]
        assert data["TRUST_PROXY"] == "1"


# --- K4-K6: repository hygiene -------------------------------------------------------------------


def test_k5_pre_commit_runs_offline_with_secret_scanning_and_linters(project: Project) -> None:
    config = yaml.safe_load(project.text(".pre-commit-config.yaml"))
    assert all(repo["repo"] == "local" for repo in config["repos"]), "K5: offline (local) hooks"
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert {"detect-secrets", "eslint", "typecheck", "hadolint"} <= set(hooks)
    for hook in hooks.values():
        for dependency in hook.get("additional_dependencies", []):
            assert re.fullmatch(r"[\w.-]+==[\w.]+", dependency), f"K5: unpinned {dependency}"
    if project.answers.get("ci_provider", "github") == "github":
        assert {"actionlint", "zizmor"} <= set(hooks)


def test_k5_detect_secrets_finds_nothing(project: Project) -> None:
    """The project's own pre-commit secret scan (the hook, its arguments and excludes) over every
    committed file, then a full `detect-secrets scan` with the same arguments."""
    config = yaml.safe_load(project.text(".pre-commit-config.yaml"))
    hook = next(h for repo in config["repos"] for h in repo["hooks"] if h["id"] == "detect-secrets")
    args = hook.get("args", [])
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=project.root, capture_output=True, text=True, check=True
    ).stdout.split()
    files = [name for name in tracked if not re.search(hook.get("exclude", "^$"), name)]
    assert "src/server.ts" in files
    assert_clean(run("detect-secrets-hook", *args, *files, cwd=project.root))
    result = run("detect-secrets", "scan", "--all-files", *args, cwd=project.root)
    assert_clean(result)
    findings = json.loads(result.stdout)["results"]
    assert findings == {}, f"K5: detect-secrets findings: {findings}"


def test_k6_security_policy_license_codeowners(project: Project) -> None:
    security = project.text("SECURITY.md")
    contact = project.answers.get("security_contact", "security@example.com")
    assert contact in security, "K6: reporting contact from the answers"
    assert re.search(r"\b\d+ (business )?days\b", security), "K6: disclosure timeline"
    license_text = project.text("LICENSE")
    chosen = project.answers.get("license", "MIT")
    marker = {
        "MIT": "Permission is hereby granted, free of charge",
        "Apache-2.0": "Apache License\n                           Version 2.0, January 2004",
        "proprietary": "All rights reserved.",
    }[chosen]
    assert marker in license_text, f"K6: LICENSE is not {chosen}"
    owners = project.answers.get("code_owners", "")
    codeowners = project.root / "CODEOWNERS"
    assert codeowners.exists() == bool(owners)
    if owners:
        assert codeowners.read_text(encoding="utf-8").splitlines()[-1].split()[1:] == owners.split()


def test_this_repository_s_shell_scripts_pass_shellcheck() -> None:
    root = Path(__file__).resolve().parent.parent
    scripts = ["scripts/test", "scripts/update-lockfiles", ".ci/run"]
    assert_clean(run("shellcheck", *scripts, cwd=root))
