"""`hardstart audit`'s checks of files other than code: Dockerfiles, compose, Kubernetes, nginx,
CI pipelines, the update bot and the repository's own files.

The good fixture passes every one of these rules; each weak fixture (an overlay on good) fails
exactly the rules listed for it; every generated project of the pairwise matrix fails none.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import git, materialise
from hardstart.audit import (
    compose_checks,
    dockerfile_checks,
    kubernetes_checks,
    nginx_checks,
    pipeline_checks,
    project_checks,
)
from hardstart.audit.documents import yaml_document
from hardstart.audit.model import REGISTRY, Failure, NotApplicable
from hardstart.audit.pipelines import shell_commands
from hardstart.audit.repo import Repo

FIXTURES = Path(__file__).parent / "audit_fixtures"
FILE_CHECKS = (
    dockerfile_checks, compose_checks, kubernetes_checks, nginx_checks,
    pipeline_checks, project_checks,
)  # fmt: skip
MODULES = {m.__name__ for m in FILE_CHECKS}
RULES = sorted(rid for rid, (_, function) in REGISTRY.items() if function.__module__ in MODULES)

K1 = {r for r in RULES if r.startswith("K1-")}
K2 = {r for r in RULES if r.startswith("K2-")}
J4 = {r for r in RULES if r.startswith("J4-")}
J5 = {r for r in RULES if r.startswith("J5-")}
J6 = {r for r in RULES if r.startswith("J6-")}

# Weak fixture → the exact set of these rules it fails.
WEAK: dict[str, set[str]] = {
    "root-container": {"J2-non-root-user"},
    "unpinned-actions": {"K1-actions-pinned"},
    "committed-env": {"K5-env-ignored", "K5-env-not-committed"},
    "weak-dockerfile": {
        "J1-multi-stage-prod-deps",
        "J2-base-image-pinned",
        "J2-base-image-lts",
        "J2-healthcheck",
        "J2-exec-form-node",
        "J2-no-add",
        "J2-no-secrets-in-env-arg",
        "J3-dockerignore",
        "K4-npm-ci-only",
    },
    "weak-compose": J4,
    "weak-kubernetes": J5,
    "weak-nginx": J6,
    "weak-workflow": K1 - {"K1-actions-pinned"},
    "ungated-ci": K2,
    "no-ci": K2,  # the workflow rules have no workflow to judge
    "gitlab": set(),
    "gitlab-allow-failure": {
        "K2-dependency-audit-gate",
        "K2-secret-scan",
        "K2-sast",
        "K2-image-scan-gate",
    },
    "no-update-bot": {"K3-update-bot"},
    "loose-dependencies": {
        "K4-lockfile-committed",
        "K4-dependencies-pinned",
        "K4-npmrc-policy",
        "K4-engines-node-lts",
        "K6-license",
    },
    "undocumented": {
        "K5-env-example-no-secrets",
        "K5-pre-commit-secret-scan",
        "K6-security-policy",
        "K7-readme-security-section",
    },
}


def audit(root: Path) -> dict[str, NotApplicable | list[Failure]]:
    """Every rule of these modules run on `root`: NotApplicable, [] (pass) or the failures."""
    repo = Repo(root)
    return {rule_id: REGISTRY[rule_id][1](repo) for rule_id in RULES}


def failed(outcomes: dict[str, NotApplicable | list[Failure]]) -> set[str]:
    return {rule for rule, outcome in outcomes.items() if isinstance(outcome, list) and outcome}


def describe(outcomes: dict[str, NotApplicable | list[Failure]]) -> str:
    return "\n".join(
        f"{rule}: {f.path}:{f.line} {f.message}"
        for rule, outcome in outcomes.items()
        if isinstance(outcome, list)
        for f in outcome
    )


# --- fixtures ---


def test_every_rule_is_described() -> None:
    for rule_id in RULES:
        rule = REGISTRY[rule_id][0]
        assert rule_id.startswith(f"{rule.item}-")
        assert rule.fix.endswith(".")
        assert "\n" not in rule.fix
        assert rule.title
        assert rule.anchor


def test_failures_point_at_the_line(tmp_path: Path) -> None:
    outcomes = audit(materialise("weak-workflow", tmp_path / "w"))
    (expression,) = outcomes["K1-no-untrusted-expressions-in-run"]
    assert (expression.path, expression.line) == (".github/workflows/triage.yml", 13)
    (checkout,) = outcomes["K1-checkout-no-credentials"]
    assert checkout.line == 8
    outcomes = audit(materialise("weak-dockerfile", tmp_path / "d"))
    assert [f.line for f in outcomes["J2-no-add"]] == [4]  # type: ignore[union-attr]
    assert [f.line for f in outcomes["J2-no-secrets-in-env-arg"]] == [3]  # type: ignore[union-attr]
    outcomes = audit(materialise("committed-env", tmp_path / "e"))
    assert [f.path for f in outcomes["K5-env-not-committed"]] == [".env"]  # type: ignore[union-attr]
    outcomes = audit(materialise("loose-dependencies", tmp_path / "l"))
    pinned = outcomes["K4-dependencies-pinned"]
    assert [f.message for f in pinned] == [  # type: ignore[union-attr]
        "devDependencies: typescript ^5.9.3",
        "devDependencies: eslint latest",
    ]


def test_no_ci_is_reported_where_ci_belongs(tmp_path: Path) -> None:
    outcomes = audit(materialise("no-ci", tmp_path / "n"))
    assert all(isinstance(outcomes[rule], NotApplicable) for rule in K1)
    for rule in K2:
        (failure,) = outcomes[rule]  # type: ignore[misc]
        assert (failure.path, failure.line) == (".github/workflows/ci.yml", None)


def test_lockfile_present_but_not_committed_fails(tmp_path: Path) -> None:
    root = materialise("good", tmp_path / "g")
    git("rm", "--cached", "--quiet", "package-lock.json", cwd=root)
    git("commit", "--quiet", "--no-verify", "-m", "untrack", cwd=root)
    outcome = audit(root)["K4-lockfile-committed"]
    assert outcome == [Failure("package-lock.json", None, "package-lock.json is not committed")]


def test_outside_git_nothing_is_committed(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    shutil.copytree(FIXTURES / "good", root)
    outcome = audit(root)["K5-env-not-committed"]
    assert isinstance(outcome, NotApplicable)


# --- the pieces the rules stand on ---


@pytest.mark.parametrize(
    ("spec", "verdict"),
    [
        (">=24", True),
        (">=24.11.0", True),
        ("^22.12.0 || >=24", True),
        ("22.x || 24.x", True),
        ("24", True),
        (">=22.12.0 <23 || >=24", True),
        (">=18", False),
        (">=20.0.0", False),
        ("^20 || ^22", False),
        ("22 - 24", True),  # the floor decides: 23 is a later, odd release
        (">=22.18.0", True),
        (">=23", False),
        ("<24", False),
        ("*", False),
        ("^16.0.0", False),
        ("not a range", False),
    ],
)
def test_engines_node_ranges(spec: str, verdict: bool, tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(json.dumps({"engines": {"node": spec}}), "utf-8")
    outcome = project_checks.engines_node_lts(Repo(tmp_path))
    assert (outcome == []) is verdict, outcome


@pytest.mark.parametrize(
    ("value", "secret"),
    [
        ("k8Xw2QpL9vTz4Rm7Ns1Yb6Hc3Jd0Fg5E", True),  # pragma: allowlist secret
        ("postgres://app:Qm9vdGNhbXAtcHJvZC1wYXNz@db/app", True),  # pragma: allowlist secret
        ("-----BEGIN RSA PRIVATE KEY-----", True),
        ("change-me", False),
        ("development-only-secret-do-not-use-in-production-0123456789", False),
        ("postgres://app:change-me@127.0.0.1:5432/app", False),  # pragma: allowlist secret
        ("redis://127.0.0.1:6379", False),
        ("https://app.example.com", False),
        ("", False),
        ("3000", False),
    ],
)
def test_real_looking_secrets(value: str, secret: bool) -> None:
    assert project_checks.looks_secret(value) is secret


def test_shell_commands_split_on_operators_and_join_continuations() -> None:
    script = "npm ci && npm test\nnpm audit \\\n  --audit-level=high || true\n"
    commands = [(c.words, c.line, c.then) for c in shell_commands(script)]
    assert commands == [
        (("npm", "ci"), 0, "&&"),
        (("npm", "test"), 0, ""),
        (("npm", "audit", "--audit-level=high"), 1, "||"),
        (("true",), 1, ""),
    ]


def test_github_on_key_stays_a_string(tmp_path: Path) -> None:
    (tmp_path / "w.yml").write_text("on:\n  push:\nyes: no\n", "utf-8")
    document = yaml_document(Repo(tmp_path), "w.yml")
    assert list(document) == ["on", "yes"]
    assert document["yes"] == "no"
    assert document.line_of("yes") == 3


@pytest.mark.parametrize(
    ("image", "major"),
    [
        ("node:24.20.0-alpine3.24@sha256:" + "0" * 64, 24),
        ("docker.io/library/node:20-slim", 20),
        ("gcr.io/distroless/nodejs22-debian12:nonroot", 22),
        ("node:lts-alpine", None),
        ("python:3.14", None),
    ],
)
def test_node_image_major(image: str, major: int | None) -> None:
    assert dockerfile_checks.node_image_major(image) == major


# --- cases no fixture shows ---


def run_rule(rule_id: str, files: dict[str, str], root: Path) -> NotApplicable | list[Failure]:
    for name, text in {"package.json": "{}", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return REGISTRY[rule_id][1](Repo(root))


PINNED = "node:24-alpine@sha256:" + "a" * 64


def test_tls_settings_in_an_included_snippet_count(tmp_path: Path) -> None:
    server = "http { server { listen 443 ssl; include snippets/tls.conf; } }\n"
    snippet = "ssl_protocols TLSv1.2 TLSv1.3;\nssl_ciphers HIGH;\n"
    files = {"nginx/site.conf": server, "nginx/snippets/tls.conf": snippet}
    assert run_rule("J6-tls-modern", files, tmp_path) == []


def test_event_data_in_github_script_is_injection(tmp_path: Path) -> None:
    workflow = (
        "on: issues\npermissions: {}\njobs:\n  greet:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/github-script@" + "b" * 40 + "\n        with:\n"
        "          script: |\n            console.log('${{ github.event.issue.title }}')\n"
    )
    outcome = run_rule(
        "K1-no-untrusted-expressions-in-run", {".github/workflows/w.yml": workflow}, tmp_path
    )
    assert outcome == [
        Failure(
            ".github/workflows/w.yml",
            10,
            "`github.event.issue.title` is expanded into a github-script",
        )
    ]


def test_global_tool_installs_are_not_project_installs(tmp_path: Path) -> None:
    script = "npm install -g npm@11.6.2\nnpm ci\n"
    assert run_rule("K4-npm-ci-only", {"scripts/setup.sh": script}, tmp_path) == []


def test_pnpm_production_install_in_the_final_stage(tmp_path: Path) -> None:
    dockerfile = (
        f"FROM {PINNED} AS build\nRUN pnpm install --frozen-lockfile\n"
        f"FROM {PINNED}\nRUN pnpm install --prod --frozen-lockfile\n"
    )
    assert run_rule("J1-multi-stage-prod-deps", {"Dockerfile": dockerfile}, tmp_path) == []


def test_gitlab_reference_tags_are_read(tmp_path: Path) -> None:
    config = (
        ".setup:\n  script: [npm ci]\n"
        "test:\n  script:\n    - !reference [.setup, script]\n    - npm test\n"
    )
    assert run_rule("K2-tests-run", {".gitlab-ci.yml": config}, tmp_path) == []


def test_dockerignore_at_the_context_root(tmp_path: Path) -> None:
    files = {
        "docker/api.Dockerfile": f"FROM {PINNED}\n",
        ".dockerignore": ".git\n.env*\nnode_modules\n",
    }
    assert run_rule("J3-dockerignore", files, tmp_path) == []


def test_user_zero_is_root(tmp_path: Path) -> None:
    outcome = run_rule("J2-non-root-user", {"Dockerfile": f"FROM {PINNED}\nUSER 0:0\n"}, tmp_path)
    assert outcome == [Failure("Dockerfile", 2, "USER 0 runs the container as root")]


def test_an_unreadable_workflow_is_reported(tmp_path: Path) -> None:
    outcome = run_rule(
        "K1-workflow-permissions", {".github/workflows/ci.yml": "on: [push\n"}, tmp_path
    )
    assert outcome == [
        Failure(".github/workflows/ci.yml", None, "not a readable workflow (invalid YAML)")
    ]


def test_gitlab_jobs_in_a_local_include_count(tmp_path: Path) -> None:
    files = {
        ".gitlab-ci.yml": "include:\n  - local: ci/test.yml\n",
        "ci/test.yml": "test:\n  allow_failure: true\n  script:\n    - npm test\n",
    }
    outcome = run_rule("K2-tests-run", files, tmp_path)
    assert outcome == [Failure("ci/test.yml", 4, "job test may fail without failing the pipeline")]
